-- grain: one row, or none: the first row that repeats a key with different values, the first row of that key, and how many such rows. Slots: k, the key column; n, the new_<table>
select _row, first_row, count(*) over ()
from (select _row, row_number() over (partition by {k} order by _row) as rn,
      min(_row) over (partition by {k}) as first_row from {n})
where rn > 1
order by _row
limit 1
