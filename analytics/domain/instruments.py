"""The instrument registry: data in a TOML file (the store keeps each load's copy:
analytics.store.instruments).

The project ships its defaults in analytics/domain/instruments.toml. A program adds or overrides entries
with its own file (`ingest --instruments FILE`, or `OUTCOMES_INSTRUMENTS` for the app's loads); an
entry of the program's file replaces the built-in entry of the same code whole. Each load writes
the definitions it used into the store's `instrument_definitions` table, and every metric reads
the latest load's definitions from there, so a store's numbers never depend on a file that changed
later.

Faults in a registry file (bad TOML, unknown keys, min > max, reliability outside (0, 1), ...) and
registries that do not fit the stored data (scores out of range, a direction change for stored
data) are refused with a one-line RegistryError.
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

REGISTRY_ENV = "OUTCOMES_INSTRUMENTS"
BUILTIN_FILE = Path(__file__).resolve().parent / "instruments.toml"
BUILTIN_LABEL = "the built-in registry (instruments.toml)"

# Reported everywhere whether or not they have data (METRICS.md).
ALWAYS_REPORTED = ("GSE10", "BARC10")

REQUIRED_KEYS = ("name", "min", "max", "higher_is_better", "reliability")
OPTIONAL_KEYS = ("mcid", "threshold", "construct", "source", "items")
CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
MAX_CODE_LENGTH = 32


class RegistryError(ValueError):
    """A registry file that cannot be used, or one that does not fit the stored data: one line."""


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    min_score: float
    max_score: float
    higher_is_better: bool
    reliability: float  # r used for the Jacobson-Truax reliable change index
    construct: str = ""
    items: str = ""
    mcid: float | None = None  # minimal important change, in score points
    threshold: float | None = None  # a published cut-off (met: >= when higher is better, else <=)
    source: str = ""
    origin: str = "built-in"  # the file the entry came from (its name only)

    @property
    def direction(self) -> int:
        """d of METRICS.md: +1 when higher is better, -1 when lower is better."""
        return 1 if self.higher_is_better else -1

    @property
    def better(self) -> str:
        """'higher' or 'lower': which way the scale improves, for sentences and axis notes."""
        return "higher" if self.higher_is_better else "lower"

    def meets(self, score: float) -> bool:
        """Whether a score meets the cut-off (False without one)."""
        if self.threshold is None:
            return False
        return score >= self.threshold if self.higher_is_better else score <= self.threshold

    def threshold_text(self) -> str:
        """'47 or more' / '9 or less' (empty without a threshold)."""
        if self.threshold is None:
            return ""
        return f"{self.threshold:g} or {'more' if self.higher_is_better else 'less'}"


Registry = dict[str, Instrument]


def _number(value, what: str, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RegistryError(f"{label}: {what} must be a number")
    return float(value)


def _entry(code: str, table, label: str, origin: str) -> Instrument:
    where = f"{label}: instrument {code}"
    if not code or len(code) > MAX_CODE_LENGTH or not set(code) <= CODE_CHARS:
        raise RegistryError(
            f"{label}: instrument code {code[:MAX_CODE_LENGTH]!r} must be upper-case letters, digits or _ "
            f"(at most {MAX_CODE_LENGTH})"
        )
    if not isinstance(table, dict):
        raise RegistryError(f"{where} must be a table ([instruments.{code}])")
    unknown = sorted(set(table) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise RegistryError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})"
        )
    missing = [k for k in REQUIRED_KEYS if k not in table]
    if missing:
        raise RegistryError(f"{where}: {missing[0]} is missing")
    for key in ("name", "construct", "source", "items"):
        if key in table and not isinstance(table[key], str):
            raise RegistryError(f"{where}: {key} must be text")
    if not table["name"].strip():
        raise RegistryError(f"{where}: name is empty")
    if not isinstance(table["higher_is_better"], bool):
        raise RegistryError(f"{where}: higher_is_better must be true or false")
    lo, hi = _number(table["min"], "min", where), _number(table["max"], "max", where)
    if lo > hi:
        raise RegistryError(f"{where}: min {lo:g} is greater than max {hi:g}")
    if lo == hi:
        raise RegistryError(f"{where}: min and max are both {lo:g}; a scale needs a range")
    r = _number(table["reliability"], "reliability", where)
    if not 0 < r < 1:
        raise RegistryError(f"{where}: reliability {r:g} is outside (0, 1)")
    mcid = threshold = None
    if "mcid" in table:
        mcid = _number(table["mcid"], "mcid", where)
        if not 0 < mcid <= hi - lo:
            raise RegistryError(f"{where}: mcid {mcid:g} must be above 0 and at most the range {hi - lo:g}")
    if "threshold" in table:
        threshold = _number(table["threshold"], "threshold", where)
        if not lo <= threshold <= hi:
            raise RegistryError(f"{where}: threshold {threshold:g} is outside the score range {lo:g}-{hi:g}")
    return Instrument(
        code=code, name=table["name"].strip(), min_score=lo, max_score=hi,
        higher_is_better=table["higher_is_better"], reliability=r,
        construct=table.get("construct", "").strip(), items=table.get("items", "").strip(),
        mcid=mcid, threshold=threshold, source=" ".join(table.get("source", "").split()), origin=origin,
    )


def parse(text: str, label: str, origin: str | None = None) -> Registry:
    """The entries of one registry file's text; RegistryError naming `label` on any fault."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{label}: not valid TOML ({exc})") from None
    unknown = sorted(set(doc) - {"instruments"})
    if unknown:
        raise RegistryError(f"{label}: unknown key {unknown[0]!r} (the file holds [instruments.CODE] tables only)")
    tables = doc.get("instruments")
    if not isinstance(tables, dict) or not tables:
        raise RegistryError(f"{label}: no [instruments.CODE] table")
    return {code: _entry(code, t, label, origin or label) for code, t in tables.items()}


