-- grain: one row per pair with at least one session inside its dates: its attended, no-show and cancelled sessions, attended minutes, first attended session, and the span of its session dates; inputs: mart_sessions; rebuilt by every write
-- A metric whose period holds all of a pair's sessions takes the pair's sums from here instead of
-- summing its sessions again (engagement totals, mentor caseloads): the same counts and sums.
create or replace table mart_pair_sessions as
with

sessions_src as (select * from mart_sessions where inside_pair_dates),

final as (
    select
        pair_key,
        count(*) filter (where status = 'attended') as attended,
        count(*) filter (where status = 'no_show') as no_show,
        count(*) filter (where status = 'cancelled') as cancelled,
        sum(duration_min) filter (where status = 'attended') as minutes,
        min(session_date) filter (where status = 'attended') as first_attended,
        min(session_date) as first_session,
        max(session_date) as last_session
    from sessions_src
    group by pair_key
)

select * from final order by pair_key
