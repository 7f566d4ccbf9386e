"""Chart images for funders: PNG, SVG and PDF through kaleido, or standalone HTML without a browser.

The images are drawn by one headless browser per process (``analytics.exports.browser``: its
start, its reuse between images, its failures as ``ImageExportUnavailable``).

Exported figures are copies: the on-screen figure is never changed. The copy's title gains the
filters, period, n and as-of date, and its footnote the suppression rule (via
``theme.house_layout``). The figure must already be built from suppressed frames
(``exports.tables.chart_frame``): an image can only show what the figure holds, and the HTML
export holds the figure's data verbatim.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Literal

import plotly.graph_objects as go

from analytics.exports import browser
from analytics.exports.browser import (  # noqa: F401 - the image API callers use, with the figures
    INSTALL_HINT,
    NO_BROWSER_NOTE,
    ImageExportUnavailable,
    images_available,
    start,
    warm_up,
)
from analytics.exports.context import ExportContext
from analytics.present import theme

Format = Literal["png", "svg", "pdf", "html"]
FORMATS: tuple[str, ...] = ("png", "svg", "pdf", "html")
MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
}

DEFAULT_WIDTH = 900  # px; footnotes wrap for >= 700 px (theme._FOOTNOTE_WRAP)

# The n a chart puts at the end of its title (``theme._title``): "(n = 725 closures)", "(n<11 pairs)".
_TITLE_N = re.compile(r"\s*\((?:n = [\d,]+|n<\d+)[^()]*\)\s*$")
NO_TOTAL = "total not stated: some counts suppressed"


def title_without_total(title: str) -> str:
    """The title with its n replaced by a note that no total is stated.

    A chart's n is the sum of the cells it is given. Drawn from a frame with suppressed cells
    it would either count only the cells shown (725 closures printed as 720) or read "n<11"
    for a large total; the true total cannot be stated either when the hidden cells sum to 1..k-1
    (total minus the cells shown gives that sum back). So an export states none and says why;
    the subtitle still gives the pairs in scope."""
    if not _TITLE_N.search(title):
        return title
    return _TITLE_N.sub(f" ({NO_TOTAL})", title)


def without_total(fig: go.Figure) -> go.Figure:
    """``fig`` drawn from frames with hidden cells, as a suppressed screen shows it: a copy whose
    title states no total (``title_without_total``), or ``fig`` itself when its title has no n."""
    title = fig.layout.title.text or ""
    retitled = title_without_total(title)
    if retitled == title:
        return fig
    out = go.Figure(fig)  # a copy: the figure cached for every session stays as it is
    out.layout.title.text = retitled
    return out


# A chart for export: a function drawing it from suppressed frames, returning the figure and the
# frames that had cells hidden (``frames.chart_frame``, ``km_chart_frames``,
# ``panels.export_figure``).
ExportBuild = Callable[[], tuple[go.Figure, tuple[str, ...]]]


# A note added to a chart's footnote (what an export of it leaves out): the one helper, in the
# house style the charts are drawn with.
with_footnote = theme.with_footnote


def build_for_export(build: ExportBuild) -> tuple[go.Figure, str | None]:
    """Draw a chart for export: the figure, and the title the export must carry instead of the
    chart's own (``title_without_total``) when a frame it was drawn from had hidden cells, or
    None."""
    fig, hidden = build()
    return fig, (title_without_total(fig.layout.title.text or "") if hidden else None)


def annotated(fig: go.Figure, context: ExportContext, title: str | None = None) -> go.Figure:
    """A copy of ``fig`` titled with the view (filters, period, n, as-of) and footed with the
    suppression rule (``title`` replaces the chart's own). The original figure is not changed."""
    out = go.Figure(fig)  # a deep copy
    legend_items = [t for t in out.data if t.showlegend is not False and t.name]
    if out.layout.showlegend is None and len(legend_items) == 1:
        # house_layout leaves room for a legend only from two entries on, but plotly still draws
        # a lone entry that has a legendgroup (the one-group Kaplan-Meier curve), over the title.
        out.update_layout(showlegend=False)
    meta = dict(out.layout.meta) if isinstance(out.layout.meta, dict) else {}
    # Filter values (site names) are data: plotly reads tags in text, so they are escaped.
    view = html.escape(context.describe(), quote=False)
    subtitle = meta.get("subtitle") or ""
    footnote = meta.get("footnote") or ""
    return theme.house_layout(
        out,
        title=title if title is not None else (out.layout.title.text or ""),
        subtitle=f"{subtitle}<br>{view}" if subtitle else view,
        footnote=f"{footnote}<br>{context.footnote}" if footnote else context.footnote,
    )


def export_chart(
    fig: go.Figure,
    fmt: Format,
    *,
    context: ExportContext,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
    title: str | None = None,
) -> bytes:
    """The chart as PNG, SVG, PDF or standalone HTML bytes.

    Raises ``privacy.ExportRefused`` when the view covers fewer than k pairs, and
    ``ImageExportUnavailable`` for PNG/SVG/PDF when no browser can render (HTML always works:
    plotly.js is inlined, since users may be offline). ``scale`` defaults to 2 for PNG (sharp
    when pasted into a document) and 1 for vector formats. ``title`` replaces the chart's title
    (plain text), e.g. to state a total the suppressed frame no longer sums to.
    """
    return export_chart_later(fig, fmt, context=context, width=width, height=height, scale=scale, title=title)()


def export_chart_later(
    fig: go.Figure,
    fmt: Format,
    *,
    context: ExportContext,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
    title: str | None = None,
) -> Callable[[], bytes]:
    """``export_chart`` with the drawing left to the browser while the caller goes on (the grant
    report builds its next chart meanwhile): returns a function that waits for the bytes.

    The view is checked, the figure annotated and handed over before this returns, so
    ``privacy.ExportRefused`` and a browser that cannot start (``ImageExportUnavailable``)
    are raised here; a failure while drawing is raised by the returned function.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}; choose one of {', '.join(FORMATS)}")
    context.check_allowed()
    out = annotated(fig, context, title)
    if fmt == "html":
        page = out.to_html(include_plotlyjs=True, full_html=True, config=theme.PLOTLY_CONFIG).encode("utf-8")
        return lambda: page
    meta = out.layout.meta if isinstance(out.layout.meta, dict) else {}
    opts = {
        "format": fmt,
        "width": int(width or DEFAULT_WIDTH),
        "height": int(height or out.layout.height or meta.get("height") or theme.DEFAULT_HEIGHT),
        "scale": float(scale if scale is not None else (2 if fmt == "png" else 1)),
    }
    return browser.submit(out.to_dict(), opts)


def file_name(name: str, fmt: str) -> str:
    """A safe download name: letters, digits, '-' and '_' only (never a path from data)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "chart"
    return f"{stem[:80]}.{fmt}"
