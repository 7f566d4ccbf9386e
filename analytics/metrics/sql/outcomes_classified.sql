-- grain: one row per group, instrument and paired participant with its group's S_diff and its reliable-change class (`classified`); inputs: `paired` (outcomes_paired.sql, or outcomes_paired_given.sql over the rows outcomes.paired_rows kept). Only used inside SQL below.
group_sdiff as (
    -- S_diff per group and instrument (an aggregate joined back: a window over the rows
    -- partitioned by group costs several times more); the baselines in participant order, so
    -- the SD's last digits do not depend on the plan or the threads
    select grp, instrument,
        sqrt(2) * stddev_samp(baseline_score order by participant_key) * sqrt(1 - any_value(reliability))
            as s_diff
    from paired
    group by grp, instrument
),

with_sdiff as (
    select p.*, g.s_diff
    from paired as p
    inner join group_sdiff as g on g.grp = p.grp and g.instrument = p.instrument
),

classified as (
    select *,
        case
            when s_diff is null or s_diff = 0 then null
            when (case when higher_is_better then change else -change end) / s_diff >= $rc then 'improved'
            when (case when higher_is_better then change else -change end) / s_diff <= -$rc then 'declined'
            else 'no_reliable_change'
        end as reliable_change
    from with_sdiff
)
