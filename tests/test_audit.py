"""The audit trail (analytics.store.audit): append-only JSON lines, safe for several processes at once,
metadata only."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import stat
from datetime import UTC, datetime

import pandas as pd
import pytest

from analytics import cli
from analytics.store import audit, pseudonym
from analytics.store.audit import AuditError


@pytest.fixture()
def log(tmp_path, monkeypatch):
    path = tmp_path / "trail" / "audit.jsonl"
    monkeypatch.setenv(audit.AUDIT_ENV, str(path))
    return path


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_record_is_one_json_line_with_who_when_what(log):
    when = datetime(2026, 4, 2, 9, 14, 3, 512000, tzinfo=UTC)
    audit.record("export", who="gw@example.org", role="grant_writer", now=when,
                 what={"file_kind": "csv", "name": "goals_by_domain", "filters": {"site": ["North"]},
                       "period": "2026-01-01/2026-03-31", "k": 11},
                 content=b"a,b\n1,2\n")
    [entry] = lines(log)
    assert entry == {
        "at": "2026-04-02T09:14:03.512Z", "action": "export", "who": "gw@example.org", "role": "grant_writer",
        "what": {"file_kind": "csv", "name": "goals_by_domain", "filters": {"site": ["North"]},
                 "period": "2026-01-01/2026-03-31", "k": 11},
        "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest(), "bytes": 8,
    }
    # the content is hashed, never kept
    assert "1,2" not in log.read_text()


def test_the_file_is_private_and_only_appended_to(log):
    audit.record("sign_in", who="a@example.org")
    first = log.read_text()
    audit.record("sign_out", who="a@example.org")
    assert log.read_text().startswith(first)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_entries_newest_first_by_action_and_limited(log):
    for i in range(5):
        audit.record("sign_in", who=f"u{i}@example.org")
        audit.record("export", who=f"u{i}@example.org", what={"file_kind": "png"})
    assert [e["who"] for e in audit.entries(action="export", limit=3)] == [
        "u4@example.org", "u3@example.org", "u2@example.org"]
    assert len(audit.entries()) == 10
    assert audit.entries(action="load") == []


def test_no_file_yet_means_no_entries(log):
    assert audit.entries() == []


def test_a_torn_line_is_skipped_not_fatal(log):
    audit.record("sign_in", who="a@example.org")
    with log.open("a") as f:
        f.write('{"at": "2026-')  # a disk filled mid-write
    audit.record("sign_in", who="b@example.org")
    assert [e["who"] for e in audit.entries()] == ["b@example.org", "a@example.org"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "viewed"}, "unknown audit action"),
        ({"who": ""}, "needs who"),
        ({"what": {"participant_id": "pt1"}}, "not audit metadata"),
        ({"what": {"name": 0.6667}}, "measured values"),
        ({"what": {"name": pd.DataFrame({"a": [1]})}}, "does not belong"),
        ({"what": {"name": "x" * 500}}, "longer than"),
        ({"what": {"filters": {"site": {"deep": {"deeper": ["x"]}}}}}, "does not belong"),
        ({"rows": {"sessions": 1.5}}, "whole numbers"),
    ],
)
def test_anything_but_plain_metadata_is_refused(log, kwargs, message):
    args = {"action": "export", "who": "a@example.org", **kwargs}
    with pytest.raises(AuditError, match=message):
        audit.record(args.pop("action"), **args)
    assert not log.exists()


def _append_many(path: str, worker: int, n: int) -> None:
    for i in range(n):
        audit.record("export", who=f"worker{worker}@example.org", what={"name": f"n{i}"}, path=path)


def test_several_processes_append_without_losing_or_tearing_lines(log):
    # Several server processes (and the command line) share one trail: each line whole, none lost.
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(log), w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = lines(log)  # every line parses
    assert len(entries) == 600
    for w in range(4):
        assert [e["what"]["name"] for e in entries if e["who"] == f"worker{w}@example.org"] == [
            f"n{i}" for i in range(150)]


def test_a_load_is_recorded_with_hashes_and_row_counts_only(log, tmp_path, monkeypatch):
    from fixtures.load_helpers import KEY, write_program

    monkeypatch.setenv(pseudonym.KEY_ENV, KEY.decode())
    code = cli.main(["ingest", str(write_program(tmp_path / "p")), "--db", str(tmp_path / "s.duckdb"),
                     "--today", "2026-06-30", "--loaded-by", "ops"])
    assert code == 0
    [entry] = audit.entries(action="load")
    assert entry["who"] == "ops" and entry["what"]["source"] == "command line"
    assert entry["what"]["outcome"] == "loaded" and entry["what"]["load_id"] == 1
    assert set(entry["rows"]) == {"participants", "mentors", "pairs", "sessions", "goals", "assessments"}
    assert entry["rows"]["participants"] == 4
    assert entry["sha256"] == audit.load_digest(entry["what"]["file_sha256"])
    # never a value from the files (ids, sites, dates)
    text = log.read_text()
    assert "P001" not in text and "North" not in text and "2025-01" not in text


def test_a_dry_run_is_not_a_load(log, tmp_path, monkeypatch):
    from fixtures.load_helpers import KEY, write_program

    monkeypatch.setenv(pseudonym.KEY_ENV, KEY.decode())
    assert cli.main(["ingest", str(write_program(tmp_path / "p")), "--db", str(tmp_path / "s.duckdb"),
                     "--dry-run", "--today", "2026-06-30"]) == 0
    assert audit.entries() == []


def test_the_table_for_people(log):
    audit.record("load", who="admin@example.org", role="admin", what={"tables": ["pairs"]}, rows={"pairs": 4},
                 sha256="ab" * 32)
    frame = audit.as_frame(audit.entries())
    assert list(frame.columns) == ["When (UTC)", "Action", "Who", "Role", "What", "Rows", "SHA-256"]
    assert frame.iloc[0]["Rows"] == '{"pairs": 4}'
