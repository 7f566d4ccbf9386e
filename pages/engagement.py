"""Engagement: sessions attended, missed and cancelled, and how often pairs meet."""

import streamlit as st

from analytics.domain import numbers
from ui import components as ui
from ui import downloads, panel
from ui.setup import page_setup, page_title

ctx = page_setup("engagement")
page_title(ctx, "Engagement", "Sessions of pairs in scope")

totals = ctx.metric("engagement_totals").iloc[0]
pairs = ctx.metric("pair_counts").iloc[0]
ui.tiles(
    [
        ui.Tile("Attended", ui.num(totals["attended"])),
        ui.Tile("No-shows", ui.num(totals["no_show"])),
        ui.Tile("Cancelled", ui.num(totals["cancelled"]), help="Cancelled sessions do not count in the rate."),
        ui.Tile("Attendance rate", ui.pct(totals["attendance_rate"]), help="Attended / (attended + no-show).",
                small=numbers.is_small(totals["attended"] + totals["no_show"], ctx.k)),
        ui.Tile("Contact hours", ui.num(totals["contact_hours"], 1)),
        ui.Tile("Pair-days", ui.num(totals["pair_days"]), help="Days each pair in scope was open in the period, summed."),
        ui.Tile("Sessions per pair-month", ui.num(totals["sessions_per_pair_month"], 2),
                small=numbers.is_small(pairs["pairs_in_scope"], ctx.k)),
        ui.Tile("Median days to first session", ui.num(totals["median_days_to_first_session"], 1),
                help=f"Over {ui.num(totals['pairs_with_first_session'])} pairs matched in the period that have met.",
                small=numbers.is_small(totals["pairs_with_first_session"], ctx.k)),
    ],
    k=ctx.k,
)

panel.show(ctx, "engagement_by_month")

st.subheader("Attended sessions by modality")
by_modality = ctx.metric("attended_by_modality")
if by_modality.empty:
    ui.empty("No attended sessions in this period.")
else:
    modality = by_modality.drop(columns="grp").assign(
        share=lambda d: d["attended"] / d["attended"].sum(),
        modality=lambda d: d["modality"].str.replace("_", " ").str.capitalize(),
    )
    modality = ui.flag_small(modality, "attended", ctx.k).rename(
        columns={"modality": "Modality", "attended": "Attended", "share": "Share"}
    )
    ui.table(modality, percent=["Share"], decimals={"Attended": 0})
    downloads.table_menu(ctx, by_modality, name="attended_by_modality", key="engagement__modality_dl")
