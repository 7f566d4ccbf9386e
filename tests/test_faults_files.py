"""Hostile and awkward files. Each is refused with one line naming the file (and
row where there is one), or read right; a refused load leaves the store unchanged."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from fixtures import load_helpers
from fixtures.load_helpers import (
    PROGRAM,
    digest,
    load,
    refused,
    rows,
    write,
    write_program,
)

from analytics.load import limits, load_paths

HEADER = "session_id,pair_id,session_date,status,duration_min,modality\n"

# pytest fixtures shared by the load tests
base_store, loaded = load_helpers.base_store, load_helpers.loaded


# 1. Empty file, or header only ---------------------------------------------------------------


def test_empty_file_has_no_data_rows(loaded, tmp_path):
    path = write(tmp_path / "x", "sessions.csv", "")
    refused([path], loaded, "sessions.csv", "no data rows")


def test_header_only_has_no_data_rows(loaded, tmp_path):
    path = write(tmp_path / "x", "sessions.csv", HEADER)
    refused([path], loaded, "sessions.csv", "no data rows")


def test_blank_rows_only_have_no_data_rows(loaded, tmp_path):
    path = write(tmp_path / "x", "sessions.csv", HEADER + ",,,,,\n,,,,,\n")
    refused([path], loaded, "sessions.csv", "no data rows")


# 2. Wrong real type ----------------------------------------------------------------------------


def test_renamed_image_is_refused_by_content(loaded, tmp_path):
    path = write(tmp_path / "x", "sessions.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    refused([path], loaded, "sessions.csv", "PNG image")


def test_renamed_binary_with_nul_bytes_is_refused(loaded, tmp_path):
    path = write(tmp_path / "x", "sessions.csv", HEADER.encode() + b"S1,R01\x00\x01\x02,2025-01-01\n")
    refused([path], loaded, "sessions.csv", "NUL bytes", "line 2")


@pytest.mark.parametrize("name", ["export.xls", "export.xlsx"])
def test_legacy_or_encrypted_workbook_is_refused(loaded, tmp_path, name):
    # Legacy .xls and password-protected .xlsx are both OLE2 compound files.
    path = write(tmp_path / "x", name, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    refused([path], loaded, name, "legacy .xls", "without a password")


def test_workbook_named_csv_is_refused(loaded, tmp_path):
    path = tmp_path / "x" / "sessions.csv"
    path.parent.mkdir()
    _workbook(path, {"sessions": [HEADER.strip().split(","), ["S9", "R01", "2025-01-15", "attended", 5, "phone"]]})
    refused([path], loaded, "sessions.csv", "Excel workbook", "CSV UTF-8")


def test_zip_that_is_not_a_workbook_is_refused(loaded, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    path = write(tmp_path / "x", "export.xlsx", buf.getvalue())
    refused([path], loaded, "export.xlsx", "not an Excel workbook")


def test_text_named_xlsx_is_refused(loaded, tmp_path):
    path = write(tmp_path / "x", "export.xlsx", PROGRAM["sessions"])
    refused([path], loaded, "export.xlsx", "not an .xlsx workbook")


# 3. Oversize -----------------------------------------------------------------------------------


def test_oversize_csv_refused_before_parsing(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_CSV_BYTES", 100)
    path = write(tmp_path / "x", "sessions.csv", PROGRAM["sessions"])
    refused([path], loaded, "sessions.csv", "larger than the 100 bytes limit")


def test_stated_limits():
    assert limits.MAX_CSV_BYTES == 2 * limits.GIB and limits.MAX_XLSX_BYTES == 200 * limits.MIB
    assert limits.MAX_COLUMNS == 200 and limits.MAX_ROWS == 50_000_000


def test_too_many_columns(loaded, tmp_path):
    header = HEADER.strip() + "," + ",".join(f"extra{i}" for i in range(200))
    path = write(tmp_path / "x", "sessions.csv", header + "\n")
    refused([path], loaded, "sessions.csv row 1", "206 columns", "limit of 200")


def test_too_many_rows(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ROWS", 3)
    path = write(tmp_path / "x", "sessions.csv", PROGRAM["sessions"])
    refused([path], loaded, "sessions.csv", "5 rows", "limit of 3")


def test_oversize_workbook(loaded, tmp_path, monkeypatch):
    path = tmp_path / "export.xlsx"
    _workbook(path, {"mentors": [["mentor_id", "site"], ["M9", "East"]]})
    monkeypatch.setattr(limits, "MAX_XLSX_BYTES", 1000)
    refused([path], loaded, "export.xlsx", "larger than the 1,000 bytes limit")


# 4. Zip / XML bombs ------------------------------------------------------------------------------


def _bomb(path: Path, member: str, data: bytes) -> Path:
    good = tmp = path.with_suffix(".good.xlsx")
    _workbook(tmp, {"mentors": [["mentor_id", "site"], ["M9", "East"]]})
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(member, data)
    return path


def test_zip_bomb_is_refused(loaded, tmp_path):
    path = _bomb(tmp_path / "export.xlsx", "xl/media/pad.xml", b" " * (20 * limits.MIB))
    refused([path], loaded, "export.xlsx", "zip bomb")


def test_total_expansion_is_capped(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_XLSX_UNCOMPRESSED", 2000)
    path = _bomb(tmp_path / "export.xlsx", "xl/pad.xml", b"<a/>" * 1000)
    refused([path], loaded, "export.xlsx", "expands to more than")


def test_xml_entity_bomb_is_refused(loaded, tmp_path):
    lol = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><sst>&lol2;</sst>'
    path = _bomb(tmp_path / "export.xlsx", "xl/custom.xml", lol)
    refused([path], loaded, "export.xlsx", "XML bomb")


# 5. UTF-8 byte-order mark ------------------------------------------------------------------------


def test_utf8_bom_is_stripped(loaded, tmp_path):
    path = write(tmp_path / "x", "mentors.csv", "\ufeffmentor_id,site\nM09,East\n".encode("utf-8"))
    report = load([path], loaded)
    assert report.tables[0].inserted == 1


# 6. UTF-16 and cp1252 ----------------------------------------------------------------------------


def test_utf16_with_bom_is_converted(loaded, tmp_path):
    text = "mentor_id\tsite\tsupervisor\r\nM09\tSão Tomé\tÉquipe C\r\n"
    path = write(tmp_path / "x", "mentors.csv", text.encode("utf-16"))
    load([path], loaded)
    assert ("São Tomé", "Équipe C") in rows(loaded, "select site, supervisor from mentors")


def test_cp1252_is_refused_not_garbled(loaded, tmp_path):
    text = "mentor_id,site\nM09,East\nM10,Café du Nord\n"
    path = write(tmp_path / "x", "mentors.csv", text.encode("cp1252"))
    refused([path], loaded, "mentors.csv", "not valid UTF-8 at line 3", "save the file as CSV UTF-8",
            secrets=("Caf",))


# 7. Invalid bytes midway -------------------------------------------------------------------------


def test_invalid_bytes_midway_name_the_line(loaded, tmp_path):
    good = "".join(f"M{i:03d},East\n" for i in range(50, 80))
    data = b"mentor_id,site\n" + good.encode() + b"M999,Ea\xffst\n" + b"M998,West\n"
    path = write(tmp_path / "x", "mentors.csv", data)
    refused([path], loaded, "mentors.csv", "not valid UTF-8 at line 32")


# 8. Delimiters and quoting -----------------------------------------------------------------------


@pytest.mark.parametrize("delim", [";", "\t"])
def test_semicolon_and_tab_delimiters(loaded, tmp_path, delim):
    text = f"mentor_id{delim}site{delim}supervisor\nM09{delim}East, upper{delim}Team C\n"
    load([write(tmp_path / "x", "mentors.csv", text)], loaded)
    assert ("East, upper", "Team C") in rows(loaded, "select site, supervisor from mentors")


def test_quoted_commas_and_newlines_in_quotes(loaded, tmp_path):
    text = 'mentor_id,site,supervisor\nM09,"East, upper","Team\nC"\nM10,"He said ""hi""",Team D\n'
    load([write(tmp_path / "x", "mentors.csv", text)], loaded)
    got = set(rows(loaded, "select site, supervisor from mentors"))
    assert ("East, upper", "Team\nC") in got and ('He said "hi"', "Team D") in got


