-- grain: one row per pair (integer pair_key/participant_key), with its participant's site, funding stream and demographics and its mentor's supervisor; inputs: mart_pairs
create or replace temp view pair_facts as
select
    pair_key,
    participant_key,
    mentor_id,
    matched_on,
    closed_on,
    close_reason,
    enrolled_on,
    site,
    funding_stream,
    age_band,
    gender,
    race_ethnicity,
    supervisor,
    match_quarter
from mart_pairs
