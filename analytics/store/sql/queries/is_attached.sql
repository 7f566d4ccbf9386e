-- grain: one row: whether a database of the bound name is attached to this connection (1) or not (0)
select count(*) from duckdb_databases() where database_name = ?
