"""Mapping profiles: a program's own export shape, mapped once onto the contract and reused.

A profile is a small TOML file (no data values except the export's spellings of codebook
labels) that says, per table, which file or sheet feeds it, which row holds the header, which
export header feeds which contract column, how the export spells codebook values, which date
format a column uses, and which columns to drop:

    [tables.sessions]
    file = "contacts.csv"          # or: sheet = "Contacts" for an .xlsx
    header_row = 3                 # rows above it (titles) are skipped
    [tables.sessions.columns]      # contract column = the export's header
    session_id = "Contact ID"
    [tables.sessions.values.status]   # the export's value = the codebook value
    "Showed" = "attended"
    [tables.sessions.dates]
    session_date = "%m/%d/%Y"
    [tables.sessions.drop]
    columns = ["Staff Notes"]

Applying a profile writes each mapped file or sheet as a contract-shaped CSV copy in a private
temporary folder (renamed headers, title rows skipped, values and dates rewritten, dropped
columns left out) and hands the copies to the ordinary load, which validates them exactly as it
validates a contract-shaped export: columns the profile does not map are refused as unknown
(or dropped as identifiers) as before, and the store is unchanged on any failure. Messages keep
the original file's name and row numbers; the audit keeps the original file's hash and the
profile's name and hash.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from analytics import store
from analytics.domain import contract
from analytics.load import limits, sniff, workbook
from analytics.load.columns import AGE_SOURCES, is_identifier, target_of
from analytics.load.errors import LoadError, cell_error, where
from analytics.load.readers import choose_delimiter
from analytics.load.sources import (
    Source,
    check_unique_tables,
    files_of,
    sources_for_file,
)
from analytics.load.validate import code_key
from analytics.store import scratch

MAX_PROFILE_BYTES = limits.MIB
# The profile kept beside the store for the next load: <store stem>.mapping.toml.
SAVED_SUFFIX = ".mapping.toml"

TABLE_KEYS = ("file", "sheet", "header_row", "columns", "values", "dates", "drop")
# Columns a profile may name besides the contract's: the age sources that become age_band.
AGE_TARGETS = {"participants": tuple(kind for kind, _ in AGE_SOURCES)}
_DATE_DIRECTIVES = re.compile(r"%[a-zA-Z%]")
_ALLOWED_DIRECTIVES = {"%Y", "%m", "%d", "%b", "%B", "%H", "%M", "%S", "%I", "%p", "%a", "%A", "%%"}


@dataclass(frozen=True)
class TableMapping:
    """One table's part of a profile."""

    table: str
    file: str | None = None
    sheet: str | None = None
    header_row: int | None = None  # 1-based; None: the first row (the first non-empty one of a sheet)
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> export header
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {export value: code}
    dates: dict[str, str] = field(default_factory=dict)  # column -> strptime format
    drop: tuple[str, ...] = ()  # export headers left out (named in the load report)

    @property
    def where(self) -> str:
        if self.sheet is not None:
            return f"sheet {self.sheet!r}" + (f" of {self.file}" if self.file else "")
        return str(self.file)


@dataclass(frozen=True)
class Profile:
    name: str  # what the report and the audit call it (the file's name)
    sha256: str  # of the profile's bytes
    tables: dict[str, TableMapping]
    text: str = ""

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


# ---------------------------------------------------------------------------------------------
# Reading and checking a profile
# ---------------------------------------------------------------------------------------------


def _fail(name: str, key: str, what: str) -> LoadError:
    return LoadError(f"mapping profile {name}: {key}: {what}")


def _check_keys(name: str, key: str, got: dict, allowed) -> None:
    unknown = [k for k in got if k not in allowed]
    if unknown:
        raise _fail(name, key, f"unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")


