"""The dashboard computes each metric once per scope: a page and the Overview's headline share
their frames through one cache entry (ui.data_access._metric), whatever path asks for them.

A value is cached on the arguments as given, so a call that left an argument to its default
missed what another call had stored: engagement totals and pair counts were computed twice on
every Overview rerun, which at the L tier was a third of a filter change's server time.
"""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import panels

ROOT = Path(__file__).resolve().parent.parent
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture()
def counted(tiny_store, tmp_path, monkeypatch):
    """The tiny store under a new name (so nothing is cached for it yet), and a count of each
    metric computed, by name and scope."""
    db = tmp_path / "own.duckdb"
    shutil.copyfile(tiny_store, db)
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    calls: collections.Counter = collections.Counter()
    for name, fn in list(panels.METRICS.items()):
        def counting(con, scope, _fn=fn, _name=name, **kw):
            if scope is None:  # a store-wide metric (analytics.panels.STORE_WIDE_METRICS)
                calls[(_name, None)] += 1
            else:
                calls[(_name, scope.start, scope.end, tuple(scope.filters.active().items()), scope.by)] += 1
            return _fn(con, scope, **kw)

        monkeypatch.setitem(panels.METRICS, name, counting)
    return calls


def test_the_overview_computes_each_metric_once_per_scope(counted):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params.update(PERIOD)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="filters__site").set_value(["North"]).run()
    assert not at.exception, [e.value for e in at.exception]

    twice = {key: n for key, n in counted.items() if n > 1}
    assert not twice, twice
    north = (("site", ("North",)),)
    # The headline (tiles) and the engagement panel's sentence both read these, for this
    # period and site, and the page-level check of pairs in scope reads the counts: one each.
    for name in ("pair_counts", "engagement_totals", "outcome_change", "headline"):
        assert counted[(name, *_period(), north, None)] == 1, name
    # ... and the previous period's headline has its own (it is another scope).
    assert any(key[0] == "headline" and key[1] < _period()[0] and key[3] == north for key in counted)


def _period():
    from datetime import date

    return date.fromisoformat(PERIOD["start"]), date.fromisoformat(PERIOD["end"])


def test_the_instrument_registry_is_computed_once_for_every_filter(counted):
    """The registry is the store's (no scope changes it): the Outcomes page over three filters,
    and the Follow-up page after it, read one computed frame."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params.update(PERIOD)
    at.run()
    at.switch_page("pages/outcomes.py").run()
    for sites in (["North"], ["South"], []):
        at.multiselect(key="filters__site").set_value(sites).run()
        assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/followup.py").run()
    assert not at.exception, [e.value for e in at.exception]
    registry = {key: n for key, n in counted.items() if key[0] == "instrument_registry"}
    assert registry == {("instrument_registry", None): 1}
    # ... while the page's own metrics were computed for each filter
    assert sum(n for key, n in counted.items() if key[0] == "outcome_change") >= 3
