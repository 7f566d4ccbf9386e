"""Chart images: valid PNG/SVG/PDF with the view in the title and the suppression rule in the
footnote, HTML without a browser, the figure on screen untouched, no count of 1-10 in a chart
exported from suppressed frames, and refusal below k."""

from __future__ import annotations

import concurrent.futures
import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from _compare_frames import compare_groups_frame, km_curve_by_group
from _demo_store import NARROW, demo_store
from PIL import Image

from analytics import privacy, store
from analytics.exports import browser, images
from analytics.exports.context import ExportContext, suppression_rule
from analytics.metrics import engagement, goals, outcomes, retention
from analytics.metrics.scope import resolve_scope
from analytics.present import charts
from analytics.privacy import frames
from analytics.store import views

K = 11
SVG_NS = "{http://www.w3.org/2000/svg}"
needs_browser = pytest.mark.skipif(not images.images_available(), reason="no Chrome/Chromium for kaleido")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory)


def _view(con, **kw):
    scope = resolve_scope(con, **kw)
    n = int(engagement.pair_counts(con, scope)["pairs_in_scope"].sum())
    return scope, ExportContext.from_scope(scope, n, K)


@pytest.fixture(scope="module")
def full(demo_db):
    con = views.analysis_connection(store.connect_read(demo_db))
    scope, context = _view(con)
    fig = charts.goals_chart(frames.chart_frame(goals.goals_by_domain(con, scope), "goals_by_domain", K)[0], k=K)
    yield fig, context
    con.close()


@pytest.fixture(scope="module")
def narrow(demo_db):
    """Charts of a one-site, one-month slice, built from suppressed frames."""
    con = views.analysis_connection(store.connect_read(demo_db))
    scope, context = _view(con, start=NARROW["start"], end=NARROW["end"],
                           filters={"site": NARROW["sites"], "funding_stream": NARROW["funding_streams"]})
    change = outcomes.change_distribution(con, scope)
    figs = {
        "goals": charts.goals_chart(frames.chart_frame(goals.goals_by_domain(con, scope), "goals_by_domain", K)[0], k=K),
        "closures": charts.closure_reasons_chart(
            frames.chart_frame(retention.closure_reasons(con, scope), "closure_reasons", K)[0], k=K),
        "distribution": charts.change_distribution_chart(
            frames.chart_frame(change, "change_distribution", K)[0], "GSE10", k=K),
        "km": charts.km_chart(*frames.km_chart_frames(retention.retention_curve(con, scope), K)[:2], k=K),
    }
    yield figs, context
    con.close()


def svg_texts(svg: bytes) -> list[str]:
    """Text of the chart outside axis tick labels (ticks are positions on a scale, not counts)."""
    root = ET.fromstring(svg)
    out: list[str] = []

    def walk(node, in_tick: bool) -> None:
        cls = node.get("class") or ""
        tick = in_tick or bool(re.match(r"^(x|y)\d*tick$", cls))
        if node.tag == f"{SVG_NS}text" and not tick:
            out.append("".join(node.itertext()))
        for child in node:
            walk(child, tick)

    walk(root, False)
    return out


def small_counts(texts: list[str], k: int = K) -> list[str]:
    """Whole numbers 1..k-1 standing alone as a label, or as 'n = x': printed counts of 1-10."""
    bad = []
    for t in texts:
        t = t.strip()
        for m in re.finditer(r"(?:^|n\s*=\s*)(\d[\d,]*)$", t):
            v = int(m.group(1).replace(",", ""))
            if 0 < v < k:
                bad.append(t)
    return bad


@needs_browser
def test_png_svg_pdf_valid(full):
    fig, context = full
    png = images.export_chart(fig, "png", context=context)
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG"
    # scale 2 by default; the height is the annotated figure's (title and footnote lines added)
    assert im.size == (2 * images.DEFAULT_WIDTH, 2 * int(images.annotated(fig, context).layout.height))
    assert im.size[1] >= 2 * int(fig.layout.height)
    svg = images.export_chart(fig, "svg", context=context, width=700, height=400)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg" and root.get("width") == "700" and root.get("height") == "400"
    pdf = images.export_chart(fig, "pdf", context=context)
    assert pdf.startswith(b"%PDF")


@needs_browser
def test_title_and_footnote_carry_the_view(full):
    fig, context = full
    text = " ".join(svg_texts(images.export_chart(fig, "svg", context=context)))
    assert "Goals set and achieved by recovery domain" in text
    assert "All pairs" in text and "7 Apr 2023 to 30 Sep 2026" in text
    assert f"{context.n:,} pairs in scope" in text and "data as of 30 Sep 2026" in text
    assert suppression_rule(K) in text.replace("  ", " ")


