-- grain: one row per group, instrument and paired participant: the rows of outcomes_paired.sql's classified computed once by outcomes.paired_rows and registered as paired_given on this cursor, read in its place (as `paired` too: outcomes_summary.sql reads those columns)
paired as (
    select * from paired_given
),

classified as (
    select * from paired_given
)
