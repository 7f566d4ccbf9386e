-- grain: one row per instrument reported, with the definition the store keeps: the connection's registry table, from the registered frame instrument_registry_src
create or replace temp table instrument_registry as select * from instrument_registry_src
