-- grain: one row per group, instrument and reliable-change class: the participants in it; inputs: outcomes_paired.sql
select grp, instrument, reliable_change, count(*) as participants
from classified
group by grp, instrument, reliable_change
order by grp, instrument, reliable_change
