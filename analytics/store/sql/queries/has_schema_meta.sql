-- grain: one row: whether the store has its schema_meta table (0 for a new, empty store)
select count(*) from information_schema.tables where table_name = 'schema_meta'
