-- grain: one row per group and instrument: intake (baseline) scores of due cohort members who were reassessed vs missed, with the standardized mean difference; inputs: followup_windows (followup_windows.sql), mart_assessment_span
baseline as (
    -- a participant's earliest assessment of each instrument on or before A: their earliest
    -- one of all (mart_assessment_span) when it is on or before A; none otherwise
    select participant_key, instrument, baseline_score
    from mart_assessment_span
    where baseline_on <= $as_of::date
),

by_status as (
    select
        w.grp,
        b.instrument,
        count(*) filter (where w.done) as n_followed,
        count(*) filter (where not w.done) as n_missed,
        avg(b.baseline_score order by b.participant_key) filter (where w.done) as baseline_mean_followed,
        avg(b.baseline_score order by b.participant_key) filter (where not w.done) as baseline_mean_missed,
        var_samp(b.baseline_score order by b.participant_key) filter (where w.done) as var_followed,
        var_samp(b.baseline_score order by b.participant_key) filter (where not w.done) as var_missed
    from followup_windows as w
    inner join baseline as b on b.participant_key = w.participant_key
    where w.due
    group by w.grp, b.instrument
),

pooled as (
    select
        *,
        case when n_followed >= 2 and n_missed >= 2 then
            sqrt(((n_followed - 1) * var_followed + (n_missed - 1) * var_missed)
                 / (n_followed + n_missed - 2))
        end as pooled_sd
    from by_status
)

select
    grp, instrument, n_followed, n_missed, baseline_mean_followed, baseline_mean_missed, pooled_sd,
    case when pooled_sd > 0 then (baseline_mean_followed - baseline_mean_missed) / pooled_sd end as smd
from pooled
order by grp, instrument
