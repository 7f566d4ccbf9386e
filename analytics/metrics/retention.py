"""Retention (METRICS.md "Retention"): pairs matched in [S, E], followed to A.

duration = (closed_on if closed_on <= A else A) - matched_on; an event is a closure on or before
A for a disengagement reason (participant_withdrew, lost_contact); every other pair is censored.
Only per-day counts leave DuckDB; the Kaplan-Meier product is taken in Python on them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import stats
from analytics.domain.contract import DISENGAGEMENT_REASONS
from analytics.domain.scope import Scope
from analytics.metrics.scope import run

KM_DAYS = (30, 90, 180)

# grain: one row per group and duration day. Columns: grp, t, events, censored.
_DURATIONS = """
durations as (
    select
        p.grp,
        date_diff('day', p.matched_on, coalesce(p.closed_at, sp.a)) as t,
        (p.closed_at is not null and list_contains($disengagement, p.close_reason_at)) as is_event
    from pairs_matched_in_period as p, scope_params as sp
)

select
    grp,
    t,
    count(*) filter (where is_event) as events,
    count(*) filter (where not is_event) as censored
from durations
group by grp, t
order by grp, t
"""


def duration_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Events and censorings per group and day of follow-up."""
    return run(con, scope, _DURATIONS, {"disengagement": list(DISENGAGEMENT_REASONS)})


