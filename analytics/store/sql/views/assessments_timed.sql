-- grain: one row per assessment (integer participant_key), with months since enrollment and the instrument's registry entry; inputs: mart_assessments, instrument_registry
create or replace temp view assessments_timed as
with

assessments_src as (select * from mart_assessments),
registry as (select * from instrument_registry),

final as (
    select
        a.participant_key,
        a.instrument,
        a.administered_on,
        a.score,
        a.enrolled_on,
        -- METRICS.md trend axis: whole 30-day months since enrollment
        floor(date_diff('day', a.enrolled_on, a.administered_on) / 30)::integer as months_since_enrollment,
        r.higher_is_better,
        r.reliability
    from assessments_src as a
    inner join registry as r on r.code = a.instrument
)

select * from final
