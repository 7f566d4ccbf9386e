-- grain: one row: the reported row's cell of one column (read only to name an unknown instrument code). Slots: c, the column; raw, the staging table; r, its row number
select {c} from {raw} where {r} = $row
