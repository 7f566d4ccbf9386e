"""Validating a whole load in SQL, before anything is written.

Each stage is one aggregate query per table: every rule is a `min(row) filter (where ...)` and a
`count(*) filter (where ...)`, so millions of rows are checked in a few scans and the message
names the first failing row and how many more fail the same rule. Rules run on text first
(required, numbers, dates, codebooks, identifier-looking values), then on typed values (date
ranges and order, numeric ranges), then across rows (duplicates, keys) and across tables
(references resolve in this load or the store). Messages never contain a cell value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from analytics.domain import contract
from analytics.domain import instruments as registry
from analytics.load import identifiers
from analytics.load.columns import AGE_SOURCE_COLUMN, known_names
from analytics.load.errors import LoadError, cell_error
from analytics.load.readers import Staged
from analytics.load.sqltext import Frag, Params, join, render, statement
from analytics.store import one_row, pseudonym

NUMBER_RE = r"[+-]?(\d+(\.\d*)?|\.\d+)"
ISO_RE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
MDY4_RE = r"\d{1,2}/\d{1,2}/\d{4}"
TWO_DIGIT_YEAR_RE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}"
YEAR_RE = r"\d{4}"
AGE_RE = r"\d{1,3}"
CODE_STRIP_RE = r"[\s_-]+"
MDY_FORMAT = "%m/%d/%Y"
MAX_AGE = 120

ISO = "iso"
MDY = "mdy"
AMBIGUOUS = "ambiguous"
DMY = "dmy"

_ISO_HINT = "write dates as YYYY-MM-DD"


def code_key(value: str) -> str:
    """Codebook matching key: case, spaces, dashes and underscores ignored (as in the SQL)."""
    return re.sub(CODE_STRIP_RE, "", value.strip().lower())


def codebook_values(codebook: str, params: Params | None = None) -> tuple[str, ...]:
    """A codebook's canonical values; the instrument codebook is the registry in force."""
    reg = getattr(params, "instruments", None)
    if codebook == "instrument" and reg is not None:
        return tuple(reg.instruments)
    return contract.CODEBOOKS[codebook]


def codebook_lists(codebook: str, params: Params | None = None) -> tuple[list[str], list[str]]:
    """(match keys, canonical values) for a codebook, synonyms included."""
    pairs: dict[str, str] = {}
    for value in codebook_values(codebook, params):
        pairs[code_key(value)] = value
    for spelling, value in contract.CODE_SYNONYMS.get(codebook, {}).items():
        pairs.setdefault(code_key(spelling), value)
    return list(pairs), list(pairs.values())


def age_bands() -> list[str]:
    """Band of each age 18..MAX_AGE, from the contract's own banding (65+ top-codes the rest)."""
    return [contract.age_band_for(a) for a in range(18, MAX_AGE + 1)]


@dataclass
class Rule:
    column: str | None  # staged column name (messages use the plan's display name)
    cond: Frag
    # what is wrong; or a function (con, staged, column, row) -> str for the reported row
    what: str | Callable[[duckdb.DuckDBPyConnection, Staged, str, int], str]


def base_params(today: date, instruments: registry.InForce | None = None) -> Params:
    """Parameters every stage binds; `instruments` is the registry in force for this load
    (the built-in registry when not given)."""
    params = Params(
        num_re=NUMBER_RE, iso_re=ISO_RE, mdy_re=MDY4_RE, yy_re=TWO_DIGIT_YEAR_RE, year_re=YEAR_RE,
        age_re=AGE_RE, strip_re=CODE_STRIP_RE, mdy_fmt=MDY_FORMAT, today=today,
        earliest=date.fromisoformat(contract.EARLIEST_DATE), bands=age_bands(), max_age=MAX_AGE,
        hexn=pseudonym.HEX_DIGITS,
    )
    params.instruments = instruments or registry.InForce(dict(registry.builtin()), None)
    return params


