-- grain: one row per kind of change (inserted, updated, unchanged) of a chg_<table>: how many rows. Slots: c, the chg_ table
select _change, count(*) from {c} group by 1