def _str(name: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(name, key, "must be a non-empty text in quotes")
    return value


def _table_of(name: str, table: str, raw: object) -> TableMapping:
    base = f"tables.{table}"
    if table not in contract.TABLES:
        raise _fail(name, base, f"{table!r} is not a table ({', '.join(contract.TABLE_ORDER)})")
    if not isinstance(raw, dict):
        raise _fail(name, base, "must be a table ([tables.NAME])")
    _check_keys(name, base, raw, TABLE_KEYS)
    t = contract.TABLES[table]
    file = _str(name, f"{base}.file", raw["file"]) if "file" in raw else None
    sheet = _str(name, f"{base}.sheet", raw["sheet"]) if "sheet" in raw else None
    if file is None and sheet is None:
        raise _fail(name, base, 'name the export with file = "..." (or sheet = "..." for a workbook)')
    header_row = raw.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or isinstance(header_row, bool)
                                   or not 1 <= header_row <= 1000):
        raise _fail(name, f"{base}.header_row", "must be a whole number from 1 to 1000")
    targets = list(t.column_names) + list(AGE_TARGETS.get(table, ()))

    columns_raw = raw.get("columns", {})
    if not isinstance(columns_raw, dict):
        raise _fail(name, f"{base}.columns", "must be a table of column = \"export header\"")
    columns: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col, header in columns_raw.items():
        key = f"{base}.columns.{col}"
        if col not in targets:
            raise _fail(name, key, f"{col!r} is not a column of {table} ({', '.join(targets)})")
        header = _str(name, key, header).strip()
        folded = contract.normalize_name(header)
        if folded in seen:
            raise _fail(name, key, f"maps the header {header!r} that {seen[folded]} maps already; "
                                   "a header feeds one column")
        seen[folded] = col
        columns[col] = header

    values_raw = raw.get("values", {})
    if not isinstance(values_raw, dict):
        raise _fail(name, f"{base}.values", "must hold one table per codebook column")
    values: dict[str, dict[str, str]] = {}
    for col, mapping in values_raw.items():
        key = f"{base}.values.{col}"
        if col not in t.column_names or t.column(col).kind != contract.CODE:
            codes = [c.name for c in t.columns if c.kind == contract.CODE]
            raise _fail(name, key, f"{col!r} is not a codebook column of {table} ({', '.join(codes)})")
        if not isinstance(mapping, dict):
            raise _fail(name, key, 'must be a table of "export value" = "codebook value"')
        allowed = contract.CODEBOOKS[t.column(col).codebook]
        out: dict[str, str] = {}
        for spelling, code in mapping.items():
            if not isinstance(code, str) or code not in allowed:
                raise _fail(name, key, f"maps a value to something outside the {t.column(col).codebook} "
                                       f"codebook (allowed: {', '.join(allowed)})")
            out[spelling.strip()] = code
        values[col] = out

    dates_raw = raw.get("dates", {})
    if not isinstance(dates_raw, dict):
        raise _fail(name, f"{base}.dates", 'must be a table of column = "date format"')
    dates: dict[str, str] = {}
    for col, fmt in dates_raw.items():
        key = f"{base}.dates.{col}"
        is_date = (col in t.column_names and t.column(col).kind == contract.DATE) or col == "dob"
        if not is_date:
            raise _fail(name, key, f"{col!r} is not a date column of {table}")
        dates[col] = _date_format(name, key, fmt)

    drop_raw = raw.get("drop", {})
    if not isinstance(drop_raw, dict):
        raise _fail(name, f"{base}.drop", 'must be a table with columns = ["header", ...]')
    _check_keys(name, f"{base}.drop", drop_raw, ("columns",))
    drop_list = drop_raw.get("columns", [])
    if not isinstance(drop_list, list):
        raise _fail(name, f"{base}.drop.columns", 'must be a list of headers, e.g. ["Staff Notes"]')
    drop = tuple(_str(name, f"{base}.drop.columns", h).strip() for h in drop_list)
    for h in drop:
        if contract.normalize_name(h) in seen:
            raise _fail(name, f"{base}.drop.columns", f"the header {h!r} is both mapped and dropped")
    return TableMapping(table, file, sheet, header_row, columns, values, dates, drop)


def _date_format(name: str, key: str, fmt: object) -> str:
    fmt = _str(name, key, fmt)
    used = set(_DATE_DIRECTIVES.findall(fmt))
    if "%y" in used:
        raise _fail(name, key, "a two-digit year (%y) is ambiguous; use %Y")
    bad = sorted(used - _ALLOWED_DIRECTIVES)
    if bad:
        raise _fail(name, key, f"{bad[0]} is not a date directive a profile may use (%Y, %m, %d, %b, %B, ...)")
    if "%Y" not in used or "%d" not in used or not used & {"%m", "%b", "%B"}:
        raise _fail(name, key, "a date format needs a four-digit year (%Y), a month (%m or %b) and a day (%d)")
    return fmt


