"""Compare: groups side by side on any dimension, with tests and effect sizes.

Small groups stay in (merging them would change the comparison silently) and are flagged.
"""

import streamlit as st

from analytics import charts, narrative
from analytics.contract import INSTRUMENTS
from analytics.metrics.scope import DIMENSION_LABELS, DIMENSIONS
from ui import compare_view, data_access
from ui import components as ui
from ui.data_access import figure
from ui.setup import page_setup, page_title

ctx = page_setup("compare")
page_title(ctx, "Compare", "Pairs in scope, grouped")

by = st.selectbox("Compare by", DIMENSIONS, format_func=DIMENSION_LABELS.__getitem__, key="compare__by")
result = data_access.compare(ctx.stamp, ctx.scope, by, ctx.k, ctx.access)
groups = compare_view.with_sessions(result["groups"])
small, label = result["small_groups"], result["label"]
common = {"label": "grp", "dimension": by, "k": ctx.k}
forest = {"k": ctx.k, "small_groups": small}

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
st.subheader("Tests across groups")
ui.table(compare_view.tests_table(result))

# Lazy tabs: only the open section's charts are built and drawn.
retention_tab, attendance_tab, outcomes_tab = st.tabs(
    ["Retention", "Attendance", "Outcomes"], key="compare__section", on_change="rerun"
)
if retention_tab.open:
    with retention_tab:
        rt = result["retention_test"] or {}
        ui.chart(
            figure(charts.km_chart, result["curve"], **forest),
            narrative.compare_sentence(
                groups, metric="the share still meeting at 90 days", estimate="km_90", n="pairs", percent=True,
                p_value=rt.get("p_value"), test="log-rank test", **common,
            ),
            None,
            key="compare__km",
        )
        ui.chart(
            figure(
                charts.forest_plot, groups, estimate="hr", low="hr_lower", high="hr_upper", n="pairs",
                null_value=1.0, log_x=True, x_title="Hazard of disengaging vs all other groups", **forest,
            ),
            None,
            groups[["grp", "pairs", "events", "hr", "hr_lower", "hr_upper"]],
            key="compare__hr",
        )
if attendance_tab.open:
    with attendance_tab:
        at = result["attendance_test"] or {}
        pooled = groups["attended"].sum() / max(1, groups["sessions"].sum())
        ui.chart(
            figure(
                charts.forest_plot, groups, estimate="attendance_rate", low="attendance_low",
                high="attendance_high", n="sessions", null_value=float(pooled), percent=True,
                x_title="Attendance rate", **forest,
            ),
            narrative.compare_sentence(
                groups, metric="attendance rate", estimate="attendance_rate", n="sessions", percent=True,
                p_value=at.get("p_value"), test="chi-square test", **common,
            ),
            groups[["grp", "attended", "no_show", "attendance_rate", "attendance_low", "attendance_high"]],
            key="compare__attendance",
        )
if outcomes_tab.open:
    with outcomes_tab:
        for code in INSTRUMENTS:
            cols = ["grp", f"{code}_n_paired", f"{code}_mean_change", f"{code}_ci95_low", f"{code}_ci95_high"]
            test = result["outcome_tests"][code]
            ui.chart(
                figure(
                    charts.forest_plot, groups, estimate=cols[2], low=cols[3], high=cols[4], n=cols[1],
                    null_value=0.0, x_title=f"{code} mean change", **forest,
                ),
                narrative.compare_sentence(
                    groups, metric=f"the mean {code} change", estimate=cols[2], n=cols[1], unit=" points",
                    p_value=test.get("p_value"), test=compare_view.TEST_NAMES.get(test.get("test")), **common,
                ),
                groups[cols],
                key=f"compare__change_{code}",
            )
