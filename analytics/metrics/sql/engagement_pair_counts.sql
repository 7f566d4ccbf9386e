-- grain: one row per group. Columns: grp, pairs_in_scope, participants_in_scope, matched_in_period, active_at_end.
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
    from pairs_at as pa
    where pa.matched_on <= $end::date and (pa.closed_at is null or pa.closed_at > $end::date)
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
