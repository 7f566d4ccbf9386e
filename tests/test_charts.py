"""Chart builders on the tiny program (tests/tiny_program.py), on empty frames and on small
synthetic frames. Period S = 2026-01-01, E = A = 2026-03-31. Figures are checked through their
traces and layout, never rendered, so the tests stay fast and need no browser.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics import stats
from analytics.metrics import engagement, goals, mentors, outcomes, quality, retention
from analytics.metrics.scope import resolve_scope
from analytics.present import charts, theme
from analytics.present.charts.compare import ForestSpec

N_IN_TITLE = re.compile(r"\((n = [\d,]+|n<\d+)")


@pytest.fixture(scope="module")
def frames(tiny_store):
    from analytics import store
    from analytics.store import views

    con = store.connect_read(tiny_store)
    cur = views.analysis_connection(con)
    s = resolve_scope(cur, start="2026-01-01", end="2026-03-31", as_of="2026-03-31")
    by_site = s.grouped("site")
    out = {
        "monthly": engagement.engagement_by_month(cur, s),
        "curve": retention.retention_curve(cur, s),
        "curve_site": retention.retention_curve(cur, by_site),
        "triangle": retention.cohort_triangle(cur, s),
        "closures": retention.closure_reasons(cur, s),
        "change": outcomes.outcome_change(cur, s),
        "change_site": outcomes.outcome_change(cur, by_site),
        "trend": outcomes.outcome_trend(cur, s),
        "dist": outcomes.change_distribution(cur, s),
        "goals": goals.goals_by_domain(cur, s),
        "mentors": mentors.mentor_caseloads(cur, s),
        "findings": quality.quality_findings(cur, s),
    }
    cur.close()
    con.close()
    return out


@pytest.fixture(scope="module")
def built(frames):
    """Every builder's figure for k = 1 and k = 11, built once (the tests only read them)."""
    return {k: _builders(frames, k) for k in (1, 11)}


def _builders(f, k):
    """Every builder on the tiny program's frames, with privacy threshold k."""
    gse_site = f["change_site"][f["change_site"]["instrument"] == "GSE10"]
    return {
        "engagement": charts.engagement_monthly_chart(f["monthly"], k=k),
        "km": charts.km_chart(f["curve"], k=k),
        "cohort": charts.cohort_heatmap(f["triangle"], k=k),
        "closures": charts.closure_reasons_chart(f["closures"], k=k),
        "intake_followup": charts.intake_followup_chart(f["change_site"], "GSE10", k=k),
        "trend": charts.trend_chart(f["trend"], "GSE10", k=k),
        "reliable": charts.reliable_change_chart(f["change"], k=k),
        "distribution": charts.change_distribution_chart(f["dist"], "GSE10", k=k),
        "goals": charts.goals_chart(f["goals"], k=k),
        "forest": charts.forest_plot(gse_site, ForestSpec(estimate="mean_change", low="ci95_low", high="ci95_high",
                                                           n="n_paired", x_title="Mean GSE10 change"), k=k),
        "mentors": charts.mentor_chart(f["mentors"], k=k),
        "quality": charts.quality_chart(f["findings"]),
    }


def _title(fig: go.Figure) -> str:
    return fig.layout.title.text


def _annotations(fig: go.Figure, name: str) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.name == name]


def _trace(fig: go.Figure, name: str):
    hits = [t for t in fig.data if t.name == name]
    assert hits, f"no trace named {name!r} in {[t.name for t in fig.data]}"
    return hits[0]


# --------------------------------------------------------------------------- every builder


@pytest.mark.parametrize("k", [1, 11])
def test_every_builder_gives_a_serialisable_figure_with_n_in_the_title(built, k):
    for name, fig in built[k].items():
        assert isinstance(fig, go.Figure), name
        assert N_IN_TITLE.search(_title(fig)), name
        json.loads(fig.to_json())  # what Streamlit and the exports consume
        assert fig.layout.template.layout.paper_bgcolor == "white", name
        assert fig.layout.meta["height"] > 0 and fig.layout.height > 0, name


