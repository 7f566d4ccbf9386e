-- grain: one row: the first row of this load that is a second assessment of one participant with one instrument on one day (counting assessments already stored and not replaced), and how many such rows
with effective as (
    select participant_id, instrument, administered_on, _row from new_assessments
    union all
    select participant_id, instrument, administered_on, null from assessments s
    where not exists (select 1 from new_assessments n where n.assessment_id = s.assessment_id)),
ranked as (
    select _row, row_number() over (partition by participant_id, instrument, administered_on order by _row nulls first) as rn
    from effective)
select min(_row), count(*) from ranked where rn > 1 and _row is not null
