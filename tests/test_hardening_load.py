"""Hostile inputs found by an independent attack on the load and the store: each is refused
with one line (or handled), and the store is left exactly as it was."""

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
