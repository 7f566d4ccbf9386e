"""Cached calls of the analytics layer, for pages: no SQL and no database driver here.

Caching rules:
- One read-only connection per version of the store file (`st.cache_resource` keyed on the
  store's stamp). A load builds a new file and swaps it in, so the stamp changes, the next rerun
  opens the new file, and sessions still reading the old one finish on their snapshot.
- Metric results are small DataFrames cached with `st.cache_data` on plain values only: the
  stamp tuple and the scope as tuples of strings. Every call computes on its own cursor with
  the analysis views (`views.analysis_connection`), held by that call alone (idle ones are
  reused by later calls), so concurrent sessions never share one.
- The cache is shared by every session of the server, so the user's access is part of every
  key that holds program data: `AccessKey` = (allowed sites or None for all,
  k, suppression on screen, mentor-level views). The scope's filters are narrowed to the
  allowed sites before the key is made, and the cached function narrows them again from the
  key itself, so a result computed for one user's sites can neither be found under nor
  produced by another user's key. Callers pass the page's Access; without one, the session's
  (ui.auth.current) is used, and with none decided nothing is computed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from analytics import store
from analytics.domain.access import Access, restrict_filters
from analytics.domain.scope import Filters, Scope, ScopeError
from analytics.metrics import admin
from analytics.metrics.compare import FRAME_METRICS
from analytics.metrics.followup import DEFAULT_RULE
from analytics.metrics.scope import resolve_scope
from analytics.panels import METRICS, SHARED_ROWS, STORE_WIDE_METRICS, compare_settings
from analytics.privacy.screen import suppressed_for_screen
from analytics.store import views
from ui import auth, components

# (path, inode, mtime_ns, size) of one version of the store file.
StampKey = tuple[str, int, int, int]
# (as_of, start, end, ((dimension, (values...)), ...), by) in ISO dates and plain strings.
ScopeKey = tuple[str, str, str, tuple[tuple[str, tuple[str, ...]], ...], str | None]
# (sites or None for all, k, suppressed on screen, mentor-level views): analytics.domain.access.Access.cache_key.
AccessKey = tuple[tuple[str, ...] | None, int, bool, bool]

DEMO_BUILD_MESSAGE = "No store found: building the synthetic demo program…"

# Settings a metric takes beside the scope (plain values, part of the cache key).
Params = tuple[tuple[str, Any], ...]
# Metrics listing people one row each, and the only page that may show them: refused to every
# other role (grant writers, admins), whatever page asks.
ROW_LEVEL = {"needs_attention": "attention"}


# ---------------------------------------------------------------------------------------------
# The store file


def current_stamp() -> StampKey | None:
    """The live store's stamp as a plain tuple, or None when there is no store yet."""
    s = store.stamp()
    return dataclasses.astuple(s) if s is not None else None


@st.cache_resource(show_spinner=False)
def _build_lock() -> threading.Lock:
    # One demo build per server process, however many sessions arrive at once.
    return threading.Lock()


def ensure_store() -> StampKey:
    """The live store's stamp; with no store, build the seeded demo program first (once); a
    store of an older release is brought up to date first (once)."""
    stamp = current_stamp()
    if stamp is not None:
        return stamp if _is_current(stamp) else _bring_up_to_date()
    with st.spinner(DEMO_BUILD_MESSAGE), _build_lock():
        stamp = current_stamp()
        if stamp is None:
            # Imported here: the load machinery is only needed the first time.
            from analytics.demo import build_demo_store

            build_demo_store(store.db_path())
            stamp = current_stamp()
    if stamp is None:
        raise FileNotFoundError("the demo store could not be built")
    return stamp


UPGRADE_MESSAGE = ("This store was written by an earlier release: rebuilding its summary tables for this one "
                   "(the data are not changed)…")


@st.cache_data(max_entries=8, show_spinner=False)
def _is_current(stamp: StampKey) -> bool:
    # A damaged file counts as current here: page_setup says plainly that it is damaged.
    try:
        with store.reading(stamp[0]):
            cur = store.use_store(_connection(stamp).cursor())
            try:
                return views.outdated_reason(cur) is None
            finally:
                cur.close()
    except store.StoreDamaged:
        return True


