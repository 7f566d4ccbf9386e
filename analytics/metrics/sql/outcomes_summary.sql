-- grain: one row per group and instrument with paired participants: means, SDs, s_diff, reliable- and meaningful-change and cut-off counts; inputs: outcomes_paired.sql
select
    grp,
    instrument,
    count(*) as n_paired,
    avg(baseline_score order by participant_key) as baseline_mean,
    avg(followup_score order by participant_key) as followup_mean,
    avg(change order by participant_key) as mean_change,
    stddev_samp(change order by participant_key) as sd_change,
    stddev_samp(baseline_score order by participant_key) as sd_baseline,
    any_value(s_diff) as s_diff,
    count(*) filter (where reliable_change = 'improved') as improved,
    count(*) filter (where reliable_change = 'no_reliable_change') as no_reliable_change,
    count(*) filter (where reliable_change = 'declined') as declined,
    count(*) filter (where reliable_change is null) as unclassified,
    any_value(mcid) as mcid,
    any_value(threshold) as threshold,
    count(*) filter (where d * change >= mcid) as meaningful_improved,
    count(*) filter (where d * change <= -mcid) as meaningful_declined,
    count(*) filter (where d * baseline_score >= d * threshold) as baseline_meets,
    count(*) filter (where d * followup_score >= d * threshold) as followup_meets
from classified
group by grp, instrument
order by grp, instrument
