"""The paired participants computed once per scope (outcomes.paired_rows) and handed to the
outcome metrics as ``paired``, the follow-up windows placed once (followup.window_rows) and
handed to the follow-up metrics as ``windows``, and the sessions counted once per month, status
and modality (engagement.session_cells) for engagement by month and by modality as ``cells``: the frames must be the very frames each metric
computes on its own, value for value, over scopes whose dates cut through participants'
assessments and windows, and grouped ones; the summary and the dashboard hand them over, so
their numbers are these too.
"""

from __future__ import annotations

import pytest
from pandas.testing import assert_frame_equal

from analytics import store
from analytics.domain.access import LOCAL_ACCESS, SUPERVISOR, Grant, access_for
from analytics.domain.scope import Filters
from analytics.metrics import dose, engagement, followup, outcomes
from analytics.metrics.scope import resolve_scope
from analytics.store import views
from tests.test_marts_whole import SCOPES, _dates

TAKE_PAIRED = {
    "outcome_change": outcomes.outcome_change,
    "reliable_change_counts": outcomes.reliable_change_counts,
    "change_distribution": outcomes.change_distribution,
    "dose_change": dose.dose_change,
}
TAKE_CELLS = {
    "engagement_by_month": engagement.engagement_by_month,
    "attended_by_modality": engagement.attended_by_modality,
}
TAKE_WINDOWS = {
    "followup_counts": followup.followup_counts,
    "followup_attrition": followup.followup_attrition,
    "followup_by_close_month": followup.followup_by_close_month,
}


@pytest.fixture()
def cursor(request):
    con = store.connect_read(request.getfixturevalue(request.param))
    try:
        yield views.analysis_connection(con)
    finally:
        con.close()


def _same_both_ways(cursor, scope, kind: str, rows, metrics: dict, *settings, nonempty: bool = True) -> None:
    """Each metric over `scope` given the shared `rows` as `kind` (its keyword) equals the
    metric computed alone."""
    if nonempty:
        assert rows.num_rows > 0
    for name, fn in metrics.items():
        alone = fn(cursor, scope, *settings)
        if nonempty:
            assert len(alone) > 0, name
        assert_frame_equal(fn(cursor, scope, *settings, **{kind: rows}), alone, check_exact=True, obj=name)


