-- grain: the store file at the bound path, attached read-only as the catalog "store" (store.STORE_ALIAS)
attach ? as store (read_only)