def fail_first(
    con: duckdb.DuckDBPyConnection, st: Staged, relation: str, rules: list[Rule], params: Params,
    row_sql: Frag, where_sql: Frag | None = None,
) -> None:
    """Run all rules in one scan; raise for the earliest failing row (ties: rule order)."""
    if not rules:
        return
    aggs = join([
        render("min({r}) filter (where {c}), count(*) filter (where {c})", r=row_sql, c=rule.cond)
        for rule in rules
    ])
    sql = render(statement("rule_scan"), aggs=aggs, rel=relation, w=Frag("true") if where_sql is None else where_sql)
    result = one_row(con.execute(sql, params.used_in(sql)))
    _raise_earliest(con, st, rules, [(result[2 * i], result[2 * i + 1]) for i in range(len(rules))])


def _raise_earliest(
    con: duckdb.DuckDBPyConnection, st: Staged, rules: list[Rule], found: list[tuple[int | None, int]],
) -> None:
    """Raise for the earliest failing row of `found` ((first row, count) per rule; ties: rule order)."""
    best: tuple[int, int, Rule] | None = None
    for rule, (row, count) in zip(rules, found, strict=True):
        if count and (best is None or row < best[0]):
            best = (row, count, rule)
    if best is not None:
        row, count, rule = best
        column = st.plan.display(rule.column) if rule.column else None
        what = rule.what if isinstance(rule.what, str) else rule.what(con, st, rule.column, row)
        raise cell_error(st.label, st.display_row(row), column, what, count - 1)


# ---------------------------------------------------------------------------------------------
# Stage A: the staged text
# ---------------------------------------------------------------------------------------------


def _all_null(st: Staged) -> Frag:
    return join([render("{c} is null", c=c) for c in st.plan.read_columns], " and ")


def _date_columns(st: Staged) -> list[str]:
    cols = [c for c in st.plan.kept if st.table.column(c).kind == contract.DATE]
    if st.plan.age_source == "dob":
        cols.append(AGE_SOURCE_COLUMN)
    return cols


def _parts(c: str) -> tuple[Frag, Frag]:
    first = render("try_cast(split_part({c}, '/', 1) as integer)", c=c)
    second = render("try_cast(split_part({c}, '/', 2) as integer)", c=c)
    return first, second


def _profile_dates(con: duckdb.DuckDBPyConnection, st: Staged, params: Params) -> None:
    """Decide each date column's format: ISO, or M/D/YYYY when the whole column proves it."""
    for c in _date_columns(st):
        # Only cells with a slash can be M/D/YYYY: the WHERE keeps the pattern off ISO cells.
        m, d = _parts(c)
        is_mdy = render("regexp_full_match({c}, $mdy_re)", c=c)
        sql = render(statement("date_profile"), c=c, s=is_mdy, m=m, d=d, raw=st.raw)
        n_mdy, n_dmy_only, n_mdy_only, n_ambiguous = one_row(con.execute(sql, params.used_in(sql)))
        n = one_row(con.execute(render(statement("count_present"), c=c, raw=st.raw)))[0]
        if n == 0 or n_mdy < n:
            st.date_formats[c] = ISO
        elif n_dmy_only and not n_mdy_only:
            st.date_formats[c] = DMY
        elif n_mdy_only or not n_ambiguous:
            st.date_formats[c] = MDY
        else:
            st.date_formats[c] = AMBIGUOUS


def date_sql(c: str, fmt: str, prefix: str = "") -> Frag:
    col = Frag(prefix + c)
    if fmt == MDY:
        return render("cast(try_strptime({c}, $mdy_fmt) as date)", c=col)
    # YYYY-MM-DD is checked by position first (a regular expression on every cell costs
    # seconds at millions of rows); only longer values (with a time) go through the pattern.
    return render(
        "case when strlen({c}) = 10 then (case when {c}[5] = '-' and {c}[8] = '-' and {c}[1] between '0' "
        "and '9' then try_cast({c} as date) end) when regexp_full_match({c}, $iso_re) "
        "then try_cast(left({c}, 10) as date) end",
        c=col,
    )


def code_sql(c: Frag, codebook: str, params: Params) -> Frag:
    """The canonical codebook value of a cell, or NULL when it is not in the codebook."""
    keys, canon = codebook_lists(codebook, params)
    exact = params.bind(list(codebook_values(codebook, params)))
    # Exact canonical spellings (nearly every cell of a clean export) skip the normalization.
    return render(
        "case when list_contains({exact}, {c}) then {c} else "
        "{cv}[list_position({k}, regexp_replace(lower({c}), $strip_re, '', 'g'))] end",
        exact=exact, c=c, cv=params.bind(canon), k=params.bind(keys),
    )


