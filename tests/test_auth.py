"""Roles and access as pure logic (analytics.domain.access): parsing the roles file, resolving a signed-in
user to an Access, deny by default, groups, site scoping and the k floor. No Streamlit runs here."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.domain import access as auth
from analytics.domain.access import (
    ADMIN,
    GRANT_WRITER,
    PROGRAM_MANAGER,
    SUPERVISOR,
    Grant,
    RolesError,
    access_for,
    parse_roles,
    resolve,
)
from analytics.domain.scope import Filters
from analytics.privacy import DEFAULT_K

ROOT = Path(__file__).resolve().parent.parent

ROLES = """
[users]
"pm@example.org" = { role = "program_manager" }
"North.Sup@Example.org" = { role = "supervisor", sites = ["North"] }
"gw@example.org" = { role = "grant_writer" }
"gw15@example.org" = { role = "grant_writer", k = 15, sites = ["South"] }
"admin@example.org" = { role = "admin" }

[groups]
"sup-north" = { role = "supervisor", sites = ["North"] }
"sup-south" = { role = "supervisor", sites = ["South"] }
"writers" = { role = "grant_writer" }
"managers" = { role = "program_manager" }
"""


@pytest.fixture(scope="module")
def config():
    return parse_roles(ROLES)


def signed_in(email=None, **claims):
    return {"is_logged_in": True, **({"email": email} if email else {}), **claims}


# ------------------------------------------------------------------------------- resolution


def test_each_role_gets_its_pages_sites_and_rights(config):
    pm = resolve(config, signed_in("pm@example.org"))
    assert (pm.role, pm.sites, pm.can_export, pm.can_load, pm.can_audit, pm.can_see_mentors) == (
        PROGRAM_MANAGER, None, True, False, False, True)
    assert pm.pages == {"overview", "engagement", "retention", "outcomes", "goals", "followup", "compare",
                        "mentors", "attention", "reports", "data"}

    sup = resolve(config, signed_in("north.sup@example.org"))
    assert (sup.role, sup.sites, sup.can_export, sup.can_see_mentors) == (SUPERVISOR, ("North",), False, True)
    assert sup.pages == {"overview", "engagement", "retention", "outcomes", "goals", "followup", "compare",
                         "mentors", "attention"}

    gw = resolve(config, signed_in("gw@example.org"))
    assert (gw.role, gw.sites, gw.can_export, gw.can_see_mentors, gw.suppress_on_screen) == (
        GRANT_WRITER, None, True, False, True)
    assert gw.pages == {"overview", "engagement", "retention", "outcomes", "goals", "followup", "reports"}

    admin = resolve(config, signed_in("admin@example.org"))
    assert (admin.role, admin.sites, admin.can_load, admin.can_audit, admin.can_export) == (
        ADMIN, None, True, True, False)
    # Admins run loads and read the audit trail; the analytics pages are not theirs.
    assert admin.pages == {"data", "audit"}


def test_only_admins_load_and_audit_and_only_they_lack_analytics(config):
    for email in ("pm@example.org", "north.sup@example.org", "gw@example.org"):
        a = resolve(config, signed_in(email))
        assert not a.can_load and not a.can_audit and not a.may_open("audit")
        assert a.may_open("overview")


def test_email_matching_ignores_case_and_spaces(config):
    assert resolve(config, signed_in("  NORTH.SUP@example.ORG ")).role == SUPERVISOR


@pytest.mark.parametrize(
    "claims",
    [
        signed_in("stranger@example.org"),
        signed_in(None, sub="abc123"),
        signed_in("pm@example.org", email_verified=False),  # the provider does not vouch for it
        signed_in("stranger@example.org", groups=["unknown-group"]),
        signed_in("stranger@example.org", groups="unknown-group"),
    ],
)
def test_deny_by_default(config, claims):
    a = resolve(config, claims)
    assert a.role is None and not a.allowed
    assert a.pages == frozenset() and not a.may_open("overview") and not a.may_open("data")
    assert not (a.can_load or a.can_audit or a.can_export or a.can_see_mentors)
    with pytest.raises(PermissionError):
        a.restrict(Filters())
    with pytest.raises(PermissionError):
        a.cache_key()


def test_no_roles_file_means_no_one_gets_in(tmp_path):
    config = auth.load_roles(tmp_path / "missing.toml")
    assert config == auth.EMPTY_CONFIG
    assert not resolve(config, signed_in("pm@example.org")).allowed


def test_roles_path_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.toml"
    path.write_text('[users]\n"pm@example.org" = { role = "program_manager" }\n')
    monkeypatch.setenv(auth.ROLES_ENV, str(path))
    assert auth.roles_path() == path
    assert resolve(auth.load_roles(), signed_in("pm@example.org")).role == PROGRAM_MANAGER


# ------------------------------------------------------------------------------- groups


def test_a_group_gives_its_role(config):
    a = resolve(config, signed_in("someone@example.org", groups=["sup-south", "unrelated"]))
    assert (a.role, a.sites) == (SUPERVISOR, ("South",))
    assert resolve(config, signed_in("w@example.org", groups="writers")).role == GRANT_WRITER


def test_groups_of_one_role_add_their_sites(config):
    a = resolve(config, signed_in("someone@example.org", groups=["sup-south", "sup-north"]))
    assert (a.role, a.sites) == (SUPERVISOR, ("North", "South"))


def test_groups_giving_two_roles_give_no_access(config):
    a = resolve(config, signed_in("someone@example.org", groups=["sup-north", "managers"]))
    assert not a.allowed and "conflicting" in a.reason


def test_an_email_entry_wins_over_groups(config):
    a = resolve(config, signed_in("north.sup@example.org", groups=["managers"]))
    assert (a.role, a.sites) == (SUPERVISOR, ("North",))


def test_unverified_email_can_still_get_in_through_a_group(config):
    a = resolve(config, signed_in("pm@example.org", email_verified=False, groups=["sup-north"]))
    assert (a.role, a.sites) == (SUPERVISOR, ("North",))


def test_the_group_claim_is_configurable():
    config = parse_roles('[settings]\ngroup_claim = "roles"\n[groups]\n"Outcomes.Admin" = { role = "admin" }\n')
    assert resolve(config, signed_in("x@example.org", roles=["Outcomes.Admin"])).role == ADMIN
    assert not resolve(config, signed_in("x@example.org", groups=["Outcomes.Admin"])).allowed


# ------------------------------------------------------------------------------- site scoping


def test_a_supervisor_is_held_to_their_sites(config):
    sup = resolve(config, signed_in("north.sup@example.org"))
    # nothing picked: their own sites, never "no filter"
    assert sup.restrict(Filters()).site == ("North",)
    # another site asked for (a link, a report form): dropped, own sites kept
    assert sup.restrict(Filters(site=("South",))).site == ("North",)
    assert sup.restrict(Filters(site=("North", "South"))).site == ("North",)
    # other filters pass through
    assert sup.restrict(Filters(funding_stream=("SOR",))).funding_stream == ("SOR",)


def test_site_restriction_picks_within_several_sites(config):
    a = resolve(config, signed_in("x@example.org", groups=["sup-south", "sup-north"]))
    assert a.restrict(Filters(site=("South",))).site == ("South",)
    assert a.restrict(Filters()).site == ("North", "South")


def test_all_site_roles_keep_the_filters_they_picked(config):
    pm = resolve(config, signed_in("pm@example.org"))
    assert pm.restrict(Filters()).site == ()
    assert pm.restrict(Filters(site=("South",))).site == ("South",)


def test_mentor_filters_go_for_roles_without_mentor_views(config):
    gw = resolve(config, signed_in("gw@example.org"))
    assert gw.restrict(Filters(mentor=("mn1",))).mentor == ()
    sup = resolve(config, signed_in("north.sup@example.org"))
    assert sup.restrict(Filters(mentor=("mn1",))).mentor == ("mn1",)


def test_cache_keys_differ_with_the_sites_and_k(config):
    keys = {resolve(config, signed_in(e)).cache_key()
            for e in ("pm@example.org", "north.sup@example.org", "gw@example.org", "gw15@example.org")}
    assert len(keys) == 4
    south = resolve(config, signed_in("x@example.org", groups=["sup-south"])).cache_key()
    north = resolve(config, signed_in("north.sup@example.org")).cache_key()
    assert south != north


# ------------------------------------------------------------------------------- the k floor


def test_grant_writers_k_can_be_raised_not_lowered(config):
    assert resolve(config, signed_in("gw15@example.org")).k == 15
    assert resolve(config, signed_in("gw@example.org")).k == DEFAULT_K
    with pytest.raises(RolesError, match="at least 11"):
        parse_roles('[users]\n"gw@example.org" = { role = "grant_writer", k = 5 }\n')
    with pytest.raises(RolesError, match="at least 11"):
        parse_roles('[groups]\n"w" = { role = "grant_writer", k = 1 }\n')


def test_the_floor_holds_even_without_the_parser():
    for role in auth.ROLES:
        sites = ("North",) if role == SUPERVISOR else None
        assert access_for("x@example.org", Grant(role=role, sites=sites, k=1)).k == DEFAULT_K


def test_groups_with_different_k_take_the_highest():
    config = parse_roles('[groups]\n"a" = { role = "grant_writer" }\n"b" = { role = "grant_writer", k = 20 }\n')
    assert resolve(config, signed_in("x@example.org", groups=["a", "b"])).k == 20


def test_only_grant_writers_see_suppressed_screens(config):
    flags = {e: resolve(config, signed_in(e)).suppress_on_screen
             for e in ("pm@example.org", "north.sup@example.org", "gw@example.org", "admin@example.org")}
    assert flags == {"pm@example.org": False, "north.sup@example.org": False, "gw@example.org": True,
                     "admin@example.org": False}


# ------------------------------------------------------------------------------- the roles file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[users]\n"a@example.org" = { role = "owner" }\n', "role must be one of"),
        ('[users]\n"a@example.org" = { role = "supervisor" }\n', "needs 'sites'"),
        ('[users]\n"a@example.org" = { role = "program_manager", sites = ["North"] }\n', "remove 'sites'"),
        ('[users]\n"a@example.org" = { role = "admin", sites = ["North"] }\n', "remove 'sites'"),
        ('[users]\n"a@example.org" = { role = "supervisor", sites = [] }\n', "non-empty list"),
        ('[users]\n"a@example.org" = { role = "supervisor", sites = "North" }\n', "non-empty list"),
        ('[users]\n"a@example.org" = { role = "admin", pages = ["overview"] }\n', "unknown key"),
        ('[users]\n"a@example.org" = { role = "admin" }\n"A@Example.org" = { role = "admin" }\n', "listed twice"),
        ('[users]\n"not-an-email" = { role = "admin" }\n', "not an e-mail"),
        ('[users]\n"a@example.org" = "admin"\n', "must be a table"),
        ('[people]\n"a@example.org" = { role = "admin" }\n', "unknown section"),
        ('[settings]\nclaim = "groups"\n', "unknown key"),
        ('[users\n', "not valid TOML"),
        ('[users]\n"a@example.org" = { role = "grant_writer", k = "11" }\n', "whole number"),
    ],
)
def test_a_bad_roles_file_is_refused_with_a_reason(text, message):
    with pytest.raises(RolesError, match=message):
        parse_roles(text)


def test_the_example_roles_file_parses():
    config = auth.load_roles(ROOT / "roles.example.toml")
    assert config.users and config.groups
    assert resolve(config, signed_in("lee.supervisor@example.org")).sites == ("North",)


# ------------------------------------------------------------------------------- pages


def test_every_page_of_the_app_is_known_to_the_roles():
    # A page missing here would be shown to nobody but the local single user.
    from ui import setup

    files = {p.stem for p in (ROOT / "pages").glob("*.py")}
    assert {p.name for p in setup.PAGES} <= auth.ALL_PAGES
    assert files == auth.ALL_PAGES
    assert auth.LOCAL_ACCESS.pages == auth.ALL_PAGES


def test_the_menu_shows_only_the_role_pages(config):
    from ui import setup

    def menu(email):
        return [p.name for p in setup.menu(resolve(config, signed_in(email)))]

    in_app = [p.name for p in setup.PAGES]
    # (the Reports page is in the menu once the app lists it)
    assert menu("pm@example.org") == [p for p in in_app if p in auth.ROLE_PAGES[PROGRAM_MANAGER]]
    assert "audit" not in menu("pm@example.org") and "data" in menu("pm@example.org")
    assert menu("north.sup@example.org") == ["overview", "engagement", "retention", "outcomes", "goals", "followup",
                                             "compare", "mentors", "attention"]
    assert menu("admin@example.org") == ["data", "audit"]
    assert "compare" not in menu("gw@example.org") and "mentors" not in menu("gw@example.org")
    assert "attention" not in menu("gw@example.org")
    assert [p.name for p in setup.menu(auth.LOCAL_ACCESS)] == [p.name for p in setup.PAGES]


# ------------------------------------------------------------------------------- [auth] settings

COMPLETE = {
    "redirect_uri": "https://outcomes.example.org/oauth2callback",
    "cookie_secret": "a-long-random-secret-for-the-cookie",
    "client_id": "outcomes",
    "client_secret": "s3cret",
    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}


def test_a_complete_auth_section_has_no_problems():
    assert auth.auth_problems(COMPLETE) == []
    assert auth.auth_providers(COMPLETE) == ["default"]


@pytest.mark.parametrize("key", sorted(COMPLETE))
def test_each_missing_auth_setting_is_named(key):
    section = {k: v for k, v in COMPLETE.items() if k != key}
    assert auth.auth_problems(section) == [f"[auth] {key} is missing"]
    assert auth.auth_problems({**section, key: "  "}) == [f"[auth] {key} is missing"]


def test_named_providers_are_checked_each():
    shared = {k: COMPLETE[k] for k in ("redirect_uri", "cookie_secret")}
    provider = {k: COMPLETE[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    section = {**shared, "microsoft": provider, "okta": {**provider, "client_secret": ""}}
    assert auth.auth_providers(section) == ["microsoft", "okta"]
    assert auth.auth_problems(section) == ["[auth.okta] client_secret is missing"]


def test_the_redirect_uri_must_be_the_callback_address():
    problems = auth.auth_problems({**COMPLETE, "redirect_uri": "https://outcomes.example.org/"})
    assert problems and "oauth2callback" in problems[0]
