-- grain: one row per group, instrument and month since enrollment.
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

final as (
    select ps.grp, a.instrument, a.months_since_enrollment as month,
           count(*) as n,
           -- the scores in one fixed order, gathered once: the mean and SD below are fed
           -- that sequence (the same digits as ordered aggregates, which sort once each)
           list(a.score order by a.score) as scores
    from assessments_timed as a
    inner join participants_in_scope as ps on ps.participant_key = a.participant_key
    cross join scope_params as sp
    where a.administered_on <= sp.a and a.months_since_enrollment >= 0
    group by ps.grp, a.instrument, a.months_since_enrollment
)

select grp, instrument, month, n,
       list_avg(scores) as mean,
       list_aggregate(scores, 'stddev_samp') as sd
from final
order by grp, instrument, month
