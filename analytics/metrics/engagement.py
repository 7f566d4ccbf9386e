"""Engagement (METRICS.md "Engagement"): sessions of pairs in scope dated in [S, E].

Flagged sessions (outside their pair's dates) are excluded through the `sessions_clean` view.
Every function returns one row per group (`grp`; the single group "all" when not grouped).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.scope import Scope
from analytics.metrics.scope import run

# grain: one row per group. Columns: grp, pairs_in_scope, participants_in_scope,
# matched_in_period, active_at_end.
_PAIR_COUNTS = """
groups as (select distinct grp from pairs_at),

in_scope as (
    select grp, count(*) as pairs_in_scope, count(distinct participant_key) as participants_in_scope
    from pairs_in_scope
    group by grp
),

matched as (
    select grp, count(*) as matched_in_period from pairs_matched_in_period group by grp
),

active as (
    -- METRICS.md active_at_end: matched_on <= E and not closed on or before E (read at A)
    select pa.grp, count(*) as active_at_end
    from pairs_at as pa, scope_params as sp
    where pa.matched_on <= sp.e and (pa.closed_at is null or pa.closed_at > sp.e)
    group by pa.grp
)

select
    g.grp,
    coalesce(i.pairs_in_scope, 0) as pairs_in_scope,
    coalesce(i.participants_in_scope, 0) as participants_in_scope,
    coalesce(m.matched_in_period, 0) as matched_in_period,
    coalesce(a.active_at_end, 0) as active_at_end
from groups as g
left join in_scope as i using (grp)
left join matched as m using (grp)
left join active as a using (grp)
order by g.grp
"""


def pair_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Pairs in scope, participants in scope, pairs matched in [S, E], active at E."""
    return run(con, scope, _PAIR_COUNTS)


# grain: one row per group. Sessions are first summed per pair (one integer-keyed pass over the
# sessions), then per group over the much smaller per-pair table.
_TOTALS = """
per_pair as (
    select
        s.pair_key,
        count(*) filter (where s.status = 'attended' and s.session_date between $start::date and $end::date)
            as attended,
        count(*) filter (where s.status = 'no_show' and s.session_date between $start::date and $end::date)
            as no_show,
        count(*) filter (where s.status = 'cancelled' and s.session_date between $start::date and $end::date)
            as cancelled,
        sum(s.duration_min) filter (where s.status = 'attended' and s.session_date between $start::date and $end::date)
            as minutes,
        -- first attended session on/after matched_on (the mart's flag) and on/before A
        min(s.session_date) filter (where s.status = 'attended') as first_attended
    from mart_sessions as s
    where s.inside_pair_dates and s.session_date <= $as_of::date
    group by s.pair_key
),

session_counts as (
    select
        p.grp,
        coalesce(sum(pp.attended), 0) as attended,
        coalesce(sum(pp.no_show), 0) as no_show,
        coalesce(sum(pp.cancelled), 0) as cancelled,
        coalesce(sum(pp.minutes), 0) / 60.0 as contact_hours,
        -- METRICS.md: pairs matched in [S, E] with an attended session: first date - matched_on
        median(date_diff('day', p.matched_on, pp.first_attended))
            filter (where p.matched_on between $start::date and $end::date)::double
            as median_days_to_first_session,
        count(pp.first_attended) filter (where p.matched_on between $start::date and $end::date)
            as pairs_with_first_session
    from pairs_in_scope as p
    inner join per_pair as pp on pp.pair_key = p.pair_key
    group by p.grp
),

pair_days as (
    -- max(0, min(closed_on or E, E) - max(matched_on, S) + 1), closed_on read at A
    select
        p.grp,
        sum(greatest(0, date_diff('day', greatest(p.matched_on, sp.s),
                                  least(coalesce(p.closed_at, sp.e), sp.e)) + 1)) as pair_days
    from pairs_in_scope as p, scope_params as sp
    group by p.grp
),

groups as (select distinct grp from pairs_at)

select
    g.grp,
    coalesce(c.attended, 0)::bigint as attended,
    coalesce(c.no_show, 0)::bigint as no_show,
    coalesce(c.cancelled, 0)::bigint as cancelled,
    case when coalesce(c.attended, 0) + coalesce(c.no_show, 0) > 0
         then c.attended / (c.attended + c.no_show) end as attendance_rate,
    coalesce(c.contact_hours, 0.0) as contact_hours,
    coalesce(d.pair_days, 0)::bigint as pair_days,
    case when coalesce(d.pair_days, 0) > 0
         then coalesce(c.attended, 0) / (d.pair_days / 30.4375) end as sessions_per_pair_month,
    c.median_days_to_first_session,
    coalesce(c.pairs_with_first_session, 0) as pairs_with_first_session
from groups as g
left join session_counts as c using (grp)
left join pair_days as d using (grp)
order by g.grp
"""


def engagement_totals(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Attended, no-show, cancelled, attendance rate, contact hours, pair-days, sessions per
    pair-month and the median days to first session, one row per group."""
    return run(con, scope, _TOTALS)


# grain: one row per group and calendar month meeting [S, E].
_MONTHLY = """
months as (
    select
        m::date as month_start,
        -- a month is counted only over its days inside [S, E]
        greatest(m::date, sp.s) as from_day,
        least((m + interval 1 month - interval 1 day)::date, sp.e) as to_day
    from scope_params as sp,
         generate_series(date_trunc('month', sp.s), sp.e::timestamp, interval 1 month) as t(m)
),

active as (
    select p.grp, mo.month_start, count(*) as active_pairs
    from pairs_in_scope as p
    inner join months as mo
        on p.matched_on <= mo.to_day and (p.closed_at is null or p.closed_at >= mo.from_day)
    group by p.grp, mo.month_start
),

sessions_by_month as (
    select
        s.grp,
        date_trunc('month', s.session_date)::date as month_start,
        count(*) filter (where s.status = 'attended') as attended,
        count(*) filter (where s.status = 'no_show') as no_show,
        count(*) filter (where s.status = 'cancelled') as cancelled
    from sessions_in_scope as s, scope_params as sp
    where s.session_date between sp.s and sp.e
    group by s.grp, date_trunc('month', s.session_date)
),

grid as (
    select g.grp, mo.month_start
    from (select distinct grp from pairs_at) as g, months as mo
)

select
    grid.grp,
    grid.month_start as month,
    coalesce(a.active_pairs, 0) as active_pairs,
    coalesce(s.attended, 0) as attended,
    coalesce(s.no_show, 0) as no_show,
    coalesce(s.cancelled, 0) as cancelled,
    case when coalesce(s.attended, 0) + coalesce(s.no_show, 0) > 0
         then s.attended / (s.attended + s.no_show) end as attendance_rate
from grid
left join active as a using (grp, month_start)
left join sessions_by_month as s using (grp, month_start)
order by grid.grp, grid.month_start
"""


def engagement_by_month(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Active pairs, attended/no-show/cancelled sessions and attendance rate per calendar month."""
    return run(con, scope, _MONTHLY)


# grain: one row per group and modality (attended sessions in [S, E]).
_MODALITY = """
final as (
    select s.grp, coalesce(s.modality, '(not recorded)') as modality, count(*) as attended
    from sessions_in_scope as s, scope_params as sp
    where s.session_date between sp.s and sp.e and s.status = 'attended'
    group by s.grp, coalesce(s.modality, '(not recorded)')
)
select * from final order by grp, attended desc
"""


def attended_by_modality(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    return run(con, scope, _MODALITY)
