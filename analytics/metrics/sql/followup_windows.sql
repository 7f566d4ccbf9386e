-- grain: one row per group and cohort participant (participants in scope with enrolled_on in [S, E]), with the follow-up window of rule $rule, done (an assessment of any instrument inside the window, on or before A) and excused (suprt: not done and exited_on, read at A, on or before the window's close); inputs: the scope CTEs, mart_participants, mart_assessments
cohort as (
    select distinct ps.grp, ps.participant_key
    from pairs_in_scope as ps
    inner join mart_participants as mp on mp.participant_key = ps.participant_key
    where mp.enrolled_on between $start::date and $end::date
),

windows_placed as (
    select
        c.grp,
        c.participant_key,
        mp.participant_id,
        mp.site,
        mp.enrolled_on,
        -- METRICS.md: anything dated after A has not happened yet
        case when mp.exited_on <= $as_of::date then mp.exited_on end as exited_on,
        case $rule::varchar
            when 'gpra' then (mp.enrolled_on + interval 5 month)::date
            else mp.enrolled_on + 150
        end as window_open,
        case $rule::varchar
            when 'gpra' then (mp.enrolled_on + interval 8 month)::date
            else mp.enrolled_on + 210
        end as window_close
    from cohort as c
    inner join mart_participants as mp on mp.participant_key = c.participant_key
),

windows as (
    -- $to_act: only the windows a worklist can list (followup_rows_to_act.sql: open at A,
    -- closing on A or opening within $opening_days days), which close on or after A and open
    -- by A + $opening_days; the others are not placed at all
    select w.*
    from windows_placed as w
    where not $to_act::boolean
       or (w.window_close >= $as_of::date and w.window_open <= $as_of::date + $opening_days::integer)
),

reassessed as (
    -- the first assessment of any instrument inside the window, on or before A (computed per
    -- participant, not per group: the window does not depend on the group)
    select w.participant_key, min(a.administered_on) as done_on
    from (select distinct participant_key, window_open, window_close from windows) as w
    inner join mart_assessments as a on a.participant_key = w.participant_key
    where a.administered_on between w.window_open and w.window_close
      and a.administered_on <= $as_of::date
    group by w.participant_key
),

flagged as (
    select
        w.grp,
        w.participant_key,
        w.participant_id,
        w.site,
        w.enrolled_on,
        w.exited_on,
        w.window_open,
        w.window_close,
        r.done_on,
        r.done_on is not null as done,
        $rule::varchar = 'suprt' and r.done_on is null and coalesce(w.exited_on <= w.window_close, false)
            as excused,
        w.window_close <= $as_of::date as window_closed
    from windows as w
    left join reassessed as r on r.participant_key = w.participant_key
),

followup_windows as (
    select
        f.*,
        f.window_closed and not f.excused as due,
        f.window_closed and not f.excused and not f.done as missed,
        f.window_open <= $as_of::date and $as_of::date < f.window_close and not f.done and not f.excused as open_now,
        $as_of::date < f.window_open and f.window_open <= $as_of::date + $opening_days::integer and not f.excused as opening_next_30
    from flagged as f
)
