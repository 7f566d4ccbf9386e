"""The summary's `followup` and `tests` blocks (METRICS.md "Funder follow-up", "Comparison
tests in the summary"): hand numbers on tests/tiny_followup.py, suppression, the command-line
options, an independent pandas computation of METRICS.md on the demo store, and a cross-check
of `tests` against lifelines and scipy."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from analytics import privacy, store, summary
from analytics.metrics.scope import resolve_scope

PERIOD = ["--start", "2025-01-01", "--end", "2025-12-31", "--as-of", "2025-12-31"]


def _cli(command, db, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", command, "--db", str(db), *args],
        capture_output=True, text=True, timeout=300,
    )


def test_cli_followup_block_both_rules(tiny_followup_store):
    doc = json.loads(_cli("summary", tiny_followup_store, *PERIOD, "--min-cell", "1").stdout)
    fu = doc["followup"]
    # hand numbers: tests/test_followup_golden.py (suprt: due f1 f2 f3 f5 f6, done f3 f5 f6)
    assert {k: fu[k] for k in ("rule", "target", "cohort", "due", "excused", "done", "missed",
                                "meets_target", "open_now", "opening_next_30")} == {
        "rule": "suprt", "target": 0.8, "cohort": 10, "due": 5, "excused": 1, "done": 3, "missed": 2,
        "meets_target": False, "open_now": 2, "opening_next_30": 1,
    }
    assert fu["rate"] == pytest.approx(0.6)
    assert fu["attrition"]["GSE10"]["smd"] == pytest.approx(-0.069673, abs=1e-6)
    assert fu["attrition"]["BARC10"] == {
        "n_followed": 1, "n_missed": 0, "baseline_mean_followed": 40.0, "baseline_mean_missed": None, "smd": None,
    }
    # gpra with a target of 0.5: due 6, done 3 -> rate 0.5 meets 0.5
    doc = json.loads(_cli("summary", tiny_followup_store, *PERIOD, "--min-cell", "1",
                          "--followup-rule", "gpra", "--followup-target", "0.5").stdout)
    fu = doc["followup"]
    assert (fu["rule"], fu["target"], fu["due"], fu["done"], fu["excused"], fu["meets_target"]) == (
        "gpra", 0.5, 6, 3, 0, True,
    )


def test_cli_by_site_has_followup_per_group_and_tests(tiny_followup_store):
    doc = json.loads(_cli("summary", tiny_followup_store, *PERIOD, "--min-cell", "1", "--by", "site").stdout)
    north, south = doc["groups"]["North"]["followup"], doc["groups"]["South"]["followup"]
    # North: due f1 f2 f3 f5, done f3 f5 -> 0.5; South: due f6, done -> 1.0
    assert (north["due"], north["done"], north["rate"]) == (4, 2, 0.5)
    assert (south["due"], south["done"], south["rate"], south["open_now"]) == (1, 1, 1.0, 2)
    t = doc["tests"]
    # attendance: North 2 attended + 1 no-show (sf1, sf2, sf3); South 1 attended (sf4), 0 no-show.
    # Expected: North 3 * 3/4 = 2.25 and 0.75, South 0.75 and 0.25;
    # chi2 = 0.0625/2.25 + 0.0625/0.75 + 0.0625/0.75 + 0.0625/0.25 = 0.4444; V = sqrt(0.4444 / 4) = 1/3
    assert t["attendance"]["chi2"] == pytest.approx(4 / 9)
    assert t["attendance"]["cramers_v"] == pytest.approx(1 / 3)
    assert t["attendance"]["df"] == 1
    # nobody has a change of >= 28 days in two groups of >= 2 paired (GSE10: North f1 f2 f3,
    # South f6 f7... f7's second score is after A): South has f6 only -> null
    assert t["change"]["GSE10"] is None and t["change"]["BARC10"] is None


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--followup-rule", "gpra2"], "unknown follow-up rule 'gpra2'"),
        (["--followup-target", "1.5"], "follow-up target"),
        (["--followup-target", "eighty"], "follow-up target"),
        (["--followup-target", "0"], "follow-up target"),
    ],
)
@pytest.mark.parametrize("command", ["summary", "report"])
def test_bad_followup_options_exit_2_with_one_line(tiny_followup_store, tmp_path, command, args, reason):
    extra = ["--out", str(tmp_path / "r.pdf"), "--no-charts"] if command == "report" else []
    out = _cli(command, tiny_followup_store, *extra, *args)
    assert out.returncode == 2
    assert reason in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.pdf").exists()


def test_followup_counts_are_suppressed(tiny_followup_con):
    scope = resolve_scope(tiny_followup_con, start="2025-01-01")
    doc = summary.build_summary(tiny_followup_con, scope, min_cell=11)
    fu = doc["followup"]
    # every count is 1-10 at k = 11: null and listed; the rate over 5 due goes with them; the
    # settings stay
    for key in ("cohort", "due", "excused", "done", "missed", "open_now", "opening_next_30", "rate",
                "meets_target"):
        assert fu[key] is None and f"followup.{key}" in doc["suppressed"], key
    assert (fu["rule"], fu["target"]) == ("suprt", 0.8)
    g = fu["attrition"]["GSE10"]
    assert all(g[k] is None for k in g)
    assert "followup.attrition.GSE10.smd" in doc["suppressed"]
    # BARC10 n_missed is 0: zero is shown
    assert fu["attrition"]["BARC10"]["n_missed"] == 0


def test_followup_complementary_suppression(tiny_followup_con):
    scope = resolve_scope(tiny_followup_con, start="2025-01-01")
    doc = summary.build_summary(tiny_followup_con, scope, min_cell=3)
    fu = doc["followup"]
    # k = 3: cohort 10, due 5, done 3 are shown on their own; missed 2 is hidden, so done (the
    # other part of due = done + missed) goes with it, and with them the rate and the attrition
    # counts (n_followed 3 would be done again); excused 1, open_now 2, opening_next_30 1 hidden
    assert (fu["cohort"], fu["due"]) == (10, 5)
    assert fu["missed"] is None and fu["done"] is None and fu["rate"] is None
    assert {"followup.done", "followup.missed", "followup.rate"} <= set(doc["suppressed"])
    assert fu["excused"] is None and fu["open_now"] is None and fu["opening_next_30"] is None
    assert fu["attrition"]["GSE10"]["n_followed"] is None and fu["attrition"]["GSE10"]["n_missed"] is None
    assert fu["attrition"]["GSE10"]["smd"] is None
    # k = 1: nothing hidden
    assert summary.build_summary(tiny_followup_con, scope, min_cell=1)["suppressed"] == []


def test_followup_by_group_is_suppressed_with_complements():
    # a hand-made document: groups A (26 due, 14 done, 12 missed) and B (4 due, 4 done, 0 missed);
    # top level 30 due, 18 done, 12 missed (each cohort 20 more than its due). B's due and done (4) are hidden at k = 11; A's due
    # and done go with them as complements, so the top-level 30 and 18 do not give the 4 back
    def block(due, done):
        return {"rule": "suprt", "target": 0.8, "cohort": due + 20, "due": due, "excused": 0, "done": done,
                "missed": due - done, "rate": done / due, "meets_target": done / due >= 0.8, "open_now": 0,
                "opening_next_30": 0, "attrition": {}}
    doc = {"as_of": "x", "start": "x", "end": "x", "min_cell": 11, "suppressed": [],
           "followup": block(30, 18), "groups": {"A": {"followup": block(26, 14)}, "B": {"followup": block(4, 4)}},
           "tests": {"logrank": {"chi2": 1.0, "df": 1, "p": 0.3}}}
    out = privacy.suppress_summary(doc, k=11)
    assert out["groups"]["B"]["followup"]["due"] is None
    assert out["groups"]["A"]["followup"]["due"] is None
    assert out["groups"]["A"]["followup"]["done"] is None and out["groups"]["A"]["followup"]["rate"] is None
    assert out["groups"]["A"]["followup"]["missed"] == 12 and out["groups"]["B"]["followup"]["missed"] == 0
    assert out["followup"]["due"] == 30 and out["followup"]["rate"] == pytest.approx(0.6)
    # a top-level 6 missed (1-10) takes done with it: due = done + missed would give it back
    top = privacy.suppress_summary({**doc, "followup": block(30, 24), "groups": {}}, k=11)["followup"]
    assert top["missed"] is None and top["done"] is None and top["rate"] is None and top["due"] == 30
    # nested counts: a cohort of 35 beside 30 due says 5 windows are open or excused: due goes
    nested = privacy.suppress_summary({**doc, "followup": {**block(30, 18), "cohort": 35}, "groups": {}}, k=11)
    assert nested["followup"]["due"] is None and nested["followup"]["cohort"] == 35
    assert out["tests"] == doc["tests"]


def _attrition_doc(n_followed: int, n_missed: int) -> dict:
    # a hand-made document: 200 due, 150 reassessed, 50 missed; of them, n_followed and n_missed
    # have an intake GSE10 score (the others none)
    fu = {"rule": "suprt", "target": 0.8, "cohort": 260, "due": 200, "excused": 0, "done": 150, "missed": 50,
          "rate": 0.75, "meets_target": False, "open_now": 0, "opening_next_30": 0,
          "attrition": {"GSE10": {"n_followed": n_followed, "n_missed": n_missed, "baseline_mean_followed": 24.5,
                                  "baseline_mean_missed": 23.25, "smd": 0.25}}}
    return {"as_of": "x", "start": "x", "end": "x", "min_cell": 11, "suppressed": [], "followup": fu}


def test_attrition_counts_hidden_as_nested_counts_keep_their_means_and_smd():
    # 45 of the 50 missed have an intake score: 50 - 45 = 5 missed without one is a count of 1-10,
    # so n_missed goes, and n_followed with it (the two split those with an intake score); the
    # means and the SMD stay: each rests on 150 and 45 people, and a mean of scores gives no
    # count back
    out = privacy.suppress_summary(_attrition_doc(150, 45), k=11)
    g = out["followup"]["attrition"]["GSE10"]
    assert g == {"n_followed": None, "n_missed": None, "baseline_mean_followed": 24.5, "baseline_mean_missed": 23.25,
                 "smd": 0.25}
    assert set(out["suppressed"]) == {"followup.attrition.GSE10.n_followed", "followup.attrition.GSE10.n_missed"}
    assert out["followup"]["done"] == 150 and out["followup"]["missed"] == 50
    # 8 missed with an intake score (1-10 on its own): their mean and the SMD go, the 150's mean stays
    out = privacy.suppress_summary(_attrition_doc(150, 8), k=11)
    g = out["followup"]["attrition"]["GSE10"]
    assert g["baseline_mean_followed"] == 24.5
    assert g["n_followed"] is g["n_missed"] is g["baseline_mean_missed"] is g["smd"] is None
    # every one with an intake score: nothing nested to hide
    assert privacy.suppress_summary(_attrition_doc(150, 50), k=11)["suppressed"] == []


def test_the_attrition_table_is_suppressed_as_the_summary_is():
    """The Follow-up page's table and its CSV (analytics.privacy.frames) hide the same cells as
    the summary and the report: the counts beside a group's done and missed, not the means."""
    from analytics.privacy import frames

    def table(n_followed, n_missed):
        row = {"grp": "all", "instrument": "GSE10", "n_followed": n_followed, "n_missed": n_missed,
               "baseline_mean_followed": 24.5, "baseline_mean_missed": 23.25, "pooled_sd": 5.0, "smd": 0.25,
               "due": 200, "done": 150, "missed": 50}
        return frames.suppressed_table(pd.DataFrame([row]), "followup_attrition", 11).iloc[0]

    r = table(150, 45)
    assert (r["n_followed"], r["n_missed"]) == ("<11", "<11")
    assert (r["baseline_mean_followed"], r["baseline_mean_missed"], r["smd"]) == (24.5, 23.25, 0.25)
    assert (r["due"], r["done"], r["missed"]) == (200, 150, 50)
    r = table(150, 8)
    assert (r["n_followed"], r["n_missed"]) == ("<11", "<11")
    assert r["baseline_mean_followed"] == 24.5
    assert r["baseline_mean_missed"] == r["smd"] == r["pooled_sd"] == "n<11"
    r = table(150, 50)
    assert (r["n_followed"], r["n_missed"], r["smd"]) == (150, 50, 0.25)


