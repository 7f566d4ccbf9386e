-- grain: a table of the load dropped (a staging table or a pseudonym map: the source ids leave with it). Slots: t, the table
drop table {t}
