"""Chart images: valid PNG/SVG/PDF with the view in the title and the suppression rule in the
footnote, HTML without a browser, the figure on screen untouched, no count of 1-10 in a chart
exported from suppressed frames, and refusal below k."""

from __future__ import annotations

import concurrent.futures
import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import plotly.graph_objects as go
import pytest
from _demo_store import NARROW, demo_store
from PIL import Image

from analytics import charts, privacy, store, views
from analytics.exports import images, tables
from analytics.exports.context import ExportContext, suppression_rule
from analytics.metrics import engagement, goals, outcomes, retention
from analytics.metrics.scope import resolve_scope

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
    fig = charts.goals_chart(tables.chart_frame(goals.goals_by_domain(con, scope), "goals_by_domain", K), k=K)
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
        "goals": charts.goals_chart(tables.chart_frame(goals.goals_by_domain(con, scope), "goals_by_domain", K), k=K),
        "closures": charts.closure_reasons_chart(
            tables.chart_frame(retention.closure_reasons(con, scope), "closure_reasons", K), k=K),
        "distribution": charts.change_distribution_chart(
            tables.chart_frame(change, "change_distribution", K), "GSE10", k=K),
        "km": charts.km_chart(*tables.km_chart_frames(retention.retention_curve(con, scope), K), k=K),
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
    monkeypatch.setattr(images, "_RENDERER", images._Renderer())
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