def test_unterminated_quote_names_its_row(loaded, tmp_path):
    text = 'mentor_id,site\nM09,East\nM10,"West\nM11,North\n'
    refused([write(tmp_path / "x", "mentors.csv", text)], loaded, "mentors.csv row 3", "unterminated quote",
            secrets=("West",))


def test_ambiguous_delimiter_is_refused(loaded, tmp_path):
    text = "mentor_id,site;supervisor;x,y\nM09,East;Team;1,2\n"
    refused([write(tmp_path / "x", "mentors.csv", text)], loaded, "mentors.csv row 1", "comma or semicolon")


# 9. Ragged rows ----------------------------------------------------------------------------------


def test_short_row_is_refused_not_shifted(loaded, tmp_path):
    text = HEADER + "S09,R01,2025-03-01,attended,30,phone\nS10,R01,2025-03-08,attended\n"
    refused([write(tmp_path / "x", "sessions.csv", text)], loaded, "sessions.csv row 3", "4 fields", "header has 6",
            secrets=("S10",))


def test_long_row_is_refused(loaded, tmp_path):
    text = HEADER + "S09,R01,2025-03-01,attended,30,phone,Jane Doe\n"
    refused([write(tmp_path / "x", "sessions.csv", text)], loaded, "sessions.csv row 2", "7 fields",
            secrets=("Jane",))


