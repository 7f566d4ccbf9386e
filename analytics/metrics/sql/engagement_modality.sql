-- grain: one row per group and modality (attended sessions in [S, E]).
final as (
    select s.grp, coalesce(s.modality, '(not recorded)') as modality, count(*) as attended
    from sessions_in_scope as s, scope_params as sp
    where s.session_date between sp.s and sp.e and s.status = 'attended'
    group by s.grp, coalesce(s.modality, '(not recorded)')
)
select * from final order by grp, attended desc, modality
