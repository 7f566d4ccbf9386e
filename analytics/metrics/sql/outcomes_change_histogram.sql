-- grain: one row per group, instrument and change in score: the participants with that change; inputs: outcomes_paired.sql
select grp, instrument, change, count(*) as participants
from paired
group by grp, instrument, change
order by grp, instrument, change
