"""mart_pair_sessions: a pair whose sessions all fall in the period takes its sums from the mart.

Engagement totals and mentor caseloads must come out exactly the same whether a pair's sums are
read from the mart or summed again from its sessions: here the same queries run on a copy of the
store whose mart is emptied (every pair summed from its sessions) and the frames are compared
value for value, over scopes whose dates cut through pairs' sessions and scopes that do not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analytics import store
from analytics.metrics import engagement, mentors
from analytics.metrics.scope import data_bounds, resolve_scope
from analytics.store import views

# Dates as fractions of the store's span (earliest match to latest session), so each cuts
# through some pairs' sessions whatever the program's dates.
SCOPES = [
    {},
    {"by": "site"},
    {"by": "mentor"},
    {"start": 0.3},
    {"end": 0.6},
    {"as_of": 0.8},
    {"start": 0.2, "end": 0.7, "by": "funding_stream"},
]


def _dates(cur, kw: dict) -> dict:
    bounds = data_bounds(cur)
    first, last = bounds["earliest_match"], bounds["latest_session"]
    return {k: (first + (last - first) * v if isinstance(v, float) else v) for k, v in kw.items()}


def _copy_with(src: Path, dst: Path, sql: str | None) -> Path:
    shutil.copyfile(src, dst)
    if sql:
        con = duckdb.connect(str(dst))
        con.execute(sql)
        con.execute("checkpoint")
        con.close()
    return dst


def _results(path: Path, kw: dict) -> dict[str, pd.DataFrame]:
    con = store.connect_read(path)
    try:
        cur = views.analysis_connection(con)
        scope = resolve_scope(cur, **_dates(cur, kw))
        return {"engagement_totals": engagement.engagement_totals(cur, scope),
                "mentor_caseloads": mentors.mentor_caseloads(cur, scope)}
    finally:
        con.close()


@pytest.fixture(scope="module")
def stores(demo_store, tiny_store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pair_sums")
    out = {}
    for name, src in {"demo": demo_store, "tiny": tiny_store}.items():
        out[name] = {
            "as built": src,
            "mart emptied": _copy_with(src, tmp / f"{name}-empty.duckdb", "delete from mart_pair_sessions"),
            "mart altered": _copy_with(src, tmp / f"{name}-altered.duckdb",
                                       "update mart_pair_sessions set attended = attended + 1"),
        }
    return out


@pytest.mark.parametrize("which", ["demo", "tiny"])
@pytest.mark.parametrize("kw", SCOPES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_sums_from_the_mart_equal_the_sums_of_the_sessions(stores, which, kw):
    built = _results(stores[which]["as built"], kw)
    summed = _results(stores[which]["mart emptied"], kw)
    for name in built:
        assert len(built[name]) > 0
        assert_frame_equal(built[name], summed[name], check_exact=True)


@pytest.mark.parametrize("which", ["demo", "tiny"])
def test_the_default_period_reads_the_mart(stores, which):
    """The default period holds every session, so every pair's sums come from the mart: a mart
    altered on purpose shows in the results (the test above compares something)."""
    built = _results(stores[which]["as built"], {})
    altered = _results(stores[which]["mart altered"], {})
    for name in built:
        assert altered[name]["attended"].sum() > built[name]["attended"].sum()


def test_a_store_without_the_mart_is_said_to_be_outdated(demo_store, tmp_path):
    old = _copy_with(demo_store, tmp_path / "old.duckdb", "drop table mart_pair_sessions")
    con = store.connect_read(old)
    try:
        with pytest.raises(views.StoreOutdated, match="older release"):
            views.analysis_connection(con)
    finally:
        con.close()
