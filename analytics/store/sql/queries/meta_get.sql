-- grain: one row, or none: the value schema_meta keeps under the bound key
select value from schema_meta where key = ?
