"""Load program exports (CSV files, folders of them, .xlsx workbooks) into the store.

    python -m analytics ingest exports/ --db data/outcomes.duckdb
    python -m analytics ingest exports/ --mapping profile.toml --db data/outcomes.duckdb

With --mapping, the files and sheets the profile names are read in the export's own shape
(headers, title rows, spellings, date formats) and mapped onto the contract first; draft a
profile with `python -m analytics mapping suggest PATH > profile.toml`.

Needs the pseudonym key in OUTCOMES_PSEUDONYM_KEY (or .streamlit/secrets.toml). Prints the load
report on stdout and progress for big files on stderr. Exit status 0 on success; 2 with one line
on bad input (nothing written); 1 with one line when the store is busy or could not be written
(nothing written either).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from analytics import store
from analytics.load import LoadError, load_paths
from analytics.load.mapping import read_profile
from analytics.store import audit, pseudonym

# Progress lines are worth printing only when a load takes a while.
PROGRESS_BYTES = 20 << 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="CSV files named after tables, a folder of them, or an .xlsx workbook")
    parser.add_argument("--db", type=Path, default=None,
                        help="store path (default: OUTCOMES_DB, else data/outcomes.duckdb)")
    parser.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for another load to finish before giving up (default 0)")
    parser.add_argument("--today", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="the load date used by the 'not in the future' rule (default: today)")
    parser.add_argument("--loaded-by", default="cli", help="who loaded, for the audit trail")
    parser.add_argument("--mapping", type=Path, default=None, metavar="PROFILE",
                        help="a mapping profile (TOML) for exports in another system's shape")
    parser.add_argument("--instruments", type=Path, default=None, metavar="FILE",
                        help="the program's instrument registry (TOML) over the built-in one "
                             "(default: OUTCOMES_INSTRUMENTS, else the built-in registry)")


def _total_size(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.iterdir() if f.is_file())
        elif p.is_file():
            total += p.stat().st_size
    return total


def _print_progress(message: str, fraction: float | None) -> None:
    pct = f"{fraction * 100:3.0f}% " if fraction is not None else ""
    print(f"{pct}{message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    progress = _print_progress if _total_size(args.paths) >= PROGRESS_BYTES else None
    if not args.dry_run:
        try:
            audit.check_writable()
        except OSError as exc:
            print(f"error: nothing was loaded: the audit trail cannot be written ({type(exc).__name__}); "
                  f"check that {audit.AUDIT_ENV} names a writable file", file=sys.stderr)
            return 1
    try:
        profile = read_profile(args.mapping) if args.mapping is not None else None
        report = load_paths(
            args.paths, args.db, loaded_by=args.loaded_by, dry_run=args.dry_run,
            progress=progress, today=args.today, wait_s=args.wait, instruments=args.instruments,
            mapping=profile,
        )
    except (LoadError, pseudonym.MissingKey) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (store.StoreBusy, store.StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.text())
    if not args.dry_run:
        # The same trail as the app's loads, sign-ins and exports (analytics.store.audit).
        try:
            audit.record_load(report, who=args.loaded_by, role=None, source="command line")
        except OSError as exc:
            print(f"error: loaded, but the audit trail could not be written ({type(exc).__name__}); "
                  f"check {audit.AUDIT_ENV}", file=sys.stderr)
            return 1
    return 0
