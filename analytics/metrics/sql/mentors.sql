-- grain: one row per mentor with at least one pair in scope; inputs: pair_session_sums.sql (per_pair: each pair's sessions in the period), summed per mentor
,

mentor_pairs as (
    select p.mentor_id, any_value(p.supervisor) as supervisor, any_value(p.site) as site,
           count(*) as pairs_in_scope,
           count(*) filter (where p.matched_on <= $end::date and (p.closed_at is null or p.closed_at > $end::date))
               as caseload_at_end,
           count(*) filter (where p.matched_on between $start::date and $end::date) as matched_in_period,
           count(*) filter (where p.closed_at between $start::date and $end::date
                            and list_contains($disengagement, p.close_reason_at)) as disengaged_in_period
    from pairs_in_scope as p
    group by p.mentor_id
),

mentor_sessions as (
    select p.mentor_id,
           sum(ps.attended)::bigint as attended,
           sum(ps.no_show)::bigint as no_show,
           coalesce(sum(ps.minutes), 0) / 60.0 as contact_hours
    from per_pair as ps
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
