"""The Data page's mapping step: an upload in another system's shape, mapped once and reused.

When an upload is refused as it is (file or sheet names that name no table, unknown headers,
other spellings), the files are first tried with the profile kept beside the store by the last
mapped load, so next month's export in the same shape maps itself. Otherwise the step shows,
for each file or sheet, its table and header row, each header beside a choice of contract
column (or "drop"), each distinct value of a codebook column beside a choice of codebook value,
and each date column's format, all pre-filled from analytics.load.suggest's draft. "Check with
this mapping" writes the profile and runs the ordinary dry run; the page then shows its
validation report, offers the profile as a download, and keeps it beside the store once loaded.

Only headers and the labels of codebook columns are shown (analytics.load.mapping
.distinct_labels refuses columns with many values or identifier-looking ones), never other
cell values. Needs a role that may load: the page shows the step only then.
"""

from __future__ import annotations

import uuid

import streamlit as st

from analytics.domain import contract
from analytics.load import LoadError, suggest
from analytics.load import mapping as mp
from ui import components as ui
from ui import uploads

STATE = "data__mapping"
SAVED_MISFIT = "data__mapping_saved_misfit"
DROP = "drop (never stored)"
AS_IS = "as it is (YYYY-MM-DD)"


def _grid_of(staged: uploads.Staged, item, sheet, header_row: int | None) -> mp.Grid:
    return mp.read_grid(item, sheet, staged.folder, header_row=header_row)


def start(files) -> None:
    """Save the refused upload and draft its mapping (nothing shown yet)."""
    old = st.session_state.pop(STATE, None)
    if old and "staged" in old:
        uploads.discard(old["staged"])
    staged = uploads.save(files)
    try:
        drafts = suggest.draft(staged.items, staged.folder)
    except LoadError as exc:
        uploads.discard(staged)
        st.session_state[STATE] = {"error": str(exc)}
        return
    st.session_state[STATE] = {"staged": staged, "drafts": drafts, "round": uuid.uuid4().hex[:8]}


def reset() -> None:
    """Forget the step (a new choice of files), removing its saved upload."""
    st.session_state.pop(SAVED_MISFIT, None)
    old = st.session_state.pop(STATE, None)
    if old and "staged" in old:
        uploads.discard(old["staged"])


def try_saved(files, key: bytes, access) -> tuple[uploads.Staged, object] | None:
    """The upload mapped with the profile kept beside the store, when that passes the check."""
    profile = mp.saved_profile()
    if profile is None:
        return None
    staged = uploads.save(files)
    try:
        staged.sources = mp.mapped_sources(staged.items, profile, staged.folder)
        staged.profile = profile
        return staged, uploads.check(staged, key, access)
    except uploads.LOAD_FAILURES as exc:
        uploads.discard(staged)
        st.session_state[SAVED_MISFIT] = f"The mapping profile kept beside the store does not fit these files: {exc}"
        return None


def _index(options: list[str], value: str | None) -> int | None:
    return options.index(value) if value in options else None


def _source_choices(i: int, sd: suggest.SourceDraft, staged: uploads.Staged, prefix: str) -> mp.TableMapping | None:
    st.markdown(f"**{ui.plain(sd.label)}**")
    left, right = st.columns(2)
    table = left.selectbox(
        "Table it feeds", contract.TABLE_ORDER, index=_index(contract.TABLE_ORDER, sd.table),
        key=f"{prefix}{i}_table", placeholder="choose a table",
    )
    header_row = int(right.number_input(
        "Row holding the headers (rows above are skipped)", min_value=1, max_value=1000, value=sd.header_row,
        key=f"{prefix}{i}_row",
    ))
    if table is None:
        st.caption("Choose the table this file feeds to map its columns.")
        return None
    if table != sd.table or header_row != sd.header_row:
        try:
            sd = suggest.draft_grid(sd.item, sd.sheet, sd.grid or _grid_of(staged, sd.item, sd.sheet, header_row),
                                    header_row=header_row, table=table)
        except LoadError as exc:
            st.error(ui.plain(str(exc)), icon=":material/error:")
            return None
    t = contract.TABLES[table]
    targets = [DROP] + suggest.targets(table)
    columns: dict[str, str] = {}
    drop: list[str] = []
    values: dict[str, dict[str, str]] = {}
    dates: dict[str, str] = {}
    guessed_values = dict(sd.values)
    guessed_dates = dict(sd.dates)
    st.caption("Each header of the file beside the contract column it feeds, or drop. A header left "
               "unchosen is refused by the check, as any unknown column is.")
    for j, g in enumerate(sd.headers):
        if not g.header:
            continue
        pre = DROP if g.how == suggest.IDENTIFIER else g.column
        a, b = st.columns([2, 3])
        a.markdown(ui.plain(g.header))
        choice = b.selectbox(
            f"Column for {g.header}", targets, index=_index(targets, pre), key=f"{prefix}{i}_{table}_h{j}",
            placeholder="choose a column, or drop", label_visibility="collapsed",
        )
        if choice is None:
            continue
        if choice == DROP:
            drop.append(g.header)
            continue
        columns[choice] = g.header
        col = t.column(choice) if choice in t.column_names else None
        if col is not None and col.kind == contract.CODE:
            labels = guessed_values.get(g.header) if g.column == choice else None
            if labels is None:
                labels = suggest.guess_values(sd.grid, header_row, g.header, col.codebook) if sd.grid else None
            values[choice] = _value_choices(f"{prefix}{i}_{table}_v{j}", g.header, col, labels)
        elif (col is not None and col.kind == contract.DATE) or choice == "dob":
            guess = guessed_dates.get(g.header) if g.column == choice else None
            if guess is None and sd.grid is not None:
                guess = suggest.guess_date(sd.grid, header_row, g.header)
            if guess is None:  # every date is YYYY-MM-DD already
                continue
            options = [AS_IS, *suggest.DATE_FORMATS]
            fmt = st.selectbox(
                f"Date format of {g.header}", options, index=options.index(guess.fmt) if guess and guess.fmt else 0,
                key=f"{prefix}{i}_{table}_d{j}",
            )
            if fmt != AS_IS:
                dates[choice] = fmt
    return mp.TableMapping(
        table, file=None if sd.sheet else mp.base_name(sd.item[1]), sheet=sd.sheet,
        header_row=header_row if header_row != 1 else None, columns=columns,
        values={c: v for c, v in values.items() if v}, dates=dates, drop=tuple(drop),
    )


