"""A first draft of a mapping profile, worked out from an export's headers.

For each file or sheet: the header row (the first row that fills most columns, so title rows
are skipped), the table (from the file or sheet name, else from the headers), and for each
header a contract column: its name or alias as the load knows it, then a few names other
systems use (`date_of_service`, `peer_specialist`, ...), then a close match (difflib). For each
header proposed as a codebook column, each distinct value gets a codebook value (the codebook's
own spellings and synonyms, then a close match); a date column whose dates need a format gets
the one format every date in it parses with.

Decided proposals are plain lines; guesses carry a "check" comment; what could not be decided
is written as a comment line to fill in, so an unedited draft never loads a guess silently
(an unmapped header is still refused by the load). The only cell values read into the draft are
the labels of codebook columns (at most MAX_LABELS of them, none that looks like an identifier);
date cells are read only to find their format.
"""

from __future__ import annotations

import difflib
import itertools
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from analytics.domain import contract
from analytics.load import workbook
from analytics.load.columns import is_identifier, target_of
from analytics.load.errors import LoadError
from analytics.load.mapping import (
    AGE_TARGETS,
    Grid,
    Item,
    TableMapping,
    base_name,
    distinct_labels,
    dump_profile,
    header_cells,
    is_workbook,
    items_of,
    read_grid,
    toml_str,
)
from analytics.load.validate import code_key, codebook_lists
from analytics.store import scratch

MAX_LABELS = 30  # more distinct values than this and a column is not a codebook column
HEADER_SCAN_ROWS = 30
CLOSE = 0.75  # difflib ratio for a close match

# How other systems name the tables (file and sheet names, normalized).
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "participants": ("participant", "client", "clients", "enrollment", "enrollments", "members", "people"),
    "mentors": ("mentor", "staff", "peer_specialists", "specialists", "coaches", "peers", "crss"),
    "pairs": ("pair", "match", "matches", "pairings", "assignments", "caseload", "caseloads"),
    "sessions": ("session", "contact", "contacts", "encounters", "services", "visits", "contact_log"),
    "goals": ("goal", "goal_plans", "plans", "recovery_plans"),
    "assessments": ("assessment", "surveys", "survey", "measures", "scores"),
}
# Headers other systems use, beyond the contract's aliases (normalized name -> column).
COLUMN_WORDS: dict[str, str] = {
    "date_of_service": "session_date", "contact_outcome": "status", "outcome": "status",
    "session_outcome": "status", "peer_specialist": "mentor_id", "staff_member": "mentor_id",
    "specialist": "mentor_id", "mentor": "mentor_id", "client": "participant_id",
    "contact_method": "modality", "contact_mode": "modality", "goal_area": "domain", "date_set": "set_on",
    "date_achieved": "achieved_on", "match_start": "matched_on", "match_end": "closed_on",
    "survey": "instrument", "survey_date": "administered_on", "survey_id": "assessment_id",
    "location": "site", "program": "site", "program_location": "site", "intake": "enrolled_on",
    "discharge": "exited_on", "reason_for_discharge": "exit_reason", "reason_for_closure": "close_reason",
}
# Words swapped before the aliases are tried again: "Peer Specialist ID" -> mentor_id.
WORD_SWAPS = (("peer_specialist", "mentor"), ("specialist", "mentor"), ("staff", "mentor"),
              ("client", "participant"), ("match", "pair"), ("contact", "session"), ("survey", "assessment"))
