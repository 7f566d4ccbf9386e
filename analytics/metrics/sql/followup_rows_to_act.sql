-- grain: one row per group and cohort participant whose window is open at A, closes on A (not done, not excused) or opens within $opening_days days: the rows a worklist acts on, in order; inputs: followup_windows (followup_windows.sql)
select f.*
from followup_windows as f
where f.open_now
   or f.opening_next_30
   or (f.window_close = $as_of::date and not f.done and not f.excused)
order by f.grp, f.enrolled_on, f.participant_key
