"""Goals (METRICS.md "Goals"): goals of pairs in scope with set_on in [S, E].

achieved = status achieved and achieved_on <= A; achievement_rate = achieved / goals set;
the median days from set_on to achieved_on over achieved goals; the same per domain.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.contract import CODEBOOKS
from analytics.domain.scope import Scope
from analytics.metrics.queries import query
from analytics.metrics.scope import run

_GOALS = query("goals")


def goals_by_domain(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Goals set, achieved, achievement rate and median days to achieve, per group and domain.

    Columns: grp, domain ('*' = all domains), goals_set, achieved, achievement_rate,
    median_days_to_achieve. Every group has a '*' row and a row for each codebook domain.
    """
    raw = run(con, scope, _GOALS)
    groups = run(con, scope, query("groups"))
    # Each (group, domain)'s rows split off once, not filtered again per pair of keys.
    parts = dict(tuple(raw.groupby(["grp", "domain"], sort=False))) if len(raw) else {}
    none = raw.iloc[0:0]
    rows = []
    for grp in groups["grp"]:
        for domain in ("*", *CODEBOOKS["goal_domain"]):
            hit = parts.get((grp, domain), none)
            n = int(hit["goals_set"].iloc[0]) if not hit.empty else 0
            achieved = int(hit["achieved"].iloc[0]) if not hit.empty else 0
            med = hit["median_days_to_achieve"].iloc[0] if not hit.empty else None
            rows.append(
                {
                    "grp": grp,
                    "domain": domain,
                    "goals_set": n,
                    "achieved": achieved,
                    "achievement_rate": achieved / n if n else None,
                    "median_days_to_achieve": None if med is None or pd.isna(med) else float(med),
                }
            )
    return pd.DataFrame(rows)