def test_on_screen_figure_unchanged(full):
    fig, context = full
    before = fig.to_json()
    images.export_chart(fig, "html", context=context)
    images.annotated(fig, context)
    assert fig.to_json() == before


def test_html_is_standalone(full):
    fig, context = full
    page = images.export_chart(fig, "html", context=context).decode("utf-8")
    assert page.lstrip().lower().startswith(("<html", "<!doctype html"))
    assert not re.search(r"<script[^>]+src=", page), "no script fetched from elsewhere"
    assert len(page) > 1_000_000, "plotly.js is inlined, so the file works offline"
    # JSON in the page writes "<" as \u003c
    assert "data as of 30 Sep 2026" in page and suppression_rule(K).replace("<", "\\u003c") in page


def test_refused_below_k():
    small = ExportContext(filters="Mentor: m1", start=date(2026, 1, 1), end=date(2026, 1, 31),
                          as_of=date(2026, 3, 31), n=6, k=K)
    for fmt in images.FORMATS:
        with pytest.raises(privacy.ExportRefused):
            images.export_chart(go.Figure(), fmt, context=small)


def test_without_a_browser_html_still_works(full, monkeypatch):
    fig, context = full
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    monkeypatch.setattr(browser, "_RENDERER", browser._Renderer())
    assert not images.images_available()
    with pytest.raises(images.ImageExportUnavailable) as err:
        images.export_chart(fig, "png", context=context)
    assert "apt-get install chromium" in str(err.value) and "BROWSER_PATH" in str(err.value)
    assert b"<html>" in images.export_chart(fig, "html", context=context)[:200]


@needs_browser
def test_no_small_count_printed_in_exported_charts(narrow):
    figs, context = narrow
    seen_label = False
    for name, fig in figs.items():
        texts = svg_texts(images.export_chart(fig, "svg", context=context))
        assert not small_counts(texts), (name, small_counts(texts))
        seen_label |= any(t.strip() == "<11" for t in texts)
        html = images.export_chart(fig, "html", context=context).decode("utf-8")
        # the HTML carries the figure's data: small counts must not be in it either
        assert not re.search(r'"text":\["(?:[1-9]|10)"', html), name
    assert seen_label, "the slice should have suppressed cells drawn as <11"


@needs_browser
def test_concurrent_exports_do_not_cross(full):
    fig, context = full
    titles = [f"Chart number {i}" for i in range(6)]

    def make(title: str) -> str:
        return " ".join(svg_texts(images.export_chart(fig, "svg", context=context, title=title)))

    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(make, titles))
    for title, text in zip(titles, results, strict=True):
        assert title in text and all(t not in text for t in titles if t != title)


def test_file_names_are_safe():
    assert images.file_name("../../etc/passwd", "png") == "etc_passwd.png"
    assert images.file_name("Goals: by domain", "svg") == "Goals__by_domain.svg"


# ------------------------------------------------------------------------------- titles beside hidden cells


def closures(pairs) -> pd.DataFrame:
    return pd.DataFrame({"grp": "all", "close_reason": ["lost_contact", "rematched", "goals_met", "program_exit"],
                         "pairs": pairs, "is_disengagement": [True, False, False, False]})


def closures_chart(pairs):
    """An export build (``images.ExportBuild``): the closure chart from suppressed frames and
    what they hid."""
    frame, hidden = frames.chart_frame(closures(pairs), "closure_reasons", K)
    return lambda: (charts.closure_reasons_chart(frame, k=K), hidden)


def test_an_exported_title_states_no_total_beside_hidden_cells():
    # 4 + 15 + 30 + 676 = 725 closures; 4 is hidden and 15 with it (complement), so the chart
    # sums 30 + 676 = 706: neither 706 (the cells shown) nor 725 (which, beside the shown cells,
    # gives back 4 + 15) goes in the title.
    fig, title = images.build_for_export(closures_chart([4, 15, 30, 676]))
    assert fig.layout.title.text == "Why pairs closed (n = 706 closures)"  # what the chart alone would say
    context = ExportContext(filters="all pairs", start=date(2026, 1, 1), end=date(2026, 3, 31),
                            as_of=date(2026, 3, 31), n=800, k=K)
    exported = images.annotated(fig, context, title).layout.title.text
    assert exported == "Why pairs closed (total not stated: some counts suppressed)"
    # with nothing hidden the chart's own n stays: 11 + 15 + 30 + 676 = 732
    fig, title = images.build_for_export(closures_chart([11, 15, 30, 676]))
    assert title is None and images.annotated(fig, context).layout.title.text == "Why pairs closed (n = 732 closures)"


