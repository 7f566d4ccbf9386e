"""Compare: groups side by side on any dimension, with tests and effect sizes.

Small groups stay in (merging them would change the comparison silently) and are flagged.
"""

import streamlit as st

from analytics.domain.scope import DIMENSION_LABELS, DIMENSIONS
from analytics.metrics.instruments import from_frame
from analytics.present import charts
from analytics.present import sentences as narrative
from ui import compare_view, data_access, downloads
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
by_group = {**forest, "by": by}  # forest plots name the dimension in their titles
# the columns of the groups behind the hazard-ratio and attendance charts
HR_COLUMNS = ["grp", "pairs", "events", "hr", "hr_lower", "hr_upper"]
ATTENDANCE_COLUMNS = ["grp", "attended", "no_show", "attendance_rate", "attendance_low", "attendance_high"]


def exported(make, *args):
    """An image menu's chart: ``make(result, k, *args)`` draws it from the suppressed groups
    (ui.compare_view), when a format is clicked."""
    return lambda: make(result, ctx.k, *args)


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
        downloads.image_menu(ctx, exported(compare_view.km_export), name=f"compare_km_by_{by}", key="compare__km_dl")
        downloads.chart_with_downloads(
            ctx, figure(charts.forest_plot, groups, **compare_view.HAZARD_RATIOS, **by_group), None,
            groups[HR_COLUMNS], key="compare__hr", name=f"compare_hazard_ratios_by_{by}", spec="compare_groups",
            image=exported(compare_view.forest_export, compare_view.HAZARD_RATIOS),
        )
if attendance_tab.open:
    with attendance_tab:
        at = result["attendance_test"] or {}
        downloads.chart_with_downloads(
            ctx,
            figure(
                charts.forest_plot, groups, **compare_view.ATTENDANCE,
                null_value=compare_view.pooled_attendance(groups), **by_group,
            ),
            narrative.compare_sentence(
                groups, metric="attendance rate", estimate="attendance_rate", n="sessions", percent=True,
                p_value=at.get("p_value"), test="chi-square test", **common,
            ),
            groups[ATTENDANCE_COLUMNS], key="compare__attendance", name=f"compare_attendance_by_{by}",
            spec="compare_groups", image=exported(compare_view.attendance_export),
        )
if outcomes_tab.open:
    with outcomes_tab:
        registry = from_frame(ctx.metric("instrument_registry"))
        for code in result["instruments"]:
            cols = ["grp", f"{code}_n_paired", f"{code}_mean_change", f"{code}_ci95_low", f"{code}_ci95_high"]
            test = result["outcome_tests"][code]
            up = registry[code].higher_is_better if code in registry else True
            downloads.chart_with_downloads(
                ctx,
                figure(charts.forest_plot, groups, **compare_view.mean_change(code, up), **by_group),
                narrative.compare_sentence(
                    groups, metric=f"the mean {code} change" + ("" if up else " (lower is better)"),
                    estimate=cols[2], n=cols[1], unit=" points",
                    p_value=test.get("p_value"), test=compare_view.TEST_NAMES.get(test.get("test")), **common,
                ),
                groups[cols], key=f"compare__change_{code}", name=f"compare_{code}_change_by_{by}",
                spec="compare_groups", image=exported(compare_view.forest_export, compare_view.mean_change(code, up)),
            )
