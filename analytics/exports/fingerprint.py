"""Content hashes that let a report be reproduced: one of the data in scope, one of the filters.

Data hash. The rows a report can read are: the pairs in scope (filters applied, closing read
at the as-of date A, with the participant and mentor attributes the filters use), their
sessions and goals dated on or before A, and their participants' assessments on or before A.
For each of those four sets one SQL pass computes the row count and the sums of the two 64-bit
halves of each row's MD5 (one ``md5_number`` per row) (over the row's values joined with a separator, NULL written as \\N).
Sums do not depend on row order, so the store's physical order, a reload of the same files or
DuckDB's parallelism never change them, while any added, removed or edited row does. The four
lines ("table rows sum_low sum_high") are then hashed with SHA-256. Cost: one scan of each
table with an MD5 per row, about a second per few million sessions; no sort, no big strings.

Anything dated after A is left out (as every metric leaves it out), so loading newer data does
not change the hash of an earlier report; correcting a past record does.

Filters hash: SHA-256 of the canonical JSON of as-of, start, end, the active filters (sorted)
and k.
"""

from __future__ import annotations

import hashlib
import json

import duckdb

from analytics.domain.scope import Scope
from analytics.metrics.scope import run

# grain: one row per table of the report's inputs. Column lists are the store schema's.
# The pairs in scope with their stable source ids. Where the scope carries integer keys (the
# marts), the ids come from the key tables: keys are renumbered when pairs are added, ids are not.
_SCOPE_PAIRS_WITH_IDS = """
scope_pairs as (
    select * from pairs_in_scope
),
"""
_SCOPE_PAIRS_VIA_KEYS = """
scope_pairs as (
    select p.*, mp.pair_id, mpt.participant_id
    from pairs_in_scope as p
    inner join mart_pairs as mp on mp.pair_key = p.pair_key
    inner join mart_participants as mpt on mpt.participant_key = p.participant_key
),
"""

_FINGERPRINT = r"""
{scope_pairs}

pair_rows as (
    select concat_ws(chr(31),
        p.pair_id, p.mentor_id, p.participant_id, p.matched_on::varchar,
        coalesce(p.closed_at::varchar, '\N'), coalesce(p.close_reason_at, '\N'),
        coalesce(p.enrolled_on::varchar, '\N'), coalesce(p.site, '\N'), coalesce(p.funding_stream, '\N'),
        coalesce(p.age_band, '\N'), coalesce(p.gender, '\N'), coalesce(p.race_ethnicity, '\N'),
        coalesce(p.supervisor, '\N')) as r
    from scope_pairs as p
),

session_rows as (
    select concat_ws(chr(31),
        s.session_id, s.pair_id, s.session_date::varchar, s.status,
        coalesce(s.duration_min::varchar, '\N'), coalesce(s.modality, '\N')) as r
    from sessions as s
    inner join scope_pairs as p on p.pair_id = s.pair_id
    cross join scope_params as sp
    where s.session_date <= sp.a
),

goal_rows as (
    -- a goal achieved after A is open at A (METRICS.md), so it is hashed as A saw it
    select concat_ws(chr(31),
        g.goal_id, g.pair_id, g.domain, g.set_on::varchar,
        coalesce(g.target_on::varchar, '\N'),
        case when g.status = 'achieved' and (g.achieved_on is null or g.achieved_on > sp.a)
             then 'open' else coalesce(g.status, '\N') end,
        coalesce(case when g.achieved_on <= sp.a then g.achieved_on end::varchar, '\N')) as r
    from goals as g
    inner join scope_pairs as p on p.pair_id = g.pair_id
    cross join scope_params as sp
    where g.set_on <= sp.a
),

assessment_rows as (
    select concat_ws(chr(31),
        a.assessment_id, a.participant_id, a.instrument, a.administered_on::varchar, a.score::varchar) as r
    from assessments as a
    inner join (select distinct participant_id from scope_pairs) as pt using (participant_id)
    cross join scope_params as sp
    where a.administered_on <= sp.a
),

-- One MD5 per row (md5_number), split into its two 64-bit halves and summed as hugeint. Each
-- table is its own ungrouped aggregate, so each runs as one parallel scan.
pair_md5 as (select md5_number(r) as m from pair_rows),
session_md5 as (select md5_number(r) as m from session_rows),
goal_md5 as (select md5_number(r) as m from goal_rows),
assessment_md5 as (select md5_number(r) as m from assessment_rows)

select 1 as ord, 'pairs' as tbl, count(m) as n_rows,
       coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar as sum_low,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar as sum_high
from pair_md5
union all
select 2, 'sessions', count(m), coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar
from session_md5
union all
select 3, 'goals', count(m), coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar
from goal_md5
union all
select 4, 'assessments', count(m), coalesce(sum((m & 18446744073709551615::uhugeint)::hugeint), 0)::varchar,
       coalesce(sum((m >> 64)::hugeint), 0)::varchar
from assessment_md5
order by ord
"""


def data_digest(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[str, list[tuple[str, int]]]:
    """SHA-256 (hex) of the data in scope, and the row count per table that went into it."""
    columns = {row[0] for row in con.execute("describe pair_facts").fetchall()}
    pairs = _SCOPE_PAIRS_WITH_IDS if {"pair_id", "participant_id"} <= columns else _SCOPE_PAIRS_VIA_KEYS
    df = run(con, scope, _FINGERPRINT.replace("{scope_pairs}", pairs))
    lines = [f"{r.tbl} {int(r.n_rows)} {r.sum_low} {r.sum_high}" for r in df.itertuples(index=False)]
    digest = hashlib.sha256("\n".join(lines).encode("ascii")).hexdigest()
    return digest, [(r.tbl, int(r.n_rows)) for r in df.itertuples(index=False)]


def filters_digest(scope: Scope, k: int) -> str:
    """SHA-256 (hex) of the report's parameters, canonical JSON."""
    doc = {
        "as_of": scope.as_of.isoformat(),
        "start": scope.start.isoformat(),
        "end": scope.end.isoformat(),
        "filters": {name: list(values) for name, values in sorted(scope.filters.active().items())},
        "min_cell": k,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()
