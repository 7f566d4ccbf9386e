-- grain: one row per finding, instrument ('' when not instrument-specific) and site.
participants_in_scope as (
    select distinct participant_key, site from pairs_in_scope
),

outside as (
    select 'session_outside_pair_dates' as finding, '' as instrument, p.site, count(*) as n
    from sessions_outside_pair_dates as o
    inner join pairs_at as p on p.pair_key = o.pair_key
    where o.session_date <= $as_of::date
    group by p.site
),

latest as (
    select a.participant_key, a.instrument, min(a.administered_on) as first_on, max(a.administered_on) as last_on
    from assessments_timed as a
    where a.administered_on <= $as_of::date
    group by a.participant_key, a.instrument
),

no_baseline as (
    select 'no_baseline' as finding, r.code as instrument, ps.site, count(*) as n
    from participants_in_scope as ps
    cross join instrument_registry as r
    left join latest as l on l.participant_key = ps.participant_key and l.instrument = r.code
    where l.participant_key is null
    group by r.code, ps.site
),

open_participants as (
    select distinct participant_key, site from pairs_at where closed_at is null
),

overdue as (
    select 'overdue_followup' as finding, l.instrument, op.site, count(*) as n
    from open_participants as op
    inner join latest as l on l.participant_key = op.participant_key
    where l.first_on < $as_of::date - $overdue_days::integer
      and l.last_on < $as_of::date - $overdue_days::integer
    group by l.instrument, op.site
),

no_recent as (
    select 'no_recent_session' as finding, '' as instrument, p.site, count(*) as n
    from pairs_at as p
    where p.closed_at is null
      and p.matched_on <= $as_of::date - $no_session_days::integer
      and not exists (
          select 1 from sessions_clean as s
          where s.pair_key = p.pair_key and s.status = 'attended'
            and s.session_date > $as_of::date - $no_session_days::integer and s.session_date <= $as_of::date
      )
    group by p.site
)

select * from outside
union all select * from no_baseline
union all select * from overdue
union all select * from no_recent
order by finding, instrument, site
