"""Goals: recovery goals set and achieved, by domain, and how long they take."""

import streamlit as st

from analytics.domain import numbers
from analytics.present.theme import GOAL_DOMAIN_LABELS
from ui import components as ui
from ui import downloads, panel
from ui.setup import page_setup, page_title

ctx = page_setup("goals")
page_title(ctx, "Goals", "Goals of pairs in scope set in the period")

goals = ctx.metric("goals_by_domain")
overall = goals[goals["domain"] == "*"].iloc[0]
ui.tiles(
    [
        ui.Tile("Goals set", ui.num(overall["goals_set"]), small=numbers.is_small(overall["goals_set"], ctx.k)),
        ui.Tile("Goals achieved", ui.num(overall["achieved"])),
        ui.Tile("Achievement rate", ui.pct(overall["achievement_rate"]),
                small=numbers.is_small(overall["goals_set"], ctx.k)),
        ui.Tile("Median days to achieve", ui.num(overall["median_days_to_achieve"], 1),
                small=numbers.is_small(overall["achieved"], ctx.k)),
    ],
    k=ctx.k,
)
panel.show(ctx, "goals_by_domain")

st.subheader("Time to achieve, by domain")
by_domain = goals[goals["domain"] != "*"].assign(domain=lambda d: d["domain"].map(GOAL_DOMAIN_LABELS))
labels = {"domain": "Domain", "goals_set": "Goals set", "achieved": "Achieved",
          "achievement_rate": "Achievement rate", "median_days_to_achieve": "Median days to achieve"}
ui.table(
    ui.flag_small(by_domain.drop(columns="grp"), "goals_set", ctx.k).rename(columns=labels),
    percent=["Achievement rate"],
    decimals={"Median days to achieve": 1},
)
downloads.table_menu(ctx, goals, name="goals_by_domain", key="goals__table_dl")
