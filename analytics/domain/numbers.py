"""The number rules every surface shares: reading a cell that may be missing, the small-number
rule, and how a number prints. Sentences, chart labels and hovers, screen tables and tiles,
CSV/XLSX headers and the grant report all format through here, so one fact prints one way.

Rounding: half up, on the decimal value a person reads (0.0625 is 6.25%, which prints "6.3%";
0.2845 is 28.449999... in binary and prints "28.5%"), never Python's round-half-even.

Decimals: every percentage prints with ``PERCENT_PLACES`` (one) decimal, and so does a
difference of two percentages in points; ``percent`` and ``points`` take no places of their
own, so no surface can print a share differently. docs/metrics.md says so.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The privacy threshold k: counts of 1..k-1 are small (the CMS small-cell norm).
DEFAULT_K = 11

MINUS = "\u2212"  # a real minus sign, for text meant to be read

# Decimals of every percentage printed for people (sentences, chart labels and hovers, tiles,
# tables, the grant report) and of the XLSX percent format: 0.882 prints "88.2%".
PERCENT_PLACES = 1


def finite_or_none(x: Any) -> float | None:
    """A finite float, or None for None / NaN / pd.NA / +-inf / non-numbers: suppressed and
    undefined values are never read as numbers. (pandas' NA refuses float(), so it is None too:
    this module does not import pandas, for commands that start before it loads.)"""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------- the small-number rule


def is_small(n: Any, k: int = DEFAULT_K) -> bool:
    """The small-number rule: a count of 1..k-1 (exports hide it, screens flag it). Zero is not
    small, and a missing count is no count."""
    v = finite_or_none(n)
    return v is not None and 0 < v < k


def flagged_small(n: Any, k: int = DEFAULT_K) -> bool:
    """How a chart marks a count: small, or missing because it was suppressed upstream (when
    suppression is on, k > 1)."""
    return is_small(n, k) or (finite_or_none(n) is None and k > 1)


def too_few(n: Any, k: int = DEFAULT_K) -> bool:
    """Fewer than k to state a number over (zero and missing included): a sentence says "too
    few to report" instead."""
    v = finite_or_none(n)
    return v is None or v < k


# --------------------------------------------------------------------------- the format rule


def round_half_up(x: float, places: int = 0) -> Decimal:
    """``x`` rounded half up to ``places`` decimals, as read in decimal: round(x, 9) first,
    since 0.2845 * 100 is 28.449999999999996 in binary and people expect 28.5."""
    return Decimal(repr(round(x, 9))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fixed(x: Any, places: int = 1, *, signed: bool = False, minus: str = "-", missing: str = "",
          grouping: bool = True) -> str:
    """A number with ``places`` decimals, rounded half up: 1234.25 -> "1,234.3". ``signed``
    puts "+" before positives; ``minus`` is the sign printed before negatives (``MINUS`` in
    sentences and reports); no "-0.0". ``missing`` for an undefined value."""
    v = finite_or_none(x)
    if v is None:
        return missing
    if 0 <= places <= _NANOS_PLACES and abs(v) < _NANOS_LIMIT:
        negative, whole, frac = _half_up_nanos(v, places)
        text = f"{whole:{',' if grouping else ''}}" + (f".{frac:0{places}d}" if places else "")
        nonzero = whole > 0 or frac > 0
    else:
        d = round_half_up(v, places)
        negative, nonzero = d < 0, d != 0
        text = f"{abs(d):{',' if grouping else ''}.{places}f}"
    if negative and nonzero:
        return minus + text
    return ("+" + text) if signed and nonzero else text


# ``fixed`` rounds as ``round_half_up`` does, in whole billionths: round(x, 9) is a decimal of at
# most 9 places, and below a million in size it has at most 15 significant digits, so
# round(round(x, 9) * 1e9) is that decimal in billionths exactly (the product is within 0.13 of
# it) and halving up is integer arithmetic. Larger values take the Decimal path; both give the
# same text (tests/test_numbers.py).
_NANOS_PLACES = 9
_NANOS_LIMIT = 1e6


def _half_up_nanos(v: float, places: int) -> tuple[bool, int, int]:
    """(negative, whole part, decimals as an integer) of |v| rounded half up to ``places``."""
    nanos = round(round(v, 9) * 1e9)
    step = 10 ** (_NANOS_PLACES - places)
    units = (abs(nanos) + step // 2) // step
    whole, frac = divmod(units, 10**places)
    return nanos < 0, whole, frac


def percent(share: Any, *, signed: bool = False, minus: str = "-", missing: str = "") -> str:
    """A 0-1 share as a percentage with ``PERCENT_PLACES`` decimals, rounded half up: 0.74257 ->
    "74.3%", 0.2845 -> "28.5%". ``missing`` for an undefined share."""
    v = finite_or_none(share)
    if v is None:
        return missing
    return fixed(v * 100, PERCENT_PLACES, signed=signed, minus=minus, grouping=False) + "%"


def points(difference: Any, *, signed: bool = True, minus: str = "-", missing: str = "") -> str:
    """A difference of two 0-1 shares in percentage points, with the decimals of ``percent``:
    0.882 - 0.8 -> "+8.2 pts". ``missing`` for an undefined difference."""
    v = finite_or_none(difference)
    if v is None:
        return missing
    return fixed(v * 100, PERCENT_PLACES, signed=signed, minus=minus, grouping=False) + " pts"


def spreadsheet_percent_format() -> str:
    """The XLSX number format of a 0-1 share column, with the decimals of ``percent`` ("0.0%")."""
    return ("0." + "0" * PERCENT_PLACES if PERCENT_PLACES else "0") + "%"


def count(n: Any, *, missing: str = "") -> str:
    """A count with thousands separators: 1234 -> "1,234"."""
    v = finite_or_none(n)
    return missing if v is None else f"{int(v):,}"


def p_value(p: Any, *, missing: str = "") -> str:
    """A p-value as every surface prints it (the Compare page's tests table and the sentences
    under its charts): three decimals rounded half up, "< 0.001" below that: 0.0423 -> "0.042",
    0.42 -> "0.420". ``missing`` for an undefined p."""
    v = finite_or_none(p)
    if v is None:
        return missing
    return "< 0.001" if v < 0.001 else fixed(v, 3)


def p_statement(p: Any) -> str:
    """A p-value in running text: "p = 0.042", "p < 0.001"; "" when undefined."""
    text = p_value(p)
    if not text:
        return ""
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def estimate_ci(x: Any, low: Any, high: Any, places: int = 2, *, missing: str = "–") -> str:
    """An estimate with its 95% confidence interval: "1.23 (0.90 to 1.50)". ``missing`` for an
    undefined estimate, or in place of an undefined bound."""
    if finite_or_none(x) is None:
        return missing
    lo, hi = fixed(low, places, missing=missing), fixed(high, places, missing=missing)
    return f"{fixed(x, places)} ({lo} to {hi})"
