"""Benchmark the exports at a scale tier: the grant report with charts, and chart images.

    python bench/bench_exports.py [--tier M] [--db PATH] [--images 10]

Measured (wall clock, reported, never asserted by tests):
- the report command end to end in a fresh process (browser start included), DOCX and PDF;
- inside one process: browser start, the report built again once the browser runs, its parts
  (the suppressed summary, the content hash), writing DOCX and PDF;
- each further chart image (PNG, SVG, PDF) once the browser runs: median and worst.
Targets: a full report in 15 s or less at M (20k participants); a further image in 0.3 s or less.
The store is the seeded demo of the tier under bench/.stores/ (built by the demo command when
missing), or --db.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analytics.privacy import frames  # noqa: E402 (after the path is set)

STORES = ROOT / "bench" / ".stores"
TIERS = {"S": 500, "M": 20_000, "L": 200_000, "XL": 1_000_000}
TARGET_REPORT_S = 5.0
TARGET_IMAGE_S = 0.3


def store_for(tier: str, db: str | None) -> Path:
    if db:
        return Path(db)
    path = STORES / f"{tier}-demo.duckdb"
    if not path.exists():
        STORES.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "analytics", "demo", "--db", str(path),
                        "--participants", str(TIERS[tier])], check=True, cwd=ROOT)
    return path


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def cli_report(db: Path, out: Path) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analytics", "report", "--db", str(db), "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tier", default="M", choices=list(TIERS))
    ap.add_argument("--db", help="an existing store instead of the tier's demo")
    ap.add_argument("--images", type=int, default=10, help="further images to time per format")
    args = ap.parse_args()
    db = store_for(args.tier, args.db)

    from analytics import store, summary
    from analytics.exports import fingerprint, images
    from analytics.exports.context import ExportContext
    from analytics.exports.report import build_report
    from analytics.exports.report_docx import write_docx
    from analytics.exports.report_pdf import write_pdf
    from analytics.metrics import engagement, goals, outcomes, retention
    from analytics.metrics.scope import resolve_scope
    from analytics.present import charts
    from analytics.store import views

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("pdf", "docx"):
            rows.append((f"report command, fresh process ({ext.upper()})", cli_report(db, Path(tmp) / f"r.{ext}"),
                         f"<= {TARGET_REPORT_S:g} s"))

    con = store.connect_read(db)
    cur = views.analysis_connection(con)
    scope = resolve_scope(cur)
    _, t_start = timed(images.start)
    rows.append(("browser start (once per process)", t_start, ""))
    report, t_build = timed(lambda: build_report(cur, as_of=None, start=None, end=None))
    _, t_docx = timed(lambda: write_docx(report))
    _, t_pdf = timed(lambda: write_pdf(report))
    rows.append((f"report built, browser running ({len(report.figures)} charts)", t_build, ""))
    rows.append(("  of which: suppressed summary", timed(lambda: summary.build_summary(cur, scope))[1], ""))
    rows.append(("  of which: content hash", timed(lambda: fingerprint.data_digest(cur, scope))[1], ""))
    rows.append(("write DOCX", t_docx, ""))
    rows.append(("write PDF", t_pdf, ""))
    rows.append(("report, browser running, DOCX + PDF", t_build + t_docx + t_pdf, f"<= {TARGET_REPORT_S:g} s"))

    k = 11
    context = ExportContext.from_scope(scope, int(engagement.pair_counts(cur, scope)["pairs_in_scope"].sum()), k)
    figs = [
        charts.goals_chart(frames.chart_frame(goals.goals_by_domain(cur, scope), "goals_by_domain", k)[0], k=k),
        charts.engagement_monthly_chart(
            frames.chart_frame(engagement.engagement_by_month(cur, scope), "engagement_by_month", k)[0], k=k),
        charts.km_chart(*frames.km_chart_frames(retention.retention_curve(cur, scope), k)[:2], k=k),
        charts.reliable_change_chart(frames.chart_frame(outcomes.outcome_change(cur, scope), "outcome_change", k)[0],
                                     k=k),
    ]
    for fmt in ("png", "svg", "pdf"):
        times = [timed(lambda i=i, fmt=fmt: images.export_chart(figs[i % len(figs)], fmt, context=context))[1]
                 for i in range(args.images)]
        rows.append((f"further chart image, {fmt.upper()} (median of {args.images})", statistics.median(times),
                     f"<= {TARGET_IMAGE_S:g} s"))
        rows.append((f"further chart image, {fmt.upper()} (worst)", max(times), ""))
    _, t_html = timed(lambda: images.export_chart(figs[0], "html", context=context))
    rows.append(("chart as standalone HTML (no browser)", t_html, ""))
    con.close()

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    print(f"Exports at tier {args.tier} ({TIERS[args.tier]:,} participants), store {db.name}")
    print(f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
          f"load average {load:.1f}\n")
    print("| step | seconds | target |")
    print("|---|---:|---|")
    for name, seconds, target in rows:
        print(f"| {name} | {seconds:.2f} | {target} |")


if __name__ == "__main__":
    main()
