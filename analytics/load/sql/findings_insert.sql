-- grain: one dq_findings row per stored session dated before its pair was matched or after it closed, under the bound finding and load id
insert into dq_findings (finding, table_name, record_id, detail, load_id)
select $finding, 'sessions', s.session_id,
    case when s.session_date < p.matched_on then 'before the pair was matched' else 'after the pair was closed' end,
    $load_id
from sessions s join pairs p on p.pair_id = s.pair_id
where s.session_date < p.matched_on or s.session_date > p.closed_on
