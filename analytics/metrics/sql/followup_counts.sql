-- grain: one row per group with a cohort: the follow-up block's counts and rate (METRICS.md "Funder follow-up"); inputs: followup_windows (followup_windows.sql), $target
select
    grp,
    count(*) as cohort,
    count(*) filter (where due) as due,
    count(*) filter (where window_closed and excused) as excused,
    count(*) filter (where due and done) as done,
    count(*) filter (where missed) as missed,
    case when count(*) filter (where due) > 0
        then (count(*) filter (where due and done)) / (count(*) filter (where due))
    end as rate,
    case when count(*) filter (where due) > 0
        then (count(*) filter (where due and done)) / (count(*) filter (where due)) >= $target::double
    end as meets_target,
    count(*) filter (where open_now) as open_now,
    count(*) filter (where opening_next_30) as opening_next_30
from followup_windows
group by grp
order by grp
