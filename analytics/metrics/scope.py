"""The time frame and filters every metric is computed over (METRICS.md "Time frame").

A `Scope` carries the as-of date A, the period [S, E], the filters and an optional grouping
dimension. `SCOPE_CTES` is the SQL prefix every metric query starts with; all values in it are
bound parameters, and the grouping dimension is chosen by a CASE over an allow-list, so no
value or name from a user is ever pasted into SQL.
"""

from __future__ import annotations

import json
import warnings
from datetime import date

import duckdb

from analytics.domain.scope import (
    Filters,
    Scope,
    ScopeError,
)
from analytics.metrics.queries import query
from analytics.store import one_row

SCOPE_CTES = query("scope_ctes")
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def _statement(scope: Scope, body: str, extra: dict | None) -> tuple[str, dict]:
    params = scope.params()
    if extra:
        params.update(extra)
    sql = "with " + SCOPE_CTES + ",\n" + body
    # DuckDB refuses named parameters the statement does not use, so bind only those present.
    return sql, {k: v for k, v in params.items() if f"${k}" in sql}


def run(con: duckdb.DuckDBPyConnection, scope: Scope, body: str, extra: dict | None = None, *,
        as_arrow: bool = False):
    """Run `with <scope ctes>, <body>` with the scope's bound parameters; returns a DataFrame
    (a pyarrow Table with ``as_arrow``: for many rows read as arrays, no Python object a cell).

    `body` is constant SQL text written in this package (never user input).
    """
    sql, used = _statement(scope, body, extra)
    result = con.execute(sql, used)
    return result.to_arrow_table() if as_arrow else result.df()


def _made_for(scope: Scope, extra: dict | None) -> bytes:
    """What rows kept by ``run_arrow`` were computed over: the scope's parameters and the
    settings, as text (recorded in the table, checked by ``run_given``)."""
    return json.dumps({**scope.params(), **(extra or {})}, sort_keys=True, default=str).encode()


def run_arrow(con: duckdb.DuckDBPyConnection, scope: Scope, body: str, extra: dict | None = None):
    """`run`, returning a pyarrow Table: rows kept to be queried again (``run_given``), not
    read in Python. The table records the scope and settings it was computed over."""
    # DuckDB warns that a statement's Arrow output is copied once (a relation's is not); a
    # relation is refused while the cursor has an unfinished result, and the copy is cheap
    # (hundredths of a second at L), so the statement it is.
    rows = run(con, scope, body, extra, as_arrow=True)
    return rows.replace_schema_metadata({"made_for": _made_for(scope, extra)})


def made_over(rows, scope: Scope, settings: dict | None) -> bool:
    """Whether `rows` (``run_arrow``'s table) were computed over `scope` with `settings`."""
    return (rows.schema.metadata or {}).get(b"made_for") == _made_for(scope, settings)


def run_given(con: duckdb.DuckDBPyConnection, scope: Scope, body: str, extra: dict | None, name: str, rows,
              made_with: dict | None = None, over: Scope | None = None, *, as_arrow: bool = False):
    """`run` with `rows` (``run_arrow``'s table over this very scope, or over `over` when
    given, with the settings `made_with`, default `extra`) registered on the cursor as `name`
    for this one query. Rows computed over another scope or with other settings are refused
    (ValueError): they would give another scope's numbers."""
    if not made_over(rows, scope if over is None else over, extra if made_with is None else made_with):
        raise ValueError("the rows given were computed over another scope or with other settings")
    con.register(name, rows)
    try:
        return run(con, scope, body, extra, as_arrow=as_arrow)
    finally:
        con.unregister(name)


def rows_by(frame, *keys: str) -> dict:
    """Each row of a query's result as a dict, found by its values of `keys` (one value: that
    value; several: a tuple). For a metric that reads one row per group and instrument: a
    boolean filter of the whole result per key made a grouping by mentor take time growing
    with the square of the groups (14 s for 4,785 mentors at L). The keys are unique in the
    result (a GROUP BY of them); a repeated one is refused."""
    records = frame.to_dict("records")
    found = {(r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys)): r for r in records}
    if len(found) != len(records):
        raise ValueError(f"rows_by: the result repeats a value of {keys}")
    return found


def data_bounds(con: duckdb.DuckDBPyConnection) -> dict:
    """Store-wide defaults: A = latest session_date, S = earliest matched_on (before filters);
    and the latest date of any kind the store holds (an as-of after it is refused)."""
    row = one_row(con.execute(query("scope_bounds")))
    dates = [d for d in (row[0], *row[2:]) if d is not None]
    return {"latest_session": row[0], "earliest_match": row[1], "latest_match": row[2],
            "latest_data": max(dates) if dates else None}


def _as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ScopeError(f"not a date (YYYY-MM-DD): {value}") from exc


def resolve_scope(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of=None,
    start=None,
    end=None,
    filters: Filters | dict | None = None,
    by: str | None = None,
) -> Scope:
    """Fill the METRICS.md defaults: A = latest session, S = earliest match, E = A."""
    bounds = data_bounds(con)
    a = _as_date(as_of) or bounds["latest_session"] or bounds["latest_match"]
    if a is None:
        raise ScopeError("the store holds no pairs yet: load exports first")
    if as_of not in (None, ""):
        # A cut-off after the data would call open pairs active, and every rate "as of" a day
        # nothing is known about: refused on every command and page alike.
        latest, today = bounds["latest_data"], date.today()
        if a > today:
            raise ScopeError(f"as-of {a} is in the future (today is {today}); choose a date on or before today")
        if latest is not None and a > latest:
            raise ScopeError(
                f"as-of {a} is after the latest data in the store ({latest}); choose a date on or before it"
            )
    e = _as_date(end) or a
    s = _as_date(start) or bounds["earliest_match"] or e
    if e > a:
        raise ScopeError(f"end {e} is after the as-of date {a}")
    if s > e:
        raise ScopeError(f"start {s} is after end {e}")
    if not isinstance(filters, Filters):
        filters = Filters.from_mapping(filters)
    scope = Scope(as_of=a, start=s, end=e, filters=filters)
    return scope.grouped(by)
