"""The running app in headless Chromium: deep links, every page, the URL round trip, an upload.

One server per module (`streamlit run dashboard.py`) over a copy of a small demo store
(400 participants); Debian's chromium through Playwright (never a downloaded browser).
Screenshots go to artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "overview": "Overview",
    "engagement": "Engagement",
    "retention": "Retention",
    "outcomes": "Outcomes",
    "goals": "Goals",
    "followup": "Follow-up",
    "compare": "Compare",
    "mentors": "Mentors",
    "data": "Data",
}
# A drawn chart of the page; not the empty one a session's first run sends to start loading
# the chart library (ui.setup._prime_chart_library).
CHART = '.stElementContainer:not(.st-key-setup__prime) [data-testid="stPlotlyChart"] .main-svg'
EXCEPTION = '[data-testid="stException"]'
# The app root carries the script's state; "running" while a rerun is under way.
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
TIMEOUT_MS = 30_000

if not Path(CHROMIUM).exists():  # pragma: no cover - the Makefile installs it
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_store_400(tmp_path_factory) -> Path:
    """A small demo store, built once per test session."""
    from analytics.demo import build_demo_store

    db = tmp_path_factory.mktemp("demo400") / "demo.duckdb"
    build_demo_store(db, participants=400)
    return db


@contextlib.contextmanager
def _running_app(work: Path, port: int, env: dict, *extra: str):
    """The app as `make run` starts it (`python -m ui.serve`: warm-up, then `streamlit run
    dashboard.py`) on `port` until the block ends; yields its base URL once /_stcore/health
    answers (the server's output goes to work/server.log)."""
    log = (work / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serve", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", *extra],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start: {(work / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def server(demo_store_400, tmp_path_factory):
    """The app on a free port over a private copy of the demo store (the upload test writes)."""
    from analytics.store.pseudonym import DEMO_KEY, KEY_ENV

    work = tmp_path_factory.mktemp("server")
    db = work / "store.duckdb"
    shutil.copyfile(demo_store_400, db)
    port = _free_port()
    # The demo store was pseudonymized with the published demo key; loads into it must use it.
    env = {**os.environ, "OUTCOMES_DB": str(db), KEY_ENV: DEMO_KEY.decode()}
    with _running_app(work, port, env) as base:
        yield {"base": base, "db": db, "log": work / "server.log"}


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def settle(page, charts: int = 1) -> None:
    """Wait until the script run is over and at least `charts` charts are drawn."""
    page.wait_for_selector('[data-testid="stSidebar"]')
    if charts:
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[CHART, charts]
        )
    page.wait_for_timeout(200)
    page.wait_for_selector(RUNNING, state="detached")
    page.wait_for_timeout(200)


def no_exception(page) -> None:
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def shot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 9000)})
    page.wait_for_timeout(800)  # charts re-lay themselves out to the new size
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def sidebar_labels(page) -> list[str]:
    return page.locator('[data-testid="stSidebar"] [data-testid="stWidgetLabel"]').all_inner_texts()


