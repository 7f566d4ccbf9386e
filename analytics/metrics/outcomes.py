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
from scipy.special import stdtrit

from analytics.domain.scope import Scope
from analytics.metrics.scope import run

FOLLOWUP_MIN_DAYS = 28
RC_CRITICAL = 1.96

# grain: one row per group, instrument and paired participant. Only used inside SQL below.
_PAIRED = """
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

baseline as (
    -- per participant and instrument: the earliest assessment on or before A (independent of
    -- grouping, so computed once on integer keys before the join with the groups)
    select participant_key, instrument,
           arg_min(score, administered_on) as baseline_score,
           min(administered_on) as baseline_on
    from mart_assessments
    where administered_on <= $as_of::date
    group by participant_key, instrument
),

followup as (
    -- the latest assessment at least 28 days after the baseline, on or before A
    select a.participant_key, a.instrument, arg_max(a.score, a.administered_on) as followup_score,
           max(a.administered_on) as followup_on
    from mart_assessments as a
    inner join baseline as b using (participant_key, instrument)
    where a.administered_on <= $as_of::date
      and a.administered_on >= b.baseline_on + $followup_min_days::integer
    group by a.participant_key, a.instrument
),

paired as (
    select ps.grp, b.participant_key, b.instrument, b.baseline_score, f.followup_score,
           f.followup_score - b.baseline_score as change,
           b.baseline_on, f.followup_on,
           r.higher_is_better, r.reliability, r.mcid, r.threshold,
           -- d of METRICS.md: +1 when higher is better, -1 when lower is better
           case when r.higher_is_better then 1 else -1 end as d
    from participants_in_scope as ps
    inner join baseline as b using (participant_key)
    inner join followup as f using (participant_key, instrument)
    inner join instrument_registry as r on r.code = b.instrument
),

with_sdiff as (
    select *,
        sqrt(2) * stddev_samp(baseline_score) over (partition by grp, instrument)
            * sqrt(1 - reliability) as s_diff
    from paired
),

classified as (
    select *,
        case
            when s_diff is null or s_diff = 0 then null
            when (case when higher_is_better then change else -change end) / s_diff >= $rc then 'improved'
            when (case when higher_is_better then change else -change end) / s_diff <= -$rc then 'declined'
            else 'no_reliable_change'
        end as reliable_change
    from with_sdiff
)
"""

_SUMMARY = (
    _PAIRED
    + """
select
    grp,
    instrument,
    count(*) as n_paired,
    avg(baseline_score) as baseline_mean,
    avg(followup_score) as followup_mean,
    avg(change) as mean_change,
    stddev_samp(change) as sd_change,
    stddev_samp(baseline_score) as sd_baseline,
    any_value(s_diff) as s_diff,
    count(*) filter (where reliable_change = 'improved') as improved,
    count(*) filter (where reliable_change = 'no_reliable_change') as no_reliable_change,
    count(*) filter (where reliable_change = 'declined') as declined,
    count(*) filter (where reliable_change is null) as unclassified,
    any_value(mcid) as mcid,
    any_value(threshold) as threshold,
    count(*) filter (where d * change >= mcid) as meaningful_improved,
    count(*) filter (where d * change <= -mcid) as meaningful_declined,
    count(*) filter (where d * baseline_score >= d * threshold) as baseline_meets,
    count(*) filter (where d * followup_score >= d * threshold) as followup_meets
from classified
group by grp, instrument
order by grp, instrument
"""
)


def _nan_to_none(x):
    if x is None:
        return None
    try:
        return None if math.isnan(x) else float(x)
    except TypeError:
        return None


