-- grain: one row per pair with at least one session inside its dates: its attended, no-show and cancelled sessions, attended minutes, first and last attended session, the 30-day windows of its first year with an attended session, and the span of its session dates; inputs: mart_sessions, mart_pairs; rebuilt by every write
-- A metric whose period holds all of a pair's sessions takes the pair's sums from here instead of
-- summing its sessions again (engagement totals, mentor caseloads): the same counts and sums.
create or replace table mart_pair_sessions as
with

sessions_src as (
    select s.*, p.matched_on
    from mart_sessions as s
    inner join (select pair_key, matched_on from mart_pairs) as p on p.pair_key = s.pair_key
    where s.inside_pair_dates
),

final as (
    select
        pair_key,
        count(*) filter (where status = 'attended') as attended,
        count(*) filter (where status = 'no_show') as no_show,
        count(*) filter (where status = 'cancelled') as cancelled,
        sum(duration_min) filter (where status = 'attended') as minutes,
        min(session_date) filter (where status = 'attended') as first_attended,
        max(session_date) filter (where status = 'attended') as last_attended,
        -- the 30-day windows k = 0..11 after matched_on with an attended session, as bits of
        -- one integer (bit k: k = (session_date - matched_on) // 30), for the cohort triangle.
        -- Independent of A: a window the triangle counts ends on or before A, so every session
        -- in it is on or before A too.
        -- (a case, not a filter: the shift is refused past bit 31, and a filter does not keep
        -- DuckDB from computing it on the rows it drops)
        coalesce(bit_or(case when status = 'attended' and session_date < matched_on + 360
                             then 1::integer << (date_diff('day', matched_on, session_date) // 30)::integer
                        end), 0) as attended_windows,
        min(session_date) as first_session,
        max(session_date) as last_session
    from sessions_src
    group by pair_key
)

select * from final order by pair_key