def metric_value(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return tile.first.locator('[data-testid="stMetricValue"]').inner_text()


def test_deep_link_on_a_fresh_server_gets_the_whole_app(server, context):
    # First request of this server: Streamlit serves pages/engagement.py by itself here.
    page = context.new_page()
    page.goto(f"{server['base']}/engagement")
    settle(page)
    no_exception(page)
    labels = sidebar_labels(page)
    for label in ("Period", "From", "To", "Site", "Funding stream", "Supervisor"):
        assert label in labels
    # The app's own navigation (sections, titles), not the file list of the pages/ folder.
    nav = page.locator('[data-testid="stSidebarNav"]')
    # and Reports and Audit, whose images come on demand, and Needs attention, which draws no chart
    assert nav.locator("a").count() == len(PAGES) + 3
    assert "Program" in nav.inner_text() and "Analysis" in nav.inner_text()
    assert page.get_by_text("Demo data: a synthetic program, not real people").count() == 1
    shot(page, "deep_link_engagement")


def test_every_page_renders_its_charts(server, context):
    page = context.new_page()
    page.goto(server["base"])
    settle(page)
    for name, title in PAGES.items():
        if name != "overview":
            page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
            page.wait_for_url(f"**/{name}*")
        settle(page)
        no_exception(page)
        assert page.locator(CHART).count() >= 1, f"{name}: no chart drawn"
        assert page.get_by_text("Demo data: a synthetic program, not real people").count() == 1
        shot(page, name)


def test_the_url_reproduces_the_view(server, context):
    page = context.new_page()
    page.goto(f"{server['base']}/engagement")
    settle(page)
    site = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Site")
    site.locator("input").click()
    page.keyboard.type("Harbor")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('site=Harbor')")
    settle(page)
    attended = metric_value(page, "Attended")
    url = page.url
    assert parse_qs(urlparse(url).query)["site"] == ["Harbor"]

    fresh = context.browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        again = fresh.new_page()
        again.goto(url)
        settle(again)
        no_exception(again)
        chips = again.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Site")
        assert "Harbor" in chips.inner_text()
        assert metric_value(again, "Attended") == attended
        shot(again, "url_round_trip")
    finally:
        fresh.close()


def _tiny_exports(folder: Path) -> list[Path]:
    """The tiny program as the six contract CSV exports."""
    import tiny_program

    from analytics.domain.contract import TABLES

    rows = {
        "participants": tiny_program.PARTICIPANTS,
        "mentors": tiny_program.MENTORS,
        "pairs": tiny_program.PAIRS,
        "sessions": tiny_program.SESSIONS,
        "goals": tiny_program.GOALS,
        "assessments": tiny_program.ASSESSMENTS,
    }
    paths = []
    for table, data in rows.items():
        path = folder / f"{table}.csv"
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(TABLES[table].column_names)
            w.writerows([["" if v is None else v for v in row] for row in data])
        paths.append(path)
    return paths


def test_upload_while_another_tab_reads(server, context, tmp_path):
    reader = context.new_page()
    reader.goto(f"{server['base']}/engagement")
    settle(reader)

    page = context.new_page()
    page.goto(f"{server['base']}/data")
    settle(page)
    assert page.get_by_text("1 load so far").count() == 1
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [str(p) for p in _tiny_exports(tmp_path)]
    )
    page.get_by_text("Check passed").wait_for()
    no_exception(page)
    shot(page, "upload_checked")
    page.get_by_role("button", name="Confirm and load").click()
    page.get_by_text(re.compile(r"^Loaded: ")).wait_for(timeout=60_000)
    settle(page)
    no_exception(page)
    assert page.get_by_text("2 loads so far").count() == 1
    shot(page, "upload_loaded")

    # The other tab still works and, on its next rerun, reads the new store.
    reader.bring_to_front()
    reader.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Period").click()
    reader.get_by_role("option", name="Year to date").click()
    settle(reader)
    no_exception(reader)
    assert reader.locator(CHART).count() >= 1
    assert "North" in reader.locator('[data-testid="stSidebar"]').inner_text() or _site_offered(reader, "North")
    shot(reader, "reader_after_load")


def _site_offered(page, site: str) -> bool:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Site")
    option = page.get_by_role("option", name=site).first
    # The first click can land while the tab, just brought to the front, is still being redrawn:
    # the box then only takes the focus. Click again when no menu came up.
    found = False
    for wait_ms in (2_000, 5_000):
        box.locator("input").click()
        try:
            option.wait_for(timeout=wait_ms)
            found = True
            break
        except playwright_api.TimeoutError:
            continue
    page.keyboard.press("Escape")
    return found


# ------------------------------------------------------------------------------- with sign-in set up


def test_followup_page_rate_charts_and_rule(server, context):
    page = context.new_page()
    page.goto(server["base"])
    settle(page)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Follow-up").first.click()
    page.wait_for_url("**/followup*")
    page.get_by_text("Did those reassessed differ at intake").wait_for()
    settle(page, charts=3)
    no_exception(page)
    rate = metric_value(page, "Follow-up rate")
    assert re.fullmatch(r"\d{1,3}\.\d%", rate), rate
    assert re.fullmatch(r"[\d,]+", metric_value(page, "Windows open now"))
    for title in ("Follow-up rate by month of window close", "Follow-up rate by site", "Follow-up rate by mentor"):
        assert page.locator(".main-svg", has_text=title).count() >= 1, title
    suprt_due = metric_value(page, "Due")
    shot(page, "followup_suprt")
    page.locator(".st-key-followup__rule button", has_text="GPRA").click()
    page.get_by_text("GPRA window, months 5 to 8 after intake").first.wait_for()
    page.wait_for_selector(RUNNING, state="detached")
    settle(page, charts=3)
    no_exception(page)
    assert metric_value(page, "Due") != suprt_due
    shot(page, "followup_gpra")


