-- grain: one row per instrument reported, in the registry's order (the connection's instrument_registry table)
select * from instrument_registry order by position
