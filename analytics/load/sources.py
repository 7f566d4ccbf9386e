"""Which files a load reads and which table each one feeds.

Programs export CSV files named after the tables (`sessions.csv`), a folder of them, or one
.xlsx workbook with one sheet per table. The file's content, not its name, decides how it is
read: a renamed binary, a legacy .xls or a password-protected workbook is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analytics.domain import contract
from analytics.load import sniff, workbook
from analytics.load.errors import LoadError

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")

_TABLE_LIST = ", ".join(contract.TABLE_ORDER)


@dataclass
class Source:
    """One table's data: a CSV file, or one sheet of a workbook.

    `label` is what messages call it ("sessions.csv", "export.xlsx, sheet sessions"). For an
    upload the caller passes the user's file name as the label but chooses `path` itself: a
    path is never built from a label.
    """

    label: str
    table: str
    path: Path
    sheet: str | None = None
    # Set when `path` is a contract-shaped copy made by a mapping profile (load.mapping): the
    # original file's hash, the rows above its header, and the columns the profile dropped.
    sha256: str | None = None
    row_offset: int = 0
    dropped: tuple[str, ...] = ()


def _base_name(label: str) -> str:
    # A label may be anything a browser sends ("..\\..\\x.csv"): only its last part names a table.
    return re.split(r"[\\/]", label)[-1]


def _table_for_name(name: str) -> str | None:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    table = contract.normalize_name(stem)
    return table if table in contract.TABLES else None


def _csv_source(path: Path, label: str) -> Source:
    table = _table_for_name(_base_name(label))
    if table is None:
        raise LoadError(
            f"{label}: the file name does not name a table; name CSV files after the tables "
            f"({_TABLE_LIST}), e.g. sessions.csv"
        )
    return Source(label=label, table=table, path=path)


def _workbook_sources(path: Path, label: str) -> list[Source]:
    sources = []
    for sheet in workbook.sheet_names(path, label):
        table = contract.normalize_name(sheet)
        if table not in contract.TABLES:
            raise LoadError(
                f"{label}: sheet {sheet!r} is not a table; name each sheet after its table "
                f"({_TABLE_LIST}) and remove other sheets"
            )
        sources.append(Source(label=f"{label}, sheet {sheet}", table=table, path=path, sheet=sheet))
    if not sources:
        raise LoadError(f"{label}: the workbook has no sheets")
    return sources


def sources_for_file(path: Path, label: str | None = None) -> list[Source]:
    """The sources in one file: a CSV feeds the table it is named after; a workbook, one per sheet.

    For uploads pass the user's file name as `label`: it names the table and appears in
    messages, while `path` (chosen by the caller) is what is read.
    """
    path = Path(path)
    label = label or path.name
    kind = sniff.sniff(path, label)
    name = _base_name(label).lower()
    if kind == "zip":
        if name.endswith(CSV_SUFFIXES):
            raise LoadError(
                f"{label}: this is an Excel workbook (or another zip file), not CSV text; "
                "save it as CSV UTF-8, or give it an .xlsx name"
            )
        return _workbook_sources(path, label)
    if name.endswith(WORKBOOK_SUFFIXES):
        raise LoadError(
            f"{label}: this is not an .xlsx workbook (its content is not a workbook); "
            "if it is CSV text, give it a .csv name"
        )
    return [_csv_source(path, label)]


def files_of(paths: list[Path]) -> list[Path]:
    """The files a load reads: each file given, and the .csv/.xlsx files of each folder given
    (sorted, hidden and Office lock files skipped), in that order."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = sorted(
                f for f in p.iterdir()
                if f.is_file() and not f.name.startswith((".", "~$"))
                and f.suffix.lower() in CSV_SUFFIXES + WORKBOOK_SUFFIXES
            )
            if not inside:
                raise LoadError(f"{p.name}: no .csv or .xlsx files in this folder")
            files.extend(inside)
        elif p.is_file():
            files.append(p)
        else:
            raise LoadError(f"{p.name}: no such file or folder")
    return files


def discover(paths: list[Path]) -> list[Source]:
    """The sources in CSV files, folders of them, and .xlsx workbooks (one sheet per table)."""
    sources = [s for f in files_of(paths) for s in sources_for_file(f)]
    check_unique_tables(sources)
    return sources


def check_unique_tables(sources: list[Source]) -> None:
    seen: dict[str, str] = {}
    for s in sources:
        if s.table not in contract.TABLES:
            raise LoadError(f"{s.label}: {s.table!r} is not a table ({_TABLE_LIST})")
        if s.table in seen:
            raise LoadError(f"{s.label}: table {s.table} is also in {seen[s.table]}; give each table once")
        seen[s.table] = s.label
    if not sources:
        raise LoadError("nothing to load: give CSV files, a folder of them, or an .xlsx workbook")
