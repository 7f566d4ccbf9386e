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
from analytics.metrics.scope import rows_by, run

_GOALS = query("goals")


def goals_by_domain(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Goals set, achieved, achievement rate and median days to achieve, per group and domain.

    Columns: grp, domain ('*' = all domains), goals_set, achieved, achievement_rate,
    median_days_to_achieve. Every group has a '*' row and a row for each codebook domain.
    """
    raw = run(con, scope, _GOALS)
    groups = run(con, scope, query("groups"))
    found = rows_by(raw, "grp", "domain")  # domain is required: '*' is only the total's
    rows = []
    for grp in groups["grp"]:
        for domain in ("*", *CODEBOOKS["goal_domain"]):
            hit = found.get((grp, domain))
            n = int(hit["goals_set"]) if hit is not None else 0
            achieved = int(hit["achieved"]) if hit is not None else 0
            med = hit["median_days_to_achieve"] if hit is not None else None
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
