-- grain: a part of reference_orphans: keeps the rows n whose reference matches no key of one parent table (stored, or new_ for this load's rows; a null reference matches none). Slots: p, the parent; a, its alias; k, the parent's key; c, the reference column
anti join {p} {a} on n.{c} = {a}.{k}
