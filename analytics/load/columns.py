"""Header mapping: which column of a file feeds which contract column.

Names are matched after contract.normalize_name (case, spaces, dashes); known aliases map onto
contract names. Identifier columns (names, emails, DOB, ...) are dropped and named in the report;
in participants a birth-year, age or date-of-birth column becomes age_band and is then dropped.
Unknown columns are refused: schema drift is how identifiers slip in. A header that itself looks
like an identifier value (an e-mail address, a phone number: analytics.load.identifiers) is
dropped and reported as "a column whose name looks like an identifier", never by its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analytics.domain import contract
from analytics.load import identifiers, limits
from analytics.load.errors import LoadError, where

# A header cell shown back in a message must look like a column name, so a data row taken for
# a header (a file without one) never has its values echoed.
_SHOWABLE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

# Which age column is used when several are present: the most exact first.
AGE_SOURCES = (
    ("dob", contract.DOB_COLUMNS),
    ("age", contract.AGE_COLUMNS),
    ("birth_year", contract.BIRTH_YEAR_COLUMNS),
)
AGE_SOURCE_COLUMN = "_age_src"
# How the report and the store name a dropped column whose name is itself identifier-like.
IDENTIFIER_NAMED = "a column whose name looks like an identifier"


@dataclass
class ColumnPlan:
    table: contract.Table
    sql_names: list[str]  # one per position in the file: the name DuckDB gives the column
    kept: list[str]  # contract columns present, in file order
    dropped: list[str] = field(default_factory=list)  # normalized names, for the report
    age_source: str | None = None  # 'dob' | 'age' | 'birth_year' when age_band is derived
    age_source_name: str | None = None  # the file's (normalized) name of that column
    unnamed: list[str] = field(default_factory=list)  # sql names of columns without a header
    positions: dict[str, int] = field(default_factory=dict)  # sql name -> 0-based position

    @property
    def read_columns(self) -> list[str]:
        """The columns staged from the file: kept ones, the age source, unnamed ones."""
        cols = list(self.kept)
        if self.age_source:
            cols.append(AGE_SOURCE_COLUMN)
        return cols + self.unnamed

    def display(self, sql_name: str) -> str:
        """How messages name a staged column."""
        if sql_name == AGE_SOURCE_COLUMN:
            return self.age_source_name or "age"
        if sql_name in self.unnamed:
            return f"{self.positions[sql_name] + 1} (no name in the header)"
        return sql_name


def _lookup(table: contract.Table) -> dict[str, str]:
    names: dict[str, str] = {}
    for col in table.columns:
        for alias in col.aliases:
            names.setdefault(contract.normalize_name(alias), col.name)
    for col in table.columns:  # a contract name always wins over another column's alias
        names[col.name] = col.name
    return names


def known_names(table: contract.Table) -> set[str]:
    return set(_lookup(table))


def target_of(table: contract.Table, normalized: str) -> str | None:
    """The contract column a (normalized) header name or alias feeds, if any."""
    return _lookup(table).get(normalized)


def is_identifier(name: str) -> bool:
    """contract.is_identifier_column, also for names ending in _id (medicaid_id, insurance_id).

    The contract exempts *_id names so its own ID columns are never taken for identifiers; here
    contract columns and aliases are matched first, so any other *_id name can be checked too.
    """
    if contract.is_identifier_column(name):
        return True
    return name.endswith("_id") and any(p.search(name) for p in contract.IDENTIFIER_COLUMN_PATTERNS)


def _age_kind(name: str) -> str | None:
    for kind, names in AGE_SOURCES:
        if name in names:
            return kind
    return None


def build_plan(table: contract.Table, header: list[str], label: str, header_row: int = 1) -> ColumnPlan:
    if len(header) > limits.MAX_COLUMNS:
        raise LoadError(
            f"{where(label, header_row)}: {len(header)} columns, more than the limit of {limits.MAX_COLUMNS}"
        )
    lookup = _lookup(table)
    normalized = [contract.normalize_name(h) for h in header]
    sql_names: list[str] = []
    kept: dict[str, int] = {}
    dropped: list[str] = []
    unknown: list[str] = []
    unnamed: list[str] = []
    ages: list[tuple[str, str, int]] = []
    for i, name in enumerate(normalized):
        sql = f"_c{i}"
        target = lookup.get(name)
        if name == "":
            unnamed.append(sql)
        elif identifiers.looks_like_identifier(header[i]):
            # A header holding an e-mail address or a phone number: dropped, and never named.
            dropped.append(IDENTIFIER_NAMED)
        elif target is not None:
            if target in kept:
                raise LoadError(
                    f"{where(label, header_row)}: columns {kept[target] + 1} and {i + 1} both map to "
                    f"{target}; keep one of them"
                )
            kept[target] = i
            sql = target
        elif _age_kind(name):
            # Age and birth year are quasi-identifiers: used for age_band in participants, and
            # dropped everywhere.
            ages.append((_age_kind(name), name, i))
            dropped.append(name)
        elif is_identifier(name):
            dropped.append(name)
        else:
            unknown.append(name if _SHOWABLE.match(name) else f"column {i + 1}")
        sql_names.append(sql)

    if not kept:
        raise LoadError(
            f"{where(label, header_row)}: does not look like a header row (no column of {table.name} "
            f"is named); the first row must hold the column names ({', '.join(table.required)}, ...)"
        )
    if unknown:
        raise LoadError(
            f"{where(label, header_row)}: unknown columns {', '.join(unknown)}; {table.name} takes "
            f"{', '.join(table.column_names)} (rename known columns, remove the others)"
        )
    missing = [c for c in table.required if c not in kept]
    if missing:
        raise LoadError(f"{where(label, header_row)}: missing required columns {', '.join(missing)}")

    plan = ColumnPlan(
        table=table,
        sql_names=sql_names,
        kept=sorted(kept, key=kept.__getitem__),
        dropped=dropped,
        unnamed=unnamed,
        positions={n: i for i, n in enumerate(sql_names)},
    )
    if ages and table.name == "participants" and "age_band" not in kept:
        rank = {kind: r for r, (kind, _) in enumerate(AGE_SOURCES)}
        kind, name, pos = min(ages, key=lambda a: (rank[a[0]], a[2]))
        plan.age_source, plan.age_source_name = kind, name
        plan.sql_names[pos] = AGE_SOURCE_COLUMN
        plan.positions = {n: i for i, n in enumerate(plan.sql_names)}
    return plan
