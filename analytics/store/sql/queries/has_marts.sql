-- grain: one row: whether the store holds every mart of this release (true), or was written by an older release that had none or fewer (false). Parameter: $marts, the marts' names (marts.MART_ORDER)
select count(distinct table_name) = len($marts::varchar[]) from duckdb_tables() where list_contains($marts::varchar[], table_name) and not temporary
