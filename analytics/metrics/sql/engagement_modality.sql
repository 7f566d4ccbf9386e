-- grain: one row per group and modality (attended sessions in [S, E]); inputs: session_cells (engagement_session_cells.sql)
final as (
    -- from the sessions' cells (engagement_session_cells.sql: dated in [S, E])
    select grp, modality, sum(sessions)::bigint as attended
    from session_cells
    where status = 'attended'
    group by grp, modality
)
select * from final order by grp, attended desc, modality
