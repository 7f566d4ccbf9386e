"""The funder follow-up settings as page controls: the rule (SUPRT or GPRA window) and the
target rate. Shown on the Follow-up page and beside the grant report on the Reports page; the
last choice is kept for the session (``SHARED``) and each page's controls start from it, so the
report follows the choice made on the Follow-up page (and the other way round).

Each page has its own widget keys. The shared choice is written into a page's widget state
before the widget is drawn, so the very first run of a page already returns it (a widget kept
only by ``persist_state`` returns its default on the first run after a page switch, and a
download button drawn in that run would carry the default)."""

from __future__ import annotations

import streamlit as st

from analytics.metrics import followup

SHARED = "followup__settings"  # (rule, target in percent) last chosen, for the session
RULE_HELP = (
    "SUPRT: SAMHSA's tool from 1 Oct 2025, a reassessment 180 days ± 30 after intake; a closeout before or "
    "during the window excuses it. GPRA: the earlier tool, months 5 to 8 after intake."
)
DEFAULT_PCT = round(followup.DEFAULT_TARGET * 100)


def _keys(page: str) -> tuple[str, str]:
    # the Follow-up page's own controls keep the page's plain prefix
    if page == "followup":
        return "followup__rule", "followup__target"
    return f"{page}__followup_rule", f"{page}__followup_target"


def followup_controls(page: str) -> tuple[str, float]:
    """Draw the two controls side by side on `page`; returns (rule, target as a 0-1 share)."""
    rule_key, target_key = _keys(page)
    state = st.session_state
    rule0, pct0 = state.get(SHARED, (followup.DEFAULT_RULE, DEFAULT_PCT))
    if rule_key not in state:
        state[rule_key] = rule0
    if target_key not in state:
        state[target_key] = pct0
    left, right = st.columns(2)
    rule = left.segmented_control(
        "Follow-up rule", followup.RULES, key=rule_key, format_func=followup.RULE_LABELS.__getitem__,
        help=RULE_HELP,
    ) or followup.DEFAULT_RULE  # a click on the chosen option clears it: back to the default
    target_pct = right.number_input(
        "Follow-up target (%)", min_value=1, max_value=100, step=5, key=target_key,
        help="The share of participants due who must be reassessed inside their window.",
    )
    state[SHARED] = (rule, int(target_pct))
    return rule, target_pct / 100