DATE_FORMATS = (
    "%m/%d/%Y", "%d/%m/%Y", "%m-%d-%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%b %d, %Y", "%d %b %Y",
    "%B %d, %Y", "%d %B %Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p",
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")

# How sure a proposal is.
NAME = "name"  # the contract's name or alias: the load would take it as it is
WORD = "word"  # a name other systems use
CLOSE_MATCH = "close"  # a guess: check it
IDENTIFIER = "identifier"  # looks like a direct identifier: the load drops it
UNDECIDED = "undecided"
DECIDED = (NAME, WORD)


@dataclass
class HeaderGuess:
    header: str
    column: str | None
    how: str
    note: str = ""

    @property
    def decided(self) -> bool:
        return self.how in DECIDED


@dataclass
class ValueGuess:
    value: str
    code: str | None
    how: str  # NAME (the codebook's spelling or synonym), CLOSE_MATCH, UNDECIDED


@dataclass
class DateGuess:
    fmt: str | None  # None: the dates need no format (ISO)
    decided: bool
    note: str = ""


@dataclass
class SourceDraft:
    """The draft for one file or sheet."""

    item: Item
    sheet: str | None
    label: str
    table: str | None
    table_how: str
    header_row: int
    headers: list[HeaderGuess]
    values: dict[str, list[ValueGuess] | None] = field(default_factory=dict)  # header -> labels (None: not shown)
    note: str = ""  # why nothing is proposed
    dates: dict[str, DateGuess] = field(default_factory=dict)  # header -> format
    grid: Grid | None = field(default=None, repr=False)

    @property
    def as_is(self) -> bool:
        """The file or sheet loads as it is (named after its table, every header and value known)."""
        name = self.sheet if self.sheet is not None else base_name(self.item[1]).rsplit(".", 1)[0]
        return (
            self.table is not None and contract.normalize_name(name) == self.table and self.header_row == 1
            and all(g.how in (NAME, IDENTIFIER) for g in self.headers if g.header)
            and all(g.column == contract.normalize_name(g.header) for g in self.headers if g.how == NAME)
            and all(v.how == NAME for vs in self.values.values() if vs for v in vs)
            and not self.dates
        )

    def mapping(self) -> TableMapping | None:
        """The decided and guessed proposals as a table mapping (undecided ones left out)."""
        if self.table is None:
            return None
        columns = {g.column: g.header for g in self.headers if g.column and g.how in (NAME, WORD, CLOSE_MATCH)}
        by_header = {h: c for c, h in columns.items()}
        table = contract.TABLES[self.table]
        values = {}
        for header, guesses in self.values.items():
            col = by_header.get(header)
            if col and guesses and table.column(col).kind == contract.CODE:
                values[col] = {v.value: v.code for v in guesses if v.code}
        dates = {by_header[h]: d.fmt for h, d in self.dates.items() if d.fmt and h in by_header}
        return TableMapping(
            self.table, file=None if self.sheet else base_name(self.item[1]), sheet=self.sheet,
            header_row=self.header_row if self.header_row != 1 else None, columns=columns,
            values={c: v for c, v in values.items() if v}, dates=dates,
        )


def targets(table: str) -> list[str]:
    return contract.TABLES[table].column_names + list(AGE_TARGETS.get(table, ()))


def guess_header(table: str, header: str) -> HeaderGuess:
    t = contract.TABLES[table]
    name = contract.normalize_name(header)
    if not name:
        return HeaderGuess(header, None, UNDECIDED, "no name in the header")
    if (col := target_of(t, name)) is not None:
        return HeaderGuess(header, col, NAME)
    name = re.sub(r"[^a-z0-9]+", "_", name).strip("_")  # "Race/Ethnicity" -> race_ethnicity
    if (col := target_of(t, name)) is not None:
        return HeaderGuess(header, col, WORD)
    if COLUMN_WORDS.get(name) in t.column_names:
        return HeaderGuess(header, COLUMN_WORDS[name], WORD)
    swapped = name
    for old, new in WORD_SWAPS:
        swapped = re.sub(rf"(^|_){old}(_|$)", rf"\g<1>{new}\g<2>", swapped)
    if swapped != name and (col := target_of(t, swapped)) is not None:
        return HeaderGuess(header, col, WORD)
    if is_identifier(name) or any(name in names for _, names in _age_names()):
        return HeaderGuess(header, None, IDENTIFIER, "looks like a direct identifier or an age: the load drops it")
    candidates: dict[str, str] = {}
    for c in t.columns:
        candidates[c.name] = c.name
        for a in c.aliases:
            candidates.setdefault(contract.normalize_name(a), c.name)
    for word, col in COLUMN_WORDS.items():
        if col in t.column_names:
            candidates.setdefault(word, col)
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=CLOSE)
    if close:
        return HeaderGuess(header, candidates[close[0]], CLOSE_MATCH, f"a close match for {candidates[close[0]]}")
    return HeaderGuess(header, None, UNDECIDED)


