"""Builds the SQL views of analytics/sql/ on a connection, in one explicit order.

Views are temporary (per connection) rather than stored in the file: a read-only connection can
create them, and an upgraded release never meets stale view text inside an old store.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import store
from analytics.store import instruments as registry
from analytics.store.marts import MART_ADDED_COLUMNS, MART_ORDER
from analytics.store.sqlfiles import store_query, store_sql

# Dependencies first. Each file's first line states its grain and inputs.
VIEW_ORDER = [
    "pair_facts",
    "sessions_clean",
    "sessions_outside_pair_dates",
    "assessments_timed",
]


def view_sql(name: str) -> str:
    return store_sql("views", name)


def instrument_registry_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The instruments reported (analytics.store.instruments.reported), with the definitions the store keeps."""
    return pd.DataFrame(
        [
            {
                "position": pos,
                "code": i.code,
                "name": i.name,
                "min_score": float(i.min_score),
                "max_score": float(i.max_score),
                "higher_is_better": i.higher_is_better,
                "reliability": float(i.reliability),
                "mcid": i.mcid,
                "threshold": i.threshold,
            }
            for pos, i in enumerate(registry.reported(con).values())
        ],
        columns=["position", "code", "name", "min_score", "max_score", "higher_is_better", "reliability", "mcid", "threshold"],
    ).astype({"mcid": "float64", "threshold": "float64"})


class StoreOutdated(RuntimeError):
    """The store was written by an older release (no marts): a rebuild or any load fixes it."""


def outdated_reason(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the store is not of this release (no marts, or not all of them; no instrument
    registry), or None when it is."""
    params = {"marts": MART_ORDER, "columns": MART_ADDED_COLUMNS}
    has_marts = store.one_row(con.execute(store_query("has_marts"), params))[0]
    if not has_marts:
        return ("this store was written by an older release: open it once in the dashboard (which"
                " rebuilds its summary tables), load any export again, or rebuild the demo"
                " (python -m analytics demo), to bring it up to date")
    if not registry.has_table(con):
        return ("this store was written by an older release (no instrument registry): open it once in"
                " the dashboard, load any export again, or rebuild the demo (python -m analytics demo),"
                " to bring it up to date")
    return None


def check_current(con: duckdb.DuckDBPyConnection) -> None:
    """StoreOutdated unless the store has the marts and the instrument registry of this release."""
    reason = outdated_reason(con)
    if reason is not None:
        raise StoreOutdated(reason)


def checked_registry_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``instrument_registry_frame`` of a store of this release (StoreOutdated otherwise): what
    ``build_views`` registers, for a caller that keeps it for the life of one store version."""
    check_current(con)
    return instrument_registry_frame(con)


def build_views(con: duckdb.DuckDBPyConnection, registry_frame: pd.DataFrame | None = None) -> duckdb.DuckDBPyConnection:
    """Create the registry table and every view on this connection (or cursor); returns it.

    ``registry_frame``: the store's ``checked_registry_frame``, when the caller already has it
    for this version of the store (reading the registry is most of the cost of a cursor)."""
    if registry_frame is None:
        registry_frame = checked_registry_frame(con)
    con.register("instrument_registry_src", registry_frame)
    con.execute(store_query("instrument_registry_table"))
    con.unregister("instrument_registry_src")
    for name in VIEW_ORDER:
        con.execute(view_sql(name))
    return con


def analysis_connection(
    con: duckdb.DuckDBPyConnection, registry_frame: pd.DataFrame | None = None
) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` with the views built: cursors do not share temp objects.
    ``registry_frame``: as for ``build_views``."""
    return build_views(store.use_store(con.cursor()), registry_frame)
