"""Outcomes: every instrument reported (the store's registry) from intake to follow-up.

One tab per instrument: GSE10 and BARC10 always, and every other instrument with data. Wording,
axes and colours follow each instrument's direction (a PHQ-9 drop reads as an improvement).
"""

import streamlit as st

from analytics import charts, charts_instruments, narrative
from analytics.exports import tables
from analytics.metrics.instruments import from_frame
from ui import components as ui
from ui import downloads
from ui.data_access import figure
from ui.setup import page_setup, page_title

ctx = page_setup("outcomes")
page_title(ctx, "Outcomes", "Participants in scope with an intake and a follow-up at least 28 days later")

change = ctx.metric("outcome_change")
by_site = ctx.metric("outcome_change", ctx.scope.grouped("site"))
trend = ctx.metric("outcome_trend")
distribution = ctx.metric("change_distribution")
dose = ctx.metric("dose_change")
INSTRUMENTS = from_frame(ctx.metric("instrument_registry"))


def reliable_threshold(frame, code: str) -> float | None:
    """The reliable-change size in points (1.96 x s_diff) of an instrument, or None when its
    s_diff is undefined or (in a suppressed frame) hidden."""
    s_diff = frame.loc[frame["instrument"] == code, "s_diff"].iloc[0]
    return None if isinstance(s_diff, str) or ui.is_missing(s_diff) else 1.96 * float(s_diff)


def exported_distribution(code: str):
    # the threshold line shows s_diff, which rests on the paired participants: from the suppressed table
    shown = tables.suppressed_table(ctx.metric("outcome_change"), "outcome_change", ctx.k)
    return charts.change_distribution_chart(
        downloads.framed(ctx, "change_distribution"), code, k=ctx.k, threshold=reliable_threshold(shown, code),
        inst=INSTRUMENTS[code],
    )


# Lazy tabs: only the open instrument's charts are built and drawn.
tabs = st.tabs([i.name for i in INSTRUMENTS.values()], key="outcomes__instrument", on_change="rerun")
for tab, code in zip(tabs, INSTRUMENTS, strict=True):
    if not tab.open:
        continue
    with tab:
        inst = INSTRUMENTS[code]
        o = change[change["instrument"] == code].iloc[0]
        small = ui.is_small(o["n_paired"], ctx.k)
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
        site_rows = by_site[by_site["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts.intake_followup_chart, site_rows, code, k=ctx.k, inst=inst),
            narrative.outcome_sentence(code, o, k=ctx.k, inst=inst), site_rows, key=f"outcomes__dumbbell_{code}",
            name=f"intake_followup_{code}", data_name=f"outcome_change_{code}_by_site", spec="outcome_change",
            image=lambda code=code, inst=inst: charts.intake_followup_chart(
                downloads.framed(ctx, "outcome_change", ctx.scope.grouped("site")), code, k=ctx.k, inst=inst
            ),
        )
        trend_rows = trend[trend["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts.trend_chart, trend_rows, code, k=ctx.k, inst=inst),
            narrative.trend_sentence(code, trend_rows, k=ctx.k, inst=inst), trend_rows, key=f"outcomes__trend_{code}",
            name=f"trend_{code}", data_name=f"outcome_trend_{code}", spec="outcome_trend",
            image=lambda code=code, inst=inst: charts.trend_chart(
                downloads.framed(ctx, "outcome_trend"), code, k=ctx.k, inst=inst
            ),
        )
        own = change[change["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts.reliable_change_chart, own, k=ctx.k, instruments=INSTRUMENTS),
            narrative.reliable_change_sentence(code, o, k=ctx.k, inst=inst), own, key=f"outcomes__reliable_{code}",
            name=f"reliable_change_{code}", data_name=f"outcome_change_{code}", spec="outcome_change",
            image=lambda code=code: charts.reliable_change_chart(
                (lambda f: f[f["instrument"] == code])(downloads.framed(ctx, "outcome_change")), k=ctx.k,
                instruments=INSTRUMENTS,
            ),
        )
        dist_rows = distribution[distribution["instrument"] == code]
        threshold = reliable_threshold(change, code)
        downloads.chart_with_downloads(
            ctx, figure(charts.change_distribution_chart, dist_rows, code, k=ctx.k, threshold=threshold, inst=inst),
            None, dist_rows, key=f"outcomes__distribution_{code}",
            name=f"change_distribution_{code}", spec="change_distribution",
            image=lambda code=code: exported_distribution(code),
        )
        if inst.threshold is not None:
            downloads.chart_with_downloads(
                ctx, figure(charts_instruments.threshold_chart, own, code, k=ctx.k, inst=inst),
                narrative.threshold_sentence(code, o, k=ctx.k, inst=inst), own, key=f"outcomes__threshold_{code}",
                name=f"threshold_{code}", data_name=f"outcome_change_{code}", spec="outcome_change",
                image=lambda code=code, inst=inst: charts_instruments.threshold_chart(
                    downloads.framed(ctx, "outcome_change"), code, k=ctx.k, inst=inst
                ),
            )
        dose_rows = dose[dose["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts_instruments.dose_change_chart, dose_rows, code, k=ctx.k, inst=inst),
            narrative.dose_sentence(code, dose_rows, k=ctx.k, inst=inst), dose_rows, key=f"outcomes__dose_{code}",
            name=f"dose_change_{code}", data_name=f"dose_change_{code}", spec="dose_change",
            image=lambda code=code, inst=inst: charts_instruments.dose_change_chart(
                downloads.framed(ctx, "dose_change"), code, k=ctx.k, inst=inst
            ),
        )