def test_the_attrition_hides_the_same_counts_in_the_summary_and_in_the_table(demo_con):
    from analytics.metrics import followup
    from analytics.privacy import frames

    scope = resolve_scope(demo_con)
    doc = summary.build_summary(demo_con, scope, min_cell=11)
    shown = frames.suppressed_table(followup.followup_attrition(demo_con, scope), "followup_attrition", 11)
    for _, row in shown.iterrows():
        block = doc["followup"]["attrition"][row["instrument"]]
        for key in ("n_followed", "n_missed", "baseline_mean_followed", "baseline_mean_missed", "smd"):
            assert (block[key] is None) == isinstance(row[key], str) or (block[key] is None and pd.isna(row[key])), key


# ---------------------------------------------------------------------------------------------
# Independent computation of METRICS.md "Funder follow-up", straight from the store's tables.


def _tables(path):
    con = store.connect_read(path)
    try:
        return {t: con.execute(f"select * from {t}").df()
                for t in ("participants", "pairs", "assessments", "sessions", "mentors")}
    finally:
        con.close()


def _independent_followup(t, a, s, e, rule, target, site=None):
    a, s, e = pd.Timestamp(a), pd.Timestamp(s), pd.Timestamp(e)
    pairs = t["pairs"].merge(t["participants"][["participant_id", "site"]], on="participant_id")
    pairs = pairs[pd.to_datetime(pairs["matched_on"]) <= a]
    if site is not None:
        pairs = pairs[pairs["site"] == site]
    closed = pd.to_datetime(pairs["closed_on"])
    closed_at = closed.where(closed <= a)
    in_scope = pairs[(pd.to_datetime(pairs["matched_on"]) <= e) & (closed_at.isna() | (closed_at >= s))]
    people = t["participants"][t["participants"]["participant_id"].isin(in_scope["participant_id"])].copy()
    people["enrolled_on"] = pd.to_datetime(people["enrolled_on"])
    cohort = people[(people["enrolled_on"] >= s) & (people["enrolled_on"] <= e)].copy()
    if rule == "suprt":
        cohort["open"] = cohort["enrolled_on"] + pd.Timedelta(days=150)
        cohort["close"] = cohort["enrolled_on"] + pd.Timedelta(days=210)
    else:  # pandas' month offset clamps to the month's last day, as METRICS.md asks
        cohort["open"] = cohort["enrolled_on"] + pd.DateOffset(months=5)
        cohort["close"] = cohort["enrolled_on"] + pd.DateOffset(months=8)
    asm = t["assessments"].copy()
    asm["administered_on"] = pd.to_datetime(asm["administered_on"])
    asm = asm[asm["administered_on"] <= a]
    exited = pd.to_datetime(cohort["exited_on"])
    cohort["exited"] = exited.where(exited <= a)
    done, excused = [], []
    for _, r in cohort.iterrows():
        mine = asm[asm["participant_id"] == r["participant_id"]]["administered_on"]
        d = bool(((mine >= r["open"]) & (mine <= r["close"])).any())
        done.append(d)
        excused.append(rule == "suprt" and not d and pd.notna(r["exited"]) and r["exited"] <= r["close"])
    cohort["done"], cohort["excused"] = done, excused
    closed_w = cohort["close"] <= a
    due = cohort[closed_w & ~cohort["excused"]]
    n_due, n_done = len(due), int(due["done"].sum())
    rate = n_done / n_due if n_due else None
    out = {
        "rule": rule, "target": target, "cohort": len(cohort), "due": n_due,
        "excused": int((closed_w & cohort["excused"]).sum()), "done": n_done, "missed": n_due - n_done,
        "rate": rate, "meets_target": (rate >= target) if rate is not None else None,
        "open_now": int(((cohort["open"] <= a) & (a < cohort["close"]) & ~cohort["done"] & ~cohort["excused"]).sum()),
        "opening_next_30": int(((a < cohort["open"]) & (cohort["open"] <= a + pd.Timedelta(days=30))
                                & ~cohort["excused"]).sum()),
        "attrition": {},
    }
    # METRICS.md: GSE10 and BARC10 always, and every other instrument with an assessment in the store
    present = set(t["assessments"]["instrument"])
    for code in ["GSE10", "BARC10", *sorted(present - {"GSE10", "BARC10"})]:
        mine = asm[asm["instrument"] == code].sort_values(["administered_on", "score"])
        base = mine.groupby("participant_id").first()["score"]
        d = due[due["participant_id"].isin(base.index)]
        f = base[d[d["done"]]["participant_id"]].to_numpy(float)
        m = base[d[~d["done"]]["participant_id"]].to_numpy(float)
        smd = None
        if len(f) >= 2 and len(m) >= 2:
            pooled = np.sqrt(((len(f) - 1) * f.var(ddof=1) + (len(m) - 1) * m.var(ddof=1)) / (len(f) + len(m) - 2))
            smd = (f.mean() - m.mean()) / pooled if pooled > 0 else None
        out["attrition"][code] = {
            "n_followed": len(f), "n_missed": len(m),
            "baseline_mean_followed": f.mean() if len(f) else None,
            "baseline_mean_missed": m.mean() if len(m) else None, "smd": smd,
        }
    return out