def _bring_up_to_date() -> StampKey:
    with st.spinner(UPGRADE_MESSAGE), _build_lock():
        stamp = current_stamp()
        if stamp is not None and not _is_current(stamp):
            try:
                # a load in progress rebuilds the marts itself: wait for it rather than fail
                store.bring_up_to_date(stamp[0], wait_s=120)
            except (store.StoreBusy, store.StoreError) as exc:
                st.error(components.plain(f"This store was written by an earlier release and could not be "
                                          f"brought up to date: {exc}."))
                st.stop()
            stamp = current_stamp()
    if stamp is None:
        raise FileNotFoundError("the store could not be brought up to date")
    return stamp


@st.cache_resource(max_entries=3, show_spinner=False)
def _connection(stamp: StampKey):
    # Keyed on the stamp: a swapped-in file has a new inode and mtime, so it gets a new
    # connection. Old ones are dropped (not closed) so a session mid-query finishes first.
    # store.connect_read attaches the file afresh, so it opens this version, not a cached one.
    return store.connect_read(stamp[0])


@st.cache_resource(max_entries=3, show_spinner=False)
def _registry_frame(stamp: StampKey) -> pd.DataFrame:
    # The instruments reported in this version of the store, read once per version rather than
    # by every cursor (it was most of a cursor's cost, paid by each metric computed). Keyed on
    # the stamp like the connection; never modified by its readers (DuckDB only reads it).
    cur = store.use_store(_connection(stamp).cursor())
    try:
        return views.checked_registry_frame(cur)
    finally:
        cur.close()


@st.cache_resource(max_entries=3, show_spinner=False)
def _idle_cursors(stamp: StampKey) -> queue.SimpleQueue:
    # Cursors of this version of the store with the analysis views built, between two calls:
    # building the views costs 6-8 ms a cursor, and a page's rerun asks for a dozen. Keyed on
    # the stamp like the connection.
    return queue.SimpleQueue()


@contextlib.contextmanager
def analysis_cursor(stamp: StampKey) -> Iterator[Any]:
    """A cursor with the analysis views, private to this call: taken from the cursors idle
    after earlier calls (or built), and put back after a call that ended normally. A call that
    raised closes its cursor, so none is handed on in an unknown state; the metrics leave
    nothing on a cursor (what they register they unregister, every result is fetched)."""
    # A damaged file's DuckDB errors come out as one store.StoreDamaged (ui.setup says it plainly).
    with store.reading(stamp[0]):
        idle = _idle_cursors(stamp)
        try:
            cur = idle.get_nowait()
        except queue.Empty:
            cur = views.analysis_connection(_connection(stamp), _registry_frame(stamp))
        try:
            yield cur
        except BaseException:
            cur.close()
            raise
        idle.put(cur)


# ---------------------------------------------------------------------------------------------
# Scope <-> plain values


def scope_key(scope: Scope) -> ScopeKey:
    filters = tuple((k, tuple(v)) for k, v in scope.filters.active().items())
    return (scope.as_of.isoformat(), scope.start.isoformat(), scope.end.isoformat(), filters, scope.by)


def scope_from_key(key: ScopeKey) -> Scope:
    as_of, start, end, filters, by = key
    return Scope(
        as_of=date.fromisoformat(as_of),
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        filters=Filters(**dict(filters)),
        by=by,
    )


# ---------------------------------------------------------------------------------------------
# Store facts (keyed on the stamp only)


@st.cache_data(show_spinner=False, max_entries=16)
def store_info(stamp: StampKey) -> dict:
    with analysis_cursor(stamp) as cur:
        return admin.store_info(cur)


def _access(access: Access | None) -> Access:
    return access if access is not None else auth.current()


def _within(filters: Filters, access_key: AccessKey) -> Filters:
    sites, _k, _suppressed, mentors = access_key
    return restrict_filters(filters, sites, mentors)


