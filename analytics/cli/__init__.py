"""Command-line entry. Each command lives in its own module and registers its arguments here.

Exit status: 0 on success; 2 with a one-line reason on bad input; the store is untouched on
any failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from analytics import store

# command -> module with `add_arguments(parser)` and `run(args) -> int`
COMMANDS = {
    "ingest": "analytics.cli.ingest",
    "demo": "analytics.cli.demo",
    "summary": "analytics.cli.summary",
    "report": "analytics.cli.report",
    "attention": "analytics.cli.attention",
    "relink": "analytics.cli.relink",
    "mapping": "analytics.cli.mapping",
}


class UsageError(Exception):
    """Bad input: reported as one line on stderr, exit status 2."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that command's module is imported (start-up time counts
    for scripted use of `summary`)."""
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        p = sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = argv[0] if argv else None
    parser = build_parser(first if first in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        with store.reading(getattr(args, "db", None)):
            return int(args._module.run(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except store.StoreDamaged as exc:
        # Every command that reads the store: one line, never a traceback (a load says the
        # same through its own message, with exit status 1, before this is reached).
        print(f"error: {exc}", file=sys.stderr)
        return 2
