"""Engagement chart: sessions by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.domain.numbers import DEFAULT_K, flagged_small, percent
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    MUTED,
    OKABE_ITO,
    PALETTE,
    SMALL_GREY,
    SMALL_PATTERN,
    _colour,
    _count_axis,
    _finish,
    _missing,
    _pct,
    _percent_axis,
    _rgba,
    _source,
    _title,
    count_text,
    group_label,
    legend_trace,
    merge_layout,
    no_data_figure,
    small_label,
    trace,
)

# --------------------------------------------------------------------------- engagement

# make_subplots(specs=[[{"secondary_y": True}]])'s axes, and where its add_trace(secondary_y=...)
# puts a trace: counts on the left axis, the attendance rate on the right.
TWO_Y_AXES = {"xaxis": {"anchor": "y", "domain": [0.0, 0.94]}, "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
              "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"}}
LEFT_AXIS, RIGHT_AXIS = {"xaxis": "x", "yaxis": "y"}, {"xaxis": "x", "yaxis": "y2"}


@escaped_inputs
def engagement_monthly_chart(monthly: pd.DataFrame | None, *, k: int = DEFAULT_K) -> go.Figure:
    """Attended sessions per month (bars), active pairs (line) and attendance rate (line, right axis).

    `monthly`: engagement_by_month (grp, month, active_pairs, attended, no_show, cancelled,
    attendance_rate). With several groups the bars are stacked by group and the lines are the
    totals. A month whose attendance rate rests on fewer than k attended-or-missed sessions
    gets an open grey marker and "n<11"; a month with fewer than k attended sessions a hatched bar.
    """
    title = "Sessions attended and attendance rate by month"
    need = ("grp", "month", "active_pairs", "attended", "no_show")
    if _missing(monthly, need):
        return no_data_figure(title)
    df = monthly.copy()
    df["month"] = pd.to_datetime(df["month"])
    totals = df.groupby("month", as_index=False)[["active_pairs", "attended", "no_show"]].sum(min_count=1)
    denom = totals["attended"] + totals["no_show"]
    totals["rate"] = np.where(denom > 0, totals["attended"] / denom.where(denom > 0), np.nan)
    n = float(denom.sum())

    # The traces on the left axis (y) or the right (y2) and the legend's own entries (on no axis),
    # in the order they are drawn, then the figure built once: what make_subplots with a
    # secondary y axis and an add_trace per trace give (tests/test_charts.py compares the two),
    # without plotly's subplot grid and a validation per call (28 -> 16 ms a chart).
    data = []
    groups = list(dict.fromkeys(df["grp"]))
    flagged = False
    for i, grp in enumerate(groups):
        part = df[df["grp"] == grp]
        small = [flagged_small(v, k) for v in part["attended"]]
        flagged |= any(small)
        colour = PALETTE[0] if len(groups) == 1 else _colour(i)
        data.append(
            trace(
                "bar", x=part["month"],
                y=part["attended"],
                name="Sessions attended" if len(groups) == 1 else f"{group_label(grp)}: attended",
                showlegend=False,
                marker={
                    "color": [_rgba(colour, 0.45) if s else colour for s in small],
                    "pattern": {"shape": [SMALL_PATTERN if s else "" for s in small], "fgcolor": colour},
                    "line": {"width": 0},
                },
                text=[count_text(v, k) if s else "" for v, s in zip(part["attended"], small, strict=True)],
                textposition="outside",
                textfont={"size": 10, "color": MUTED},
                customdata=[count_text(v, k) for v in part["attended"]],
                hovertemplate="%{x|%b %Y}<br>Attended: %{customdata}<extra></extra>",
                **LEFT_AXIS,
            )
        )
        data.append(legend_trace("Sessions attended" if len(groups) == 1 else f"{group_label(grp)}: attended", colour))
    data.append(
        trace(
            "scatter", x=totals["month"],
            y=totals["active_pairs"],
            name="Active pairs",
            mode="lines+markers",
            line={"color": OKABE_ITO["black"], "width": 1.5, "dash": "dot"},
            marker={"size": 5},
            customdata=[count_text(v, k) for v in totals["active_pairs"]],
            hovertemplate="%{x|%b %Y}<br>Active pairs: %{customdata}<extra></extra>",
            **LEFT_AXIS,
        )
    )
    small_rate = [flagged_small(d, k) for d in denom]
    flagged |= any(small_rate)
    rate = [_pct(r) for r in totals["rate"]]
    data.append(
        trace(
            "scatter", x=totals["month"],
            y=rate,
            name="Attendance rate",
            showlegend=False,
            mode="lines+markers+text",
            line={"color": PALETTE[1], "width": 2.5},
            marker={
                "size": 8,
                # an open symbol is stroked in marker.color
                "color": [SMALL_GREY if s else PALETTE[1] for s in small_rate],
                "line": {"width": 2},
                "symbol": ["circle-open" if s else "circle" for s in small_rate],
            },
            customdata=[
                small_label(k) if s else f"{percent(r)} of {int(d):,}"
                for r, d, s in zip(totals["rate"], denom, small_rate, strict=True)
            ],
            hovertemplate="%{x|%b %Y}<br>Attendance rate: %{customdata}<extra></extra>",
            text=[small_label(k) if s else "" for s in small_rate],
            textposition="top center",
            textfont={"size": 10, "color": MUTED},
            **RIGHT_AXIS,
        )
    )
    data.append(legend_trace("Attendance rate", PALETTE[1], kind="line"))
    peak = max(float(totals["attended"].max() or 0), float(totals["active_pairs"].max() or 0))
    fig = go.Figure(data=data, layout=TWO_Y_AXES)
    merge_layout(
        fig,
        barmode="stack", bargap=0.25, hovermode="x unified" if len(groups) == 1 else "closest",
        xaxis={"tickformat": "%b<br>%Y", "dtick": "M1" if len(totals) <= 18 else "M3"},
        yaxis={"title": {"text": "Sessions attended / active pairs"}, **_count_axis(peak)},
        yaxis2={"title": {"text": "Attendance rate"}, "showgrid": False, **_percent_axis()},
    )
    fig.layout.xaxis.update(title=None)  # no axis title (plotly keeps an empty one)
    note = "Attendance rate = attended / (attended + no-show); cancelled sessions are not counted."
    return _finish(
        fig,
        title=_title(title, n, k, "sessions attended or missed"),
        n=n,
        footnote=_source(note, flagged, k, "months"),
        below=52,
    )
