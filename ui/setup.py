"""Shared page setup: sign-in and roles, navigation, the store, banners and the sidebar filters.

Every page file starts with `ctx = page_setup("<page>")`. That is needed because Streamlit still
serves a folder named `pages/` by deep link: on a fresh server, opening /engagement runs
pages/engagement.py without the entry file. `page_setup` first decides who the visitor is and
what they may see (ui.auth: nothing is drawn before that), then notices whether the entry file
started this run; if not, it registers the app's navigation and reruns once, so the visitor
gets the same app whichever way they arrive.

The navigation lists only the pages of the user's role. The others stay registered but hidden,
so a link to one still reaches its file, and page_setup answers it with "no access".
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from analytics import store
from analytics.domain import numbers
from analytics.domain.access import Access
from analytics.domain.scope import Scope, ScopeError
from analytics.privacy import DEFAULT_K
from analytics.store import scratch
from ui import auth, components, data_access, filters

ROOT = Path(__file__).resolve().parent.parent
_EMPTY_FIGURE = go.Figure(layout={"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                                  "xaxis": {"visible": False}, "yaxis": {"visible": False}})
APP_TITLE = "Peer mentoring outcomes"


@dataclass(frozen=True)
class PageSpec:
    name: str  # file pages/<name>.py, URL path /<name>, widget-key prefix
    title: str
    icon: str
    section: str


# The navigation, in order. A new page is one line here plus its file.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "Overview", ":material/dashboard:", "Program"),
    PageSpec("engagement", "Engagement", ":material/event_available:", "Program"),
    PageSpec("retention", "Retention", ":material/timeline:", "Program"),
    PageSpec("outcomes", "Outcomes", ":material/trending_up:", "Program"),
    PageSpec("goals", "Goals", ":material/flag:", "Program"),
    PageSpec("followup", "Follow-up", ":material/event_repeat:", "Program"),
    PageSpec("compare", "Compare", ":material/compare_arrows:", "Analysis"),
    PageSpec("mentors", "Mentors", ":material/groups:", "Analysis"),
    PageSpec("attention", "Needs attention", ":material/notification_important:", "Analysis"),
    PageSpec("reports", "Reports", ":material/description:", "Share"),
    PageSpec("data", "Data", ":material/database:", "Data"),
    PageSpec("audit", "Audit", ":material/policy:", "Data"),
)
DEFAULT_PAGE = "overview"
# Pages that work without any data in scope (no pairs yet) and without the sidebar filters.
NO_SCOPE_PAGES = ("data", "audit")
# Pages that show no numbers themselves, only files made through analytics.exports, which
# suppress every one of them; they need the unsuppressed frames to mark hidden cells "<11".
EXPORT_ONLY_PAGES = ("reports",)

# Pages that draw no chart: nothing to prime (_prime_chart_library).
NO_CHART_PAGES = ("reports", "audit", "attention")

# Set while the entry file runs a page, per script thread (each session runs on its own).
_entry = threading.local()
_REDIRECTED = "setup__redirected"
_LAST_STAMP = "setup__last_stamp"


@dataclass(frozen=True)
class PageContext:
    page: str
    stamp: data_access.StampKey
    info: dict
    scope: Scope | None  # None only when the store holds no pairs yet (the Data page still works)
    access: Access  # who is looking: every metric call carries it
    k: int = DEFAULT_K
    damaged: bool = False  # the store file cannot be read (only the Data page gets this far)

    def metric(self, name: str, scope: Scope | None = None, params: tuple = ()):
        """A cached metric over this page's scope (or another one, e.g. the previous period),
        always within the user's sites and, for grant writers, suppressed. `params`: the
        metric's settings as (name, value) pairs."""
        return data_access.metric(name, self.stamp, scope or self.scope, self.access, params)


def menu(access: Access) -> list[PageSpec]:
    """The pages the navigation shows this user, in order."""
    return [p for p in PAGES if access.may_open(p.name)]


