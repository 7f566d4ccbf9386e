-- grain: one row per session, keyed by its pair's integer key, marked inside or outside its pair's dates, with its calendar month and kind (status and modality); inputs: sessions, mart_pairs, mart_session_kinds; rebuilt by every write
create or replace table mart_sessions as
with

sessions_src as (select * from sessions),
pairs_src as (select pair_id, pair_key, matched_on, closed_on from mart_pairs),
kinds_src as (select kind, status, modality from mart_session_kinds),

final as (
    select
        p.pair_key,
        s.session_date,
        s.status,
        s.duration_min,
        s.modality,
        -- METRICS.md: a session before its pair's matched_on or after its closed_on is flagged
        -- and excluded from every metric
        (s.session_date >= p.matched_on and (p.closed_on is null or s.session_date <= p.closed_on))
            as inside_pair_dates,
        date_trunc('month', s.session_date)::date as month_start,
        k.kind
    from sessions_src as s
    inner join pairs_src as p on p.pair_id = s.pair_id
    inner join kinds_src as k on k.status = s.status and k.modality is not distinct from s.modality
)

select * from final