def _value_choices(prefix: str, header: str, col: contract.Column, labels) -> dict[str, str]:
    codes = list(contract.CODEBOOKS[col.codebook])
    if labels is None:
        st.caption(ui.plain(
            f"The values of {header} are not shown: more than {suggest.MAX_LABELS} distinct values, or values "
            f"unlike codebook labels. Is it really {col.name}?"
        ))
        return {}
    out: dict[str, str] = {}
    with st.container(border=True):
        st.caption(ui.plain(f"How {header} spells the {col.codebook} codebook"))
        for k, v in enumerate(labels):
            a, b = st.columns([2, 3])
            a.markdown(ui.plain(v.value))
            code = b.selectbox(
                f"Codebook value for {v.value}", codes, index=_index(codes, v.code), key=f"{prefix}_{k}",
                placeholder="leave as it is", label_visibility="collapsed",
            )
            if code is not None:
                out[v.value] = code
    return out


def show(key: bytes, access) -> None:
    """The mapping step, when the refused upload has a draft."""
    state = st.session_state
    step = state.get(STATE)
    if not step:
        return
    if "error" in step:
        st.caption(ui.plain(f"No mapping could be drafted: {step['error']}"))
        return
    staged: uploads.Staged = step["staged"]
    st.markdown("#### Map these files onto the data contract")
    if (misfit := state.get(SAVED_MISFIT)) is not None:
        st.caption(ui.plain(misfit))
    st.caption("Once: the mapping is saved beside the store when the load is done, and next month's "
               "upload in the same shape maps itself. Only headers and codebook labels are shown here.")
    prefix = f"map_{step['round']}_"
    mappings = []
    as_is = [sd.label for sd in step["drafts"] if sd.as_is]
    if as_is:
        st.caption(ui.plain(f"Read as they are (already in the contract's shape): {', '.join(as_is)}."))
    for i, sd in enumerate(step["drafts"]):
        if sd.as_is:
            continue
        with st.container(border=True):
            m = _source_choices(i, sd, staged, prefix)
        if m is not None:
            mappings.append(m)
    if not st.button("Check with this mapping", key=f"{prefix}check", type="primary"):
        return
    tables = [m.table for m in mappings]
    twice = sorted({t for t in tables if tables.count(t) > 1})
    if twice:
        st.error(ui.plain(f"Two files feed {', '.join(twice)}: choose one table per file."), icon=":material/error:")
        return
    if not mappings:
        st.error("Choose the table of at least one file.", icon=":material/error:")
        return
    try:
        profile = mp.parse_profile(mp.dump_profile(mappings), mp.saved_path().name)
        staged.sources = mp.mapped_sources(staged.items, profile, staged.folder)
        staged.profile = profile
        report = uploads.check(staged, key, access)
    except uploads.LOAD_FAILURES as exc:
        staged.sources, staged.profile = [], None
        st.error(ui.plain(f"With this mapping the files cannot be loaded yet: {exc}"), icon=":material/error:")
        return
    state.pop(STATE)  # the saved upload now belongs to the checked load
    state["data__staged"] = staged
    state["data__check"] = ("ok", report)
    st.rerun()


def download(profile: mp.Profile) -> None:
    """The profile as a file, for the command line or another store."""
    st.download_button(
        "Download the mapping profile", profile.text.encode("utf-8"), file_name=profile.name,
        mime="application/toml", key="data__profile_download", icon=":material/download:",
    )


def keep(profile: mp.Profile | None) -> str | None:
    """After a load: keep its profile beside the store for the next one; says so, or None."""
    if profile is None:
        return None
    try:
        mp.save_profile(profile)
    except OSError as exc:
        return f"The mapping profile could not be kept beside the store ({type(exc).__name__}); download it instead."
    return "The mapping profile is kept beside the store: next month's upload in this shape maps itself."
