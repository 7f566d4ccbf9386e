"""Data: load the program's exports, see past loads and data-quality findings."""

import pandas as pd
import streamlit as st

from analytics.domain import instruments as registry
from ui import components as ui
from ui import data_access, downloads, mapping_step, panel, uploads
from ui.setup import page_setup, page_title

ctx = page_setup("data")
page_title(ctx, "Data", "Loads and data quality")
state = st.session_state

access = ctx.access

st.subheader("Load exports")
if not access.can_load:
    st.caption("Loading is done by the dashboard's admins; below are the loads so far and the data's quality.")
elif ctx.info["is_demo"]:
    st.info(
        "This store holds the synthetic demo. To load your program's exports, start the app with "
        "OUTCOMES_DB set to a new file, then load them here.",
        icon=":material/science:",
    )
if (done := state.pop("data__loaded", None)) is not None:
    st.success(ui.plain(done), icon=":material/check_circle:")
if (failed := state.pop("data__audit_failed", None)) is not None:
    st.error(ui.plain(failed), icon=":material/policy:")
key = None
if access.can_load:
    try:
        key = uploads.pseudonym_key()
    except uploads.MissingKey as exc:
        st.warning(ui.plain(f"Loading is switched off: no pseudonym key is set. To load, {exc}"), icon=":material/key:")

files = None
if access.can_load:
    files = st.file_uploader(
        "CSV files named after their tables (participants.csv, sessions.csv, …) or one .xlsx workbook with a "
        "sheet per table",
        type=["csv", "tsv", "txt", "xlsx"],
        accept_multiple_files=True,
        key=f"data__files_{state.get('data__round', 0)}",
        disabled=key is None,
    )

# A store that cannot be read: a load builds a fresh one (ui.setup has said why once).
damaged = ctx.damaged or bool(state.get("data__damaged"))
if damaged and access.can_load:
    st.info("Loading the program's exports here builds a new store from them; the damaged file is kept "
            "beside it (its name ending in .damaged) for whoever looks into what happened.",
            icon=":material/restore_page:")

selection = tuple((f.file_id, f.name, f.size) for f in files or ())
if state.get("data__selection") != selection:
    # A new choice of files: check it (a dry run) once, keep the result until it changes.
    uploads.discard(state.pop("data__staged", None))
    mapping_step.reset()
    state.pop("data__check", None)
    state["data__selection"] = selection
    if files and key is not None:
        with st.spinner("Checking the files…"):
            try:
                staged = uploads.stage(files)
                state["data__check"] = ("ok", uploads.check(staged, key, access, replace_damaged=damaged))
                state["data__staged"] = staged
            except uploads.LOAD_FAILURES as exc:
                if isinstance(exc, uploads.StoreDamaged):
                    state["data__damaged"] = True  # found by the load's reading: offer a fresh store
                    state["data__check"] = ("error", str(exc))
                # Not the contract's shape: the profile kept from the last mapped load, else a mapping step.
                elif (saved := mapping_step.try_saved(files, key, access)) is not None:
                    state["data__staged"], report = saved
                    state["data__check"] = ("ok", report)
                else:
                    state["data__check"] = ("error", str(exc))
                    mapping_step.start(files)

outcome, found = state.get("data__check", (None, None))
if outcome == "error":
    st.error(ui.plain(f"These files cannot be loaded as they are: {found}"), icon=":material/error:")
    mapping_step.show(key, access)
