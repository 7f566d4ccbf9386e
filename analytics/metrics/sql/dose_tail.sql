-- grain: one row per group, instrument, dose, change and baseline score of the paired participants, with how many have them (times); only used in dose.py.
,

spans as (
    -- each participant's baseline-to-follow-up span once, of the rows without a dose kept
    -- (mart_assessment_span keeps it when the follow-up is the latest assessment, which it is
    -- whenever A is on or after it): the instruments (and the groups) of one participant mostly
    -- share their dates, so the sessions are counted once per span
    select distinct participant_key, baseline_on, followup_on
    from paired
    where dose is null
),

span_doses as (
    -- attended, unflagged sessions of any of the participant's pairs between the two dates:
    -- counted in the participant's list of them (mart_participant_attended; none: 0)
    select sp.participant_key, sp.baseline_on, sp.followup_on,
           coalesce(len(list_filter(m.attended_on, lambda d: d between sp.baseline_on and sp.followup_on)), 0)
               as dose
    from spans as sp
    left join mart_participant_attended as m on m.participant_key = sp.participant_key
),

dosed as (
    -- every paired row with its dose: kept, or counted above
    select grp, instrument, change, baseline_score, dose
    from paired
    where dose is not null
    union all
    select c.grp, c.instrument, c.change, c.baseline_score, d.dose
    from paired as c
    inner join span_doses as d using (participant_key, baseline_on, followup_on)
    where c.dose is null
)

-- Each distinct (group, instrument, dose, change, baseline) once, with how many participants
-- have it (`times`), in the fixed order the regression reads its rows in: repeated `times`
-- times (dose._runs) they are every participant's row sorted, the same sequence to the last bit
-- (tied rows are equal in every column), while only the distinct rows are sorted (110,000 of
-- 379,000 at L). Scores are validated numbers (no NaN), so grouping equal values loses nothing.
select grp, instrument, change, baseline_score, dose, count(*) as times
from dosed
group by grp, instrument, dose, change, baseline_score
order by grp, instrument, dose, change, baseline_score
