-- grain: one row per pair in scope, with its stable source ids (the scope carries them); the fingerprint's scope_pairs
scope_pairs as (
    select * from pairs_in_scope
),
