-- grain: one row per group, instrument and month since enrollment.
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

tallies as (
    -- how many times each score occurs in a group, instrument and month: a hash count, so the
    -- million scores at L are never sorted one by one
    select ps.grp, a.instrument, a.months_since_enrollment as month, a.score, count(*) as k
    from assessments_timed as a
    inner join participants_in_scope as ps on ps.participant_key = a.participant_key
    where a.administered_on <= $as_of::date and a.months_since_enrollment >= 0
    group by ps.grp, a.instrument, a.months_since_enrollment, a.score
),

final as (
    -- the scores in one fixed order (ascending), each repeated as often as it occurs: the
    -- same sequence as every score sorted, so the mean and SD below, fed that sequence, have
    -- the digits of ordered aggregates
    select grp, instrument, month, sum(k)::bigint as n,
           flatten(list(list_resize([score], k, score) order by score)) as scores
    from tallies
    group by grp, instrument, month
)

select grp, instrument, month, n,
       list_avg(scores) as mean,
       list_aggregate(scores, 'stddev_samp') as sd
from final
order by grp, instrument, month
