"""Follow-up: the funder's reassessment windows and the follow-up rate against its target.

Cohort: participants in scope enrolled in the period, each with one window from intake (SUPRT:
days 150-210; GPRA: months 5 to 8). The rule and target are chosen at the top of the page.
"""

import streamlit as st

from analytics.domain import numbers
from analytics.metrics.instruments import from_frame
from analytics.panels import followup_settings
from analytics.present import followup_sentences as followup_text
from ui import components as ui
from ui import downloads, panel
from ui.followup_controls import followup_controls
from ui.setup import ROOT, page_setup, page_title

ctx = page_setup("followup")
page_title(ctx, "Follow-up", "Participants in scope enrolled in the period, with their reassessment window")

rule, target = followup_controls("followup")
st.caption(ui.plain(followup_text.rule_text(rule) + "; window edges included."))
settings = {"rule": rule, "target": target}
# the defaults share the cache entries the server warmed (analytics.panels.followup_settings)
params = followup_settings(settings, "followup_counts")
rule_only = followup_settings(settings, "followup_attrition")

counts = ctx.metric("followup_counts", params=params)
by_site = ctx.metric("followup_counts", ctx.scope.grouped("site"), params=params)
attrition = ctx.metric("followup_attrition", params=rule_only)

row = counts.iloc[0] if not counts.empty else None


def value(col):
    return None if row is None else row[col]


due_small = numbers.is_small(value("due"), ctx.k)
rate = value("rate")
gap = None if ui.is_missing(rate) else float(rate) - target
ui.tiles(
    [
        ui.Tile("Follow-up rate", ui.pct(rate), delta=None if gap is None else f"{ui.points(gap)} vs {numbers.percent(target)} target",
                delta_color="normal", small=due_small,
                help="Reassessed inside the window / due (window closed by the as-of date, not excused)."),
        ui.Tile("Due", ui.num(value("due")), small=due_small),
        ui.Tile("Reassessed", ui.num(value("done")), small=numbers.is_small(value("done"), ctx.k)),
        ui.Tile("Missed", ui.num(value("missed")), small=numbers.is_small(value("missed"), ctx.k)),
        ui.Tile("Excused", ui.num(value("excused")), small=numbers.is_small(value("excused"), ctx.k),
                help="Left the program before or during the window without a reassessment (SUPRT only)."),
        ui.Tile("Windows open now", ui.num(value("open_now")), small=numbers.is_small(value("open_now"), ctx.k),
                help="Window open on the as-of date, not yet reassessed."),
        ui.Tile("Opening in the next 30 days", ui.num(value("opening_next_30")),
                small=numbers.is_small(value("opening_next_30"), ctx.k)),
        ui.Tile("Cohort", ui.num(value("cohort")), small=numbers.is_small(value("cohort"), ctx.k),
                help="Participants in scope enrolled in the period."),
    ],
    k=ctx.k,
)
block = {"rule": rule, "target": target, **({} if row is None else {
    c: (None if ui.is_missing(row[c]) else row[c]) for c in ("due", "done", "excused", "rate")})}
if row is None:
    block.update(due=0)
ui.say(followup_text.rate_sentence(block, as_of=ctx.scope.as_of, k=ctx.k))

panel.show(ctx, "followup_by_month", **settings)
panel.show(ctx, "followup_by_site", **settings)
if ctx.access.can_see_mentors:
    panel.show(ctx, "followup_by_mentor", **settings)

st.subheader("Due, reassessed, missed and open windows by site")
labels = {"grp": "Site", "cohort": "Cohort", "due": "Due", "done": "Reassessed", "missed": "Missed",
          "excused": "Excused", "rate": "Follow-up rate", "open_now": "Open now",
          "opening_next_30": "Opening in 30 days"}
ui.table(ui.flag_small(by_site[list(labels)], "due", ctx.k).rename(columns=labels), percent=["Follow-up rate"])
downloads.table_menu(ctx, by_site, name="followup_by_site", spec="followup_counts", key="followup__sites_dl")

if ctx.access.may_open("attention"):
    # who is behind the open and opening windows: the worklist, one row per participant
    st.page_link(str(ROOT / "pages" / "attention.py"), label="Who to reassess: the Needs attention page",
                 icon=":material/notification_important:")

st.subheader("Did those reassessed differ at intake from those missed?")
rows = attrition[attrition["grp"] == "all"] if "grp" in attrition.columns else attrition
registry = from_frame(ctx.metric("instrument_registry"))  # the store's definitions, for names
ui.say(followup_text.attrition_sentence(rows.to_dict("records"), k=ctx.k, registry=registry))
shown = rows.assign(
    instrument=[registry[c].name if c in registry else c for c in rows["instrument"]],
    meaning=[followup_text.smd_meaning(v) for v in rows["smd"]],
)
att_labels = {"instrument": "Instrument", "n_followed": "Reassessed", "baseline_mean_followed": "Mean at intake (reassessed)",
              "n_missed": "Missed", "baseline_mean_missed": "Mean at intake (missed)", "smd": "SMD",
              "meaning": "What it means"}
ui.table(
    ui.flag_small(shown[list(att_labels)], "n_missed", ctx.k).rename(columns=att_labels),
    decimals={"Mean at intake (reassessed)": 1, "Mean at intake (missed)": 1, "SMD": 2},
)
st.caption(ui.plain("Due participants with an intake score of the instrument. SMD: standardized mean difference, "
                    "(mean reassessed - mean missed) / pooled SD; below 0.2 is little difference."))
downloads.table_menu(ctx, attrition, name="followup_attrition", spec="followup_attrition", key="followup__attrition_dl")
