"""The dashboard's cursors with the analysis views are reused between calls
(ui.data_access.analysis_cursor): building the views costs several milliseconds a cursor, and a
page's rerun asks for a dozen. A cursor is held by one call at a time, a call that raised
closes its own, and a reused cursor gives the same numbers as a new one.
"""

from __future__ import annotations

import duckdb
import pytest
from pandas.testing import assert_frame_equal

from analytics import store
from analytics.metrics.scope import resolve_scope
from analytics.panels import METRICS, SHARED_ROWS
from ui import data_access


@pytest.fixture()
def stamp(tiny_store, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    data_access._idle_cursors.clear()
    yield data_access.current_stamp()
    data_access._idle_cursors.clear()


def _temp_objects(cur) -> list:
    return cur.execute("select table_name from duckdb_tables() where temporary union all "
                       "select view_name from duckdb_views() where temporary order by 1").fetchall()


def test_a_cursor_is_reused_by_the_next_call_and_never_by_two_at_once(stamp):
    with data_access.analysis_cursor(stamp) as first:
        with data_access.analysis_cursor(stamp) as second:
            assert second is not first
    with data_access.analysis_cursor(stamp) as again:
        assert again in (first, second)
        with data_access.analysis_cursor(stamp) as other:
            assert other in (first, second) and other is not again


def test_a_call_that_raised_closes_its_cursor(stamp):
    with pytest.raises(RuntimeError), data_access.analysis_cursor(stamp) as broken:
        raise RuntimeError("a metric failed")
    with pytest.raises(duckdb.ConnectionException):
        broken.execute("select 1")
    with data_access.analysis_cursor(stamp) as cur:
        assert cur is not broken
        assert cur.execute("select count(*) from pair_facts").fetchone()[0] > 0


def test_a_reused_cursor_gives_the_same_numbers_and_keeps_nothing(stamp, tiny_store):
    """Every metric a page computes, with the shared rows where the dashboard hands them on,
    run twice on one reused cursor: equal frames, and no temporary object left behind."""
    con = store.connect_read(tiny_store)
    try:
        from analytics.store import views

        fresh = views.analysis_connection(con)
        scope = resolve_scope(fresh)
        with data_access.analysis_cursor(stamp) as cur:
            before = _temp_objects(cur)
        for name, fn in METRICS.items():
            if name in ("summary", "compare_groups"):
                continue
            kwargs = {kind: shared.compute(fresh, scope) for kind, shared in SHARED_ROWS.items()
                      if name in shared.metrics}
            want = fn(fresh, scope, **kwargs)
            for _ in range(2):
                with data_access.analysis_cursor(stamp) as cur:
                    got = fn(cur, scope, **kwargs)
                if hasattr(want, "columns"):
                    assert_frame_equal(got, want, check_exact=True)
                else:
                    assert got == want, name
        with data_access.analysis_cursor(stamp) as cur:
            assert _temp_objects(cur) == before
            assert data_access._idle_cursors(stamp).qsize() == 0  # this one, held
    finally:
        con.close()


def test_no_call_leaves_a_result_open_on_its_cursor(stamp, tiny_store):
    """DuckDB 2.0 keeps a result open on a cursor until a fetch has read past its last row (a
    fetchone of a one-row result has not), and a register() on that cursor then fails
    ("connection has an unfinished result"). The cursor goes back to the idle ones, so the next
    call to take it may be one that registers rows (the paired rows kept for a page): every
    call a page makes must leave its cursor finished."""
    import pyarrow as pa

    from analytics.metrics import admin
    from analytics.metrics.scope import data_bounds

    def registers(cur) -> None:
        cur.register("probe_rows", pa.table({"x": [1]}))
        cur.unregister("probe_rows")

    with data_access.analysis_cursor(stamp) as cur:
        scope = resolve_scope(cur)
        registers(cur)
        data_bounds(cur)
        registers(cur)
        admin.filter_choices(cur)
        registers(cur)
        admin.store_info(cur)
        registers(cur)
        admin.load_history(cur)
        registers(cur)
        for name, fn in METRICS.items():
            if name in ("summary", "compare_groups"):
                continue
            fn(cur, scope)
            registers(cur)


def test_no_code_of_the_project_calls_fetchone():
    """The rule above, kept on the source: one-row results are read with store.one_row
    (fetchall), so no connection or cursor is left with a result open."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [root / "dashboard.py", *(root / "pages").glob("*.py"), *(root / "ui").glob("*.py"),
             *(root / "analytics").rglob("*.py")]
    calls = [f"{path.relative_to(root)}:{node.lineno}"
             for path in files
             for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
             if isinstance(node, ast.Attribute) and node.attr == "fetchone"]
    assert calls == []


def test_sessions_at_once_share_the_cursors_and_get_the_numbers_of_one_at_a_time(
        tiny_store, tmp_path, monkeypatch):
    """Six sessions computing every page metric at the same moment, each over its own site (the
    way users of one server do): no call fails on a cursor another call handed back, and each
    gets the frames a session alone gets. (The same six sessions over the M demo store failed
    one run in three while the store's lookups used fetchone; on this tiny store they did not,
    so the test above is the one that pins that fault.)"""
    import shutil
    import threading

    from analytics.domain.access import LOCAL_ACCESS
    from analytics.domain.scope import Filters

    db = tmp_path / "shared.duckdb"
    shutil.copyfile(tiny_store, db)  # a store nothing is cached for yet
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    data_access._idle_cursors.clear()
    stamp = data_access.current_stamp()
    names = [n for n in METRICS if n not in ("summary", "compare_groups")]
    sites = data_access.filter_choices(stamp, LOCAL_ACCESS)["site"]

    def frames(site: str) -> dict:
        scope = data_access.scope_for(stamp, None, None, Filters(site=(site,)), LOCAL_ACCESS)
        data_access.store_info(stamp)
        return {n: data_access.metric(n, stamp, scope, LOCAL_ACCESS) for n in names}

    got, errors = {}, []

    def session(i: int) -> None:
        try:
            got[i] = frames(sites[i % len(sites)])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=session, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data_access._metric.clear()
    for i in range(6):
        alone = frames(sites[i % len(sites)])
        for n in names:
            if hasattr(alone[n], "columns"):
                assert_frame_equal(got[i][n], alone[n], check_exact=True)
            else:
                assert got[i][n] == alone[n], n
    data_access._idle_cursors.clear()
