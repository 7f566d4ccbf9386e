-- grain: one row of schema_meta: the bound key set to the bound value (written, or replaced)
insert or replace into schema_meta values (?, ?)
