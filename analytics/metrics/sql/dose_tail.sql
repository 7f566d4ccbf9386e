-- grain: one row per group, instrument, dose, change and baseline score of the paired participants, with how many have them (times); only used in dose.py.
,

spans as (
    -- each participant's baseline-to-follow-up span once: the instruments (and the groups) of
    -- one participant mostly share their dates, so the sessions are counted once per span
    select distinct participant_key, baseline_on, followup_on
    from paired
),

span_doses as (
    -- attended, unflagged sessions of any of the participant's pairs between the two dates:
    -- counted in the participant's list of them (mart_participant_attended; none: 0)
    select sp.participant_key, sp.baseline_on, sp.followup_on,
           coalesce(len(list_filter(m.attended_on, lambda d: d between sp.baseline_on and sp.followup_on)), 0)
               as dose
    from spans as sp
    left join mart_participant_attended as m on m.participant_key = sp.participant_key
)

-- Each distinct (group, instrument, dose, change, baseline) once, with how many participants
-- have it (`times`), in the fixed order the regression reads its rows in: repeated `times`
-- times (dose._runs) they are every participant's row sorted, the same sequence to the last bit
-- (tied rows are equal in every column), while only the distinct rows are sorted (110,000 of
-- 379,000 at L). Scores are validated numbers (no NaN), so grouping equal values loses nothing.
select c.grp, c.instrument, c.change, c.baseline_score, d.dose, count(*) as times
from paired as c
inner join span_doses as d using (participant_key, baseline_on, followup_on)
group by c.grp, c.instrument, d.dose, c.change, c.baseline_score
order by c.grp, c.instrument, d.dose, c.change, c.baseline_score
