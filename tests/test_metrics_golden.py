"""Golden numbers for every METRICS.md value on the tiny program (tests/tiny_program.py).

Period S = 2026-01-01, E = A = 2026-03-31 unless a test says otherwise. Each expected number
is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import math
import shutil

import duckdb
import pandas as pd
import pytest
from _analysis import analysis_cursor

from analytics import summary
from analytics.domain.scope import Filters, ScopeError
from analytics.metrics import compare, engagement, goals, mentors, outcomes, quality, retention
from analytics.metrics.scope import resolve_scope
from analytics.store.marts import build_marts


@pytest.fixture()
def scope(tiny_con):
    return resolve_scope(tiny_con, start="2026-01-01", end="2026-03-31", as_of="2026-03-31")


def test_defaults_follow_metrics_md(tiny_con):
    s = resolve_scope(tiny_con)
    # A = latest session_date (ss8, 2026-03-31); S = earliest matched_on (pr5, 2025-11-03); E = A
    assert (s.as_of.isoformat(), s.start.isoformat(), s.end.isoformat()) == (
        "2026-03-31", "2025-11-03", "2026-03-31",
    )


def test_scope_refuses_end_after_as_of(tiny_con):
    with pytest.raises(ScopeError, match="after the as-of"):
        resolve_scope(tiny_con, end="2026-04-30")
    with pytest.raises(ScopeError, match="unknown dimension"):
        resolve_scope(tiny_con, by="first_name")


def test_pair_counts(tiny_con, scope):
    row = engagement.pair_counts(tiny_con, scope).iloc[0]
    # in scope: matched_on <= E and (closed at A is null or >= S): pr1..pr4; pr5 closed 2025-12-20 < S
    assert row["pairs_in_scope"] == 4
    assert row["participants_in_scope"] == 4  # pt1..pt4
    assert row["matched_in_period"] == 4  # pr1..pr4 matched in 2026
    # open after E (read at A): pr2 (never closed), pr4 (closes 2026-04-15, after A)
    assert row["active_at_end"] == 2


def test_engagement_totals(tiny_con, scope):
    row = engagement.engagement_totals(tiny_con, scope).iloc[0]
    # attended: ss1, ss3 (pr1; ss4 is after pr1 closed -> flagged, excluded), ss6, ss7, ss9, ss11 = 6
    assert row["attended"] == 6
    assert row["no_show"] == 3  # ss2, ss8, ss10
    assert row["cancelled"] == 1  # ss5
    assert row["attendance_rate"] == pytest.approx(6 / 9)  # cancelled do not count
    # (60 + 30 + 60 + 60 + 90 + 60) / 60 = 360 / 60
    assert row["contact_hours"] == pytest.approx(6.0)
    # pair-days: pr1 Jan 2..Feb 10 = 40; pr2 Jan 6..Mar 31 = 85; pr3 Jan 12..Mar 1 = 49;
    # pr4 Feb 2..Mar 31 (closing after A ignored) = 58; 40 + 85 + 49 + 58 = 232
    assert row["pair_days"] == 232
    # 6 / (232 / 30.4375) = 182.625 / 232
    assert row["sessions_per_pair_month"] == pytest.approx(182.625 / 232)
    # first attended session minus matched_on: pr1 3, pr2 7, pr3 8, pr4 8 -> median (7 + 8) / 2
    assert row["median_days_to_first_session"] == pytest.approx(7.5)


def test_engagement_by_month(tiny_con, scope):
    df = engagement.engagement_by_month(tiny_con, scope)
    got = {r.month.strftime("%Y-%m"): (r.active_pairs, r.attended, r.no_show) for r in df.itertuples()}
    # Jan: pr1, pr2, pr3 active; attended ss1 ss3 ss6 ss9, no-show ss2 ss10
    # Feb: pr1 (to Feb 10), pr2, pr3, pr4; attended ss7 ss11
    # Mar: pr2, pr3 (to Mar 1), pr4; no-show ss8 (ss4 flagged)
    assert got == {"2026-01": (3, 4, 2), "2026-02": (4, 2, 0), "2026-03": (3, 0, 1)}


def test_attended_by_modality(tiny_con, scope):
    df = engagement.attended_by_modality(tiny_con, scope)
    # attended in [S, E] of pairs in scope: ss1 ss6 ss7 ss9 in person, ss3 phone, ss11 video
    # (ss4 flagged; ss12 is pr5's, not in scope); most first
    assert list(zip(df["modality"], df["attended"], strict=True)) == [("in_person", 4), ("phone", 1), ("video", 1)]


def test_a_session_without_a_modality_is_counted_as_not_recorded(tiny_store, tmp_path):
    """The session cells are counted by a kind (status and modality) the marts number; a
    session with no modality is its own kind, named "(not recorded)" again."""
    path = tmp_path / "no-modality.duckdb"
    shutil.copyfile(tiny_store, path)
    con = duckdb.connect(str(path))
    con.execute("update sessions set modality = null where session_date = date '2026-02-10'")  # ss11
    build_marts(con)
    con.close()
    with analysis_cursor(path) as cur:
        scope = resolve_scope(cur, start="2026-01-01", end="2026-03-31", as_of="2026-03-31")
        df = engagement.attended_by_modality(cur, scope)
        by_month = engagement.engagement_by_month(cur, scope)
        kinds = cur.execute("select status, modality from mart_session_kinds order by kind").fetchall()
    # ss11 (video) is now not recorded: in person 4, phone 1, not recorded 1
    assert list(zip(df["modality"], df["attended"], strict=True)) == [
        ("in_person", 4), ("(not recorded)", 1), ("phone", 1)]
    # the months' counts are those of test_engagement_by_month: the modality does not enter them
    got = {r.month.strftime("%Y-%m"): (r.attended, r.no_show) for r in by_month.itertuples()}
    assert got == {"2026-01": (4, 2), "2026-02": (2, 0), "2026-03": (0, 1)}
    # one kind per status and modality the sessions hold (ss5 the only cancelled, by video)
    assert kinds == [("attended", "in_person"), ("attended", "phone"), ("attended", None),
                     ("cancelled", "video"), ("no_show", "in_person"), ("no_show", "phone")]


def test_site_filter_narrows(tiny_con, scope):
    north = scope.__class__(scope.as_of, scope.start, scope.end, Filters(site=("North",)))
    row = engagement.engagement_totals(tiny_con, north).iloc[0]
    # North = pr1 + pr2: attended ss1 ss3 ss6 ss7 = 4, no-show ss2 ss8 = 2, pair-days 40 + 85
    assert (row["attended"], row["no_show"], row["pair_days"]) == (4, 2, 125)


def test_retention(tiny_con, scope):
    row = retention.retention_summary(tiny_con, scope).iloc[0]
    # durations (pairs matched in [S, E], followed to A = Mar 31):
    #   pr1 39 days, event (lost_contact); pr2 84 censored; pr3 48 censored (goals_met);
    #   pr4 57 censored (its withdrawal on Apr 15 is after A)
    # S(39) = 1 - 1/4 (all four still followed on day 39) = 0.75
    assert (row["pairs"], row["events"]) == (4, 1)
    assert row["km_30"] == pytest.approx(1.0)
    assert row["km_90"] == pytest.approx(0.75)
    assert row["km_180"] == pytest.approx(0.75)  # product over event days <= 180
    assert row["median_days"] is None  # S never reaches 0.5
    # eligible_90: matched on or before A - 90 = 2025-12-31: none of pr1..pr4
    assert row["eligible_90"] == 0 and row["retained_90"] is None


def test_retained_90_over_a_longer_period(tiny_con):
    s = resolve_scope(tiny_con, start="2025-11-01", end="2026-03-31", as_of="2026-03-31")
    row = retention.retention_summary(tiny_con, s).iloc[0]
    # pr5 (matched 2025-11-03) is the only pair matched by 2025-12-31; it withdrew after 47 days
    # (< 90), so 0 of 1 retained. KM: events at day 39 (pr1) and 47 (pr5);
    # at risk day 39 = 5 -> 4/5; day 47: durations >= 47 are pr5 47, pr3 48, pr4 57, pr2 84 = 4
    # -> 4/5 * 3/4 = 0.6
    assert (row["eligible_90"], row["retained_90"]) == (1, 0.0)
    assert row["km_90"] == pytest.approx(0.6)


def test_cohort_triangle(tiny_con, scope):
    df = retention.cohort_triangle(tiny_con, scope)
    cells = {(r.cohort_month.strftime("%Y-%m"), r.k): (r.pairs, r.pairs_attending) for r in df.itertuples()}
    # Jan cohort: pr1 (Jan 2), pr2 (Jan 6), pr3 (Jan 12). Window 0 ends day 29: all three attended
    # in it (ss1 Jan 5, ss6 Jan 13, ss9 Jan 20). Window 1 (days 30-59): pr1 Feb 1..Mar 2 none
    # (ss4 flagged); pr2 Feb 5..Mar 6 none (ss7 is Feb 3, window 0 ends Feb 4); pr3 Feb 11..Mar 12 none.
    # Window 2 ends day 89: Jan 2 + 89 = Apr 1 > A, so no pair is counted.
    assert cells[("2026-01", 0)] == (3, 3)
    assert cells[("2026-01", 1)] == (3, 0)
    assert ("2026-01", 2) not in cells
    # Feb cohort: pr4 (Feb 2): window 0 Feb 2..Mar 3 has ss11 (Feb 10); window 1 ends Apr 2 > A.
    assert cells[("2026-02", 0)] == (1, 1)
    assert ("2026-02", 1) not in cells


def test_closure_reasons(tiny_con, scope):
    df = retention.closure_reasons(tiny_con, scope)
    # closed within [S, E] at A: pr1 lost_contact (Feb 10), pr3 goals_met (Mar 1); pr4 closes after A
    assert dict(zip(df["close_reason"], df["pairs"], strict=True)) == {"goals_met": 1, "lost_contact": 1}


def test_outcomes_gse10(tiny_con, scope):
    df = outcomes.outcome_change(tiny_con, scope)
    row = df[df["instrument"] == "GSE10"].iloc[0]
    # paired: pt1 20 -> 26 (+6); pt2 22 -> 25 (+3; the Jan 20 score is only 14 days after baseline);
    # pt3 30 -> 27 (-3); pt4 has a baseline only.
    assert row["n_paired"] == 3
    assert row["baseline_mean"] == pytest.approx(24.0)  # (20 + 22 + 30) / 3
    assert row["followup_mean"] == pytest.approx(26.0)  # (26 + 25 + 27) / 3
    assert row["mean_change"] == pytest.approx(2.0)  # (6 + 3 - 3) / 3
    # deviations 4, 1, -5 -> (16 + 1 + 25) / 2 = 21
    assert row["sd_change"] == pytest.approx(math.sqrt(21))
    # t(0.975, 2) = 4.302653 (table value); half width = 4.302653 * sqrt(21) / sqrt(3)
    half = 4.302653 * math.sqrt(21) / math.sqrt(3)
    assert row["ci95_low"] == pytest.approx(2 - half, abs=1e-5)
    assert row["ci95_high"] == pytest.approx(2 + half, abs=1e-5)
    assert row["cohens_dz"] == pytest.approx(2 / math.sqrt(21))
    # SD_b: baselines 20, 22, 30, deviations -4, -2, 6 -> 56 / 2 = 28;
    # S_diff = sqrt(2) * sqrt(28) * sqrt(1 - 0.86) = sqrt(2 * 28 * 0.14) = sqrt(7.84) = 2.8
    assert row["s_diff"] == pytest.approx(2.8)
    # RC: 6 / 2.8 = 2.14 (improved), 3 / 2.8 = 1.07, -3 / 2.8 = -1.07 (no reliable change)
    assert (row["improved"], row["no_reliable_change"], row["declined"]) == (1, 2, 0)
    assert row["reliable_improvement_rate"] == pytest.approx(1 / 3)
    assert row["reliable_decline_rate"] == 0.0


def test_outcomes_single_pair_has_no_spread(tiny_con, scope):
    row = outcomes.outcome_change(tiny_con, scope).set_index("instrument").loc["BARC10"]
    # pt1 30 -> 38 only: mean change 8, no SD, no CI, no reliable change with one person
    assert row["n_paired"] == 1 and row["mean_change"] == pytest.approx(8.0)
    assert all(pd.isna(row[c]) for c in ("sd_change", "ci95_low", "reliable_improvement_rate"))


def test_outcome_trend(tiny_con, scope):
    df = outcomes.outcome_trend(tiny_con, scope)
    g = df[df["instrument"] == "GSE10"].set_index("month")
    # month 0 (days 0-29 since enrollment): as1 20, as3 22, as4 30, as6 30, as8 18 -> mean 24
    # month 1: as2 26 (45 days), as7 27 (50 days) -> 26.5; month 2: as5 25 (74 days)
    assert g.loc[0, "n"] == 5 and g.loc[0, "mean"] == pytest.approx(24.0)
    assert g.loc[1, "n"] == 2 and g.loc[1, "mean"] == pytest.approx(26.5)
    assert g.loc[2, "n"] == 1 and math.isnan(g.loc[2, "ci95_low"])
    # month 1: sd of 26, 27 = sqrt(0.5); half = t(0.975, 1) 12.7062 * sqrt(0.5) / sqrt(2) = 6.35310
    assert g.loc[1, "ci95_high"] == pytest.approx(26.5 + 12.706205 * 0.5, abs=1e-4)


def test_goals(tiny_con, scope):
    df = goals.goals_by_domain(tiny_con, scope).set_index("domain")
    # set in [S, E] on pairs in scope: gl1..gl5 (gl6 is on pr5, out of scope)
    # achieved by A: gl1 (22 days), gl3 (30 days); gl5's achievement on Apr 10 is after A
    assert (df.loc["*", "goals_set"], df.loc["*", "achieved"]) == (5, 2)
    assert df.loc["*", "achievement_rate"] == pytest.approx(0.4)
    assert df.loc["*", "median_days_to_achieve"] == pytest.approx(26.0)  # (22 + 30) / 2
    assert (df.loc["health", "goals_set"], df.loc["health", "achieved"]) == (2, 2)
    assert (df.loc["community", "goals_set"], df.loc["community", "achieved"]) == (1, 0)
    assert df.loc["home", "achievement_rate"] == 0.0


def test_mentor_caseloads(tiny_con, scope):
    df = mentors.mentor_caseloads(tiny_con, scope).set_index("mentor_id")
    # mn1: pr1 (closed Feb 10), pr2 (open) -> caseload at E 1; attended 4 of 6
    assert df.loc["mn1", "caseload_at_end"] == 1 and df.loc["mn1", "attended"] == 4
    # mn2: pr3 (closed Mar 1), pr4 (open at A); pr5 out of scope
    assert df.loc["mn2", "pairs_in_scope"] == 2 and df.loc["mn2", "caseload_at_end"] == 1


def test_quality_findings(tiny_con, scope):
    df = quality.quality_findings(tiny_con, scope)
    got = {(r.finding, r.instrument, r.site): r.n for r in df.itertuples()}
    assert got[("session_outside_pair_dates", "", "North")] == 1  # ss4 after pr1 closed
    # no BARC10 for pt2 (North), pt3 and pt4 (South)
    assert got[("no_baseline", "BARC10", "North")] == 1 and got[("no_baseline", "BARC10", "South")] == 2
    # open at A with no attended session in Mar 2..Mar 31: pr2 (last Feb 3), pr4 (last Feb 10)
    assert got[("no_recent_session", "", "North")] == 1 and got[("no_recent_session", "", "South")] == 1


def test_compare_by_site(tiny_con, scope):
    res = compare.compare_groups(tiny_con, scope, "site")
    g = res["groups"].set_index("grp")
    assert list(g.index) == ["North", "South"]
    assert res["small_groups"] == ["North", "South"]  # 2 pairs each < 11: flagged, not merged
    # log-rank, one event (pr1, North, day 39) with 4 at risk (2 per site):
    # E_North = 2 * 1 / 4 = 0.5, O_North = 1, V = 1 * 3 / 3 * (2/4) * (2/4) = 0.25
    # chi2 = (1 - 0.5)^2 / 0.25 = 1.0
    assert res["retention_test"]["chi2"] == pytest.approx(1.0)
    assert res["retention_test"]["df"] == 1
    # attendance: North 4/6, South 2/3 -> identical rates, chi2 = 0
    assert res["attendance_test"]["chi2"] == pytest.approx(0.0, abs=1e-12)


def test_summary_matches_hand_numbers(tiny_con, scope):
    doc = summary.raw_summary(tiny_con, scope)
    assert doc["pairs"] == {"in_scope": 4, "matched_in_period": 4, "active_at_end": 2}
    assert doc["engagement"]["attended"] == 6 and doc["engagement"]["pair_days"] == 232
    assert doc["retention"]["km_90"] == pytest.approx(0.75)
    assert doc["outcomes"]["GSE10"]["ci95"][0] == pytest.approx(2 - 4.302653 * math.sqrt(7), abs=1e-5)
    assert doc["goals"]["by_domain"]["health"] == {"set": 2, "achieved": 2, "achievement_rate": 1.0}
    assert "groups" not in doc


def test_rows_by_finds_each_row_by_its_keys_and_refuses_a_repeated_key():
    from analytics.metrics.scope import rows_by

    frame = pd.DataFrame({"grp": ["a", "a", "b"], "instrument": ["GSE10", "BARC10", "GSE10"], "n": [3, 4, 5]})
    found = rows_by(frame, "grp", "instrument")
    assert found[("a", "BARC10")]["n"] == 4 and found[("b", "GSE10")]["n"] == 5
    assert ("b", "BARC10") not in found
    assert rows_by(frame.iloc[[0, 2]], "grp")["b"]["n"] == 5
    with pytest.raises(ValueError, match="repeats"):
        rows_by(frame, "grp")
