"""Warm the server before it takes visitors: imports, the store, and every page's default view.

The first visitor of a fresh server used to pay for importing plotly and pandas and for every
query of the page they opened (about 3 s at the M tier), and each page's first visit paid for
its own queries (1-2 s). ``warm`` does that work once, at start, through the same cached calls
the pages make (``ui.data_access``), so the caches hold exactly what a visitor with the
default filters asks for.

It warms the full-access view: the local single-user mode, and signed-in program managers
(who share its cache key, ``Access.cache_key``: every site, unsuppressed, mentor views). Other
roles' views are computed on their first visit, as before. Nothing is warmed for a
store without pairs; the pages then say there is no data.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from collections.abc import Iterator

from analytics.domain.access import LOCAL_ACCESS, Access

# What the pages import beyond ui.setup: loaded here so the first run does not wait for them.
MODULES = (
    "pandas",
    "plotly.graph_objects",
    "plotly.io",
    "analytics.present.charts",
    "analytics.present.sentences",
    "analytics.metrics.compare",
    "analytics.stats",
    "ui.setup",
    "ui.components",
    "ui.downloads",
    "ui.compare_view",
    "ui.uploads",
)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Streamlit warns about cached calls made outside a script run; here that is the point."""
    # A filter, not a level: Streamlit resets its loggers' levels when it first reads its config.
    loggers = [logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict) if n.startswith("streamlit")]
    for lg in loggers:
        lg.addFilter(_drop_warnings)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(_drop_warnings)


def _drop_warnings(record: logging.LogRecord) -> bool:
    return record.levelno > logging.WARNING


def import_modules() -> None:
    for name in MODULES:
        importlib.import_module(name)


def warm(access: Access = LOCAL_ACCESS) -> dict[str, float]:
    """Compute the store's default view of every page into the caches; returns seconds per step.

    Builds the demo store first when there is none (as the first page view would).
    """
    import streamlit  # noqa: F401  (its loggers exist from here on, so _quiet can reach them)

    timings: dict[str, float] = {}
    with _quiet():
        t = time.perf_counter()
        import_modules()
        timings["imports"] = time.perf_counter() - t

        from analytics.domain.scope import DIMENSIONS, Filters, ScopeError
        from ui import data_access, filters

        t = time.perf_counter()
        stamp = data_access.ensure_store()
        info = data_access.store_info(stamp)
        timings["store"] = time.perf_counter() - t
        as_of, earliest = info["latest_session"], info["earliest_match"]
        if as_of is None or earliest is None:
            return timings
        data_access.filter_choices(stamp, access)
        start, end = filters.preset_dates(filters.DEFAULT_PERIOD, filters.Bounds(as_of=as_of, earliest=earliest))
        try:
            scope = data_access.scope_for(stamp, start, end, Filters(), access)
        except ScopeError:
            return timings

        from analytics.panels import PANELS, WITH_SETTINGS_ONLY, panels_for, registry_of
        from ui import panel

        t = time.perf_counter()
        for name in data_access.METRICS:
            if name in WITH_SETTINGS_ONLY:  # the comparison: warmed with its panels, below
                continue
            if name == "mentor_caseloads" and not access.can_see_mentors:
                continue
            if name in data_access.ROW_LEVEL and not access.may_open(data_access.ROW_LEVEL[name]):
                continue
            data_access.metric(name, stamp, scope, access)
        # The Overview's previous period.
        data_access.metric("headline", stamp, scope.shifted_back(), access)
        data_access.pairs_in_scope(stamp, scope, access)
        # Every panel's frames and sentence, as the pages draw them (ui.panel.show), so each
        # grouping a panel asks for (the Outcomes page's per-site rows) is cached too; the
        # Compare page's panels in their own step, for the roles that see comparisons.
        view = panel.screen_view(stamp, scope, access)
        reported = registry_of(view)  # the instruments the Outcomes page has a tab for

        def warm_panels(compared: bool) -> None:
            for name, p in PANELS.items():
                if p.unsuppressed_only != compared or (p.mentor_level and not access.can_see_mentors):
                    continue
                for code in panels_for(reported, name) if p.per_instrument else (None,):
                    params = p.params(code=code)
                    p.call(view, params, screen=True)
                    p.say(view, params)

        warm_panels(compared=False)
        # The landing page's chart, built as the Overview builds it (same builder, frame and k,
        # so the same cache entry): the first visitor's page is sent without building it.
        landing = PANELS["engagement_by_month"]
        panel.screen_figure(landing, view, landing.params())
        timings["metrics"] = time.perf_counter() - t

        if not access.suppress_on_screen:
            # The Compare page's default (the first dimension): its groups, tests and panels.
            t = time.perf_counter()
            data_access.compare(stamp, scope, DIMENSIONS[0], access.k, access)
            warm_panels(compared=True)
            timings["compare"] = time.perf_counter() - t
    return timings
