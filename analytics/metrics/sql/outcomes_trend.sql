-- grain: one row per group, instrument and month since enrollment.
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

final as (
    select ps.grp, a.instrument, a.months_since_enrollment as month,
           count(*) as n,
           avg(a.score order by a.score) as mean,
           stddev_samp(a.score order by a.score) as sd
    from assessments_timed as a
    inner join participants_in_scope as ps on ps.participant_key = a.participant_key
    cross join scope_params as sp
    where a.administered_on <= sp.a and a.months_since_enrollment >= 0
    group by ps.grp, a.instrument, a.months_since_enrollment
)

select * from final order by grp, instrument, month
