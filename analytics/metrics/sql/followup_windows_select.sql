-- grain: one row per group and cohort participant with the window's flags the follow-up aggregates read (no pseudonym, no site, no dates but the close): kept by followup.window_rows to be queried again; inputs: followup_windows (followup_windows.sql)
select grp, participant_key, window_close, window_closed, due, done, missed, excused, open_now, opening_next_30
from followup_windows