def test_titles_carry_the_hand_counted_n(built):
    figs = built[1]
    # attended 6 + no-show 3 (ss4 flagged, cancelled ss5 not counted)
    assert "(n = 9 sessions attended or missed)" in _title(figs["engagement"])
    # pairs matched in [S, E]: pr1..pr4
    assert "(n = 4 pairs)" in _title(figs["km"])
    assert "(n = 4 pairs)" in _title(figs["cohort"])
    # closed in period: pr1 (lost_contact), pr3 (goals_met)
    assert "(n = 2 closures)" in _title(figs["closures"])
    # GSE10 paired: pt1, pt2 (North), pt3 (South)
    assert "(n = 3 participants)" in _title(figs["intake_followup"])
    assert "(n = 3 participants)" in _title(figs["distribution"])
    # GSE10 assessments as1..as8
    assert "(n = 8 assessments)" in _title(figs["trend"])
    assert "(n = 5 goals)" in _title(figs["goals"])
    # one instrument classified (GSE10): the 3 paired participants
    assert "(n = 3 participants)" in _title(figs["reliable"])
    assert "(n = 3)" in _title(figs["forest"])
    assert "(n = 2 mentors" in _title(figs["mentors"])
    # 1 + 2 BARC10 no-baseline, 1 + 1 no recent session, 1 session outside pair dates
    assert "(n = 6 records)" in _title(figs["quality"])


def test_small_totals_are_not_printed_in_titles(built):
    figs = built[11]
    assert "(n<11 sessions attended or missed)" in _title(figs["engagement"])
    assert "(n<11 pairs)" in _title(figs["km"])
    assert "(n<11 participants)" in _title(figs["intake_followup"])


EMPTY_COLUMNS = {
    "engagement_monthly_chart": ["grp", "month", "active_pairs", "attended", "no_show", "cancelled", "attendance_rate"],
    "km_chart": ["grp", *stats.KM_COLUMNS],
    "cohort_heatmap": ["grp", "cohort_month", "k", "pairs", "pairs_attending", "share"],
    "closure_reasons_chart": ["grp", "close_reason", "pairs", "is_disengagement"],
    "reliable_change_chart": ["grp", "instrument", "n_paired", "improved", "no_reliable_change", "declined"],
    "goals_chart": ["grp", "domain", "goals_set", "achieved", "achievement_rate"],
    "forest_plot": ["grp", "estimate", "low", "high", "n"],
    "mentor_chart": ["mentor_id", "site", "supervisor", "caseload_at_end", "attended", "no_show", "attendance_rate"],
    "quality_chart": ["finding", "description", "instrument", "site", "n"],
}
BY_INSTRUMENT = {
    "intake_followup_chart": ["grp", "instrument", "n_paired", "baseline_mean", "followup_mean"],
    "trend_chart": ["grp", "instrument", "month", "n", "mean", "sd", "ci95_low", "ci95_high"],
    "change_distribution_chart": ["grp", "instrument", "change", "participants"],
}


@pytest.mark.parametrize("builder", [*EMPTY_COLUMNS, *BY_INSTRUMENT])
@pytest.mark.parametrize("frame", ["none", "empty"])
def test_empty_input_says_no_data(builder, frame):
    columns = EMPTY_COLUMNS.get(builder) or BY_INSTRUMENT[builder]
    df = None if frame == "none" else pd.DataFrame(columns=columns)
    fn = getattr(charts, builder)
    fig = fn(df, "GSE10") if builder in BY_INSTRUMENT else fn(df)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 0
    note = _annotations(fig, "no_data")
    assert note and "No data" in note[0] or "No data-quality findings" in note[0]
    assert "(n = 0)" in _title(fig)
    fig.to_json()


def test_an_instrument_nobody_has_is_no_data(frames):
    # BARC10 in South: nobody paired
    south = frames["change_site"][frames["change_site"]["grp"] == "South"]
    fig = charts.intake_followup_chart(south, "BARC10")
    assert _annotations(fig, "no_data")


# --------------------------------------------------------------------------- palette and layout


def test_palette_is_okabe_ito():
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert set(theme.PALETTE) == okabe_ito
    assert len(theme.PALETTE) == 8
    assert list(theme.HOUSE_TEMPLATE.layout.colorway) == list(theme.PALETTE)


def test_palette_colours_are_used(frames, built):
    assert _trace(built[1]["engagement"], "Attendance rate").line.color == theme.PALETTE[1]
    km_site = charts.km_chart(frames["curve_site"], k=1)
    assert _trace(km_site, "North (n = 2)").line.color == theme.PALETTE[0]
    assert _trace(km_site, "South (n = 2)").line.color == theme.PALETTE[1]


def test_km_at_risk_labels_name_each_group_in_the_text_colour_with_its_curves_swatch(frames):
    # a name in the palette's yellow (#F0E442) or orange was hard to read on white: the label is
    # the name, then a swatch of the curve's colour
    km_site = charts.km_chart(frames["curve_site"], k=1)
    labels = list(km_site.layout.yaxis2.ticktext)
    assert labels == [f'North <span style="color:{theme.PALETTE[0]}">━━</span>',
                      f'South <span style="color:{theme.PALETTE[1]}">━━</span>']
    assert list(km_site.layout.yaxis2.tickvals) == ["North", "South"]


