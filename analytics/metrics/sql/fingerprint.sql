-- grain: one row per table of the report's inputs (pairs, sessions, goals, assessments): rows hashed and the sums of their MD5 halves; column lists are the store schema's; the scope_pairs placeholder below takes one of fingerprint_pairs_*.sql
{scope_pairs}

pair_rows as (
    select concat_ws(chr(31),
        p.pair_id, p.mentor_id, p.participant_id, p.matched_on::varchar,
        coalesce(p.closed_at::varchar, '\N'), coalesce(p.close_reason_at, '\N'),
        coalesce(p.enrolled_on::varchar, '\N'), coalesce(p.site, '\N'), coalesce(p.funding_stream, '\N'),
        coalesce(p.age_band, '\N'), coalesce(p.gender, '\N'), coalesce(p.race_ethnicity, '\N'),
        coalesce(p.supervisor, '\N')) as r
    from scope_pairs as p
),

session_rows as (
    select concat_ws(chr(31),
        s.session_id, s.pair_id, s.session_date::varchar, s.status,
        coalesce(s.duration_min::varchar, '\N'), coalesce(s.modality, '\N')) as r
    from sessions as s
    inner join scope_pairs as p on p.pair_id = s.pair_id
    where s.session_date <= $as_of::date
),

goal_rows as (
    -- a goal achieved after A is open at A (METRICS.md), so it is hashed as A saw it
    select concat_ws(chr(31),
        g.goal_id, g.pair_id, g.domain, g.set_on::varchar,
        coalesce(g.target_on::varchar, '\N'),
        case when g.status = 'achieved' and (g.achieved_on is null or g.achieved_on > $as_of::date)
             then 'open' else coalesce(g.status, '\N') end,
        coalesce(case when g.achieved_on <= $as_of::date then g.achieved_on end::varchar, '\N')) as r
    from goals as g
    inner join scope_pairs as p on p.pair_id = g.pair_id
    where g.set_on <= $as_of::date
),

assessment_rows as (
    select concat_ws(chr(31),
        a.assessment_id, a.participant_id, a.instrument, a.administered_on::varchar, a.score::varchar) as r
    from assessments as a
    inner join (select distinct participant_id from scope_pairs) as pt using (participant_id)
    where a.administered_on <= $as_of::date
),

-- One MD5 per row (md5_number), split into its two 64-bit halves and summed as hugeint. Each
-- table is its own ungrouped aggregate, so each runs as one parallel scan.
pair_md5 as (select md5_number(r) as m from pair_rows),
session_md5 as (select md5_number(r) as m from session_rows),
goal_md5 as (select md5_number(r) as m from goal_rows),
assessment_md5 as (select md5_number(r) as m from assessment_rows)

select 1 as ord, 'pairs' as tbl, count(m) as n_rows,
       coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar as sum_low,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar as sum_high
from pair_md5
union all
select 2, 'sessions', count(m), coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar
from session_md5
union all
select 3, 'goals', count(m), coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar
from goal_md5
union all
select 4, 'assessments', count(m), coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar
from assessment_md5
order by ord
