"""Outcomes: self-efficacy and recovery capital from intake to follow-up, per instrument."""

import streamlit as st

from analytics.domain.contract import INSTRUMENTS
from ui import components as ui
from ui import panel
from ui.setup import page_setup, page_title

ctx = page_setup("outcomes")
page_title(ctx, "Outcomes", "Participants in scope with an intake and a follow-up at least 28 days later")

change = ctx.metric("outcome_change")

# Lazy tabs: only the open instrument's charts are built and drawn.
tabs = st.tabs([i.name for i in INSTRUMENTS.values()], key="outcomes__instrument", on_change="rerun")
for tab, code in zip(tabs, INSTRUMENTS, strict=True):
    if not tab.open:
        continue
    with tab:
        o = change[change["instrument"] == code].iloc[0]
        small = ui.is_small(o["n_paired"], ctx.k)
        ui.tiles(
            [
                ui.Tile("Paired participants", ui.num(o["n_paired"]), small=small),
                ui.Tile("Intake mean", ui.num(o["baseline_mean"], 1), small=small),
                ui.Tile("Follow-up mean", ui.num(o["followup_mean"], 1), small=small),
                ui.Tile(f"{code} mean change", ui.signed(o["mean_change"], 1) or "–",
                        help=f"95% CI {ui.num(o['ci95_low'], 1)} to {ui.num(o['ci95_high'], 1)}; "
                        f"Cohen's d_z {ui.num(o['cohens_dz'], 2)}.", small=small),
            ],
            k=ctx.k,
        )
        for name in ("intake_followup", "trend", "reliable_change", "change_distribution"):
            panel.show(ctx, name, code=code)