def _date_rules(c: str, fmt: str) -> list[Rule]:
    present = render("{c} is not null", c=c)
    m, d = _parts(c)
    if fmt == AMBIGUOUS:
        return [Rule(c, render("{p} and {m} <= 12 and {d} <= 12 and {m} <> {d}", p=present, m=m, d=d),
                     "ambiguous date: day and month could be either way round (is 03/04/2026 March 4 or "
                     f"3 April?), and no date in the column settles it; {_ISO_HINT}")]
    if fmt == DMY:
        return [Rule(c, render("{p} and {m} > 12", p=present, m=m),
                     f"dates are written day/month/year; {_ISO_HINT} (or M/D/YYYY)")]
    bad = render("{p} and {parsed} is null", p=present, parsed=date_sql(c, fmt))
    if fmt == MDY:
        return [Rule(c, bad, "is not a valid M/D/YYYY date")]
    # One rule (one parse per cell); the kind of problem is worked out for the reported row only.
    return [Rule(c, bad, _why_not_a_date)]


def _why_not_a_date(con: duckdb.DuckDBPyConnection, st: Staged, column: str, row: int) -> str:
    sql = render(statement("date_kind"), c=column, raw=st.raw, r=st.row_sql)
    two_digit, mdy = one_row(con.execute(sql, {"yy_re": TWO_DIGIT_YEAR_RE, "mdy_re": MDY4_RE, "row": row}))
    if two_digit:
        return f"has a two-digit year, which is ambiguous; {_ISO_HINT}"
    if mdy:
        return f"M/D/YYYY dates are accepted only when every date in the column uses that form; {_ISO_HINT}"
    return f"is not a date; {_ISO_HINT}"


_NON_ASCII = r"[^\x00-\x7f]"


def name_like_pattern(names: list[str]) -> str | None:
    """A pattern (RE2, full match) that every cell whose normal form is one of `names` matches.

    The normal form is lower(regexp_replace(trim(cell), '[\\s\\-]+', '_', 'g')). The pattern is
    wider: each letter of a name may be either case or any non-ASCII character (a few lower-case
    to ASCII letters, e.g. the Kelvin sign), each `_` also a run of spaces and dashes, and the
    ends may carry spaces and non-ASCII characters (trim removes Unicode spaces). An ASCII digit,
    punctuation mark or other letter is never changed by the normal form, so a cell holding one
    where no name has it cannot name a column. None when a name has other characters.
    """
    if not names or not all(re.fullmatch(r"[a-z0-9_]+", n) for n in names):
        return None

    def one(ch: str) -> str:
        if ch == "_":
            return rf"(?:_|[\s\-]+|{_NON_ASCII})"
        return f"(?:[{ch}{ch.upper()}]|{_NON_ASCII})" if ch.isalpha() else f"(?:{ch}|{_NON_ASCII})"
    edge = rf"(?:\s|{_NON_ASCII})*"
    return edge + "(?:" + "|".join("".join(one(ch) for ch in n) for n in names) + ")" + edge


def _header_again(st: Staged, params: Params) -> list[Rule]:
    """A row whose cells are the table's column names (two exports joined end to end): refused,
    rather than loaded as data. Two cells naming columns of the table are enough to tell.

    Normalizing every cell of every row costs more than the rest of the text checks together
    (millions of rows): a row is normalized only when two of its cells match name_like_pattern,
    which every cell that names a column matches, so the rule's result is the same."""
    cols = list(st.plan.kept)
    if len(cols) < 2:
        return []
    ordered = sorted(known_names(st.table))
    names = params.bind(ordered)
    dash = params.bind(r"[\s\-]+")
    cells = join([render("lower(regexp_replace(trim({c}), {d}, '_', 'g'))", c=c, d=dash) for c in cols])
    cond = render("len(list_intersect([{cells}], {n})) >= 2", cells=cells, n=names)
    pattern = name_like_pattern(ordered)
    if pattern is not None:
        like = params.bind(pattern)
        candidates = join(
            [render("coalesce(regexp_full_match({c}, {p}), false)::int", c=c, p=like) for c in cols], " + "
        )
        cond = render("case when {k} >= 2 then {e} else false end", k=candidates, e=cond)
    return [Rule(None, cond,
                 "repeats the header row (two exports joined together?); remove the extra header rows, or "
                 "load the exports as separate files")]


