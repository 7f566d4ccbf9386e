-- grain: one row per group of the scope's pairs (pairs_at), in order
g as (select distinct grp from pairs_at) select grp from g order by grp
