-- grain: the temp table pmap_<entity>: one row per distinct source id of one entity in this load's reference columns: the id (src) and its pseudonym (pid). Slots: m, the table made; h, the HMAC of src; u, the reference columns (id_column, union all)
create temp table {m} as select src, {h} as pid from (select distinct src from ({u}) where src is not null)
