"""Data-quality findings for the Data page: counts per site, never a list of people.

- session_outside_pair_dates: sessions dated before their pair's matched_on or after its
  closed_on (kept at load, excluded from every metric).
- no_baseline: participants in scope with no assessment of an instrument on or before A.
- overdue_followup: participants with a pair open at A, a baseline more than 120 days before A,
  and no assessment of that instrument in the last 120 days (follow-ups are due every 90 days;
  30 days of grace).
- no_recent_session: pairs open at A, matched 30 or more days before A, with no attended
  session in the 30 days up to A (none in [A - 29, A]); the Needs attention page lists them
  (analytics.metrics.attention).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.scope import Scope
from analytics.metrics.scope import run

FOLLOWUP_DUE_DAYS = 90
FOLLOWUP_GRACE_DAYS = 30
NO_SESSION_DAYS = 30

FINDINGS = {
    "session_outside_pair_dates": "Sessions dated outside their pair's match dates (excluded from metrics)",
    "no_baseline": "Participants in scope with no baseline assessment",
    "overdue_followup": "Participants with an open pair whose follow-up assessment is overdue",
    "no_recent_session": "Open pairs with no attended session in the last 30 days",
}

# grain: one row per finding, instrument ('' when not instrument-specific) and site.
_FINDINGS = """
participants_in_scope as (
    select distinct participant_key, site from pairs_in_scope
),

outside as (
    select 'session_outside_pair_dates' as finding, '' as instrument, p.site, count(*) as n
    from sessions_outside_pair_dates as o
    inner join pairs_at as p on p.pair_key = o.pair_key
    cross join scope_params as sp
    where o.session_date <= sp.a
    group by p.site
),

latest as (
    select a.participant_key, a.instrument, min(a.administered_on) as first_on, max(a.administered_on) as last_on
    from assessments_timed as a, scope_params as sp
    where a.administered_on <= sp.a
    group by a.participant_key, a.instrument
),

no_baseline as (
    select 'no_baseline' as finding, r.code as instrument, ps.site, count(*) as n
    from participants_in_scope as ps
    cross join instrument_registry as r
    left join latest as l on l.participant_key = ps.participant_key and l.instrument = r.code
    where l.participant_key is null
    group by r.code, ps.site
),

open_participants as (
    select distinct participant_key, site from pairs_at where closed_at is null
),

overdue as (
    select 'overdue_followup' as finding, l.instrument, op.site, count(*) as n
    from open_participants as op
    inner join latest as l on l.participant_key = op.participant_key
    cross join scope_params as sp
    where l.first_on < sp.a - $overdue_days::integer
      and l.last_on < sp.a - $overdue_days::integer
    group by l.instrument, op.site
),

no_recent as (
    select 'no_recent_session' as finding, '' as instrument, p.site, count(*) as n
    from pairs_at as p
    cross join scope_params as sp
    where p.closed_at is null
      and p.matched_on <= sp.a - $no_session_days::integer
      and not exists (
          select 1 from sessions_clean as s
          where s.pair_key = p.pair_key and s.status = 'attended'
            and s.session_date > sp.a - $no_session_days::integer and s.session_date <= sp.a
      )
    group by p.site
)

select * from outside
union all select * from no_baseline
union all select * from overdue
union all select * from no_recent
order by finding, instrument, site
"""


def quality_findings(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Columns: finding, description, instrument, site, n."""
    df = run(
        con,
        scope,
        _FINDINGS,
        {
            "overdue_days": FOLLOWUP_DUE_DAYS + FOLLOWUP_GRACE_DAYS,
            "no_session_days": NO_SESSION_DAYS,
        },
    )
    df.insert(1, "description", df["finding"].map(FINDINGS))
    return df
