-- grain: one row per group, instrument and paired participant. Only used inside SQL below.
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

baseline as (
    -- per participant and instrument: the earliest assessment on or before A (independent of
    -- grouping, so computed once on integer keys before the join with the groups)
    select participant_key, instrument,
           arg_min(score, administered_on) as baseline_score,
           min(administered_on) as baseline_on
    from mart_assessments
    where administered_on <= $as_of::date
    group by participant_key, instrument
),

followup as (
    -- the latest assessment at least 28 days after the baseline, on or before A
    select a.participant_key, a.instrument, arg_max(a.score, a.administered_on) as followup_score,
           max(a.administered_on) as followup_on
    from mart_assessments as a
    inner join baseline as b using (participant_key, instrument)
    where a.administered_on <= $as_of::date
      and a.administered_on >= b.baseline_on + $followup_min_days::integer
    group by a.participant_key, a.instrument
),

paired as (
    select ps.grp, b.participant_key, b.instrument, b.baseline_score, f.followup_score,
           f.followup_score - b.baseline_score as change,
           b.baseline_on, f.followup_on,
           r.higher_is_better, r.reliability, r.mcid, r.threshold,
           -- d of METRICS.md: +1 when higher is better, -1 when lower is better
           case when r.higher_is_better then 1 else -1 end as d
    from participants_in_scope as ps
    inner join baseline as b using (participant_key)
    inner join followup as f using (participant_key, instrument)
    inner join instrument_registry as r on r.code = b.instrument
),

with_sdiff as (
    select *,
        sqrt(2) * stddev_samp(baseline_score order by participant_key) over (partition by grp, instrument)
            * sqrt(1 - reliability) as s_diff
    from paired
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
