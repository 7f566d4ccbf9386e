-- grain: CTEs every metric query starts with (each compares with the bound dates $as_of, $start and $end themselves): pairs_at (one row per pair matched on or before A, closing read at A, filters applied, with grp), pairs_in_scope (matched_on <= E and not closed before S), pairs_matched_in_period (matched_on in [S, E]), sessions_in_scope (one row per clean session of a pair in scope dated on or before A, with grp)
pairs_at as (
    select
        pf.*,
        -- METRICS.md: anything dated after A has not happened yet, so a pair closed after A
        -- is open at A.
        case when pf.closed_on <= $as_of::date then pf.closed_on end as closed_at,
        case when pf.closed_on <= $as_of::date then pf.close_reason end as close_reason_at,
        coalesce(
            case $by::varchar
                when 'site' then pf.site
                when 'supervisor' then pf.supervisor
                when 'mentor' then pf.mentor_id
                when 'funding_stream' then pf.funding_stream
                when 'match_quarter' then pf.match_quarter
                when 'age_band' then pf.age_band
                when 'gender' then pf.gender
                when 'race_ethnicity' then pf.race_ethnicity
                else 'all'
            end,
            '(not recorded)'
        ) as grp
    from pair_facts as pf
    where pf.matched_on <= $as_of::date
      and ($f_site::varchar[] is null or list_contains($f_site::varchar[], pf.site))
      and ($f_funding_stream::varchar[] is null
           or list_contains($f_funding_stream::varchar[], pf.funding_stream))
      and ($f_supervisor::varchar[] is null or list_contains($f_supervisor::varchar[], pf.supervisor))
      and ($f_mentor::varchar[] is null or list_contains($f_mentor::varchar[], pf.mentor_id))
      and ($f_match_quarter::varchar[] is null
           or list_contains($f_match_quarter::varchar[], pf.match_quarter))
      and ($f_age_band::varchar[] is null or list_contains($f_age_band::varchar[], pf.age_band))
      and ($f_gender::varchar[] is null or list_contains($f_gender::varchar[], pf.gender))
      and ($f_race_ethnicity::varchar[] is null
           or list_contains($f_race_ethnicity::varchar[], pf.race_ethnicity))
),

pairs_in_scope as (
    select pa.*
    from pairs_at as pa
    where pa.matched_on <= $end::date
      and (pa.closed_at is null or pa.closed_at >= $start::date)
),

pairs_matched_in_period as (
    select pa.*
    from pairs_at as pa
    where pa.matched_on between $start::date and $end::date
),

sessions_in_scope as not materialized (
    -- Sessions of pairs in scope dated on or before A, without the flagged ones (the
    -- sessions_clean rule, read from the mart's flag in the same scan). Not materialized:
    -- copying millions of rows costs more than repeating an integer join per consumer.
    select
        s.pair_key, s.session_date, s.status, s.duration_min, s.modality, s.month_start, s.kind,
        p.grp, p.matched_on,
        p.matched_on between $start::date and $end::date as pair_matched_in_period
    from mart_sessions as s
    inner join pairs_in_scope as p on p.pair_key = s.pair_key
    where s.inside_pair_dates
      and s.session_date <= $as_of::date
)