def _navigation(access: Access):
    """Every page registered; those outside the user's role hidden from the menu."""
    allowed = [p.name for p in menu(access)]
    default = DEFAULT_PAGE if DEFAULT_PAGE in allowed else allowed[0]
    sections: dict[str, list] = {}
    for p in PAGES:
        sections.setdefault(p.section, []).append(
            st.Page(
                ROOT / "pages" / f"{p.name}.py",
                title=p.title,
                icon=p.icon,
                url_path=p.name,
                default=p.name == default,
                visibility="visible" if p.name in allowed else "hidden",
            )
        )
    return st.navigation(sections)


@st.cache_resource(show_spinner=False)
def _sweep_scratch() -> int:
    """Once per server process: remove upload and load folders left by a killed server or load
    (ui.serve sweeps before starting too; `streamlit run` starts here)."""
    return scratch.sweep()


def run_app() -> None:
    """The entry file's body: page config, who the visitor is, navigation, then the chosen page."""
    # No page_icon: a Material icon there is fetched from a font CDN, which offline servers lack.
    st.set_page_config(page_title=APP_TITLE, layout="wide")
    _sweep_scratch()
    access = auth.gate([p.name for p in PAGES])
    page = _navigation(access)
    _entry.active = True
    auth.decided_for_run(access)
    try:
        page.run()
    except store.StoreDamaged as exc:  # found halfway through a page: the same one message
        damaged_message(exc)
    finally:
        _entry.active = False
        auth.decided_for_run(None)


def _reached_without_entry(access: Access) -> None:
    if getattr(_entry, "active", False) or st.session_state.get(_REDIRECTED):
        return
    # A deep link on a fresh server ran this page file alone. Registering the navigation
    # switches Streamlit to it for good; the rerun then goes through the entry file. Once per
    # session, so a page run on its own (a test of the bare file) still renders.
    st.session_state[_REDIRECTED] = True
    _navigation(access)
    st.rerun()


_PRIMED = "setup__charts_primed"


def _prime_chart_library(page: str) -> None:
    """On a session's first run, an empty chart before anything else.

    The browser fetches and compiles the chart library (plotly.js, 4.7 MB) only when the first
    chart arrives; compiling it takes over a second here. Sent first, that work overlaps with
    the sidebar and the page's own queries instead of following them (the first load measured
    about 0.6 s shorter). Later runs of the session have the library and send nothing.
    """
    if page in NO_CHART_PAGES or st.session_state.get(_PRIMED):
        return
    st.session_state[_PRIMED] = True
    with st.empty():
        st.plotly_chart(_EMPTY_FIGURE, key="setup__prime", config={"staticPlot": True, "displayModeBar": False})