def parse_profile(text: str | bytes, name: str = "profile.toml") -> Profile:
    """Check a profile; raises LoadError with a one-line reason (never a file's cell value)."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(data) > MAX_PROFILE_BYTES:
        raise LoadError(f"mapping profile {name}: larger than {limits.human(MAX_PROFILE_BYTES)}; not a profile")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError(f"mapping profile {name}: not UTF-8 text") from None
    try:
        doc = tomllib.loads(decoded)
    except tomllib.TOMLDecodeError as exc:
        raise LoadError(f"mapping profile {name}: not valid TOML ({exc})") from None
    _check_keys(name, "top level", doc, ("tables",))
    tables_raw = doc.get("tables")
    if not isinstance(tables_raw, dict) or not tables_raw:
        raise LoadError(f"mapping profile {name}: maps no table (start with [tables.sessions] or another table)")
    tables = {table: _table_of(name, table, raw) for table, raw in tables_raw.items()}
    places = [(m.file.lower() if m.file else None, m.sheet) for m in tables.values()]
    for m, place in zip(tables.values(), places, strict=True):
        if places.count(place) > 1:
            raise LoadError(f"mapping profile {name}: tables.{m.table}: {m.where} feeds another table too")
    return Profile(name=name, sha256=hashlib.sha256(data).hexdigest(), tables=tables, text=decoded)


def read_profile(path: str | os.PathLike) -> Profile:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_PROFILE_BYTES:
            raise LoadError(f"mapping profile {p.name}: larger than {limits.human(MAX_PROFILE_BYTES)}; not a profile")
        data = p.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"mapping profile {p.name}: no such file") from None
    except IsADirectoryError:
        raise LoadError(f"mapping profile {p.name}: is a folder, not a profile file") from None
    except OSError as exc:
        raise LoadError(f"mapping profile {p.name}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    return parse_profile(data, p.name)


# ---------------------------------------------------------------------------------------------
# Writing a profile (the app's mapping step) and keeping it beside the store
# ---------------------------------------------------------------------------------------------


def toml_str(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else toml_str(text)


def dump_profile(mappings: list[TableMapping], comment: str | None = None) -> str:
    """The TOML text of a profile, in the documented layout."""
    lines: list[str] = []
    if comment:
        lines.extend(f"# {line}" for line in comment.splitlines())
    for m in mappings:
        if lines:
            lines.append("")
        lines.append(f"[tables.{m.table}]")
        if m.file is not None:
            lines.append(f"file = {toml_str(m.file)}")
        if m.sheet is not None:
            lines.append(f"sheet = {toml_str(m.sheet)}")
        if m.header_row is not None:
            lines.append(f"header_row = {m.header_row}")
        if m.columns:
            lines.append(f"[tables.{m.table}.columns]")
            lines.extend(f"{col} = {toml_str(h)}" for col, h in m.columns.items())
        for col, mapping in m.values.items():
            if mapping:
                lines.append(f"[tables.{m.table}.values.{col}]")
                lines.extend(f"{toml_str(v)} = {toml_str(c)}" for v, c in mapping.items())
        if m.dates:
            lines.append(f"[tables.{m.table}.dates]")
            lines.extend(f"{col} = {toml_str(f)}" for col, f in m.dates.items())
        if m.drop:
            lines.append(f"[tables.{m.table}.drop]")
            lines.append("columns = [" + ", ".join(toml_str(h) for h in m.drop) + "]")
    return "\n".join(lines) + "\n"


def saved_path(db: str | os.PathLike | None = None) -> Path:
    """Where the profile of the last mapped load is kept: beside the store, <stem>.mapping.toml."""
    p = store.db_path(db)
    return p.with_name(p.stem + SAVED_SUFFIX)


def saved_profile(db: str | os.PathLike | None = None) -> Profile | None:
    """The profile kept beside the store, or None when there is none (or it no longer reads)."""
    path = saved_path(db)
    if not path.is_file():
        return None
    try:
        return read_profile(path)
    except LoadError:
        return None


def save_profile(profile: Profile, db: str | os.PathLike | None = None) -> Path:
    """Keep the profile beside the store (written whole, then renamed into place)."""
    path = saved_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(profile.text, encoding="utf-8")
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------------------------
# The files of a load: (path, label) items, label being the export's own file name
# ---------------------------------------------------------------------------------------------


Item = tuple[Path, str]


def items_of(paths: list[Path]) -> list[Item]:
    """Files and the files of folders, as (path, name) items, in the order discover() reads them."""
    return [(f, f.name) for f in files_of(paths)]


def base_name(label: str) -> str:
    return re.split(r"[\\/]", label)[-1]


def is_workbook(item: Item) -> bool:
    return sniff.sniff(item[0], item[1]) == "zip"


# ---------------------------------------------------------------------------------------------
# Reading a file or sheet as rows of cells (shared with the draft)
# ---------------------------------------------------------------------------------------------


@dataclass
class Grid:
    """A CSV file or a sheet as rows: (1-based row number, cells). CSV cells are text; sheet
    cells are what the workbook holds (text, numbers, dates). A CSV is read again, streaming,
    each time its rows are walked (never held whole in memory); a sheet is held, as
    python-calamine reads it whole anyway."""

    label: str
    kind: str  # 'csv' | 'xlsx'
    sha256: str
    source: list[tuple[int, list[object]]] | Callable[[], Iterator[tuple[int, list[object]]]]

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        return iter(self.source) if isinstance(self.source, list) else self.source()


def _any_delimiter(lines: list[str], label: str) -> str:
    """The delimiter of the line that splits into the most fields (the header, not a title)."""
    best, delimiter = 0, ","
    for line in lines[:30]:
        try:
            d, fields = choose_delimiter(line + "\n", label)
        except LoadError:
            continue
        if len(fields) > best:
            best, delimiter = len(fields), d
    return delimiter


def _csv_rows(path: Path, label: str, workdir: Path, header_row: int | None) -> Grid:
    """The CSV's records; the delimiter is read from the header row (None: from the widest of
    the first lines, for a draft that has yet to find the header)."""
    if sniff.sniff(path, label) == "zip":
        raise LoadError(f"{label}: this is an Excel workbook, not CSV text; name its sheet with sheet = \"...\"")
    text_file = sniff.scan_text(path, label, workdir)
    with open(text_file.path, encoding="utf-8-sig", newline="") as f:
        head = f.read(limits.MAX_HEADER_BYTES)
    lines = head.splitlines()
    if header_row is None:
        delimiter = _any_delimiter(lines, label)
    elif len(lines) < header_row:
        raise LoadError(f"{where(label, header_row)}: the file has no row {header_row} to take as the header")
    else:
        delimiter, _ = choose_delimiter(lines[header_row - 1] + "\n", label)
    def rows() -> Iterator[tuple[int, list[object]]]:
        with open(text_file.path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            try:
                for n, record in enumerate(reader, start=1):
                    if n > limits.MAX_ROWS:
                        raise LoadError(f"{label}: more than the limit of {limits.MAX_ROWS:,} rows per file")
                    yield n, record
            except csv.Error:
                raise LoadError(f"{where(label, reader.line_num)}: cannot be read as CSV (a quote is misplaced "
                                "or never closed)") from None

    return Grid(label, "csv", text_file.sha256, rows)


def _sheet_rows(path: Path, label: str, sheet: str) -> Grid:
    grid = workbook.sheet_grid(path, label, sheet)
    return Grid(f"{label}, sheet {sheet}", "xlsx", workbook.file_sha256(path),
                [(i + 1, list(row)) for i, row in enumerate(grid)])


def _empty(v: object) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def first_header_row(grid: Grid) -> int:
    """The first non-empty row: a sheet's default header row."""
    for n, cells in grid.rows():
        if any(not _empty(v) for v in cells):
            return n
    raise LoadError(f"{grid.label}: the sheet is empty (no data rows)")


