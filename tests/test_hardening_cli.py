"""Command line and pages against an impossible as-of date or a damaged store: one clear line,
never a silently wrong report or a traceback."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from analytics import store
from analytics.metrics.scope import ScopeError, data_bounds, resolve_scope
from analytics.store import views

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


def _latest(tiny_store) -> date:
    con = store.connect_read(tiny_store)
    try:
        return data_bounds(views.analysis_connection(con))["latest_data"]
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# A future as-of date


@pytest.mark.parametrize("command", ["summary", "report", "attention"])
def test_an_as_of_after_today_is_refused_on_every_command(tiny_store, tmp_path, command):
    out = tmp_path / "r.pdf"
    extra = ["--start", "2026-01-01", "--end", "2026-03-31", "--out", str(out)] if command == "report" else []
    done = cli(command, "--db", str(tiny_store), "--as-of", "2030-01-01", *extra)
    assert done.returncode == 2, done.stdout[-300:]
    assert done.stderr.count("\n") == 1 and "2030-01-01" in done.stderr and "future" in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout and not out.exists()


def test_an_as_of_after_the_latest_data_is_refused(tiny_store, tiny_con):
    latest = _latest(tiny_store)
    # tiny_program: the last dated fact is the 2026-03-31 cut-off's data; a day later is refused
    after = latest + timedelta(days=1)
    assert after <= date.today()
    with pytest.raises(ScopeError, match=f"after the latest data in the store \\({latest}\\)"):
        resolve_scope(tiny_con, as_of=after.isoformat())
    done = cli("summary", "--db", str(tiny_store), "--as-of", after.isoformat())
    assert done.returncode == 2 and "after the latest data" in done.stderr
    # the latest day itself, and any earlier one, are fine
    assert resolve_scope(tiny_con, as_of=latest).as_of == latest
    assert resolve_scope(tiny_con, as_of="2026-02-15", start="2026-01-01").as_of == date(2026, 2, 15)


def test_latest_data_covers_every_dated_table(tiny_con):
    got = data_bounds(tiny_con)["latest_data"]
    want = tiny_con.execute(
        "select greatest((select max(session_date) from sessions), (select max(coalesce(closed_on, matched_on)) "
        "from pairs), (select max(coalesce(exited_on, enrolled_on)) from participants), (select "
        "max(coalesce(achieved_on, set_on)) from goals), (select max(administered_on) from assessments))"
    ).fetchone()[0]
    assert got == want


# ---------------------------------------------------------------------------------------------
# A damaged store: one clear message on the command line and on every page


def _damaged(tiny_store: Path, folder: Path, how: str) -> Path:
    data = tiny_store.read_bytes()
    out = folder / f"{how}.duckdb"
    if how == "garbage":
        out.write_bytes(b"not a database " * 500)
    elif how == "truncated":
        out.write_bytes(data[: len(data) // 2])
    else:  # bytes overwritten inside the data blocks: the file opens, a read fails its checksum
        out.write_bytes(data[:300_000] + b"Z" * 300_000 + data[600_000:])
    return out


DAMAGE = ["garbage", "truncated", "overwritten"]


@pytest.mark.parametrize("how", DAMAGE)
def test_summary_and_report_say_the_store_is_damaged_in_one_line(tiny_store, tmp_path, how):
    db = _damaged(tiny_store, tmp_path, how)
    for args in (["summary"], ["report", "--out", str(tmp_path / "r.pdf")], ["attention"]):
        done = cli(*args, "--db", str(db))
        assert done.returncode == 2, (args, done.stderr[-400:])
        assert done.stderr.count("\n") == 1 and "cannot be read" in done.stderr and db.name in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize("how", DAMAGE)
def test_a_load_into_a_damaged_store_is_refused_plainly_unless_asked_to_replace_it(tiny_store, tmp_path, how):
    from fixtures.load_helpers import KEY, PROGRAM, write_program

    from analytics.load import load_paths

    db = _damaged(tiny_store, tmp_path, how)
    before = db.read_bytes()
    folder = write_program(tmp_path / "in")
    with pytest.raises(store.StoreDamaged):
        load_paths([folder], db, key=KEY, today=date(2026, 6, 30))
    with pytest.raises(store.StoreDamaged):
        load_paths([folder], db, key=KEY, today=date(2026, 6, 30), dry_run=True)
    assert db.read_bytes() == before
    # The Data page's way: a fresh store from these files, the damaged one kept aside.
    assert load_paths([folder], db, key=KEY, today=date(2026, 6, 30), dry_run=True, replace_damaged=True).changed
    report = load_paths([folder], db, key=KEY, today=date(2026, 6, 30), replace_damaged=True)
    assert report.changed and not store.is_damaged(db, thorough=True)
    assert (tmp_path / f"{db.name}.damaged").read_bytes() == before
    con = store.connect_read(db)
    try:
        assert con.execute("select count(*) from participants").fetchone()[0] == PROGRAM["participants"].count("\n") - 1
    finally:
        con.close()


def _open(page: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    return at


@pytest.mark.parametrize("how", DAMAGE)
def test_every_page_says_the_store_is_damaged_once_and_the_data_page_still_loads(tiny_store, tmp_path,
                                                                                monkeypatch, how):
    from fixtures.load_helpers import KEY

    db = _damaged(tiny_store, tmp_path, how)
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    monkeypatch.setenv("OUTCOMES_PSEUDONYM_KEY", KEY.decode())
    for page in (None, "engagement", "mentors", "data"):
        at = _open(page)
        assert not at.exception, (page, [e.value for e in at.exception])
        errors = [str(e.value) for e in at.error]
        assert sum("cannot be read" in e for e in errors) == 1, (page, errors)
        assert not at.get("plotly_chart") or page is None
        if page == "data":  # the local user may load: the uploader is there, enabled
            uploader = at.get("file_uploader")
            assert uploader and not uploader[0].proto.disabled
            assert any(".damaged" in str(i.value) for i in at.info)
