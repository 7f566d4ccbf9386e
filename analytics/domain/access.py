"""Who may see what: roles, sites and pages from a small TOML file, deny by default.

Pure logic (no Streamlit): parse the roles file, resolve a signed-in user's identity claims to
an `Access`, and narrow filters to that access. ui/auth.py does the Streamlit side.

The roles file (default .streamlit/roles.toml, or the path in OUTCOMES_ROLES; an example is
roles.example.toml at the repository root)::

    [settings]
    group_claim = "groups"          # the ID-token claim holding group names (optional)

    [users]
    "manager@example.org" = { role = "program_manager" }
    "lee@example.org" = { role = "supervisor", sites = ["North"] }

    [groups]
    "outcomes-grant-writers" = { role = "grant_writer" }

Rules:
- Anyone not matched, by e-mail or by group, has no access at all. So does an e-mail the
  identity provider marks as unverified, and a user whose groups give conflicting roles.
- An entry for the user's e-mail wins over their groups; several groups of the same role
  add their sites together.
- Supervisors must name their sites. Program managers and admins always cover every site (a
  `sites` key for them is refused rather than silently ignored). Grant writers cover every
  site unless their entry names some.
- `k`, the small-number threshold, may only be raised: an entry asking for less than
  privacy.DEFAULT_K is refused. Grant writers see suppressed numbers on screens too.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analytics.domain.numbers import DEFAULT_K
from analytics.domain.paths import PROJECT_ROOT
from analytics.domain.scope import Filters

ROLES_ENV = "OUTCOMES_ROLES"
DEFAULT_ROLES_PATH = PROJECT_ROOT / ".streamlit" / "roles.toml"

PROGRAM_MANAGER, SUPERVISOR, GRANT_WRITER, ADMIN = "program_manager", "supervisor", "grant_writer", "admin"
ROLES = (PROGRAM_MANAGER, SUPERVISOR, GRANT_WRITER, ADMIN)
ROLE_LABELS = {
    PROGRAM_MANAGER: "Program manager",
    SUPERVISOR: "Supervisor",
    GRANT_WRITER: "Grant writer",
    ADMIN: "Admin",
    None: "No role",
}

# Pages by name (the file pages/<name>.py). A page missing from every role is shown to nobody
# but the local single user: tests/test_auth.py checks that the app's navigation and this
# table agree.
ANALYTICS_PAGES = frozenset({"overview", "engagement", "retention", "outcomes", "goals"})
ROLE_PAGES: Mapping[str, frozenset[str]] = {
    PROGRAM_MANAGER: ANALYTICS_PAGES | {"followup", "compare", "mentors", "attention", "reports", "data"},
    SUPERVISOR: ANALYTICS_PAGES | {"followup", "compare", "mentors", "attention"},
    GRANT_WRITER: ANALYTICS_PAGES | {"followup", "reports"},
    # Admins run loads and read the audit trail; they do not need participants' outcomes, so
    # they do not see the analytics pages (least privilege). Give a second entry under a
    # manager's address to someone who needs both.
    ADMIN: frozenset({"data", "audit"}),
}
ALL_PAGES: frozenset[str] = frozenset().union(*ROLE_PAGES.values())

_ALL_SITES_ROLES = (PROGRAM_MANAGER, ADMIN)
_ENTRY_KEYS = {"role", "sites", "k"}
_TOP_KEYS = {"settings", "users", "groups"}
_SETTINGS_KEYS = {"group_claim"}
DEFAULT_GROUP_CLAIM = "groups"
LOCAL_USER = "local"


class RolesError(ValueError):
    """The roles file cannot be used; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Grant:
    """One entry of the roles file."""

    role: str
    sites: tuple[str, ...] | None = None  # None: every site
    k: int = DEFAULT_K


@dataclass(frozen=True)
class RolesConfig:
    users: Mapping[str, Grant]  # lower-cased e-mail -> grant
    groups: Mapping[str, Grant]  # group name as the provider sends it -> grant
    group_claim: str = DEFAULT_GROUP_CLAIM


