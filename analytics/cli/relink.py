"""Give a roster of the program's own ids their pseudonyms, to find the people a list names.

    python -m analytics relink --db PATH --ids roster.csv [--out FILE.csv]

The only way back from a pseudonym to a person: the program runs it on its own machine, with
its own pseudonym key (OUTCOMES_PSEUDONYM_KEY or .streamlit/secrets.toml, as for loads). It
reads the roster (a CSV with participant_id, pair_id and/or mentor_id columns holding the ids
of the program's own system, e.g. the export it loads), computes each id's pseudonym with the
key, and prints the roster, or writes it to --out, with a `<column>_pseudonym` column beside
each id column. Staff then look up the pseudonyms the Needs attention page shows.

It reads nothing from the store but the key check: the key's fingerprint kept by the loads
must match, and at least one of the roster's ids must have its pseudonym in the store; a wrong
key (or another program's roster) is refused with exit status 2. Source ids go only where the
user sends the output: never into the store, the audit trail (which records that a relink ran,
with counts) or a log.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from analytics import store
from analytics.cli import UsageError
from analytics.cli.report import _write_whole as write_whole
from analytics.store import audit, one_row, pseudonym, views

# roster column -> (entity of the pseudonym, store table and column holding the pseudonyms)
ID_COLUMNS = {
    "participant_id": ("participant", "participants"),
    "pair_id": ("pair", "pairs"),
    "mentor_id": ("mentor", "mentors"),
}
SUFFIX = "_pseudonym"
# How many of a column's pseudonyms the store holds: one query per id column, its table and
# column from ID_COLUMNS (the allow-list), the pseudonyms bound.
_FOUND = views.store_query("relink_found")
_FOUND_SQL = {col: _FOUND.format(column=col, table=table) for col, (_, table) in ID_COLUMNS.items()}


def add_arguments(p) -> None:
    p.add_argument("--db", help="the store (default: OUTCOMES_DB or data/outcomes.duckdb): read for the key check only")
    p.add_argument("--ids", required=True, type=Path, metavar="ROSTER.csv",
                   help="a CSV with participant_id, pair_id and/or mentor_id columns (the program's own ids)")
    p.add_argument("--out", type=Path, help="write the roster with pseudonyms here (default: print it)")
    p.add_argument("--run-by", dest="run_by", default="command line", help="who ran it, for the audit trail")


def read_roster(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the roster CSV, every cell as text (leading zeros kept)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = [row for row in reader if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise UsageError(f"no roster file {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read the roster {path.name} as UTF-8 CSV ({type(exc).__name__})") from None
    if header is None:
        raise UsageError(f"the roster {path.name} is empty")
    header = [h.strip().lower() for h in header]
    if not any(h in ID_COLUMNS for h in header):
        raise UsageError(f"the roster {path.name} has none of the id columns {', '.join(ID_COLUMNS)}")
    for h in ID_COLUMNS:
        if header.count(h) > 1:
            raise UsageError(f"the roster {path.name} has the column {h} twice")
    if any(h + SUFFIX in header for h in header if h in ID_COLUMNS):
        raise UsageError(f"the roster {path.name} already has pseudonym columns")
    return header, rows


def relinked(header: list[str], rows: list[list[str]], key: bytes) -> tuple[list[str], list[list[str]], dict]:
    """The roster with a pseudonym column after each id column, and the pseudonyms per column."""
    id_cols = [i for i, h in enumerate(header) if h in ID_COLUMNS]
    out_header: list[str] = []
    for i, h in enumerate(header):
        out_header.append(h)
        if i in id_cols:
            out_header.append(h + SUFFIX)
    made: dict[str, set[str]] = {header[i]: set() for i in id_cols}
    out_rows = []
    for row in rows:
        row = row + [""] * (len(header) - len(row))
        new = []
        for i, cell in enumerate(row[: len(header)]):
            new.append(cell)
            if i in id_cols:
                source = cell.strip(pseudonym.ID_TRIM)
                name = pseudonym.pseudonym(ID_COLUMNS[header[i]][0], source, key) if source else ""
                if name:
                    made[header[i]].add(name)
                new.append(name)
        out_rows.append(new)
    return out_header, out_rows, made


def check_key(con, key: bytes, made: dict[str, set[str]]) -> dict[str, int]:
    """Refuse a wrong key (UsageError); return how many of each column's ids the store holds."""
    stored = store.get_meta(con, "key_check")
    if stored is not None and stored != pseudonym.key_fingerprint(key):
        raise UsageError(
            f"wrong key: this store's pseudonyms were made with another key; set {pseudonym.KEY_ENV} to the "
            "key its loads used"
        )
    found = {col: int(one_row(con.execute(_FOUND_SQL[col], [sorted(names)]))[0]) if names else 0
             for col, names in made.items()}
    if not any(found.values()):
        raise UsageError(
            "none of the roster's ids is in this store: the key differs from the one its loads used, or the "
            "roster is of another program"
        )
    return found


def run(args) -> int:
    path = store.db_path(args.db)
    if not path.exists():
        raise UsageError(f"no store at {args.db or path}")
    if args.out is not None and not args.out.parent.is_dir():
        raise UsageError(f"no folder {args.out.parent} to write {args.out.name} into")
    if args.out is not None and args.out.resolve() in (args.ids.resolve(), path.resolve()):
        raise UsageError("--out must be a new file, not the roster or the store")
    try:
        key = pseudonym.load_key()
    except pseudonym.MissingKey as exc:
        raise UsageError(str(exc)) from None
    header, rows = read_roster(args.ids)
    out_header, out_rows, made = relinked(header, rows, key)
    con = store.connect_read(path)
    try:
        found = check_key(con, key, made)
    finally:
        con.close()

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(out_header)
    writer.writerows(out_rows)
    audit.record(
        "relink", who=args.run_by,
        what={"source": "command line", "tables": sorted(ID_COLUMNS[c][1] for c in made)},
        rows={"roster_rows": len(rows), **{f"{c}_found": n for c, n in found.items()}},
    )
    if args.out is None:
        sys.stdout.write(buf.getvalue())
    else:
        # Whole or not at all, readable by its owner only (the file holds the program's own ids).
        write_whole(args.out, buf.getvalue().encode("utf-8"))
    counts = ", ".join(f"{n} of {len(made[c])} {c} values" for c, n in found.items())
    print(f"relinked {len(rows)} roster rows; in the store: {counts}", file=sys.stderr)
    return 0
