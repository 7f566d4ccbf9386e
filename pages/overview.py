"""Overview: headline numbers for the period, with the change against the previous period."""

import streamlit as st

from analytics.domain import numbers
from ui import components as ui
from ui import panel
from ui.setup import page_setup, page_title

ctx = page_setup("overview")
page_title(ctx, "Overview", "Headline numbers")

now = ctx.metric("headline")
previous_scope = ctx.scope.shifted_back()
before = ctx.metric("headline", previous_scope)
# The first period of a program has nothing before it: no change is shown rather than "+all".
# (None: a suppressed count on a grant writer's screen, which hides a number above zero.)
compare = before["pairs"]["in_scope"] is None or before["pairs"]["in_scope"] > 0


def total(*values) -> float | None:
    """A sum that is unknown when one of its parts is hidden."""
    return None if any(ui.is_missing(v) for v in values) else sum(values)


def delta(section: str, key: str, digits: int = 1, *, share: bool = False) -> str | None:
    """The change against the previous period: a share's in percentage points."""
    if not compare or ui.is_missing(now[section][key]) or ui.is_missing(before[section][key]):
        return None
    change = now[section][key] - before[section][key]
    return ui.points(change) if share else ui.signed(change, digits)


def outcome_tile(code: str) -> ui.Tile:
    o, b = now["outcomes"][code], before["outcomes"][code]
    change = None
    if compare and not ui.is_missing(o["mean_change"]) and not ui.is_missing(b["mean_change"]):
        change = ui.signed(o["mean_change"] - b["mean_change"], 1)
    return ui.Tile(
        f"{code} mean change",
        ui.signed(o["mean_change"], 1) or "–",
        change,
        help=f"Follow-up minus intake score over {ui.num(o['n_paired'])} paired participants.",
        small=numbers.is_small(o["n_paired"], ctx.k),
    )


e, r, g = now["engagement"], now["retention"], now["goals"]
ui.tiles(
    [
        ui.Tile("Pairs in scope", ui.num(now["pairs"]["in_scope"]), delta("pairs", "in_scope", digits=0),
                small=numbers.is_small(now["pairs"]["in_scope"], ctx.k)),
        ui.Tile("Participants", ui.num(now["participants"]["in_scope"]), delta("participants", "in_scope", digits=0),
                small=numbers.is_small(now["participants"]["in_scope"], ctx.k)),
        ui.Tile("Attendance rate", ui.pct(e["attendance_rate"]), delta("engagement", "attendance_rate", share=True),
                help=f"Attended / (attended + no-show): {ui.num(e['attended'])} of "
                f"{ui.num(total(e['attended'], e['no_show']))} sessions.",
                small=numbers.is_small(total(e["attended"], e["no_show"]), ctx.k)),
        ui.Tile("Sessions per pair-month", ui.num(e["sessions_per_pair_month"], 2),
                delta("engagement", "sessions_per_pair_month", digits=2),
                help="Attended sessions per 30.4 days of pairs being open in the period.",
                small=numbers.is_small(now["pairs"]["in_scope"], ctx.k)),
        ui.Tile("Still meeting at 90 days", ui.pct(r["km_90"]), delta("retention", "km_90", share=True),
                help=f"Kaplan-Meier estimate over {ui.num(r['pairs'])} pairs matched in the period.",
                small=numbers.is_small(r["pairs"], ctx.k)),
        outcome_tile("GSE10"),
        outcome_tile("BARC10"),
        ui.Tile("Goals achieved", ui.pct(g["achievement_rate"]), delta("goals", "achievement_rate", share=True),
                help=f"{ui.num(g['achieved'])} of {ui.num(g['set'])} goals set in the period.",
                small=numbers.is_small(g["set"], ctx.k)),
    ],
    k=ctx.k,
)
if compare:
    st.caption(
        f"Changes compare with {previous_scope.start:%d %b %Y} to {previous_scope.end:%d %b %Y}, "
        "the period of the same length just before."
    )
else:
    st.caption("No change is shown: no pair was open in the period of the same length before this one.")

panel.show(ctx, "engagement_by_month")