def read_file(path: str | os.PathLike) -> Registry:
    """A program's registry file. Messages name the file by its name only."""
    p = Path(path)
    label = p.name
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise RegistryError(f"{label}: no such instruments file") from None
    except OSError as exc:
        raise RegistryError(f"{label}: the instruments file could not be read ({type(exc).__name__})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RegistryError(f"{label}: not UTF-8 text") from None
    return parse(text, label, origin=label)


@functools.cache
def builtin() -> Registry:
    """The shipped defaults (analytics/instruments.toml)."""
    return parse(BUILTIN_FILE.read_text(encoding="utf-8"), BUILTIN_LABEL, origin="built-in")


@dataclass(frozen=True)
class InForce:
    """The registry a load uses: the built-in entries with a program's file laid over them."""

    instruments: Registry
    file: str | None  # the program's file name, or None for the built-in registry alone

    @property
    def label(self) -> str:
        """The file that defines instruments, for messages."""
        return f"{self.file} (with the built-in registry)" if self.file else BUILTIN_LABEL


def in_force(path: str | os.PathLike | None = None) -> InForce:
    """The registry for a load: `path`, else OUTCOMES_INSTRUMENTS, over the built-in entries
    (BUILTIN_FILE as `path`: the built-in entries alone, whatever the environment says)."""
    chosen = path or os.environ.get(REGISTRY_ENV) or None
    merged = dict(builtin())
    if chosen is None or Path(chosen).resolve() == BUILTIN_FILE:
        return InForce(merged, None)
    merged.update(read_file(chosen))  # an entry replaces the built-in one of its code whole
    return InForce(merged, Path(chosen).name)


def in_force_file_name() -> str | None:
    """The name (never the path) of the program's registry file OUTCOMES_INSTRUMENTS names."""
    chosen = os.environ.get(REGISTRY_ENV)
    return Path(chosen).name if chosen else None
