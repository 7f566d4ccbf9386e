-- grain: one row per group and domain, plus domain '*' for all domains together.
goals_in_scope as (
    select p.grp, g.domain, g.set_on,
           (g.status = 'achieved' and g.achieved_on <= $as_of::date) as is_achieved,
           g.achieved_on
    from mart_goals as g
    inner join pairs_in_scope as p on p.pair_key = g.pair_key
    where g.set_on between $start::date and $end::date
),

by_domain as (
    select grp, coalesce(domain, '*') as domain,
           count(*) as goals_set,
           count(*) filter (where is_achieved) as achieved,
           median(date_diff('day', set_on, achieved_on)) filter (where is_achieved)::double
               as median_days_to_achieve
    from goals_in_scope
    group by grouping sets ((grp, domain), (grp))
)

select * from by_domain order by grp, domain
