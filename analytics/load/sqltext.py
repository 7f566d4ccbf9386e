"""Building SQL text safely.

Every statement of the load is a file of analytics/load/sql (`statement`), its grain on the
first line. Values are always bound parameters (`Params`); a file's `{name}` slots are filled by
`render` only with identifiers from the contract's fixed names (tables, columns, keys) or the
names the load makes from them (raw_<table>, new_<table>, pmap_<entity>...), each checked, or
with fragments rendered the same way: the per-column expressions (cleaning, date parsing,
codebook lookup, the HMAC, each rule's condition) composed here from one small template per
column kind. Nothing a file contains (cell values, header names, file names) is ever pasted
into SQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analytics.store.sqlfiles import read

SQL_DIR = Path(__file__).resolve().parent / "sql"

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class Frag(str):
    """SQL text made only of checked identifiers, `$name` parameters and fixed keywords."""


def ident(name: str) -> Frag:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return Frag(name)


def render(template: str, **parts: str) -> Frag:
    """Fill `{name}` slots of a fixed template with identifiers or already-rendered fragments."""
    checked = {k: v if isinstance(v, Frag) else ident(v) for k, v in parts.items()}
    return Frag(template.format(**checked))


def statement(name: str) -> str:
    """The text of ``sql/<name>.sql``: a statement of the load (or a part of one), slots to
    fill with `render`."""
    return read(SQL_DIR, name)


def join(frags: list[Frag] | tuple[Frag, ...], sep: str = ", ") -> Frag:
    if sep not in (", ", " and ", " or ", " + ", " union all "):
        raise ValueError("unexpected separator")
    return Frag(sep.join(frags))


class Params:
    """Named parameters: `p.bind(value)` returns `$pN` to place in SQL; `p.values` to execute."""

    def __init__(self, **fixed: Any) -> None:
        self.values: dict[str, Any] = {}
        for name, value in fixed.items():
            self.values[ident(name)] = value

    def bind(self, value: Any) -> Frag:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return Frag("$" + name)

    def used_in(self, sql: str) -> dict[str, Any]:
        """Only the parameters a statement uses (DuckDB refuses unused named parameters)."""
        return {k: v for k, v in self.values.items() if re.search(r"\$" + k + r"\b", sql)}
