"""The headless browser that draws chart images (kaleido 1.x over Chrome/Chromium).

Starting the browser takes seconds (most of it the page parsing and running plotly.js) and each
further image about 0.2 s (see ``_kaleido_class``), so one browser is kept per process, started
on first use and shared by every thread (Streamlit runs each download callback on a thread of
its own).

We run kaleido's ``Kaleido`` on an event loop of our own rather than through
``kaleido.start_sync_server()``: that server's ``call_function`` waits on a queue without a
timeout, so when the browser fails to start (its thread dies) the caller hangs for ever, and two
threads calling at once can receive each other's images. Here every call is a future with a
timeout on one loop, so failures surface as ``ImageExportUnavailable`` and images never cross.

This module imports nothing beyond the standard library until the browser starts (kaleido
then), so a command can start the browser before it loads pandas, plotly and the store: the
grant report's charts then find it ready (``warm_up``). The figures themselves are made in
``analytics.exports.images``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout

INSTALL_HINT = (
    "install Debian's chromium (apt-get install chromium) or set BROWSER_PATH to a Chrome or "
    "Chromium executable"
)
NO_BROWSER_NOTE = (
    "Chart images (PNG, SVG, PDF) need a Chrome or Chromium browser on the server, and none is "
    f"available: {INSTALL_HINT}. Interactive HTML charts are offered instead."
)


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
        self._exit_hook = False

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
        self._close_at_exit()
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

    def _close_at_exit(self) -> None:
        """Close the browser when the process ends, before the browser's temporary profile is
        removed: a process that ends while the browser is still starting (a report refused
        after `warm_up`) waits for the start (``close`` takes the lock ``_start`` holds), then
        closes it, rather than deleting the profile under a running browser (a traceback)."""
        if self._exit_hook:
            return
        self._exit_hook = True
        # atexit runs last-registered first; weakref.finalize registers its own exit hook (which
        # removes temporary directories) on first use, so make sure it is registered before ours.
        weakref.finalize(self, lambda: None)
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


def submit(figure: dict, opts: dict) -> Callable[[], bytes]:
    """Hand a figure (``Figure.to_dict()``) and kaleido's options to the browser, starting it
    if needed; returns a function that waits for the image bytes (``_Renderer.submit``)."""
    return _RENDERER.submit(figure, opts)


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

