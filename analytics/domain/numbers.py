"""Reading a cell that may be missing: one rule for statistics, charts and sentences."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

DEFAULT_K = 11


def finite_or_none(x: Any) -> float | None:
    """A finite float, or None for None / NaN / pd.NA / +-inf / non-numbers: suppressed and
    undefined values are never read as numbers."""
    if x is None or x is pd.NA:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def two_decimals(v: float) -> str:
    """Two decimals with a real minus sign (effect sizes): -0.256 -> "−0.26"."""
    text = f"{abs(v):.2f}"
    return ("\u2212" + text) if v < 0 and text != "0.00" else text
