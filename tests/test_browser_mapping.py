"""The mapping step in headless Chromium: an upload in another system's shape is mapped by hand
where the draft could not decide, checked, loaded, and the next upload maps itself.

Its own server over a fresh store (the tiny program, loads with the tests' key); the browser,
helpers and screenshots (artifacts/screenshots/) are test_browser's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import test_browser
import tiny_program
from fixtures.foreign_export import write_csv_export
from fixtures.load_helpers import KEY, rows
from test_browser import RUNNING, _free_port, _running_app, no_exception, settle, shot

from analytics.load import mapping as mp
from analytics.store import pseudonym

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
browser = test_browser.browser  # the fixtures, shared
context = test_browser.context


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("mapping_server")
    db = tiny_program.build(work / "store.duckdb")
    # A private temporary folder: the saved uploads live there while the step is open, and no
    # other process's clean-up of the machine's temporary folder can reach them.
    (work / "tmp").mkdir()
    env = {**os.environ, "OUTCOMES_DB": str(db), pseudonym.KEY_ENV: KEY.decode(), "TMPDIR": str(work / "tmp")}
    with _running_app(work, _free_port(), env) as base:
        yield {"base": base, "db": db, "work": work}


def _choose(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_label(label, exact=True)).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(300)
    page.wait_for_selector(RUNNING, state="detached")


def test_mapping_step_in_a_real_browser(server, context, tmp_path):
    foreign = write_csv_export(tmp_path / "caseworks")
    files = [str(foreign / "contacts.csv")] + [str(SAMPLE / f"{t}.csv") for t in
                                                ("participants", "mentors", "pairs", "goals", "assessments")]
    page = context.new_page()
    page.set_viewport_size({"width": 1440, "height": 2600})  # the whole step in view, as a person scrolls it
    page.goto(f"{server['base']}/data")
    settle(page, charts=0)
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files(files)
    page.get_by_text("Map these files onto the data contract").wait_for()
    settle(page, charts=0)
    no_exception(page)
    main = page.locator('[data-testid="stMain"]')
    # Pre-filled from the draft; the values of the notes column are never shown.
    assert "Date of Service" in main.inner_text() and "Talked about housing" not in main.inner_text()
    assert "S0001" not in main.inner_text()
    _choose(page, "Column for Staff Notes", "drop (never stored)")
    _choose(page, "Codebook value for Showed", "attended")
    _choose(page, "Codebook value for Office visit", "in_person")
    shot(page, "mapping_step")
    page.get_by_role("button", name="Check with this mapping").click()
    page.get_by_text("Check passed").wait_for()
    settle(page, charts=0)
    no_exception(page)
    report = page.locator('[data-testid="stCode"]').inner_text()
    assert "mapping profile: store.mapping.toml (sha256 " in report
    assert "dropped columns (never stored): staff_notes" in report
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the mapping profile").click()
    downloaded = mp.parse_profile(open(dl.value.path(), "rb").read(), "downloaded.toml")
    assert downloaded.tables["sessions"].values["status"]["Showed"] == "attended"
    shot(page, "mapping_checked")
    page.get_by_role("button", name="Confirm and load").click()
    page.get_by_text(re.compile(r"^Loaded: ")).wait_for(timeout=60_000)
    settle(page, charts=0)
    no_exception(page)
    assert page.get_by_text(re.compile("next month's upload in this shape maps itself")).count() == 1
    assert mp.saved_profile(server["db"]).sha256 == downloaded.sha256
    assert rows(server["db"], "select mapping_profile from load_audit") == [("store.mapping.toml",)]

    # Next month: the same shape maps itself with the kept profile (here: nothing new to load).
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files)
    page.get_by_text("Check passed").wait_for()
    settle(page, charts=0)
    no_exception(page)
    assert page.get_by_text("Map these files onto the data contract").count() == 0
    assert "11 unchanged" in page.locator('[data-testid="stCode"]').inner_text()
    shot(page, "mapping_next_month")
