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
from analytics.metrics.queries import query
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

_FINDINGS = query("quality_findings")


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
