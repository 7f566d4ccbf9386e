-- grain: one row: whether the store holds a (non-temporary) table of the bound name (1) or not (0)
select count(*) from duckdb_tables() where table_name = ? and not temporary
