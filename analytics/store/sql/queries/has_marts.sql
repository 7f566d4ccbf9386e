-- grain: one row: whether the store holds this release's marts (true) or was written by an older release (false: no marts, or not those added later: mart_pair_sessions, mart_assessment_span)
select count(distinct table_name) = 3 from duckdb_tables() where table_name in ('mart_pairs', 'mart_pair_sessions', 'mart_assessment_span') and not temporary
