"""Chart images for funders: PNG, SVG and PDF through kaleido, or standalone HTML without a browser.

kaleido 1.x renders in headless Chrome/Chromium. Starting the browser takes seconds and each
further image about 0.2 s (see ``_kaleido_class``), so one browser is kept per process, started
on first use and shared by every thread (Streamlit runs each download callback on a thread of
its own).

We run kaleido's ``Kaleido`` on an event loop of our own rather than through
``kaleido.start_sync_server()``: that server's ``call_function`` waits on a queue without a
timeout, so when the browser fails to start (its thread dies) the caller hangs for ever, and two
threads calling at once can receive each other's images. Here every call is a future with a
timeout on one loop, so failures surface as ``ImageExportUnavailable`` and images never cross.

Exported figures are copies: the on-screen figure is never changed. The copy's title gains the
filters, period, n and as-of date, and its footnote the suppression rule (via
``theme.house_layout``). The figure must already be built from suppressed frames
(``exports.tables.chart_frame``): an image can only show what the figure holds, and the HTML
export holds the figure's data verbatim.
"""

from __future__ import annotations

import asyncio
import atexit
import html
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Literal

import plotly.graph_objects as go

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

INSTALL_HINT = (
    "install Debian's chromium (apt-get install chromium) or set BROWSER_PATH to a Chrome or "
    "Chromium executable"
)
NO_BROWSER_NOTE = (
    "Chart images (PNG, SVG, PDF) need a Chrome or Chromium browser on the server, and none is "
    f"available: {INSTALL_HINT}. Interactive HTML charts are offered instead."
)

DEFAULT_WIDTH = 900  # px; footnotes wrap for >= 700 px (theme._FOOTNOTE_WRAP)
START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 60.0
RELOAD_EVERY = 25  # images per browser tab between page reloads
RETRY_AFTER_S = 300.0  # a failed start is not retried before this (a server may fix itself)


class ImageExportUnavailable(RuntimeError):
    """No browser to render chart images; the message says what to install."""


def browser_path() -> str | None:
    """The Chrome/Chromium kaleido would use: BROWSER_PATH if set (and executable), else a search."""
    override = os.environ.get("BROWSER_PATH")
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    try:  # a browser fetched with kaleido_get_chrome lives outside PATH
        from choreographer.browsers.chromium import Chromium

        return Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - a failed search means "none found"
        return None


def _kaleido_class():
    """kaleido's browser, reusing its tab between images.

    Stock kaleido reloads the tab after every image, which re-parses plotly.js: about 0.35 s of
    the 0.55 s an image takes. plotly renders each figure into a detached element and purges it,
    so consecutive images come out byte-identical without the reload (checked for PNG, SVG and
    PDF with kaleido 1.5); the tab is still reloaded every RELOAD_EVERY images to bound memory.
    This overrides a private kaleido method, so with a kaleido that lacks it the stock class is
    used (slower, same output).
    """
    import kaleido

    base = kaleido.Kaleido
    if not hasattr(base, "_return_kaleido_tab"):
        return base

    class ReusingKaleido(base):
        _images = 0

        async def _return_kaleido_tab(self, tab) -> None:
            self._images += 1
            if self._images % RELOAD_EVERY == 0 or not hasattr(self, "tabs_ready"):
                await super()._return_kaleido_tab(tab)
            else:
                await self.tabs_ready.put(tab)

    return ReusingKaleido


class _ClosingNoise(logging.Filter):
    # choreographer logs a full traceback for a half-written message the browser leaves in its
    # pipe when it is closed (at exit), and then ignores the message; only that record is dropped.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("JSONError decoding message")


_CLOSING_NOISE = _ClosingNoise()


def _quiet_closing_noise() -> None:
    # Through logistro, as choreographer gets its loggers: a plain logging.getLogger first would
    # create that logger without the debug2 level choreographer calls.
    import logistro

    logistro.getLogger("choreographer.channels.pipe").addFilter(_CLOSING_NOISE)