EMPTY_CONFIG = RolesConfig(users={}, groups={})


@dataclass(frozen=True)
class Access:
    """What one user may see and do. `role` None means nothing at all (deny by default)."""

    user: str
    role: str | None
    sites: tuple[str, ...] | None = ()  # None: every site; () with no role: none
    pages: frozenset[str] = frozenset()
    can_load: bool = False
    can_audit: bool = False
    can_export: bool = False
    can_see_mentors: bool = False
    k: int = DEFAULT_K
    suppress_on_screen: bool = False
    local: bool = False
    reason: str = ""  # why there is no access, for the audit trail (never shown with data)

    @property
    def allowed(self) -> bool:
        return self.role is not None or self.local

    @property
    def label(self) -> str:
        return "Local single user" if self.local else ROLE_LABELS[self.role]

    def may_open(self, page: str) -> bool:
        return self.allowed and page in self.pages

    def restrict(self, filters: Filters) -> Filters:
        """`filters` narrowed to what this user may see.

        Sites: the picked sites that are allowed; none picked (or none allowed among them)
        means all of the user's own sites, never "no filter". Mentor filters go for roles
        without mentor-level views.
        """
        if not self.allowed:
            raise PermissionError("no access")
        return restrict_filters(filters, self.sites, self.can_see_mentors)

    def cache_key(self) -> tuple:
        """Plain values that decide what this user's queries may return: part of every cache key."""
        if not self.allowed:
            raise PermissionError("no access")
        return (self.sites, self.k, self.suppress_on_screen, self.can_see_mentors)


def restrict_filters(filters: Filters, sites: tuple[str, ...] | None, can_see_mentors: bool) -> Filters:
    """Access.restrict on plain values (what a cache key carries); see there."""
    out = filters
    if sites is not None:
        if not sites:
            raise PermissionError("no sites")
        kept = tuple(s for s in filters.site if s in sites) or sites
        out = replace(out, site=tuple(sorted(kept)))
    if not can_see_mentors and out.mentor:
        out = replace(out, mentor=())
    return out


LOCAL_ACCESS = Access(
    user=LOCAL_USER,
    role=None,
    sites=None,
    pages=ALL_PAGES,
    can_load=True,
    can_audit=True,
    can_export=True,
    can_see_mentors=True,
    local=True,
)


def no_access(user: str, reason: str) -> Access:
    return Access(user=user, role=None, sites=(), reason=reason)


# ---------------------------------------------------------------------------------------------
# The roles file


def roles_path(path: str | os.PathLike | None = None) -> Path:
    """The roles file: the argument, else OUTCOMES_ROLES, else .streamlit/roles.toml."""
    if path:
        return Path(path)
    env = os.environ.get(ROLES_ENV)
    return Path(env) if env else DEFAULT_ROLES_PATH


def load_roles(path: str | os.PathLike | None = None) -> RolesConfig:
    """The roles file parsed; a missing file gives no one any access (RolesError when unreadable)."""
    p = roles_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return EMPTY_CONFIG
    except (OSError, UnicodeDecodeError) as exc:
        raise RolesError(f"cannot read the roles file {p.name} ({type(exc).__name__})") from None
    return parse_roles(text, source=p.name)


