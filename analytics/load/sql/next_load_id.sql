-- grain: one row: the id of the next load (one more than the latest, 1 for the first)
select coalesce(max(load_id), 0) + 1 from load_audit