def test_blank_lines_count_as_rows_like_a_spreadsheet(loaded, tmp_path):
    text = HEADER + "S09,R01,2025-03-01,attended,30,phone\n\nS10,R01,2099-03-08,attended,30,phone\n"
    refused([write(tmp_path / "x", "sessions.csv", text)], loaded, "sessions.csv row 4, column session_date")


# 10. Excel layouts --------------------------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[list]], *, date_cells: bool = True, merge: str | None = None,
              formulas: dict[str, tuple[str, object]] | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, grid in sheets.items():
        ws = wb.add_worksheet(name)
        for r, line in enumerate(grid):
            for c, v in enumerate(line):
                if isinstance(v, dt.date) and date_cells:
                    ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_format)
                elif v is not None:
                    ws.write(r, c, v)
        if merge and name == next(iter(sheets)):
            ws.merge_range(merge, grid[0][0])
        for cell, (formula, value) in (formulas or {}).items():
            ws.write_formula(cell, formula, None, value)
    wb.close()
    return path


def _program_sheets() -> dict[str, list[list]]:
    sheets = {}
    for table, text in PROGRAM.items():
        grid = [line.split(",") for line in text.strip().splitlines()]
        for line in grid[1:]:
            for i, v in enumerate(line):
                if len(v) == 10 and v[4] == "-":
                    line[i] = dt.date.fromisoformat(v)
                elif v.isdigit() and grid[0][i] in ("score", "duration_min"):
                    line[i] = int(v)
                elif v == "":
                    line[i] = None
        sheets[table] = grid
    return sheets


def test_workbook_with_one_sheet_per_table_loads_like_csv(tmp_path):
    wb = _workbook(tmp_path / "export.xlsx", _program_sheets())
    from_xlsx, from_csv = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    report = load([wb], from_xlsx)
    assert [t.label for t in report.tables][0] == "export.xlsx, sheet participants"
    load(write_program(tmp_path / "csv"), from_csv)
    tables = ("participants", "mentors", "pairs", "sessions", "goals", "assessments", "dq_findings")
    # dq_findings carries the load id, which is the same (1) for both.
    assert digest(from_xlsx, tables) == digest(from_csv, tables)


