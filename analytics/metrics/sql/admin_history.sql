-- grain: one row per load (counts summed over its tables, as whole numbers: a sum of BIGINT is a HUGEINT, which reaches pandas as a float); no cell values exist in the audit.
select
    a.load_id, a.loaded_at, a.loaded_by, a.outcome,
    string_agg(t.table_name, ', ' order by t.table_name) as tables,
    coalesce(sum(t.inserted), 0)::bigint as inserted,
    coalesce(sum(t.updated), 0)::bigint as updated,
    coalesce(sum(t.unchanged), 0)::bigint as unchanged,
    coalesce(sum(t.duplicates_removed), 0)::bigint as duplicates_removed,
    coalesce(sum(t.flagged), 0)::bigint as flagged,
    string_agg(nullif(t.dropped_columns, ''), '; ') as dropped_columns
from load_audit as a
left join load_audit_tables as t using (load_id)
group by a.load_id, a.loaded_at, a.loaded_by, a.outcome
order by a.load_id desc
