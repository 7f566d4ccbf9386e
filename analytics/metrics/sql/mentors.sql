-- grain: one row per mentor with at least one pair in scope.
mentor_pairs as (
    select p.mentor_id, any_value(p.supervisor) as supervisor, any_value(p.site) as site,
           count(*) as pairs_in_scope,
           count(*) filter (where p.matched_on <= sp.e and (p.closed_at is null or p.closed_at > sp.e))
               as caseload_at_end,
           count(*) filter (where p.matched_on between sp.s and sp.e) as matched_in_period,
           count(*) filter (where p.closed_at between sp.s and sp.e
                            and list_contains($disengagement, p.close_reason_at)) as disengaged_in_period
    from pairs_in_scope as p, scope_params as sp
    group by p.mentor_id
),

-- A pair whose clean sessions all lie in [S, min(E, A)] takes its sums from mart_pair_sessions
-- (summed at load time); only the other pairs' sessions are summed here.
pairs_whole as (
    select m.pair_key, m.attended, m.no_show, m.minutes
    from mart_pair_sessions as m
    inner join (select pair_key from pairs_in_scope) as ps on ps.pair_key = m.pair_key
    cross join scope_params as sp
    where m.first_session >= sp.s and m.last_session <= least(sp.e, sp.a)
),

pair_sessions as (
    select * from pairs_whole
    union all
    -- sessions in the period summed per pair first (one integer-keyed pass), then per mentor
    select s.pair_key,
           count(*) filter (where s.status = 'attended') as attended,
           count(*) filter (where s.status = 'no_show') as no_show,
           sum(s.duration_min) filter (where s.status = 'attended') as minutes
    from mart_sessions as s
    inner join (select pair_key from pairs_in_scope anti join pairs_whole using (pair_key)) as ps
        on ps.pair_key = s.pair_key
    cross join scope_params as sp
    where s.inside_pair_dates and s.session_date <= sp.a and s.session_date between sp.s and sp.e
    group by s.pair_key
),

mentor_sessions as (
    select p.mentor_id,
           sum(ps.attended)::bigint as attended,
           sum(ps.no_show)::bigint as no_show,
           coalesce(sum(ps.minutes), 0) / 60.0 as contact_hours
    from pair_sessions as ps
    inner join pairs_in_scope as p on p.pair_key = ps.pair_key
    group by p.mentor_id
)

select
    m.mentor_id, m.site, m.supervisor, m.pairs_in_scope, m.caseload_at_end, m.matched_in_period,
    m.disengaged_in_period,
    coalesce(s.attended, 0) as attended,
    coalesce(s.no_show, 0) as no_show,
    case when coalesce(s.attended, 0) + coalesce(s.no_show, 0) > 0
         then s.attended / (s.attended + s.no_show) end as attendance_rate,
    coalesce(s.contact_hours, 0.0) as contact_hours
from mentor_pairs as m
left join mentor_sessions as s using (mentor_id)
order by m.site, m.supervisor, m.caseload_at_end desc, m.mentor_id
