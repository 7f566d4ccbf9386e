"""Engagement (METRICS.md "Engagement"): sessions of pairs in scope dated in [S, E].

Flagged sessions (outside their pair's dates) are excluded: the scope's `sessions_in_scope` reads
the `sessions_clean` rule from the mart's `inside_pair_dates` flag.
Every function returns one row per group (`grp`; the single group "all" when not grouped).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.scope import Scope
from analytics.metrics.queries import query
from analytics.metrics.scope import run

_PAIR_COUNTS = query("engagement_pair_counts")


def pair_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Pairs in scope, participants in scope, pairs matched in [S, E], active at E."""
    return run(con, scope, _PAIR_COUNTS)


# Each pair's sums of its sessions (pair_session_sums, shared with mentors), then per group.
_TOTALS = query("pair_session_sums") + query("engagement_totals")


def engagement_totals(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Attended, no-show, cancelled, attendance rate, contact hours, pair-days, sessions per
    pair-month and the median days to first session, one row per group."""
    return run(con, scope, _TOTALS)


_MONTHLY = query("engagement_monthly")


def engagement_by_month(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Active pairs, attended/no-show/cancelled sessions and attendance rate per calendar month."""
    return run(con, scope, _MONTHLY)


_MODALITY = query("engagement_modality")


def attended_by_modality(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    return run(con, scope, _MODALITY)
