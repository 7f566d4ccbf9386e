"""The store's copy of the instrument registry: the definitions each load used.

Each load writes the registry it used (analytics.domain.instruments.InForce) into
`instrument_definitions` under its load_id; every metric reads the latest load's definitions
(`stored`), and `reported` is the one list of instruments every metric, page and report iterates
(METRICS.md: GSE10 and BARC10 always, and every other instrument with at least one assessment in
the store). `check_fits_store` refuses a registry that does not fit the data already stored.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from analytics.domain.instruments import (
    ALWAYS_REPORTED,
    InForce,
    Instrument,
    Registry,
    RegistryError,
    builtin,
)
from analytics.store.sqlfiles import store_query, store_sql

_COLUMNS = (
    "code", "name", "min_score", "max_score", "higher_is_better", "reliability", "mcid",
    "threshold", "construct", "items", "source", "origin",
)

CREATE_TABLE = store_sql("schema", "instrument_definitions")


def write(con: duckdb.DuckDBPyConnection, load_id: int, registry: Mapping[str, Instrument]) -> None:
    """Keep the definitions a load used, under its load_id."""
    rows = [
        [load_id, pos, *(i.code, i.name, i.min_score, i.max_score, i.higher_is_better,
                         i.reliability, i.mcid, i.threshold, i.construct, i.items, i.source, i.origin)]
        for pos, i in enumerate(registry.values())
    ]
    con.executemany(store_query("instrument_definitions_write"), rows)


def seed_builtin(con: duckdb.DuckDBPyConnection) -> None:
    """Migration step: a store written before the registry was kept gets the built-in entries
    under load 0 (GSE10 and BARC10 carry the same ranges, directions and r as before)."""
    con.execute(CREATE_TABLE)
    if not con.execute(store_query("instrument_definitions_count")).fetchall()[0][0]:
        write(con, 0, builtin())


def has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return _has_table(con, "instrument_definitions")


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(store_query("has_table"), [name]).fetchall()[0][0])


def stored(con: duckdb.DuckDBPyConnection) -> Registry:
    """The registry in force in a store: the definitions the latest load used (empty when none)."""
    if not has_table(con):
        return {}
    rows = con.execute(store_query("instrument_definitions_latest")).fetchall()
    out: Registry = {}
    for row in rows:
        d = dict(zip(_COLUMNS, row, strict=True))
        out[d["code"]] = Instrument(
            code=d["code"], name=d["name"], min_score=float(d["min_score"]), max_score=float(d["max_score"]),
            higher_is_better=bool(d["higher_is_better"]), reliability=float(d["reliability"]),
            construct=d["construct"] or "", items=d["items"] or "", mcid=d["mcid"], threshold=d["threshold"],
            source=d["source"] or "", origin=d["origin"] or "",
        )
    return out


def with_data(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The instruments with at least one assessment in the store."""
    return {r[0] for r in con.execute(store_query("instruments_with_data")).fetchall()}


def reported_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The instruments reported everywhere (outcomes, groups, attrition, tests.change):
    GSE10 and BARC10 always, and every other instrument with at least one assessment in the
    store, in the registry's order."""
    registry = stored(con)
    present = with_data(con)
    codes = [c for c in ALWAYS_REPORTED]
    codes += [c for c in registry if c not in ALWAYS_REPORTED and c in present]
    # a stored score of an instrument the registry lost cannot happen (loads refuse it); kept last
    codes += sorted(c for c in present if c not in codes)
    return codes


def reported(con: duckdb.DuckDBPyConnection) -> Registry:
    """reported_codes with their stored definitions (built-in entries for GSE10/BARC10 when a
    store has none yet)."""
    registry = stored(con)
    fallback = builtin()
    return {c: registry.get(c) or fallback[c] for c in reported_codes(con) if c in registry or c in fallback}


def check_fits_store(con: duckdb.DuckDBPyConnection, registry: InForce) -> None:
    """Refuse a registry that would put stored scores out of range, flip the direction of an
    instrument with stored data, or leave a stored instrument undefined."""
    if not _has_table(con, "assessments"):
        return
    previous = stored(con)
    rows = con.execute(store_query("assessment_ranges")).fetchall()
    for code, lo, hi, n in rows:
        inst = registry.instruments.get(code)
        if inst is None:
            raise RegistryError(
                f"the store holds {n:,} {code} assessments but {registry.label} does not define {code}: "
                "add an [instruments." + code + "] entry"
            )
        if lo < inst.min_score or hi > inst.max_score:
            raise RegistryError(
                f"{registry.label}: {code} range {inst.min_score:g}-{inst.max_score:g} would put stored "
                f"{code} scores (from {lo:g} to {hi:g}) out of range"
            )
        old = previous.get(code)
        if old is not None and old.higher_is_better != inst.higher_is_better:
            raise RegistryError(
                f"{registry.label}: {code} would change direction for stored data (stored: "
                f"{old.better} is better; this file: {inst.better} is better)"
            )
