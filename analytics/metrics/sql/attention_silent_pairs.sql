-- grain: one row per pair open at A (filters applied) with no attended session in the 30 days up to A, matched 30+ days before A.
last_attended as (
    -- a pair whose clean sessions all lie on or before A takes its last attended session from
    -- mart_pair_sessions (found at load time); only the other pairs' sessions are read here
    select m.pair_key, m.last_attended as last_on
    from mart_pair_sessions as m
    where m.last_session <= $as_of::date
    union all
    select s.pair_key, max(s.session_date) as last_on
    from sessions_clean as s
    inner join mart_pair_sessions as m on m.pair_key = s.pair_key
    where m.last_session > $as_of::date and s.status = 'attended' and s.session_date <= $as_of::date
    group by s.pair_key
)

select
    p.mentor_id, p.site, 'no_recent_session' as reason,
    date_diff('day', coalesce(l.last_on, p.matched_on), $as_of::date) as days,
    mp.pair_id, pt.participant_id
from pairs_at as p
inner join mart_pairs as mp on mp.pair_key = p.pair_key
inner join mart_participants as pt on pt.participant_key = p.participant_key
left join last_attended as l on l.pair_key = p.pair_key
where p.closed_at is null
  and p.matched_on <= $as_of::date - $no_session_days::integer
  and (l.last_on is null or l.last_on <= $as_of::date - $no_session_days::integer)
