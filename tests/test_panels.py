"""The panel catalogue (analytics.panels): each panel draws the chart, sentence and files the
pages drew by hand before, on screen from the page's frames and for images from suppressed
frames; every panel's metric has suppression rules; the Reports page offers the same charts."""

from __future__ import annotations

import pandas as pd
import pytest
from _demo_store import NARROW, demo_store

from analytics import stats, store
from analytics.domain.contract import INSTRUMENTS
from analytics.domain.instruments import ALWAYS_REPORTED
from analytics.metrics import outcomes
from analytics.metrics.scope import resolve_scope
from analytics.panels import METRICS, PANELS, ExportView, ScreenView, report_charts
from analytics.present import charts
from analytics.present import sentences as narrative
from analytics.privacy import frames
from analytics.privacy.screen import suppressed_for_screen
from analytics.store import views

K = 11


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    cur = views.analysis_connection(store.connect_read(demo_store(tmp_path_factory)))
    yield cur
    cur.close()


@pytest.fixture(scope="module", params=["whole", "narrow"])
def scope(request, con):
    if request.param == "whole":
        return resolve_scope(con)
    return resolve_scope(con, start=NARROW["start"], end=NARROW["end"],
                         filters={"site": list(NARROW["sites"]), "funding_stream": list(NARROW["funding_streams"])})


def _getter(con, scope):
    # Memoized as the app's cache is: DuckDB's parallel float sums may differ in the last bit
    # between two runs of one query, and both sides here must read the same frames.
    seen = {}

    def get(name, other=None):
        key = (name, other or scope)
        if key not in seen:
            seen[key] = METRICS[name](con, other or scope)
        return seen[key]

    return get


def _same(a, b):
    assert a.to_json() == b.to_json()


def test_every_panel_metric_has_suppression_rules():
    # A panel without rules would be refused to grant writers (privacy.screen raises KeyError).
    for name, panel in PANELS.items():
        assert panel.metric in METRICS, name
        assert panel.metric in frames.FRAME_SPECS, name


def test_every_metric_has_a_screen_rule(con):
    # Grant writers' screens go through privacy.screen: no aggregate metric may be missing there
    # (a row-level one is given only to the roles of its page, never suppressed).
    from ui.data_access import ROW_LEVEL

    scope = resolve_scope(con)
    for name, fn in METRICS.items():
        if name not in ROW_LEVEL:
            suppressed_for_screen(name, fn(con, scope), K)


def test_images_are_the_charts_drawn_from_suppressed_frames(con, scope):
    # What the pages' image menus drew before the catalogue, written out by hand.
    raw = _getter(con, scope)
    export = ExportView(get=raw, scope=scope, k=K)

    def framed(name, by=None):
        return frames.chart_frame(raw(name, scope.grouped(by) if by else None), name, K)[0]

    _same(PANELS["engagement_by_month"].figure(export), charts.engagement_monthly_chart(framed("engagement_by_month"), k=K))
    _same(PANELS["retention_km"].figure(export),
          charts.km_chart(*frames.km_chart_frames(raw("retention_curve"), K)[:2], k=K))
    _same(PANELS["cohort_triangle"].figure(export), charts.cohort_heatmap(framed("cohort_triangle"), k=K))
    _same(PANELS["closure_reasons"].figure(export), charts.closure_reasons_chart(framed("closure_reasons"), k=K))
    _same(PANELS["goals_by_domain"].figure(export), charts.goals_chart(framed("goals_by_domain"), k=K))
    _same(PANELS["mentor_caseloads"].figure(export), charts.mentor_chart(framed("mentor_caseloads"), k=K))
    _same(PANELS["quality_findings"].figure(export), charts.quality_chart(framed("quality_findings")))
    for code in outcomes.instruments(con):  # the instruments reported (the demo: GSE10, BARC10, PHQ9)
        _same(PANELS["intake_followup"].figure(export, code=code),
              charts.intake_followup_chart(framed("outcome_change", "site"), code, k=K))
        _same(PANELS["trend"].figure(export, code=code), charts.trend_chart(framed("outcome_trend"), code, k=K))
        change = framed("outcome_change")
        _same(PANELS["reliable_change"].figure(export, code=code),
              charts.reliable_change_chart(change[change["instrument"] == code], k=K))
        shown = frames.suppressed_table(raw("outcome_change"), "outcome_change", K)
        s_diff = shown.loc[shown["instrument"] == code, "s_diff"].iloc[0]
        threshold = None if isinstance(s_diff, str) or s_diff != s_diff else 1.96 * float(s_diff)
        _same(PANELS["change_distribution"].figure(export, code=code),
              charts.change_distribution_chart(framed("change_distribution"), code, k=K, threshold=threshold))
    # the Reports page's whole-program versions
    _same(PANELS["intake_followup"].figure(export, code="GSE10", by=None),
          charts.intake_followup_chart(framed("outcome_change"), "GSE10", k=K))
    _same(PANELS["reliable_change"].figure(export), charts.reliable_change_chart(framed("outcome_change"), k=K))


