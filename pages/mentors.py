"""Mentors: caseload and engagement per mentor, for supervisors."""

import streamlit as st

from ui import components as ui
from ui import downloads, panel
from ui.setup import page_setup, page_title

ctx = page_setup("mentors")
page_title(ctx, "Mentors", "Mentors with pairs in scope (pseudonymous IDs)")

caseloads = ctx.metric("mentor_caseloads")
# The caseloads table below is the chart's data (with its own downloads): no expander.
panel.show(ctx, "mentor_caseloads")
st.subheader("Caseloads")
shown = caseloads.assign(sessions=caseloads["attended"] + caseloads["no_show"])
labels = {
    "mentor_id": "Mentor", "site": "Site", "supervisor": "Supervisor", "pairs_in_scope": "Pairs in scope",
    "caseload_at_end": "Caseload at end", "matched_in_period": "Matched", "disengaged_in_period": "Disengaged",
    "attended": "Attended", "no_show": "No-shows", "attendance_rate": "Attendance rate",
    "contact_hours": "Contact hours", "sessions": "Sessions (attended + no-show)",
}
ui.table(
    ui.flag_small(shown, "sessions", ctx.k, label="Few sessions").rename(columns=labels),
    percent=["Attendance rate"],
    decimals={"Contact hours": 1},
)
downloads.table_menu(ctx, caseloads, name="mentor_caseloads", key="mentors__table_dl")
