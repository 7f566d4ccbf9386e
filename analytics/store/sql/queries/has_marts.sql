-- grain: one row: whether the store holds every mart of this release with every column added since (true), or was written by an older release that had none, fewer or older ones (false). Parameters: $marts, the marts' names (marts.MART_ORDER); $columns, the columns added since, as table.column (marts.MART_ADDED_COLUMNS)
select
    (select count(distinct table_name) from duckdb_tables()
     where list_contains($marts::varchar[], table_name) and not temporary) = len($marts::varchar[])
    and (select count(distinct table_name || '.' || column_name) from duckdb_columns()
         where list_contains($columns::varchar[], table_name || '.' || column_name) and database_name <> 'temp')
        = len($columns::varchar[])
