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
from analytics.load.sqltext import Frag, join, render

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
    stored = con.execute(render("select count(*) from {t}", t=table.name)).fetchone()[0]
    if stored == 0:  # the first load of a table: no join needed
        n = con.execute(render("select count(*) from {n}", n=new)).fetchone()[0]
        con.execute(render("create temp view {c} as select *, 'inserted' as _change from {n}", c=chg, n=new))
        return Changes(inserted=n)
    con.execute(render(
        "create temp table {c} as select n.*, case when s.{k} is null then 'inserted' when {same} "
        "then 'unchanged' else 'updated' end as _change from {n} n left join {t} s on s.{k} = n.{k}",
        c=chg, k=table.key, same=_same_row(table), n=new, t=table.name,
    ))
    counts = dict(con.execute(render("select _change, count(*) from {c} group by 1", c=chg)).fetchall())
    return Changes(counts.get(INSERTED, 0), counts.get(UPDATED, 0), counts.get(UNCHANGED, 0))


def write(con: duckdb.DuckDBPyConnection, table: contract.Table, changes: Changes) -> None:
    chg = "chg_" + table.name
    cols = join([Frag(c) for c in table.column_names])
    if changes.updated:
        con.execute(render(
            "delete from {t} where {k} in (select {k} from {c} where _change = 'updated')",
            t=table.name, k=table.key, c=chg,
        ))
    if changes.changed:
        con.execute(render(
            "insert into {t} ({cols}) select {cols} from {c} where _change <> 'unchanged'",
            t=table.name, cols=cols, c=chg,
        ))


def _effective_pairs(loaded: set[str]) -> Frag:
    """Pairs as they will be after this load: the load's rows, else the store's."""
    if "pairs" not in loaded:
        return Frag("(select pair_id, matched_on, closed_on from pairs)")
    return Frag(
        "(select pair_id, matched_on, closed_on from new_pairs union all "
        "select pair_id, matched_on, closed_on from pairs s "
        "where not exists (select 1 from new_pairs n where n.pair_id = s.pair_id))"
    )


def flagged_sessions(con: duckdb.DuckDBPyConnection, loaded: set[str]) -> int:
    """Sessions of this load dated outside their pair's match (kept, flagged)."""
    if "sessions" not in loaded:
        return 0
    return con.execute(render(
        "select count(*) from new_sessions s join {p} p on p.pair_id = s.pair_id "
        "where s.session_date < p.matched_on or s.session_date > p.closed_on",
        p=_effective_pairs(loaded),
    )).fetchone()[0]


def refresh_findings(con: duckdb.DuckDBPyConnection, load_id: int) -> int:
    """Recompute the sessions-outside-their-pair findings for the whole store.

    A later pairs load can move a match's dates, so findings are rebuilt from the tables rather
    than accumulated. Returns how many sessions are flagged now.
    """
    params = {"finding": FINDING_SESSION_OUTSIDE_PAIR, "load_id": load_id}
    con.execute("delete from dq_findings where finding = $finding", {"finding": FINDING_SESSION_OUTSIDE_PAIR})
    con.execute(
        "insert into dq_findings (finding, table_name, record_id, detail, load_id) "
        "select $finding, 'sessions', s.session_id, "
        "case when s.session_date < p.matched_on then 'before the pair was matched' "
        "else 'after the pair was closed' end, $load_id "
        "from sessions s join pairs p on p.pair_id = s.pair_id "
        "where s.session_date < p.matched_on or s.session_date > p.closed_on",
        params,
    )
    return con.execute(
        "select count(*) from dq_findings where finding = $finding", {"finding": FINDING_SESSION_OUTSIDE_PAIR}
    ).fetchone()[0]


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select coalesce(max(load_id), 0) + 1 from load_audit").fetchone()[0]


def previous_load_of(con: duckdb.DuckDBPyConnection, hashes: dict[str, str]) -> datetime | None:
    """When these exact files were last loaded with an effect, if every one of them was."""
    latest: datetime | None = None
    for table, sha in hashes.items():
        row = con.execute(
            "select max(a.loaded_at) from load_audit a join load_audit_tables t using (load_id) "
            "where t.table_name = ? and t.file_sha256 = ? and a.outcome = 'loaded'",
            [table, sha],
        ).fetchone()
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
        "insert into load_audit (load_id, loaded_at, loaded_by, source, outcome, note, mapping_profile, "
        "mapping_sha256) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, loaded_at, loaded_by, source, outcome, note, mapping_profile, mapping_sha256],
    )
    con.executemany(
        "insert into load_audit_tables (load_id, table_name, file_sha256, rows_read, inserted, updated, "
        "unchanged, duplicates_removed, rejected, flagged, dropped_columns) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [load_id, t.table, t.file_sha256, t.rows_read, t.inserted, t.updated, t.unchanged,
             t.duplicates_removed, t.rejected, t.flagged, ", ".join(t.dropped_columns)]
            for t in tables
        ],
    )