def header_cells(grid: Grid, header_row: int) -> list[str]:
    for n, cells in grid.rows():
        if n == header_row:
            names = [workbook.cell_text(v) or "" for v in cells]
            while names and names[-1].strip() == "":
                names.pop()
            return [h.strip() for h in names]
    raise LoadError(f"{where(grid.label, header_row)}: the file has no row {header_row} to take as the header")


def read_grid(item: Item, sheet: str | None, workdir: Path, header_row: int | None = 1) -> Grid:
    path, label = item
    if sheet is not None:
        return _sheet_rows(path, label, sheet)
    return _csv_rows(path, label, workdir, header_row)


# ---------------------------------------------------------------------------------------------
# Applying a profile
# ---------------------------------------------------------------------------------------------


def _position(header: list[str], wanted: str) -> list[int]:
    exact = [i for i, h in enumerate(header) if h == wanted]
    if exact:
        return exact
    folded = contract.normalize_name(wanted)
    return [i for i, h in enumerate(header) if contract.normalize_name(h) == folded]


def _shown(header: str, i: int) -> str:
    name = contract.normalize_name(header)
    return name if re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name) else f"column {i + 1}"


@dataclass
class _Plan:
    out_header: list[str]
    keep: list[int]  # positions written, in order
    values: dict[int, tuple[dict[str, str], dict[str, str]]]  # position -> (exact, by code key)
    dates: dict[int, tuple[str, str]]  # position -> (format, column for messages)
    dropped: list[str]


