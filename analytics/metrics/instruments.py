"""The instrument registry in force in the store (analytics.store.instruments), as a frame for pages.

One row per instrument the latest load's registry defines, in its order, with `reported`
(GSE10 and BARC10 always, and every other instrument with at least one assessment in the
store: analytics.store.instruments.reported_codes). No counts: the definitions are the program's, not its people's.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain import instruments as registry
from analytics.domain.scope import Scope
from analytics.store import instruments as stored_registry

COLUMNS = (
    "code", "name", "min_score", "max_score", "higher_is_better", "reliability", "mcid", "threshold",
    "construct", "items", "source", "origin", "reported",
)


def instrument_registry(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> pd.DataFrame:
    """The stored registry (the scope does not change it: it is the same for every filter)."""
    stored = stored_registry.stored(con)
    reported = stored_registry.reported(con)
    entries = {**stored, **{c: i for c, i in reported.items() if c not in stored}}
    rows = [
        {
            "code": i.code, "name": i.name, "min_score": i.min_score, "max_score": i.max_score,
            "higher_is_better": i.higher_is_better, "reliability": i.reliability, "mcid": i.mcid,
            "threshold": i.threshold, "construct": i.construct, "items": i.items, "source": i.source,
            "origin": i.origin, "reported": c in reported,
        }
        for c, i in entries.items()
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"mcid": "float64", "threshold": "float64"})


def from_frame(df: pd.DataFrame, reported_only: bool = True) -> registry.Registry:
    """The Instrument entries of an instrument_registry frame (the reported ones by default)."""
    out: registry.Registry = {}
    for r in df.to_dict("records"):
        if reported_only and not r["reported"]:
            continue
        out[r["code"]] = registry.Instrument(
            code=r["code"], name=r["name"], min_score=float(r["min_score"]), max_score=float(r["max_score"]),
            higher_is_better=bool(r["higher_is_better"]), reliability=float(r["reliability"]),
            construct=r["construct"] or "", items=r["items"] or "",
            mcid=None if pd.isna(r["mcid"]) else float(r["mcid"]),
            threshold=None if pd.isna(r["threshold"]) else float(r["threshold"]),
            source=r["source"] or "", origin=r["origin"] or "",
        )
    return out
