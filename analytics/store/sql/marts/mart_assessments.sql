-- grain: one row per assessment, keyed by its participant's integer key, with the enrollment date; inputs: assessments, mart_participants; rebuilt by every write
create or replace table mart_assessments as
select pt.participant_key, a.instrument, a.administered_on, a.score, pt.enrolled_on
from assessments as a
inner join mart_participants as pt on pt.participant_id = a.participant_id
