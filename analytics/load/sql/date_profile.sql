-- grain: one row: of a date column's cells with a slash, how many are M/D/YYYY, and of those how many read only day-first, only month-first, or either way round. Slots: c, the column; raw, its staging table; s, m, d, the M/D/YYYY test and the first and second parts of the cell
select count(*) filter (where {s}),
    count(*) filter (where {s} and {m} > 12 and {d} <= 12),
    count(*) filter (where {s} and {m} <= 12 and {d} > 12),
    count(*) filter (where {s} and {m} <= 12 and {d} <= 12 and {m} <> {d})
from {raw} where strpos({c}, '/') > 0
