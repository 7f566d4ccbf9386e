"""Sign-in, roles and the safe-start checks: the first thing every run does (ui.setup).

`gate()` decides, before anything else is drawn, which of these a visitor gets:

- a refusal to start: XSRF protection off, an `[auth]` section that is
  incomplete, no sign-in while the server listens beyond this machine (server.address), a secrets or roles file that cannot be read, or a roles file without `[auth]`;
- without `[auth]` in .streamlit/secrets.toml: the local single-user mode, for one machine
  only, said on every page;
- with `[auth]`: a sign-in screen (`st.login`, OpenID Connect), then the user's `Access`
  from the roles file (analytics.domain.access). A signed-in user without a role sees a plain "no
  access" and nothing else.

The run's Access is kept in the session so ui.data_access can put the user's scope into every
query and cache key, whichever page asks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st

from analytics.domain import access as core
from analytics.domain.access import Access
from analytics.store import audit
from ui.components import plain

LOCAL_MODE_NOTE = "Local single-user mode: no sign-in; for use on one machine only"
NO_ACCESS = "No access"
_ACCESS = "auth__access"
_SEEN = "auth__seen"  # (user, outcome) already written to the audit trail this session
_VIEWED = "auth__viewed"  # (page, what) of the worklist view last written to the trail
_ON_PAGE = "auth__on_page"  # the page this session's latest run showed
_REASON_MAX = 200

# The access decided by the entry file for this run, so a page run from it does not decide
# again (per script thread: each session runs on its own).
_run = threading.local()


class StartRefused(Exception):
    """The server's settings are unsafe or incomplete; the message says what to fix."""


# ---------------------------------------------------------------------------------------------
# Settings


def _auth_section() -> Mapping[str, Any] | None:
    """`[auth]` of the secrets (st.secrets, which AppTest's `at.secrets` replaces), or None."""
    if st.secrets.load_if_toml_exists():
        section = st.secrets.to_dict().get("auth")
        if section is None:
            return None
        if not isinstance(section, Mapping):
            raise StartRefused("[auth] in .streamlit/secrets.toml must be a table.")
        return section
    # Streamlit treats an unreadable secrets file like a missing one; here that would quietly
    # drop sign-in and open the local mode, so a file that exists must also parse.
    for name in st.get_option("secrets.files") or ():
        if Path(name).expanduser().is_file():
            raise StartRefused(f"{Path(name).name} exists but cannot be read as TOML: fix it before starting.")
    return None


def start_problems() -> tuple[Mapping[str, Any] | None, list[str]]:
    """The `[auth]` section (None: local mode) and every reason not to start."""
    problems: list[str] = []
    if not st.get_option("server.enableXsrfProtection"):
        problems.append(
            "Cross-site request forgery protection is off (server.enableXsrfProtection = false). "
            "Turn it back on in .streamlit/config.toml."
        )
    try:
        section = _auth_section()
    except StartRefused as exc:
        return None, [*problems, str(exc)]
    if section is None:
        listen = core.listen_problem(st.get_option("server.address"), sign_in=False)
        if listen:
            problems.append(listen)
        roles = core.roles_path()
        if roles.exists():
            problems.append(
                f"A roles file ({roles.name}) is set up but sign-in is not: add [auth] to "
                ".streamlit/secrets.toml, or remove the roles file to use the local single-user mode."
            )
        return None, problems
    missing = core.auth_problems(section)
    if missing:
        problems.append("Sign-in is set up incompletely in .streamlit/secrets.toml: " + "; ".join(missing) + ".")
    return section, problems


# ---------------------------------------------------------------------------------------------
# Screens that end the run


def _halt(title: str, body: Callable[[], None]) -> NoReturn:
    """Show only `body` and stop. A hidden navigation whose every address (the app's page
    paths too, so a deep link is not "page not found") shows this screen keeps the sidebar
    from listing the page files, as Streamlit would without a navigation."""

    def screen() -> None:
        st.title(title)
        body()

    paths = ["welcome", *(p for p in getattr(_run, "paths", ()) if p != "welcome")]
    pages = [st.Page(screen, title=title, url_path=p, default=i == 0) for i, p in enumerate(paths)]
    st.navigation(pages, position="hidden").run()
    st.stop()


