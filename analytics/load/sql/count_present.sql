-- grain: one row: how many cells of one column of a staging table hold a value. Slots: c, the column; raw, the staging table
select count({c}) from {raw}
