-- grain: one row per group. eligible_90: pairs matched in [S, E] with matched_on <= A - 90.
eligible as (
    select
        p.grp,
        (p.closed_at is not null and list_contains($disengagement, p.close_reason_at)
         and date_diff('day', p.matched_on, p.closed_at) < 90) as dropped_before_90
    from pairs_matched_in_period as p
    where p.matched_on <= $as_of::date - interval 90 day
)

select
    g.grp,
    count(e.grp) as eligible_90,
    count(e.grp) filter (where not e.dropped_before_90) as retained_90_pairs
from (select distinct grp from pairs_at) as g
left join eligible as e using (grp)
group by g.grp
order by g.grp
