"""Cohort comparison (METRICS.md "Cohort comparison"): pairs in scope grouped by one dimension.

Each group gets its summary; across groups: a log-rank test on retention (hazard ratio of each
group against the rest, with CI), a chi-square test on attended vs no-show (Cramer's V with
CI), and Welch's t-test (two groups; Hedges' g with CI) or one-way ANOVA (more; eta squared with
CI) on each instrument's change. Groups below the privacy threshold are flagged, never merged:
they stay in the tests (leaving them out would change the other groups' comparison silently),
and screens and exports mark them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from analytics import stats
from analytics.domain.numbers import DEFAULT_K
from analytics.domain.scope import DIMENSION_LABELS, Scope, ScopeError
from analytics.metrics import engagement, outcomes, retention

# The group frames that are metrics of their own, by their names in analytics.panels.METRICS: a
# caller that holds them for the same scope (the dashboard's cache) hands them to group_frames.
FRAME_METRICS = {"counts": "pair_counts", "totals": "engagement_totals", "change": "outcome_change"}


def group_frames(
    con: duckdb.DuckDBPyConnection, scope: Scope, given: Mapping[str, pd.DataFrame] | None = None, paired=None
) -> dict[str, pd.DataFrame]:
    """The per-group frames a comparison is built from, each from its own metric function:
    counts (pair_counts), totals (engagement_totals), durations (duration_counts), curve
    (retention_curve), retention (retention_summary) and change (outcome_change). The summary
    computes them once and hands them to ``compare_groups`` as its ``frames``. ``given``: some
    of the FRAME_METRICS frames already computed over this very scope, used as they are.
    ``paired``: the scope's outcomes.paired_rows, when the caller has them."""
    given = given or {}
    durations = retention.duration_counts(con, scope)
    curve = retention.retention_curve(con, scope, durations)

    def frame(name: str, compute) -> pd.DataFrame:
        return given[name] if name in given else compute(con, scope)

    return {
        "counts": frame("counts", engagement.pair_counts),
        "totals": frame("totals", engagement.engagement_totals),
        "durations": durations,
        "curve": curve,
        "retention": retention.retention_summary(con, scope, durations, curve),
        "change": given["change"] if "change" in given else outcomes.outcome_change(con, scope, paired),
    }


