-- grain: the stored rows whose key arrives with new values, deleted (the upsert then inserts them). Slots: t, the contract table; k, its key; c, its chg_ table
delete from {t} where {k} in (select {k} from {c} where _change = 'updated')
