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
from analytics.metrics.queries import query
from analytics.metrics.scope import run

# The pairs in scope with their stable source ids: from the scope itself, or (where the scope
# carries the marts' integer keys) from the key tables.
_SCOPE_PAIRS_WITH_IDS = query("fingerprint_pairs_with_ids")
_SCOPE_PAIRS_VIA_KEYS = query("fingerprint_pairs_via_keys")
_FINGERPRINT = query("fingerprint")
_PAIR_FACTS_COLUMNS = query("fingerprint_columns")


def data_digest(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[str, list[tuple[str, int]]]:
    """SHA-256 (hex) of the data in scope, and the row count per table that went into it."""
    columns = {row[0] for row in con.execute(_PAIR_FACTS_COLUMNS).fetchall()}
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
