-- grain: one row per participant with a pair kept by the filters who has a row of their own (open and never assessed, or one of $window_keys, the participants with a follow-up window to act on): their latest such pair (an open one first), which decides the mentor their participant-level rows go to.
ranked as (
    select
        p.participant_key, p.pair_key, p.mentor_id, p.site, p.closed_at is null as is_open,
        row_number() over (
            partition by p.participant_key
            order by p.closed_at is null desc, p.matched_on desc, p.pair_key desc
        ) as n
    from pairs_at as p
),

assessed as (
    select distinct a.participant_key
    from mart_assessments as a, scope_params as sp
    where a.administered_on <= sp.a
)

select
    r.participant_key, r.mentor_id, r.site, r.is_open, mp.pair_id, pt.participant_id,
    date_diff('day', pt.enrolled_on, sp.a) as days_enrolled,
    x.participant_key is null as no_assessment
from ranked as r
cross join scope_params as sp
inner join mart_pairs as mp on mp.pair_key = r.pair_key
inner join mart_participants as pt on pt.participant_key = r.participant_key
left join assessed as x on x.participant_key = r.participant_key
where r.n = 1
  and ((r.is_open and x.participant_key is null)
       or r.participant_key in (select unnest($window_keys::integer[])))
