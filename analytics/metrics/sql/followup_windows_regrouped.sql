-- grain: one row per group and cohort participant of a grouped scope: the rows of followup_windows_select.sql computed once over the same scope ungrouped (followup.window_rows, registered as windows_given), each put under the groups of its participant's pairs in scope (a window does not depend on the group, and grouping keeps every pair in scope); inputs: the scope CTEs, windows_given
followup_windows as (
    select g.grp, w.* exclude (grp)
    from windows_given as w
    inner join (select distinct grp, participant_key from pairs_in_scope) as g using (participant_key)
)
