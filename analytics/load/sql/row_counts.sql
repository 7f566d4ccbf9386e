-- grain: one row: how many rows a staging table has, and how many of them have every cell empty. Slots: raw, the staging table; e, the all-empty test
select count(*), count(*) filter (where {e}) from {raw}
