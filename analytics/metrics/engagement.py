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
from analytics.metrics.scope import run, run_arrow, run_given

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


_CELLS = query("engagement_session_cells")
# The name a caller's cells are registered under for one query (on its own cursor).
_GIVEN = "cells_given"


def session_cells(con: duckdb.DuckDBPyConnection, scope: Scope):
    """The sessions in scope dated in [S, E] counted per group, calendar month, status and
    modality, as a pyarrow Table that records its scope: for a caller computing both engagement
    by month and sessions by modality over one scope (the Engagement page), each takes them as
    ``cells`` instead of scanning the sessions again. Counts only."""
    return run_arrow(con, scope, _CELLS + "\n" + query("engagement_session_cells_select"))


def _run_cells(con: duckdb.DuckDBPyConnection, scope: Scope, body: str, cells) -> pd.DataFrame:
    if cells is None:
        return run(con, scope, _CELLS + ",\n" + body)
    return run_given(con, scope, query("engagement_session_cells_given") + ",\n" + body, None, _GIVEN, cells)


_MONTHLY = query("engagement_monthly")


def engagement_by_month(con: duckdb.DuckDBPyConnection, scope: Scope, cells=None) -> pd.DataFrame:
    """Active pairs, attended/no-show/cancelled sessions and attendance rate per calendar month.
    ``cells``: ``session_cells`` of this very scope (else counted here)."""
    return _run_cells(con, scope, _MONTHLY, cells)


_MODALITY = query("engagement_modality")


def attended_by_modality(con: duckdb.DuckDBPyConnection, scope: Scope, cells=None) -> pd.DataFrame:
    """Attended sessions in [S, E] per group and modality. ``cells``: as for
    ``engagement_by_month``."""
    return _run_cells(con, scope, _MODALITY, cells)