def _plan(m: TableMapping, header: list[str], label: str, header_row: int, profile: Profile) -> _Plan:
    table = contract.TABLES[m.table]
    at = where(label, header_row)
    mapped: dict[int, str] = {}
    for col, wanted in m.columns.items():
        found = _position(header, wanted)
        if not found:
            raise LoadError(f"{at}: mapping profile {profile.name} maps {col} to the header {wanted!r}, "
                            f"which {label} does not have")
        if len(found) > 1:
            raise LoadError(f"{at}: the header {wanted!r} appears {len(found)} times; a mapped header must be unique")
        if found[0] in mapped:
            raise LoadError(f"{at}: mapping profile {profile.name} maps the header {wanted!r} to both "
                            f"{mapped[found[0]]} and {col}")
        if is_identifier(contract.normalize_name(header[found[0]])) and col not in AGE_TARGETS.get(m.table, ()):
            # A profile never carries a direct identifier into the store under a contract name.
            raise LoadError(f"{at}: mapping profile {profile.name} maps {col} to the header {wanted!r}, which "
                            "looks like a direct identifier; identifiers are dropped, never stored")
        mapped[found[0]] = col
    dropped_at: set[int] = set()
    for wanted in m.drop:
        found = _position(header, wanted)
        if not found:
            raise LoadError(f"{at}: mapping profile {profile.name} drops the header {wanted!r}, which {label} "
                            "does not have")
        dropped_at.update(found)
    by_column = {col: i for i, col in mapped.items()}
    for i, h in enumerate(header):
        if i in mapped or i in dropped_at or not h:
            continue
        other = target_of(table, contract.normalize_name(h))
        if other is not None and other in by_column:
            raise LoadError(
                f"{at}: two headers map to {other}: {m.columns[other]!r} (by the profile) and "
                f"{_shown(h, i)} (by its name); drop one of them"
            )
    for col in list(m.values) + list(m.dates):
        if col not in by_column and not any(target_of(table, contract.normalize_name(h)) == col
                                            or contract.normalize_name(h) == col for h in header):
            raise LoadError(f"{at}: mapping profile {profile.name} gives values or a date format for {col}, "
                            f"but no header of {label} feeds {col}")
    # Where values and dates apply: the mapped position, else the header named after the column.
    def pos_of(col: str) -> int:
        if col in by_column:
            return by_column[col]
        return next(i for i, h in enumerate(header)
                    if i not in dropped_at and (target_of(table, contract.normalize_name(h)) == col
                                                or contract.normalize_name(h) == col))
    values = {
        pos_of(col): ({k: v for k, v in vals.items()}, {code_key(k): v for k, v in vals.items()})
        for col, vals in m.values.items()
    }
    dates = {pos_of(col): (fmt, col) for col, fmt in m.dates.items()}
    keep = [i for i in range(len(header)) if i not in dropped_at]
    out_header = [mapped.get(i, header[i]) for i in keep]
    dropped = [contract.normalize_name(header[i]) for i in sorted(dropped_at)]
    return _Plan(out_header, keep, values, dates, dropped)


