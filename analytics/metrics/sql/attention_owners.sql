-- grain: one row per participant with a pair kept by the filters who has a row of their own (open and never assessed, or one of $window_keys, the participants with a follow-up window to act on): their latest such pair (an open one first), which decides the mentor their participant-level rows go to.
assessed as (
    -- the participants with an assessment on or before A: those whose earliest assessment of
    -- some instrument is (mart_assessment_span, one row per participant and instrument)
    select distinct m.participant_key
    from mart_assessment_span as m
    where m.baseline_on <= $as_of::date
),

wanted as (
    -- whose owner is read: participants with an open pair and no assessment on or before A
    -- (their latest pair, an open one first, is open), and those of $window_keys
    (select participant_key from pairs_at where closed_at is null
     except
     select participant_key from assessed)
    union
    select unnest($window_keys::integer[]) as participant_key
),

ranked as (
    select
        p.participant_key, p.pair_key, p.mentor_id, p.site, p.closed_at is null as is_open,
        row_number() over (
            partition by p.participant_key
            order by p.closed_at is null desc, p.matched_on desc, p.pair_key desc
        ) as n
    from pairs_at as p
    inner join wanted as w on w.participant_key = p.participant_key
)

select
    r.participant_key, r.mentor_id, r.site, r.is_open, mp.pair_id, pt.participant_id,
    date_diff('day', pt.enrolled_on, $as_of::date) as days_enrolled,
    x.participant_key is null as no_assessment
from ranked as r
inner join mart_pairs as mp on mp.pair_key = r.pair_key
inner join mart_participants as pt on pt.participant_key = r.participant_key
left join assessed as x on x.participant_key = r.participant_key
where r.n = 1