def outcome_change(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Paired intake vs follow-up change per group and instrument.

    Columns: grp, instrument, n_paired, baseline_mean, followup_mean, mean_change, sd_change,
    ci95_low, ci95_high, cohens_dz, sd_baseline, s_diff, improved, no_reliable_change, declined,
    reliable_improvement_rate, reliable_decline_rate, mcid, threshold, meaningful_improved,
    meaningful_declined, baseline_meets, followup_meets, meaningful_improvement_rate,
    meaningful_decline_rate, threshold_baseline_share, threshold_followup_share. Every reported
    instrument (analytics.store.instruments.reported) appears for every group (n_paired 0 when nobody is paired).
    Change keeps its raw sign; the reliable and meaningful classes use d * change, d = +1 when
    higher is better and -1 when lower is better.
    """
    raw = run(con, scope, _SUMMARY, {"followup_min_days": FOLLOWUP_MIN_DAYS, "rc": RC_CRITICAL})
    groups = run(con, scope, "g as (select distinct grp from pairs_at) select grp from g order by grp")
    registry = instruments(con)
    rows = []
    for grp in groups["grp"]:
        for code, entry in registry.items():
            hit = raw[(raw["grp"] == grp) & (raw["instrument"] == code)]
            rows.append(_finish(grp, code, hit.iloc[0] if not hit.empty else None, entry))
    return pd.DataFrame(rows)


def instruments(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """The instruments reported, in order, with the store's definitions (the analysis
    connection's instrument_registry table: analytics.store.instruments.reported)."""
    frame = con.execute("select * from instrument_registry order by position").df()
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
    lo = hi = None
    if n >= 2 and sd is not None:
        half = stdtrit(n - 1, 0.975) * sd / math.sqrt(n)
        lo, hi = mean - half, mean + half
    out["ci95_low"], out["ci95_high"] = lo, hi
    out["cohens_dz"] = mean / sd if (n >= 2 and sd) else None
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


# grain: one row per group, instrument and month since enrollment.
_TREND = """
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

final as (
    select ps.grp, a.instrument, a.months_since_enrollment as month,
           count(*) as n, avg(a.score) as mean, stddev_samp(a.score) as sd
    from assessments_timed as a
    inner join participants_in_scope as ps on ps.participant_key = a.participant_key
    cross join scope_params as sp
    where a.administered_on <= sp.a and a.months_since_enrollment >= 0
    group by ps.grp, a.instrument, a.months_since_enrollment
)

select * from final order by grp, instrument, month
"""


def outcome_trend(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Mean score with 95% CI and n by month since enrollment: floor(days / 30).

    Columns: grp, instrument, month, n, mean, sd, ci95_low, ci95_high (CI null when n < 2)."""
    df = run(con, scope, _TREND)
    if df.empty:
        return df.assign(ci95_low=pd.Series(dtype=float), ci95_high=pd.Series(dtype=float))
    half = [
        stdtrit(n - 1, 0.975) * sd / math.sqrt(n) if n >= 2 and not pd.isna(sd) else float("nan")
        for n, sd in zip(df["n"], df["sd"], strict=True)
    ]
    df["ci95_low"] = df["mean"] - half
    df["ci95_high"] = df["mean"] + half
    return df


_PAIRED_ROWS = (
    _PAIRED
    + """
select grp, instrument, reliable_change, count(*) as participants
from classified
group by grp, instrument, reliable_change
order by grp, instrument, reliable_change
"""
)


def reliable_change_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Participants per reliable-change class (improved / no_reliable_change / declined)."""
    return run(con, scope, _PAIRED_ROWS, {"followup_min_days": FOLLOWUP_MIN_DAYS, "rc": RC_CRITICAL})


_CHANGE_HISTOGRAM = (
    _PAIRED
    + """
select grp, instrument, change, count(*) as participants
from classified
group by grp, instrument, change
order by grp, instrument, change
"""
)


def change_distribution(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """How many paired participants had each score change (an aggregate, never per person)."""
    return run(con, scope, _CHANGE_HISTOGRAM, {"followup_min_days": FOLLOWUP_MIN_DAYS, "rc": RC_CRITICAL})
