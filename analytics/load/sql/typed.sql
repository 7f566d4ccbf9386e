-- grain: the temp table new_<table>: one row per non-empty row of the staging table, typed, codes canonical, ids pseudonymized, its source row number in _row. Slots: new, the table made; exprs, its columns; raw, the staging table (alias r); joins, the pseudonym maps; ne, the all-empty test
create temp table {new} as select {exprs} from {raw} r {joins} where not ({ne})
