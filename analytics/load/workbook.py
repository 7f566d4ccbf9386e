"""Reading .xlsx workbooks with python-calamine: one sheet per table, the header in the first row.

The zip is inspected before any parser sees it (member count, total and per-member expansion,
no DTDs, and each worksheet's filled range, read from its XML), so a zip or XML bomb, or one
stray cell at XFD1048576 that would make the reader allocate a grid of 17 billion cells, is
refused. Cells come back as cached values (formulas are not
re-evaluated, and python-calamine reads error cells such as #DIV/0! as empty); date-typed
cells become ISO dates, while a bare number in a date column is refused
because a serial number without a date format cannot be told from a count. Layouts that cannot be
read without guessing (title rows, merged or two-row headers) are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from analytics.domain import contract
from analytics.load import limits, sniff
from analytics.load.columns import AGE_SOURCE_COLUMN, ColumnPlan, build_plan, known_names
from analytics.load.errors import LoadError, cell_error, where

_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


def check_zip(path: Path, label: str) -> None:
    """Refuse anything that is not a plausible, bounded .xlsx before it is parsed."""
    sniff.check_size(path, label, limits.MAX_XLSX_BYTES)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > limits.MAX_ZIP_MEMBERS:
                raise LoadError(f"{label}: the workbook has too many parts ({len(infos)}); refused as unsafe")
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
                raise LoadError(
                    f"{label}: this zip file is not an Excel workbook (.docx, .ods or another "
                    "archive?); save the data as .xlsx or CSV UTF-8"
                )
            if "xl/workbook.bin" in names:
                raise LoadError(f"{label}: this is a binary .xlsb workbook; save it as .xlsx")
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise LoadError(f"{label}: the workbook is encrypted; save it as .xlsx without a password")
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > limits.MIB and ratio > limits.MAX_ZIP_RATIO:
                    raise LoadError(
                        f"{label}: a part of the workbook expands {ratio:.0f}-fold (limit "
                        f"{limits.MAX_ZIP_RATIO}); refused as a possible zip bomb"
                    )
            if total > limits.MAX_XLSX_UNCOMPRESSED:
                raise LoadError(
                    f"{label}: the workbook expands to more than {limits.human(limits.MAX_XLSX_UNCOMPRESSED)}; "
                    "refused as too large or a possible zip bomb (export CSV files instead)"
                )
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as member:
                        prolog = member.read(2048)
                    if any(m in prolog for m in _DTD_MARKERS):
                        raise LoadError(
                            f"{label}: the workbook's XML declares entities (a DTD); refused as a "
                            "possible XML bomb"
                        )
            _check_sheets(zf, label)
    except zipfile.BadZipFile:
        raise LoadError(f"{label}: the workbook is damaged (not a readable zip file)") from None
    except OSError as exc:
        raise LoadError(f"{label}: cannot read the file ({exc.strerror or type(exc).__name__})") from None


# Cells and rows of a worksheet's XML (any namespace prefix), their `r` attribute, and how a
# workbook names its sheets' parts.
_ROW_OR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)((?:\s[^>]*)?)>")
_REF = re.compile(rb"\sr\s*=\s*[\"']([A-Za-z]{0,3})(\d{0,7})[\"']")
_SHEET = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\s[^>]*>")
_ATTR = re.compile(rb"([\w:]+)\s*=\s*[\"']([^\"']*)[\"']")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> the sheet's name, from xl/workbook.xml and its relationships."""
    try:
        book = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for m in re.finditer(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\s[^>]*>", rels):
        attrs = dict(_ATTR.findall(m.group(0)))
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attrs.get(b"Id", b"")] = target
    names = {}
    for m in _SHEET.finditer(book):
        attrs = _ATTR.findall(m.group(0))
        rid = next((v for k, v in attrs if k.endswith(b":id")), b"")
        name = next((v for k, v in attrs if k == b"name"), b"")
        if rid in targets:
            names[targets[rid]] = name.decode("utf-8", "replace")
    return names


def sheet_extent(member) -> tuple[int, int]:
    """(last row, last column) of the filled cells of a worksheet's XML, read as a stream.

    Rows and cells without an `r` attribute take the position after the previous one, as
    readers do; an empty self-closing cell (`<c r=".." s="1"/>`, formatting only) is not filled.
    """
    last_row = last_col = 0
    row = col = 0
    tail = b""
    while chunk := member.read(sniff.CHUNK):
        data = tail + chunk
        end = data.rfind(b"<")
        if end < 0 or data.find(b">", end) >= 0:
            end = len(data)
        for m in _ROW_OR_CELL.finditer(data, 0, end):
            attrs = m.group(2)
            ref = _REF.search(attrs)
            if m.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                continue
            if ref and ref.group(2):
                row = int(ref.group(2))
            col = _column_number(ref.group(1)) if ref and ref.group(1) else col + 1
            if attrs.rstrip().endswith(b"/"):
                continue
            last_row, last_col = max(last_row, row), max(last_col, col)
        tail = data[end:]
        if len(tail) > limits.MIB:  # a tag longer than a megabyte is not a worksheet's
            raise ValueError("tag too long")
    return last_row, last_col