BY_SCOPE = pytest.mark.parametrize("kw", SCOPES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
BOTH_STORES = pytest.mark.parametrize("cursor", ["demo_store", "tiny_store"], indirect=True)


@BOTH_STORES
@BY_SCOPE
def test_the_metrics_from_the_paired_rows_equal_the_metrics_computed_alone(cursor, kw):
    scope = resolve_scope(cursor, **_dates(cursor, kw))
    _same_both_ways(cursor, scope, "paired", outcomes.paired_rows(cursor, scope), TAKE_PAIRED)


@BOTH_STORES
@pytest.mark.parametrize("rule", followup.RULES)
@BY_SCOPE
def test_the_followup_metrics_from_the_window_rows_equal_the_metrics_computed_alone(cursor, kw, rule):
    scope = resolve_scope(cursor, **_dates(cursor, kw))
    # (a scope may hold no closed window yet: no row by close month)
    _same_both_ways(cursor, scope, "windows", followup.window_rows(cursor, scope, rule), TAKE_WINDOWS, rule,
                    nonempty=False)


@BOTH_STORES
@pytest.mark.parametrize("rule", followup.RULES)
@pytest.mark.parametrize("by", ["site", "mentor", "supervisor", "funding_stream", "gender"])
@pytest.mark.parametrize("kw", [{}, {"start": 0.3}, {"as_of": 0.8}, {"start": 0.2, "end": 0.7}],
                         ids=lambda kw: ",".join(kw) or "default")
def test_the_counts_by_group_from_the_ungrouped_windows_equal_the_counts_computed_alone(cursor, kw, by, rule):
    """The follow-up counts of a grouped scope read the windows of the same scope ungrouped,
    each put under its participant's groups (the Follow-up page's by site and by mentor): the
    very counts placed per group, and the windows of another ungrouped scope are refused."""
    scope = resolve_scope(cursor, **_dates(cursor, kw))
    ungrouped = followup.window_rows(cursor, scope, rule)
    grouped = scope.grouped(by)
    alone = followup.followup_counts(cursor, grouped, rule)
    assert len(alone) > 1 or by == "gender" and len(alone) > 0
    assert_frame_equal(followup.followup_counts(cursor, grouped, rule, windows=ungrouped), alone, check_exact=True)
    other = followup.window_rows(cursor, resolve_scope(cursor, **_dates(cursor, {**kw, "start": 0.5})), rule)
    with pytest.raises(ValueError, match="another scope"):
        followup.followup_counts(cursor, grouped, rule, windows=other)
    # the other metrics of the windows still take only their own scope's
    for fn in (followup.followup_attrition, followup.followup_by_close_month):
        with pytest.raises(ValueError, match="another scope"):
            fn(cursor, grouped, rule, windows=ungrouped)


@BOTH_STORES
@pytest.mark.parametrize("by", ["site", "mentor", "supervisor", "funding_stream", "gender"])
@pytest.mark.parametrize("kw", [{}, {"start": 0.3}, {"as_of": 0.8}, {"start": 0.2, "end": 0.7}],
                         ids=lambda kw: ",".join(kw) or "default")
def test_the_outcome_metrics_by_group_from_the_ungrouped_paired_rows_equal_the_metrics_computed_alone(cursor, kw, by):
    """A grouped scope's outcome metrics read the paired rows of the same scope ungrouped, each
    put under its participant's groups (the Outcomes page's intake and follow-up by site): the
    very frames paired per group, S_diff and the classes per group included; the rows of
    another ungrouped scope are refused."""
    scope = resolve_scope(cursor, **_dates(cursor, kw))
    grouped = scope.grouped(by)
    _same_both_ways(cursor, grouped, "paired", outcomes.paired_rows(cursor, scope), TAKE_PAIRED)
    assert len(outcomes.outcome_change(cursor, grouped)["grp"].unique()) > 1 or by == "gender"
    other = outcomes.paired_rows(cursor, resolve_scope(cursor, **_dates(cursor, {**kw, "start": 0.5})))
    for fn in TAKE_PAIRED.values():
        with pytest.raises(ValueError, match="another scope"):
            fn(cursor, grouped, other)


@BOTH_STORES
@BY_SCOPE
def test_the_engagement_metrics_from_the_session_cells_equal_the_metrics_computed_alone(cursor, kw):
    scope = resolve_scope(cursor, **_dates(cursor, kw))
    _same_both_ways(cursor, scope, "cells", engagement.session_cells(cursor, scope), TAKE_CELLS)
    other = engagement.session_cells(cursor, resolve_scope(cursor, **_dates(cursor, {"start": 0.5})))
    for fn in TAKE_CELLS.values():
        with pytest.raises(ValueError, match="another scope"):
            fn(cursor, scope, other)


@pytest.mark.parametrize("cursor", ["demo_store"], indirect=True)
def test_window_rows_of_another_rule_or_scope_are_refused(cursor):
    scope = resolve_scope(cursor)
    suprt = followup.window_rows(cursor, scope, "suprt")
    with pytest.raises(ValueError, match="other settings"):
        followup.followup_counts(cursor, scope, "gpra", windows=suprt)
    earlier = followup.window_rows(cursor, resolve_scope(cursor, **_dates(cursor, {"as_of": 0.6})), "suprt")
    with pytest.raises(ValueError, match="another scope"):
        followup.followup_counts(cursor, scope, "suprt", windows=earlier)
    for fn in TAKE_WINDOWS.values():  # the target is not part of the windows
        fn(cursor, scope, "suprt", windows=suprt)
    assert "participant_id" not in suprt.column_names and "site" not in suprt.column_names


@pytest.mark.parametrize("cursor", ["demo_store"], indirect=True)
def test_paired_rows_of_another_scope_are_refused(cursor):
    """Rows carry the scope they were computed over: another scope's (which would give that
    scope's numbers) are refused, also when only a filter or the grouping differs."""
    whole = resolve_scope(cursor)
    assert outcomes.paired_rows(cursor, resolve_scope(cursor, **_dates(cursor, {"as_of": 0.6}))).num_rows < (
        outcomes.paired_rows(cursor, whole).num_rows)
    sites = sorted(cursor.execute("select distinct site from pair_facts").df()["site"])
    for other in (resolve_scope(cursor, **_dates(cursor, {"as_of": 0.6})), whole.grouped("site"),
                  resolve_scope(cursor, filters=Filters(site=tuple(sites[:1])))):
        wrong = outcomes.paired_rows(cursor, other)
        for fn in TAKE_PAIRED.values():
            with pytest.raises(ValueError, match="another scope"):
                fn(cursor, whole, wrong)


@pytest.mark.parametrize(("sites", "chosen"), [(None, {}), (1, {}), (None, {"funding_stream": 1, "start": 0.4})],
                         ids=["everything", "one site's supervisor", "a funding stream from a date"])
def test_the_dashboard_hands_each_user_the_rows_of_their_own_scope(demo_store, monkeypatch, sites, chosen):
    """The page's cached metrics (ui.data_access) take the paired rows of the user's scope
    (their filters and dates, within their sites): the same frames as the metric computed
    directly on that scope."""
    monkeypatch.setenv("OUTCOMES_DB", str(demo_store))
    from ui import data_access

    data_access._metric.clear()
    data_access._shared.clear()
    stamp = data_access.current_stamp()
    con = store.connect_read(demo_store)
    try:
        cur = views.analysis_connection(con)

        def first(column: str, n: int) -> tuple[str, ...]:
            return tuple(sorted(cur.execute(f"select distinct {column} from pair_facts").df()[column])[:n])

        allowed = None if sites is None else first("site", sites)
        access = LOCAL_ACCESS if allowed is None else access_for("lee@example.org", Grant(SUPERVISOR, allowed))
        picked = Filters(funding_stream=first("funding_stream", chosen["funding_stream"])) if chosen else Filters()
        dates = _dates(cur, {k: v for k, v in chosen.items() if k == "start"})
        scope = resolve_scope(cur, filters=picked, **dates)
        direct = resolve_scope(cur, filters=Filters(site=allowed or (), funding_stream=picked.funding_stream), **dates)
        for name, fn in {**TAKE_PAIRED, **TAKE_CELLS}.items():
            shown = data_access.metric(name, stamp, scope, access)
            assert_frame_equal(shown, fn(cur, direct), check_exact=True, obj=name)
        for by in ("site", "mentor"):  # the change by group reads the ungrouped paired rows
            shown = data_access.metric("outcome_change", stamp, scope.grouped(by), access)
            assert_frame_equal(shown, outcomes.outcome_change(cur, direct.grouped(by)), check_exact=True)
        for rule in followup.RULES:
            params = () if rule == followup.DEFAULT_RULE else (("rule", rule),)
            for name, fn in TAKE_WINDOWS.items():
                shown = data_access.metric(name, stamp, scope, access, params)
                assert_frame_equal(shown, fn(cur, direct, rule), check_exact=True, obj=f"{name} {rule}")
            for by in ("site", "mentor"):  # the counts by group read the ungrouped windows
                shown = data_access.metric("followup_counts", stamp, scope.grouped(by), access, params)
                assert_frame_equal(shown, followup.followup_counts(cur, direct.grouped(by), rule), check_exact=True)
    finally:
        con.close()
