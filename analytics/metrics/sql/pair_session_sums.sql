-- grain: one row per pair in scope with a clean session on or before A: its attended, no-show and cancelled sessions and attended minutes in [S, E], and its first attended session on or before A (per_pair); only used inside SQL below (engagement_totals.sql, mentors.sql)
-- Sessions are summed per pair first (one integer-keyed pass over the sessions), then per
-- group or mentor over the much smaller per-pair table.
-- A pair whose clean sessions all lie in [S, min(E, A)] takes its sums from mart_pair_sessions
-- (summed at load time); only the other pairs' sessions are summed here.
pairs_whole as (
    select m.pair_key, m.attended, m.no_show, m.cancelled, m.minutes, m.first_attended
    from mart_pair_sessions as m
    inner join (select pair_key from pairs_in_scope) as ps on ps.pair_key = m.pair_key
    where m.first_session >= $start::date and m.last_session <= least($end::date, $as_of::date)
),

pairs_partial as (
    -- the pairs in scope whose clean sessions are not all in [S, min(E, A)]: summed from their
    -- sessions below. A pair with no row in the mart has no clean session, so no sums either
    -- way: its sessions are not read (in the default period no pair's are).
    select m.pair_key
    from mart_pair_sessions as m
    inner join (select pair_key from pairs_in_scope) as ps on ps.pair_key = m.pair_key
    where not (m.first_session >= $start::date and m.last_session <= least($end::date, $as_of::date))
),

per_pair as (
    select * from pairs_whole
    union all
    select
        s.pair_key,
        count(*) filter (where s.status = 'attended' and s.session_date between $start::date and $end::date)
            as attended,
        count(*) filter (where s.status = 'no_show' and s.session_date between $start::date and $end::date)
            as no_show,
        count(*) filter (where s.status = 'cancelled' and s.session_date between $start::date and $end::date)
            as cancelled,
        sum(s.duration_min) filter (where s.status = 'attended' and s.session_date between $start::date and $end::date)
            as minutes,
        -- first attended session on/after matched_on (the mart's flag) and on/before A
        min(s.session_date) filter (where s.status = 'attended') as first_attended
    from mart_sessions as s
    -- only the pairs in scope not summed whole: with a filter (one site, say) the rest are never summed
    inner join pairs_partial as ps on ps.pair_key = s.pair_key
    where s.inside_pair_dates and s.session_date <= $as_of::date
    group by s.pair_key
)