def _refuse_start(problems: list[str]) -> NoReturn:
    def body() -> None:
        for p in problems:
            st.error(plain(p), icon=":material/gpp_bad:")
        st.caption("The dashboard refuses to start with unsafe or incomplete settings; it shows no data until they are fixed.")

    _halt("Peer mentoring outcomes", body)


def _sign_in_screen(section: Mapping[str, Any]) -> NoReturn:
    providers = core.auth_providers(section)

    def body() -> None:
        st.markdown("Sign in with your organisation's account to continue.")
        for name in providers:
            label = "Sign in" if name == "default" else f"Sign in with {name}"
            args = () if name == "default" else (name,)
            st.button(label, key=f"auth__sign_in_{name}", type="primary", icon=":material/login:",
                      on_click=st.login, args=args)

    _halt("Peer mentoring outcomes", body)


def _no_access_screen(access: Access) -> NoReturn:
    def body() -> None:
        st.error(
            plain(f"You are signed in as {access.user}, but you have no access to this dashboard. "
                  "Ask its administrator for a role."),
            icon=":material/block:",
        )
        _sign_out_button(access)

    _halt(NO_ACCESS, body)


def page_refused(access: Access, page: str) -> NoReturn:
    """A page outside the user's role (a deep link, or a link kept from another role): say so, stop."""
    _record_once(access, "denied", {"page": page, "reason": "page not in role"})
    st.title(NO_ACCESS)
    st.error("You have no access to this page.", icon=":material/block:")
    st.stop()


# ---------------------------------------------------------------------------------------------
# The gate


def gate(paths: Sequence[str] = ()) -> Access:
    """The visitor's Access for this run; stops the run on every other outcome. `paths`: the
    app's page addresses, answered by the sign-in or refusal screen when the run stops."""
    decided = getattr(_run, "access", None)
    if decided is not None:
        return decided
    _run.paths = tuple(paths)
    # Decided afresh on every run: a role taken away in the roles file applies at the next click.
    st.session_state.pop(_ACCESS, None)
    section, problems = start_problems()
    if problems:
        _refuse_start(problems)
    if section is None:
        access = core.LOCAL_ACCESS
    else:
        try:
            config = core.load_roles()
        except core.RolesError as exc:
            _refuse_start([f"The roles file cannot be used: {exc}"])
        if not st.user.is_logged_in:
            _sign_in_screen(section)
        claims = st.user.to_dict()
        access = core.resolve(config, claims)
        _record_once(access, "sign_in", {"provider": str(claims.get("provider") or "default")[:60]})
        if not access.allowed:
            _record_once(access, "denied", {"reason": access.reason[:_REASON_MAX]})
            _no_access_screen(access)
    st.session_state[_ACCESS] = access
    return access



def decided_for_run(access: Access | None) -> None:
    """The entry file hands its decision to the page it runs (None when the run ends)."""
    _run.access = access


def current() -> Access:
    """The Access decided for this session's run; deny by default when there is none."""
    access = st.session_state.get(_ACCESS)
    if not isinstance(access, Access) or not access.allowed:
        raise PermissionError("no access has been decided for this session")
    return access


def _record_once(access: Access, action: str, what: dict) -> None:
    """One audit row per session and outcome: Streamlit reruns the script on every click.
    A trail that cannot be written stops everything (nothing unrecorded is shown)."""
    seen = st.session_state.setdefault(_SEEN, set())
    mark = (access.user, action, what.get("page"))
    if mark in seen:
        return
    try:
        audit.record(action, who=access.user, role=access.role, what=what)
    except OSError as exc:
        _refuse_start([f"The audit trail cannot be written ({type(exc).__name__}): check that "
                       f"{audit.AUDIT_ENV} names a writable file."])
    seen.add(mark)


def on_page(page: str) -> None:
    """Called by every page's setup: leaving a page forgets its recorded view, so coming back
    to a worklist writes a new row."""
    if st.session_state.get(_ON_PAGE) != page:
        st.session_state.pop(_VIEWED, None)
    st.session_state[_ON_PAGE] = page


