-- grain: the temp table chg_<table>: one row per row of new_<table>, marked inserted (key not stored), unchanged (stored with the same values) or updated. Slots: c, the table made; k, the key; same, the all-columns-equal test; n, the new_ table; t, the stored table
create temp table {c} as
select n.*, case when s.{k} is null then 'inserted' when {same} then 'unchanged' else 'updated' end as _change
from {n} n left join {t} s on s.{k} = n.{k}
