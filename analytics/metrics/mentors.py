"""Mentor caseloads for supervisors: one row per mentor with pairs in scope.

caseload = pairs open at E (matched on or before E, not closed on or before E, read at A).
Engagement and retention columns follow METRICS.md over each mentor's own pairs.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.contract import DISENGAGEMENT_REASONS
from analytics.domain.scope import Scope
from analytics.metrics.queries import query
from analytics.metrics.scope import run

# Each pair's sums of its sessions (pair_session_sums, shared with engagement totals), then per mentor.
_MENTORS = query("pair_session_sums") + query("mentors")


def mentor_caseloads(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Columns: mentor_id (pseudonym), site, supervisor, pairs_in_scope, caseload_at_end,
    matched_in_period, disengaged_in_period, attended, no_show, attendance_rate, contact_hours."""
    return run(con, scope, _MENTORS, {"disengagement": list(DISENGAGEMENT_REASONS)})
