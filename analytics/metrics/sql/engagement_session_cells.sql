-- grain: one row per group, calendar month, status and modality of the sessions in scope dated in [S, E], with their count: counted once for engagement by month and sessions by modality (the session_cells CTE); inputs: sessions_in_scope, mart_session_kinds
session_cells as (
    -- counted by the month and kind mart_sessions keeps for each session (one date and a small
    -- integer, not a date truncated row by row and two texts), then named from the kinds
    select c.grp, c.month_start, k.status, coalesce(k.modality, '(not recorded)') as modality, c.sessions
    from (
        select s.grp, s.month_start, s.kind, count(*) as sessions
        from sessions_in_scope as s
        where s.session_date between $start::date and $end::date
        group by s.grp, s.month_start, s.kind
    ) as c
    inner join mart_session_kinds as k on k.kind = c.kind
)
