"""Benchmark the analytics at the scale tiers of the design: ingest, `summary`, `summary --by
site`, each page's data functions, and a plain pandas implementation of the same summary.

    python bench/bench_summary.py --tiers S M L [--repeat 3]

Stores are built once per tier with the seeded demo generator (through the real load) and kept
under bench/.stores/ (git-ignored). Results: a markdown table on stdout and one JSON line per
tier appended to bench/results/summary.jsonl. Timings are wall-clock on this machine; they are
reported, never asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORES = ROOT / "bench" / ".stores"
RESULTS = ROOT / "bench" / "results"
TIERS = {"S": 500, "M": 20_000, "L": 200_000, "XL": 1_000_000}

# Runs a command and reports its wall time and peak RSS (of the child) as JSON.
_MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "peak_rss_mb": rss, "rc": p.returncode, "err": p.stderr[-500:]}))
"""


def measure(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, env=env, cwd=ROOT
    )
    res = json.loads(out.stdout)
    if res["rc"] != 0:
        raise RuntimeError(f"{cmd} failed: {res['err']}")
    return res


def repeat(cmd: list[str], n: int) -> dict:
    runs = [measure(cmd) for _ in range(n)]
    return {
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


def build_store(tier: str) -> tuple[Path, dict]:
    """The tier's demo store; generation and load times measured when it is first built."""
    STORES.mkdir(parents=True, exist_ok=True)
    db = STORES / f"{tier}.duckdb"
    meta_file = STORES / f"{tier}.build.json"
    if db.exists() and meta_file.exists():
        return db, json.loads(meta_file.read_text())
    db.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        exports = Path(tmp) / "exports"
        gen = measure(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; from analytics.demo import write_demo_exports;"
             f" write_demo_exports(Path({str(exports)!r}), participants={TIERS[tier]})"]
        )
        env = {**os.environ, "OUTCOMES_PSEUDONYM_KEY": "benchmark-key-not-secret"}
        load = measure([sys.executable, "-m", "analytics", "ingest", str(exports), "--db", str(db)], env=env)
    info = {"generate_s": gen["wall_s"], "ingest_s": load["wall_s"], "ingest_peak_rss_mb": load["peak_rss_mb"],
            "store_mb": db.stat().st_size / 1e6}
    meta_file.write_text(json.dumps(info))
    return db, info


_PAGE_FUNCTIONS = r"""
import json, sys, time
from analytics import store
from analytics.store import views
from analytics.metrics import admin, compare, engagement, goals, mentors, outcomes, quality, retention
from analytics.metrics.scope import resolve_scope
con = views.analysis_connection(store.connect_read(sys.argv[1]))
s = resolve_scope(con)
calls = {
    "pair_counts": lambda: engagement.pair_counts(con, s),
    "engagement_totals": lambda: engagement.engagement_totals(con, s),
    "engagement_by_month": lambda: engagement.engagement_by_month(con, s),
    "retention_curve": lambda: retention.retention_curve(con, s),
    "retention_summary": lambda: retention.retention_summary(con, s),
    "cohort_triangle": lambda: retention.cohort_triangle(con, s),
    "closure_reasons": lambda: retention.closure_reasons(con, s),
    "outcome_change_by_site": lambda: outcomes.outcome_change(con, s.grouped("site")),
    "outcome_trend": lambda: outcomes.outcome_trend(con, s),
    "goals_by_domain": lambda: goals.goals_by_domain(con, s),
    "compare_by_site": lambda: compare.compare_groups(con, s, "site"),
    "mentor_caseloads": lambda: mentors.mentor_caseloads(con, s),
    "quality_findings": lambda: quality.quality_findings(con, s),
    "load_history": lambda: admin.load_history(con),
}
out = {}
for name, fn in calls.items():
    t = time.perf_counter(); fn(); out[name] = time.perf_counter() - t
print(json.dumps(out))
"""


def page_functions(db: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _PAGE_FUNCTIONS, str(db)], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-800:])
    return json.loads(out.stdout)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiers", nargs="+", default=["S", "M"], choices=list(TIERS))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for tier in args.tiers:
        db, build = build_store(tier)
        summary = repeat([sys.executable, "-m", "analytics", "summary", "--db", str(db)], args.repeat)
        by_site = repeat([sys.executable, "-m", "analytics", "summary", "--db", str(db), "--by", "site"], args.repeat)
        pandas = repeat([sys.executable, str(ROOT / "bench" / "pandas_summary.py"), str(db)], 1)
        pages = page_functions(db)
        row = {
            "tier": tier, "participants": TIERS[tier], "machine": machine(),
            "date": time.strftime("%Y-%m-%d"), **build,
            "summary_s": summary["wall_s"], "summary_peak_rss_mb": summary["peak_rss_mb"],
            "summary_by_site_s": by_site["wall_s"], "pandas_summary_s": pandas["wall_s"],
            "pandas_peak_rss_mb": pandas["peak_rss_mb"], "page_functions_s": pages,
        }
        rows.append(row)
        with (RESULTS / "summary.jsonl").open("a") as fh:
            fh.write(json.dumps(row) + "\n")
    print(f"machine: {machine()}\n")
    print("| tier | participants | generate s | ingest s | summary s | summary --by site s | pandas s | "
          "summary vs pandas | summary peak RSS MB | slowest page function |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        slow = max(r["page_functions_s"].items(), key=lambda kv: kv[1])
        print(f"| {r['tier']} | {r['participants']:,} | {r['generate_s']:.1f} | {r['ingest_s']:.1f} | "
              f"{r['summary_s']:.2f} | {r['summary_by_site_s']:.2f} | {r['pandas_summary_s']:.2f} | "
              f"{r['summary_s'] / r['pandas_summary_s']:.2f} | {r['summary_peak_rss_mb']:.0f} | "
              f"{slow[0]} {slow[1]:.2f} |")


if __name__ == "__main__":
    main()