def _is_null(text: str) -> bool:
    return text.strip().lower() in contract.NULL_TOKENS


class _DateFails:
    def __init__(self) -> None:
        self.first: dict[int, int] = {}
        self.count: dict[int, int] = {}

    def add(self, pos: int, row: int) -> None:
        self.first.setdefault(pos, row)
        self.count[pos] = self.count.get(pos, 0) + 1


def _rewrite(grid: Grid, m: TableMapping, profile: Profile, out_path: Path) -> tuple[int, list[str]]:
    """Write the contract-shaped copy; returns (rows above the header, dropped column names)."""
    header_row = m.header_row or (1 if grid.kind == "csv" else first_header_row(grid))
    header = header_cells(grid, header_row)
    if not any(header):
        raise LoadError(f"{where(grid.label, header_row)}: the header row is empty")
    plan = _plan(m, header, grid.label, header_row, profile)
    width = len(header)
    fails = _DateFails()
    parsed: dict[tuple[int, str], str | None] = {}
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(plan.out_header)
        for n, cells in grid.rows():
            if n <= header_row:
                continue
            if grid.kind == "csv":
                if not cells:
                    out.writerow([])  # a blank line stays a (skipped) row, as in the original
                    continue
                if len(cells) != width:
                    raise LoadError(
                        f"{where(grid.label, n)}: has {len(cells)} fields where the header has {width} (a "
                        "ragged row: a missing or extra delimiter, or an unquoted delimiter inside a value)"
                    )
            elif len(cells) > width and any(not _empty(v) for v in cells[width:]):
                raise cell_error(grid.label, n, None, "has data to the right of the last named column")
            row: list[str] = []
            for i in plan.keep:
                v = cells[i] if i < len(cells) else None
                text = workbook.cell_text(v) if grid.kind == "xlsx" else v
                text = "" if text is None else text
                if i in plan.values and text and not _is_null(text):
                    exact, keyed = plan.values[i]
                    s = text.strip()
                    text = exact.get(s) or keyed.get(code_key(s)) or text
                elif i in plan.dates and text and not _is_null(text) and not isinstance(v, (datetime,)) \
                        and not (grid.kind == "xlsx" and not isinstance(v, str)):
                    fmt, _col = plan.dates[i]
                    k = (i, text)
                    if k not in parsed:
                        try:
                            parsed[k] = datetime.strptime(text.strip(), fmt).date().isoformat()
                        except ValueError:
                            parsed[k] = None
                    if parsed[k] is None:
                        fails.add(i, n)
                    else:
                        text = parsed[k]
                row.append(text)
            out.writerow(row)
    if fails.first:
        pos = min(fails.first, key=fails.first.__getitem__)
        fmt, col = plan.dates[pos]
        raise cell_error(grid.label, fails.first[pos], col,
                         f"is not a date in the profile's format {fmt}", fails.count[pos] - 1)
    return header_row - 1, plan.dropped


def _mapped_source(grid: Grid, m: TableMapping, profile: Profile, workdir: Path) -> Source:
    fd, name = tempfile.mkstemp(suffix=".csv", dir=workdir)
    os.close(fd)
    out = Path(name)
    offset, dropped = _rewrite(grid, m, profile, out)
    return Source(label=grid.label, table=m.table, path=out, sha256=grid.sha256, row_offset=offset,
                  dropped=tuple(dropped))


def _find_file(items: list[Item], m: TableMapping) -> Item | None:
    matches = [it for it in items if base_name(it[1]).lower() == (m.file or "").lower()]
    return matches[0] if matches else None


def _find_sheet(items: list[Item], m: TableMapping, profile: Profile) -> tuple[Item, str] | None:
    books = [it for it in items if is_workbook(it)]
    if m.file is not None:
        books = [it for it in books if base_name(it[1]).lower() == m.file.lower()]
    found: list[tuple[Item, str]] = []
    for it in books:
        names = workbook.sheet_names(*it)
        exact = [s for s in names if s == m.sheet] or [s for s in names if s.strip().lower() == m.sheet.strip().lower()]
        found.extend((it, s) for s in exact[:1])
    if not found:
        return None
    if len(found) > 1:
        raise LoadError(f"mapping profile {profile.name}: tables.{m.table}: several workbooks have a sheet "
                        f"{m.sheet!r}; add file = \"...\" to say which")
    return found[0]