def compare_groups(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    by: str,
    k: int = DEFAULT_K,
    *,
    effect_size_intervals: bool = True,
    frames: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """Side-by-side groups with tests and effect sizes.

    Returns a dict:
      by, label: the dimension and its display name;
      groups: DataFrame, one row per group: grp, pairs_in_scope, participants_in_scope,
        matched_in_period, attended, no_show, attendance_rate, attendance_low/high (Wilson),
        pairs (retention), events, km_90, km_90_lower/upper, retained_90, eligible_90, hr,
        hr_lower, hr_upper, and per instrument <code>_n_paired, <code>_mean_change,
        <code>_ci95_low, <code>_ci95_high; small (pairs_in_scope < k);
      curve: the Kaplan-Meier curves per group;
      retention_test, attendance_test: the stats results (chi2, df, p_value, effect sizes);
      outcome_tests: {instrument: {"test": "welch" | "anova" | None, ...result}};
      small_groups: the flagged group values.
    With effect_size_intervals=False the confidence limits of Cramer's V and eta^2 are left
    None (not computed): the summary's tests block does not report them. `frames` may hold
    what a caller already computed over scope.grouped(by) (the summary): counts
    (pair_counts), totals (engagement_totals), durations (duration_counts), curve
    (retention_curve), retention (retention_summary) and change (outcome_change); they are
    read, never changed.
    """
    if by is None:
        raise ScopeError("choose a dimension to compare by")
    grouped = scope.grouped(by)
    f = frames or group_frames(con, grouped)
    counts, totals, durations = f["counts"], f["totals"], f["durations"]
    curve, ret, change = f["curve"], f["retention"], f["change"]

    groups = counts.merge(
        totals[["grp", "attended", "no_show", "attendance_rate", "contact_hours", "sessions_per_pair_month"]],
        on="grp",
        how="left",
    ).merge(
        ret[["grp", "pairs", "events", "km_90", "km_90_lower", "km_90_upper", "retained_90", "eligible_90"]],
        on="grp",
        how="left",
    )

    logrank = stats.logrank(durations.rename(columns={"grp": "group"})) if len(groups) > 1 else None
    if logrank is not None:
        hr = logrank["groups"][["group", "hr", "hr_lower", "hr_upper"]].rename(columns={"group": "grp"})
        groups = groups.merge(hr, on="grp", how="left")
    else:
        groups = groups.assign(hr=None, hr_lower=None, hr_upper=None)

    attendance = None
    if len(groups) > 1:
        attendance = stats.chi_square_attendance(
            totals[["grp", "attended", "no_show"]].rename(columns={"grp": "group"}), intervals=effect_size_intervals
        )
        rates = attendance["groups"][["group", "rate_lower", "rate_upper"]].rename(
            columns={"group": "grp", "rate_lower": "attendance_low", "rate_upper": "attendance_high"}
        )
        groups = groups.merge(rates, on="grp", how="left")
    else:
        groups = groups.assign(attendance_low=None, attendance_high=None)

    outcome_tests = {}
    reported = outcomes.instruments(con)
    for code in reported:
        part = change[change["instrument"] == code]
        cols = part[["grp", "n_paired", "mean_change", "ci95_low", "ci95_high"]].rename(
            columns={
                "n_paired": f"{code}_n_paired",
                "mean_change": f"{code}_mean_change",
                "ci95_low": f"{code}_ci95_low",
                "ci95_high": f"{code}_ci95_high",
            }
        )
        groups = groups.merge(cols, on="grp", how="left")
        outcome_tests[code] = _outcome_test(part, effect_size_intervals)

    groups["small"] = groups["pairs_in_scope"] < k
    return {
        "by": by,
        "label": DIMENSION_LABELS[by],
        "k": k,
        "groups": groups,
        "curve": curve,
        "retention_test": logrank,
        "attendance_test": attendance,
        "outcome_tests": outcome_tests,
        "instruments": list(reported),
        "small_groups": sorted(groups.loc[groups["small"], "grp"].tolist()),
    }


def with_sessions(groups: pd.DataFrame) -> pd.DataFrame:
    """Groups with `sessions` = attended + no-show, the attendance rate's denominator (the
    Compare page's groups, as its tables, charts and files show them)."""
    return groups.assign(sessions=groups["attended"] + groups["no_show"])


def _outcome_test(part: pd.DataFrame, intervals: bool = True) -> dict[str, Any]:
    """Welch for two groups with n >= 2, one-way ANOVA for more; None when fewer than two."""
    # Ascending order of the group value: the Welch statistic is the first minus the second.
    usable = part[(part["n_paired"] >= 2) & part["sd_change"].notna()].sort_values("grp", kind="stable")
    if len(usable) < 2:
        return {"test": None, "groups_used": usable["grp"].tolist()}
    if len(usable) == 2:
        a, b = usable.iloc[0], usable.iloc[1]
        res = stats.welch_t_from_stats(
            a["mean_change"], a["sd_change"], int(a["n_paired"]),
            b["mean_change"], b["sd_change"], int(b["n_paired"]),
        )
        return {"test": "welch", "group_1": a["grp"], "group_2": b["grp"], **res,
                "groups_used": usable["grp"].tolist()}
    res = stats.anova_from_stats(
        usable.rename(columns={"grp": "group", "n_paired": "n", "mean_change": "mean", "sd_change": "sd"})[
            ["group", "n", "mean", "sd"]
        ],
        intervals=intervals,
    )
    return {"test": "anova", **res, "groups_used": usable["grp"].tolist()}


def summary_tests(result: dict[str, Any]) -> dict[str, Any]:
    """The summary's top-level `tests` block (METRICS.md "Comparison tests in the summary"),
    read from a `compare_groups` result, so the Compare page and the JSON never disagree.

    logrank {chi2, df, p} (null with fewer than two groups or no event); attendance {chi2, df,
    p, cramers_v} (null with fewer than two groups with sessions or no no-show anywhere); change
    per instrument {test, statistic, df, p, groups_in_test} (null with fewer than two groups
    of >= 2 paired participants); df of an ANOVA is [between, within]. Values as computed
    (numpy scalars possible): the summary makes them JSON-safe.
    """
    rt = result["retention_test"]
    logrank = None
    if rt is not None and rt.get("chi2") is not None:
        logrank = {"chi2": rt["chi2"], "df": rt["df"], "p": rt["p_value"]}
    at = result["attendance_test"]
    attendance = None
    if at is not None and at.get("chi2") is not None:
        attendance = {"chi2": at["chi2"], "df": at["df"], "p": at["p_value"],
                      "cramers_v": at["cramers_v"]}
    change: dict[str, Any] = {}
    for code, t in result["outcome_tests"].items():
        if t.get("test") == "welch":
            change[code] = {"test": "welch", "statistic": t["t"], "df": t["df"],
                            "p": t["p_value"], "groups_in_test": list(t["groups_used"])}
        elif t.get("test") == "anova":
            change[code] = {"test": "anova", "statistic": t["F"],
                            "df": [t["df_between"], t["df_within"]],
                            "p": t["p_value"], "groups_in_test": list(t["groups_used"])}
        else:
            change[code] = None
    return {"logrank": logrank, "attendance": attendance, "change": change}
