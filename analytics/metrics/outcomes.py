"""Self-efficacy and recovery capital (METRICS.md), per instrument of the registry.

Participants in scope (those with a pair in scope), assessments on or before A.
baseline = a participant's earliest assessment of the instrument; follow-up = the latest one at
least 28 days after the baseline. Reliable change follows Jacobson & Truax (1991):
S_diff = sqrt(2) * SD_b * sqrt(1 - r), RC = change / S_diff, |RC| >= 1.96 is reliable.

A participant with pairs in two groups (a rematch to another mentor, say) counts in both groups;
each group's statistics are over its own participants.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd

from analytics import stats
from analytics.domain.scope import Scope
from analytics.metrics.queries import query
from analytics.metrics.scope import made_over, rows_by, run, run_arrow, run_given

FOLLOWUP_MIN_DAYS = 28

# The paired participants (outcomes_paired.sql's `paired`, with the instrument's definitions),
# then `classified` (with S_diff and the reliable-change class), which DuckDB computes only for
# a query that reads it.
_CORE = query("outcomes_paired")
_CLASSIFIED = ",\n\n" + query("outcomes_classified")
_PAIRED = _CORE + _CLASSIFIED
_PAIRED_PARAMS = {"followup_min_days": FOLLOWUP_MIN_DAYS, "rc": stats.RC_CRITERION}
# The name a caller's paired rows are registered under for one query (on its own cursor), and
# the CTE that reads them in place of outcomes_paired.sql.
_GIVEN = "paired_given"
_GIVEN_CLASSIFIED = query("outcomes_paired_given") + _CLASSIFIED
# The same, over a grouped scope, from the rows of the scope ungrouped put under its groups.
_REGROUPED_CLASSIFIED = query("outcomes_paired_regrouped") + _CLASSIFIED


def paired_rows(con: duckdb.DuckDBPyConnection, scope: Scope):
    """The paired participants over `scope` (outcomes_paired.sql's `paired`: one row per
    group, instrument and paired participant, with its scores, change and dates), as a pyarrow
    Table. For a caller that computes several outcome metrics over one scope (the summary, the
    Outcomes page): each takes them as ``paired`` instead of pairing the assessments again; the
    instrument's definitions and the reliable-change classes are joined to them in the query
    that reads them. Row-level: never shown or exported, only queried."""
    return run_arrow(con, scope, _CORE + query("outcomes_paired_select"), _PAIRED_PARAMS)


def run_paired(con: duckdb.DuckDBPyConnection, scope: Scope, tail: str, paired=None, *, as_arrow: bool = False):
    """`tail` (SQL over `paired` or `classified`, starting with a comma or a select) after the paired rows:
    computed by outcomes_paired.sql, or read from ``paired`` (``paired_rows`` of this very
    scope, or of a grouped scope the same scope ungrouped, each row put under its
    participant's groups; another scope's are refused), which gives the same rows. A
    DataFrame, or a pyarrow Table with ``as_arrow``."""
    if paired is None:
        return run(con, scope, _PAIRED + tail, _PAIRED_PARAMS, as_arrow=as_arrow)
    ungrouped = scope.grouped(None)
    if scope.by is not None and made_over(paired, ungrouped, _PAIRED_PARAMS):
        return run_given(con, scope, _REGROUPED_CLASSIFIED + tail, _PAIRED_PARAMS, _GIVEN, paired,
                         over=ungrouped, as_arrow=as_arrow)
    return run_given(con, scope, _GIVEN_CLASSIFIED + tail, _PAIRED_PARAMS, _GIVEN, paired, as_arrow=as_arrow)


_SUMMARY = query("outcomes_summary")


def _nan_to_none(x):
    if x is None:
        return None
    try:
        return None if math.isnan(x) else float(x)
    except TypeError:
        return None


def outcome_change(con: duckdb.DuckDBPyConnection, scope: Scope, paired=None) -> pd.DataFrame:
    """Paired intake vs follow-up change per group and instrument.

    Columns: grp, instrument, n_paired, baseline_mean, followup_mean, mean_change, sd_change,
    ci95_low, ci95_high, cohens_dz, sd_baseline, s_diff, improved, no_reliable_change, declined,
    reliable_improvement_rate, reliable_decline_rate, mcid, threshold, meaningful_improved,
    meaningful_declined, baseline_meets, followup_meets, meaningful_improvement_rate,
    meaningful_decline_rate, threshold_baseline_share, threshold_followup_share. Every reported
    instrument (analytics.store.instruments.reported) appears for every group (n_paired 0 when nobody is paired).
    Change keeps its raw sign; the reliable and meaningful classes use d * change, d = +1 when
    higher is better and -1 when lower is better. ``paired``: as for ``run_paired``.
    """
    raw = run_paired(con, scope, _SUMMARY, paired)
    groups = run(con, scope, query("groups"))
    registry = instruments(con)
    found = rows_by(raw, "grp", "instrument")
    rows = [_finish(grp, code, found.get((grp, code)), entry)
            for grp in groups["grp"] for code, entry in registry.items()]
    return pd.DataFrame(rows)


def instruments(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """The instruments reported, in order, with the store's definitions (the analysis
    connection's instrument_registry table: analytics.store.instruments.reported)."""
    frame = con.execute(query("instrument_registry")).df()
    return {r["code"]: {k: _nan_to_none(v) if k in ("mcid", "threshold") else v for k, v in r.items()}
            for r in frame.to_dict("records")}


