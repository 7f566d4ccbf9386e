-- grain: one row per participant and instrument assessed: the earliest assessment (date, score) and the latest (date, score); inputs: mart_assessments; rebuilt by every write
-- Outcome change (and what is built on it) takes a participant's baseline and latest scores
-- from here when the latest is on or before A, instead of ranking the assessments again.
create or replace table mart_assessment_span as
with

final as (
    -- one assessment per participant, instrument and day (the load refuses two), so no two
    -- tie on the date
    select participant_key, instrument,
           arg_min(score, administered_on) as baseline_score,
           min(administered_on) as baseline_on,
           arg_max(score, administered_on) as latest_score,
           max(administered_on) as latest_on
    from mart_assessments
    group by participant_key, instrument
)

select * from final order by participant_key, instrument
