-- grain: one row: how many sessions of this load are dated outside their pair's match, the pairs as stored (this load has no pairs)
select count(*) from new_sessions s join (select pair_id, matched_on, closed_on from pairs) p on p.pair_id = s.pair_id
where s.session_date < p.matched_on or s.session_date > p.closed_on
