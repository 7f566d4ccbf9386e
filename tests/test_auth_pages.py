"""Sign-in, roles and audit in the running app (Streamlit's AppTest), on the tiny program.

Each test signs a user in by setting `at.user` (what st.user reads) and `at.secrets` (an `[auth]`
section, so the app leaves the local single-user mode); roles come from a roles file written
per test (OUTCOMES_ROLES), the audit trail goes to a per-test file (OUTCOMES_AUDIT_LOG).

Golden numbers (tests/tiny_program.py, S = 2026-01-01, E = A = 2026-03-31):
- site North (pr1, pr2): attended 4 (ss1 ss3 ss6 ss7), no-show 2 (ss2 ss8), pair-days 40 + 85 = 125;
- site South (pr3, pr4): attended 2 (ss9 ss11), no-show 1 (ss10), pair-days 49 + 58 = 107;
- both: attended 6, no-show 3, pair-days 232.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _sign_in import AUTH
from streamlit.testing.v1 import AppTest

from analytics.domain import access as core
from analytics.store import audit
from ui import auth as ui_auth

ROOT = Path(__file__).resolve().parent.parent
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
TIMEOUT = 60

ROLES = """
[users]
"pm@example.org" = { role = "program_manager" }
"north@example.org" = { role = "supervisor", sites = ["North"] }
"south@example.org" = { role = "supervisor", sites = ["South"] }
"gw@example.org" = { role = "grant_writer" }
"admin@example.org" = { role = "admin" }

[groups]
"sup-north" = { role = "supervisor", sites = ["North"] }
"managers" = { role = "program_manager" }
"""
ANALYTICS = ("overview", "engagement", "retention", "outcomes", "goals")
ALL = (*ANALYTICS, "compare", "mentors", "attention", "reports", "data", "audit")
FORBIDDEN = {
    "pm@example.org": ("audit",),
    "north@example.org": ("reports", "data", "audit"),
    "gw@example.org": ("compare", "mentors", "attention", "data", "audit"),
    "admin@example.org": (*ANALYTICS, "compare", "mentors", "attention", "reports"),
}


@pytest.fixture()
def env(tiny_store, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES)
    monkeypatch.setenv(core.ROLES_ENV, str(roles))
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv(audit.AUDIT_ENV, str(log))
    return {"roles": roles, "log": log}


def app(email: str | None = None, page: str | None = None, *, query=None, claims=None, secrets=None,
        deep_link: bool = False) -> AppTest:
    """The app as a signed-in user opens it (email None: signed out). `deep_link`: the page file
    run on its own, as a fresh server serves /<page>."""
    script = ROOT / "pages" / f"{page}.py" if deep_link else ROOT / "dashboard.py"
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
    at.secrets = {"auth": dict(AUTH)} if secrets is None else secrets
    if email is None and claims is None:
        at.user = {"is_logged_in": False}
    else:
        at.user = {"is_logged_in": True, **({"email": email} if email else {}), **(claims or {})}
    at.query_params.update(PERIOD if query is None else query)
    at.run()
    if page is not None and not deep_link:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(element) -> str:
    return str(element.value).replace("\\", "")


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader"):
        parts.extend(shown(e) for e in at.get(kind))
    return "\n".join(parts)


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shows_no_data(at: AppTest) -> None:
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe
    assert not at.multiselect and not at.get("file_uploader")


def audit_rows(env, action=None) -> list[dict]:
    return audit.entries(action=action, path=env["log"])


@pytest.fixture()
def with_reports_page(monkeypatch):
    """The app's navigation with the Reports page (added here until ui/setup.py lists it)."""
    from ui import setup

    if "reports" not in {p.name for p in setup.PAGES}:
        spec = setup.PageSpec("reports", "Reports", ":material/description:", "Data")
        monkeypatch.setattr(setup, "PAGES", (*setup.PAGES, spec))
    return setup


# ------------------------------------------------------------------------------- signed out, no role


