"""Check that the metrics give the same numbers to the last digit, run after run and whatever the
number of DuckDB threads.

    python bench/check_determinism.py bench/.stores/M.duckdb [--rounds 4] [--threads 1 2 4]

DuckDB aggregates a large input in parallel, one piece per row group (122,880 rows), and combines
the pieces in whatever order the threads finish; a floating-point aggregate that is not fed in a
fixed order (a standard deviation, a sum of non-integer values) can then differ in its last
digits from one run to the next. This runs every metric function of the summary and of the pages
`--rounds` times for each thread count and compares every value bit for bit with the first run on
one thread. It prints the columns that differ and exits 1 when any does. A store of the M tier
(`python bench/bench_summary.py --tiers M`) is large enough to show such differences.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _bits(v):
    """A value as something compared exactly: floats by their bit pattern."""
    if isinstance(v, float):
        return "nan" if v != v else struct.pack("<d", v).hex()
    if hasattr(v, "item"):
        return _bits(v.item())
    if isinstance(v, dict):
        return {k: _bits(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_bits(x) for x in v]
    return repr(v)


def results(con) -> dict:
    """Every metric function's result on `con`, as comparable values."""
    import pandas as pd

    from analytics import summary
    from analytics.metrics import (
        compare,
        dose,
        engagement,
        followup,
        goals,
        mentors,
        outcomes,
        quality,
        retention,
    )
    from analytics.metrics.scope import resolve_scope

    s = resolve_scope(con)
    by_site = s.grouped("site")
    calls = {
        "summary": lambda: summary.raw_summary(con, s),
        "summary_by_site": lambda: summary.raw_summary(con, by_site),
        "pair_counts": lambda: engagement.pair_counts(con, s),
        "engagement_totals": lambda: engagement.engagement_totals(con, by_site),
        "engagement_by_month": lambda: engagement.engagement_by_month(con, s),
        "retention_curve": lambda: retention.retention_curve(con, by_site),
        "retention_summary": lambda: retention.retention_summary(con, by_site),
        "cohort_triangle": lambda: retention.cohort_triangle(con, s),
        "outcome_change": lambda: outcomes.outcome_change(con, by_site),
        "outcome_trend": lambda: outcomes.outcome_trend(con, by_site),
        "dose_change": lambda: dose.dose_change(con, by_site),
        "goals_by_domain": lambda: goals.goals_by_domain(con, by_site),
        "followup_attrition": lambda: followup.followup_attrition(con, by_site, followup.DEFAULT_RULE),
        "compare_by_site": lambda: compare.compare_groups(con, s, "site"),
        "mentor_caseloads": lambda: mentors.mentor_caseloads(con, s),
        "quality_findings": lambda: quality.quality_findings(con, s),
    }
    out = {}
    for name, fn in calls.items():
        res = fn()
        if isinstance(res, pd.DataFrame):
            res = {c: res[c].tolist() for c in res.columns}
        elif isinstance(res, tuple):
            res = [({c: r[c].tolist() for c in r.columns} if isinstance(r, pd.DataFrame) else r) for r in res]
        out[name] = _bits(res)
    return out


def _diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in a.keys() | b.keys() for d in _diff(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}[{i}]")]
        # one line per column, not per row
        return found[:1] if found and all(isinstance(x, str) for x in a) else found
    return [] if a == b else [path]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()

    from analytics import store
    from analytics.store import views

    base = store.connect_read(args.db)
    reference = None
    differing: set[str] = set()
    for threads in args.threads:
        for _ in range(args.rounds):
            base.execute(f"set threads = {int(threads)}")
            con = views.analysis_connection(base)
            got = results(con)
            con.close()
            if reference is None:
                reference = got
                continue
            for path in _diff(reference, got):
                if path not in differing:
                    print(f"differs (threads={threads}): {path}")
                differing.add(path)
    print(json.dumps({"store": str(args.db), "rounds": args.rounds, "threads": args.threads,
                      "differing": sorted(differing)}))
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