def page_setup(page: str) -> PageContext:
    """Access, store, banners and filters for `page`; stops the run when there is nothing to show
    (no sign-in, no role, a page outside the role, no data)."""
    access = auth.gate([p.name for p in PAGES])
    _reached_without_entry(access)
    title = next((p.title for p in PAGES if p.name == page), page.capitalize())
    st.set_page_config(page_title=f"{title} · {APP_TITLE}", layout="wide")
    auth.who_banner(access)
    auth.on_page(page)
    if not access.may_open(page):
        auth.page_refused(access, page)
    _prime_chart_library(page)
    if page in EXPORT_ONLY_PAGES and access.suppress_on_screen:
        access = dataclasses.replace(access, suppress_on_screen=False)

    try:
        stamp = data_access.ensure_store()
    except Exception as exc:  # the demo build failed: say so plainly rather than a traceback
        st.error(f"No store is available and the demo program could not be built ({type(exc).__name__}).")
        st.stop()
    try:
        info = data_access.store_info(stamp)
    except store.StoreDamaged as exc:
        return _store_damaged(page, stamp, access, exc)
    if info["is_demo"]:
        components.demo_banner()
    previous = st.session_state.get(_LAST_STAMP)
    if previous is not None and previous != stamp:
        st.toast("New data loaded: every page now shows it.", icon=":material/sync:")
    st.session_state[_LAST_STAMP] = stamp

    scope = None
    as_of, earliest = info["latest_session"], info["earliest_match"]
    if page == "audit":
        pass  # the audit trail covers every site and period: no filters
    elif as_of is not None and earliest is not None:
        bounds = filters.Bounds(as_of=as_of, earliest=earliest)
        chosen = filters.sidebar_filters(bounds, data_access.filter_choices(stamp, access))
        try:
            scope = data_access.scope_for(stamp, chosen.start, chosen.end, chosen.filters, access)
        except ScopeError as exc:
            st.sidebar.error(str(exc))
        st.sidebar.caption(f"Data as of {as_of:%d %b %Y} (the latest session in the store).")
    if scope is None and page not in NO_SCOPE_PAGES:
        components.empty("There is no data to show yet: load your program's exports on the Data page.")
        if access.may_open("data"):
            st.page_link(str(ROOT / "pages" / "data.py"), label="Go to the Data page", icon=":material/database:")
        st.stop()
    ctx = PageContext(page=page, stamp=stamp, info=info, scope=scope, k=access.k, access=access)
    if access.suppress_on_screen and scope is not None:
        _below_k_refused(ctx)
    return ctx


def damaged_message(exc: store.StoreDamaged) -> None:
    st.error(components.plain(f"{str(exc)[0].upper()}{str(exc)[1:]}."), icon=":material/broken_image:")


def _store_damaged(page: str, stamp, access: Access, exc: store.StoreDamaged) -> PageContext:
    """One clear message instead of a traceback; the Data page goes on, so that whoever may
    load can load the exports into a fresh store (the damaged file is kept beside it)."""
    damaged_message(exc)
    if page != "data" or not access.can_load:
        if access.may_open("data") and page != "data":
            st.page_link(str(ROOT / "pages" / "data.py"), label="Go to the Data page", icon=":material/database:")
        st.stop()
    info = {"is_demo": False, "schema_version": None, "latest_session": None, "earliest_match": None, "rows": {}}
    return PageContext(page=page, stamp=stamp, info=info, scope=None, k=access.k, access=access, damaged=True)


def _below_k_refused(ctx: PageContext) -> None:
    """Suppression on screens (grant writers): a selection of fewer than k pairs shows nothing,
    as its exports would be refused; larger ones show suppressed cells."""
    pairs = data_access.pairs_in_scope(ctx.stamp, ctx.scope, ctx.access)
    if pairs < ctx.k:
        st.title(next((p.title for p in PAGES if p.name == ctx.page), ctx.page.capitalize()))
        st.warning(
            f"This selection covers fewer than {ctx.k} pairs. Small numbers are never shown for your role: "
            "widen the period or the filters.",
            icon=":material/lock:",
        )
        st.stop()


def page_title(ctx: PageContext, title: str, what: str) -> None:
    """The page heading and a one-line statement of the period and filters it covers."""
    st.title(title)
    if ctx.scope is None:
        return
    s = ctx.scope
    st.caption(components.plain(f"{what} · {s.start:%d %b %Y} to {s.end:%d %b %Y} · {s.filters.describe()}"))
    if ctx.access.suppress_on_screen:
        st.caption(
            f"Suppression is on, as in exports: counts of 1-{ctx.k - 1} and rates resting on fewer than {ctx.k} "
            "are hidden (shown as –).",
            help="Grant writers see what funders would see.",
        )
        return
    pairs = int(ctx.metric("pair_counts")["pairs_in_scope"].sum())
    if numbers.is_small(pairs, ctx.k):
        # a selection this narrow is shown to staff, flagged; exports refuse it.
        st.warning(
            f"Only {pairs} pairs are in this selection (fewer than {ctx.k}): the numbers below describe very "
            "few people. Read them with care; exports of this view are refused.",
            icon=components.SMALL_ICON,
        )
