-- grain: one row: whether the store holds the marts (1) or was written by an older release (0)
select count(*) from duckdb_tables() where table_name = 'mart_pairs' and not temporary
