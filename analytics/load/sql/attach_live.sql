-- grain: the live store file at the bound path, attached read-only as the catalog "live" (a dry run reads it and writes nothing)
attach ? as live (read_only)
