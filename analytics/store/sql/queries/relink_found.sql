-- grain: one row: how many distinct pseudonyms of the bound list the store holds in one id column (relink's key check); the table and column placeholders are filled from relink.ID_COLUMNS, the pseudonyms are bound
select count(*)
from (select distinct unnest(?::varchar[]) as id) as r
where r.id in (select {column} from {table})
