-- grain: one row per group, instrument and paired participant (their dose); only used in here.
,

participant_pairs as (
    select participant_key, pair_key
    from mart_pairs
),

doses as (
    -- attended, unflagged sessions of any of the participant's pairs between the two dates
    select c.grp, c.instrument, c.participant_key,
           count(s.pair_key) as dose
    from classified as c
    left join participant_pairs as pp on pp.participant_key = c.participant_key
    left join sessions_clean as s
        on s.pair_key = pp.pair_key and s.status = 'attended'
       and s.session_date between c.baseline_on and c.followup_on
    group by c.grp, c.instrument, c.participant_key
)

select c.grp, c.instrument, c.change, c.baseline_score,
       d.dose
from classified as c
inner join doses as d using (grp, instrument, participant_key)
order by c.grp, c.instrument, d.dose, c.change, c.baseline_score
