-- grain: one row per group, instrument and paired participant (`paired`: scores, dates, the dose when the mart keeps it, and the instrument's definitions). Only used inside SQL below; outcomes_classified.sql follows it.
participants_in_scope as (
    select distinct grp, participant_key from pairs_in_scope
),

assessed_whole as (
    -- per participant and instrument, the earliest assessment (the baseline) and the latest:
    -- from mart_assessment_span when the latest is on or before A (every assessment counts)
    select m.participant_key, m.instrument, m.baseline_score, m.baseline_on, m.latest_score, m.latest_on,
           m.latest_dose as dose
    from mart_assessment_span as m
    inner join (select distinct participant_key from pairs_in_scope) as ps on ps.participant_key = m.participant_key
    where m.latest_on <= $as_of::date
),

assessed as (
    -- the others in one pass over their assessments on or before A (independent of grouping,
    -- so computed once on integer keys before the join with the groups): the earliest one is
    -- the baseline, the latest one the follow-up when it is at least 28 days after the
    -- baseline. Any assessment 28 days after the baseline is on or before the latest, so "the
    -- latest at least 28 days after the baseline" is the latest or none; one assessment per
    -- participant, instrument and day, so no two tie on the date. Only the participants in
    -- scope: with a filter (one site, say) the rest are never grouped.
    select * from assessed_whole
    union all
    select a.participant_key, a.instrument,
           arg_min(a.score, a.administered_on) as baseline_score,
           min(a.administered_on) as baseline_on,
           arg_max(a.score, a.administered_on) as latest_score,
           max(a.administered_on) as latest_on,
           -- the dose of this span is counted where it is read (dose_tail.sql)
           null::bigint as dose
    from mart_assessments as a
    inner join (
        select m.participant_key, m.instrument
        from mart_assessment_span as m
        inner join (select distinct participant_key from pairs_in_scope) as ps
            on ps.participant_key = m.participant_key
        where m.latest_on > $as_of::date
    ) as later on later.participant_key = a.participant_key and later.instrument = a.instrument
    where a.administered_on <= $as_of::date
    group by a.participant_key, a.instrument
),

baseline_followup as (
    select participant_key, instrument, baseline_score, baseline_on,
           latest_score as followup_score, latest_on as followup_on, dose
    from assessed
    where latest_on >= baseline_on + $followup_min_days::integer
),

paired as (
    -- the paired participants of the reported instruments, with the instrument's definitions
    select ps.grp, b.participant_key, b.instrument, b.baseline_score, b.followup_score,
           b.followup_score - b.baseline_score as change,
           b.baseline_on, b.followup_on, b.dose,
           r.higher_is_better, r.reliability, r.mcid, r.threshold,
           -- d of METRICS.md: +1 when higher is better, -1 when lower is better
           case when r.higher_is_better then 1 else -1 end as d
    from participants_in_scope as ps
    inner join baseline_followup as b using (participant_key)
    inner join instrument_registry as r on r.code = b.instrument
)