class _Renderer:
    """One headless browser on one private event loop; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None
        self._failure: str | None = None
        self._failed_at = 0.0

    def _failed(self) -> str | None:
        """The reason of a recent failed start (an old one is forgotten, so the next call retries)."""
        if self._failure is not None and time.monotonic() - self._failed_at > RETRY_AFTER_S:
            self._failure = None
        return self._failure

    def available(self) -> bool:
        """True when images can probably be made (no recent failed start, a browser is found)."""
        if self._kaleido is not None:
            return True
        return self._failed() is None and browser_path() is not None

    def _start(self) -> None:
        if browser_path() is None:
            self._failure, self._failed_at = f"no Chrome or Chromium browser was found: {INSTALL_HINT}", time.monotonic()
            raise ImageExportUnavailable(f"Chart images are unavailable: {self._failure}.")
        _quiet_closing_noise()
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="chart-images", daemon=True).start()

        async def open_browser():
            # mathjax=False: the default fetches MathJax from a CDN, and servers may be offline.
            k = _kaleido_class()(n=1, timeout=RENDER_TIMEOUT_S, mathjax=False)
            await k.open()
            return k

        future = asyncio.run_coroutine_threadsafe(open_browser(), loop)
        try:
            self._kaleido = future.result(timeout=START_TIMEOUT_S)
        except BaseException as exc:  # noqa: BLE001 - any failure to start means no images
            future.cancel()
            loop.call_soon_threadsafe(loop.stop)
            reason = "it did not start in time" if isinstance(exc, FutureTimeout) else type(exc).__name__
            self._failure = f"the browser could not be started ({reason}); {INSTALL_HINT}"
            self._failed_at = time.monotonic()
            raise ImageExportUnavailable(f"Chart images are unavailable: {self._failure}.") from None
        self._loop = loop
        atexit.register(self.close)

    def render(self, figure: dict, opts: dict) -> bytes:
        return self.submit(figure, opts)()

    def submit(self, figure: dict, opts: dict) -> Callable[[], bytes]:
        """Hand the figure to the browser and return at once: the returned function waits for
        the image (raising as ``render`` does). Images asked for together queue in the
        browser's tab and come back in order, each with its own timeout from when it is
        awaited."""
        with self._lock:
            if self._kaleido is None:
                if self._failed() is not None:
                    raise ImageExportUnavailable(f"Chart images are unavailable: {self._failure}.")
                self._start()
            k, loop = self._kaleido, self._loop
        future = asyncio.run_coroutine_threadsafe(k.calc_fig(figure, opts=opts), loop)
        return lambda: self._result(future)

    def _result(self, future) -> bytes:
        try:
            return future.result(timeout=RENDER_TIMEOUT_S + 5)
        except FutureTimeout:
            future.cancel()
            self.close()  # a stuck browser is replaced on the next call
            raise ImageExportUnavailable("The chart image timed out; try again.") from None
        except Exception as exc:
            from kaleido.errors import BrowserClosedError, BrowserFailedError

            if isinstance(exc, BrowserClosedError | BrowserFailedError):
                # The browser died: drop it so the next call starts a fresh one.
                self.close()
                raise ImageExportUnavailable(
                    f"The chart image could not be made: the browser stopped ({type(exc).__name__}); try again."
                ) from exc
            raise  # a figure plotly.js cannot draw is a bug to see, not a missing browser

    def close(self) -> None:
        with self._lock:
            k, loop = self._kaleido, self._loop
            self._kaleido = self._loop = None
        if k is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(timeout=15)
        except BaseException:  # noqa: BLE001 - closing is best effort (also runs at exit)
            pass
        loop.call_soon_threadsafe(loop.stop)


_RENDERER = _Renderer()


def images_available() -> bool:
    """Whether PNG/SVG/PDF can be offered (a browser is found and has not failed to start)."""
    return _RENDERER.available()


def start() -> None:
    """Start the browser now (e.g. before a batch of images); raises ImageExportUnavailable."""
    with _RENDERER._lock:
        if _RENDERER._kaleido is not None:
            return
        if _RENDERER._failed() is not None:
            raise ImageExportUnavailable(f"Chart images are unavailable: {_RENDERER._failure}.")
        _RENDERER._start()


def warm_up() -> None:
    """Start the browser on a background thread and return at once: a report's queries then
    run while the browser starts (a first image waits for it; a failure shows up there)."""

    def start_quietly() -> None:
        try:
            start()
        except ImageExportUnavailable:
            pass  # remembered; export_chart raises it with the same message

    if _RENDERER._kaleido is None and _RENDERER.available():
        threading.Thread(target=start_quietly, name="chart-images-start", daemon=True).start()


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
    return _RENDERER.submit(out.to_dict(), opts)


def file_name(name: str, fmt: str) -> str:
    """A safe download name: letters, digits, '-' and '_' only (never a path from data)."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "chart"
    return f"{stem[:80]}.{fmt}"
