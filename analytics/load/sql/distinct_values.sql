-- grain: one row per distinct value of one column of a staging table. Slots: c, the column; raw, the staging table
select distinct {c} from {raw} where {c} is not null
