-- grain: one row per goal, keyed by its pair's integer key; inputs: goals, mart_pairs; rebuilt by every write
create or replace table mart_goals as
select p.pair_key, g.domain, g.set_on, g.target_on, g.status, g.achieved_on
from goals as g
inner join mart_pairs as p on p.pair_id = g.pair_id