def test_signed_out_sees_a_sign_in_button_and_nothing_else(env):
    at = app(None)
    assert [b.label for b in at.button] == ["Sign in"]
    shows_no_data(at)


@pytest.mark.parametrize("page", ["engagement", "data"])
def test_signed_out_deep_link_gets_the_same(env, page):
    at = app(None, page, deep_link=True)
    assert [b.label for b in at.button] == ["Sign in"]
    shows_no_data(at)


def test_a_user_without_a_role_sees_only_no_access(env):
    at = app("stranger@example.org")
    assert [t.value for t in at.title] == ["No access"]
    assert "stranger@example.org" in texts(at) and "no access to this dashboard" in texts(at)
    assert [b.label for b in at.button] == ["Sign out"]
    shows_no_data(at)
    assert [(r["action"], r["who"], r["role"]) for r in reversed(audit_rows(env))] == [
        ("sign_in", "stranger@example.org", None), ("denied", "stranger@example.org", None)]


@pytest.mark.parametrize("page", ["engagement", "mentors", "data", "audit"])
def test_a_user_without_a_role_gets_nothing_by_deep_link_either(env, page):
    at = app("stranger@example.org", page, deep_link=True)
    assert [t.value for t in at.title] == ["No access"]
    shows_no_data(at)


def test_conflicting_groups_give_no_access(env):
    at = app("x@example.org", claims={"groups": ["sup-north", "managers"]})
    assert [t.value for t in at.title] == ["No access"]
    shows_no_data(at)


def test_an_unverified_email_is_not_trusted(env):
    at = app("pm@example.org", claims={"email_verified": False})
    assert [t.value for t in at.title] == ["No access"]


# ------------------------------------------------------------------------------- pages per role


@pytest.mark.parametrize("email", sorted(FORBIDDEN))
def test_each_role_opens_its_pages_and_says_who_is_signed_in(env, email, with_reports_page):
    access = core.resolve(core.load_roles(), {"email": email})
    for page in sorted(access.pages):
        at = app(email, page)
        assert "No access" not in [t.value for t in at.title], page
        assert any(email in shown(c) for c in at.sidebar.caption), page
        assert any(b.label == "Sign out" for b in at.button), page
        assert ui_auth.LOCAL_MODE_NOTE not in texts(at)


@pytest.mark.parametrize(("email", "page"), [(e, p) for e, pages in FORBIDDEN.items() for p in pages])
def test_a_deep_link_to_a_page_outside_the_role_says_no_access(env, email, page):
    at = app(email, page, deep_link=True)
    assert [t.value for t in at.title] == ["No access"]
    assert any("no access to this page" in shown(e) for e in at.error)
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe and not at.get("download_button")
    assert not at.get("file_uploader")
    denied = audit_rows(env, "denied")
    assert denied and denied[0]["who"] == email and denied[0]["what"]["page"] == page


def test_switching_to_a_hidden_page_says_no_access_too(env):
    # The page is registered (so a link reaches its file) but not in the supervisor's menu.
    at = app("north@example.org", "data")
    assert [t.value for t in at.title] == ["No access"]
    assert not at.get("file_uploader") and not at.dataframe


def test_the_admin_loads_and_the_manager_only_reads_the_data_page(env):
    admin = app("admin@example.org", "data")
    assert admin.get("file_uploader")
    pm = app("pm@example.org", "data")
    assert not pm.get("file_uploader")
    assert "Loading is done by the dashboard's admins" in texts(pm)
    assert pm.dataframe  # the load history and the store's tables are still shown


def test_the_admin_lands_on_the_data_page(env):
    at = app("admin@example.org")
    assert [t.value for t in at.title] == ["Data"]


# ------------------------------------------------------------------------------- supervisor scope