def _age_names():
    return (("dob", contract.DOB_COLUMNS), ("age", contract.AGE_COLUMNS), ("birth_year", contract.BIRTH_YEAR_COLUMNS))


def _settle(guesses: list[HeaderGuess]) -> None:
    """One header per column: a decided proposal beats a guess; two equal ones are both undecided."""
    rank = {NAME: 0, WORD: 1, CLOSE_MATCH: 2}
    by_col: dict[str, list[HeaderGuess]] = {}
    for g in guesses:
        if g.column:
            by_col.setdefault(g.column, []).append(g)
    for col, gs in by_col.items():
        if len(gs) < 2:
            continue
        best = min(rank[g.how] for g in gs)
        winners = [g for g in gs if rank[g.how] == best]
        for g in gs:
            if g not in winners or len(winners) > 1:
                g.note = f"{col} is proposed for another header too"
                g.column, g.how = None, UNDECIDED


def guess_value(codebook: str, value: str) -> ValueGuess:
    keys, canon = codebook_lists(codebook)
    k = code_key(value)
    if k in keys:
        return ValueGuess(value, canon[keys.index(k)], NAME)
    # A codebook spelling as a whole word of the value ("Telehealth (video)"), or a close match
    # that starts alike ("18 to 24"); "Showed" is never taken for "no showed".
    words = {code_key(w) for w in re.split(r"[^A-Za-z0-9]+", value) if w}
    hits = {canon[i] for i, key in enumerate(keys) if key in words}
    if len(hits) == 1:
        return ValueGuess(value, hits.pop(), CLOSE_MATCH)
    close = [c for c in difflib.get_close_matches(k, keys, n=3, cutoff=0.8) if c[:1] == k[:1]]
    if close and not hits:
        return ValueGuess(value, canon[keys.index(close[0])], CLOSE_MATCH)
    return ValueGuess(value, None, UNDECIDED)


def guess_values(grid: Grid, header_row: int, header: str, codebook: str) -> list[ValueGuess] | None:
    labels = distinct_labels(grid, header_row, header, MAX_LABELS)
    if labels is None:
        return None
    return [guess_value(codebook, v) for v in labels]


def _date_texts(grid: Grid, header_row: int, header: str, limit: int = 5000) -> list[str]:
    names = header_cells(grid, header_row)
    pos = [i for i, h in enumerate(names) if h == header]
    if len(pos) != 1:
        return []
    seen: dict[str, None] = {}
    for n, cells in grid.rows():
        if n <= header_row or pos[0] >= len(cells):
            continue
        v = cells[pos[0]]
        if isinstance(v, str) and v.strip() and v.strip().lower() not in contract.NULL_TOKENS:
            seen.setdefault(v.strip(), None)
            if len(seen) >= limit:
                break
    return list(seen)


def guess_date(grid: Grid, header_row: int, header: str) -> DateGuess | None:
    texts = _date_texts(grid, header_row, header)
    if not texts or all(_ISO.fullmatch(t) for t in texts):
        return None

    def parses(fmt: str) -> bool:
        try:
            for t in texts:
                datetime.strptime(t, fmt)
        except ValueError:
            return False
        return True

    fits = [f for f in DATE_FORMATS if parses(f)]
    if len(fits) == 1:
        return DateGuess(fits[0], True)
    if fits:
        return DateGuess(fits[0], False, f"no date settles it; could also be {', '.join(fits[1:])}")
    return DateGuess(None, False, "the dates are in a form the draft does not know; give its format")