def test_unknown_extra_sheet_is_refused(loaded, tmp_path):
    sheets = {"mentors": [["mentor_id", "site"], ["M09", "East"]], "Notes": [["anything"]]}
    refused([_workbook(tmp_path / "export.xlsx", sheets)], loaded, "export.xlsx", "sheet 'Notes' is not a table")


def test_title_row_is_refused(loaded, tmp_path):
    sheets = {"mentors": [["Mentor roster, spring"], [], ["mentor_id", "site"], ["M09", "East"]]}
    refused([_workbook(tmp_path / "export.xlsx", sheets)], loaded, "export.xlsx, sheet mentors row 1", "title row")


def test_merged_header_is_refused(loaded, tmp_path):
    sheets = {"mentors": [["Mentor", None], ["mentor_id", "site"], ["M09", "East"]]}
    refused([_workbook(tmp_path / "export.xlsx", sheets, merge="A1:B1")], loaded, "sheet mentors row 1",
            "merged cells")


def test_two_row_header_is_refused(loaded, tmp_path):
    sheets = {"mentors": [["mentor_id", "site", "certified_on"], ["mentor id", "site name", "date"],
                          ["M09", "East", dt.date(2024, 1, 1)]]}
    refused([_workbook(tmp_path / "export.xlsx", sheets)], loaded, "sheet mentors row 2", "second header row")


def test_totals_row_fails_validation(loaded, tmp_path):
    grid = [["session_id", "pair_id", "session_date", "status", "duration_min"],
            ["S09", "R01", dt.date(2025, 3, 1), "attended", 30],
            ["Total", None, None, None, 30]]
    refused([_workbook(tmp_path / "export.xlsx", {"sessions": grid})], loaded,
            "export.xlsx, sheet sessions row 3, column pair_id", "required")


def test_formula_cells_use_cached_values(loaded, tmp_path):
    grid = [["session_id", "pair_id", "session_date", "status", "duration_min"],
            ["S09", "R01", dt.date(2025, 3, 1), "attended", None]]
    path = _workbook(tmp_path / "export.xlsx", {"sessions": grid}, formulas={"E2": ("=15*3", 45)})
    load([path], loaded)
    assert rows(loaded, "select duration_min from sessions where session_date = '2025-03-01'") == [(45.0,)]


def test_date_typed_serials_are_dates(loaded, tmp_path):
    grid = [["mentor_id", "site", "certified_on"], ["M09", "East", dt.date(2024, 2, 29)]]
    load([_workbook(tmp_path / "export.xlsx", {"mentors": grid})], loaded)
    assert (dt.date(2024, 2, 29),) in rows(loaded, "select certified_on from mentors")


def test_untyped_serial_number_in_date_column_is_refused(loaded, tmp_path):
    grid = [["mentor_id", "site", "certified_on"], ["M09", "East", 45351]]
    refused([_workbook(tmp_path / "export.xlsx", {"mentors": grid})], loaded,
            "sheet mentors row 2, column certified_on", "a number where a date is expected")


def test_numeric_ids_in_excel_match_csv_ids(tmp_path):
    grid = [["mentor_id", "site"], [1001, "East"]]
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    load([_workbook(tmp_path / "export.xlsx", {"mentors": grid})], a)
    load([write(tmp_path / "x", "mentors.csv", "mentor_id,site\n1001,East\n")], b)
    assert rows(a, "select mentor_id from mentors") == rows(b, "select mentor_id from mentors")


def test_discover_needs_table_names(tmp_path):
    path = write(tmp_path / "x", "clients_2025.csv", PROGRAM["participants"])
    from analytics.load import LoadError

    with pytest.raises(LoadError, match="clients_2025.csv: the file name does not name a table"):
        load_paths([path], tmp_path / "s.duckdb", key=b"k" * 32)