def _finish(grp: str, code: str, r, entry: dict) -> dict:
    n = int(r["n_paired"]) if r is not None else 0
    out = {"grp": grp, "instrument": code, "n_paired": n}
    get = (lambda k: _nan_to_none(r[k])) if r is not None else (lambda k: None)
    mean, sd = get("mean_change"), get("sd_change")
    out.update(
        baseline_mean=get("baseline_mean"),
        followup_mean=get("followup_mean"),
        mean_change=mean,
        sd_change=sd if n >= 2 else None,
        sd_baseline=get("sd_baseline") if n >= 2 else None,
        s_diff=get("s_diff") if n >= 2 else None,
    )
    out["ci95_low"], out["ci95_high"] = stats.mean_ci(mean, sd, n)
    out["cohens_dz"] = stats.cohens_dz(mean, sd, n)
    classified = 0
    for k in ("improved", "no_reliable_change", "declined"):
        out[k] = int(r[k]) if r is not None else 0
        classified += out[k]
    # Rates are over all paired participants; with fewer than 2 (no SD_b) they are undefined.
    ok = n >= 2 and out["s_diff"]
    out["reliable_improvement_rate"] = out["improved"] / n if ok else None
    out["reliable_decline_rate"] = out["declined"] / n if ok else None
    # Meaningful change (d * change against the mcid) and the cut-off shares need no SD: defined
    # for any n >= 1 when the instrument has an mcid / a threshold (METRICS.md).
    mcid, threshold = entry.get("mcid"), entry.get("threshold")
    out["mcid"], out["threshold"] = mcid, threshold
    for k in ("meaningful_improved", "meaningful_declined", "baseline_meets", "followup_meets"):
        out[k] = int(r[k]) if r is not None else 0
    has_mcid, has_threshold = mcid is not None and n > 0, threshold is not None and n > 0
    out["meaningful_improvement_rate"] = out["meaningful_improved"] / n if has_mcid else None
    out["meaningful_decline_rate"] = out["meaningful_declined"] / n if has_mcid else None
    out["threshold_baseline_share"] = out["baseline_meets"] / n if has_threshold else None
    out["threshold_followup_share"] = out["followup_meets"] / n if has_threshold else None
    return out


_TREND = query("outcomes_trend")


def outcome_trend(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Mean score with 95% CI and n by month since enrollment: floor(days / 30).

    Columns: grp, instrument, month, n, mean, sd, ci95_low, ci95_high (CI null when n < 2)."""
    df = run(con, scope, _TREND)
    if df.empty:
        return df.assign(ci95_low=pd.Series(dtype=float), ci95_high=pd.Series(dtype=float))
    ci = [stats.mean_ci(m, sd, n) for m, sd, n in zip(df["mean"], df["sd"], df["n"], strict=True)]
    df["ci95_low"] = [float("nan") if lo is None else lo for lo, _ in ci]
    df["ci95_high"] = [float("nan") if hi is None else hi for _, hi in ci]
    return df


_PAIRED_ROWS = query("outcomes_paired_rows")


def reliable_change_counts(con: duckdb.DuckDBPyConnection, scope: Scope, paired=None) -> pd.DataFrame:
    """Participants per reliable-change class (improved / no_reliable_change / declined).
    ``paired``: as for ``run_paired``."""
    return run_paired(con, scope, _PAIRED_ROWS, paired)


_CHANGE_HISTOGRAM = query("outcomes_change_histogram")


def change_distribution(con: duckdb.DuckDBPyConnection, scope: Scope, paired=None) -> pd.DataFrame:
    """How many paired participants had each score change (an aggregate, never per person).
    ``paired``: as for ``run_paired``."""
    return run_paired(con, scope, _CHANGE_HISTOGRAM, paired)
