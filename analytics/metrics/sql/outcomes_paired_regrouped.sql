-- grain: one row per group, instrument and paired participant of a grouped scope: the rows outcomes.paired_rows computed once over the same scope ungrouped (registered as paired_given), each put under the groups of its participant's pairs in scope, the instrument's definitions joined to them again (outcomes_classified.sql follows it)
paired as (
    -- A participant's baseline and follow-up do not depend on the grouping, and grouping keeps
    -- every pair in scope: outcomes_paired.sql's `paired` of the grouped scope, with the
    -- columns outcomes_paired_given.sql adds (tests/test_paired_once.py compares every metric
    -- computed both ways)
    select pg.grp, g.* exclude (grp),
           r.higher_is_better, r.reliability, r.mcid, r.threshold,
           case when r.higher_is_better then 1 else -1 end as d
    from paired_given as g
    inner join (select distinct grp, participant_key from pairs_in_scope) as pg using (participant_key)
    inner join instrument_registry as r on r.code = g.instrument
)