def _text_rules(con: duckdb.DuckDBPyConnection, st: Staged, params: Params) -> list[Rule]:
    rules: list[Rule] = _header_again(st, params)
    for c in st.plan.kept:
        col = st.table.column(c)
        present = render("{c} is not null", c=c)
        if col.required:
            rules.append(Rule(c, render("{c} is null", c=c), "is empty; the column is required"))
        if col.kind == contract.NUMBER:
            rules.append(Rule(c, render("{p} and not regexp_full_match({c}, $num_re)", p=present, c=c),
                              "is not a number (only an empty cell, NA, N/A or null mean no value)"))
        elif col.kind == contract.DATE:
            rules.extend(_date_rules(c, st.date_formats[c]))
        elif col.kind == contract.CODE:
            rules.append(Rule(
                c, render("{p} and {code} is null", p=present, code=code_sql(Frag(c), col.codebook, params)),
                _unknown_instrument(params) if col.codebook == "instrument" else
                f"is not in the {col.codebook} codebook (allowed: {', '.join(codebook_values(col.codebook, params))})",
            ))
        elif col.kind == contract.TEXT:
            rules.extend(_identifier_rules(con, st, c, params))
    src = AGE_SOURCE_COLUMN
    present = render("{c} is not null", c=src)
    if st.plan.age_source == "dob":
        rules.extend(_date_rules(src, st.date_formats[src]))
    elif st.plan.age_source == "birth_year":
        rules.append(Rule(src, render("{p} and not regexp_full_match({c}, $year_re)", p=present, c=src),
                          "is not a four-digit year"))
    elif st.plan.age_source == "age":
        rules.append(Rule(src, render("{p} and not regexp_full_match({c}, $age_re)", p=present, c=src),
                          "is not an age in whole years"))
    for c in st.plan.unnamed:
        rules.append(Rule(c, render("{c} is not null", c=c), "has data but no column name in the header row"))
    return rules


def _distinct(con: duckdb.DuckDBPyConnection, st: Staged, column: str) -> Iterator[str]:
    cur = con.execute(render(statement("distinct_values"), c=column, raw=st.raw))
    while batch := cur.fetchmany(10_000):
        for (value,) in batch:
            yield value


def _free_text(st: Staged) -> list[str]:
    return [c for c in st.plan.kept if st.table.column(c).kind == contract.TEXT]


def normalize_text(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """Free text in its normal form (identifiers.clean: NFKC, no invisible characters), so two
    site names differing only by a zero-width space or a fullwidth letter are one site. A cell of
    invisible characters only becomes empty. Distinct values are few (sites, groups)."""
    for c in _free_text(st):
        pairs = [(v, identifiers.clean(v)) for v in _distinct(con, st, c)]
        changed = [(v, n) for v, n in pairs if v != n]
        if not changed:
            continue
        frame = pa.table({"src": [v for v, _ in changed], "dst": [n for _, n in changed]})
        con.execute("select 1").fetchall()  # register() refuses while an earlier result is open
        con.register("text_map", frame)
        try:
            con.execute(render(statement("normalize_text"), raw=st.raw, c=c))
        finally:
            con.unregister("text_map")


def _identifier_rules(con: duckdb.DuckDBPyConnection, st: Staged, column: str, params: Params) -> list[Rule]:
    """One rule per kind of identifier found among the column's distinct values, matched in
    Python on normalised text (analytics.load.identifiers); the scan then names the first row."""
    found: dict[str, list[str]] = {}
    for value in _distinct(con, st, column):
        kind = identifiers.kind_of(value)
        if kind:
            found.setdefault(kind, []).append(value)
    return [
        Rule(column, render("list_contains({vals}, {c})", vals=params.bind(values), c=column),
             f"looks like {kind}; direct identifiers may not be loaded (remove them from the export)")
        for kind, values in found.items()
    ]


_SHOWN_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,31}$")


