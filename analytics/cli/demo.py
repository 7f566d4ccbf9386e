"""Build the seeded synthetic demo store (a made-up program) through the normal load."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from analytics import store
from analytics.cli import UsageError
from analytics.demo import (
    DEMO_AS_OF,
    DEMO_PARTICIPANTS,
    DEMO_SEED,
    NotADemoStore,
    build_demo_store,
    store_is_demo,
)
from analytics.load.errors import LoadError


def add_arguments(p) -> None:
    p.add_argument("--db", help="the store to build (default: OUTCOMES_DB or data/outcomes.duckdb)")
    p.add_argument("--participants", type=int, default=DEMO_PARTICIPANTS,
                   help=f"participants in the made-up program (default {DEMO_PARTICIPANTS})")
    p.add_argument("--seed", type=int, default=DEMO_SEED,
                   help=f"random seed; the same seed gives the same program (default {DEMO_SEED})")
    p.add_argument("--as-of", dest="as_of", default=DEMO_AS_OF.isoformat(),
                   help=f"the program's data cut-off, YYYY-MM-DD (default {DEMO_AS_OF.isoformat()})")
    p.add_argument("--exports-dir", dest="exports_dir",
                   help="also keep the generated CSV exports in this folder")


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError("--as-of must be a date written YYYY-MM-DD") from None


def run(args) -> int:
    as_of = _as_of(args.as_of)
    if args.participants < 1:
        raise UsageError("--participants must be 1 or more")
    if args.seed < 0:
        raise UsageError("--seed must be 0 or more")
    path = store.db_path(args.db)
    # Checked here too so a refusal costs nothing; build_demo_store checks again under the lock.
    if store_is_demo(path) is False:
        raise UsageError(
            f"{args.db or path} exists and is not a demo store; refusing to overwrite it "
            "(choose another --db, or remove the file yourself)"
        )
    started = time.perf_counter()
    try:
        report = build_demo_store(
            path, participants=args.participants, seed=args.seed, as_of=as_of,
            exports_dir=Path(args.exports_dir) if args.exports_dir else None,
        )
    except (NotADemoStore, ValueError, store.StoreBusy, store.StoreError) as exc:
        raise UsageError(str(exc)) from None
    except LoadError as exc:  # the demo's own files failing validation: a bug, said in one line
        raise UsageError(f"the generated demo exports failed validation: {exc}") from None
    elapsed = time.perf_counter() - started
    print(
        f"Built the demo store {args.db or path}: a synthetic program of {args.participants:,} "
        f"participants (seed {args.seed}, as of {as_of.isoformat()}) in {elapsed:.1f} s."
    )
    if args.exports_dir:
        print(f"The generated CSV exports are in {args.exports_dir}.")
    print(report.text())
    return 0

