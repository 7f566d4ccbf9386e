"""The metric queries: one file each in analytics/metrics/sql/, the first line stating its grain
(what one row is). Metric functions compose them after the scope CTEs (``scope.run``); they
hold no SQL text of their own."""

from __future__ import annotations

from pathlib import Path

from analytics.store.sqlfiles import read

SQL_DIR = Path(__file__).resolve().parent / "sql"


def query(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return read(SQL_DIR, name)
