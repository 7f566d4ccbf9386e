"""Write the grant report (DOCX or PDF) for a period, sites and funding streams.

    python -m analytics report --db PATH --as-of D --start D --end D [--site S]...
        [--funding-stream F]... --out FILE.docx|FILE.pdf [--min-cell K]
        [--followup-rule suprt|gpra] [--followup-target X]

Every number equals what `summary` prints for the same selection and k. Exit status 0 on
success; 2 with a one-line reason on bad input, including a selection of fewer than k pairs
(refused). The file is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from analytics import store
from analytics.cli import UsageError
from analytics.cli.options import add_followup_arguments, followup_settings
from analytics.domain.numbers import DEFAULT_K
from analytics.domain.scope import ScopeError
from analytics.store import audit

WRITERS = (".docx", ".pdf")


def add_arguments(p) -> None:
    p.add_argument("--db", help="the store (default: OUTCOMES_DB or data/outcomes.duckdb)")
    p.add_argument("--as-of", dest="as_of", help="data cut-off A (default: the latest session date)")
    p.add_argument("--start", help="period start S (default: the earliest matched_on)")
    p.add_argument("--end", help="period end E (default: A)")
    p.add_argument("--site", action="append", default=[], help="keep only this site (repeatable)")
    p.add_argument("--funding-stream", dest="funding_stream", action="append", default=[],
                   help="keep only this funding stream (repeatable)")
    p.add_argument("--out", required=True, help="the report file to write: .docx or .pdf")
    p.add_argument("--min-cell", dest="min_cell", type=int, default=DEFAULT_K,
                   help="small-cell threshold k (default 11; 1 turns suppression off: internal use only)")
    p.add_argument("--program", help="program name for the title block")
    p.add_argument("--exported-by", dest="exported_by", default="command line",
                   help="who made the report, for the audit trail")
    p.add_argument("--no-charts", dest="charts", action="store_false",
                   help="leave the charts out (no browser needed)")
    add_followup_arguments(p)


def run(args) -> int:
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in WRITERS:
        raise UsageError(f"--out must end in .docx or .pdf, got {out.name or args.out!r}")
    if not out.parent.is_dir():
        raise UsageError(f"no folder {out.parent} to write {out.name} into")
    if args.min_cell < 1:
        raise UsageError("--min-cell must be 1 or more")
    rule, target = followup_settings(args)
    path = store.db_path(args.db)
    if not path.exists():
        raise UsageError(f"no store at {args.db or path}")
    if args.charts:
        # The browser takes seconds to start: it starts now, before pandas, plotly and the
        # report's queries load and run, so the first chart finds it ready.
        from analytics.exports import browser

        browser.warm_up()
    from analytics import privacy
    from analytics.exports import images
    from analytics.exports.report import build_report
    from analytics.store import views

    try:
        con = store.connect_read(path)
    except store.StoreDamaged as exc:
        raise UsageError(str(exc)) from None
    try:
        with store.reading(path):
            cur = views.analysis_connection(con)
            report = build_report(
                cur, as_of=args.as_of, start=args.start, end=args.end, sites=args.site,
                funding_streams=args.funding_stream, k=args.min_cell, program=args.program,
                charts_wanted=args.charts, followup_rule=rule, followup_target=target,
            )
    except (ScopeError, views.StoreOutdated, store.StoreDamaged) as exc:
        raise UsageError(str(exc)) from None
    except privacy.ExportRefused as exc:
        raise UsageError(f"report refused: {exc.reason}") from None
    finally:
        con.close()

    # only the writer asked for is imported (reportlab and python-docx each take a few tenths)
    if suffix == ".docx":
        from analytics.exports.report_docx import write_docx as write
    else:
        from analytics.exports.report_pdf import write_pdf as write
    data = write(report)
    _write_whole(out, data)
    # Every export is on the audit trail (who, what, a hash of the file; never its numbers).
    audit.record(
        "export",
        who=args.exported_by,
        what={
            "source": "command line", "file_kind": suffix.lstrip("."), "name": "grant_report",
            "filters": {"site": list(args.site), "funding_stream": list(args.funding_stream)},
            "period": f"{report.summary['start']}/{report.summary['end']}",
            "as_of": report.summary["as_of"], "k": args.min_cell,
        },
        content=data,
    )
    if report.images_note and args.charts:
        print(f"note: {report.images_note}", file=sys.stderr)
    elif not images.images_available() and args.charts:
        print(f"note: {images.NO_BROWSER_NOTE}", file=sys.stderr)
    figures = sum(1 for f in report.figures if f.png)
    print(f"wrote {out} ({len(data):,} bytes, {figures} charts); data hash {report.data_hash[:16]}…")
    return 0


def _write_whole(out: Path, data: bytes) -> None:
    """Write beside the target, then rename over it: a failed write leaves no half file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
