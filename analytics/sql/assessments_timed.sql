-- grain: one row per assessment, with the participant's enrollment date and the instrument's registry entry; inputs: assessments, participants, instrument_registry
create or replace temp view assessments_timed as
with

assessments_src as (select * from assessments),
participants_src as (select participant_id, enrolled_on from participants),
registry as (select * from instrument_registry),

final as (
    select
        a.assessment_id,
        a.participant_id,
        a.instrument,
        a.administered_on,
        a.score,
        pt.enrolled_on,
        -- METRICS.md trend axis: whole 30-day months since enrollment
        floor(date_diff('day', pt.enrolled_on, a.administered_on) / 30)::integer as months_since_enrollment,
        r.higher_is_better,
        r.reliability
    from assessments_src as a
    inner join participants_src as pt on pt.participant_id = a.participant_id
    inner join registry as r on r.code = a.instrument
)

select * from final