@pytest.fixture(scope="module")
def auth_server(demo_store_400, tmp_path_factory):
    """The app with `[auth]` in its secrets and a roles file: a visitor must sign in first."""
    work = tmp_path_factory.mktemp("auth_server")
    secrets = work / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        'redirect_uri = "http://localhost:8501/oauth2callback"\n'
        'cookie_secret = "a-long-random-cookie-secret-for-the-browser-test"\n'
        'client_id = "outcomes-dashboard"\n'
        'client_secret = "browser-test-secret"\n'
        'server_metadata_url = "https://idp.example.org/.well-known/openid-configuration"\n'
    )
    roles = work / "roles.toml"
    roles.write_text('[users]\n"pm@example.org" = { role = "program_manager" }\n')
    port = _free_port()
    env = {**os.environ, "OUTCOMES_DB": str(demo_store_400), "OUTCOMES_ROLES": str(roles),
           "OUTCOMES_AUDIT_LOG": str(work / "audit.jsonl")}
    with _running_app(work, port, env, "--secrets.files", str(secrets)) as base:
        yield {"base": base}


@pytest.mark.parametrize("path", ["/mentors", "/", "/data"])
def test_a_signed_out_visitor_gets_only_the_sign_in_screen(auth_server, context, path):
    # The first request of a fresh server is a deep link: the page file runs alone, and must
    # still stop at the sign-in screen before showing anything.
    page = context.new_page()
    page.goto(f"{auth_server['base']}{path}")
    page.get_by_role("button", name="Sign in").wait_for()
    page.wait_for_selector(RUNNING, state="detached")
    no_exception(page)
    assert page.locator('[data-testid="stSidebarNav"] a').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator(CHART).count() == 0
    assert page.get_by_text("Local single-user mode").count() == 0
    assert page.get_by_text("Page not found").count() == 0
    shot(page, f"sign_in{path.replace('/', '_') or '_root'}")


# ------------------------------------------------------------------------------- Needs attention


def test_needs_attention_lists_by_mentor_without_a_download(server, context):
    from analytics.store import audit

    page = context.new_page()
    page.goto(server["base"])
    settle(page)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Needs attention").first.click()
    page.wait_for_url("**/attention*")
    settle(page, charts=0)
    no_exception(page)
    assert page.get_by_role("heading", name="Needs attention").count() == 1
    assert page.get_by_role("heading", name="By mentor").count() == 1
    assert page.get_by_role("heading", name="Worklist").count() == 1
    # the tables render after the headings: wait for the second one before counting
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=30_000)
    assert page.locator('[data-testid="stDataFrame"]').count() == 2
    # row-level: no download of any kind, and the tables' own download/copy are off
    assert page.locator('[data-testid="stDownloadButton"]').count() == 0
    assert page.get_by_text("No download: this list names pairs and participants one by one").count() == 1
    shot(page, "attention")

    # the sidebar's site filter narrows it, and each view is on the audit trail
    site = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Site")
    site.locator("input").click()
    page.keyboard.type("Harbor")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('site=Harbor')")
    settle(page, charts=0)
    no_exception(page)
    shot(page, "attention_harbor")
    viewed = [r for r in audit.entries(action="view") if r["what"].get("page") == "attention"]
    assert viewed and viewed[0]["what"]["filters"] == {"site": ["Harbor"]}
    assert any(r["what"]["filters"] == {} for r in viewed[1:])


def test_the_outcomes_page_shows_a_phq9_as_lower_is_better(server, context):
    # The demo's PHQ-9 tab: the cut-off and dose-and-change charts are drawn, the fall in scores
    # reads as an improvement, and the dose chart says it is an association.
    page = context.new_page()
    page.goto(f"{server['base']}/outcomes")
    settle(page)
    page.get_by_role("tab", name="Patient Health Questionnaire-9").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.includes('change by sessions'))"
    )
    settle(page)
    no_exception(page)
    titles = page.evaluate("() => [...document.querySelectorAll('.gtitle')].map(t => t.textContent)")
    assert any(t.startswith("Patient Health Questionnaire-9: at the cut-off (9 or less)") for t in titles)
    assert any(t.startswith("Patient Health Questionnaire-9: change by sessions attended") for t in titles)
    assert page.get_by_text("An association, not an effect", exact=False).count() >= 1
    assert page.get_by_text("lower is better, so an improvement", exact=False).count() == 1
    assert metric_value(page, "At cut-off, follow-up (9 or less)").endswith("%")
    shot(page, "outcomes_phq9")
