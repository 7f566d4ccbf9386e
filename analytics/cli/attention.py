"""Print the Needs attention digest: counts per mentor and reason, suppressed like every export.

    python -m analytics attention --db PATH [--as-of D] [--start D] [--end D] [--site S]...
        [--min-cell K] [--format json|table]

For a weekly e-mail made by the program's own tooling. The reasons and their rules are the
Needs attention page's (analytics.metrics.attention); the counts go through the project's
small-cell suppression (analytics.privacy.suppress_table): counts of 1 to k-1 are hidden, with
complementary suppression down each reason and across each mentor's total, and a selection
of fewer than k pairs is refused. Never a row-level list.
"""

from __future__ import annotations

import json
import sys

from analytics import privacy, store
from analytics.cli import UsageError
from analytics.metrics.scope import ScopeError, resolve_scope
from analytics.store import audit

ALL = "All mentors"


def add_arguments(p) -> None:
    p.add_argument("--db", help="the store (default: OUTCOMES_DB or data/outcomes.duckdb)")
    p.add_argument("--as-of", dest="as_of", help="data cut-off A (default: the latest session date)")
    p.add_argument("--start", help="period start S, for the follow-up cohort (default: the earliest matched_on)")
    p.add_argument("--end", help="period end E (default: A)")
    p.add_argument("--site", action="append", help="keep only this site (repeatable)")
    p.add_argument("--min-cell", dest="min_cell", type=int, default=privacy.DEFAULT_K,
                   help="small-cell threshold k (default 11; 1 turns suppression off: internal use only)")
    p.add_argument("--format", choices=("json", "table"), default="json")
    p.add_argument("--exported-by", dest="exported_by", default="command line",
                   help="who asked for the digest, for the audit trail")


def digest(con, scope, k: int) -> dict:
    """The digest as a JSON-ready dict (see docs/metrics.md "Needs attention")."""
    from analytics.metrics.attention import REASONS, attention_counts, needs_attention
    from analytics.metrics.engagement import pair_counts

    pairs = int(pair_counts(con, scope)["pairs_in_scope"].sum())
    privacy.check_export_allowed(pairs, k)
    counts = attention_counts(needs_attention(con, scope))
    reasons = list(REASONS)
    totals = {r: int(counts[r].sum()) for r in [*reasons, "total"]}
    table = counts.drop(columns=["site"])
    table.loc[len(table)] = {"mentor_id": ALL, **totals}
    shown, cells = privacy.suppress_table(
        table, count_cols=[*reasons, "total"], derived={}, k=k, group_col="mentor_id",
        total_labels=(ALL,), row_totals={"total": reasons},
    )
    hidden = set(cells)

    def block(label, row) -> dict:
        return {c: (None if (label, c) in hidden else int(row[c])) for c in [*reasons, "total"]}

    members = [
        {"mentor_id": m, "site": site, **block(m, table.iloc[i])}
        for i, (m, site) in enumerate(zip(counts["mentor_id"], counts["site"], strict=True))
    ]
    suppressed = [f"totals.{c}" if label == ALL else f"mentors.{label}.{c}" for label, c in cells]
    del shown  # the cells list is the mask; the JSON carries null where it marks a cell
    return {
        "as_of": scope.as_of.isoformat(), "start": scope.start.isoformat(), "end": scope.end.isoformat(),
        "sites": list(scope.filters.site) or None, "min_cell": k, "suppressed": suppressed,
        "reasons": dict(REASONS), "pairs_in_scope": pairs,
        "totals": block(ALL, table.iloc[-1]), "mentors": members,
    }


def format_table(doc: dict) -> str:
    """Mentors down, reasons across; a suppressed count reads <k."""
    k = doc["min_cell"]
    cols = [*doc["reasons"], "total"]

    def cell(v) -> str:
        return privacy.suppressed_label(k) if v is None else str(v)

    head = f"{'mentor':<26}{'site':<16}" + "".join(f"{c:>19}" for c in cols)
    rule = (f"counts of 1-{k - 1} shown as {privacy.suppressed_label(k)}" if k > 1
            else "not suppressed (k = 1): for internal use only")
    where = ", ".join(doc["sites"]) if doc["sites"] else "all sites"
    lines = [f"Needs attention as of {doc['as_of']} ({where}; {rule})", head]
    for m in doc["mentors"]:
        lines.append(f"{m['mentor_id']:<26}{m['site']:<16}" + "".join(f"{cell(m[c]):>19}" for c in cols))
    lines.append(f"{ALL:<26}{'':<16}" + "".join(f"{cell(doc['totals'][c]):>19}" for c in cols))
    lines.append("")
    lines += [f"{c}: {label}" for c, label in doc["reasons"].items()]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from analytics.store import views

    if args.min_cell < 1:
        raise UsageError("--min-cell must be 1 or more")
    path = store.db_path(args.db)
    if not path.exists():
        raise UsageError(f"no store at {args.db or path}")
    con = store.connect_read(path)
    try:
        cur = views.analysis_connection(con)
        scope = resolve_scope(cur, as_of=args.as_of, start=args.start, end=args.end,
                              filters={"site": args.site} if args.site else None)
        doc = digest(cur, scope, args.min_cell)
    except (ScopeError, views.StoreOutdated) as exc:
        raise UsageError(str(exc)) from None
    except privacy.ExportRefused as exc:
        raise UsageError(f"digest refused: {exc.reason}") from None
    finally:
        con.close()
    text = json.dumps(doc, indent=2) + "\n" if args.format == "json" else format_table(doc)
    audit.record(
        "export", who=args.exported_by,
        what={"source": "command line", "file_kind": args.format, "name": "attention_digest",
              "filters": {"site": list(args.site or [])}, "period": f"{doc['start']}/{doc['end']}",
              "as_of": doc["as_of"], "k": args.min_cell},
        content=text.encode(), rows={"pairs_in_scope": doc["pairs_in_scope"]},
    )
    sys.stdout.write(text)
    return 0
