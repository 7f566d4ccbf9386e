-- grain: one row per group, instrument and paired participant (row-level, only queried again: outcomes.paired_rows); inputs: outcomes_paired.sql
select * from classified