def retention_curve(con: duckdb.DuckDBPyConnection, scope: Scope, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Kaplan-Meier curve with 95% Greenwood (log-log) bands, one curve per group.

    Columns: grp, t, at_risk, events, censored, survival, std_err, lower, upper.
    """
    if counts is None:
        counts = duration_counts(con, scope)
    curves = []
    for grp, part in counts.groupby("grp", sort=True):
        curve = stats.kaplan_meier(part[["t", "events", "censored"]])
        curve.insert(0, "grp", grp)
        curves.append(curve)
    if not curves:
        return pd.DataFrame(
            columns=["grp", "t", "at_risk", "events", "censored", "survival", "std_err", "lower", "upper"]
        )
    return pd.concat(curves, ignore_index=True)


def km_at(curve: pd.DataFrame, day: int) -> float | None:
    """S(day) as METRICS.md writes it: the product over event days d <= day (1.0 before any)."""
    if curve.empty:
        return None
    upto = curve[curve["t"] <= day]
    return float(upto["survival"].iloc[-1]) if not upto.empty else 1.0


def km_median(curve: pd.DataFrame) -> float | None:
    """The smallest t with S(t) <= 0.5, else None."""
    hit = curve[curve["survival"] <= 0.5]
    return float(hit["t"].iloc[0]) if not hit.empty else None


# grain: one row per group. eligible_90: pairs matched in [S, E] with matched_on <= A - 90.
_RETAINED_90 = """
eligible as (
    select
        p.grp,
        (p.closed_at is not null and list_contains($disengagement, p.close_reason_at)
         and date_diff('day', p.matched_on, p.closed_at) < 90) as dropped_before_90
    from pairs_matched_in_period as p, scope_params as sp
    where p.matched_on <= sp.a - interval 90 day
)

select
    g.grp,
    count(e.grp) as eligible_90,
    count(e.grp) filter (where not e.dropped_before_90) as retained_90_pairs
from (select distinct grp from pairs_at) as g
left join eligible as e using (grp)
group by g.grp
order by g.grp
"""


def retention_summary(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    counts: pd.DataFrame | None = None,
    curve: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per group: pairs, events, km_30/90/180, median_days, eligible_90, retained_90.

    `counts` and `curve` (from duration_counts and retention_curve over the same scope) may be
    passed by a caller that already has them."""
    if counts is None:
        counts = duration_counts(con, scope)
    if curve is None:
        curve = retention_curve(con, scope, counts)
    r90 = run(con, scope, _RETAINED_90, {"disengagement": list(DISENGAGEMENT_REASONS)})
    # Each group's rows split off once (the rows a boolean filter per group gives, in order).
    counts_by = dict(tuple(counts.groupby("grp", sort=False))) if len(counts) else {}
    curve_by = dict(tuple(curve.groupby("grp", sort=False))) if len(curve) else {}
    no_counts, no_curve = counts.iloc[0:0], curve.iloc[0:0]
    rows = []
    for _, r in r90.iterrows():
        grp = r["grp"]
        part = counts_by.get(grp, no_counts)
        c = curve_by.get(grp, no_curve)
        pairs = int(part["events"].sum() + part["censored"].sum())
        eligible = int(r["eligible_90"])
        row = {
            "grp": grp,
            "pairs": pairs,
            "events": int(part["events"].sum()),
            "median_days": km_median(c) if pairs else None,
            "eligible_90": eligible,
            "retained_90": (int(r["retained_90_pairs"]) / eligible) if eligible else None,
        }
        for day in KM_DAYS:
            row[f"km_{day}"] = km_at(c, day) if pairs else None
            ci = _band_at(c, day) if pairs else (None, None)
            row[f"km_{day}_lower"], row[f"km_{day}_upper"] = ci
        rows.append(row)
    return pd.DataFrame(rows)


def _band_at(curve: pd.DataFrame, day: int) -> tuple[float | None, float | None]:
    upto = curve[curve["t"] <= day]
    if upto.empty:
        return (1.0, 1.0)
    last = upto.iloc[-1]
    lo, hi = last["lower"], last["upper"]
    return (None if pd.isna(lo) else float(lo), None if pd.isna(hi) else float(hi))


def at_risk_days(max_t: float) -> list[int]:
    """Days for a KM chart's x ticks and numbers-at-risk row, spaced for the length of follow-up
    (``max_t``, the longest in days) and including the 30/90/180-day marks the retention summary
    reports where they fit."""
    if max_t <= 200:
        days = range(0, 211, 30)
    elif max_t <= 400:
        days = (0, 30, 60, 90, 120, 180, 270, 365)
    elif max_t <= 800:
        days = (0, 90, 180, 270, 365, 455, 545, 635, 730)
    else:
        days = range(0, int(max_t) + 200, 180)
    # the axis runs a little past the longest follow-up, so a tick just beyond it still shows
    return [d for d in days if d <= max_t * 1.03 + 1] or [0]


def at_risk_table(curve: pd.DataFrame, days=None) -> pd.DataFrame:
    """Numbers at risk under a KM chart: pairs still followed (duration >= day) per group, at
    ``days`` (by default ``at_risk_days`` of the curve's longest follow-up)."""
    if days is None:
        days = at_risk_days(float(curve["t"].max())) if not curve.empty else [0]
    rows = []
    for grp, c in curve.groupby("grp", sort=True):
        # at_risk at day d = pairs with duration >= d: the at_risk of the first row with t >= d
        for d in days:
            later = c[c["t"] >= d]
            rows.append({"grp": grp, "day": d, "at_risk": int(later["at_risk"].iloc[0]) if not later.empty else 0})
    return pd.DataFrame(rows, columns=["grp", "day", "at_risk"])


# grain: one row per group, match month and 30-day window k = 0..11.
_TRIANGLE = """
cohort_pairs as (
    select p.grp, p.pair_key, p.matched_on, date_trunc('month', p.matched_on)::date as cohort_month
    from pairs_matched_in_period as p
),

windows as (
    select
        cp.grp, cp.pair_key, cp.cohort_month, k,
        cp.matched_on + 30 * k as w_start,
        cp.matched_on + 30 * k + 29 as w_end
    from cohort_pairs as cp, (select range::integer as k from range(12)) as r, scope_params as sp
    -- METRICS.md: count only pairs whose window ends on or before A
    where cp.matched_on + 30 * k + 29 <= sp.a
),

attended_in_window as (
    -- the window of each attended session: (session_date - matched_on) // 30
    select distinct s.pair_key, (date_diff('day', s.matched_on, s.session_date) // 30)::integer as k
    from sessions_in_scope as s
    where s.status = 'attended' and s.pair_matched_in_period
)

select
    w.grp,
    w.cohort_month,
    w.k,
    count(*) as pairs,
    count(a.pair_key) as pairs_attending,
    count(a.pair_key) / count(*) as share
from windows as w
left join attended_in_window as a on a.pair_key = w.pair_key and a.k = w.k
group by w.grp, w.cohort_month, w.k
order by w.grp, w.cohort_month, w.k
"""


def cohort_triangle(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Share of each match month's pairs with an attended session in 30-day window k (0-11).

    Cells with no eligible pair are absent (empty in the triangle)."""
    return run(con, scope, _TRIANGLE)


# grain: one row per group and close reason, pairs in scope closed within [S, E] (read at A).
_CLOSURES = """
final as (
    select p.grp, p.close_reason_at as close_reason, count(*) as pairs,
           list_contains($disengagement, p.close_reason_at) as is_disengagement
    from pairs_in_scope as p, scope_params as sp
    where p.closed_at between sp.s and sp.e
    group by p.grp, p.close_reason_at
)
select * from final order by grp, pairs desc, close_reason
"""


def closure_reasons(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Why pairs closed: pairs in scope closed within the period, by close reason."""
    return run(con, scope, _CLOSURES, {"disengagement": list(DISENGAGEMENT_REASONS)})
