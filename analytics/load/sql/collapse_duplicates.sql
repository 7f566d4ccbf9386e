-- grain: the temp table dd: one row per distinct row of a new_<table> (exact duplicates collapsed), with the first source row number. Slots: cols, the contract table's columns; n, the table
create temp table dd as select min(_row) as _row, {cols} from {n} group by all
