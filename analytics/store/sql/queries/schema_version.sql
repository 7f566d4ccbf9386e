-- grain: one row, or none: the schema version the store records in schema_meta
select value from schema_meta where key = 'schema_version'
