"""Command line and pages against an impossible as-of date or a damaged store: one clear line,
never a silently wrong report or a traceback."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from analytics import store, views
from analytics.metrics.scope import ScopeError, data_bounds, resolve_scope

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


@pytest.mark.parametrize("command", ["summary", "report"])
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
