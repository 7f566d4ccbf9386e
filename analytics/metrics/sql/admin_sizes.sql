-- grain: one row per contract table: its name and row count
select 'participants', count(*) from participants
union all select 'mentors', count(*) from mentors
union all select 'pairs', count(*) from pairs
union all select 'sessions', count(*) from sessions
union all select 'goals', count(*) from goals
union all select 'assessments', count(*) from assessments
