"""The SQL metrics against independent implementations on a seeded synthetic program:
a plain pandas implementation of the summary (bench/pandas_summary.py), lifelines for the
Kaplan-Meier curve, scipy for the paired-change interval; and properties that must hold."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from scipy import stats as sps

from analytics import summary
from analytics.domain.scope import Filters
from analytics.metrics import engagement, retention
from analytics.metrics.scope import resolve_scope

_spec = importlib.util.spec_from_file_location(
    "pandas_summary", Path(__file__).resolve().parent.parent / "bench" / "pandas_summary.py"
)
pandas_summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pandas_summary)


def _close(a, b, path=""):
    if isinstance(a, dict):
        for k in b:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(b, list):
        assert a is not None and len(a) == len(b), path
        for x, y in zip(a, b, strict=True):
            assert x == pytest.approx(y, rel=1e-9, abs=1e-9), path
    elif b is None:
        assert a is None, path
    else:
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), path


@pytest.mark.parametrize("period", [(None, None), ("2025-01-01", "2025-12-31")])
def test_summary_equals_pandas_implementation(demo_store, demo_con, period):
    start, end = period
    scope = resolve_scope(demo_con, start=start, end=end)
    sql = summary.raw_summary(demo_con, scope)
    ref = pandas_summary.pandas_summary(
        pandas_summary.load_tables(str(demo_store)), as_of=scope.as_of, start=scope.start, end=scope.end
    )
    assert sql["pairs"]["in_scope"] > 50  # a meaningful program, not a trivially empty one
    for section in ("pairs", "participants", "engagement", "retention", "goals", "outcomes"):
        _close(sql[section], ref[section], section)


def test_kaplan_meier_equals_lifelines(demo_con):
    scope = resolve_scope(demo_con)
    counts = retention.duration_counts(demo_con, scope)
    curve = retention.retention_curve(demo_con, scope, counts)
    # expand the per-day counts back into one duration per pair for lifelines
    t = np.repeat(counts["t"], counts["events"] + counts["censored"])
    e = np.concatenate([[1] * a + [0] * b for a, b in zip(counts["events"], counts["censored"], strict=True)])
    kmf = KaplanMeierFitter().fit(t, e)
    ours = curve.set_index("t")["survival"]
    theirs = kmf.survival_function_["KM_estimate"]
    for day in (30, 90, 180):
        assert retention.km_at(curve, day) == pytest.approx(float(kmf.predict(day)))
    common = ours.index.intersection(theirs.index)
    np.testing.assert_allclose(ours.loc[common], theirs.loc[common], rtol=1e-12)
    ci = kmf.confidence_interval_
    np.testing.assert_allclose(curve.set_index("t").loc[common, "lower"], ci.iloc[:, 0].loc[common], atol=1e-9)


def test_paired_change_interval_equals_scipy(demo_store, demo_con):
    scope = resolve_scope(demo_con)
    doc = summary.raw_summary(demo_con, scope)["outcomes"]["GSE10"]
    # rebuild the per-person changes with pandas and let scipy compute the interval
    t = pandas_summary.load_tables(str(demo_store))
    a = t["assessments"]
    a = a[(a["instrument"] == "GSE10") & a["participant_id"].isin(t["pairs"]["participant_id"])
          & (pd.to_datetime(a["administered_on"]) <= pd.Timestamp(scope.as_of))].sort_values("administered_on")
    base = a.groupby("participant_id").first()
    a = a.join(base[["administered_on", "score"]], on="participant_id", rsuffix="_b")
    later = a[pd.to_datetime(a["administered_on"]) >= pd.to_datetime(a["administered_on_b"]) + pd.Timedelta(days=28)]
    follow = later.groupby("participant_id").last()
    change = (follow["score"] - follow["score_b"]).to_numpy()
    assert len(change) == doc["n_paired"]
    res = sps.ttest_1samp(change, 0.0)
    lo, hi = res.confidence_interval(0.95)
    assert doc["ci95"] == pytest.approx([lo, hi])
    assert doc["cohens_dz"] == pytest.approx(change.mean() / change.std(ddof=1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_narrowing_a_filter_never_raises_a_count(demo_con, data):
    scope = resolve_scope(demo_con)
    sites = sorted(demo_con.execute("select distinct site from participants").df()["site"])
    streams = sorted(demo_con.execute("select distinct funding_stream from participants").df()["funding_stream"].dropna())
    keep_sites = data.draw(st.lists(st.sampled_from(sites), min_size=1, unique=True))
    keep_streams = data.draw(st.lists(st.sampled_from(streams), min_size=0, unique=True))
    wide = Filters(site=tuple(sorted(keep_sites)))
    narrow = Filters(site=wide.site, funding_stream=tuple(sorted(keep_streams)))
    for fn in (engagement.pair_counts, engagement.engagement_totals):
        a = fn(demo_con, scope.__class__(scope.as_of, scope.start, scope.end, wide)).iloc[0]
        b = fn(demo_con, scope.__class__(scope.as_of, scope.start, scope.end, narrow)).iloc[0]
        for col in ("pairs_in_scope", "participants_in_scope", "attended", "no_show", "cancelled", "pair_days"):
            if col in a:
                assert b[col] <= a[col], col


def test_groups_add_up_to_the_whole(demo_con):
    # every pair has exactly one site, so per-site counts sum to the overall count
    scope = resolve_scope(demo_con)
    whole = summary.raw_summary(demo_con, scope)
    by_site = summary.raw_summary(demo_con, scope.grouped("site"))["groups"]
    for section, key in (("pairs", "in_scope"), ("engagement", "attended"), ("retention", "events"),
                         ("goals", "set")):
        assert sum(g[section][key] for g in by_site.values()) == whole[section][key]
    assert math.isclose(sum(g["engagement"]["pair_days"] for g in by_site.values()), whole["engagement"]["pair_days"])


def test_sessions_in_scope_applies_the_sessions_clean_rule(demo_con):
    from analytics.metrics.scope import run

    scope = resolve_scope(demo_con, start="2025-01-01", end="2025-12-31")
    fast = run(demo_con, scope, "x as (select 1) select count(*) as n from sessions_in_scope")["n"][0]
    view = run(
        demo_con,
        scope,
        """x as (select 1)
        select count(*) as n from sessions_clean as s
        inner join pairs_in_scope as p on p.pair_key = s.pair_key
        where s.session_date <= $as_of::date""",
    )["n"][0]
    flagged = demo_con.execute("select count(*) from sessions_outside_pair_dates").fetchone()[0]
    assert fast == view > 0 and flagged > 0
