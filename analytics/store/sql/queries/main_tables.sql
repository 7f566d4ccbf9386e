-- grain: one row per table of the store's main schema, by name (the damage probe)
select table_name from information_schema.tables where table_schema = 'main' and table_catalog = current_database()
