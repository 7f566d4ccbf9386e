"""Mapping profiles for exports in another system's shape: draft one from the files.

    python -m analytics mapping suggest exports/ > profile.toml
    python -m analytics ingest exports/ --mapping profile.toml --db data/outcomes.duckdb

The draft proposes a table for each file or sheet, a contract column for each header (known
names and aliases, then close matches), a codebook value for each distinct value of a codebook
column, and a date format where the dates need one; every line it could not decide carries a
comment. It prints headers and the labels of codebook columns, never other cell values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analytics.load import LoadError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("suggest", help="print a first draft of a profile for these files")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="CSV files, a folder of them, or an .xlsx workbook")


def run(args: argparse.Namespace) -> int:
    from analytics.load import suggest

    try:
        text = suggest.suggest_text(args.paths)
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
