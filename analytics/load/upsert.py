"""Writing a validated load: upsert by key, data-quality findings, audit rows.

Runs inside the store's build-and-swap writer, in one transaction on the copy. An upsert deletes
the stored rows whose key arrives with new values and inserts new and changed rows; unchanged
rows are left alone, so loading the same export twice changes no table data. This avoids a
primary-key index, which would cost more than it saves at millions of sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from analytics.domain import contract
from analytics.load.sqltext import Frag, join, render, statement
from analytics.store import one_row

FINDING_SESSION_OUTSIDE_PAIR = "session_outside_pair_dates"

INSERTED = "inserted"
UPDATED = "updated"
UNCHANGED = "unchanged"


@dataclass
class Changes:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def _same_row(table: contract.Table) -> Frag:
    return join(
        [render("n.{c} is not distinct from s.{c}", c=c) for c in table.column_names if c != table.key], " and "
    )


def classify(con: duckdb.DuckDBPyConnection, table: contract.Table) -> Changes:
    """Mark each row of new_<table> as inserted, updated or unchanged against the store."""
    new, chg = "new_" + table.name, "chg_" + table.name
    stored = one_row(con.execute(render(statement("count_rows"), t=table.name)))[0]
    if stored == 0:  # the first load of a table: no join needed
        n = one_row(con.execute(render(statement("count_rows"), t=new)))[0]
        con.execute(render(statement("classify_first"), c=chg, n=new))
        return Changes(inserted=n)
    con.execute(render(statement("classify"), c=chg, k=table.key, same=_same_row(table), n=new, t=table.name))
    counts = dict(con.execute(render(statement("change_counts"), c=chg)).fetchall())
    return Changes(counts.get(INSERTED, 0), counts.get(UPDATED, 0), counts.get(UNCHANGED, 0))


def write(con: duckdb.DuckDBPyConnection, table: contract.Table, changes: Changes) -> None:
    chg = "chg_" + table.name
    cols = join([Frag(c) for c in table.column_names])
    if changes.updated:
        con.execute(render(statement("delete_updated"), t=table.name, k=table.key, c=chg))
    if changes.changed:
        con.execute(render(statement("insert_changed"), t=table.name, cols=cols, c=chg))


def flagged_sessions(con: duckdb.DuckDBPyConnection, loaded: set[str]) -> int:
    """Sessions of this load dated outside their pair's match (kept, flagged), the pairs as they
    will be after this load: the load's rows, else the store's."""
    if "sessions" not in loaded:
        return 0
    name = "flagged_sessions_with_new_pairs" if "pairs" in loaded else "flagged_sessions"
    return one_row(con.execute(statement(name)))[0]


def refresh_findings(con: duckdb.DuckDBPyConnection, load_id: int) -> int:
    """Recompute the sessions-outside-their-pair findings for the whole store.

    A later pairs load can move a match's dates, so findings are rebuilt from the tables rather
    than accumulated. Returns how many sessions are flagged now.
    """
    params = {"finding": FINDING_SESSION_OUTSIDE_PAIR, "load_id": load_id}
    con.execute(statement("findings_clear"), {"finding": FINDING_SESSION_OUTSIDE_PAIR})
    con.execute(statement("findings_insert"), params)
    return one_row(con.execute(statement("findings_count"), {"finding": FINDING_SESSION_OUTSIDE_PAIR}))[0]


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return one_row(con.execute(statement("next_load_id")))[0]


def previous_load_of(con: duckdb.DuckDBPyConnection, hashes: dict[str, str]) -> datetime | None:
    """When these exact files were last loaded with an effect, if every one of them was."""
    latest: datetime | None = None
    for table, sha in hashes.items():
        row = one_row(con.execute(statement("previous_load"), [table, sha]))
        if row[0] is None:
            return None
        latest = row[0] if latest is None or row[0] > latest else latest
    return latest


def write_audit(
    con: duckdb.DuckDBPyConnection, load_id: int, loaded_at: datetime, loaded_by: str, source: str,
    outcome: str, note: str, tables: list, mapping_profile: str | None = None,
    mapping_sha256: str | None = None,
) -> None:
    """One audit row per load and one per table: counts, content hashes, dropped columns, the
    mapping profile's name and hash; no values."""
    con.execute(
        statement("audit_load"),
        [load_id, loaded_at, loaded_by, source, outcome, note, mapping_profile, mapping_sha256],
    )
    con.executemany(
        statement("audit_tables"),
        [
            [load_id, t.table, t.file_sha256, t.rows_read, t.inserted, t.updated, t.unchanged,
             t.duplicates_removed, t.rejected, t.flagged, ", ".join(t.dropped_columns)]
            for t in tables
        ],
    )
