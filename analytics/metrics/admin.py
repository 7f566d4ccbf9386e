"""Store facts for the Data page and banners: load history, demo flag, data as-of, filter choices."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import store
from analytics.metrics.queries import query
from analytics.metrics.scope import data_bounds

_HISTORY = query("admin_history")


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per load, newest first."""
    return con.execute(_HISTORY).df()


_SIZES = query("admin_sizes")


def store_info(con: duckdb.DuckDBPyConnection) -> dict:
    """Whether the store is the synthetic demo, the data bounds and table sizes."""
    bounds = data_bounds(con)
    sizes = dict(con.execute(_SIZES).fetchall())
    return {
        "is_demo": store.get_meta(con, "is_demo") == "true",
        "schema_version": store.get_meta(con, "schema_version"),
        "latest_session": bounds["latest_session"],
        "earliest_match": bounds["earliest_match"],
        "rows": sizes,
    }


# The values a sidebar filter offers, from the store (never typed by hand). $sites (a list, or
# null for every site) keeps a user with some sites from learning what exists at the others.
_CHOICES = {col: query(f"admin_choices_{col}") for col in ("site", "funding_stream", "supervisor")}


def filter_choices(con: duckdb.DuckDBPyConnection, sites: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """Distinct sites, funding streams and supervisors, at `sites` only when given."""
    params = {"sites": list(sites) if sites is not None else None}
    return {k: [r[0] for r in con.execute(sql, params).fetchall()] for k, sql in _CHOICES.items()}
