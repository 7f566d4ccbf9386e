"""The same store gives the same numbers to the last digit, whatever the number of DuckDB threads.

DuckDB aggregates in parallel and combines the threads' partial states in the order they finish,
so a floating-point average, standard deviation or variance fed in no fixed order can differ in
its last bits from one run to the next (docs/metrics.md, "Same numbers on every run"). Every such
aggregate is written with an ORDER BY that fixes the sequence of its inputs. Here the outcome
statistics and the whole summary are computed on one thread and then repeatedly on four, and
compared bit for bit: without the ORDER BY these differ within a few runs at this store's size.
"""

from __future__ import annotations

import struct

import pandas as pd

from analytics import store, summary
from analytics.metrics import followup, outcomes
from analytics.metrics.scope import resolve_scope
from analytics.store import views

RUNS_IN_PARALLEL = 4


def _exact(v):
    """`v` as something compared exactly: every float by its bit pattern."""
    if isinstance(v, pd.DataFrame):
        return {c: _exact(v[c].tolist()) for c in v.columns}
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        return "nan" if v != v else struct.pack("<d", v).hex()
    if isinstance(v, dict):
        return {k: _exact(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_exact(x) for x in v]
    return v


def _everything(con) -> dict:
    scope = resolve_scope(con)
    by_site = scope.grouped("site")
    return _exact({
        "outcome_change": outcomes.outcome_change(con, by_site),
        "outcome_trend": outcomes.outcome_trend(con, by_site),
        "followup_attrition": followup.followup_attrition(con, by_site),
        "summary": summary.raw_summary(con, scope),
        "summary_by_site": summary.raw_summary(con, by_site),
    })


def test_same_numbers_on_one_thread_and_on_several(demo_store):
    base = store.connect_read(demo_store)
    try:
        base.execute("set threads = 1")
        with views.analysis_connection(base) as con:
            reference = _everything(con)
        base.execute(f"set threads = {RUNS_IN_PARALLEL}")
        for _ in range(3):
            with views.analysis_connection(base) as con:
                assert _everything(con) == reference
    finally:
        base.close()
