"""Retention (METRICS.md "Retention"): pairs matched in [S, E], followed to A.

duration = (closed_on if closed_on <= A else A) - matched_on; an event is a closure on or before
A for a disengagement reason (participant_withdrew, lost_contact); every other pair is censored.
Only per-day counts leave DuckDB; the Kaplan-Meier product is taken in Python on them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import stats
from analytics.domain.contract import DISENGAGEMENT_REASONS
from analytics.domain.scope import Scope
from analytics.metrics.queries import query
from analytics.metrics.scope import run

KM_DAYS = (30, 90, 180)

_DURATIONS = query("retention_durations")


def duration_counts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Events and censorings per group and day of follow-up."""
    return run(con, scope, _DURATIONS, {"disengagement": list(DISENGAGEMENT_REASONS)})


def retention_curve(con: duckdb.DuckDBPyConnection, scope: Scope, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Kaplan-Meier curve with 95% Greenwood (log-log) bands, one curve per group.

    Columns: grp, t, at_risk, events, censored, survival, std_err, lower, upper.
    """
    if counts is None:
        counts = duration_counts(con, scope)
    curves = []
    for grp, part in counts.groupby("grp", sort=True):
        curve = stats.kaplan_meier(part[["t", "events", "censored"]])
        curve.insert(0, "grp", grp)
        curves.append(curve)
    if not curves:
        return pd.DataFrame(
            columns=["grp", "t", "at_risk", "events", "censored", "survival", "std_err", "lower", "upper"]
        )
    return pd.concat(curves, ignore_index=True)


def km_at(curve: pd.DataFrame, day: int) -> float | None:
    """S(day) as METRICS.md writes it: the product over event days d <= day, the last value
    carried beyond the longest follow-up (``stats.survival_at``)."""
    return stats.survival_at(curve, day, carry_forward=True)


_RETAINED_90 = query("retention_retained_90")


def retention_summary(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    counts: pd.DataFrame | None = None,
    curve: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per group: pairs, events, km_30/90/180, median_days, eligible_90, retained_90.

    `counts` and `curve` (from duration_counts and retention_curve over the same scope) may be
    passed by a caller that already has them."""
    if counts is None:
        counts = duration_counts(con, scope)
    if curve is None:
        curve = retention_curve(con, scope, counts)
    r90 = run(con, scope, _RETAINED_90, {"disengagement": list(DISENGAGEMENT_REASONS)})
    # Each group's rows split off once (the rows a boolean filter per group gives, in order).
    counts_by = dict(tuple(counts.groupby("grp", sort=False))) if len(counts) else {}
    curve_by = dict(tuple(curve.groupby("grp", sort=False))) if len(curve) else {}
    no_counts, no_curve = counts.iloc[0:0], curve.iloc[0:0]
    rows = []
    for _, r in r90.iterrows():
        grp = r["grp"]
        part = counts_by.get(grp, no_counts)
        c = curve_by.get(grp, no_curve)
        pairs = int(part["events"].sum() + part["censored"].sum())
        eligible = int(r["eligible_90"])
        row = {
            "grp": grp,
            "pairs": pairs,
            "events": int(part["events"].sum()),
            "median_days": stats.median_survival(c) if pairs else None,
            "eligible_90": eligible,
            "retained_90": (int(r["retained_90_pairs"]) / eligible) if eligible else None,
        }
        for day in KM_DAYS:
            for col, suffix in (("survival", ""), ("lower", "_lower"), ("upper", "_upper")):
                row[f"km_{day}{suffix}"] = (
                    stats.survival_at(c, day, column=col, carry_forward=True) if pairs else None
                )
        rows.append(row)
    return pd.DataFrame(rows)


_TRIANGLE = query("retention_triangle")


def cohort_triangle(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Share of each match month's pairs with an attended session in 30-day window k (0-11).

    Cells with no eligible pair are absent (empty in the triangle)."""
    return run(con, scope, _TRIANGLE)


_CLOSURES = query("retention_closures")


def closure_reasons(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Why pairs closed: pairs in scope closed within the period, by close reason."""
    return run(con, scope, _CLOSURES, {"disengagement": list(DISENGAGEMENT_REASONS)})
