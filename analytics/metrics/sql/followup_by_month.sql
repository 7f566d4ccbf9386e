-- grain: one row per group and calendar month of window close (closed windows only): due, done and the follow-up rate; inputs: followup_windows (followup_windows.sql)
select
    grp,
    date_trunc('month', window_close)::date as month,
    count(*) filter (where due) as due,
    count(*) filter (where due and done) as done,
    count(*) filter (where missed) as missed,
    count(*) filter (where window_closed and excused) as excused,
    case when count(*) filter (where due) > 0
        then (count(*) filter (where due and done)) / (count(*) filter (where due))
    end as rate
from followup_windows
where window_closed
group by grp, date_trunc('month', window_close)
order by grp, month
