-- grain: one row per group and instrument with paired participants: means, SDs, s_diff, reliable- and meaningful-change and cut-off counts; inputs: outcomes_paired.sql
,

by_group as (
    -- The scores in participant order, gathered in one sort: the means and SDs below are then
    -- fed in that fixed order (the same values, to the last digit, as ordered aggregates, which
    -- sort once each), so no thread count changes their last digits.
    select
        grp,
        instrument,
        count(*) as n_paired,
        list(struct_pack(b := baseline_score, f := followup_score, c := change) order by participant_key) as scores,
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
)

select
    grp,
    instrument,
    n_paired,
    list_avg(list_transform(scores, lambda x: x.b)) as baseline_mean,
    list_avg(list_transform(scores, lambda x: x.f)) as followup_mean,
    list_avg(list_transform(scores, lambda x: x.c)) as mean_change,
    list_aggregate(list_transform(scores, lambda x: x.c), 'stddev_samp') as sd_change,
    list_aggregate(list_transform(scores, lambda x: x.b), 'stddev_samp') as sd_baseline,
    s_diff,
    improved,
    no_reliable_change,
    declined,
    unclassified,
    mcid,
    threshold,
    meaningful_improved,
    meaningful_declined,
    baseline_meets,
    followup_meets
from by_group
order by grp, instrument