def test_the_download_menus_apply_the_title_rule():
    from ui import downloads

    context = ExportContext(filters="all pairs", start=date(2026, 1, 1), end=date(2026, 3, 31),
                            as_of=date(2026, 3, 31), n=800, k=K)

    page = downloads._chart_bytes(closures_chart([4, 15, 30, 676]), "html", context)().decode("utf-8")
    assert images.NO_TOTAL in page and "n = 706" not in page and "n = 725" not in page


def test_titles_without_an_n_are_left_alone():
    assert images.title_without_total("Caseload (n = 39 mentors, <11 pairs)") == f"Caseload ({images.NO_TOTAL})"
    assert images.title_without_total("Mean change (n<11 participants)") == f"Mean change ({images.NO_TOTAL})"
    assert images.title_without_total("Reliable change") == "Reliable change"


def test_a_suppressed_screen_retitles_a_copy_of_the_cached_figure():
    import plotly.graph_objects as go

    fig = go.Figure(layout={"title": {"text": "Why pairs closed (n<11 closures)"}})
    shown = images.without_total(fig)
    assert shown.layout.title.text == f"Why pairs closed ({images.NO_TOTAL})"
    # the figure every session is handed stays as it was; a title without an n is kept as it is
    assert fig.layout.title.text == "Why pairs closed (n<11 closures)"
    plain = go.Figure(layout={"title": {"text": "Reliable change"}})
    assert images.without_total(plain) is plain


# ------------------------------------------------------------------------------- charts drawn from suppressed frames


def test_a_distribution_bar_pooling_a_hidden_count_says_so():
    # changes -12..+12 span 24 points: bins of 3 (24 / 3 = 8 bins <= 16). Bin -3 holds -3 (hidden)
    # and -2 (20): "20+"; bin 0 holds 0 (15) and +1 (hidden): "15+"; -12 (12), +2 -> +3 (30), +12 (11) whole.
    dist = pd.DataFrame({"grp": "all", "instrument": "GSE10", "change": [-12, -3, -2, 0, 1, 2, 12],
                         "participants": [12, np.nan, 20, 15, np.nan, 30, 11]})
    fig = charts.change_distribution_chart(dist, "GSE10", k=K)
    (bar,) = [t for t in fig.data if t.type == "bar"]
    assert list(bar.x) == [-12, -3, 0, 3, 12]
    assert list(bar.text) == ["12", "20+", "15+", "30", "11"]
    assert "A count marked + leaves out a suppressed count" in fig.layout.meta["footnote"].replace("<br>", " ")


def test_the_mentor_chart_pools_only_counts_it_has_and_says_who_is_not_drawn():
    mentors = pd.DataFrame({
        "mentor_id": ["m1", "m2", "m3"], "site": "A", "supervisor": "S", "pairs_in_scope": [20, 18, 14],
        "caseload_at_end": [12, 15, np.nan], "attended": [40, 30, 25], "no_show": [10, np.nan, 15],
        "attendance_rate": [0.8, np.nan, 0.625],
    })
    fig = charts.mentor_chart(mentors, k=K)
    # m2's no-show is hidden: pooled over m1 and m3, (40 + 25) / (50 + 40) = 72.2%, not 95 / 90 = 105.6%
    assert [a.text for a in fig.layout.annotations if a.name == "pooled_label"] == ["Mentors with counts shown: 72.2%"]
    # m2 has no rate, m3 no caseload
    assert "2 of 3 mentors are not drawn" in fig.layout.meta["footnote"].replace("<br>", " ")
    assert not any("Open marker" in (t.name or "") for t in fig.data), "no flagged mentor is drawn"


def test_quality_totals_leave_out_hidden_site_counts_and_say_so():
    findings = pd.DataFrame({
        "finding": ["overdue_followup"] * 3 + ["no_baseline"] * 2, "description": "",
        "instrument": "GSE10", "site": ["A", "B", "C", "A", "B"], "n": [11, np.nan, 17, np.nan, np.nan],
    })
    fig = charts.quality_chart(findings)
    # 11 + 17 = 28 shown of overdue follow-ups; both no-baseline counts hidden
    assert sorted(a.text for a in fig.layout.annotations if a.name == "total_label") == ["28+", "suppressed"]
    for trace in (t for t in fig.data if t.type == "bar"):
        assert not any(pd.isna(x) for x in trace.x), "a blank bar breaks plotly's stacking"
    assert "A total marked + leaves out suppressed site counts." in fig.layout.meta["footnote"].replace("<br>", " ")


