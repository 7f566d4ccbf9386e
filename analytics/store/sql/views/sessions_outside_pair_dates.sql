-- grain: one row per flagged session (dated before its pair's matched_on or after its closed_on); inputs: mart_sessions, mart_pairs
create or replace temp view sessions_outside_pair_dates as
with

flagged as (select pair_key, session_date from mart_sessions where not inside_pair_dates),
pairs_src as (select pair_key, matched_on from mart_pairs),

final as (
    select
        f.pair_key,
        f.session_date,
        case when f.session_date < p.matched_on then 'before_match' else 'after_close' end as side
    from flagged as f
    inner join pairs_src as p on p.pair_key = f.pair_key
)

select * from final
