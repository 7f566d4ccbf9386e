-- grain: one row per group and instrument with paired participants: means, SDs, s_diff, reliable- and meaningful-change and cut-off counts; inputs: outcomes_paired.sql (its `paired` rows: S_diff and the reliable-change classes are computed here from the group's own list, not joined back)
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
        any_value(reliability) as reliability,
        any_value(higher_is_better) as higher_is_better,
        any_value(mcid) as mcid,
        any_value(threshold) as threshold,
        count(*) filter (where d * change >= mcid) as meaningful_improved,
        count(*) filter (where d * change <= -mcid) as meaningful_declined,
        count(*) filter (where d * baseline_score >= d * threshold) as baseline_meets,
        count(*) filter (where d * followup_score >= d * threshold) as followup_meets
    from paired
    group by grp, instrument
),

group_sdiff_list as (
    -- S_diff over the group's baselines in participant order: outcomes_classified.sql's group_sdiff
    -- (the same SD fed the same sequence)
    select *, sqrt(2) * sd_baseline * sqrt(1 - reliability) as s_diff
    from (
        select *, list_aggregate(list_transform(scores, lambda x: x.b), 'stddev_samp') as sd_baseline
        from by_group
    )
),

classes as (
    -- each change's reliable-change class as outcomes_classified.sql's `classified` assigns it:
    -- d * change / S_diff >= RC improved, <= -RC declined, the others no reliable change
    select *,
        len(list_filter(scores, lambda x: (case when higher_is_better then x.c else -x.c end) / s_diff >= $rc))
            as improved_n,
        len(list_filter(scores, lambda x: (case when higher_is_better then x.c else -x.c end) / s_diff <= -$rc))
            as declined_n
    from group_sdiff_list
)

select
    grp,
    instrument,
    n_paired,
    list_avg(list_transform(scores, lambda x: x.b)) as baseline_mean,
    list_avg(list_transform(scores, lambda x: x.f)) as followup_mean,
    list_avg(list_transform(scores, lambda x: x.c)) as mean_change,
    list_aggregate(list_transform(scores, lambda x: x.c), 'stddev_samp') as sd_change,
    sd_baseline,
    s_diff,
    case when s_diff is null or s_diff = 0 then 0 else improved_n end as improved,
    case when s_diff is null or s_diff = 0 then 0
         else n_paired - improved_n - declined_n end as no_reliable_change,
    case when s_diff is null or s_diff = 0 then 0 else declined_n end as declined,
    case when s_diff is null or s_diff = 0 then n_paired else 0 end as unclassified,
    mcid,
    threshold,
    meaningful_improved,
    meaningful_declined,
    baseline_meets,
    followup_meets
from classes
order by grp, instrument
