-- grain: one row: how many rows a new_<table> has, and how many distinct keys. Slots: k, the table's key column; n, the table
select count(*), count(distinct {k}) from {n}
