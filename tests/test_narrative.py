"""Plain-language sentences on the tiny program (tests/tiny_program.py), S = 2026-01-01,
E = A = 2026-03-31. Every number is worked out by hand in the comment beside it. The tiny
program is below the small-number threshold everywhere, so the numbers are checked with k = 1
and the "too few to report" wording with the default k = 11.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.metrics import engagement, goals, mentors, outcomes, retention
from analytics.metrics.scope import resolve_scope
from analytics.present import sentences as nv

S, E = date(2026, 1, 1), date(2026, 3, 31)
MINUS = "\u2212"


@pytest.fixture(scope="module")
def frames(tiny_store):
    from analytics import store
    from analytics.store import views

    con = store.connect_read(tiny_store)
    cur = views.analysis_connection(con)
    s = resolve_scope(cur, start=S, end=E, as_of=E)
    out = {
        "totals": engagement.engagement_totals(cur, s),
        "summary": retention.retention_summary(cur, s),
        "curve": retention.retention_curve(cur, s),
        "triangle": retention.cohort_triangle(cur, s),
        "closures": retention.closure_reasons(cur, s),
        "change": outcomes.outcome_change(cur, s),
        "change_site": outcomes.outcome_change(cur, s.grouped("site")),
        "trend": outcomes.outcome_trend(cur, s),
        "goals": goals.goals_by_domain(cur, s),
        "mentors": mentors.mentor_caseloads(cur, s),
        "totals_site": engagement.engagement_totals(cur, s.grouped("site")),
    }
    cur.close()
    con.close()
    return out


def test_engagement(frames):
    # attended ss1, ss3, ss6, ss7, ss9, ss11 = 6; no-show ss2, ss8, ss10 = 3; 6/9 = 66.67% -> 66.7%
    assert nv.engagement_sentence(frames["totals"], start=S, end=E, k=1) == (
        "Pairs met for 66.7% of their scheduled sessions between Jan 2026 and Mar 2026 "
        "(n = 9 sessions, not counting cancellations)."
    )
    assert "too few to report" in nv.engagement_sentence(frames["totals"], start=S, end=E)


def test_retention(frames):
    # pairs matched in [S, E]: pr1..pr4; pr1 lost contact on day 39 with 4 at risk: S(90) = 3/4
    assert nv.retention_sentence(frames["summary"], start=S, end=E, k=1) == (
        "75.0% of pairs matched between Jan 2026 and Mar 2026 were still meeting at 90 days (n = 4)."
    )
    # with the curve: the longest follow-up is 84 days (pr2, Jan 6 to Mar 31), so day 90 is not known yet
    with_curve = nv.retention_sentence(frames["summary"], start=S, end=E, k=1, curve=frames["curve"])
    assert "has yet been followed for 90 days" in with_curve
    # day 30: nobody has stopped yet
    assert nv.retention_sentence(frames["summary"], day=30, k=1, curve=frames["curve"]).startswith("100.0% of pairs")
    assert "too few to report" in nv.retention_sentence(frames["summary"], start=S, end=E)


def test_cohort(frames):
    # days 0-29: pr1 (Jan 5), pr2 (Jan 13), pr3 (Jan 20), pr4 (Feb 10) all attended: 4 of 4
    assert nv.cohort_sentence(frames["triangle"], window=0, k=1) == (
        "In days 0-29 after matching, 100.0% of pairs attended at least one session "
        "(n = 4 pairs followed that long)."
    )
    # days 60-89 end after A for every pair
    assert nv.cohort_sentence(frames["triangle"], k=1) == "No pair has yet been followed through days 60-89 after matching."
    assert "too few to report" in nv.cohort_sentence(frames["triangle"], window=0)


def test_closures(frames):
    # closed in [S, E]: pr1 lost_contact (disengagement), pr3 goals_met: 1 of 2
    assert nv.closure_sentence(frames["closures"], start=S, end=E, k=1) == (
        "Of 2 pairs that closed between Jan 2026 and Mar 2026, 50.0% closed because the participant "
        "withdrew or lost contact."
    )
    assert "too few to report" in nv.closure_sentence(frames["closures"])


def test_outcome(frames):
    # GSE10 paired: pt1 20 -> 26 (+6), pt2 22 -> 25 (+3), pt3 30 -> 27 (-3): mean 2.0, sd sqrt(21) = 4.583,
    # t(0.975, 2) = 4.303, half-width 4.303 * 4.583 / sqrt(3) = 11.38: CI -9.4 to 13.4.
    # S_diff = sqrt(2) * sd(20, 22, 30) * sqrt(1 - 0.86) = sqrt(2) * 5.292 * 0.3742 = 2.80;
    # RC +2.14 (improved), +1.07, -1.07: 1 of 3 = 33.3%.
    assert nv.outcome_sentence("GSE10", frames["change"], k=1) == (
        "Across 3 participants with an intake and a follow-up, General Self-Efficacy Scale scores rose "
        f"by 2.0 points on average (95% CI {MINUS}9.4 to 13.4); 33.3% improved reliably."
    )
    # BARC10: pt1 only, 30 -> 38; no CI and no reliable change from one person
    assert nv.outcome_sentence("BARC10", frames["change"], k=1) == (
        "Across 1 participant with an intake and a follow-up, Brief Assessment of Recovery Capital scores "
        "rose by 8.0 points on average."
    )
    # a row works as well as the frame; South: pt3 alone, 30 -> 27
    south = frames["change_site"].query("grp == 'South' and instrument == 'GSE10'").iloc[0]
    assert "fell by 3.0 points" in nv.outcome_sentence("GSE10", south, k=1)
    assert nv.outcome_sentence("BARC10", frames["change_site"], grp="South", k=1).startswith("No participant")
    assert "too few to report" in nv.outcome_sentence("GSE10", frames["change"])


def test_reliable_change(frames):
    # improved 1, no reliable change 2, declined 0, of 3
    assert nv.reliable_change_sentence("GSE10", frames["change"], k=1) == (
        "Of 3 participants with an intake and a follow-up, 33.3% improved reliably on the General "
        "Self-Efficacy Scale, 66.7% showed no reliable change and 0.0% declined reliably."
    )
    assert "too few to report" in nv.reliable_change_sentence("GSE10", frames["change"])


def test_trend(frames):
    # month 0: 20, 22, 30, 30, 18 -> 24.0 (n 5); month 1: 26, 27 -> 26.5 (n 2); month 2: 25 (n 1).
    # The later point is the later month with the most assessments: month 1.
    assert nv.trend_sentence("GSE10", frames["trend"], k=1) == (
        "Mean General Self-Efficacy Scale scores were 24.0 in the first 30 days after enrollment (n = 5) "
        "and 26.5 at days 30-59 (n = 2)."
    )
    assert "25.0 at days 60-89 (n = 1)" in nv.trend_sentence("GSE10", frames["trend"], k=1, later=2)
    assert "too few to report" in nv.trend_sentence("GSE10", frames["trend"])


def test_goals(frames):
    # set in [S, E] by pairs in scope: gl1..gl5 = 5; achieved by A: gl1, gl3 (gl5 after A) = 40.0%;
    # health 2 of 2 = 100.0%
    assert nv.goals_sentence(frames["goals"], start=S, end=E, as_of=E, k=1) == (
        "Of 5 goals set between Jan 2026 and Mar 2026, 40.0% had been achieved by 31 Mar 2026; "
        "health goals were achieved most often (100.0%)."
    )
    assert "too few to report" in nv.goals_sentence(frames["goals"], start=S, end=E)


def test_mentors(frames):
    # open at E: pr2 (mn1), pr4 (mn2, closes after A): 1 each; sessions 6 attended of 9
    assert nv.mentor_sentence(frames["mentors"], k=1) == (
        "2 mentors had a median caseload of 1 open pair at the end of the period (all 1); "
        "their pairs met for 66.7% of scheduled sessions (n = 9 sessions)."
    )
    assert "too few to report" in nv.mentor_sentence(frames["mentors"])


def test_compare(frames):
    t = frames["totals_site"].assign(n=lambda d: d["attended"] + d["no_show"])
    # North 4 of 6, South 2 of 3: both 66.7%
    assert nv.compare_sentence(t, metric="attendance rate", estimate="attendance_rate", percent=True,
                               dimension="site", k=1) == "Across 2 sites, attendance rate was 66.7% in each."
    assert "too few to report" in nv.compare_sentence(t, metric="attendance rate", estimate="attendance_rate")
    effects = pd.DataFrame({"grp": ["North", "South", "East"], "change": [3.94, 2.05, 9.0], "n": [120, 85, 4]})
    assert nv.compare_sentence(effects, metric="the mean GSE10 change", estimate="change", unit=" points",
                               dimension="site", p_value=0.0004, test="Welch's t-test") == (
        "Across 2 sites, the mean GSE10 change ranged from 2.1 points (South, n = 85) to 3.9 points "
        "(North, n = 120); a difference this large is unlikely to be chance alone (Welch's t-test, "
        "p < 0.001); 1 site with fewer than 11 or no estimate is left out."
    )
    assert "could be chance (p = 0.420)" in nv.compare_sentence(
        effects, metric="x", estimate="change", p_value=0.42
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: nv.engagement_sentence(None),
        lambda: nv.retention_sentence(None),
        lambda: nv.cohort_sentence(None),
        lambda: nv.outcome_sentence("GSE10", None),
        lambda: nv.reliable_change_sentence("GSE10", None),
        lambda: nv.trend_sentence("GSE10", None),
        lambda: nv.goals_sentence(None),
        lambda: nv.compare_sentence(None, metric="x"),
        lambda: nv.mentor_sentence(None),
        lambda: nv.engagement_sentence(pd.DataFrame(columns=["grp", "attended", "no_show"])),
    ],
)
def test_missing_input_says_no_data(call):
    assert call() == nv.NO_DATA


def test_closures_with_nothing_closed():
    assert nv.closure_sentence(None, start=S, end=E) == "No pairs closed between Jan 2026 and Mar 2026."


def test_grouped_frame_needs_a_group(frames):
    with pytest.raises(ValueError, match="grp="):
        nv.engagement_sentence(frames["totals_site"])
    assert "n = 6 sessions" in nv.engagement_sentence(frames["totals_site"], grp="North", k=1)


def test_period_text():
    assert nv.period_text(date(2025, 1, 1), date(2025, 12, 31)) == "between Jan 2025 and Dec 2025"
    assert nv.period_text("2026-03-01", "2026-03-31") == "in Mar 2026"
    assert nv.period_text(date(2026, 1, 5), date(2026, 3, 20)) == "between 5 Jan 2026 and 20 Mar 2026"
    assert nv.period_text() == ""


def test_sentences_for_a_full_sized_program():
    summary = {"grp": "all", "pairs": 412, "km_90": 0.7212}
    assert nv.retention_sentence(summary, start="2025-01-01", end="2025-12-31") == (
        "72.1% of pairs matched between Jan 2025 and Dec 2025 were still meeting at 90 days (n = 412)."
    )
    row = {"n_paired": 120, "mean_change": 3.94, "ci95_low": 3.12, "ci95_high": 4.71,
           "reliable_improvement_rate": 0.38}
    assert nv.outcome_sentence("GSE10", row) == (
        "Across 120 participants with an intake and a follow-up, General Self-Efficacy Scale scores rose "
        "by 3.9 points on average (95% CI 3.1 to 4.7); 38.0% improved reliably."
    )
