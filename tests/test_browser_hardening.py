"""The running app (``python -m ui.serve``) in headless Chromium against a damaged store: one
clear message instead of a traceback, and the Data page still builds a fresh store from the
program's exports (the damaged file kept beside it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import tiny_program
from test_browser import CHROMIUM, CHROMIUM_ARGS, EXCEPTION, TIMEOUT_MS, _free_port, _running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = sorted((ROOT / "data" / "sample").glob("*.csv"))
KEY = "browser-test-key-for-a-fresh-store-0123456789"


@pytest.fixture(scope="module")
def damaged_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("damaged")
    good = tiny_program.build(work / "good.duckdb").read_bytes()
    db = work / "store.duckdb"
    db.write_bytes(good[: len(good) // 2])  # truncated: the file opens, its blocks do not
    env = {**os.environ, "OUTCOMES_DB": str(db), "OUTCOMES_PSEUDONYM_KEY": KEY,
           "OUTCOMES_AUDIT_LOG": str(work / "audit.jsonl"), "OUTCOMES_WARM": "0"}
    with _running_app(work, _free_port(), env) as base:
        yield {"base": base, "db": db}


@pytest.fixture(scope="module")
def page(damaged_server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser.new_page(viewport={"width": 1300, "height": 1000})
        browser.close()


def test_a_damaged_store_is_one_message_and_the_data_page_loads_a_fresh_one(damaged_server, page):
    base, db = damaged_server["base"], damaged_server["db"]
    for path in ("/", "/mentors"):
        page.goto(base + path)
        page.get_by_text("cannot be read").first.wait_for(timeout=TIMEOUT_MS)
        assert page.locator(EXCEPTION).count() == 0
        assert page.get_by_text("cannot be read").count() == 1
    before = db.read_bytes()
    page.goto(base + "/data")
    page.get_by_text("kept beside it").wait_for(timeout=TIMEOUT_MS)
    page.locator('input[type="file"]').set_input_files([str(p) for p in SAMPLE])
    confirm = page.get_by_role("button", name="Confirm and load")
    confirm.wait_for(timeout=60_000)
    confirm.click()
    page.get_by_text("Loaded:").wait_for(timeout=90_000)
    assert (db.parent / f"{db.name}.damaged").read_bytes() == before
    assert db.stat().st_mode & 0o777 == 0o600
    page.goto(base + "/")
    page.get_by_text("Pairs in scope").first.wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_text("cannot be read").count() == 0 and page.locator(EXCEPTION).count() == 0
