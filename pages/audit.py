"""Audit: who signed in, loaded and exported what, and the store's own load history (admins)."""

import streamlit as st

from analytics.store import audit
from ui import components as ui
from ui import data_access
from ui.setup import page_setup

ctx = page_setup("audit")
st.title("Audit")
st.caption(ui.plain(f"Sign-ins, worklist views, loads and exports, newest first, from {audit.log_path()}. "
                    "The trail holds who, when and what (page, file kind, filters, hashes, row counts), "
                    "never a data value."))

SHOWN = 2000  # the newest records; the file itself keeps everything
ACTIONS = {"all": "All actions", "sign_in": "Sign-ins", "sign_out": "Sign-outs", "denied": "Refused access",
           "view": "Worklist views", "load": "Loads", "export": "Exports", "relink": "Relinks"}
action = st.segmented_control("Action", list(ACTIONS), format_func=ACTIONS.__getitem__, default="all",
                              key="audit__action", required=True)
records = audit.entries(action=None if action in (None, "all") else action, limit=SHOWN)
if not records:
    ui.empty("Nothing of this kind has been recorded yet.")
else:
    if len(records) == SHOWN:
        st.caption(f"The newest {SHOWN:,} records.")
    ui.table(audit.as_frame(records))

st.subheader("Load history in the store")
history = data_access.load_history(ctx.stamp, ctx.access)
if history.empty:
    ui.empty("No loads yet.")
else:
    ui.table(history.rename(columns=lambda c: c.replace("_", " ").capitalize()))
