"""One way for tests to read a store as the metrics do: a read-only connection with the
analysis views built on a cursor, both closed when the block ends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from analytics import store
from analytics.store import views


@contextlib.contextmanager
def analysis_cursor(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = store.connect_read(path)
    cur = views.analysis_connection(con)
    try:
        yield cur
    finally:
        cur.close()
        con.close()
