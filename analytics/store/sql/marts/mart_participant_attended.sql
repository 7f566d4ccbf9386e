-- grain: one row per participant with an attended session inside a pair's dates: the dates of those sessions across all the participant's pairs, in order (one entry per session); inputs: mart_sessions, mart_pairs; rebuilt by every write
-- Dose and change counts a participant's attended sessions between two dates from this list
-- instead of joining every session to every baseline-to-follow-up span.
create or replace table mart_participant_attended as
with

sessions_src as (select * from mart_sessions where inside_pair_dates and status = 'attended'),
pairs_src as (select pair_key, participant_key from mart_pairs),

final as (
    select p.participant_key, list(s.session_date order by s.session_date) as attended_on
    from sessions_src as s
    inner join pairs_src as p on p.pair_key = s.pair_key
    group by p.participant_key
)

select * from final order by participant_key