def _header_row(grid: Grid) -> int:
    """The first row filling at least half as many cells as the fullest of the first rows."""
    head = [(n, sum(not (v is None or (isinstance(v, str) and not v.strip())) for v in cells))
            for n, cells in itertools.islice(grid.rows(), HEADER_SCAN_ROWS)]
    most = max((c for _, c in head), default=0)
    if most == 0:
        raise LoadError(f"{grid.label}: the file is empty (no header row)")
    need = max(2, (most + 1) // 2) if most > 1 else 1
    return next(n for n, c in head if c >= need)


def _table_by_name(name: str) -> str | None:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    norm = contract.normalize_name(stem)
    if norm in contract.TABLES:
        return norm
    tokens = [norm] + norm.split("_")
    for table, words in TABLE_WORDS.items():
        if any(t in words for t in tokens):
            return table
    return None


def _table_by_headers(headers: list[str]) -> str | None:
    scores = {}
    for table in contract.TABLES:
        gs = [guess_header(table, h) for h in headers]
        scores[table] = sum(2 if g.decided else 1 for g in gs if g.column)
    best = max(scores.values())
    winners = [t for t, s in scores.items() if s == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def draft_grid(
    item: Item, sheet: str | None, grid: Grid, header_row: int | None = None, table: str | None = None,
) -> SourceDraft:
    """The draft of one file or sheet; `header_row` and `table` override what it would find."""
    header_row = header_row or _header_row(grid)
    headers = header_cells(grid, header_row)
    name = sheet if sheet is not None else base_name(item[1])
    how = NAME
    if table is None:
        table = _table_by_name(name)
    if table is None:
        table, how = _table_by_headers(headers), CLOSE_MATCH
    if table is None:
        # Its headers are shown only once a table is chosen (and then as a draft for that table).
        return SourceDraft(item, sheet, grid.label, None, UNDECIDED, header_row, [], grid=grid,
                           note="not decided which table it feeds")
    guesses = [guess_header(table, h) for h in headers]
    if not any(g.column or g.how == IDENTIFIER for g in guesses):
        # No cell of the row names a column: it is data, not a header, and is never shown.
        return SourceDraft(item, sheet, grid.label, None, UNDECIDED, header_row, [], grid=grid,
                           note=f"no row looks like a header (row {header_row} names no column)")
    _settle(guesses)
    sd = SourceDraft(item, sheet, grid.label, table, how, header_row, guesses, grid=grid)
    t = contract.TABLES[table]
    for g in guesses:
        if not g.column or g.column not in t.column_names:
            continue
        col = t.column(g.column)
        if col.kind == contract.CODE:
            sd.values[g.header] = guess_values(grid, header_row, g.header, col.codebook)
        elif col.kind == contract.DATE:
            if (d := guess_date(grid, header_row, g.header)) is not None:
                sd.dates[g.header] = d
    return sd


def draft(items: list[Item], workdir: Path) -> list[SourceDraft]:
    """A draft for every file and sheet of a load."""
    out: list[SourceDraft] = []
    for item in items:
        if is_workbook(item):
            for sheet in workbook.sheet_names(*item):
                out.append(draft_grid(item, sheet, read_grid(item, sheet, workdir)))
        else:
            out.append(draft_grid(item, None, read_grid(item, None, workdir, header_row=None)))
    return out


# ---------------------------------------------------------------------------------------------
# The draft as commented TOML
# ---------------------------------------------------------------------------------------------


def _line(text: str, comment: str = "") -> str:
    return f"{text}  # {comment}" if comment else text


def _source_text(sd: SourceDraft) -> list[str]:
    if sd.table is None:
        return [f"# {sd.label}: {sd.note or 'not decided which table it feeds'}; add a [tables.NAME] section "
                f"for it ({', '.join(contract.TABLE_ORDER)}), or leave it out of the load"]
    t = contract.TABLES[sd.table]
    lines = [_line(f"[tables.{sd.table}]", "" if sd.table_how == NAME else "table guessed from the headers; check")]
    lines.append(_line(f"sheet = {toml_str(sd.sheet)}") if sd.sheet else f"file = {toml_str(base_name(sd.item[1]))}")
    if sd.header_row != 1 or sd.sheet:
        note = "" if sd.header_row == 1 else "the rows above are titles and are skipped"
        lines.append(_line(f"header_row = {sd.header_row}", note))
    lines.append(f"[tables.{sd.table}.columns]")
    mapped: dict[str, str] = {}
    for g in sd.headers:
        if g.how in DECIDED:
            lines.append(f"{g.column} = {toml_str(g.header)}")
            mapped[g.header] = g.column
        elif g.how == CLOSE_MATCH:
            lines.append(_line(f"{g.column} = {toml_str(g.header)}", f"guessed ({g.note}); check"))
            mapped[g.header] = g.column
        elif g.how == IDENTIFIER:
            lines.append(f"# {toml_str(g.header)}: {g.note}")
        elif g.header:
            why = f"not decided ({g.note})" if g.note else "not decided"
            lines.append(f"# ? = {toml_str(g.header)}  # {why}: a column of {sd.table} "
                         f"({', '.join(targets(sd.table))}), or list it under drop")
    for header, guesses in sd.values.items():
        col = mapped.get(header)
        if not col:
            continue
        codebook = t.column(col).codebook
        allowed = ", ".join(contract.CODEBOOKS[codebook])
        lines.append(f"[tables.{sd.table}.values.{col}]")
        if guesses is None:
            lines.append(f"# not listed: the column has more than {MAX_LABELS} distinct values, or values "
                         f"unlike codebook labels; is it really {col}?")
            continue
        for v in guesses:
            if v.how == NAME:
                lines.append(f"{toml_str(v.value)} = {toml_str(v.code)}")
            elif v.how == CLOSE_MATCH:
                lines.append(_line(f"{toml_str(v.value)} = {toml_str(v.code)}", "guessed; check"))
            else:
                lines.append(f"# {toml_str(v.value)} = ?  # not decided: one of {allowed}")
    dated = [(mapped[h], d) for h, d in sd.dates.items() if h in mapped]
    if dated:
        lines.append(f"[tables.{sd.table}.dates]")
        for col, d in dated:
            if d.fmt and d.decided:
                lines.append(f"{col} = {toml_str(d.fmt)}")
            elif d.fmt:
                lines.append(_line(f"{col} = {toml_str(d.fmt)}", f"not decided: {d.note}"))
            else:
                lines.append(f'# {col} = "?"  # not decided: {d.note}')
    undecided = [g.header for g in sd.headers if g.how == UNDECIDED and g.header]
    lines.append(f"[tables.{sd.table}.drop]")
    if undecided:
        lines.append(_line("columns = []", "headers to leave out; not decided: "
                           + ", ".join(toml_str(h) for h in undecided)))
    else:
        lines.append("columns = []")
    return lines


def draft_text(drafts: list[SourceDraft]) -> str:
    names = ", ".join(dict.fromkeys(base_name(sd.item[1]) for sd in drafts))
    lines = [
        f"# Mapping profile drafted from {names}.",
        "# Lines marked 'check' are guesses and commented lines were not decided: settle them, then",
        "# load with: python -m analytics ingest PATH --mapping THIS_FILE",
    ]
    for sd in drafts:
        lines.append("")
        lines.extend(_source_text(sd))
    return "\n".join(lines) + "\n"


def suggest_text(paths: list[Path]) -> str:
    workdir = scratch.make("suggest")
    try:
        return draft_text(draft(items_of([Path(p) for p in paths]), workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def draft_profile_text(drafts: list[SourceDraft]) -> str:
    """The decided and guessed proposals as a plain profile (what the app pre-fills)."""
    return dump_profile([m for sd in drafts if (m := sd.mapping()) is not None])
