"""The time frame and filters every metric is computed over (METRICS.md "Time frame").

A `Scope` carries the as-of date A, the period [S, E], the filters and an optional grouping
dimension. `SCOPE_CTES` is the SQL prefix every metric query starts with; all values in it are
bound parameters, and the grouping dimension is chosen by a CASE over an allow-list, so no
value or name from a user is ever pasted into SQL.
"""

from __future__ import annotations

from datetime import date

import duckdb

from analytics.domain.scope import (
    Filters,
    Scope,
    ScopeError,
)

# Every metric query starts with these CTEs:
#   scope_params  one row: a, s, e
#   pairs_at      pairs matched on or before A, closing read at A, filters applied, with grp
#   pairs_in_scope  matched_on <= E and (not closed at A or closed_on >= S)
#   pairs_matched_in_period  matched_on in [S, E] (a subset of pairs in scope)
#   sessions_in_scope  clean sessions of pairs in scope dated on or before A, with grp
SCOPE_CTES = """
scope_params as (
    select $as_of::date as a, $start::date as s, $end::date as e
),

pairs_at as (
    select
        pf.*,
        -- METRICS.md: anything dated after A has not happened yet, so a pair closed after A
        -- is open at A.
        case when pf.closed_on <= sp.a then pf.closed_on end as closed_at,
        case when pf.closed_on <= sp.a then pf.close_reason end as close_reason_at,
        coalesce(
            case $by::varchar
                when 'site' then pf.site
                when 'supervisor' then pf.supervisor
                when 'mentor' then pf.mentor_id
                when 'funding_stream' then pf.funding_stream
                when 'match_quarter' then pf.match_quarter
                when 'age_band' then pf.age_band
                when 'gender' then pf.gender
                when 'race_ethnicity' then pf.race_ethnicity
                else 'all'
            end,
            '(not recorded)'
        ) as grp
    from pair_facts as pf, scope_params as sp
    where pf.matched_on <= sp.a
      and ($f_site::varchar[] is null or list_contains($f_site::varchar[], pf.site))
      and ($f_funding_stream::varchar[] is null
           or list_contains($f_funding_stream::varchar[], pf.funding_stream))
      and ($f_supervisor::varchar[] is null or list_contains($f_supervisor::varchar[], pf.supervisor))
      and ($f_mentor::varchar[] is null or list_contains($f_mentor::varchar[], pf.mentor_id))
      and ($f_match_quarter::varchar[] is null
           or list_contains($f_match_quarter::varchar[], pf.match_quarter))
      and ($f_age_band::varchar[] is null or list_contains($f_age_band::varchar[], pf.age_band))
      and ($f_gender::varchar[] is null or list_contains($f_gender::varchar[], pf.gender))
      and ($f_race_ethnicity::varchar[] is null
           or list_contains($f_race_ethnicity::varchar[], pf.race_ethnicity))
),

pairs_in_scope as (
    select pa.*
    from pairs_at as pa, scope_params as sp
    where pa.matched_on <= sp.e
      and (pa.closed_at is null or pa.closed_at >= sp.s)
),

pairs_matched_in_period as (
    select pa.*
    from pairs_at as pa, scope_params as sp
    where pa.matched_on between sp.s and sp.e
),

sessions_in_scope as not materialized (
    -- Sessions of pairs in scope dated on or before A, without the flagged ones (the
    -- sessions_clean rule, read from the mart's flag in the same scan). Not materialized:
    -- copying millions of rows costs more than repeating an integer join per consumer.
    select
        s.pair_key, s.session_date, s.status, s.duration_min, s.modality,
        p.grp, p.matched_on,
        p.matched_on between $start::date and $end::date as pair_matched_in_period
    from mart_sessions as s
    inner join pairs_in_scope as p on p.pair_key = s.pair_key
    where s.inside_pair_dates
      and s.session_date <= $as_of::date
)
"""


def run(con: duckdb.DuckDBPyConnection, scope: Scope, body: str, extra: dict | None = None):
    """Run `with <scope ctes>, <body>` with the scope's bound parameters; returns a DataFrame.

    `body` is constant SQL text written in this package (never user input).
    """
    params = scope.params()
    if extra:
        params.update(extra)
    sql = "with " + SCOPE_CTES + ",\n" + body
    # DuckDB refuses named parameters the statement does not use, so bind only those present.
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return con.execute(sql, used).df()


def data_bounds(con: duckdb.DuckDBPyConnection) -> dict:
    """Store-wide defaults: A = latest session_date, S = earliest matched_on (before filters)."""
    row = con.execute(
        "select (select max(session_date) from sessions), (select min(matched_on) from pairs),"
        " (select max(matched_on) from pairs)"
    ).fetchone()
    return {"latest_session": row[0], "earliest_match": row[1], "latest_match": row[2]}


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