def test_screens_draw_from_the_pages_frames_with_their_sentences(con, scope):
    raw = _getter(con, scope)
    view = ScreenView(get=raw, scope=scope, k=K)
    period = {"start": scope.start, "end": scope.end}

    def screen(name, **params):
        panel = PANELS[name]
        p = panel.params(**params)
        args, kwargs = panel.call(view, p, screen=True)
        return panel.chart(*args, **kwargs), panel.say(view, p), panel.data_frame(view, p, args)

    curve = raw("retention_curve")
    fig, sentence, data = screen("retention_km")
    _same(fig, charts.km_chart(curve, stats.at_risk_table(curve), k=K))
    assert sentence == narrative.retention_sentence(raw("retention_summary"), **period, k=K, curve=curve)
    pd.testing.assert_frame_equal(data, curve)

    fig, sentence, _ = screen("cohort_triangle")
    _same(fig, charts.cohort_heatmap(raw("cohort_triangle"), k=K, cell_text=None))
    assert sentence == narrative.cohort_sentence(raw("cohort_triangle"), k=K)

    totals = raw("engagement_totals").iloc[0]
    fig, sentence, _ = screen("engagement_by_month")
    assert sentence == narrative.engagement_sentence(totals, **period, k=K)

    change, by_site = raw("outcome_change"), raw("outcome_change", scope.grouped("site"))
    for code in outcomes.instruments(con):
        o = change[change["instrument"] == code].iloc[0]
        site_rows = by_site[by_site["instrument"] == code]
        fig, sentence, data = screen("intake_followup", code=code)
        _same(fig, charts.intake_followup_chart(site_rows, code, k=K))
        assert sentence == narrative.outcome_sentence(code, o, k=K)
        pd.testing.assert_frame_equal(data, site_rows)
        assert screen("reliable_change", code=code)[1] == narrative.reliable_change_sentence(code, o, k=K)
        s_diff = o["s_diff"]
        threshold = None if s_diff != s_diff else 1.96 * float(s_diff)
        dist = raw("change_distribution")
        _same(screen("change_distribution", code=code)[0],
              charts.change_distribution_chart(dist[dist["instrument"] == code], code, k=K, threshold=threshold))

    assert screen("mentor_caseloads")[2] is None  # the Mentors page shows its own table


def test_suppressed_screens_show_the_numbers_at_risk_not_the_curve(con):
    scope = resolve_scope(con)
    raw = _getter(con, scope)
    view = ScreenView(get=raw, scope=scope, k=K, suppressed=True)
    panel = PANELS["retention_km"]
    p = panel.params()
    data = panel.data_frame(view, p, panel.call(view, p)[0])
    assert list(data.columns) == ["grp", "day", "at_risk"]


def test_file_names_and_keys_are_the_pages_own():
    p = PANELS
    assert p["intake_followup"].file_stem(code="GSE10") == "intake_followup_GSE10"
    assert p["intake_followup"].data_file_stem(code="GSE10") == "outcome_change_GSE10_by_site"
    assert p["intake_followup"].widget_key("outcomes", code="BARC10") == "outcomes__dumbbell_BARC10"
    assert p["trend"].data_file_stem(code="GSE10") == "outcome_trend_GSE10"
    assert p["reliable_change"].data_file_stem(code="GSE10") == "outcome_change_GSE10"
    assert p["change_distribution"].file_stem(code="GSE10") == "change_distribution_GSE10"
    assert p["retention_km"].file_stem() == "retention_km"
    assert p["retention_km"].data_file_stem() == "retention_curve"
    assert p["quality_findings"].file_stem() == "data_quality_findings"
    assert p["quality_findings"].data_file_stem() == "quality_findings"
    assert p["engagement_by_month"].widget_key("overview") == "overview__monthly"
    assert p["dose_change"].file_stem(code="PHQ9") == "dose_change_PHQ9"
    assert p["threshold"].widget_key("outcomes", code="BARC10") == "outcomes__threshold_BARC10"
    with pytest.raises(KeyError):
        p["trend"].params(code="")


BUILT_IN = [(c, INSTRUMENTS[c]) for c in ALWAYS_REPORTED]  # without a store's registry


def test_the_reports_page_offers_the_charts_it_offered():
    offered = [(PANELS[name].file_stem(**params), PANELS[name].chart_title(**params)) for name, params in report_charts()]
    assert offered == [
        ("engagement_by_month", "Sessions attended and attendance rate by month"),
        ("retention_km", "Pairs still meeting, by days since match"),
        ("cohort_triangle", "Share of pairs attending, by month of match"),
        ("closure_reasons", "Why pairs closed"),
        *((f"intake_followup_{c}", f"{i.name}: intake and follow-up") for c, i in BUILT_IN),
        *((f"trend_{c}", f"{i.name}: mean score by months since enrollment") for c, i in BUILT_IN),
        ("reliable_change", "Reliable change from intake to follow-up"),
        *((f"dose_change_{c}", f"{i.name}: change by sessions attended") for c, i in BUILT_IN),
        ("goals_by_domain", "Goals set and achieved by recovery domain"),
    ]


def test_per_instrument_panels_follow_the_stores_registry(con):
    from analytics.panels import panels_for, registry_of

    view = ScreenView(get=_getter(con, resolve_scope(con)), scope=resolve_scope(con), k=K)
    reported = registry_of(view)
    assert list(reported) == ["GSE10", "BARC10", "PHQ9"]  # the demo's instruments with data
    # the cut-off chart only for instruments with a threshold in the registry
    assert panels_for(reported, "threshold") == ["BARC10", "PHQ9"]
    offered = [params.get("code") for name, params in report_charts(reported) if name == "dose_change"]
    assert offered == ["GSE10", "BARC10", "PHQ9"]
    assert PANELS["trend"].chart_title(reported, code="PHQ9") == (
        "Patient Health Questionnaire-9: mean score by months since enrollment")