# ------------------------------------------------------------------------------- the Compare page


def compare_result(no_show=(30, 15, 4, 12)) -> dict:
    groups = compare_groups_frame(no_show).drop(columns="sessions")
    return {"by": "site", "groups": groups, "curve": km_curve_by_group(), "small_groups": ["C"]}


def compare_export(name: str, result: dict, **params):
    """The Compare panel ``name`` drawn for export (``panels.export_figure``) from ``result`` as
    the comparison, and the frames it hid; no instrument definitions (so higher is better)."""
    from analytics.domain.scope import Filters, Scope
    from analytics.metrics.instruments import COLUMNS
    from analytics.panels import export_figure

    def get(metric, other=None, settings=()):
        if metric == "instrument_registry":
            return pd.DataFrame(columns=list(COLUMNS))
        assert metric == "compare_groups" and dict(settings) == {"by": "site", "k": K}
        return result

    scope = Scope(as_of=date(2026, 3, 31), start=date(2026, 1, 1), end=date(2026, 3, 31), filters=Filters())
    return export_figure(name, get, scope, K, by="site", **params)


def test_the_compare_forest_plots_blank_a_small_group():
    fig, title = images.build_for_export(lambda: compare_export("compare_hazard_ratios", compare_result()))
    labels = [a.text for a in fig.layout.annotations if a.name == "n_label"]
    # A shown with its n; B's pairs hidden (complement), C below k: flagged; D: pairs 48 shown,
    # its events hidden, so no estimate beside its n
    assert labels[0] == "1.10 (0.60 to 2.00)   n = 60"
    assert labels[1:] == ["n<11", "n<11", "n = 48"]
    points = [t for t in fig.data if t.name == "Estimate"][0]
    assert points.x[0] == 1.1 and all(pd.isna(x) for x in points.x[1:])
    assert title == f"Hazard of disengaging vs all other groups by site ({images.NO_TOTAL})"
    assert "No estimate is shown where it rests on a suppressed count" in fig.layout.meta["footnote"].replace("<br>", " ")


def test_the_compare_attendance_line_is_the_pooled_rate_only_when_it_may_be_stated():
    fig, _ = compare_export("compare_attendance", compare_result())
    # no-show 4 (C) and 12 (D) hidden, 16 >= 11: all groups' rate, 288 / (288 + 61) = 82.5%
    (line,) = [s for s in fig.layout.shapes if s.name == "null_line"]
    assert line.x0 == pytest.approx(100 * 288 / 349)
    # no-show 3 (B) and 4 (C) hidden, 7 would come back: the rate of A and D, 210 / (210 + 50) = 80.8%
    fig, _ = compare_export("compare_attendance", compare_result((30, 3, 4, 20)))
    (line,) = [s for s in fig.layout.shapes if s.name == "null_line"]
    assert line.x0 == pytest.approx(100 * 210 / 260)
    assert "groups whose session counts are shown" in fig.layout.meta["footnote"].replace("<br>", " ")


def test_the_compare_km_export_leaves_out_and_names_a_small_group():
    fig, title = images.build_for_export(lambda: compare_export("compare_km", compare_result()))
    curves = [t.name for t in fig.data if t.name and "band" not in t.name and "at risk" not in t.name]
    assert curves == ["A (n = 20)"]
    assert "Not drawn (fewer than 11 pairs matched): B." in fig.layout.meta["footnote"].replace("<br>", " ")
    assert title is not None and images.NO_TOTAL in title


@needs_browser
def test_a_compare_forest_plot_exports_as_png_and_svg():
    context = ExportContext(filters="Site: A, B, C, D", start=date(2026, 1, 1), end=date(2026, 3, 31),
                            as_of=date(2026, 3, 31), n=101, k=K)
    fig, title = images.build_for_export(
        lambda: compare_export("compare_change", compare_result(), code="GSE10"))
    png = images.export_chart(fig, "png", context=context, title=title)
    assert Image.open(io.BytesIO(png)).format == "PNG"
    texts = svg_texts(images.export_chart(fig, "svg", context=context, title=title))
    text = " ".join(texts).replace("  ", " ")
    assert f"GSE10 mean change by site ({images.NO_TOTAL})" in text
    assert "Site: A, B, C, D · 1 Jan 2026 to 31 Mar 2026 · 101 pairs in scope · data as of 31 Mar 2026" in text
    assert suppression_rule(K) in text and "n<11" in text
    assert not small_counts(texts)
