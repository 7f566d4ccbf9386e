"""Print the outcome summary of a store as JSON (the stable METRICS.md interface) or a table."""

from __future__ import annotations

import json
import sys

from analytics import privacy, store
from analytics.cli import UsageError
from analytics.cli.options import add_followup_arguments, followup_settings
from analytics.domain.numbers import fixed, p_value
from analytics.domain.scope import DIMENSIONS, ScopeError
from analytics.metrics.scope import resolve_scope


def add_arguments(p) -> None:
    p.add_argument("--db", help="the store (default: OUTCOMES_DB or data/outcomes.duckdb)")
    p.add_argument("--as-of", dest="as_of", help="data cut-off A (default: the latest session date)")
    p.add_argument("--start", help="period start S (default: the earliest matched_on)")
    p.add_argument("--end", help="period end E (default: A)")
    p.add_argument("--site", action="append", help="keep only this site (repeatable)")
    p.add_argument("--by", choices=DIMENSIONS, help="add a per-group breakdown under 'groups'")
    p.add_argument("--min-cell", dest="min_cell", type=int, default=privacy.DEFAULT_K,
                   help="small-cell threshold k (default 11; 1 turns suppression off)")
    p.add_argument("--format", choices=("json", "table"), default="json")
    add_followup_arguments(p)


def run(args) -> int:
    from analytics import stats, summary
    from analytics.store import views

    stats.special.import_in_background()

    if args.min_cell < 1:
        raise UsageError("--min-cell must be 1 or more")
    rule, target = followup_settings(args)
    path = store.db_path(args.db)
    if not path.exists():
        raise UsageError(f"no store at {args.db or path}")
    try:
        with store.reading(path):
            con = views.analysis_connection(store.connect_read(path))
            scope = resolve_scope(
                con, as_of=args.as_of, start=args.start, end=args.end,
                filters={"site": args.site} if args.site else None, by=args.by,
            )
            doc = summary.build_summary(
                con, scope, min_cell=args.min_cell, followup_rule=rule, followup_target=target
            )
    except (ScopeError, views.StoreOutdated, store.StoreDamaged) as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(doc))
    return 0


# Keys whose values are counts: a suppressed count reads "<k", anything else "suppressed".
COUNT_KEYS = {
    "in_scope", "matched_in_period", "active_at_end", "attended", "no_show", "cancelled",
    "pairs", "events", "eligible_90", "n_paired", "set", "achieved",
    "cohort", "due", "excused", "done", "missed", "open_now", "opening_next_30", "n_followed", "n_missed",
    "n",  # outcomes.<CODE>.dose.n and each dose band's n
}


def _fmt(value, k: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        # three decimals, half up (numbers.fixed: the one rounding rule); nan/inf as written
        return fixed(value, 3, grouping=False, missing=str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v, k) for v in value) + "]"
    return str(value)


def _rows(doc: dict, prefix: str = ""):
    for key, value in doc.items():
        if key in ("suppressed", "groups"):
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _rows(value, path + ".")
        else:
            yield path, value


def format_table(doc: dict) -> str:
    """A readable two-column table; suppressed values read as <k."""
    k = doc["min_cell"]
    suppressed = set(doc.get("suppressed", []))
    lines = []
    sections = [("", doc)] + [(f"groups.{g}.", d) for g, d in doc.get("groups", {}).items()]
    for prefix, part in sections:
        if prefix:
            lines.append("")
            lines.append(f"== {prefix[len('groups.'):-1]}")
        for path, value in _rows(part):
            full = prefix + path
            if full in suppressed:
                shown = f"<{k}" if path.rsplit(".", 1)[-1] in COUNT_KEYS else "suppressed"
            elif path.startswith("tests.") and path.endswith(".p") and value is not None:
                shown = p_value(value)  # as the Compare page and its sentences print a p-value
            else:
                shown = _fmt(value, k)
            lines.append(f"{path:<45} {shown}")
    return "\n".join(lines) + "\n"
