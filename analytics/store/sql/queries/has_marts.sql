-- grain: one row: whether the store holds this release's marts (true) or was written by an older release (false: no marts, or none of mart_pair_sessions, added later)
select count(distinct table_name) = 2 from duckdb_tables() where table_name in ('mart_pairs', 'mart_pair_sessions') and not temporary
