-- grain: one row per group, match month and 30-day window k = 0..11.
cohort_pairs as (
    select p.grp, p.pair_key, p.matched_on, date_trunc('month', p.matched_on)::date as cohort_month
    from pairs_matched_in_period as p
),

windows as (
    select
        cp.grp, cp.pair_key, cp.cohort_month, k,
        cp.matched_on + 30 * k as w_start,
        cp.matched_on + 30 * k + 29 as w_end
    from cohort_pairs as cp, (select range::integer as k from range(12)) as r
    -- METRICS.md: count only pairs whose window ends on or before A
    where cp.matched_on + 30 * k + 29 <= $as_of::date
),

attended_windows as (
    -- per pair, the windows k (0-11) with an attended session, as bits of one integer
    -- (k = (session_date - matched_on) // 30), summed at load time in mart_pair_sessions: a
    -- window counted above ends on or before A, so all of its sessions are on or before A
    select m.pair_key, m.attended_windows as mask
    from mart_pair_sessions as m
)

select
    w.grp,
    w.cohort_month,
    w.k,
    count(*) as pairs,
    count(*) filter (where (a.mask >> w.k) & 1 = 1) as pairs_attending,
    count(*) filter (where (a.mask >> w.k) & 1 = 1) / count(*) as share
from windows as w
left join attended_windows as a on a.pair_key = w.pair_key
group by w.grp, w.cohort_month, w.k
order by w.grp, w.cohort_month, w.k
