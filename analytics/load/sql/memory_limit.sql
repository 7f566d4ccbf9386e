-- grain: the database's memory limit for this load, in bytes (beyond it, tables and joins spill to its temporary folder)
set memory_limit = $limit
