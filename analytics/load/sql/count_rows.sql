-- grain: one row: how many rows a table has. Slots: t, the table (a contract table, one made by the load, or dd)
select count(*) from {t}
