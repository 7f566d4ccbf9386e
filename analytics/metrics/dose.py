"""Dose and change (METRICS.md): does more mentoring go with more change? An association, never
called an effect.

Per paired participant and instrument (baseline and follow-up as in analytics.metrics.outcomes):
dose = attended sessions (flagged sessions excluded) of any of the participant's pairs, in scope
or not, dated from the baseline to the follow-up inclusive. Ordinary least squares:

    change = b0 + b1 * (dose / 4) + b2 * baseline score

`slope_per_4_sessions` = b1 with the 95% CI b1 +/- t(0.975, n - 3) * SE(b1) (classical SE); null
when n < 4 or the design is singular. `bands`: mean change and n for dose 0-3, 4-11 and 12+.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from analytics import stats
from analytics.domain.scope import Scope
from analytics.metrics.outcomes import instruments, run_paired
from analytics.metrics.queries import query
from analytics.metrics.scope import run

SESSIONS_PER_STEP = 4
# (label, lowest dose, highest dose or None): METRICS.md's bands.
BANDS = (("0-3", 0, 3), ("4-11", 4, 11), ("12+", 12, None))

_DOSE_TAIL = query("dose_tail")


def band_of(dose: int) -> str:
    for label, lo, hi in BANDS:
        if dose >= lo and (hi is None or dose <= hi):
            return label
    raise ValueError("a dose is never negative")


def band_masks(doses: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each band's label with which of `doses` fall in it (one comparison per band edge, not a
    Python call per participant)."""
    doses = np.asarray(doses)
    if (doses < 0).any():
        raise ValueError("a dose is never negative")
    return [(label, (doses >= lo) & (doses <= hi) if hi is not None else doses >= lo) for label, lo, hi in BANDS]


def bands_of(doses: np.ndarray) -> np.ndarray:
    """`band_of` of every dose at once (at M a call per participant was a tenth of a second of
    the summary)."""
    labels = np.empty(len(doses), dtype=object)
    for label, inside in band_masks(doses):
        labels[inside] = label
    return labels


def _numbers(rows) -> dict[str, np.ndarray]:
    """The query's numeric columns as arrays (change and baseline_score float64, dose int64),
    each row repeated `times` times: one entry per paired participant."""
    times = rows.column("times").to_numpy()
    return {c: np.repeat(rows.column(c).to_numpy(), times) for c in ("change", "baseline_score", "dose")}


def _runs(rows) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """Each (group, instrument)'s rows (dose, change, baseline_score arrays), one entry per
    participant, split off once from the query's pyarrow Table of distinct rows with their
    `times`: the same rows in the same order as a boolean filter over the rows repeated would
    give. The query orders its rows by group and instrument first, so each key's rows are one
    run; the runs' edges are found on the Arrow text columns (no Python string per row: at
    400,000 rows those cost more than the doses' query), and only the numbers reach numpy."""
    if not rows.num_rows:
        return {}
    grp, code = rows.column("grp").combine_chunks(), rows.column("instrument").combine_chunks()
    changed = pc.or_(pc.not_equal(grp[1:], grp[:-1]), pc.not_equal(code[1:], code[:-1]))
    edges = np.flatnonzero(changed.to_numpy(zero_copy_only=False)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, rows.num_rows]
    numbers = _numbers(rows)
    # where each run starts and ends among the repeated rows
    at = np.r_[0, np.cumsum(rows.column("times").to_numpy())]
    parts = {(grp[int(a)].as_py(), code[int(a)].as_py()): {c: v[at[a]:at[b]] for c, v in numbers.items()}
             for a, b in zip(starts, ends, strict=True)}
    if len(parts) != len(starts):
        raise ValueError("the dose rows are not ordered by group and instrument")
    return parts


def dose_change(con: duckdb.DuckDBPyConnection, scope: Scope, paired=None) -> pd.DataFrame:
    """The dose block per group and reported instrument: one row per (grp, instrument, band),
    plus the band "*" carrying the model.

    Columns: grp, instrument, band, n, mean_change, ci95_low, ci95_high (a band's mean change
    with its t interval, n >= 2), slope_per_4_sessions, slope_ci95_low, slope_ci95_high (the
    slope columns on the "*" row only). Aggregates only: nobody's own dose
    leaves this function. ``paired``: as for ``outcomes.run_paired``.
    """
    rows = run_paired(con, scope, _DOSE_TAIL, paired, as_arrow=True)
    groups = run(con, scope, query("groups"))
    codes = list(instruments(con))
    parts = _runs(rows)
    empty = _numbers(rows.slice(0, 0))
    out = []
    for grp in groups["grp"]:
        for code in codes:
            part = parts.get((grp, code), empty)
            change, n = part["change"], len(part["change"])
            fit = stats.ols_slope(part["dose"] / SESSIONS_PER_STEP, part["baseline_score"], change)
            out.append({
                "grp": grp, "instrument": code, "band": "*", "n": n,
                # numpy's mean and SD: the sums pandas' Series.mean and .std(ddof=1) take, to the bit
                "mean_change": float(change.mean()) if n else None,
                "ci95_low": None, "ci95_high": None,
                "slope_per_4_sessions": fit[0] if fit else None,
                "slope_ci95_low": fit[1] if fit else None,
                "slope_ci95_high": fit[2] if fit else None,
            })
            for label, in_band in band_masks(part["dose"]):
                inside = change[in_band]
                m = len(inside)
                mean = float(inside.mean()) if m else None
                lo, hi = stats.mean_ci(mean, float(inside.std(ddof=1)), m) if m >= 2 else (None, None)
                out.append({
                    "grp": grp, "instrument": code, "band": label, "n": m, "mean_change": mean,
                    "ci95_low": lo, "ci95_high": hi,
                    "slope_per_4_sessions": None, "slope_ci95_low": None, "slope_ci95_high": None,
                })
    return pd.DataFrame(out, columns=list(COLUMNS))


COLUMNS = ("grp", "instrument", "band", "n", "mean_change", "ci95_low", "ci95_high", "slope_per_4_sessions",
           "slope_ci95_low", "slope_ci95_high")
