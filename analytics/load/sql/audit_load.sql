-- grain: one load_audit row: the load's id, time, who, source kinds, outcome, note and mapping profile (name and sha256); no values
insert into load_audit (load_id, loaded_at, loaded_by, source, outcome, note, mapping_profile, mapping_sha256) values (?, ?, ?, ?, ?, ?, ?, ?)