def test_a_supervisor_sees_their_sites_numbers_only(env):
    north = tiles(app("north@example.org", "engagement"))
    assert (north["Attended"], north["No-shows"], north["Pair-days"]) == ("4", "2", "125")
    south = tiles(app("south@example.org", "engagement"))
    assert (south["Attended"], south["No-shows"], south["Pair-days"]) == ("2", "1", "107")


def test_a_supervisor_is_offered_their_sites_only(env):
    at = app("north@example.org", "engagement")
    assert at.multiselect(key="filters__site").options == ["North"]
    # the supervisor filter lists only supervisors at their sites (tiny program: Lee at North)
    assert at.multiselect(key="filters__supervisor").options == ["Lee"]
    assert "Site: North" in texts(at)


def test_a_link_asking_for_another_site_is_dropped(env):
    at = app("north@example.org", "engagement", query={**PERIOD, "site": "South"})
    assert at.multiselect(key="filters__site").value == []
    assert "not recognised" in texts(at)
    t = tiles(at)
    assert (t["Attended"], t["No-shows"], t["Pair-days"]) == ("4", "2", "125")
    assert "South" not in texts(at)


def test_a_supervisor_compares_within_their_sites(env):
    at = app("north@example.org", "compare")
    groups = next(df for df in (d.value for d in at.dataframe) if "Site" in df.columns)
    assert list(groups["Site"]) == ["North"]


def test_a_supervisor_from_a_group_gets_its_sites(env):
    t = tiles(app("someone@example.org", "engagement", claims={"groups": ["sup-north"]}))
    assert t["Attended"] == "4"


def test_the_cache_never_hands_one_users_numbers_to_another(env):
    # One process, one cache (st.cache_data is shared by every session): fill it as a
    # supervisor of North, then ask as others, including with a link naming North.
    assert tiles(app("north@example.org", "engagement"))["Attended"] == "4"
    south = tiles(app("south@example.org", "engagement", query={**PERIOD, "site": "North"}))
    assert (south["Attended"], south["No-shows"], south["Pair-days"]) == ("2", "1", "107")
    pm = tiles(app("pm@example.org", "engagement", query={**PERIOD, "site": "North"}))
    assert pm["Attended"] == "4"
    assert tiles(app("pm@example.org", "engagement"))["Attended"] == "6"
    assert tiles(app("south@example.org", "engagement"))["Attended"] == "2"
    assert tiles(app("north@example.org", "engagement"))["Attended"] == "4"


def test_the_cached_functions_narrow_to_the_key_they_are_given(env, tiny_store):
    # Below the pages: a scope naming North, asked for with South's access, gives South's
    # numbers; so does the cached function itself when handed an unnarrowed scope key.
    from datetime import date

    from analytics.domain.scope import Filters, Scope
    from ui import data_access

    config = core.load_roles()
    south = core.resolve(config, {"email": "south@example.org"})
    north = core.resolve(config, {"email": "north@example.org"})
    stamp = data_access.current_stamp()
    scope = Scope(as_of=date(2026, 3, 31), start=date(2026, 1, 1), end=date(2026, 3, 31),
                  filters=Filters(site=("North",)))
    assert data_access.metric("engagement_totals", stamp, scope, north).iloc[0]["attended"] == 4
    assert data_access.metric("engagement_totals", stamp, scope, south).iloc[0]["attended"] == 2
    unnarrowed = data_access.scope_key(scope)
    assert data_access._metric("engagement_totals", stamp, unnarrowed, south.cache_key()).iloc[0]["attended"] == 2
    assert data_access.filter_choices(stamp, south)["site"] == ["South"]
    assert data_access.scope_for(stamp, None, None, Filters(site=("North",)), south).filters.site == ("South",)
    with pytest.raises(PermissionError):
        data_access.load_history(stamp, south)
    with pytest.raises(PermissionError):
        data_access.metric("engagement_totals", stamp, scope, core.no_access("x@example.org", "no role"))


# ------------------------------------------------------------------------------- grant writers


