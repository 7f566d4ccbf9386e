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
    from cohort_pairs as cp, (select range::integer as k from range(12)) as r, scope_params as sp
    -- METRICS.md: count only pairs whose window ends on or before A
    where cp.matched_on + 30 * k + 29 <= sp.a
),

attended_in_window as (
    -- the window of each attended session: (session_date - matched_on) // 30
    select distinct s.pair_key, (date_diff('day', s.matched_on, s.session_date) // 30)::integer as k
    from sessions_in_scope as s
    where s.status = 'attended' and s.pair_matched_in_period
)

select
    w.grp,
    w.cohort_month,
    w.k,
    count(*) as pairs,
    count(a.pair_key) as pairs_attending,
    count(a.pair_key) / count(*) as share
from windows as w
left join attended_in_window as a on a.pair_key = w.pair_key and a.k = w.k
group by w.grp, w.cohort_month, w.k
order by w.grp, w.cohort_month, w.k