def parse_roles(text: str, *, source: str = "roles.toml") -> RolesConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RolesError(f"{source} is not valid TOML: {exc}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RolesError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; allowed: "
                         f"{', '.join(sorted(_TOP_KEYS))}")
    settings = _table(data.get("settings", {}), f"{source} [settings]")
    bad = set(settings) - _SETTINGS_KEYS
    if bad:
        raise RolesError(f"{source} [settings]: unknown key(s) {', '.join(sorted(bad))}")
    claim = settings.get("group_claim", DEFAULT_GROUP_CLAIM)
    if not isinstance(claim, str) or not claim.strip():
        raise RolesError(f"{source} [settings]: group_claim must be a claim name")

    users: dict[str, Grant] = {}
    for email, entry in _table(data.get("users", {}), f"{source} [users]").items():
        key = normalize_email(email)
        if "@" not in key:
            raise RolesError(f"{source} [users]: {email!r} is not an e-mail address")
        if key in users:
            raise RolesError(f"{source} [users]: {email!r} is listed twice")
        users[key] = _grant(entry, f"{source} [users] {email!r}")
    groups: dict[str, Grant] = {}
    for name, entry in _table(data.get("groups", {}), f"{source} [groups]").items():
        if not name.strip():
            raise RolesError(f"{source} [groups]: a group name is empty")
        groups[name] = _grant(entry, f"{source} [groups] {name!r}")
    return RolesConfig(users=users, groups=groups, group_claim=claim.strip())


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RolesError(f"{where} must be a table")
    return value


def _grant(entry: Any, where: str) -> Grant:
    entry = _table(entry, where)
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise RolesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: role, sites, k")
    role = entry.get("role")
    if role not in ROLES:
        raise RolesError(f"{where}: role must be one of {', '.join(ROLES)}")
    sites = entry.get("sites")
    if sites is not None:
        if role in _ALL_SITES_ROLES:
            raise RolesError(f"{where}: a {role} sees every site; remove 'sites'")
        if (not isinstance(sites, list) or not sites
                or not all(isinstance(s, str) and s.strip() for s in sites)):
            raise RolesError(f"{where}: sites must be a non-empty list of site names")
        sites = tuple(sorted({s.strip() for s in sites}))
    elif role == SUPERVISOR:
        raise RolesError(f"{where}: a supervisor needs 'sites', the sites they supervise")
    k = entry.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int) or k < DEFAULT_K:
        raise RolesError(f"{where}: k must be a whole number of at least {DEFAULT_K} (it can only be raised)")
    return Grant(role=role, sites=sites, k=k)


def normalize_email(email: object) -> str:
    return str(email).strip().lower()


# ---------------------------------------------------------------------------------------------
# The [auth] section of .streamlit/secrets.toml (Streamlit's own sign-in settings)

AUTH_SHARED_KEYS = ("redirect_uri", "cookie_secret")
AUTH_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def auth_providers(section: Mapping[str, Any]) -> list[str]:
    """Provider names for st.login: "default" for a flat [auth], else each [auth.<name>] table."""
    named = [k for k, v in section.items() if isinstance(v, Mapping)]
    if any(k in section for k in AUTH_PROVIDER_KEYS) or not named:
        return ["default", *named]
    return named


def auth_problems(section: Mapping[str, Any]) -> list[str]:
    """What is missing or wrong in [auth], as "[auth] client_secret is missing" lines.

    Streamlit itself checks only some of these, and only when someone clicks "Sign in"; a
    half-configured server would otherwise run with sign-in broken.
    """

    def missing(table: Mapping[str, Any], keys: Iterable[str], where: str) -> list[str]:
        return [f"{where} {k} is missing" for k in keys
                if not isinstance(table.get(k), str) or not table.get(k, "").strip()]

    problems = missing(section, AUTH_SHARED_KEYS, "[auth]")
    for name in auth_providers(section):
        if name == "default":
            problems += missing(section, AUTH_PROVIDER_KEYS, "[auth]")
        else:
            problems += missing(section[name], AUTH_PROVIDER_KEYS, f"[auth.{name}]")
    uri = section.get("redirect_uri")
    if isinstance(uri, str) and uri.strip():
        if not uri.startswith(("https://", "http://")) or not uri.rstrip("/").endswith("/oauth2callback"):
            problems.append("[auth] redirect_uri must be the app's absolute address ending in /oauth2callback")
    return problems


# ---------------------------------------------------------------------------------------------
# Where the server listens

