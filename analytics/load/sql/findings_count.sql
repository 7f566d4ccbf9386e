-- grain: one row: how many findings of the bound kind the store keeps
select count(*) from dq_findings where finding = $finding
