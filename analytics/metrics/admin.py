"""Store facts for the Data page and banners: load history, demo flag, data as-of, filter choices."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics import store
from analytics.metrics.scope import data_bounds

# grain: one row per load (counts summed over its tables); no cell values exist in the audit.
_HISTORY = """
select
    a.load_id, a.loaded_at, a.loaded_by, a.outcome,
    string_agg(t.table_name, ', ' order by t.table_name) as tables,
    coalesce(sum(t.inserted), 0) as inserted,
    coalesce(sum(t.updated), 0) as updated,
    coalesce(sum(t.unchanged), 0) as unchanged,
    coalesce(sum(t.duplicates_removed), 0) as duplicates_removed,
    coalesce(sum(t.flagged), 0) as flagged,
    string_agg(nullif(t.dropped_columns, ''), '; ') as dropped_columns
from load_audit as a
left join load_audit_tables as t using (load_id)
group by a.load_id, a.loaded_at, a.loaded_by, a.outcome
order by a.load_id desc
"""


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per load, newest first."""
    return con.execute(_HISTORY).df()


_SIZES = """
select 'participants', count(*) from participants
union all select 'mentors', count(*) from mentors
union all select 'pairs', count(*) from pairs
union all select 'sessions', count(*) from sessions
union all select 'goals', count(*) from goals
union all select 'assessments', count(*) from assessments
"""


def store_info(con: duckdb.DuckDBPyConnection) -> dict:
    """Whether the store is the synthetic demo, the data bounds and table sizes."""
    bounds = data_bounds(con)
    sizes = dict(con.execute(_SIZES).fetchall())
    return {
        "is_demo": store.get_meta(con, "is_demo") == "true",
        "schema_version": store.get_meta(con, "schema_version"),
        "latest_session": bounds["latest_session"],
        "earliest_match": bounds["earliest_match"],
        "rows": sizes,
    }


# The values a sidebar filter offers, from the store (never typed by hand). $sites (a list, or
# null for every site) keeps a user with some sites from learning what exists at the others.
_CHOICES = {
    "site": """select distinct site from participants
               where site is not null and ($sites is null or list_contains($sites, site)) order by 1""",
    "funding_stream": """select distinct funding_stream from participants
                         where funding_stream is not null and ($sites is null or list_contains($sites, site))
                         order by 1""",
    "supervisor": """select distinct supervisor from mentors
                     where supervisor is not null and ($sites is null or list_contains($sites, site)) order by 1""",
}


def filter_choices(con: duckdb.DuckDBPyConnection, sites: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """Distinct sites, funding streams and supervisors, at `sites` only when given."""
    params = {"sites": list(sites) if sites is not None else None}
    return {k: [r[0] for r in con.execute(sql, params).fetchall()] for k, sql in _CHOICES.items()}