def _check_sheets(zf: zipfile.ZipFile, label: str) -> None:
    """Refuse a worksheet whose filled range is too large to read, before any reader sees it."""
    names = _sheet_parts(zf)
    for info in zf.infolist():
        part = info.filename
        if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
            continue
        sheet = names.get(part, part.rsplit("/", 1)[-1].removesuffix(".xml"))
        try:
            with zf.open(info) as member:
                rows, cols = sheet_extent(member)
        except ValueError:
            raise LoadError(f"{label}: the sheet {sheet!r} cannot be read (damaged workbook?)") from None
        too = None
        if cols > limits.MAX_SHEET_COLUMNS:
            too = f"{cols:,} columns (limit {limits.MAX_SHEET_COLUMNS:,})"
        elif rows > limits.MAX_SHEET_ROWS:
            too = f"{rows:,} rows (limit {limits.MAX_SHEET_ROWS:,})"
        elif rows * cols > limits.MAX_SHEET_CELLS:
            too = f"{rows:,} rows by {cols:,} columns (limit {limits.MAX_SHEET_CELLS:,} cells)"
        if too:
            raise LoadError(
                f"{label}: the sheet {sheet!r} has cells filled out to {too}; refused before reading "
                "(delete stray cells far below or to the right of the table, or export CSV files)"
            )


def _open(path: Path, label: str) -> python_calamine.CalamineWorkbook:
    check_zip(path, label)
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise LoadError(f"{label}: the workbook is password-protected; save it as .xlsx without a password") from None
    except Exception:  # calamine raises several types for damaged files; none may echo content
        raise LoadError(f"{label}: the workbook cannot be read (damaged or not .xlsx)") from None


def sheet_names(path: Path, label: str) -> list[str]:
    wb = _open(path, label)
    try:
        return [m.name for m in wb.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
    finally:
        wb.close()


def sheet_grid(path: Path, label: str, sheet: str) -> list[list[object]]:
    """A sheet's cells as rows (the checks of _open first)."""
    wb = _open(path, label)
    try:
        try:
            return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception:
            raise LoadError(f"{label}: the sheet cannot be read (damaged workbook?)") from None
    finally:
        wb.close()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(sniff.CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class SheetData:
    plan: ColumnPlan
    rows: list[int]  # the spreadsheet row number of each data row
    columns: dict[str, list[str | None]]  # staged column -> text cells (None = empty)


def _empty(v: object) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _text(v: object) -> str | None:
    """A cell as text, the way a CSV export would write it."""
    if _empty(v):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


cell_text = _text


def _header_row(grid: list[list[object]], label: str, table: contract.Table) -> int:
    for i, row in enumerate(grid):
        if any(not _empty(v) for v in row):
            return i
    raise LoadError(f"{label}: the sheet is empty (no data rows)")


def _check_layout(grid, h: int, label: str, table: contract.Table, merged) -> list[str]:
    """The header row's names; refuses title rows, merged and two-row headers."""
    header = grid[h]
    filled = [v for v in header if not _empty(v)]
    for (r0, _c0), (r1, _c1) in merged or []:
        if r0 <= h <= r1 or r0 <= h + 1 <= r1:
            raise LoadError(
                f"{where(label, h + 1)}: the header has merged cells; use one header row with one "
                "column name per cell (unmerge, and remove title rows)"
            )
    if len(filled) == 1 and len(table.required) > 1 and h + 1 < len(grid):
        raise LoadError(
            f"{where(label, h + 1)}: this looks like a title row, not the header; the column names "
            "must be in the first row (delete the rows above them)"
        )
    if any(not isinstance(v, str) for v in filled):
        raise LoadError(
            f"{where(label, h + 1)}: does not look like a header row (it holds numbers or dates); "
            "the first row must hold the column names"
        )
    if h + 1 < len(grid):
        names = known_names(table)
        nxt = [contract.normalize_name(v) for v in grid[h + 1] if isinstance(v, str) and v.strip()]
        if sum(n in names for n in nxt) >= 2:
            raise LoadError(
                f"{where(label, h + 2)}: a second header row; use one header row with one column name "
                "per cell"
            )
    names = [v.strip() if isinstance(v, str) else "" for v in header]
    while names and names[-1] == "":  # formatting can widen the used range past the data
        names.pop()
    return names


def read_sheet(path: Path, label: str, sheet: str, table: contract.Table) -> SheetData:
    wb = _open(path, label)
    try:
        try:
            ws = wb.get_sheet_by_name(sheet)
            grid = ws.to_python(skip_empty_area=False)
            merged = ws.merged_cell_ranges
        except Exception:
            raise LoadError(f"{label}: the sheet cannot be read (damaged workbook?)") from None
    finally:
        wb.close()
    h = _header_row(grid, label, table)
    header = _check_layout(grid, h, label, table, merged)
    plan = build_plan(table, header, label, header_row=h + 1)
    date_cols = {c for c in plan.kept if table.column(c).kind == contract.DATE}
    if plan.age_source == "dob":
        date_cols.add(AGE_SOURCE_COLUMN)
    wanted = [(plan.positions[c], c) for c in plan.read_columns]
    rows: list[int] = []
    columns: dict[str, list[str | None]] = {c: [] for _, c in wanted}
    serial: dict[str, list[int]] = {}
    width = len(header)
    for r in range(h + 1, len(grid)):
        line = grid[r]
        if len(line) > width and any(not _empty(v) for v in line[width:]):
            raise cell_error(label, r + 1, None, "has data to the right of the last named column")
        rows.append(r + 1)
        for pos, col in wanted:
            v = line[pos] if pos < len(line) else None
            if col in date_cols and isinstance(v, (int, float)) and not isinstance(v, bool):
                # A number in a date column: a serial date without a date format, or a count.
                serial.setdefault(col, []).append(r + 1)
            columns[col].append(_text(v))
    for col, bad in serial.items():
        raise cell_error(
            label, bad[0], plan.display(col),
            "a number where a date is expected; format the column as dates in Excel or write YYYY-MM-DD",
            len(bad) - 1,
        )
    return SheetData(plan=plan, rows=rows, columns=columns)