@pytest.mark.parametrize("page", ANALYTICS)
def test_a_grant_writer_never_sees_a_selection_below_k(env, page):
    # The tiny program has 4 pairs: below k = 11 every screen refuses, as exports do.
    at = app("gw@example.org", page)
    assert any("fewer than 11 pairs" in shown(w) for w in at.warning)
    assert not at.metric and not at.get("plotly_chart") and not at.dataframe


@pytest.fixture()
def demo_env(demo_store, env, monkeypatch):
    """A bigger program (the seeded demo): enough pairs for grant writers' screens and exports."""
    monkeypatch.setenv("OUTCOMES_DB", str(demo_store))
    return env


def test_a_grant_writer_sees_suppressed_numbers_on_screen(demo_env):
    # A one-site month of a bigger program: enough pairs to show, with small cells inside.
    query = {"start": "2026-01-01", "end": "2026-01-31", "site": "Harbor"}
    pm, gw = app("pm@example.org", "goals", query=query), app("gw@example.org", "goals", query=query)
    small = [label for label, value in tiles(pm).items() if value.replace(",", "").isdigit() and 0 < int(value) < 11]
    assert small, "the slice should hold a small count for this test to mean anything"
    for label in small:
        assert tiles(gw)[label] == "–"
    assert "Suppression is on" in texts(gw)
    # no count of 1-10 anywhere in a grant writer's tiles
    for value in tiles(gw).values():
        assert not (value.isdigit() and 0 < int(value) < 11)


def test_exports_are_refused_to_roles_without_them(env):
    def script():
        import streamlit as st

        from analytics.domain import access as core
        from ui import auth

        email = st.query_params["email"]
        access = core.resolve(core.load_roles(), {"email": email})
        st.session_state["auth__access"] = access
        st.write(f"can export: {auth.can_export()}")
        try:
            make = auth.audited_export(lambda: b"col\n1\n", file_kind="csv", name="goals_by_domain")
        except PermissionError as exc:
            st.write(f"refused: {exc}")
        else:
            st.write(f"served {len(make())} bytes")

    results = {}
    for email in ("pm@example.org", "gw@example.org", "north@example.org", "admin@example.org"):
        at = AppTest.from_function(script, default_timeout=TIMEOUT)
        at.query_params["email"] = email
        at.run()
        assert not at.exception
        results[email] = [m.value for m in at.markdown]
    assert results["pm@example.org"] == ["can export: True", "served 6 bytes"]
    assert results["gw@example.org"] == ["can export: True", "served 6 bytes"]
    for email in ("north@example.org", "admin@example.org"):
        assert results[email][0] == "can export: False" and results[email][1].startswith("refused")
    assert [r["who"] for r in audit_rows(env, "export")] == ["gw@example.org", "pm@example.org"]


def test_a_grant_writer_gets_the_export_centre(demo_env, with_reports_page):
    # The Reports page shows no numbers itself: its files go through the export suppression.
    at = app("gw@example.org", "reports", query={})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("CSV") >= 6 and "PDF report" in labels
    # chart images, but not the Compare page's: a grant writer has no Compare page, and the
    # Reports page offers only the panels with a report entry (Compare's have none)
    ids = [b.proto.id for b in at.get("download_button")]
    assert any("reports__retention_km__" in i for i in ids)
    for stem in ("compare_km_by_site", "compare_hazard_ratios_by_site", "compare_attendance_by_site",
                 "compare_GSE10_change_by_site"):
        assert not any(f"reports__{stem}__" in i for i in ids), stem
    assert not at.exception


def test_the_reports_page_is_refused_to_a_supervisor(env):
    at = app("north@example.org", "reports", deep_link=True)
    assert [t.value for t in at.title] == ["No access"]
    assert not at.get("download_button")


# ------------------------------------------------------------------------------- audit rows


