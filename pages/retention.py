"""Retention: how long pairs keep meeting, by match cohort, and why pairs close."""

import streamlit as st

from analytics.domain import numbers
from ui import components as ui
from ui import panel
from ui.setup import page_setup, page_title

ctx = page_setup("retention")
page_title(ctx, "Retention", "Pairs matched in the period, followed to the as-of date")

summary = ctx.metric("retention_summary")
row = summary.iloc[0] if not summary.empty else None
small = row is not None and numbers.is_small(row["pairs"], ctx.k)
ui.tiles(
    [
        ui.Tile("Pairs matched", ui.num(row["pairs"] if row is not None else 0), small=small),
        ui.Tile("Still meeting at 30 days", ui.pct(row["km_30"] if row is not None else None), small=small),
        ui.Tile("Still meeting at 90 days", ui.pct(row["km_90"] if row is not None else None), small=small),
        ui.Tile("Still meeting at 180 days", ui.pct(row["km_180"] if row is not None else None), small=small),
    ],
    k=ctx.k,
)

# no table file for the curve: the day-level curve is not offered (downloads.NOT_AS_TABLE says why)
panel.show(ctx, "retention_km")

st.subheader("Meeting regularly, by match month")
panel.show(ctx, "cohort_triangle")

st.subheader("Why pairs closed")
panel.show(ctx, "closure_reasons")
