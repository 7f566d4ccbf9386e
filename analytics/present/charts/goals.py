"""Goal attainment chart."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.domain.contract import CODEBOOKS
from analytics.domain.numbers import DEFAULT_K, flagged_small, percent
from analytics.domain.numbers import finite_or_none as _num
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    BASELINE,
    GOAL_DOMAIN_LABELS,
    IMPROVED,
    MUTED,
    SMALL_PATTERN,
    TEXT,
    _count_axis,
    _finish,
    _legend_entry,
    _missing,
    _rgba,
    _source,
    _title,
    count_text,
    no_data_figure,
    small_label,
    trace,
)

# --------------------------------------------------------------------------- goals


@escaped_inputs
def goals_chart(goals: pd.DataFrame | None, *, k: int = DEFAULT_K) -> go.Figure:
    """Goals set and achieved per recovery domain, with the achievement rate above each pair of bars.

    `goals`: goals_by_domain (grp, domain, goals_set, achieved, achievement_rate, ...); the
    '*' (all domains) row is skipped and groups are pooled. A domain with fewer than k goals
    set is hatched and shows "n<11" instead of its rate.
    """
    title = "Goals set and achieved by recovery domain"
    if _missing(goals, ("domain", "goals_set", "achieved")):
        return no_data_figure(title)
    df = goals[goals["domain"] != "*"]
    agg = df.groupby("domain", as_index=False, sort=False)[["goals_set", "achieved"]].sum(min_count=1)
    order = [d for d in CODEBOOKS["goal_domain"] if d in set(agg["domain"])]
    order += [d for d in agg["domain"] if d not in order]
    agg = agg.set_index("domain").loc[order].reset_index()
    if agg.empty or not (agg["goals_set"].fillna(1) > 0).any():
        return no_data_figure(title)
    labels = [GOAL_DOMAIN_LABELS.get(d, str(d).capitalize()) for d in agg["domain"]]
    smalls = [flagged_small(v, k) for v in agg["goals_set"]]
    flagged = any(smalls)
    all_rows = goals[goals["domain"] == "*"]
    n = float(all_rows["goals_set"].sum(min_count=1)) if not all_rows.empty else float(agg["goals_set"].sum())
    fig = go.Figure()
    for key, colour, legend in (("goals_set", BASELINE, "Goals set"), ("achieved", IMPROVED, "Achieved")):
        small_v = [flagged_small(v, k) for v in agg[key]]
        fig.add_trace(
            trace(
                "bar", x=labels, y=agg[key].fillna(0), name=legend, showlegend=False,
                marker={
                    "color": [_rgba(colour, 0.45) if s else colour for s in smalls],
                    "pattern": {"shape": [SMALL_PATTERN if s else "" for s in smalls], "fgcolor": colour},
                },
                text=[count_text(v, k) if sv else f"{int(v):,}" for v, sv in zip(agg[key], small_v, strict=True)],
                textposition="inside", insidetextanchor="end", textfont={"size": 11},
                hovertemplate=f"%{{x}}<br>{legend}: %{{text}}<extra></extra>",
            )
        )
        _legend_entry(fig, legend, colour)
    ymax = float(agg["goals_set"].max() or 1)
    for lab, s, a, g in zip(labels, smalls, agg["achieved"], agg["goals_set"], strict=True):
        rate = small_label(k) if s else (f"{percent(a / g)} achieved" if _num(g) else "")
        fig.add_annotation(
            name="rate_label", x=lab, y=_num(g) or 0, yshift=6, yanchor="bottom", text=rate, showarrow=False,
            font={"size": 12, "color": MUTED if s else TEXT, "weight": "bold"},
        )
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.06)
    fig.update_yaxes(title_text="Goals", range=[0, ymax * 1.2], **_count_axis(ymax))
    fig.update_xaxes(title=None, ticks="")
    note = "Goals set during the period; achieved = marked achieved by the as-of date."
    return _finish(
        fig, title=_title(title, n, k, "goals"), n=n, footnote=_source(note, flagged, k, "domains"), below=40,
    )
