-- grain: one row per group and cohort participant, in order; inputs: followup_windows (followup_windows.sql)
select * from followup_windows order by grp, enrolled_on, participant_key