@st.cache_data(show_spinner=False, max_entries=64)
def _filter_choices(stamp: StampKey, sites: tuple[str, ...] | None) -> dict[str, list[str]]:
    with analysis_cursor(stamp) as cur:
        return admin.filter_choices(cur, sites=sites)


def filter_choices(stamp: StampKey, access: Access | None = None) -> dict[str, list[str]]:
    """The values the filters offer: only the user's sites, and what is found at them."""
    return _filter_choices(stamp, _access(access).sites)


@st.cache_data(show_spinner=False, max_entries=16)
def _load_history(stamp: StampKey) -> pd.DataFrame:
    with analysis_cursor(stamp) as cur:
        return admin.load_history(cur)


def load_history(stamp: StampKey, access: Access | None = None) -> pd.DataFrame:
    """Every load into the store: for roles that cover every site (loads are not per site)."""
    if _access(access).sites is not None:
        raise PermissionError("the load history covers every site")
    return _load_history(stamp)


@st.cache_data(show_spinner=False, max_entries=256)
def _resolve(
    stamp: StampKey, start: str | None, end: str | None, filters: tuple, access_key: AccessKey
) -> ScopeKey:
    narrowed = _within(Filters(**dict(filters)), access_key)
    with analysis_cursor(stamp) as cur:
        scope = resolve_scope(cur, start=start, end=end, filters=narrowed)
    return scope_key(scope)


def scope_for(
    stamp: StampKey, start: date | None, end: date | None, filters: Filters, access: Access | None = None
) -> Scope:
    """The METRICS.md scope for these choices, within the user's sites; raises ScopeError
    (plain message) when impossible."""
    a = _access(access)
    key = _resolve(
        stamp,
        start.isoformat() if start else None,
        end.isoformat() if end else None,
        tuple((k, tuple(v)) for k, v in a.restrict(filters).active().items()),
        a.cache_key(),
    )
    return scope_from_key(key)


# ---------------------------------------------------------------------------------------------
# Metrics


def _scope_within(key: ScopeKey, access_key: AccessKey) -> Scope:
    scope = scope_from_key(key)
    return dataclasses.replace(scope, filters=_within(scope.filters, access_key))


# Every call passes all five arguments: Streamlit keys a cached value on the arguments as given,
# so a call leaving `params` to its default would not find the value a call passing () stored.
@st.cache_data(show_spinner=False, max_entries=2000)
def _metric(name: str, stamp: StampKey, key: ScopeKey, access_key: AccessKey, params: Params = ()) -> Any:
    sites, k, suppressed, mentors = access_key
    unsuppressed = (sites, k, False, mentors)
    if suppressed:
        # Computed once without suppression (the entry roles that see every count use), then
        # suppressed: the two never compute the same numbers twice.
        return suppressed_for_screen(name, _metric(name, stamp, key, unsuppressed, params), k)
    kwargs = dict(params)
    if name == "headline":
        # The Overview's tiles are built from frames its panels also show (pair counts,
        # engagement totals): taken from this cache rather than computed again.
        ungrouped = (*key[:4], None)
        kwargs["given"] = {
            frame: _metric(metric, stamp, ungrouped, unsuppressed, ()) for frame, metric in FRAME_METRICS.items()
        }
    # The frames of a page's own (ungrouped) scope that read the same rows take them computed
    # once (analytics.panels.SHARED_ROWS); a grouped one is asked alone, unless it can read the
    # ungrouped scope's rows (`regrouped`: the intake and follow-up chart by site).
    for kind, shared in SHARED_ROWS.items():
        if name in (shared.metrics if key[4] is None else shared.regrouped):
            rule = (kwargs.get("rule", DEFAULT_RULE),) if shared.by_rule else ()
            kwargs[kind] = _shared(kind, stamp, (*key[:4], None), unsuppressed, rule)
    with analysis_cursor(stamp) as cur:
        return METRICS[name](cur, _scope_within(key, access_key), **kwargs)


