-- grain: one row: when a file of the bound table with the bound content hash was last loaded with an effect (null when never)
select max(a.loaded_at) from load_audit a join load_audit_tables t using (load_id)
where t.table_name = ? and t.file_sha256 = ? and a.outcome = 'loaded'
