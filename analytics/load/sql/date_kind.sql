-- grain: one row: whether the reported row's cell has a two-digit year, and whether it is written M/D/YYYY. Slots: c, the column; raw, the staging table; r, its row number
select regexp_full_match({c}, $yy_re), regexp_full_match({c}, $mdy_re) from {raw} where {r} = $row
