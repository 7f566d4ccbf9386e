-- grain: one row per group; inputs: pair_session_sums.sql (per_pair), summed per group
,

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
        sum(greatest(0, date_diff('day', greatest(p.matched_on, $start::date),
                                  least(coalesce(p.closed_at, $end::date), $end::date)) + 1)) as pair_days
    from pairs_in_scope as p
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
