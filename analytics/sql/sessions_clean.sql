-- grain: one row per session inside its pair's dates (the sessions metrics count); inputs: sessions, pairs
create or replace temp view sessions_clean as
with

sessions_src as (select * from sessions),
pairs_src as (select pair_id, matched_on, closed_on from pairs),

final as (
    -- METRICS.md: a session before its pair's matched_on or after its closed_on is flagged
    -- and excluded from every metric.
    select s.session_id, s.pair_id, s.session_date, s.status, s.duration_min, s.modality
    from sessions_src as s
    inner join pairs_src as p on p.pair_id = s.pair_id
    where s.session_date >= p.matched_on
      and (p.closed_on is null or s.session_date <= p.closed_on)
)

select * from final
