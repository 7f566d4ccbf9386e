-- grain: one row per group and cohort participant: the rows of followup_windows_select.sql computed once by followup.window_rows and registered as windows_given on this cursor, read in place of followup_windows.sql
followup_windows as (
    select * from windows_given
)
