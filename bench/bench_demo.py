"""Benchmark: generate the synthetic demo program and load it into a temporary store.

    python bench/bench_demo.py [--participants 200000] [--seed 7] [--generate-only]

Prints generation, load and total seconds, rows per table and peak RSS, and appends one JSON
line to bench/results/demo.jsonl. The target for 200,000 participants (~6M sessions) is under
two minutes for generation and load together on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from analytics.demo import DEMO_AS_OF, load_demo_exports, write_demo_exports  # noqa: E402
from analytics.domain import contract  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "demo.jsonl"
TARGET_S = 120.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process (DuckDB runs in-process, so the load is included)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def csv_rows(paths: list[Path]) -> dict[str, int]:
    rows = {}
    for path in paths:
        with open(path, "rb") as f:
            rows[path.stem] = sum(chunk.count(b"\n") for chunk in iter(lambda f=f: f.read(1 << 24), b"")) - 1
    return rows


def store_rows(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in contract.TABLE_ORDER}


def git_commit() -> str | None:
    head = ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (ROOT / ".git" / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return None


def run(participants: int, seed: int, generate_only: bool) -> dict:
    # Other work on the machine slows both phases; the record keeps the load average beside them.
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        folder, db = Path(tmp) / "exports", Path(tmp) / "demo.duckdb"
        started = time.perf_counter()
        paths = write_demo_exports(folder, participants=participants, seed=seed, as_of=DEMO_AS_OF)
        generate_s = time.perf_counter() - started
        exports_mb = sum(p.stat().st_size for p in paths) / 1e6
        load_s, rows, db_mb = None, csv_rows(paths), None
        if not generate_only:
            started = time.perf_counter()
            load_demo_exports(paths, db, participants=participants, seed=seed)
            load_s = time.perf_counter() - started
            rows = store_rows(db)
            db_mb = db.stat().st_size / 1e6
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "participants": participants,
        "seed": seed,
        "generate_s": round(generate_s, 2),
        "load_s": None if load_s is None else round(load_s, 2),
        "total_s": round(generate_s + (load_s or 0.0), 2),
        "rows": rows,
        "exports_mb": round(exports_mb, 1),
        "store_mb": None if db_mb is None else round(db_mb, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "cpus": os.cpu_count(),
        "loadavg_1m_before": round(load_average, 2),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "commit": git_commit(),
    }


def print_table(result: dict) -> None:
    print(f"demo benchmark: {result['participants']:,} participants, seed {result['seed']}, "
          f"{result['cpus']} CPUs (load average before: {result['loadavg_1m_before']:.1f})")
    load = "-" if result["load_s"] is None else f"{result['load_s']:.2f}"
    for label, value in (
        ("generation s", f"{result['generate_s']:.2f}"),
        ("load s", load),
        ("total s", f"{result['total_s']:.2f}"),
        ("exports MB", f"{result['exports_mb']:.1f}"),
        ("store MB", "-" if result["store_mb"] is None else f"{result['store_mb']:.1f}"),
        ("peak RSS MB", f"{result['peak_rss_mb']:.0f}"),
    ):
        print(f"  {label:<14}{value:>14}")
    for table, n in result["rows"].items():
        print(f"  rows {table:<13}{n:>10,}")
    if result["load_s"] is not None:
        verdict = "within" if result["total_s"] < TARGET_S else "OVER"
        print(f"  {verdict} the {TARGET_S:.0f} s target for generate + load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generate-only", action="store_true", help="time the CSV generation alone")
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args(argv)
    result = run(args.participants, args.seed, args.generate_only)
    print_table(result)
    if not args.no_record:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
