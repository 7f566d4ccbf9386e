-- grain: one row: the first row of a new_<table> (alias n) whose reference names no key of its parent table, stored or in this load, and how many rows do (count 0, row null, when every reference resolves). Slots: n, the new_ table; anti, one reference_anti_join per place the parent's keys are
select min(n._row), count(*) from {n} n {anti}
