-- grain: one row per row of a staging table: its reference to another table's key, as src (a part of pseudonym_map). Slots: c, the reference column; t, the staging table
select {c} as src from {t}