def test_house_layout_can_be_applied_again_by_exports(frames):
    fig = charts.closure_reasons_chart(frames["closures"], k=1)
    base_height = fig.layout.height
    footnote = _annotations(fig, "footnote")[0]
    title = _title(fig) + " - Site: North; Jan-Mar 2026; data as of 31 Mar 2026"
    theme.house_layout(fig, title=title, subtitle="Filters: Site North")
    assert _title(fig) == title
    assert fig.layout.title.subtitle.text == "Filters: Site North"
    assert _annotations(fig, "footnote") == [footnote]  # kept, not duplicated
    assert fig.layout.height > base_height  # the subtitle adds room instead of squeezing the plot
    theme.house_layout(fig, title=title, footnote="Counts of 1-10 are suppressed (shown as <11).")
    assert _annotations(fig, "footnote") == ["Counts of 1-10 are suppressed (shown as <11)."]
    assert fig.layout.title.subtitle.text == "Filters: Site North"
    theme.house_layout(fig, title=title, subtitle="", footnote="")
    assert not _annotations(fig, "footnote") and not fig.layout.title.subtitle.text


def test_long_footnotes_wrap():
    fig = theme.house_layout(go.Figure(), title="t", footnote="word " * 80)
    assert "<br>" in _annotations(fig, "footnote")[0]


def test_small_number_helpers():
    # the small-number rule itself is tested in tests/test_numbers.py
    assert theme.n_text(5) == "n<11" and theme.n_text(1234) == "n = 1,234"
    assert theme.count_text(3) == "<11" and theme.count_text(0) == "0"


# --------------------------------------------------------------------------- builders one by one


def test_engagement_monthly(frames):
    fig = charts.engagement_monthly_chart(frames["monthly"], k=1)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 1 and list(bars[0].y) == [4, 2, 0]
    assert list(_trace(fig, "Active pairs").y) == [3, 4, 3]
    rate = _trace(fig, "Attendance rate")
    assert rate.yaxis == "y2"
    # Jan 4/(4+2), Feb 2/2, Mar 0/1
    assert np.allclose(rate.y, [400 / 6, 100, 0])
    small = charts.engagement_monthly_chart(frames["monthly"], k=11)
    assert set(_trace(small, "Attendance rate").marker.symbol) == {"circle-open"}
    bar = [t for t in small.data if t.type == "bar"][0]
    # Jan 4 and Feb 2 attended are small; Mar's 0 is shown as it is
    assert list(bar.marker.pattern.shape) == [theme.SMALL_PATTERN, theme.SMALL_PATTERN, ""]
    assert "<11" in bar.text


def test_engagement_monthly_stacks_groups():
    monthly = pd.DataFrame(
        {
            "grp": ["A", "A", "B", "B"],
            "month": pd.to_datetime(["2026-01-01", "2026-02-01"] * 2),
            "active_pairs": [20, 21, 30, 31],
            "attended": [60, 62, 80, 90],
            "no_show": [20, 18, 20, 10],
            "cancelled": [1, 1, 1, 1],
            "attendance_rate": [0.75, 62 / 80, 0.8, 0.9],
        }
    )
    fig = charts.engagement_monthly_chart(monthly)
    assert fig.layout.barmode == "stack"
    assert len([t for t in fig.data if t.type == "bar"]) == 2
    # totals: Jan 140 / 180, Feb 152 / 180
    assert np.allclose(_trace(fig, "Attendance rate").y, [140 / 180 * 100, 152 / 180 * 100])
    assert "(n = 360 sessions attended or missed)" in _title(fig)


def _km_lines(fig):
    return [t for t in fig.data if t.type == "scatter" and t.mode == "lines" and t.showlegend is not False]


def test_km_on_the_tiny_program(frames):
    fig = charts.km_chart(frames["curve"], k=1)
    (line,) = _km_lines(fig)
    assert line.line.shape == "hv"
    # pr1 lost contact on day 39 with 4 at risk: S = 3/4 from then on
    assert list(line.y) == [100, 75, 75, 75, 75]
    # the hover's share is numbers.percent of S, not the browser's %{y:.0f}
    assert list(line.customdata[:, 3]) == ["100.0%", "75.0%", "75.0%", "75.0%", "75.0%"] and ":.0f" not in line.hovertemplate
    assert list(line.x) == [0, 39, 48, 57, 84]
    bands = [t for t in fig.data if t.fill == "tonexty"]
    assert len(bands) == 1
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 100
    assert fig.layout.xaxis.title.text == "Days since match"
    at_risk = [t for t in fig.data if t.mode == "text"]
    assert len(at_risk) == 1 and at_risk[0].yaxis == "y2"
    # durations 39, 48, 57, 84: at risk 4 on day 0 and 30, 1 on day 60
    assert list(at_risk[0].x) == [0, 30, 60] and list(at_risk[0].text) == ["4", "4", "1"]
    assert "Number at risk" in _annotations(fig, "at_risk_title")