elif outcome == "ok":
    st.markdown("**Check passed.** Nothing has been written yet; this is what the load would do:")
    st.code(found.text(), language=None, wrap_lines=True)
    if (profile := state["data__staged"].profile) is not None:
        st.caption(ui.plain(f"Read in the export's own shape with the mapping profile {profile.name}."))
        mapping_step.download(profile)
    if found.already_loaded_on:
        st.info(ui.plain(f"These files were already loaded on {found.already_loaded_on}: nothing would change."))
    if st.button("Confirm and load", key="data__confirm", type="primary", disabled=not found.changed):
        with st.spinner("Loading: open pages keep showing the previous data until it is done…"):
            try:
                report = uploads.commit(state["data__staged"], key, access, replace_damaged=damaged)
            except uploads.LOAD_FAILURES as exc:
                if isinstance(exc, uploads.StoreDamaged):
                    state["data__damaged"] = True
                    state["data__selection"] = None  # check the same files again, for a fresh store
                st.error(ui.plain(f"The load failed and the store is unchanged: {exc}"), icon=":material/error:")
                st.stop()
            except uploads.AuditNotWritten as exc:
                report = exc.report
                state["data__audit_failed"] = f"The load is done, but {exc}."
        kept = mapping_step.keep(state["data__staged"].profile)
        uploads.discard(state.pop("data__staged", None))
        state.pop("data__check", None)
        state.pop("data__damaged", None)
        state["data__selection"] = ()
        state["data__round"] = state.get("data__round", 0) + 1  # a fresh, empty uploader
        rows = sum(t.inserted + t.updated for t in report.tables)
        state["data__loaded"] = (f"Loaded: {rows:,} rows inserted or updated. Every page now shows the new data."
                                 + (f" {kept}" if kept else ""))
        st.rerun()

if ctx.damaged:
    st.stop()  # nothing below can be read from a damaged store

st.subheader("Load history")
history = data_access.load_history(ctx.stamp, access)
if history.empty:
    ui.empty("No loads yet.")
else:
    latest = history.iloc[0]
    st.caption(
        ui.plain(f"{len(history)} load{'s' if len(history) != 1 else ''} so far; the latest, "
                 f"load {latest['load_id']}, on {latest['loaded_at']:%d %b %Y %H:%M} by {latest['loaded_by']}.")
    )
    ui.table(history.rename(columns=lambda c: c.replace("_", " ").capitalize()))

st.subheader("Store")
info = ctx.info
ui.table(pd.DataFrame({"Table": list(info["rows"]), "Rows": list(info["rows"].values())}), decimals={"Rows": 0})

if ctx.scope is not None:
    st.subheader("Instrument registry in force")
    in_force = ctx.metric("instrument_registry")
    program_file = registry.in_force_file_name()
    st.caption(ui.plain(
        "The definitions the latest load used, kept in the store: every outcome is computed from these. "
        "Loads from this app use the built-in registry"
        + (f" with {program_file} (OUTCOMES_INSTRUMENTS) laid over it." if program_file else
           "; set OUTCOMES_INSTRUMENTS to a program's registry file to add or override instruments.")
        + " Reported: GSE10 and BARC10 always, and every other instrument with at least one assessment."
    ))
    shown = in_force.assign(
        range=[f"{lo:g}-{hi:g}" for lo, hi in zip(in_force["min_score"], in_force["max_score"], strict=True)],
        better=["higher" if h else "lower" for h in in_force["higher_is_better"]],
        reported=["yes" if r else "no" for r in in_force["reported"]],
        # scale points and r as written in the registry; "–" where an entry has none
        reliability=[f"{v:g}" for v in in_force["reliability"]],
        mcid=["–" if pd.isna(v) else f"{v:g}" for v in in_force["mcid"]],
        threshold=["–" if pd.isna(v) else f"{v:g}" for v in in_force["threshold"]],
    )[["code", "name", "construct", "range", "better", "reliability", "mcid", "threshold", "reported", "origin",
       "source"]]
    ui.table(shown.rename(columns={
        "code": "Code", "name": "Name", "construct": "Construct", "range": "Score range", "better": "Better",
        "reliability": "Reliability r", "mcid": "Minimal important change", "threshold": "Cut-off",
        "reported": "Reported", "origin": "Defined in", "source": "Source",
    }))

    st.subheader("Data-quality findings")
    findings = ctx.metric("quality_findings")
    panel.show(ctx, "quality_findings")
    downloads.table_menu(ctx, findings, name="quality_findings", key="data__quality_table_dl")
