"""Needs attention: the pairs and participants to act on now, by mentor (supervisors, managers).

Row-level (one pseudonymous pair or participant a row): no download, and every opening is
written to the audit trail. `python -m analytics relink` turns the ids back into the
program's own, on the program's machine, with its key.
"""

import streamlit as st

from analytics.metrics import attention
from ui import auth
from ui import components as ui
from ui.setup import page_setup, page_title

ctx = page_setup("attention")
page_title(ctx, "Needs attention", "Pairs and participants to act on at the data's as-of date (pseudonymous IDs)")

rows = ctx.metric("needs_attention")
s = ctx.scope
auth.record_view(
    ctx.access, "attention",
    {"filters": {d: list(v) for d, v in s.filters.active().items()}, "as_of": s.as_of.isoformat(),
     "period": f"{s.start.isoformat()}/{s.end.isoformat()}"},
    rows={"rows": len(rows)},
)

st.caption(
    f"As of {s.as_of:%d %b %Y}: open pairs with no attended session in {attention.NO_SESSION_DAYS} days, "
    f"follow-up windows open without a follow-up or opening within {attention.OPENING_DAYS} days "
    "(participants enrolled in the period), and open pairs' participants with no baseline assessment. "
    "Most urgent first. To find these people in your own system, run `python -m analytics relink` "
    "on the program's machine (see the README)."
)

if rows.empty:
    ui.empty("Nothing needs attention in this selection.")
    st.stop()

reasons = st.pills(
    "Reasons", list(attention.REASONS), format_func=attention.REASONS.__getitem__, selection_mode="multi",
    default=list(attention.REASONS), key="attention__reasons",
)
rows = rows[rows["reason"].isin(reasons or [])]
if rows.empty:
    ui.empty("No row of the chosen reasons.")
    st.stop()

counts = attention.attention_counts(rows)
st.subheader("By mentor")
ui.table(
    counts.rename(columns={"mentor_id": "Mentor", "site": "Site", "total": "Total", **attention.REASON_HEADINGS})
    .loc[:, lambda df: [c for c in df.columns if c in ("Mentor", "Site", "Total") or (df[c] > 0).any()]],
    height=min(38 + 35 * len(counts), 390),
)

st.subheader("Worklist")
order = {m: n for n, m in enumerate(counts["mentor_id"])}
shown = rows.assign(_mentor=rows["mentor_id"].map(order)).sort_values(["_mentor", "urgency"], kind="stable")
shown = shown.assign(
    detail=[attention.describe_days(r, d) for r, d in zip(shown["reason"], shown["days"], strict=True)],
    reason=shown["reason"].map(attention.REASONS),
)
ui.table(
    shown[["mentor_id", "pair_id", "participant_id", "reason", "detail", "days", "site", "urgency"]].rename(
        columns={"mentor_id": "Mentor", "site": "Site", "reason": "Reason", "detail": "When", "days": "Days",
                 "pair_id": "Pair", "participant_id": "Participant", "urgency": "Urgency"}
    ),
    height=min(38 + 35 * len(shown), 740),
)
st.caption("No download: this list names pairs and participants one by one. Counts per mentor and reason, "
           "suppressed like every export, come from `python -m analytics attention`.")
