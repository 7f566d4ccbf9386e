-- grain: one row: how many instrument definitions the store keeps (0 before the built-in ones are seeded)
select count(*) from instrument_definitions
