"""Marts: tables derived from the six contract tables, rebuilt inside every write.

They carry dense integer keys (pair_key, participant_key) so that the metric queries join
millions of sessions on integers rather than on 23-character pseudonyms, which DuckDB stores
compressed and must decompress on every read (about 5x slower at 6 million sessions). They are
rebuilt whole by `store.swap_writer` before the swap, so they always match the tables.
"""

from __future__ import annotations

import duckdb

from analytics.store.sqlfiles import store_sql

# Dependencies first; each file's first line states its grain and inputs.
MART_ORDER = [
    "mart_participants", "mart_pairs", "mart_session_kinds", "mart_sessions", "mart_pair_sessions", "mart_goals",
    "mart_assessments", "mart_participant_attended", "mart_assessment_span",
]

# Columns added to a mart after the release that first built it, as "table.column": a store
# whose marts lack one was written by an older release, and is brought up to date like a store
# without a mart (views.outdated_reason).
MART_ADDED_COLUMNS = [
    "mart_pair_sessions.last_attended", "mart_pair_sessions.attended_windows", "mart_participants.exited_on",
    "mart_sessions.month_start", "mart_sessions.kind", "mart_assessment_span.latest_dose",
]


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    for name in MART_ORDER:
        con.execute(store_sql("marts", name))
