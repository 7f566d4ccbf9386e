-- grain: a condition on one row n of a new_<table>: its reference names no key of the parent table (a part of rule_scan). Slots: p, the parent (stored, or new_ for this load's rows); a, its alias; k, the parent's key; c, the reference column
not exists (select 1 from {p} {a} where {a}.{k} = n.{c})