def test_km_flags_small_groups(frames):
    fig = charts.km_chart(frames["curve_site"], k=11)
    lines = _km_lines(fig)
    assert {t.name for t in lines} == {"North (n<11)", "South (n<11)"}
    assert all(t.line.dash == "dash" for t in lines)
    assert not [t for t in fig.data if t.fill == "tonexty"]  # no band on a small group
    texts = [x for t in fig.data if t.mode == "text" for x in t.text]
    assert "<11" in texts and "4" not in texts
    flagged = charts.km_chart(frames["curve_site"], k=1, small_groups={"South"})
    assert {t.name for t in _km_lines(flagged)} == {"North (n = 2)", "South (n<1)"}


def _synthetic_curves(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for grp, n in (("Harbor", 150), ("Northside", 90), ("Tiny", 6)):
        t = rng.integers(0, 400, n)
        event = rng.random(n) < 0.4
        counts = pd.DataFrame({"t": t, "events": event.astype(int), "censored": (~event).astype(int)})
        curve = stats.kaplan_meier(counts)
        curve.insert(0, "grp", grp)
        parts.append(curve)
    return pd.concat(parts, ignore_index=True)


def test_km_curves_never_rise_and_stay_in_range():
    curve = _synthetic_curves()
    fig = charts.km_chart(curve, stats.at_risk_table(curve))
    lines = _km_lines(fig)
    assert len(lines) == 3
    for line in lines:
        y = np.asarray(line.y, dtype=float)
        assert (np.diff(y) <= 1e-9).all(), line.name
        assert y.min() >= 0 and y.max() <= 100
    for band in (t for t in fig.data if t.fill == "tonexty"):
        assert np.nanmin(np.asarray(band.y, dtype=float)) >= 0
    assert len([t for t in fig.data if t.fill == "tonexty"]) == 2  # the small group has none
    assert "Tiny (n<11)" in {t.name for t in lines}
    assert "(n = 246 pairs)" in _title(fig)


def test_cohort_heatmap(frames):
    fig = charts.cohort_heatmap(frames["triangle"], k=1)
    heat = fig.data[0]
    assert heat.type == "heatmap"
    assert list(heat.y) == ["Jan 2026", "Feb 2026"]
    z = np.asarray(heat.z, dtype=float)
    # Jan 2026: 3 pairs all attended in days 0-29, none in days 30-59; Feb 2026: pr4 attended
    assert z[0, 0] == 100 and z[0, 1] == 0 and z[1, 0] == 100
    assert np.isnan(z[1, 1]) and np.isnan(z[0, 2])  # not yet observed: blank
    assert heat.text[0][0] == "100.0%" and heat.text[1][5] == ""
    small = charts.cohort_heatmap(frames["triangle"], k=11)
    assert np.isnan(np.asarray(small.data[0].z, dtype=float)).all()
    assert small.data[1].text[0][0] == "n<11"


def test_closure_reasons_highlight_disengagement(frames):
    fig = charts.closure_reasons_chart(frames["closures"], k=1)
    bars = {t.name: t for t in fig.data if t.type == "bar"}
    assert len(bars) == 2
    dis = [t for t in bars.values() if list(t.y) == ["Lost contact"]][0]
    other = [t for t in bars.values() if list(t.y) == ["Goals met"]][0]
    assert dis.marker.color[0] == theme.DECLINED and other.marker.color[0] == theme.NEUTRAL
    assert dis.text[0] == "1 (50.0%)"
    legend = {t.name for t in fig.data if t.showlegend is not False}
    assert legend == {"Disengagement (counts as stopping)", "Other reason"}
    assert charts.closure_reasons_chart(frames["closures"], k=11).data[0].text[0] == "<11"


def test_closure_shares_only_when_every_count_is_shown():
    # Exported from a suppressed frame: lost_contact hidden (NaN), goals_met 40, moved 20.
    # Shares of the shown 60 would be shares of the wrong total, so the bars carry counts only.
    frame = pd.DataFrame({
        "grp": ["all"] * 3, "close_reason": ["lost_contact", "goals_met", "moved"],
        "pairs": [np.nan, 40.0, 20.0], "is_disengagement": [True, False, False],
    })
    texts = [t for tr in charts.closure_reasons_chart(frame, k=11).data if tr.type == "bar" for t in tr.text]
    assert sorted(texts) == ["20", "40", "<11"]
    # All shown (lost_contact 15): 15 + 40 + 20 = 75, so 40 is 53.3% (40/75 = 0.5333) and 15 is 20.0%.
    shown = frame.assign(pairs=[15.0, 40.0, 20.0])
    texts = [t for tr in charts.closure_reasons_chart(shown, k=11).data if tr.type == "bar" for t in tr.text]
    assert "40 (53.3%)" in texts and "15 (20.0%)" in texts


def test_intake_followup_dumbbell(frames):
    fig = charts.intake_followup_chart(frames["change_site"], "GSE10", k=1)
    intake = [t for t in fig.data if t.mode == "markers+text" and "Intake" in t.hovertemplate][0]
    follow = [t for t in fig.data if t.mode == "markers+text" and "Follow-up" in t.hovertemplate][0]
    # North: pt1 20 -> 26, pt2 22 -> 25; South: pt3 30 -> 27
    assert list(intake.y) == ["North", "South"]
    assert list(intake.x) == [21.0, 30.0] and list(follow.x) == [25.5, 27.0]
    # hover and label print the same text: (20 + 22) / 2 = 21.0, (26 + 25) / 2 = 25.5
    assert list(intake.customdata[:, 0]) == list(intake.text) == ["21.0", "30.0"]
    assert list(follow.customdata[:, 0]) == ["25.5", "27.0"] and "%{x" not in follow.hovertemplate
    assert _annotations(fig, "n_label") == ["n = 2", "n = 1"]
    small = charts.intake_followup_chart(frames["change_site"], "GSE10", k=11)
    assert _annotations(small, "n_label") == ["n<11", "n<11"]
    assert all(c.startswith("rgba(") for t in small.data if t.mode == "markers+text" for c in t.marker.color)
    one = charts.intake_followup_chart(frames["change_site"], "GSE10", k=1, small_groups={"South"})
    assert _annotations(one, "n_label") == ["n = 2", "n<1"]


def test_trend(frames):
    fig = charts.trend_chart(frames["trend"], "GSE10", k=1)
    line = _trace(fig, "Mean score")
    # month 0: 20, 22, 30, 30, 18; month 1: 26, 27; month 2: 25
    assert list(line.x) == [0, 1, 2] and np.allclose(line.y, [24.0, 26.5, 25.0])
    assert list(line.customdata[:, 0]) == ["n = 5", "n = 2", "n = 1"]
    # the hover prints the mean as the server formats it (numbers.fixed), never %{y:.1f}
    assert list(line.customdata[:, 2]) == ["24.0", "26.5", "25.0"] and ":.1f" not in line.hovertemplate
    assert any(t.fill == "tonexty" for t in fig.data)  # CI band where n >= 2
    small = charts.trend_chart(frames["trend"], "GSE10", k=11)
    assert len(_trace(small, "Mean score").x) == 0
    faint = [t for t in small.data if t.name and "(n<11)" in t.name][0]
    assert list(faint.x) == [0, 1, 2] and faint.marker.symbol == "circle-open"
    assert "n<11" in _annotations(small, "footnote")[0]


def test_reliable_change_bars(frames):
    fig = charts.reliable_change_chart(frames["change"], k=1)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["Improved reliably", "No reliable change", "Declined reliably"]
    assert fig.layout.barmode == "stack"
    # GSE10 only (BARC10 has one paired participant: no SD, nobody classified); 1 of 3 improved
    assert len(bars[0].y) == 1 and "General Self-Efficacy Scale" in bars[0].y[0] and "n = 3" in bars[0].y[0]
    assert np.allclose([bars[0].x[0], bars[1].x[0], bars[2].x[0]], [100 / 3, 200 / 3, 0])
    small = charts.reliable_change_chart(frames["change"], k=11)
    bar = [t for t in small.data if t.type == "bar"][0]
    assert "n<11" in bar.y[0] and bar.marker.pattern.shape[0] == theme.SMALL_PATTERN


def test_change_distribution(frames):
    fig = charts.change_distribution_chart(frames["dist"], "GSE10", k=1, threshold=5.5)
    (bar,) = [t for t in fig.data if t.type == "bar"]
    # pt1 +6, pt2 +3, pt3 -3
    assert list(bar.x) == [-3, 3, 6] and list(bar.y) == [1, 1, 1]
    assert list(bar.marker.color) == [theme.DECLINED, theme.IMPROVED, theme.IMPROVED]
    xs = sorted(s.x0 for s in fig.layout.shapes)
    assert xs == [-5.5, 0, 5.5]


def test_change_distribution_bins_wide_spreads():
    dist = pd.DataFrame({"grp": "all", "instrument": "GSE10", "change": np.arange(-20, 31), "participants": 12})
    fig = charts.change_distribution_chart(dist, "GSE10")
    (bar,) = [t for t in fig.data if t.type == "bar"]
    assert len(bar.x) <= 17 and 0 in list(bar.x)
    assert sum(bar.y) == 12 * 51


def test_goals_chart_skips_all_domains_row(frames):
    fig = charts.goals_chart(frames["goals"], k=1)
    bars = {t.name: t for t in fig.data if t.type == "bar"}
    assert list(bars["Goals set"].x) == ["Health", "Home", "Purpose", "Community"]
    # gl1, gl3 health achieved; gl5 achieved after A: open
    assert list(bars["Goals set"].y) == [2, 1, 1, 1] and list(bars["Achieved"].y) == [2, 0, 0, 0]
    assert _annotations(fig, "rate_label") == ["100.0% achieved", "0.0% achieved", "0.0% achieved", "0.0% achieved"]
    assert _annotations(charts.goals_chart(frames["goals"], k=11), "rate_label") == ["n<11"] * 4


def test_forest_plot_generic():
    effects = pd.DataFrame(
        {"grp": ["North", "South", "East"], "estimate": [3.9, -1.0, 2.0], "low": [3.1, -2.5, None],
         "high": [4.7, 0.5, None], "n": [120, 40, 7]}
    )
    fig = charts.forest_plot(effects, ForestSpec(x_title="Mean change"), by="site")
    assert _title(fig) == "Mean change by site (n = 167)"
    points = _trace(fig, "Estimate")
    assert list(points.y) == ["North", "South", "East"] and list(points.x) == [3.9, -1.0, 2.0]
    assert fig.layout.yaxis.autorange == "reversed"  # first row on top
    (null,) = [s for s in fig.layout.shapes if s.name == "null_line"]
    assert null.x0 == 0
    labels = _annotations(fig, "n_label")
    assert labels[0] == "3.9 (3.1 to 4.7)   n = 120" and labels[2] == "n<11"
    assert points.marker.color[2].startswith("rgba(")
    whiskers = [t for t in fig.data if t.mode == "lines"]
    assert sum(x is None for t in whiskers for x in t.x) == 2  # East has no CI: no whisker


def test_forest_plot_hazard_ratios_on_a_log_axis():
    effects = pd.DataFrame({"grp": ["A", "B"], "hr": [0.6, 1.5], "hr_lower": [0.4, 1.1], "hr_upper": [0.9, 2.0],
                            "pairs": [200, 180]})
    ratios = ForestSpec(estimate="hr", low="hr_lower", high="hr_upper", n="pairs", null_value=1.0, log_x=True)
    fig = charts.forest_plot(effects, replace(ratios, x_title="Hazard ratio"))
    assert fig.layout.xaxis.type == "log"
    lo, hi = fig.layout.xaxis.range
    assert lo < math.log10(0.4) and hi > math.log10(2.0)  # log axis ranges are log10 units
    assert [s.x0 for s in fig.layout.shapes if s.name == "null_line"] == [1.0]
    assert "0.60 (0.40 to 0.90)" in _annotations(fig, "n_label")[0]
    # 0.4-2.0 padded by 8% of the log span (log10 5 = 0.699, pad 0.056): 0.35-2.3, so the fine
    # ticks 0.5, 0.7, 1, 1.5, 2 (five: 4 to 8 fit) rather than the coarse 0.5, 1, 2.
    assert list(fig.layout.xaxis.tickvals) == [0.5, 0.7, 1, 1.5, 2]
    wide = effects.assign(hr_lower=[0.02, 1.1], hr_upper=[0.9, 40.0])
    # 0.02-40 spans 3.3 decades (pad 0.26): 0.011-74, where the fine set would give 12 ticks, so
    # the coarse one is used, 0.02 to 50.
    ticks = charts.forest_plot(wide, ratios).layout.xaxis.tickvals
    assert list(ticks) == [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]


def test_forest_plot_percent_and_suppressed_rows():
    effects = pd.DataFrame({"grp": ["A", "B"], "estimate": [0.75, np.nan], "low": [0.7, np.nan],
                            "high": [0.8, np.nan], "n": [400, np.nan]})
    fig = charts.forest_plot(effects, ForestSpec(percent=True, null_value=0.76, x_title="Attendance rate"))
    assert list(_trace(fig, "Estimate").x[:1]) == [75.0]
    assert _annotations(fig, "n_label") == ["75.0% (70.0% to 80.0%)   n = 400", "n<11"]
    assert [s.x0 for s in fig.layout.shapes if s.name == "null_line"] == [76.0]
    fig.to_json()


def test_mentor_chart(frames):
    fig = charts.mentor_chart(frames["mentors"], k=1)
    points = [t for t in fig.data if t.mode == "markers" and t.x and t.x[0] is not None]
    assert {t.name for t in points} == {"Kim", "Lee"}
    # mn1 (Lee): 4 attended, 2 no-show; mn2 (Kim): 2 attended, 1 no-show; pooled 6 / 9 = 66.7%
    assert all(np.allclose(t.y, [200 / 3]) for t in points)
    assert _annotations(fig, "pooled_label") == ["All mentors: 66.7%"]
    small = charts.mentor_chart(frames["mentors"], k=11)
    open_points = [t for t in small.data if t.mode == "markers" and t.x and t.x[0] is not None]
    # one style per trace: the mentors below k are drawn in traces of open markers
    symbols = [t.marker.symbol for t in open_points]
    assert symbols and all(isinstance(s, str) and s.endswith("-open") for s in symbols)
    assert "Open marker: n<11 sessions" in {t.name for t in small.data}


def test_mentor_colours_repeat_with_a_new_shape_past_eight_supervisors():
    df = pd.DataFrame({"mentor_id": [f"m{i}" for i in range(10)], "site": "A",
                       "supervisor": [f"S{i:02d}" for i in range(10)], "pairs_in_scope": 20,
                       "caseload_at_end": range(10), "attended": 30, "no_show": 10, "attendance_rate": 0.75})
    fig = charts.mentor_chart(df)
    legend = {t.name: t.marker for t in fig.data if t.x == (None,)}
    assert legend["S00"].color == legend["S08"].color
    assert legend["S00"].symbol != legend["S08"].symbol


def test_quality_chart(frames):
    fig = charts.quality_chart(frames["findings"])
    bars = {t.name: t for t in fig.data if t.type == "bar"}
    assert set(bars) == {"North", "South"}
    assert fig.layout.barmode == "stack"
    assert sorted(_annotations(fig, "total_label")) == ["1", "2", "3"]
    assert "No baseline assessment (BARC10)" in set(bars["South"].y)
    # counts in the hover are numbers.count text, as in the totals
    assert all(c.isdigit() for t in bars.values() for c in t.customdata) and "%{x" not in bars["South"].hovertemplate


def test_screens_offer_no_image_button_that_would_skip_suppression():
    # Images of charts leave only through the export menus, built from suppressed frames and
    # audited; plotly's own camera button would hand out the unsuppressed screen image.
    assert "toImage" in theme.PLOTLY_CONFIG["modeBarButtonsToRemove"]
    assert "toImageButtonOptions" not in theme.PLOTLY_CONFIG


def _notes(fig) -> str:
    return " ".join(a.text or "" for a in fig.layout.annotations).replace("<br>", " ")


def test_cohort_heatmap_drops_cell_text_on_large_screen_grids(frames):
    # The tiny triangle: 2 match months x 12 windows = 24 cells, under the 240-cell limit, so
    # the screen mode (cell_text=None) still prints the shares, as the export mode does.
    auto = charts.cohort_heatmap(frames["triangle"], k=1, cell_text=None)
    assert auto.data[0].texttemplate == "%{text}" and auto.data[0].text[0][0] == "100.0%"
    assert auto.data[0].xgap == 2
    # Forced off (what a 42-month default period gets on screen: 42 x 12 = 504 cells > 240):
    # no printed shares, no cell gaps, the hover still carries each share.
    off = charts.cohort_heatmap(frames["triangle"], k=1, cell_text=False)
    assert off.data[0].texttemplate is None and off.data[0].xgap == 0
    assert all(t == "" for row in off.data[0].text for t in row)
    assert "100.0% attended" in off.data[0].customdata[0][0]
    assert "in the data under the chart" in _notes(off)
    # Small cells stay flagged without their "n<11" label: grey, and said so in the footnote.
    small = charts.cohort_heatmap(frames["triangle"], k=11, cell_text=False)
    assert small.data[1].z[0][0] == 1
    assert "Grey cells rest on fewer than 11 pairs" in _notes(small)


def test_numbers_at_risk_span_the_whole_follow_up():
    # A curve followed to day 1,300 (the demo's 3.5 years): ticks every 180 days up to
    # 1,260 (<= 1,300 x 1.03 + 1 = 1,340; 1,440 is beyond), not stopping at day 365.
    curve = pd.DataFrame({"grp": ["all"] * 3, "t": [0.0, 400.0, 1300.0], "at_risk": [100, 60, 12],
                          "events": [0, 5, 1], "censored": [0, 0, 11], "survival": [1.0, 0.9, 0.8]})
    table = stats.at_risk_table(curve)
    assert table["day"].tolist() == list(range(0, 1261, 180))
    # day 720: the first row with t >= 720 is t = 1300, 12 at risk; day 0: 100
    assert table.set_index("day")["at_risk"][720] == 12 and table.set_index("day")["at_risk"][0] == 100
    fig = charts.km_chart(curve, table, k=11)
    assert list(fig.layout.xaxis.tickvals)[-1] == 1260


def test_add_lines_adds_the_shapes_plotly_adds_for_vertical_and_horizontal_lines():
    """theme.add_lines writes, in one assignment, the shapes plotly's add_vline and add_hline
    write one at a time (same JSON, keys sorted), after the shapes already there; a figure with
    subplots, whose axes add_vline finds in its grid, is refused."""
    def figure() -> go.Figure:
        fig = go.Figure(go.Bar(x=[-3, 0, 4], y=[2, 5, 1]))
        fig.add_shape(type="rect", x0=-1, x1=1, y0=0, y1=2)
        return fig

    solid, dashed = {"color": "#333", "width": 1.2, "dash": "solid"}, {"color": "#999", "width": 1, "dash": "dash"}
    plotly_own = figure()
    plotly_own.add_vline(x=0, line=solid)
    plotly_own.add_hline(y=2.5, line=dashed)
    plotly_own.add_vline(x=-1.96, line=dashed)
    ours = theme.add_lines(figure(), ("x", 0, solid), ("y", 2.5, dashed), ("x", -1.96, dashed))
    assert len(ours.layout.shapes) == 4
    assert json.dumps(ours.to_plotly_json(), sort_keys=True) == json.dumps(plotly_own.to_plotly_json(), sort_keys=True)
    from plotly.subplots import make_subplots

    with pytest.raises(ValueError, match="without subplots"):
        theme.add_lines(make_subplots(specs=[[{"secondary_y": True}]]), ("x", 0, solid))
    with pytest.raises(ValueError, match="an x or a y"):
        theme.add_lines(figure(), ("z", 0, solid))


def test_add_annotations_writes_the_annotations_plotly_adds_one_at_a_time():
    """theme.add_annotations assigns, once, the annotations plotly's add_annotation appends one
    call at a time (same JSON, keys sorted), after those already there; a figure with subplots
    is refused."""
    def figure() -> go.Figure:
        fig = go.Figure(go.Scatter(x=[1, 2], y=["a", "b"]))
        fig.add_annotation(name="first", text="kept first", x=0.5, y=1.05, xref="paper", yref="paper")
        return fig

    rows = [{"name": "n_label", "x": 1, "xref": "paper", "xanchor": "left", "xshift": 12, "y": lab, "yref": "y",
             "text": f"n = {n}", "showarrow": False, "font": {"size": 12, "color": "#666"}}
            for lab, n in (("a", 12), ("b", 40))]
    plotly_own = figure()
    for row in rows:
        plotly_own.add_annotation(**row)
    ours = theme.add_annotations(figure(), rows)
    assert [a.text for a in ours.layout.annotations] == ["kept first", "n = 12", "n = 40"]
    assert json.dumps(ours.to_plotly_json(), sort_keys=True) == json.dumps(plotly_own.to_plotly_json(), sort_keys=True)
    from plotly.subplots import make_subplots

    with pytest.raises(ValueError, match="without subplots"):
        theme.add_annotations(make_subplots(specs=[[{"secondary_y": True}]]), rows)


def test_the_monthly_chart_places_its_traces_and_axes_as_make_subplots_with_a_second_y_axis():
    """engagement_monthly_chart writes out the axes make_subplots(secondary_y) makes and puts
    each trace where its add_trace(secondary_y=...) would: the same figure, built once."""
    from plotly.subplots import make_subplots

    monthly = pd.DataFrame({"grp": ["North"] * 2 + ["South"] * 2,
                            "month": pd.to_datetime(["2026-01-01", "2026-02-01"] * 2),
                            "active_pairs": [3, 4, 2, 2], "attended": [40, 25, 12, 30], "no_show": [6, 5, 3, 2],
                            "cancelled": [1, 0, 0, 2], "attendance_rate": [40 / 46, 25 / 30, 12 / 15, 30 / 32]})
    fig = charts.engagement_monthly_chart(monthly)
    ref = make_subplots(specs=[[{"secondary_y": True}]])
    for t in fig.data:
        d = t.to_plotly_json()
        axis = d.pop("yaxis", None)
        d.pop("xaxis", None)
        ref.add_trace(d) if axis is None else ref.add_trace(d, secondary_y=axis == "y2")
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [(t.xaxis, t.yaxis) for t in ref.data]
    assert {t.yaxis for t in fig.data} == {"y", "y2", None}  # counts left, the rate right, legend entries
    for axis in ("xaxis", "yaxis", "yaxis2"):
        for key in ("anchor", "domain", "overlaying", "side"):
            assert fig.layout[axis][key] == ref.layout[axis][key], (axis, key)