def _unknown_instrument(params: Params) -> Callable[[duckdb.DuckDBPyConnection, Staged, str, int], str]:
    """The message for an instrument the registry does not know: it names the instrument (a
    code, never personal data; shown only when it looks like one) and the file that defines
    instruments."""
    reg = params.instruments

    def what(con: duckdb.DuckDBPyConnection, st: Staged, column: str, row: int) -> str:
        sql = render(statement("cell"), c=column, raw=st.raw, r=st.row_sql)
        raw = one_row(con.execute(sql, {"row": row}))[0] or ""
        code = raw.strip()
        named = f"instrument {code}" if _SHOWN_CODE_RE.match(code) else "the instrument"
        entry = code.upper().replace("-", "").replace(" ", "") if _SHOWN_CODE_RE.match(code) else "CODE"
        return (
            f"{named} is not defined in {reg.label} (defined: {', '.join(reg.instruments)}); add an "
            f"[instruments.{entry}] entry to the program's instruments file (--instruments FILE or "
            f"{registry.REGISTRY_ENV})"
        )

    return what


def check_text(
    con: duckdb.DuckDBPyConnection, st: Staged, today: date, max_rows: int,
    instruments: registry.InForce | None = None,
) -> None:
    """Stage A: count rows, settle date formats, and check every cell's text."""
    params = base_params(today, instruments)
    sql = render(statement("row_counts"), e=_all_null(st), raw=st.raw)
    total, empty = one_row(con.execute(sql))
    if total > max_rows:
        raise LoadError(f"{st.label}: {total:,} rows, more than the limit of {max_rows:,} per file")
    st.rows_read, st.empty_rows = total - empty, empty
    if st.rows_read == 0:
        raise LoadError(f"{st.label}: no data rows (the file has a header only)")
    normalize_text(con, st)
    _profile_dates(con, st, params)
    rules = _text_rules(con, st, params)
    fail_first(con, st, st.raw, rules, params, st.row_sql,
               render("not ({e})", e=_all_null(st)))


# ---------------------------------------------------------------------------------------------
# Typing and pseudonymizing: new_<table>
# ---------------------------------------------------------------------------------------------


def hmac_sql(value: Frag, entity: str, params: Params) -> Frag:
    """HMAC-SHA256 in SQL (RFC 2104 with precomputed pads), as pseudonym.pseudonym computes it."""
    ent = params.bind(entity)
    pfx = params.bind(pseudonym.prefix(entity))
    return render(
        "{pfx} || substr(sha256($opad || unhex(sha256($ipad || encode({ent} || ':' || {v})))), 1, $hexn)",
        pfx=pfx, ent=ent, v=value,
    )


def foreign_entities(staged: list[Staged]) -> dict[str, list[tuple[str, str]]]:
    """entity -> (staging table, column) of ID columns that are not their table's key."""
    out: dict[str, list[tuple[str, str]]] = {}
    for st in staged:
        for col in st.table.columns:
            if col.kind == contract.ID and col.name != st.table.key and col.name in st.plan.kept:
                out.setdefault(col.entity, []).append((st.raw, col.name))
    return out


def build_pseudonym_maps(con: duckdb.DuckDBPyConnection, staged: list[Staged], params: Params) -> None:
    # A reference column repeats few distinct IDs (6M sessions, 200k pairs): hash each once.
    for entity, columns in foreign_entities(staged).items():
        sources = join([render(statement("id_column"), c=c, t=t) for t, c in columns], " union all ")
        sql = render(statement("pseudonym_map"), m="pmap_" + entity, h=hmac_sql(Frag("src"), entity, params), u=sources)
        con.execute(sql, params.used_in(sql))


def _age_sql(st: Staged) -> Frag | None:
    if st.plan.age_source is None:
        return None
    src = Frag("r." + AGE_SOURCE_COLUMN)
    enrolled = date_sql("enrolled_on", st.date_formats["enrolled_on"], "r.")
    if st.plan.age_source == "dob":
        dob = date_sql(AGE_SOURCE_COLUMN, st.date_formats[AGE_SOURCE_COLUMN], "r.")
        return render("date_sub('year', {d}, {e})", d=dob, e=enrolled)
    if st.plan.age_source == "birth_year":
        return render("year({e}) - try_cast({s} as integer)", e=enrolled, s=src)
    return render("try_cast({s} as integer)", s=src)  # an age in years


