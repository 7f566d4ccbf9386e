"""Golden numbers for the funder follow-up windows (METRICS.md "Funder follow-up") on the
follow-up program of tests/tiny_followup.py, worked out by hand in the comments.

Period S = 2025-01-01, E = A = 2025-12-31. Window table: the docstring of tiny_followup.py.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.metrics import followup
from analytics.metrics.scope import ScopeError, resolve_scope


@pytest.fixture()
def scope(tiny_followup_con):
    return resolve_scope(tiny_followup_con, start="2025-01-01", end="2025-12-31", as_of="2025-12-31")


def _rows(con, scope, rule):
    df = followup.followup_windows(con, scope, rule)
    return {r["participant_id"]: r for _, r in df.iterrows()}


def test_windows_have_the_stable_columns(tiny_followup_con, scope):
    df = followup.followup_windows(tiny_followup_con, scope)
    for col in ("participant_key", "participant_id", "site", "enrolled_on", "window_open",
                "window_close", "done", "excused"):
        assert col in df.columns
    # f10 enrolled 2024-12-20, before S: a pair in scope but not in the cohort; the rest are
    assert sorted(df["participant_id"]) == sorted(f"f{i}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11))
    assert df["participant_key"].is_unique


def test_suprt_window_edges(tiny_followup_con, scope):
    w = _rows(tiny_followup_con, scope, "suprt")
    # f1: 2025-01-31 + 150 days = 2025-06-30 (Feb 28 +28, Mar 31 +59, Apr 30 +89, May 31 +120,
    # Jun 30 +150); + 210 = 2025-08-29 (Jun 30 + 60)
    assert (w["f1"]["window_open"].date(), w["f1"]["window_close"].date()) == (date(2025, 6, 30), date(2025, 8, 29))
    # f1's reassessment on 2025-09-30 is after the suprt close: missed
    assert not w["f1"]["done"] and w["f1"]["missed"]
    # f2: 2025-02-01 + 150 = 2025-07-01; the assessment on 2025-06-30 is one day early: not done
    assert w["f2"]["window_open"].date() == date(2025, 7, 1)
    assert not w["f2"]["done"] and w["f2"]["due"]
    # f3: 2025-03-01 + 150 = 2025-07-29, assessed that very day: the open edge is inside
    assert w["f3"]["window_open"].date() == date(2025, 7, 29)
    assert w["f3"]["done"] and w["f3"]["done_on"].date() == date(2025, 7, 29)
    # f6: 2025-04-15 + 210 = 2025-11-11, assessed that very day: the close edge is inside;
    # the exit on 2025-10-01 (inside the window) does not excuse someone who was reassessed
    assert w["f6"]["window_close"].date() == date(2025, 11, 11)
    assert w["f6"]["done"] and not w["f6"]["excused"] and w["f6"]["due"]
    # f5 was reassessed on BARC10 only (2025-09-15, in 2025-08-29 .. 2025-10-28): any instrument counts
    assert w["f5"]["done"]


def test_suprt_exit_inside_the_window_excuses(tiny_followup_con, scope):
    w = _rows(tiny_followup_con, scope, "suprt")
    # f4: window 2025-08-07 .. 2025-10-06, exited 2025-08-15 without a reassessment: excused,
    # so neither due nor missed
    assert w["f4"]["excused"] and not w["f4"]["due"] and not w["f4"]["missed"]
    # f9: exited 2025-09-01, before its window (2025-12-12 .. 2026-02-10) even opens: excused,
    # and its window is still open at A, so it is neither open now nor counted as excused
    assert w["f9"]["excused"] and not w["f9"]["window_closed"] and not w["f9"]["open_now"]
    # f11 exits 2026-01-05, after A: read at A it has not exited, so its window is open now
    assert w["f11"]["open_now"] and not w["f11"]["excused"]


def test_gpra_month_end_clamping(tiny_followup_con, scope):
    w = _rows(tiny_followup_con, scope, "gpra")
    # f1 enrolled 31 Jan: + 5 months = 31 Jun -> 30 Jun; + 8 months = 31 Sep -> 30 Sep
    assert (w["f1"]["window_open"].date(), w["f1"]["window_close"].date()) == (date(2025, 6, 30), date(2025, 9, 30))
    # the assessment on 2025-09-30 is on the (clamped) close edge: done
    assert w["f1"]["done"]
    # f2: 2025-02-01 + 5 months = 2025-07-01; the assessment on 2025-06-30 is one day early
    assert w["f2"]["window_open"].date() == date(2025, 7, 1) and not w["f2"]["done"]
    # f3: 2025-03-01 + 5 months = 2025-08-01; assessed 2025-07-29: before the window
    assert w["f3"]["window_open"].date() == date(2025, 8, 1) and not w["f3"]["done"]
    # under gpra nobody is excused: f4 exited inside its window and is missed
    assert not w["f4"]["excused"] and w["f4"]["missed"]
    assert not any(r["excused"] for r in w.values())


def test_suprt_counts(tiny_followup_con, scope):
    row = followup.followup_counts(tiny_followup_con, scope, "suprt").iloc[0]
    # cohort: f1-f9 and f11 = 10. Closed by A: f1-f6; f4 excused -> due f1, f2, f3, f5, f6 = 5;
    # done f3, f5, f6 = 3; missed f1, f2 = 2; rate 3/5 = 0.6 < 0.8
    assert (row["cohort"], row["due"], row["excused"], row["done"], row["missed"]) == (10, 5, 1, 3, 2)
    assert row["rate"] == pytest.approx(0.6)
    assert not row["meets_target"]
    # open now (open <= A < close, not done, not excused): f7, f11 (f9 is excused) = 2;
    # opening in the next 30 days (A < open <= 2026-01-30): f8 (opens 2026-01-07) = 1
    assert (row["open_now"], row["opening_next_30"]) == (2, 1)


def test_gpra_counts(tiny_followup_con, scope):
    row = followup.followup_counts(tiny_followup_con, scope, "gpra").iloc[0]
    # closed by A (close <= 2025-12-31): f1-f6, nobody excused -> due 6; done f1, f5, f6 = 3;
    # missed f2, f3, f4 = 3; rate 3/6 = 0.5
    assert (row["cohort"], row["due"], row["excused"], row["done"], row["missed"]) == (10, 6, 0, 3, 3)
    assert row["rate"] == pytest.approx(0.5)
    # open now: f7 (2025-12-01 ..), f9 (2025-12-15 ..), f11 (2025-12-20 ..) = 3;
    # opening in the next 30 days: f8 (2026-01-10) = 1
    assert (row["open_now"], row["opening_next_30"]) == (3, 1)


def test_target_is_a_setting(tiny_followup_con, scope):
    # rate 0.6 meets a target of 0.6 (>=) and not one of 0.61
    assert followup.followup_counts(tiny_followup_con, scope, "suprt", 0.6).iloc[0]["meets_target"]
    assert not followup.followup_counts(tiny_followup_con, scope, "suprt", 0.61).iloc[0]["meets_target"]


def test_counts_by_site(tiny_followup_con, scope):
    df = followup.followup_counts(tiny_followup_con, scope.grouped("site"), "suprt").set_index("grp")
    # North f1-f5: due f1, f2, f3, f5 = 4 (f4 excused), done f3, f5 = 2 -> rate 0.5
    assert tuple(df.loc["North", ["cohort", "due", "excused", "done", "missed"]]) == (5, 4, 1, 2, 2)
    assert df.loc["North", "rate"] == pytest.approx(0.5)
    # South f6-f9, f11: due f6 = 1, done 1 -> rate 1.0; open now f7, f11; opening f8
    assert tuple(df.loc["South", ["cohort", "due", "done", "open_now", "opening_next_30"]]) == (5, 1, 1, 2, 1)


def test_attrition_suprt(tiny_followup_con, scope):
    df = followup.followup_attrition(tiny_followup_con, scope, "suprt").set_index("instrument")
    g = df.loc["GSE10"]
    # due members' GSE10 baselines: followed f3 24, f5 28, f6 22; missed f1 20, f2 30
    # mean_followed = 74/3 = 24.6667, var = (0.4444 + 11.1111 + 7.1111)/2 = 9.3333
    # mean_missed = 25, var = (25 + 25)/1 = 50
    # pooled SD = sqrt((2 * 9.3333 + 1 * 50) / 3) = sqrt(22.8889) = 4.78423
    # smd = (24.6667 - 25) / 4.78423 = -0.069673
    assert (g["n_followed"], g["n_missed"]) == (3, 2)
    assert g["baseline_mean_followed"] == pytest.approx(74 / 3)
    assert g["baseline_mean_missed"] == pytest.approx(25.0)
    assert g["smd"] == pytest.approx((74 / 3 - 25) / ((2 * 28 / 3 + 50) / 3) ** 0.5)
    assert g["smd"] == pytest.approx(-0.069673, abs=1e-6)
    # and the same by numpy, from the scores themselves
    followed, missed = np.array([24.0, 28.0, 22.0]), np.array([20.0, 30.0])
    pooled = np.sqrt(((len(followed) - 1) * followed.var(ddof=1) + (len(missed) - 1) * missed.var(ddof=1)) / 3)
    assert g["smd"] == pytest.approx((followed.mean() - missed.mean()) / pooled, rel=1e-12)
    # BARC10: only f5 (followed) has a baseline: one group of 1, so no SMD
    b = df.loc["BARC10"]
    assert (b["n_followed"], b["n_missed"], b["baseline_mean_followed"]) == (1, 0, 40.0)
    assert pd.isna(b["smd"]) and pd.isna(b["baseline_mean_missed"])


def test_attrition_gpra(tiny_followup_con, scope):
    g = followup.followup_attrition(tiny_followup_con, scope, "gpra").set_index("instrument").loc["GSE10"]
    # followed f1 20, f5 28, f6 22 (mean 70/3); missed f2 30, f3 24, f4 16 (mean 70/3):
    # equal means, so smd = 0; pooled SD = sqrt((34.667 + 98.667) / 4) = sqrt(33.333) = 5.7735
    assert (g["n_followed"], g["n_missed"]) == (3, 3)
    assert g["smd"] == pytest.approx(0.0, abs=1e-12)
    assert g["pooled_sd"] == pytest.approx(100 / 3 ** 0.5 / 10)


def test_by_close_month(tiny_followup_con, scope):
    df = followup.followup_by_close_month(tiny_followup_con, scope, "suprt")
    got = {r["month"].strftime("%Y-%m"): (r["due"], r["done"], r["excused"]) for _, r in df.iterrows()}
    # closes: f1 08-29, f2 08-30 (missed); f3 09-27 (done); f4 10-06 (excused), f5 10-28 (done);
    # f6 11-11 (done)
    assert got == {"2025-08": (2, 0, 0), "2025-09": (1, 1, 0), "2025-10": (1, 1, 1), "2025-11": (1, 1, 0)}


def test_as_of_moves_the_windows(tiny_followup_con):
    # With A = 2025-09-27 (E = A): f3's window closes that day (closed, done); f4's
    # (2025-08-07 .. 2025-10-06) is open, f4 exited 2025-08-15: excused, so not open now;
    # f5's (2025-08-29 .. 2025-10-28) is open and done on 09-15, so not open now either.
    # Cohort: enrolled in [2025-01-01, 2025-09-27]: all ten. Due: f1, f2, f3 = 3, done 1.
    s = resolve_scope(tiny_followup_con, start="2025-01-01", as_of="2025-09-27")
    row = followup.followup_counts(tiny_followup_con, s, "suprt").iloc[0]
    assert (row["cohort"], row["due"], row["done"], row["missed"], row["excused"]) == (10, 3, 1, 2, 0)
    # open now: f6 (2025-09-12 .. 2025-11-11, assessed 11-11, after A) = 1;
    # opening by 2025-10-27: none (f7 opens 2025-11-28)
    assert (row["open_now"], row["opening_next_30"]) == (1, 0)


def test_bad_rule_and_target_are_refused(tiny_followup_con, scope):
    with pytest.raises(ScopeError, match="unknown follow-up rule"):
        followup.followup_windows(tiny_followup_con, scope, "gpra2")
    for bad in ("x", 0, 1.5, -0.2):
        with pytest.raises(ScopeError, match="follow-up target"):
            followup.followup_counts(tiny_followup_con, scope, "suprt", bad)


@pytest.mark.parametrize("rule", ["suprt", "gpra"])
@pytest.mark.parametrize("cut", [None, 0.3, 0.6, "site", "by site"])
def test_windows_to_act_are_the_windows_a_worklist_lists(demo_con, tiny_followup_con, scope, rule, cut):
    """followup_windows_to_act places only the windows that close on or after A and open by
    A + 30 days: the same rows, values and order as all windows filtered here (open now, opening
    within 30 days, or closing on A without a follow-up and not excused)."""
    from analytics.metrics.scope import data_bounds

    for con, base in ((tiny_followup_con, scope), (demo_con, None)):
        if base is None:
            bounds = data_bounds(con)
            first, last = bounds["earliest_match"], bounds["latest_session"]
            if isinstance(cut, float):
                base = resolve_scope(con, as_of=first + (last - first) * cut, start=first + (last - first) * cut / 3)
            elif cut == "site":
                base = resolve_scope(con, filters={"site": [con.execute("select min(site) from pair_facts").fetchone()[0]]})
            else:
                base = resolve_scope(con, by="site" if cut == "by site" else None)
        every = followup.followup_windows(con, base, rule)
        closes_on_a = pd.to_datetime(every["window_close"]) == pd.Timestamp(base.as_of)
        want = every[every["open_now"] | every["opening_next_30"]
                     | (closes_on_a & ~every["done"] & ~every["excused"])].reset_index(drop=True)
        got = followup.followup_windows_to_act(con, base, rule)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(want) > 0
