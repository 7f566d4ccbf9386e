-- grain: one row per group, instrument and paired participant: outcomes_paired.sql's `paired`, its scores and dates computed once by outcomes.paired_rows and registered as paired_given on this cursor, the instrument's definitions joined to them again (outcomes_classified.sql follows it)
paired as (
    -- the columns outcomes_paired.sql's `paired` adds, written the same (tests/test_paired_once.py
    -- compares every metric computed both ways)
    select g.*,
           r.higher_is_better, r.reliability, r.mcid, r.threshold,
           case when r.higher_is_better then 1 else -1 end as d
    from paired_given as g
    inner join instrument_registry as r on r.code = g.instrument
)
