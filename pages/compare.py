"""Compare: groups side by side on any dimension, with tests and effect sizes.

Small groups stay in (merging them would change the comparison silently) and are flagged.
"""

import streamlit as st

from analytics.domain.scope import DIMENSION_LABELS, DIMENSIONS
from analytics.metrics.compare import with_sessions
from ui import compare_view, data_access, downloads
from ui import components as ui
from ui.panel import show
from ui.setup import page_setup, page_title

ctx = page_setup("compare")
page_title(ctx, "Compare", "Pairs in scope, grouped")

by = st.selectbox("Compare by", DIMENSIONS, format_func=DIMENSION_LABELS.__getitem__, key="compare__by")
result = data_access.compare(ctx.stamp, ctx.scope, by, ctx.k, ctx.access)
groups = with_sessions(result["groups"])
small, label = result["small_groups"], result["label"]

if len(groups) < 2:
    ui.empty(f"Only one {label.lower()} has pairs in scope: there is nothing to compare.")
if small:
    st.warning(
        ui.plain(f"Fewer than {ctx.k} pairs in: {', '.join(map(str, small))}. These groups are shown and "
                 "tested, marked ⚠; read their numbers with care."),
        icon=ui.SMALL_ICON,
    )

st.subheader(f"By {label.lower()}")
compare_view.side_by_side(groups, label, ctx.k)
downloads.table_menu(ctx, groups, name=f"compare_groups_by_{by}", spec="compare_groups", key="compare__groups_dl",
                     title=f"Groups compared by {label.lower()}")
st.subheader("Tests across groups")
# No download: the tests include the small groups, and their statistics give back counts the
# groups' file hides (an ANOVA's df is the paired total minus the groups; n = chi-square / V²).
ui.table(compare_view.tests_table(result))

# Lazy tabs: only the open section's charts are built and drawn.
retention_tab, attendance_tab, outcomes_tab = st.tabs(
    ["Retention", "Attendance", "Outcomes"], key="compare__section", on_change="rerun"
)
if retention_tab.open:
    with retention_tab:
        show(ctx, "compare_km", by=by)
        show(ctx, "compare_hazard_ratios", by=by)
if attendance_tab.open:
    with attendance_tab:
        show(ctx, "compare_attendance", by=by)
if outcomes_tab.open:
    with outcomes_tab:
        for code in result["instruments"]:
            show(ctx, "compare_change", code=code, by=by)
