"""Retention: how long pairs keep meeting, by match cohort, and why pairs close."""

import streamlit as st

from analytics.metrics.retention import at_risk_table
from analytics.present import charts
from analytics.present import sentences as narrative
from analytics.privacy.frames import km_chart_frames
from ui import components as ui
from ui import downloads
from ui.data_access import figure
from ui.setup import page_setup, page_title

ctx = page_setup("retention")
page_title(ctx, "Retention", "Pairs matched in the period, followed to the as-of date")

summary = ctx.metric("retention_summary")
row = summary.iloc[0] if not summary.empty else None
small = row is not None and ui.is_small(row["pairs"], ctx.k)
ui.tiles(
    [
        ui.Tile("Pairs matched", ui.num(row["pairs"] if row is not None else 0), small=small),
        ui.Tile("Still meeting at 30 days", ui.pct(row["km_30"] if row is not None else None), small=small),
        ui.Tile("Still meeting at 90 days", ui.pct(row["km_90"] if row is not None else None), small=small),
        ui.Tile("Still meeting at 180 days", ui.pct(row["km_180"] if row is not None else None), small=small),
    ],
    k=ctx.k,
)

curve = ctx.metric("retention_curve")
# Suppressed screens (grant writers) show the numbers at risk at the chart's tick days, not the
# day-level curve: its day-to-day steps would give back closures of 1-10.
curve_data = km_chart_frames(curve, ctx.k)[1] if ctx.access.suppress_on_screen else curve
downloads.chart_with_downloads(
    ctx, figure(charts.km_chart, curve, at_risk_table(curve), k=ctx.k),
    narrative.retention_sentence(summary, start=ctx.scope.start, end=ctx.scope.end, k=ctx.k, curve=curve),
    curve_data, key="retention__km", name="retention_km",
    # no file: the day-level curve is not offered as a table (downloads.NOT_AS_TABLE says why)
    data_name="retention_curve",
    image=lambda: charts.km_chart(*km_chart_frames(ctx.metric("retention_curve"), ctx.k), k=ctx.k),
)

st.subheader("Meeting regularly, by match month")
triangle = ctx.metric("cohort_triangle")
downloads.metric_chart(
    ctx, triangle, "cohort_triangle", charts.cohort_heatmap, narrative.cohort_sentence(triangle, k=ctx.k),
    key="retention__cohorts", screen={"cell_text": None},  # screens drop the labels of large grids
)

st.subheader("Why pairs closed")
closures = ctx.metric("closure_reasons")
downloads.metric_chart(
    ctx, closures, "closure_reasons", charts.closure_reasons_chart,
    narrative.closure_sentence(closures, start=ctx.scope.start, end=ctx.scope.end, k=ctx.k),
    key="retention__closures",
)
