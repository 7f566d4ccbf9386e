-- grain: one row per group, instrument and paired participant (row-level, only queried again: outcomes.paired_rows); inputs: outcomes_paired.sql. Its scores, dates and kept doses only: the instrument's definitions are joined again where they are read (outcomes_paired_given.sql).
select grp, participant_key, instrument, baseline_score, followup_score, change, baseline_on, followup_on, dose
from paired