def mapped_sources(items: list[Item], profile: Profile, workdir: Path) -> list[Source]:
    """The load's sources with the profile applied: mapped files and sheets become contract-shaped
    copies in `workdir`; files and sheets the profile does not name are read as today.

    A load may carry any subset of the tables, so a table whose file or sheet is not among
    those given is skipped; a profile that fits none of them is refused."""
    sources: list[Source] = []
    claimed_files: set[Path] = set()
    claimed_sheets: set[tuple[Path, str]] = set()
    for m in profile.tables.values():
        if m.sheet is None:
            item = _find_file(items, m)
            if item is None:
                continue
            if is_workbook(item):
                raise LoadError(f"mapping profile {profile.name}: tables.{m.table}: {m.file} is a workbook; "
                                'name its sheet with sheet = "..."')
            grid = read_grid(item, None, workdir, m.header_row or 1)
            claimed_files.add(item[0])
        else:
            found = _find_sheet(items, m, profile)
            if found is None:
                continue
            item, sheet = found
            grid = read_grid(item, sheet, workdir)
            claimed_sheets.add((item[0], sheet))
        sources.append(_mapped_source(grid, m, profile, workdir))
    if not sources:
        names = ", ".join(base_name(label) for _, label in items)
        wanted = ", ".join(m.where for m in profile.tables.values())
        raise LoadError(f"mapping profile {profile.name}: names none of the files given ({names}); it maps "
                        f"{wanted}")
    for path, label in items:
        if path in claimed_files:
            continue
        if any(p == path for p, _ in claimed_sheets):
            for sheet in workbook.sheet_names(path, label):
                if (path, sheet) in claimed_sheets:
                    continue
                table = contract.normalize_name(sheet)
                if table not in contract.TABLES:
                    raise LoadError(
                        f"{label}: sheet {sheet!r} is not a table and mapping profile {profile.name} does not "
                        f"map it; map it (sheet = {toml_str(sheet)}) or remove the sheet"
                    )
                sources.append(Source(label=f"{label}, sheet {sheet}", table=table, path=path, sheet=sheet))
            continue
        sources.extend(sources_for_file(path, label))
    check_unique_tables(sources)
    return sources


@contextlib.contextmanager
def applied(paths: list[Path], profile: Profile) -> Iterator[list[Source]]:
    """The sources of `paths` with the profile applied; the copies are removed afterwards."""
    workdir = scratch.make("map")
    try:
        yield mapped_sources(items_of(paths), profile, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def distinct_labels(grid: Grid, header_row: int, header: str, limit: int) -> list[str] | None:
    """The distinct values of one column, when it reads as a codebook column's labels: at most
    `limit` of them, none longer than 60 characters or looking like an identifier. Otherwise
    None, so a column of names or notes mapped by mistake never has its values shown."""
    names = header_cells(grid, header_row)
    found = _position(names, header)
    if len(found) != 1 or is_identifier(contract.normalize_name(header)):
        return None
    pos = found[0]
    seen: dict[str, None] = {}
    for n, cells in grid.rows():
        if n <= header_row or pos >= len(cells):
            continue
        text = workbook.cell_text(cells[pos]) if grid.kind == "xlsx" else cells[pos]
        if text is None or _is_null(text):
            continue
        s = text.strip()
        if s not in seen:
            if len(seen) >= limit or len(s) > 60 or any(
                re.search(p, s) for p in contract.IDENTIFIER_VALUE_PATTERNS.values()
            ):
                return None
            seen[s] = None
    return sorted(seen, key=str.lower)


__all__ = [
    "Grid", "Item", "Profile", "TableMapping", "applied", "distinct_labels", "dump_profile", "items_of",
    "mapped_sources", "parse_profile", "read_grid", "read_profile", "save_profile", "saved_path",
    "saved_profile", "toml_str",
]
