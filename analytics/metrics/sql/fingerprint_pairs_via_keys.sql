-- grain: one row per pair in scope, its stable source ids from the key tables (the marts' integer keys are renumbered when pairs are added, ids are not); the fingerprint's scope_pairs
scope_pairs as (
    select p.*, mp.pair_id, mpt.participant_id
    from pairs_in_scope as p
    inner join mart_pairs as mp on mp.pair_key = p.pair_key
    inner join mart_participants as mpt on mpt.participant_key = p.participant_key
),