_SQL_TYPE = {contract.DATE: Frag("date"), contract.NUMBER: Frag("double")}


def build_typed(con: duckdb.DuckDBPyConnection, st: Staged, params: Params) -> str:
    """new_<table>: typed values, codes canonical, IDs pseudonymized, source IDs gone."""
    new = "new_" + st.table.name
    exprs = [render("{r} as _row", r=Frag("r." + st.row_sql) if st.row_sql == "_row" else Frag("r.rowid + 2"))]
    joins: list[Frag] = []
    age = _age_sql(st)
    if age is not None:
        exprs.append(render("{a} as _age", a=age))
    for col in st.table.columns:
        present = col.name in st.plan.kept
        raw = Frag("r." + col.name)
        if col.kind == contract.ID:
            if col.name == st.table.key:
                expr = hmac_sql(raw, col.entity, params)
            else:
                alias = "pm_" + col.name
                joins.append(render("left join {m} {a} on {a}.src = {v}", m="pmap_" + col.entity, a=alias, v=raw))
                expr = render("{a}.pid", a=alias)
        elif col.name == "age_band" and age is not None:
            expr = Frag("case when _age between 18 and $max_age then $bands[_age - 17] end")
        elif not present:
            expr = render("cast(null as {t})", t=_SQL_TYPE.get(col.kind, Frag("varchar")))
        elif col.kind == contract.DATE:
            expr = date_sql(col.name, st.date_formats[col.name], "r.")
        elif col.kind == contract.NUMBER:
            expr = render("cast({v} as double)", v=raw)
        elif col.kind == contract.CODE:
            expr = code_sql(raw, col.codebook, params)
        else:
            expr = raw
        if st.table.name == "goals" and col.name == "status":
            expr = render("coalesce({e}, {d})", e=expr, d=params.bind(contract.GOAL_DEFAULT_STATUS))
        exprs.append(render("{e} as {c}", e=expr, c=col.name))
    not_empty = join([render("r.{c} is null", c=c) for c in st.plan.read_columns], " and ")
    sql = render(statement("typed"), new=new, exprs=join(exprs), raw=st.raw, joins=Frag(" ".join(joins)), ne=not_empty)
    con.execute(sql, params.used_in(sql))
    return new


# ---------------------------------------------------------------------------------------------
# Stage B: typed values
# ---------------------------------------------------------------------------------------------


def _typed_rules(st: Staged, params: Params, today: date) -> list[Rule]:
    rules: list[Rule] = []
    t = st.table
    for col in t.columns:
        if col.name not in st.plan.kept:
            continue
        c = col.name
        if col.kind == contract.DATE:
            if not col.may_be_future:
                rules.append(Rule(c, render("{c} > $today", c=c), f"is in the future (after {today.isoformat()})"))
            rules.append(Rule(c, render("{c} < $earliest", c=c), f"is before {contract.EARLIEST_DATE}"))
        if col.kind == contract.NUMBER and (col.min_value is not None or col.max_value is not None):
            lo = params.bind(col.min_value if col.min_value is not None else float("-inf"))
            hi = params.bind(col.max_value if col.max_value is not None else float("inf"))
            rules.append(Rule(c, render("{c} < {lo} or {c} > {hi}", c=c, lo=lo, hi=hi),
                              f"is outside the allowed range {_num(col.min_value)} to {_num(col.max_value)}"))
    for table, earlier, later in contract.DATE_ORDER:
        if table == t.name and later in st.plan.kept:
            rules.append(Rule(later, render("{b} < {a}", a=earlier, b=later), f"is before {earlier}"))
    if t.name == "assessments":
        for inst in params.instruments.instruments.values():
            code, lo, hi = params.bind(inst.code), params.bind(inst.min_score), params.bind(inst.max_score)
            rules.append(Rule("score", render("instrument = {i} and (score < {lo} or score > {hi})", i=code, lo=lo, hi=hi),
                              f"is outside the {inst.code} score range {_num(inst.min_score)}-{_num(inst.max_score)}"))
    if t.name == "goals":
        achieved = params.bind(contract.GOAL_ACHIEVED_STATUS)
        rules.append(Rule("achieved_on", render("status = {a} and achieved_on is null", a=achieved),
                          "is empty but the goal's status is achieved"))
        rules.append(Rule("achieved_on", render("achieved_on is not null and status <> {a}", a=achieved),
                          "is set but the goal's status is not achieved"))
    if st.plan.age_source:
        rules.append(Rule(AGE_SOURCE_COLUMN, Frag("_age < 18 and _age >= 0"),
                          "gives an age under 18 at enrolled_on; the program's data covers adults only"))
        rules.append(Rule(AGE_SOURCE_COLUMN, Frag("_age < 0 or _age > $max_age"), "is not a plausible age"))
    return rules


