-- grain: one row per session inside its pair's dates (the sessions metrics count); inputs: mart_sessions
create or replace temp view sessions_clean as
select pair_key, session_date, status, duration_min, modality
from mart_sessions
where inside_pair_dates