def _close(got, want, path=""):
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for k in want:
            _close(got[k], want[k], f"{path}.{k}")
    elif want is None or isinstance(want, (bool, str, np.bool_)):
        assert got == want, path
    else:
        assert got == pytest.approx(float(want), abs=1e-6), path


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["suprt", "gpra"])
def test_followup_equals_an_independent_computation_on_the_demo(demo_store, rule):
    t = _tables(demo_store)
    latest = pd.to_datetime(t["sessions"]["session_date"]).max().date()
    con = store.connect_read(demo_store)
    from analytics.store import views

    cur = views.analysis_connection(con)
    try:
        cases = [(latest, None, None), (pd.Timestamp(latest) - pd.Timedelta(days=200), "2000-01-01", None)]
        sites = sorted(t["participants"]["site"].unique())
        for as_of, start, site in [*cases, (latest, None, sites[0])]:
            as_of = pd.Timestamp(as_of).date()
            scope = resolve_scope(cur, as_of=as_of, start=start, filters={"site": site} if site else None)
            doc = summary.raw_summary(cur, scope, min_cell=1, followup_rule=rule, followup_target=0.7)
            want = _independent_followup(t, scope.as_of, scope.start, scope.end, rule, 0.7, site)
            assert want["due"] > 20 and 0 < want["done"] < want["due"]  # a real test, not all-empty
            _close(doc["followup"], want)
        # per group (--by site): each site's block is the same computation on that site alone
        scope = resolve_scope(cur, as_of=latest, by="site")
        doc = summary.raw_summary(cur, scope, min_cell=1, followup_rule=rule, followup_target=0.7)
        assert set(doc["groups"]) == set(sites)
        for site in sites:
            want = _independent_followup(t, scope.as_of, scope.start, scope.end, rule, 0.7, site)
            _close(doc["groups"][site]["followup"], want)
    finally:
        cur.close()
        con.close()