def _num(v: float | None) -> str:
    if v is None:
        return "any"
    return str(int(v)) if float(v).is_integer() else str(v)


def check_typed(con: duckdb.DuckDBPyConnection, st: Staged, new: str, params: Params, today: date) -> None:
    fail_first(con, st, new, _typed_rules(st, params, today), params, Frag("_row"))
    if st.plan.age_source:
        con.execute(render(statement("drop_age"), n=new))


# ---------------------------------------------------------------------------------------------
# Stage C: rows against each other
# ---------------------------------------------------------------------------------------------


def dedupe(con: duckdb.DuckDBPyConnection, st: Staged, new: str) -> None:
    """Drop exact duplicate rows (counted); the same key with different values is refused."""
    key = st.table.key
    n, distinct = one_row(con.execute(render(statement("key_counts"), k=key, n=new)))
    if n == distinct:
        return
    cols = join([Frag(c) for c in st.table.column_names])
    con.execute(render(statement("collapse_duplicates"), cols=cols, n=new))
    kept = one_row(con.execute(render(statement("count_rows"), t="dd")))[0]
    st.duplicates_removed = n - kept
    con.execute(render(statement("drop_table"), t=new))
    con.execute(render(statement("rename_collapsed"), n=new))
    row = one_row(con.execute(render(statement("key_conflict"), k=key, n=new)))
    if row:
        second, first, count = row
        raise cell_error(
            st.label, st.display_row(second), key,
            f"the same {key} as row {st.display_row(first)} but with different values", count - 1,
        )


# ---------------------------------------------------------------------------------------------
# Stage D: across tables and against the store
# ---------------------------------------------------------------------------------------------


def check_references(con: duckdb.DuckDBPyConnection, st: Staged, loaded: set[str]) -> None:
    """Every reference resolves in this load or the store, whatever order the files came in.

    One anti-join per reference (the rows whose key matches no parent, stored or loaded): at
    6M sessions ten times faster than the same test as a NOT EXISTS filter of one scan."""
    new = "new_" + st.table.name
    rules, found = [], []
    for column, parent in st.table.references:
        pkey = contract.TABLES[parent].key
        anti = statement("reference_anti_join")
        parents = [render(anti, p=parent, a="s", k=pkey, c=column)]
        if parent in loaded:
            parents.append(render(anti, p="new_" + parent, a="l", k=pkey, c=column))
        entity = contract.TABLES[parent].column(pkey).entity
        # the anti-join finds the rows; the rule carries the column and the message
        rules.append(Rule(column, Frag("false"), f"no such {entity} in this load or in the store (an orphan row)"))
        sql = render(statement("reference_orphans"), n=new, anti=Frag(" ".join(parents)))
        found.append(one_row(con.execute(sql)))
    _raise_earliest(con, st, rules, found)


def check_one_assessment_a_day(con: duckdb.DuckDBPyConnection, st: Staged) -> None:
    """One assessment per participant, instrument and day, counting rows already stored."""
    row, count = one_row(con.execute(statement("one_assessment_a_day")))
    if count:
        raise cell_error(
            st.label, st.display_row(row), "administered_on",
            "a second assessment of the same participant with the same instrument on the same day "
            "(one a day; it may be in the store already)", count - 1,
        )
