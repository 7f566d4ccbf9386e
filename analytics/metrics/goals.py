"""Goals (METRICS.md "Goals"): goals of pairs in scope with set_on in [S, E].

achieved = status achieved and achieved_on <= A; achievement_rate = achieved / goals set;
the median days from set_on to achieved_on over achieved goals; the same per domain.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.contract import CODEBOOKS
from analytics.domain.scope import Scope
from analytics.metrics.scope import run

# grain: one row per group and domain, plus domain '*' for all domains together.
_GOALS = """
goals_in_scope as (
    select p.grp, g.domain, g.set_on,
           (g.status = 'achieved' and g.achieved_on <= sp.a) as is_achieved,
           g.achieved_on
    from mart_goals as g
    inner join pairs_in_scope as p on p.pair_key = g.pair_key
    cross join scope_params as sp
    where g.set_on between sp.s and sp.e
),

by_domain as (
    select grp, coalesce(domain, '*') as domain,
           count(*) as goals_set,
           count(*) filter (where is_achieved) as achieved,
           median(date_diff('day', set_on, achieved_on)) filter (where is_achieved)::double
               as median_days_to_achieve
    from goals_in_scope
    group by grouping sets ((grp, domain), (grp))
)

select * from by_domain order by grp, domain
"""


def goals_by_domain(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """Goals set, achieved, achievement rate and median days to achieve, per group and domain.

    Columns: grp, domain ('*' = all domains), goals_set, achieved, achievement_rate,
    median_days_to_achieve. Every group has a '*' row and a row for each codebook domain.
    """
    raw = run(con, scope, _GOALS)
    groups = run(con, scope, "g as (select distinct grp from pairs_at) select grp from g order by grp")
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
