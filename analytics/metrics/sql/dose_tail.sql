-- grain: one row per group, instrument and paired participant (their dose); only used in here.
,

participant_pairs as (
    select participant_key, pair_key
    from mart_pairs
),

spans as (
    -- each participant's baseline-to-follow-up span once: the instruments (and the groups) of
    -- one participant mostly share their dates, so the sessions are counted once per span
    select distinct participant_key, baseline_on, followup_on
    from classified
),

span_doses as (
    -- attended, unflagged sessions of any of the participant's pairs between the two dates
    select sp.participant_key, sp.baseline_on, sp.followup_on,
           count(s.pair_key) as dose
    from spans as sp
    left join participant_pairs as pp on pp.participant_key = sp.participant_key
    left join sessions_clean as s
        on s.pair_key = pp.pair_key and s.status = 'attended'
       and s.session_date between sp.baseline_on and sp.followup_on
    group by sp.participant_key, sp.baseline_on, sp.followup_on
)

select c.grp, c.instrument, c.change, c.baseline_score,
       d.dose
from classified as c
inner join span_doses as d using (participant_key, baseline_on, followup_on)
order by c.grp, c.instrument, d.dose, c.change, c.baseline_score
