-- grain: schema version 3: load_audit (one row per load) gains the mapping profile a load was read with (name and sha256), when it used one
alter table load_audit add column if not exists mapping_profile varchar;
alter table load_audit add column if not exists mapping_sha256 varchar;
