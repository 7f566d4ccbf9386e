-- grain: one row per group and close reason, pairs in scope closed within [S, E] (read at A).
final as (
    select p.grp, p.close_reason_at as close_reason, count(*) as pairs,
           list_contains($disengagement, p.close_reason_at) as is_disengagement
    from pairs_in_scope as p
    where p.closed_at between $start::date and $end::date
    group by p.grp, p.close_reason_at
)
select * from final order by grp, pairs desc, close_reason
