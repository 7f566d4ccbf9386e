"""Tiny hand-made frames of the Compare page for the export tests: four groups (C below k = 11)
and two Kaplan-Meier curves (B from fewer than k pairs). Hand-worked suppression of them is in
the tests that use them (tests/test_exports_tables.py, tests/test_exports_images.py)."""

from __future__ import annotations

import pandas as pd

from analytics.metrics.compare import with_sessions

K = 11


def compare_groups_frame(no_show=(30, 15, 4, 12)) -> pd.DataFrame:
    """Four groups as analytics.metrics.compare returns them (with `sessions`, as the page adds
    it); C has fewer than 11 pairs. Estimates are placeholders: only what is blanked matters."""
    df = pd.DataFrame({
        "grp": ["A", "B", "C", "D"],
        # Nested counts differ by 11 or more (or 0) outside C: in scope 120 holds 60 matched, 90
        # active; the 60 followed pairs hold 45 eligible and 12 events (privacy.NESTED_COLUMNS).
        "pairs_in_scope": [120, 75, 6, 90], "participants_in_scope": [114, 75, 6, 87],
        "matched_in_period": [60, 42, 4, 48], "active_at_end": [90, 54, 5, 66],
        "attended": [120, 60, 18, 90], "no_show": list(no_show),
        "attendance_rate": [0.8, 0.8, 0.82, 0.88], "contact_hours": [110.0, 55.0, 16.0, 80.0],
        "sessions_per_pair_month": [2.5, 2.0, 2.4, 2.6],
        "pairs": [60, 42, 4, 48], "events": [12, 13, 2, 11],
        "km_90": [0.7, 0.6, 0.5, 0.65], "km_90_lower": [0.5, 0.4, 0.1, 0.45], "km_90_upper": [0.85, 0.8, 0.9, 0.8],
        "retained_90": [0.7, 0.6, 0.5, 0.6], "eligible_90": [45, 30, 3, 36],
        "hr": [1.1, 0.9, 1.6, 0.8], "hr_lower": [0.6, 0.4, 0.4, 0.4], "hr_upper": [2.0, 1.9, 6.0, 1.7],
        "attendance_low": [0.73, 0.7, 0.62, 0.8], "attendance_high": [0.86, 0.87, 0.93, 0.93],
        "GSE10_n_paired": [25, 15, 5, 18], "GSE10_mean_change": [4.0, 3.0, 6.0, 2.5],
        "GSE10_ci95_low": [2.0, 1.0, -1.0, 0.5], "GSE10_ci95_high": [6.0, 5.0, 13.0, 4.5],
        "BARC10_n_paired": [24, 16, 5, 19], "BARC10_mean_change": [6.0, 5.0, 8.0, 4.0],
        "BARC10_ci95_low": [4.0, 2.0, 1.0, 2.0], "BARC10_ci95_high": [8.0, 8.0, 15.0, 6.0],
    })
    return with_sessions(df.assign(small=df["pairs_in_scope"] < K))


def km_curve_by_group() -> pd.DataFrame:
    """Kaplan-Meier curves of two groups: A from 20 pairs, B from 6 (below k)."""
    rows = [
        # grp, t, at_risk, events, censored, survival
        ("A", 0, 20, 0, 0, 1.0), ("A", 10, 20, 2, 0, 0.9), ("A", 30, 18, 1, 0, 0.85),
        ("A", 60, 15, 0, 2, 0.85), ("A", 75, 13, 1, 0, 0.7846), ("A", 100, 10, 1, 0, 0.7062),
        ("B", 0, 6, 0, 0, 1.0), ("B", 8, 6, 1, 0, 0.8333), ("B", 40, 5, 1, 0, 0.6667),
    ]
    df = pd.DataFrame(rows, columns=["grp", "t", "at_risk", "events", "censored", "survival"])
    return df.assign(std_err=0.05, lower=df["survival"] - 0.1, upper=(df["survival"] + 0.05).clip(upper=1.0))
