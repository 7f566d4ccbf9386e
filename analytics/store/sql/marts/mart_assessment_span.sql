-- grain: one row per participant and instrument assessed: the earliest assessment (date, score), the latest (date, score), and the attended sessions between the two (latest_dose); inputs: mart_assessments, mart_participant_attended; rebuilt by every write
-- Outcome change (and what is built on it) takes a participant's baseline and latest scores
-- from here when the latest is on or before A, instead of ranking the assessments again; dose
-- and change takes the dose of that span from here too.
create or replace table mart_assessment_span as
with

spans as (
    -- one assessment per participant, instrument and day (the load refuses two), so no two
    -- tie on the date
    select participant_key, instrument,
           arg_min(score, administered_on) as baseline_score,
           min(administered_on) as baseline_on,
           arg_max(score, administered_on) as latest_score,
           max(administered_on) as latest_on
    from mart_assessments
    group by participant_key, instrument
),

final as (
    -- METRICS.md's dose when the latest assessment is the follow-up: attended, unflagged
    -- sessions of any of the participant's pairs from the baseline to the latest inclusive,
    -- counted as dose_tail.sql counts a span's (none: 0). Independent of A: a follow-up on or
    -- before A has every session of its span on or before A too.
    select sp.*,
           coalesce(len(list_filter(m.attended_on, lambda d: d between sp.baseline_on and sp.latest_on)), 0)
               as latest_dose
    from spans as sp
    left join mart_participant_attended as m on m.participant_key = sp.participant_key
)

select * from final order by participant_key, instrument
