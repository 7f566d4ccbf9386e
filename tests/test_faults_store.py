"""A killed load, a full disk or exhausted memory, and two loads at once.
In every case the store is exactly what it was before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from fixtures import load_helpers
from fixtures.load_helpers import (
    KEY,
    TODAY,
    digest,
    load,
    write,
)

from analytics import store
from analytics.load import pipeline, upsert

ROOT = Path(__file__).resolve().parent.parent

# pytest fixtures shared by the load tests
base_store, loaded = load_helpers.base_store, load_helpers.loaded


def _more_sessions(folder: Path, n: int = 200) -> Path:
    lines = "".join(f"X{i},R01,2025-03-{1 + i % 28:02d},attended,30,phone\n" for i in range(n))
    write(folder, "sessions.csv", "session_id,pair_id,session_date,status,duration_min,modality\n" + lines)
    return folder


# 27. kill -9 mid-load ---------------------------------------------------------------------------------------


def test_kill_9_mid_load_leaves_the_store_as_it_was(loaded, tmp_path):
    before = digest(loaded)
    env = dict(os.environ, OUTCOMES_PSEUDONYM_KEY=KEY.decode(), PYTHONPATH=str(ROOT))
    env[pipeline.PAUSE_ENV] = "60"  # the load pauses inside its write transaction
    proc = subprocess.Popen(
        [sys.executable, "-m", "analytics", "ingest", str(_more_sessions(tmp_path / "in")), "--db", str(loaded),
         "--today", TODAY.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # Wait until the load has written its rows into the copy of the store.
        while (line := proc.stderr.readline()) and "paused mid-transaction" not in line:
            pass
        assert "paused mid-transaction" in line, "the load ended before its pause"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    con = duckdb.connect(str(loaded), read_only=True)  # the store opens ...
    con.close()
    assert digest(loaded) == before  # ... and holds exactly what it held
    # The lock died with the process: the next load goes ahead.
    assert load(_more_sessions(tmp_path / "in2", 3), loaded).changed


# 28. Disk full, out of memory ------------------------------------------------------------------------------------


def _failing_write(exc: Exception):
    real = upsert.write

    def write_then_fail(con, table, changes):
        real(con, table, changes)  # some rows really are written into the copy first
        if table.name == "sessions":
            raise exc

    return write_then_fail


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (duckdb.IOException("IO Error: Could not write file: No space left on device"), "the disk is full"),
        (OSError(28, "No space left on device"), "the disk is full"),
        (duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block"), "ran out of memory"),
        (MemoryError(), "ran out of memory"),
    ],
)
def test_disk_full_or_out_of_memory_says_so_and_changes_nothing(loaded, tmp_path, monkeypatch, exc, cause):
    before = digest(loaded)
    monkeypatch.setattr(upsert, "write", _failing_write(exc))
    with pytest.raises(store.StoreError) as info:
        load(_more_sessions(tmp_path / "in"), loaded)
    assert cause in str(info.value) and "not changed" in str(info.value)
    assert digest(loaded) == before
    assert not [p for p in loaded.parent.iterdir() if ".tmp" in p.name]


def test_unexpected_engine_error_never_echoes_values(loaded, tmp_path, monkeypatch):
    def boom(con, table, changes):
        raise duckdb.ConversionException("Could not convert string 'Jane Doe' to INT32")

    monkeypatch.setattr(upsert, "write", boom)
    with pytest.raises(store.StoreError) as info:
        load(_more_sessions(tmp_path / "in"), loaded)
    assert "Jane" not in str(info.value) and info.value.__cause__ is None


def test_real_memory_limit_is_said_plainly(loaded, tmp_path, monkeypatch):
    # A real DuckDB out-of-memory error: the memory limit is set absurdly low inside the load.
    real = upsert.classify

    def starved(con, table):
        con.execute("set memory_limit = '1MB'")
        return real(con, table)

    monkeypatch.setattr(upsert, "classify", starved)
    before = digest(loaded)
    with pytest.raises(store.StoreError, match="ran out of memory"):
        load(_more_sessions(tmp_path / "in", 20000), loaded)
    assert digest(loaded) == before


# 30. Two loads at once ---------------------------------------------------------------------------------------------


def test_second_load_gets_busy_after_waiting(loaded, tmp_path):
    before = digest(loaded)
    with store.write_lock(loaded):
        start = time.monotonic()
        with pytest.raises(store.StoreBusy, match="busy.*try again"):
            load(_more_sessions(tmp_path / "in", 3), loaded, wait_s=0.3)
        assert time.monotonic() - start >= 0.3
    assert digest(loaded) == before


def test_second_load_waits_its_turn(loaded, tmp_path):
    released = threading.Event()

    def hold():
        with store.write_lock(loaded):
            time.sleep(0.5)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    report = load(_more_sessions(tmp_path / "in", 3), loaded, wait_s=10)
    holder.join()
    assert released.is_set() and report.tables[0].inserted == 3


def test_cli_busy_is_one_line(loaded, tmp_path, capsys, monkeypatch):
    from analytics import cli

    monkeypatch.setenv("OUTCOMES_PSEUDONYM_KEY", KEY.decode())
    with store.write_lock(loaded):
        code = cli.main(["ingest", str(_more_sessions(tmp_path / "in", 3)), "--db", str(loaded),
                         "--today", TODAY.isoformat()])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: busy") and err.count("\n") == 1