def test_a_sign_in_is_recorded_once_per_session(env):
    at = app("north@example.org", "engagement")
    at.multiselect(key="filters__supervisor").set_value(["Lee"]).run()
    at.switch_page("pages/goals.py").run()
    rows = audit_rows(env, "sign_in")
    assert [(r["who"], r["role"]) for r in rows] == [("north@example.org", "supervisor")]
    assert rows[0]["what"] == {"provider": "default"}


def test_an_export_is_recorded_with_its_hash_and_filters(env):
    def script():
        from datetime import date

        import streamlit as st

        from analytics.domain import access as core
        from analytics.domain.scope import Filters, Scope
        from ui import auth

        st.session_state["auth__access"] = core.resolve(core.load_roles(), {"email": "gw@example.org"})
        scope = Scope(as_of=date(2026, 3, 31), start=date(2026, 1, 1), end=date(2026, 3, 31),
                      filters=Filters(site=("North",)))
        make = auth.audited_export(lambda: b"%PDF-1.7 report", file_kind="pdf", name="grant_report", scope=scope,
                                   rows={"tables": 6})
        st.write(f"{len(make())}")

    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    [row] = audit_rows(env, "export")
    assert row["who"] == "gw@example.org" and row["role"] == "grant_writer"
    assert row["what"] == {"file_kind": "pdf", "name": "grant_report", "k": 11, "filters": {"site": ["North"]},
                           "period": "2026-01-01/2026-03-31", "as_of": "2026-03-31"}
    assert row["rows"] == {"tables": 6} and row["bytes"] == len(b"%PDF-1.7 report")
    import hashlib

    assert row["sha256"] == hashlib.sha256(b"%PDF-1.7 report").hexdigest()


class _Upload:
    def __init__(self, path: Path):
        self.name, self._data = path.name, path.read_bytes()

    def getvalue(self) -> bytes:
        return self._data


def test_a_load_from_the_app_is_recorded_and_needs_the_admin_role(env, tmp_path, monkeypatch):
    from fixtures.load_helpers import KEY, write_program

    from ui import uploads

    monkeypatch.setenv("OUTCOMES_DB", str(tmp_path / "fresh.duckdb"))
    files = [_Upload(p) for p in sorted(write_program(tmp_path / "exports").glob("*.csv"))]
    config = core.load_roles()
    admin = core.resolve(config, {"email": "admin@example.org"})
    for email in ("pm@example.org", "north@example.org", "gw@example.org"):
        staged = uploads.stage(files)
        try:
            with pytest.raises(PermissionError):
                uploads.commit(staged, KEY, core.resolve(config, {"email": email}))
        finally:
            uploads.discard(staged)
    assert audit_rows(env, "load") == []

    staged = uploads.stage(files)
    try:
        report = uploads.commit(staged, KEY, admin)
    finally:
        uploads.discard(staged)
    [row] = audit_rows(env, "load")
    assert (row["who"], row["role"], row["what"]["source"]) == ("admin@example.org", "admin", "dashboard upload")
    assert row["what"]["load_id"] == report.load_id == 1
    assert row["rows"] == {t.table: t.rows_read for t in report.tables}
    assert row["what"]["file_sha256"] == {t.table: t.file_sha256 for t in report.tables}
    text = json.dumps(row)
    assert "P001" not in text and "North" not in text


def test_the_audit_page_shows_the_trail_newest_first_and_filters_by_action(env):
    audit.record("export", who="gw@example.org", role="grant_writer", what={"file_kind": "csv"})
    at = app("admin@example.org", "audit")
    trail = at.dataframe[0].value
    assert list(trail["Action"][:2]) == ["sign in", "export"]  # the admin's own sign-in is the newest
    at.segmented_control(key="audit__action").set_value("export").run()
    trail = at.dataframe[0].value
    assert list(trail["Action"]) == ["export"] and list(trail["Who"]) == ["gw@example.org"]
    assert "Load history in the store" in texts(at)


# ------------------------------------------------------------------------------- refusing to start


