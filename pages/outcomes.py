"""Outcomes: every instrument reported (the store's registry) from intake to follow-up.

One tab per instrument: GSE10 and BARC10 always, and every other instrument with data. Wording,
axes and colours follow each instrument's direction (a PHQ-9 drop reads as an improvement).
"""

import streamlit as st

from analytics.domain import numbers
from analytics.metrics.instruments import from_frame
from analytics.panels import panels_for
from ui import components as ui
from ui import panel
from ui.setup import page_setup, page_title

ctx = page_setup("outcomes")
page_title(ctx, "Outcomes", "Participants in scope with an intake and a follow-up at least 28 days later")

change = ctx.metric("outcome_change")
INSTRUMENTS = from_frame(ctx.metric("instrument_registry"))
WITH_CUT_OFF = set(panels_for(INSTRUMENTS, "threshold"))

# Lazy tabs: only the open instrument's charts are built and drawn.
tabs = st.tabs([i.name for i in INSTRUMENTS.values()], key="outcomes__instrument", on_change="rerun")
for tab, code in zip(tabs, INSTRUMENTS, strict=True):
    if not tab.open:
        continue
    with tab:
        inst = INSTRUMENTS[code]
        o = change[change["instrument"] == code].iloc[0]
        small = numbers.is_small(o["n_paired"], ctx.k)
        ui.say(f"{inst.name} ({code}): {inst.construct}, scores {inst.min_score:g}-{inst.max_score:g}, "
               f"{inst.better} is better.")
        ui.tiles(
            [
                ui.Tile("Paired participants", ui.num(o["n_paired"]), small=small),
                ui.Tile("Intake mean", ui.num(o["baseline_mean"], 1), small=small),
                ui.Tile("Follow-up mean", ui.num(o["followup_mean"], 1), small=small),
                ui.Tile(f"{code} mean change", ui.signed(o["mean_change"], 1) or "–",
                        help=f"95% CI {ui.num(o['ci95_low'], 1)} to {ui.num(o['ci95_high'], 1)}; "
                        f"Cohen's d_z {ui.num(o['cohens_dz'], 2)}; {inst.better} scores are better.", small=small),
            ],
            k=ctx.k,
        )
        more = []
        if inst.mcid is not None:
            more += [
                ui.Tile("Meaningful improvement", ui.pct(o["meaningful_improvement_rate"]),
                        help=f"Share who changed by at least {inst.mcid:g} points in the better direction "
                        f"({inst.better} is better; the minimal important change in the registry).", small=small),
                ui.Tile("Meaningful decline", ui.pct(o["meaningful_decline_rate"]),
                        help=f"Share who changed by at least {inst.mcid:g} points in the worse direction.",
                        small=small),
            ]
        if inst.threshold is not None:
            more += [
                ui.Tile(f"At cut-off, intake ({inst.threshold_text()})", ui.pct(o["threshold_baseline_share"]),
                        help="Share of paired participants whose intake score meets the published cut-off.",
                        small=small),
                ui.Tile(f"At cut-off, follow-up ({inst.threshold_text()})", ui.pct(o["threshold_followup_share"]),
                        help="Share of paired participants whose latest follow-up meets the published cut-off.",
                        small=small),
            ]
        if more:
            ui.tiles(more, k=ctx.k)
        for name in ("intake_followup", "trend", "reliable_change", "change_distribution"):
            panel.show(ctx, name, code=code)
        if code in WITH_CUT_OFF:
            panel.show(ctx, "threshold", code=code)
        panel.show(ctx, "dose_change", code=code)
