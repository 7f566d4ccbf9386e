"""The server's warm-up (ui.warmup) leaves every page's default view in the caches the pages read."""

from __future__ import annotations

import shutil

import pytest
import streamlit as st

from analytics import store
from analytics.domain.access import LOCAL_ACCESS
from analytics.domain.scope import DIMENSIONS, Filters
from analytics.metrics.scope import resolve_scope
from analytics.panels import WITH_SETTINGS_ONLY
from analytics.store import views
from ui import data_access, warmup


def _broken(name):
    def compute(*_args, **_kwargs):
        raise AssertionError(f"{name} was computed again instead of read from the cache")

    return compute


@pytest.fixture()
def live_store(tiny_store, tmp_path, monkeypatch):
    db = tmp_path / "store.duckdb"
    shutil.copyfile(tiny_store, db)
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db
    st.cache_data.clear()
    st.cache_resource.clear()


def _default_scope(db):
    # The sidebar's default: all time (METRICS.md: S = earliest match, E = A), no filters.
    con = store.connect_read(db)
    try:
        return resolve_scope(views.analysis_connection(con), start=None, end=None, filters=Filters())
    finally:
        con.close()


def test_warm_fills_the_caches_the_pages_read(live_store, monkeypatch):
    stamp = data_access.current_stamp()
    scope = _default_scope(live_store)
    # Before the warm-up a page's call computes: with the metric functions broken, it fails.
    monkeypatch.setitem(data_access.METRICS, "retention_curve", _broken("retention_curve"))
    with pytest.raises(AssertionError):
        data_access.metric("retention_curve", stamp, scope, LOCAL_ACCESS)
    monkeypatch.undo()
    monkeypatch.setenv("OUTCOMES_DB", str(live_store))

    steps = warmup.warm()
    assert {"imports", "store", "metrics", "compare"} <= set(steps)

    # (the comparison has no default view: it is asked with its grouping, below)
    defaults = [name for name in data_access.METRICS if name not in WITH_SETTINGS_ONLY]
    expected = {name: data_access.metric(name, stamp, scope, LOCAL_ACCESS) for name in defaults}
    for name in list(data_access.METRICS):
        monkeypatch.setitem(data_access.METRICS, name, _broken(name))
    # Every page's default calls are now answered from the caches, the same values as computed.
    for name in defaults:
        got = data_access.metric(name, stamp, scope, LOCAL_ACCESS)
        if isinstance(got, dict):
            assert got == expected[name]
        else:
            assert got.equals(expected[name]), name
    data_access.metric("headline", stamp, scope.shifted_back(), LOCAL_ACCESS)  # the Overview's previous period
    data_access.metric("outcome_change", stamp, scope.grouped("site"), LOCAL_ACCESS)  # Outcomes by site
    # the Compare page's default (compare_groups is broken above too)
    assert data_access.compare(stamp, scope, DIMENSIONS[0], LOCAL_ACCESS.k, LOCAL_ACCESS)["groups"] is not None


def test_warm_without_pairs_stops_after_the_store(tmp_path, monkeypatch):
    # A store with the schema and no rows: nothing to warm beyond the store facts, and no error.
    db = tmp_path / "empty.duckdb"
    with store.swap_writer(db):
        pass
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    st.cache_data.clear()
    steps = warmup.warm()
    assert set(steps) == {"imports", "store"}
    st.cache_data.clear()


def test_warm_builds_the_demo_when_there_is_no_store(tmp_path, monkeypatch):
    import tiny_program

    import analytics.demo

    built = []
    db = tmp_path / "none_yet.duckdb"
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    monkeypatch.setattr(analytics.demo, "build_demo_store", tiny_program.demo_stand_in(built))
    st.cache_data.clear()
    st.cache_resource.clear()
    steps = warmup.warm()
    assert built == [db] and "metrics" in steps
    assert data_access.store_info(data_access.current_stamp())["is_demo"]
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_program_managers_views_are_the_warmed_ones():
    # The warm-up fills the cache under the local mode's key; a signed-in program manager asks
    # with the same key (every site, k = 11, unsuppressed, mentor views), so finds it warm.
    from analytics.domain import access as auth

    config = auth.parse_roles('[users]\n"pm@example.org" = { role = "program_manager" }\n')
    pm = auth.resolve(config, {"email": "pm@example.org", "email_verified": True})
    assert pm.cache_key() == LOCAL_ACCESS.cache_key() == (None, 11, False, True)