@pytest.mark.parametrize("missing", sorted(AUTH))
def test_an_incomplete_auth_section_refuses_to_start(env, missing):
    secrets = {"auth": {k: v for k, v in AUTH.items() if k != missing}}
    for at in (app("pm@example.org", secrets=secrets), app("pm@example.org", "engagement", secrets=secrets,
                                                             deep_link=True)):
        errors = " ".join(shown(e) for e in at.error)
        assert f"[auth] {missing} is missing" in errors
        assert not at.button  # no sign-in offered either
        shows_no_data(at)
        # a setting's name, never its value
        assert all(v not in errors for v in AUTH.values())


@pytest.mark.parametrize("with_auth", [False, True])
def test_xsrf_protection_off_refuses_to_start(env, with_auth, monkeypatch):
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option",
                        lambda name: False if name == "server.enableXsrfProtection" else real(name))
    if not with_auth:
        env["roles"].unlink()  # the local single-user mode refuses too
    at = app("pm@example.org", secrets=None if with_auth else {})
    deep = app("pm@example.org", "data", deep_link=True, secrets=None if with_auth else {})
    for a in (at, deep):
        assert any("enableXsrfProtection" in shown(e) for e in a.error)
        shows_no_data(a)


def test_a_roles_file_without_sign_in_refuses_to_start(env):
    # Roles but no [auth] would otherwise open the local mode to everyone who reaches the server.
    at = app(secrets={})
    assert any("roles file" in shown(e) and "[auth]" in shown(e) for e in at.error)
    shows_no_data(at)


def test_a_broken_roles_file_refuses_to_start(env):
    env["roles"].write_text('[users]\n"a@example.org" = { role = "owner" }\n')
    at = app("pm@example.org")
    assert any("roles file cannot be used" in shown(e) for e in at.error)
    shows_no_data(at)


def test_an_unwritable_audit_trail_stops_sign_in(env, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(audit.AUDIT_ENV, str(blocker / "audit.jsonl"))
    at = app("pm@example.org")
    assert any("audit trail cannot be written" in shown(e) for e in at.error)
    shows_no_data(at)


# ------------------------------------------------------------------------------- local mode


def test_local_mode_says_so_on_every_page(tiny_store, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    for page in ALL:
        if page == "reports":
            continue  # not in the app's navigation until ui/setup.py lists it
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
        at.query_params.update(PERIOD)
        at.run()
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        assert any(ui_auth.LOCAL_MODE_NOTE in shown(i) for i in at.info), page
        assert not any(b.label in ("Sign in", "Sign out") for b in at.button)


def _chart_titles(at: AppTest) -> list[str]:
    import json

    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")
            if "setup__prime" not in (c.proto.id or "")]


def test_a_grant_writers_chart_titles_never_state_a_total_from_suppressed_cells(demo_env):
    """A chart's n is the sum of the cells it is drawn from. On a suppressed screen some cells
    are hidden, and that sum would read "n<11" for a total of hundreds (or count only the cells
    shown); a grant writer's titles say the total is not stated, as the image exports do, while
    the titles a program manager sees, and those of a grant writer's charts with nothing hidden,
    keep their n."""
    from analytics.exports.images import NO_TOTAL

    for page in ("outcomes", "retention", "engagement"):
        pm = _chart_titles(app("pm@example.org", page, query={}))
        gw = _chart_titles(app("gw@example.org", page, query={}))
        assert len(pm) == len(gw) > 0, page
        assert not any("n<11" in t for t in gw), (page, gw)
        for mine, theirs in zip(pm, gw, strict=True):
            assert theirs == mine or theirs.endswith(f"({NO_TOTAL})"), (page, mine, theirs)
            if theirs != mine:  # the same chart, only its n replaced
                assert theirs.split(" (")[0] == mine.split(" (")[0]
        if page == "outcomes":  # the trend's cells of a few scores a month are hidden
            assert any(t.endswith(f"({NO_TOTAL})") for t in gw)
