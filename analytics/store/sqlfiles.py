"""The one reader of SQL files. Every query lives in a .sql file whose first line states its
grain (what one row is, or for a statement what it makes): analytics/metrics/sql (metrics),
analytics/store/sql/{schema,marts,views,queries} (the store) and analytics/load/sql (the load).
Python binds values as parameters; a file's ``{name}`` slots, where it has any, are filled only
with identifiers from the contract's fixed names (analytics.load.sqltext.render checks each).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STORE_SQL = Path(__file__).resolve().parent / "sql"


@cache
def read(folder: Path, name: str) -> str:
    """The text of ``<folder>/<name>.sql``."""
    return (folder / f"{name}.sql").read_text()


def store_sql(kind: str, name: str) -> str:
    """The text of ``analytics/store/sql/<kind>/<name>.sql`` (kind: schema, marts, views, queries)."""
    return read(STORE_SQL / kind, name)


def store_query(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``: the store's own small queries (grain first)."""
    return store_sql("queries", name)
