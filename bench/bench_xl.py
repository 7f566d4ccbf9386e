"""The XL tier (1,000,000 participants, about 30M sessions): ingest, `summary`, `summary --by
site` and each page's data functions, each with its wall time and peak RSS.

    python bench/bench_xl.py [--participants 1000000] [--repeat 1]

The store is built once with the seeded demo generator through the real load (kept under
bench/.stores/, git-ignored, like the other tiers of bench_summary.py). One JSON line is
appended to bench/results/xl.jsonl with the load average beside the figures. Timings are
reported, never asserted by tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summary import _PAGE_FUNCTIONS, RESULTS, ROOT, TIERS, build_store, machine, repeat  # noqa: E402

# Each page function in a fresh process of its own, so its peak RSS is its own.
_ONE_FUNCTION = _PAGE_FUNCTIONS.replace(
    "out = {}\nfor name, fn in calls.items():",
    "import resource\nout = {}\nfor name, fn in calls.items():\n    if name != sys.argv[2]: continue",
) + "out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\nprint(json.dumps(out))\n"


def page_function(db: Path, name: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _ONE_FUNCTION, str(db), name],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-800:])
    lines = out.stdout.strip().splitlines()
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    return {"wall_s": first[name], "peak_rss_mb": last["peak_rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tier", default="XL", choices=list(TIERS), help="another tier, to try the script quickly")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    db, build = build_store(args.tier)
    row = {"tier": args.tier, "participants": TIERS[args.tier], "machine": machine(), "date": time.strftime("%Y-%m-%d"),
           "load_avg_at_start": load_before[0], **build}
    summary = repeat([sys.executable, "-m", "analytics", "summary", "--db", str(db)], args.repeat)
    by_site = repeat([sys.executable, "-m", "analytics", "summary", "--db", str(db), "--by", "site"], args.repeat)
    row.update(summary_s=summary["wall_s"], summary_peak_rss_mb=summary["peak_rss_mb"],
               summary_by_site_s=by_site["wall_s"], summary_by_site_peak_rss_mb=by_site["peak_rss_mb"])
    names = [line.split('"')[1] for line in _PAGE_FUNCTIONS.splitlines() if line.startswith('    "')]
    row["page_functions"] = {name: page_function(db, name) for name in names}
    row["load_avg_at_end"] = os.getloadavg()[0]
    with (RESULTS / "xl.jsonl").open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