# ---------------------------------------------------------------------------------------------
# `tests` against lifelines and scipy


@pytest.mark.slow
@pytest.mark.parametrize("by", ["site", "funding_stream"])
def test_tests_block_against_lifelines_and_scipy(demo_con, demo_store, by):
    from analytics.metrics import compare, engagement, retention

    scope = resolve_scope(demo_con, by=by)
    doc = summary.raw_summary(demo_con, scope, min_cell=1)
    t = doc["tests"]
    # the Compare page's own result gives the same block
    assert compare.summary_tests(compare.compare_groups(demo_con, scope, by, k=1)) == t

    # log-rank: lifelines on the per-pair durations (expanded from the day counts)
    d = retention.duration_counts(demo_con, scope)
    rows = []
    for _, r in d.iterrows():
        rows += [(r["grp"], r["t"], 1)] * int(r["events"]) + [(r["grp"], r["t"], 0)] * int(r["censored"])
    lr = pd.DataFrame(rows, columns=["grp", "t", "e"])
    ref = multivariate_logrank_test(lr["t"], lr["grp"], lr["e"])
    assert t["logrank"]["chi2"] == pytest.approx(ref.test_statistic, rel=1e-6)
    assert t["logrank"]["df"] == ref.degrees_of_freedom
    assert t["logrank"]["p"] == pytest.approx(ref.p_value, rel=1e-6, abs=1e-12)

    # attendance: scipy's chi2_contingency without continuity correction
    tot = engagement.engagement_totals(demo_con, scope)
    tot = tot[(tot["attended"] + tot["no_show"]) > 0]
    chi2, p, dof, _ = stats.chi2_contingency(tot[["attended", "no_show"]].to_numpy(), correction=False)
    assert t["attendance"]["chi2"] == pytest.approx(chi2, rel=1e-9)
    assert (t["attendance"]["df"], t["attendance"]["p"]) == (dof, pytest.approx(p, rel=1e-6, abs=1e-12))
    assert t["attendance"]["cramers_v"] == pytest.approx(np.sqrt(chi2 / tot[["attended", "no_show"]].to_numpy().sum()))

    # change: scipy's ttest_ind(equal_var=False) or f_oneway on the per-person changes
    changes = _paired_changes(demo_store, scope, by)
    assert set(t["change"]) >= {"GSE10", "BARC10"}
    for code in t["change"]:
        c = changes[changes["instrument"] == code]
        groups = sorted(g for g, part in c.groupby("grp") if len(part) >= 2)
        got = t["change"][code]
        assert got["groups_in_test"] == groups
        samples = [c[c["grp"] == g]["change"].to_numpy(float) for g in groups]
        if len(groups) == 2:
            ref = stats.ttest_ind(samples[0], samples[1], equal_var=False)
            assert got["test"] == "welch"
            assert got["df"] == pytest.approx(ref.df, rel=1e-9)
        else:
            ref = stats.f_oneway(*samples)
            assert got["test"] == "anova"
            assert got["df"] == [len(groups) - 1, sum(map(len, samples)) - len(groups)]
        assert got["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
        assert got["p"] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)


