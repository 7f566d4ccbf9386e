-- grain: one row per participant, with a dense integer key for fast joins and the exit date (the follow-up windows read it without joining the pseudonyms); inputs: participants; rebuilt by every write
create or replace table mart_participants as
select
    row_number() over (order by participant_id)::integer as participant_key,
    participant_id,
    site,
    enrolled_on,
    exited_on,
    funding_stream,
    age_band,
    gender,
    race_ethnicity
from participants
