"""Reading files into all-text staging tables, in file order.

CSV goes through DuckDB's own reader with every option explicit (no sniffing of types or
dialect), all columns VARCHAR, strict RFC 4180 quoting; the delimiter is chosen from the header
line. DuckDB's errors carry the offending line's text: only the line number and the kind of
problem are kept. Workbook sheets are read by workbook.py and handed to DuckDB as text columns.
Row numbers count the header as row 1, as a spreadsheet does.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from analytics.domain import contract
from analytics.load import limits, sniff, workbook
from analytics.load.columns import ColumnPlan, build_plan
from analytics.load.errors import LoadError, where
from analytics.load.sources import Source
from analytics.load.sqltext import Frag, Params, ident, join, render, statement
from analytics.store.pseudonym import ID_TRIM

DELIMITERS = (",", ";", "\t")
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class Staged:
    """One source read into the staging table `raw`, plus what validation learns about it."""

    source: Source
    table: contract.Table
    plan: ColumnPlan
    sha256: str
    kind: str  # 'csv' or 'xlsx'
    raw: str = ""
    row_sql: Frag = Frag("rowid + 2")
    csv_path: Path | None = None
    delimiter: str = ","
    sheet: workbook.SheetData | None = None
    size: int = 0
    rows_read: int = 0
    empty_rows: int = 0
    duplicates_removed: int = 0
    date_formats: dict[str, str] = field(default_factory=dict)
    _row_map: Callable[[int], int] | None = None

    @property
    def label(self) -> str:
        return self.source.label

    def display_row(self, row: int) -> int:
        """The spreadsheet row of a staged row (CSV blank lines count as rows, as they do in Excel)."""
        if self.kind != "csv" or self.csv_path is None:
            return row
        return _csv_true_row(self.csv_path, self.delimiter, row) + self.source.row_offset


def _has_blank_lines(path: Path) -> bool:
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(sniff.CHUNK):
            data = tail + chunk
            if b"\n\n" in data or b"\n\r\n" in data:
                return True
            tail = data[-2:]
    return False


def _csv_true_row(path: Path, delimiter: str, row: int) -> int:
    """Row `row` counting only non-blank records, as a spreadsheet numbers it (blank lines count).

    DuckDB skips blank lines, Excel shows them as rows. Worked out only for a message, and only
    when the file has blank lines at all.
    """
    if not _has_blank_lines(path):
        return row
    seen = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for physical, record in enumerate(csv.reader(f, delimiter=delimiter), start=1):
                seen += bool(record)
                if seen == row:
                    return physical
    except csv.Error:  # a value over the csv module's field limit: keep DuckDB's count
        pass
    return row


# ---------------------------------------------------------------------------------------------
# Preparing a source: everything that needs no database (size, type, encoding, header).
# ---------------------------------------------------------------------------------------------


def _header_text(path: Path, label: str) -> str:
    with open(path, "rb") as f:
        data = f.read(limits.MAX_HEADER_BYTES)
    if data.startswith(sniff.UTF8_BOM):
        data = data[len(sniff.UTF8_BOM):]
    text = codecs.getincrementaldecoder("utf-8")().decode(data)  # a cut character is dropped
    if not text.strip():
        raise LoadError(f"{label}: the file is empty (no data rows)")
    return text


class _HeaderUnreadable(Exception):
    """The header cannot be split with this delimiter; the message says why."""


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        why = str(exc)
        if "field larger than field limit" in why:
            # Not split by this delimiter at all (a 100,000-column header read with ';'), or
            # one name longer than any column name: either way not this delimiter's header.
            raise _HeaderUnreadable("a column name is longer than 128 KB") from None
        if "expected after" in why:
            raise _HeaderUnreadable("a quote is misplaced (quotes must enclose a whole name)") from None
        raise _HeaderUnreadable("a quote is not closed") from None
    except StopIteration:
        return []


def choose_delimiter(text: str, label: str) -> tuple[str, list[str]]:
    """The delimiter that splits the header into the most fields: comma, semicolon or tab."""
    first_line_end = text.find("\n")
    if first_line_end < 0 and len(text) >= limits.MAX_HEADER_BYTES - 4:
        raise LoadError(f"{where(label, 1)}: the header row is longer than {limits.human(limits.MAX_HEADER_BYTES)}")
    splits: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    for d in DELIMITERS:
        try:
            splits[d] = _first_record(text, d)
        except _HeaderUnreadable as exc:
            problems[d] = str(exc)
    if problems and (not splits or max(len(f) for f in splits.values()) <= 1):
        # No delimiter splits it: say the cause met with the comma (the usual delimiter).
        why = problems.get(",") or next(iter(problems.values()))
        raise LoadError(f"{where(label, 1)}: the header row cannot be read ({why})")
    best = max(len(f) for f in splits.values())
    winners = [d for d, f in splits.items() if len(f) == best]
    if best > 1 and len(winners) > 1:
        names = " or ".join(_DELIM_NAMES[d] for d in winners)
        raise LoadError(f"{where(label, 1)}: cannot tell whether columns are separated by {names}")
    delimiter = winners[0] if best > 1 else ","
    return delimiter, splits[delimiter]


def prepare(source: Source, workdir: Path) -> Staged:
    table = contract.TABLES[source.table]
    if source.sheet is not None:
        sheet = workbook.read_sheet(source.path, source.label, source.sheet, table)
        return Staged(
            source=source, table=table, plan=sheet.plan, sha256=workbook.file_sha256(source.path),
            kind="xlsx", row_sql=Frag("_row"), sheet=sheet, size=source.path.stat().st_size,
        )
    if sniff.sniff(source.path, source.label) == "zip":
        raise LoadError(f"{source.label}: this is an Excel workbook, not CSV text; save it as CSV UTF-8")
    text_file = sniff.scan_text(source.path, source.label, workdir)
    delimiter, header = choose_delimiter(_header_text(text_file.path, source.label), source.label)
    plan = build_plan(table, header, source.label, header_row=1 + source.row_offset)
    return Staged(
        source=source, table=table, plan=plan, sha256=source.sha256 or text_file.sha256, kind="csv",
        csv_path=text_file.path, delimiter=delimiter, size=text_file.size,
    )


# ---------------------------------------------------------------------------------------------
# Staging: the file's kept columns as trimmed text, null tokens as NULL, in file order.
# ---------------------------------------------------------------------------------------------


def clean_sql(column: str) -> Frag:
    """Trim the value; the contract's null tokens (and nothing else) become NULL.

    Most cells are longer than any null token and have no surrounding whitespace: they take the
    cheap first branch, which keeps this near the cost of reading the file.
    """
    return render(
        "case when strlen({c}) > $longest_null and ascii({c}) > 32 and ascii(right({c}, 1)) > 32 "
        "then {c} when list_contains($nulls, lower(trim({c}, $ws))) then null else trim({c}, $ws) end",
        c=column,
    )


def _staging_params() -> Params:
    return Params(
        nulls=list(contract.NULL_TOKENS), ws=ID_TRIM, longest_null=max(len(t) for t in contract.NULL_TOKENS)
    )


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


_BREAK_OR_QUOTE = re.compile(rb'"|\r\n|\r|\n')
_ENDING_NAMES = {b"\r\n": "CR LF (Windows)", b"\n": "LF (Unix, macOS)", b"\r": "CR (old Mac)"}
_DIAGNOSE_BYTES = 64 * limits.MIB


def mixed_line_ending(path: Path) -> tuple[int, bytes, bytes] | None:
    """(row, its ending, the header's ending) of the first row that ends its line differently
    from the header, outside quoted values (Excel writes LF inside a quoted value of a CR LF
    file); None when every row ends alike. Read only to explain a failure (the first 64 MiB)."""
    with open(path, "rb") as f:
        data = f.read(_DIAGNOSE_BYTES)
    quoted = False
    first: bytes | None = None
    row = 1
    for m in _BREAK_OR_QUOTE.finditer(data):
        token = m.group(0)
        if token == b'"':
            quoted = not quoted  # a doubled quote toggles twice
            continue
        if quoted:
            continue
        if first is None:
            first = token
        elif token != first:
            return row, token, first
        row += 1
    return None


def _csv_problem(message: str, label: str, path: Path | None = None) -> LoadError:
    """A DuckDB CSV error as one line: its line number and kind, never the line it echoes."""
    mixed = mixed_line_ending(path) if path is not None else None
    if mixed is not None:
        row, ending, first = mixed
        return LoadError(
            f"{where(label, row)}: this line ends with {_ENDING_NAMES[ending]} but the header row with "
            f"{_ENDING_NAMES[first]} (mixed line endings: files joined, or edited in two programs?); "
            f"{sniff.SAVE_AS_UTF8}"
        )
    m = _CSV_LINE.search(message)
    at = where(label, int(m.group(1))) if m else label
    counts = _COUNTS.search(message)
    if counts:
        expected, found = counts.groups()
        what = (
            f"has {found} fields where the header has {expected} (a ragged row: a missing or extra "
            "delimiter, or an unquoted delimiter inside a value)"
        )
    elif "unterminated quote" in message:
        what = "a quoted value is never closed (unterminated quote)"
    elif "Invalid unicode" in message or "not utf-8" in message:
        what = f"is not valid UTF-8; {sniff.SAVE_AS_UTF8}"
    elif "Maximum line size" in message or "maximum line size" in message:
        what = "the line is too long (a runaway quote, or a value over 2 MB)"
    elif "quote" in message.lower():
        what = "a quote is misplaced (quotes must enclose a whole value; a quote inside is doubled)"
    else:
        what = "cannot be read as CSV"
    return LoadError(f"{at}: {what}")


def stage(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """Create the staging table raw_<table> for one prepared source."""
    st.raw = "raw_" + st.table.name
    cols = st.plan.read_columns
    params = _staging_params()
    selected = join([render("{e} as {c}", e=clean_sql(c), c=c) for c in cols])
    if st.kind == "csv":
        params.values.update(
            path=str(st.csv_path), delim=st.delimiter, quote='"', escape='"',
            columns={ident(n): "VARCHAR" for n in st.plan.sql_names},
        )
        sql = render(statement("stage_csv"), raw=st.raw, sel=selected)
        try:
            con.execute(sql, params.used_in(sql))
        except (duckdb.OutOfMemoryException, duckdb.IOException):
            raise
        except duckdb.Error as exc:
            raise _csv_problem(str(exc), st.label, st.csv_path) from None
        st.row_sql = Frag("rowid + 2")
    else:
        assert st.sheet is not None
        arrays = {"_row": pa.array(st.sheet.rows, pa.int64())}
        for c in cols:
            arrays[c] = pa.array(st.sheet.columns[c], pa.string())
        frame = pa.table(arrays)
        view = "sheet_" + st.table.name
        con.execute("select 1").fetchall()  # register() refuses while an earlier result is open
        con.register(view, frame)
        try:
            sql = render(statement("stage_sheet"), raw=st.raw, sel=selected, v=view)
            con.execute(sql, params.used_in(sql))
        finally:
            con.unregister(view)
        st.sheet = None  # the text now lives in DuckDB
        st.row_sql = Frag("_row")