# Row-level (the paired participants, the follow-up windows; integer keys, no pseudonyms) or
# counts: kept in this process's memory only, never pickled, shown or exported; the metrics
# above query them and cache their aggregates. The paired rows take 20 MB per scope at L, so
# only six entries are kept in all (about the latest two scopes of each kind).
@st.cache_resource(show_spinner=False, max_entries=2 * len(SHARED_ROWS))
def _shared(kind: str, stamp: StampKey, key: ScopeKey, access_key: AccessKey, rule: tuple[str, ...]) -> Any:
    with analysis_cursor(stamp) as cur:
        return SHARED_ROWS[kind].compute(cur, _scope_within(key, access_key), *rule)


def _scoped_key(scope: Scope, access: Access) -> ScopeKey:
    return scope_key(dataclasses.replace(scope, filters=access.restrict(scope.filters)))


def metric(name: str, stamp: StampKey, scope: Scope, access: Access | None = None, params: Params = ()) -> Any:
    """The named metric over `scope` within the user's access (a DataFrame; `summary` gives the
    summary dict); suppressed as exports are for roles that see suppressed screens. `params`:
    the metric's settings as (name, value) pairs (the follow-up rule and target)."""
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}")
    a = _access(access)
    if name == "mentor_caseloads" and not a.can_see_mentors:
        raise PermissionError("mentor-level views are not part of this role")
    if name in ROW_LEVEL and not a.may_open(ROW_LEVEL[name]):
        raise PermissionError("this list is not part of this role")
    if name in STORE_WIDE_METRICS:
        value = _store_wide(name, stamp)
        return suppressed_for_screen(name, value, a.k) if a.suppress_on_screen else value
    if name == "compare_groups":
        # Comparisons show small groups unsuppressed: refused to roles with suppressed screens.
        settings = dict(params)
        if a.suppress_on_screen or (settings["by"] == "mentor" and not a.can_see_mentors):
            raise PermissionError("this comparison is not part of this role")
        params = compare_settings(settings["by"], max(settings.get("k", a.k), a.k))
    return _metric(name, stamp, _scoped_key(scope, a), a.cache_key(), tuple(params))


@st.cache_data(show_spinner=False, max_entries=16)
def _store_wide(name: str, stamp: StampKey) -> Any:
    # A metric of STORE_WIDE_METRICS, keyed on the store's version alone: the instrument
    # registry took 11-16 ms at L for every new filter of every page that names instruments.
    with analysis_cursor(stamp) as cur:
        return METRICS[name](cur, None)


def pairs_in_scope(stamp: StampKey, scope: Scope, access: Access | None = None) -> int:
    """The number of pairs in scope, unsuppressed: for deciding whether a view may be shown."""
    a = _access(access)
    sites, k, _suppressed, mentors = a.cache_key()
    counts = _metric("pair_counts", stamp, _scoped_key(scope, a), (sites, k, False, mentors), ())
    return int(counts["pairs_in_scope"].sum())


@st.cache_resource(show_spinner=False, max_entries=600)
def _figure(name: str, _builder: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return _builder(*args, **kwargs)


def figure(builder: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`builder(*args, **kwargs)` (a chart builder of analytics.present.charts), cached on its inputs.

    Building a plotly figure takes 40-120 ms and a page draws up to eight, so a rerun with
    unchanged data would spend most of its time there. The same figure object is handed to
    every session: st.plotly_chart only reads it. The frames are hashed by content.
    """
    return _figure(f"{builder.__module__}.{builder.__qualname__}", builder, args, kwargs)


def compare(stamp: StampKey, scope: Scope, by: str, k: int, access: Access | None = None) -> dict:
    """Per-group summaries and the tests across groups (analytics.metrics.compare), within the
    user's access: the ``compare_groups`` metric, the very result the page's charts are drawn
    from. Comparisons show small groups unsuppressed, so they are refused to roles with
    suppressed screens."""
    return metric("compare_groups", stamp, scope.grouped(None), access, compare_settings(by, k))


__all__ = [
    "DEMO_BUILD_MESSAGE",
    "METRICS",
    "ScopeError",
    "analysis_cursor",
    "compare",
    "current_stamp",
    "ensure_store",
    "figure",
    "filter_choices",
    "load_history",
    "metric",
    "pairs_in_scope",
    "scope_for",
    "store_info",
]
