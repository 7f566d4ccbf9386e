-- grain: the kept findings of the bound kind, deleted (they are rebuilt from the tables)
delete from dq_findings where finding = $finding