def _paired_changes(path, scope, by):
    """Per participant in scope and instrument: follow-up minus baseline (METRICS.md), computed
    here in pandas from the store's tables, with the participant's group value."""
    t = _tables(path)
    a, s, e = (pd.Timestamp(x) for x in (scope.as_of, scope.start, scope.end))
    pairs = t["pairs"].merge(t["participants"][["participant_id", by]], on="participant_id")
    pairs = pairs[pd.to_datetime(pairs["matched_on"]) <= a]
    closed = pd.to_datetime(pairs["closed_on"])
    closed_at = closed.where(closed <= a)
    in_scope = pairs[(pd.to_datetime(pairs["matched_on"]) <= e) & (closed_at.isna() | (closed_at >= s))]
    people = in_scope[["participant_id", by]].drop_duplicates()
    asm = t["assessments"].copy()
    asm["administered_on"] = pd.to_datetime(asm["administered_on"])
    asm = asm[asm["administered_on"] <= a].sort_values(["participant_id", "instrument", "administered_on"])
    rows = []
    for (pid, code), part in asm.groupby(["participant_id", "instrument"]):
        first = part.iloc[0]
        later = part[part["administered_on"] >= first["administered_on"] + pd.Timedelta(days=28)]
        if not later.empty:
            rows.append((pid, code, float(later.iloc[-1]["score"]) - float(first["score"])))
    changes = pd.DataFrame(rows, columns=["participant_id", "instrument", "change"])
    return changes.merge(people, on="participant_id").rename(columns={by: "grp"})