# The local single-user mode has no sign-in, so it listens on this machine only by default
# (.streamlit/config.toml sets server.address); another address needs sign-in.
LOOPBACK_DEFAULT = "127.0.0.1"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def is_loopback(address: str | None) -> bool:
    """Whether a listen address reaches this machine only. None or "" (Streamlit: every
    interface), 0.0.0.0, ::, a network address and any host name but localhost do not."""
    if address is None:
        return False
    text = str(address).strip().strip("[]").lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def listen_problem(address: str | None, *, sign_in: bool) -> str | None:
    """Why the server may not listen on `address` (None: it may). Without sign-in every
    visitor gets every page, load and export, so only a loopback address is allowed."""
    if sign_in or is_loopback(address):
        return None
    shown = "every network interface" if address in (None, "") else f"address {str(address)[:60]}"
    return (
        f"Without sign-in the dashboard listens on this machine only, but server.address asks for "
        f"{shown}: anyone on the network would get every page, load and export. Use "
        f"--server.address {LOOPBACK_DEFAULT} (the default), or set up sign-in ([auth] in "
        ".streamlit/secrets.toml) before serving it on a network."
    )


# ---------------------------------------------------------------------------------------------
# Resolution


def _groups_of(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        return [v for v in value if isinstance(v, str)]
    return []


def identity(claims: Mapping[str, Any]) -> str:
    """How the user is named in the audit trail and on screen: the e-mail, else the subject."""
    email = claims.get("email")
    if isinstance(email, str) and email.strip():
        return normalize_email(email)
    sub = claims.get("sub")
    return f"sub:{sub}" if sub else "unknown user"


def resolve(config: RolesConfig, claims: Mapping[str, Any]) -> Access:
    """The access of a signed-in user with these identity claims (st.user's fields)."""
    who = identity(claims)
    grant: Grant | None = None
    email = claims.get("email")
    # An e-mail the provider has not verified could be anyone's: match on it only when the
    # provider does not say it is unverified.
    if isinstance(email, str) and claims.get("email_verified", True) is not False:
        grant = config.users.get(normalize_email(email))
    if grant is None:
        matched = [config.groups[g] for g in _groups_of(claims, config.group_claim) if g in config.groups]
        if not matched:
            return no_access(who, "no role")
        roles = {g.role for g in matched}
        if len(roles) > 1:
            return no_access(who, "conflicting roles from groups: " + ", ".join(sorted(roles)))
        sites: tuple[str, ...] | None
        if any(g.sites is None for g in matched):
            sites = None
        else:
            sites = tuple(sorted({s for g in matched for s in g.sites or ()}))
        grant = Grant(role=matched[0].role, sites=sites, k=max(g.k for g in matched))
    return access_for(who, grant)


def access_for(user: str, grant: Grant) -> Access:
    role = grant.role
    return Access(
        user=user,
        role=role,
        sites=None if role in _ALL_SITES_ROLES else grant.sites,
        pages=ROLE_PAGES[role],
        can_load=role == ADMIN,
        can_audit=role == ADMIN,
        can_export=role in (PROGRAM_MANAGER, GRANT_WRITER),
        can_see_mentors=role in (PROGRAM_MANAGER, SUPERVISOR),
        # The floor holds whatever the file says: suppression is never weaker than DEFAULT_K.
        k=max(grant.k, DEFAULT_K),
        suppress_on_screen=role == GRANT_WRITER,
    )


__all__ = [
    "ADMIN",
    "ALL_PAGES",
    "Access",
    "GRANT_WRITER",
    "Grant",
    "LOCAL_ACCESS",
    "PROGRAM_MANAGER",
    "ROLES",
    "ROLES_ENV",
    "ROLE_PAGES",
    "RolesConfig",
    "RolesError",
    "SUPERVISOR",
    "access_for",
    "auth_problems",
    "auth_providers",
    "identity",
    "load_roles",
    "no_access",
    "parse_roles",
    "resolve",
    "restrict_filters",
    "roles_path",
]
