-- grain: one row: how many sessions of this load are dated outside their pair's match, the pairs as they will be after this load (its rows, else the store's)
select count(*) from new_sessions s join (
    select pair_id, matched_on, closed_on from new_pairs
    union all
    select pair_id, matched_on, closed_on from pairs s where not exists (select 1 from new_pairs n where n.pair_id = s.pair_id)
) p on p.pair_id = s.pair_id
where s.session_date < p.matched_on or s.session_date > p.closed_on
