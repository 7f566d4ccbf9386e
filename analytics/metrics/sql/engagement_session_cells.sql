-- grain: one row per group, calendar month, status and modality of the sessions in scope dated in [S, E], with their count: counted once for engagement by month and sessions by modality (the session_cells CTE); inputs: sessions_in_scope
session_cells as (
    select
        s.grp,
        date_trunc('month', s.session_date)::date as month_start,
        s.status,
        coalesce(s.modality, '(not recorded)') as modality,
        count(*) as sessions
    from sessions_in_scope as s, scope_params as sp
    where s.session_date between sp.s and sp.e
    group by s.grp, date_trunc('month', s.session_date), s.status, coalesce(s.modality, '(not recorded)')
)
