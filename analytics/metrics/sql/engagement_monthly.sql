-- grain: one row per group and calendar month meeting [S, E]; inputs: session_cells (engagement_session_cells.sql), pairs_in_scope
months as (
    select m::date as month_start
    from generate_series(date_trunc('month', $start::date), $end::date::timestamp, interval 1 month) as t(m)
),

spans as (
    -- A month is counted only over its days inside [S, E]: a pair is active in it when matched_on
    -- is on or before the month's last day in [S, E] and it is open (closed_at null or on or
    -- after the month's first day in [S, E]). For a pair in scope (matched_on <= E, closed_at
    -- null or >= S) that holds exactly for the months from its match's month (or S's) to its
    -- closure's (or E's): so the pairs are counted per group and first and last month, and each
    -- count added to the months between (a few hundred spans a group, not every pair against
    -- every month).
    select grp, first_month, last_month, count(*) as pairs
    from (
        select p.grp,
               greatest(date_trunc('month', p.matched_on), date_trunc('month', $start::date))::date as first_month,
               least(coalesce(date_trunc('month', p.closed_at), date_trunc('month', $end::date)),
                     date_trunc('month', $end::date))::date as last_month
        from pairs_in_scope as p
    )
    group by grp, first_month, last_month
),

active as (
    select sn.grp, mo.month_start, sum(sn.pairs)::bigint as active_pairs
    from spans as sn
    inner join months as mo on mo.month_start between sn.first_month and sn.last_month
    group by sn.grp, mo.month_start
),

sessions_by_month as (
    -- the sessions' counts per month, from their cells (engagement_session_cells.sql)
    select
        grp,
        month_start,
        coalesce(sum(sessions) filter (where status = 'attended'), 0)::bigint as attended,
        coalesce(sum(sessions) filter (where status = 'no_show'), 0)::bigint as no_show,
        coalesce(sum(sessions) filter (where status = 'cancelled'), 0)::bigint as cancelled
    from session_cells
    group by grp, month_start
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