def record_view(access: Access, page: str, what: Mapping[str, Any], rows: Mapping[str, int]) -> None:
    """One audit row each time a worklist (a page listing people) is opened, or shown again for
    other filters; not on reruns of the same view. A trail that cannot be written stops the
    page before it shows anything."""
    what = {"page": page, **what}
    mark = (access.user, repr(sorted(what.items())))
    if st.session_state.get(_VIEWED) == mark:
        return
    try:
        audit.record("view", who=access.user, role=access.role, what=what, rows=rows)
    except OSError as exc:
        _refuse_start([f"The audit trail cannot be written ({type(exc).__name__}): check that "
                       f"{audit.AUDIT_ENV} names a writable file."])
    st.session_state[_VIEWED] = mark


# ---------------------------------------------------------------------------------------------
# On every page


def _sign_out(access: Access) -> None:
    try:
        audit.record("sign_out", who=access.user, role=access.role)
    except OSError:
        pass  # signing out is always allowed; the sign-in that began the session is on record
    st.session_state.pop(_ACCESS, None)
    st.session_state.pop(_SEEN, None)
    st.logout()


def _sign_out_button(access: Access) -> None:
    st.button("Sign out", key="auth__sign_out", icon=":material/logout:", on_click=_sign_out, args=(access,))


def who_banner(access: Access) -> None:
    """Local mode said plainly on every page; otherwise who is signed in, their role and sites."""
    if access.local:
        st.info(LOCAL_MODE_NOTE, icon=":material/computer:")
        return
    sites = "all sites" if access.sites is None else "sites: " + ", ".join(access.sites)
    box = st.sidebar.container(border=True)
    box.caption(plain(f"Signed in as {access.user} · {access.label} · {sites}"))
    with box:
        _sign_out_button(access)


# ---------------------------------------------------------------------------------------------
# Hooks for exports


def can_export(access: Access | None = None) -> bool:
    """Whether this session's user may download exports (program managers, grant writers, local)."""
    try:
        access = access or current()
    except PermissionError:
        return False
    return access.can_export


def audited_export(
    make: Callable[[], bytes],
    *,
    file_kind: str,
    name: str,
    scope: Any = None,
    context: Any = None,
    k: int | None = None,
    rows: Mapping[str, int] | None = None,
) -> Callable[[], bytes]:
    """`make` wrapped so that each download it serves is written to the audit trail.

    `scope` (a Scope) or `context` (an analytics.exports ExportContext) says what the file
    covers: filters, period, as-of date (and, from a context, k and the pairs in scope).
    Call it while the page runs (it reads the signed-in user then): Streamlit runs a download
    button's callable later, on a thread of its own, where the session is not at hand. Refuses
    (PermissionError) for a user without exports. A trail that cannot be written fails the
    download rather than hand out an unrecorded file.
    """
    access = current()
    if not access.can_export:
        raise PermissionError("exports are not part of this role")
    what: dict[str, Any] = {"file_kind": file_kind, "name": name}
    counts = dict(rows or {})
    if scope is not None:
        what["filters"] = {d: list(v) for d, v in scope.filters.active().items()}
        what["period"] = f"{scope.start.isoformat()}/{scope.end.isoformat()}"
        what["as_of"] = scope.as_of.isoformat()
    elif context is not None:
        what["filters"] = str(context.filters)[:_REASON_MAX]
        what["period"] = f"{context.start.isoformat()}/{context.end.isoformat()}"
        what["as_of"] = context.as_of.isoformat()
        k = context.k if k is None else k
        counts.setdefault("pairs_in_scope", int(context.n))
    what["k"] = k if k is not None else access.k
    rows = counts or None

    def made() -> bytes:
        data = make()
        audit.record("export", who=access.user, role=access.role, what=what,
                     content=data if isinstance(data, bytes) else str(data).encode(), rows=rows)
        return data

    return made


__all__ = [
    "LOCAL_MODE_NOTE",
    "NO_ACCESS",
    "audited_export",
    "can_export",
    "current",
    "decided_for_run",
    "gate",
    "on_page",
    "page_refused",
    "record_view",
    "start_problems",
    "who_banner",
]
