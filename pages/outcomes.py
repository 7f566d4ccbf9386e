"""Outcomes: self-efficacy and recovery capital from intake to follow-up, per instrument."""

import streamlit as st

from analytics.domain.contract import INSTRUMENTS
from analytics.present import charts
from analytics.present import sentences as narrative
from analytics.privacy import frames
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


def reliable_threshold(frame, code: str) -> float | None:
    """The reliable-change size in points (1.96 x s_diff) of an instrument, or None when its
    s_diff is undefined or (in a suppressed frame) hidden."""
    s_diff = frame.loc[frame["instrument"] == code, "s_diff"].iloc[0]
    return None if isinstance(s_diff, str) or ui.is_missing(s_diff) else 1.96 * float(s_diff)


def exported_distribution(code: str):
    # the threshold line shows s_diff, which rests on the paired participants: from the suppressed table
    shown = frames.suppressed_table(ctx.metric("outcome_change"), "outcome_change", ctx.k)
    return charts.change_distribution_chart(
        downloads.framed(ctx, "change_distribution"), code, k=ctx.k, threshold=reliable_threshold(shown, code)
    )


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
        site_rows = by_site[by_site["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts.intake_followup_chart, site_rows, code, k=ctx.k),
            narrative.outcome_sentence(code, o, k=ctx.k), site_rows, key=f"outcomes__dumbbell_{code}",
            name=f"intake_followup_{code}", data_name=f"outcome_change_{code}_by_site", spec="outcome_change",
            image=lambda code=code: charts.intake_followup_chart(
                downloads.framed(ctx, "outcome_change", ctx.scope.grouped("site")), code, k=ctx.k
            ),
        )
        trend_rows = trend[trend["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts.trend_chart, trend_rows, code, k=ctx.k),
            narrative.trend_sentence(code, trend_rows, k=ctx.k), trend_rows, key=f"outcomes__trend_{code}",
            name=f"trend_{code}", data_name=f"outcome_trend_{code}", spec="outcome_trend",
            image=lambda code=code: charts.trend_chart(downloads.framed(ctx, "outcome_trend"), code, k=ctx.k),
        )
        own = change[change["instrument"] == code]
        downloads.chart_with_downloads(
            ctx, figure(charts.reliable_change_chart, own, k=ctx.k),
            narrative.reliable_change_sentence(code, o, k=ctx.k), own, key=f"outcomes__reliable_{code}",
            name=f"reliable_change_{code}", data_name=f"outcome_change_{code}", spec="outcome_change",
            image=lambda code=code: charts.reliable_change_chart(
                (lambda f: f[f["instrument"] == code])(downloads.framed(ctx, "outcome_change")), k=ctx.k
            ),
        )
        dist_rows = distribution[distribution["instrument"] == code]
        threshold = reliable_threshold(change, code)
        downloads.chart_with_downloads(
            ctx, figure(charts.change_distribution_chart, dist_rows, code, k=ctx.k, threshold=threshold),
            None, dist_rows, key=f"outcomes__distribution_{code}",
            name=f"change_distribution_{code}", spec="change_distribution",
            image=lambda code=code: exported_distribution(code),
        )
