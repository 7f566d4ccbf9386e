"""Hostile inputs against the load and the store (worksheet extents, scratch folders, newer
or linked stores, headers): each is refused with one line (or handled), and the store is left
exactly as it was."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from fixtures import load_helpers
from fixtures.load_helpers import KEY, digest, load, refused

from analytics.load import limits, workbook

ROOT = Path(__file__).resolve().parent.parent
base_store, loaded = load_helpers.base_store, load_helpers.loaded


# ---------------------------------------------------------------------------------------------
# A worksheet's extent is checked before it is read


def _sheet_with(path: Path, extra: bytes, *, prefix: bytes = b"") -> Path:
    """A one-sheet mentors workbook with `extra` XML appended inside its sheetData."""
    base = path.with_suffix(".base.xlsx")
    wb = xlsxwriter.Workbook(str(base))
    ws = wb.add_worksheet("mentors")
    for c, v in enumerate(["mentor_id", "site"]):
        ws.write(0, c, v)
    for c, v in enumerate(["M9", "East"]):
        ws.write(1, c, v)
    wb.close()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", extra + b"</sheetData>")
                if prefix:
                    data = data.replace(b"<", b"<" + prefix + b":").replace(b"<" + prefix + b":/", b"</" + prefix + b":")
                    data = data.replace(b"<" + prefix + b":?xml", b"<?xml").replace(
                        b'xmlns="', b"xmlns:" + prefix + b'="')
            dst.writestr(info, data)
    base.unlink()
    return path


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def test_one_cell_at_the_last_column_and_row_is_refused_before_the_reader_allocates(loaded, tmp_path):
    # 5 KB on disk; read naively it is a grid of 1,048,576 x 16,384 cells (~512 GiB): the process
    # aborted (exit 134). Run as the command line runs it, with memory capped for safety.
    path = _sheet_with(tmp_path / "export.xlsx", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    assert path.stat().st_size < 10_000
    before = digest(loaded)
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", str(path), "--db", str(loaded)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory,
        env={**os.environ, "OUTCOMES_PSEUDONYM_KEY": KEY.decode()},
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert "export.xlsx" in done.stderr and "'mentors'" in done.stderr and "16,384 columns" in done.stderr
    assert "Traceback" not in done.stderr
    assert digest(loaded) == before


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        # far down, within the column limit
        (b'<row r="1048576"><c r="B1048576" t="inlineStr"><is><t>x</t></is></c></row>', "1,048,576 rows"),
        # far right in a row with no r attributes at all (positions implied)
        (b"<row>" + b"<c><v>1</v></c>" * 201 + b"</row>", "201 columns"),
        # a cell reference of lower-case letters, single quotes
        (b"<row r='3'><c r='zz3'><v>1</v></c></row>", "702 columns"),
        # an implied row after a far one
        (b'<row r="1048575"/><row><c r="A1048576"><v>1</v></c><c><v>1</v></c></row>', "1,048,576 rows"),
    ],
)
def test_far_filled_cells_in_any_spelling_are_refused(loaded, tmp_path, monkeypatch, extra, words):
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 1_000_000)
    path = _sheet_with(tmp_path / "export.xlsx", extra)
    refused([path], loaded, "export.xlsx", "sheet 'mentors'", words, "refused before reading")


def test_a_namespace_prefixed_worksheet_is_measured_too(loaded, tmp_path):
    path = _sheet_with(tmp_path / "export.xlsx", b'<row r="9"><c r="XFD9"><v>1</v></c></row>', prefix=b"x")
    refused([path], loaded, "export.xlsx", "16,384 columns")


def test_formatting_alone_far_away_is_not_a_filled_cell(loaded, tmp_path):
    # Excel writes styled empty cells (`<c r=".." s="1"/>`); the reader skips them, and so does the check.
    path = _sheet_with(tmp_path / "export.xlsx", b'<row r="1048576" s="1"><c r="XFD1048576" s="0"/></row>')
    report = load([path], loaded)
    assert report.tables[0].inserted == 1


def test_extent_of_a_normal_sheet(tmp_path):
    path = _sheet_with(tmp_path / "export.xlsx", b"")
    with zipfile.ZipFile(path) as zf, zf.open("xl/worksheets/sheet1.xml") as member:
        assert workbook.sheet_extent(member) == (2, 2)  # A1:B2


# ---------------------------------------------------------------------------------------------
# A column whose name is itself an identifier is dropped without its name


@pytest.mark.parametrize("header", ["jane.doe@example.org", "Jane Doe <jane＠example.org>", "555-867-5309",
                                    "ssn 123.45.6789", "+44 20 7946 0958"])
def test_a_header_holding_an_identifier_is_dropped_and_never_named(loaded, tmp_path, header):
    from fixtures.load_helpers import all_text, write

    text = f'participant_id,site,enrolled_on,"{header}"\nP9,North,2025-01-01,x\n'
    report = load([write(tmp_path / "in", "participants.csv", text.encode("utf-8"))], loaded)
    assert report.tables[0].dropped_columns == ["a column whose name looks like an identifier"]
    shown = report.text()
    stored = " ".join(all_text(loaded))
    for part in (header, header.lower(), header.replace(" ", "_").lower()):
        assert part not in shown and part not in stored


# ---------------------------------------------------------------------------------------------
# Scratch folders: private, removed on every path, swept when their owner is gone


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_scratch_folders_are_private_and_named_with_their_process(tmp_path, monkeypatch):
    from analytics.store import scratch

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    for kind in ("load", "upload"):
        folder = scratch.make(kind)
        assert folder.parent == tmp_path and folder.name.startswith(f"outcomes-{kind}-{os.getpid()}-")
        assert folder.stat().st_mode & 0o777 == 0o700


def test_the_sweep_removes_folders_of_ended_processes_only(tmp_path):
    from analytics.store import scratch

    dead = _dead_pid()
    stale = [tmp_path / f"outcomes-upload-{dead}-abc", tmp_path / f"outcomes-load-{dead}-def",
             tmp_path / "outcomes-upload-k3j2h1"]  # the old naming, without a process: never in use
    live = [tmp_path / f"outcomes-upload-{os.getpid()}-ghi", tmp_path / "outcomes-uploadish", tmp_path / "other-1-x"]
    for folder in stale + live:
        folder.mkdir()
        (folder / "data.upload").write_text("name,email\n")
    assert scratch.sweep(tmp_path) == 3
    assert not any(f.exists() for f in stale) and all(f.exists() for f in live)


class _Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def test_an_upload_never_confirmed_goes_with_its_session(tmp_path, monkeypatch):
    import gc

    from fixtures.load_helpers import PROGRAM

    from ui import uploads

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    staged = uploads.stage([_Upload("mentors.csv", PROGRAM["mentors"].encode())])
    folder = staged.folder
    assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o700
    del staged  # the session's state is dropped when the session ends
    gc.collect()
    assert not folder.exists()


def test_an_upload_never_confirmed_goes_when_the_server_exits(tmp_path):
    from fixtures.load_helpers import PROGRAM

    code = ("import sys; from ui import uploads\n"
            "class U:\n name = 'mentors.csv'\n def getvalue(self): return sys.argv[1].encode()\n"
            "s = uploads.stage([U()]); print(s.folder, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", code, PROGRAM["mentors"]], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    folder = Path(done.stdout.strip())
    assert done.returncode == 0 and folder.parent == tmp_path
    assert not folder.exists()


def test_a_utf16_load_killed_with_9_leaves_nothing_after_the_next_start(loaded, tmp_path):
    import signal

    from analytics.load import pipeline

    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    text = "mentor_id,site,supervisor,certified_on\nM09,East,Team C,2024-01-01\n"
    src = tmp_path / "in" / "mentors.csv"
    src.parent.mkdir()
    src.write_bytes(text.encode("utf-16"))
    env = {**os.environ, "OUTCOMES_PSEUDONYM_KEY": KEY.decode(), "TMPDIR": str(scratch_root),
           pipeline.PAUSE_ENV: "60"}
    proc = subprocess.Popen([sys.executable, "-m", "analytics", "ingest", str(src), "--db", str(loaded),
                             "--today", "2026-06-30"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        while (line := proc.stderr.readline()) and "paused mid-transaction" not in line:
            pass
        assert "paused" in line
        left = list(scratch_root.glob("outcomes-load-*"))
        assert left and any(left[0].rglob("*.csv")) and left[0].stat().st_mode & 0o777 == 0o700
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(scratch_root.glob("outcomes-load-*"))  # kill -9 runs no clean-up ...
    # ... so the server's start (and every load) sweeps it: here, as ui.serve does at start.
    done = subprocess.run([sys.executable, "-c", "from analytics.store import scratch; print(scratch.sweep())"],
                          cwd=ROOT, env={**os.environ, "TMPDIR": str(scratch_root)}, capture_output=True, text=True)
    assert done.stdout.strip() == "1"
    assert not list(scratch_root.glob("outcomes-*"))


# ---------------------------------------------------------------------------------------------
# The store: newer schema, symbolic links, an unwritable audit trail, file mode


def test_a_store_with_a_newer_schema_is_refused_naming_both_versions(loaded, tmp_path):
    import duckdb
    from fixtures.load_helpers import PROGRAM, write

    from analytics import store

    con = duckdb.connect(str(loaded))
    con.execute("update schema_meta set value = '7' where key = 'schema_version'")
    con.close()
    before = digest(loaded)
    path = write(tmp_path / "in", "mentors.csv", PROGRAM["mentors"].replace("M02", "M07"))
    with pytest.raises(store.StoreError) as info:
        load([path], loaded)
    assert "schema version 7" in str(info.value) and f"version {store.SCHEMA_VERSION}" in str(info.value)
    assert digest(loaded) == before


def test_a_symlinked_store_stays_a_link_and_its_target_is_updated(loaded, tmp_path):
    from fixtures.load_helpers import PROGRAM, rows, write

    link = tmp_path / "links" / "outcomes.duckdb"
    link.parent.mkdir()
    link.symlink_to(loaded)
    path = write(tmp_path / "in", "mentors.csv", PROGRAM["mentors"] + "M07,East,Team C,2024-01-01\n")
    assert load([path], link).changed
    assert link.is_symlink() and link.resolve() == loaded.resolve()
    assert rows(loaded, "select count(*) from mentors") == [(3,)]
    assert not list(link.parent.glob(".*tmp*"))


def test_the_store_file_is_private(loaded, tmp_path):
    from fixtures.load_helpers import PROGRAM, write

    os.chmod(loaded, 0o644)
    new = tmp_path / "new.duckdb"
    load([write(tmp_path / "in", "mentors.csv", PROGRAM["mentors"])], new)
    load([write(tmp_path / "in2", "mentors.csv", PROGRAM["mentors"] + "M07,East,,\n")], loaded)
    for db in (new, loaded):
        assert db.stat().st_mode & 0o777 == 0o600


def test_no_load_commits_when_the_audit_trail_cannot_be_written(loaded, tmp_path, monkeypatch):
    from fixtures.load_helpers import PROGRAM, write

    from analytics.domain.access import LOCAL_ACCESS
    from analytics.store import StoreError
    from ui import uploads

    trail = tmp_path / "audit.jsonl"
    trail.mkdir()  # a folder where the file should be: not writable as a file, even by root
    before = digest(loaded)
    path = write(tmp_path / "in", "mentors.csv", PROGRAM["mentors"] + "M07,East,,\n")
    env = {**os.environ, "OUTCOMES_PSEUDONYM_KEY": KEY.decode(), "OUTCOMES_AUDIT_LOG": str(trail)}
    done = subprocess.run([sys.executable, "-m", "analytics", "ingest", str(path), "--db", str(loaded),
                           "--today", "2026-06-30"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "nothing was loaded" in done.stderr and "audit trail" in done.stderr
    assert digest(loaded) == before

    staged = uploads.stage([_Upload("mentors.csv", path.read_bytes())])
    monkeypatch.setenv("OUTCOMES_AUDIT_LOG", str(trail))
    monkeypatch.setenv("OUTCOMES_DB", str(loaded))
    try:
        with pytest.raises(StoreError, match="nothing was loaded"):
            uploads.commit(staged, KEY, LOCAL_ACCESS)
    finally:
        uploads.discard(staged)
    assert digest(loaded) == before


# ---------------------------------------------------------------------------------------------
# Two exports joined end to end: the second header is not a data row


@pytest.mark.parametrize(
    ("again", "row"),
    [
        ("session_id,pair_id,session_date,status,duration_min,modality", 4),
        ("Session ID,Pair ID,Session Date,Status,Duration Min,Modality", 4),  # spelt as the export spells it
        ('"session_id","pair_id","session_date","status","duration_min","modality"', 4),
        ("SESSION_ID, PAIR_ID ,session date,status,,", 4),
    ],
)
def test_a_repeated_header_row_in_the_middle_is_refused(loaded, tmp_path, again, row):
    from fixtures.load_helpers import write

    text = ("session_id,pair_id,session_date,status,duration_min,modality\n"
            "S11,R01,2025-03-01,attended,30,phone\nS12,R01,2025-03-08,attended,30,phone\n"
            f"{again}\nS13,R01,2025-03-15,attended,30,phone\n")
    refused([write(tmp_path / "x", "sessions.csv", text)], loaded, f"sessions.csv row {row}",
            "repeats the header row")


@pytest.mark.parametrize("table", ["sessions", "participants", "assessments"])
def test_every_cell_that_names_a_column_passes_the_cheap_first_test(table):
    """The repeated-header rule normalizes a row only when two cells match a wider pattern
    first: no cell whose normal form names a column may fail that pattern, whatever character
    (every one of the Basic Multilingual Plane) stands at its ends, in place of a letter or of
    an underscore, or next to one; upper case too."""
    import duckdb

    from analytics.domain import contract
    from analytics.load.columns import known_names
    from analytics.load.validate import name_like_pattern

    names = sorted(known_names(contract.TABLES[table]))
    pattern = name_like_pattern(names)
    assert pattern is not None
    con = duckdb.connect()
    forms = []
    for name in [n for n in names if "_" in n][:3]:
        head, tail = name.split("_", 1)
        forms += [f"ch || '{name}' || ch", f"'{head}' || ch || '{tail}'", f"ch || '{name[1:]}'",
                  f"'{name[:-1]}' || ch", f"upper('{head}') || ch || ch || upper('{tail}')"]
    cells = " union all ".join(f"select {f} as cell from cps" for f in forms)
    normal = "lower(regexp_replace(trim(cell), '[\\s\\-]+', '_', 'g'))"
    named, missed = con.execute(
        "with cps as (select chr(i::int) as ch from range(1, 65536) t(i) where i < 55296 or i > 57343), "
        f"cells as ({cells}) select count(*) filter (where list_contains($n, {normal})), "
        f"count(*) filter (where list_contains($n, {normal}) and not coalesce(regexp_full_match(cell, $p), false)) "
        "from cells", {"n": names, "p": pattern},
    ).fetchone()
    assert named > 30  # the forms do name columns (spaces, dashes, upper case, the Kelvin sign...)
    assert missed == 0


def test_a_value_that_happens_to_be_a_column_name_is_data(loaded, tmp_path):
    from fixtures.load_helpers import write

    text = "mentor_id,site,supervisor\nM09,site,Team C\n"
    assert load([write(tmp_path / "x", "mentors.csv", text)], loaded).changed


# ---------------------------------------------------------------------------------------------
# Messages that name the real cause: very wide headers, mixed line endings

HEADER = "session_id,pair_id,session_date,status,duration_min,modality"
ROW = "S11,R01,2025-03-01,attended,30,phone"


@pytest.mark.parametrize("quote", ["", '"'])
def test_a_100000_column_header_is_said_to_be_too_wide_not_an_open_quote(loaded, tmp_path, quote):
    from fixtures.load_helpers import write

    header = ",".join(f"{quote}c{i}{quote}" for i in range(100_000))
    message = refused([write(tmp_path / "x", "sessions.csv", header + "\n" + ",".join(["1"] * 100_000) + "\n")],
                      loaded, "sessions.csv row 1", "100000 columns", "limit of 200")
    assert "quote" not in message


@pytest.mark.parametrize(
    ("text", "row", "ending"),
    [
        (f"{HEADER}\r\n{ROW}\r\nS12,R01,2025-03-08,attended,30,phone\nS13,R01,2025-03-15,attended,30,phone\r\n", 3, "LF"),
        (f"{HEADER}\r\n{ROW}\rS12,R01,2025-03-08,attended,30,phone\r\n", 2, "CR (old Mac)"),
        (f"{HEADER}\r{ROW}\nS12,R01,2025-03-08,attended,30,phone\n", 2, "LF"),
    ],
)
def test_mixed_line_endings_name_the_row_and_the_cause(loaded, tmp_path, text, row, ending):
    from fixtures.load_helpers import write

    refused([write(tmp_path / "x", "sessions.csv", text)], loaded, f"sessions.csv row {row}",
            "mixed line endings", ending)


def test_line_breaks_inside_quoted_values_are_not_mixed_endings(tmp_path):
    from analytics.load.readers import mixed_line_ending

    path = tmp_path / "mentors.csv"
    path.write_bytes(b'mentor_id,site,supervisor\r\nM09,East,"Team\nC"\r\nM10,"a ""b""\rc",D\r\n')
    assert mixed_line_ending(path) is None
    path.write_bytes(b'mentor_id,site,supervisor\r\nM09,East,"Team\nC"\nM10,West,D\r\n')
    assert mixed_line_ending(path) == (2, b"\n", b"\r\n")
