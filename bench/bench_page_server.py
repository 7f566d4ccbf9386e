"""Benchmark: each page's default view, server time, the way a filter change back to it costs.

    python bench/bench_page_server.py --tier L [--pages outcomes mentors] [--repeat 2] [--profile DIR]

For each page, a fresh process opens the app with Streamlit's AppTest over the tier's store
(bench/.stores/<tier>.duckdb, see bench_summary.py), first over the last 12 months, then over
the whole period for the first site alone, so the page's libraries and code paths are warm (each
chart drawn with data) and nothing of the default view is cached yet; then it clears the site
filter (back to the default view) and times that rerun. The time is the page's own server
time (no browser, no network), with the CPU time the process spent in it beside it (DuckDB's
threads included: steadier than the wall time on a busy machine). --repeat processes per page,
the median reported; with --profile, pyinstrument's text profile of the timed rerun is written
to DIR/<page>.txt. Prints a table and appends one JSON line to bench/results/page_server.jsonl.
Target: <= 0.5 s per page at L. Timings are reported, never asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summary import TIERS, build_store  # noqa: E402

PAGES = ("overview", "engagement", "retention", "outcomes", "goals", "compare", "mentors",
         "followup", "attention", "data")

# Runs in a fresh process: argv = page, profile file or "".
_ONE = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
page, profile = sys.argv[1], sys.argv[2]
at = AppTest.from_file("dashboard.py", default_timeout=600)
at.query_params["period"] = "12m"
at.run()
if page != "overview":
    at.switch_page(f"pages/{page}.py").run()
# warm: the whole period for the first site, so every chart has data and its libraries load
sites = at.multiselect(key="filters__site")
sites.set_value(sites.options[:1])
at.selectbox(key="filters__period").set_value("all")
at.run()
assert not at.exception, [e.value for e in at.exception]
choose = at.multiselect(key="filters__site").set_value([])
if profile:  # AppTest runs the script on its own thread: profile that thread's run.
    import pyinstrument
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner
    plain = LocalScriptRunner._run_script_thread

    def profiled(self):
        prof = pyinstrument.Profiler(interval=0.001)
        prof.start()
        try:
            plain(self)
        finally:
            prof.stop()
            open(profile, "w").write(prof.output_text(unicode=False, show_all=False))

    LocalScriptRunner._run_script_thread = profiled
t, cpu = time.perf_counter(), time.process_time()
choose.run()
took, cpu = time.perf_counter() - t, time.process_time() - cpu
assert not at.exception, [e.value for e in at.exception]
print(json.dumps({"s": took, "cpu_s": cpu}))
"""


def one(db: Path, page: str, profile: Path | None) -> dict:
    """{"s": the rerun's wall time, "cpu_s": the CPU time the process spent in it (all threads)}."""
    env = {**os.environ, "OUTCOMES_DB": str(db)}
    out = subprocess.run([sys.executable, "-c", _ONE, page, str(profile or "")], capture_output=True,
                         text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{page}: {out.stderr[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tier", choices=list(TIERS), default="L")
    ap.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--profile", type=Path, help="write a pyinstrument profile of each timed rerun here")
    args = ap.parse_args()
    db, _ = build_store(args.tier)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict]] = {}
    for page in args.pages:
        runs[page] = [one(db, page, args.profile / f"{page}.txt" if args.profile and i == 0 else None)
                      for i in range(args.repeat)]
    times = {p: [r["s"] for r in rs] for p, rs in runs.items()}
    cpus = {p: [r["cpu_s"] for r in rs] for p, rs in runs.items()}
    # CPU time (DuckDB's threads included) is the steadier measure of the work on a machine
    # whose wall times spread from one minute to the next; the target is on the wall time.
    print(f"| page | server time at {args.tier}, default view (runs) | median | CPU time, median |")
    print("|---|---|---|---|")
    for page, ts in times.items():
        print(f"| {page} | {', '.join(f'{t:.2f}' for t in ts)} s | {statistics.median(ts):.2f} s "
              f"| {statistics.median(cpus[page]):.2f} s |")
    rec = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "tier": args.tier,
           "machine": platform.machine(), "load_avg_1m": os.getloadavg()[0],
           "pages": {p: {"runs_s": ts, "median_s": statistics.median(ts), "cpu_runs_s": cpus[p],
                         "cpu_median_s": statistics.median(cpus[p])} for p, ts in times.items()}}
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    with open(ROOT / "bench" / "results" / "page_server.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
