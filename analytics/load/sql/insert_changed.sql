-- grain: one row of the stored table per new or updated row of the load. Slots: t, the contract table; cols, its columns; c, its chg_ table
insert into {t} ({cols}) select {cols} from {c} where _change <> 'unchanged'
