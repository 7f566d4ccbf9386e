-- grain: one row per group and duration day. Columns: grp, t, events, censored.
durations as (
    select
        p.grp,
        date_diff('day', p.matched_on, coalesce(p.closed_at, $as_of::date)) as t,
        (p.closed_at is not null and list_contains($disengagement, p.close_reason_at)) as is_event
    from pairs_matched_in_period as p
)

select
    grp,
    t,
    count(*) filter (where is_event) as events,
    count(*) filter (where not is_event) as censored
from durations
group by grp, t
order by grp, t
