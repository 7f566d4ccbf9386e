-- grain: one row per flagged session (dated before its pair's matched_on or after its closed_on); inputs: sessions, pairs
create or replace temp view sessions_outside_pair_dates as
with

sessions_src as (select * from sessions),
pairs_src as (select pair_id, matched_on, closed_on from pairs),

final as (
    select
        s.session_id,
        s.pair_id,
        s.session_date,
        case when s.session_date < p.matched_on then 'before_match' else 'after_close' end as side
    from sessions_src as s
    inner join pairs_src as p on p.pair_id = s.pair_id
    where s.session_date < p.matched_on
       or (p.closed_on is not null and s.session_date > p.closed_on)
)

select * from final
