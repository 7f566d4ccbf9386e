-- grain: one load_audit_tables row per table of a load: counts, the file's content hash and the dropped columns; no values
insert into load_audit_tables (load_id, table_name, file_sha256, rows_read, inserted, updated, unchanged, duplicates_removed, rejected, flagged, dropped_columns) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
