-- grain: the temp view chg_<table>: one row per row of new_<table>, all inserted (the first load of a table). Slots: c, the view made; n, the new_ table
create temp view {c} as select *, 'inserted' as _change from {n}
