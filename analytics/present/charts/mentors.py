"""Mentor caseload chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.domain.numbers import DEFAULT_K, flagged_small, percent
from analytics.domain.numbers import finite_or_none as _num
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    GRID,
    MUTED,
    PALETTE,
    SMALL_GREY,
    _colour,
    _count_axis,
    _finish,
    _missing,
    _pct,
    _percent_axis,
    _source,
    add_lines,
    count_text,
    no_data_figure,
    small_label,
    trace,
)

# --------------------------------------------------------------------------- mentors


@escaped_inputs
def mentor_chart(mentors: pd.DataFrame | None, *, k: int = DEFAULT_K) -> go.Figure:
    """Caseload at the end of the period vs attendance rate, one point per mentor, by supervisor.

    `mentors`: mentor_caseloads (mentor_id, site, supervisor, caseload_at_end, attended,
    no_show, attendance_rate, ...). A dashed line marks the pooled attendance rate. A mentor
    whose rate rests on fewer than k attended-or-missed sessions is an open marker ("n<11").
    """
    title = "Caseload and attendance by mentor"
    if _missing(mentors, ("mentor_id", "caseload_at_end", "attendance_rate")):
        return no_data_figure(title)
    df = mentors.copy()
    df["supervisor"] = df.get("supervisor", pd.Series(["(not recorded)"] * len(df))).fillna("(not recorded)")
    has_counts = {"attended", "no_show"} <= set(df.columns)
    denom = (df["attended"] + df["no_show"]) if has_counts else pd.Series([np.nan] * len(df))
    smalls = [flagged_small(d, k) for d in denom] if has_counts else [False] * len(df)
    drawn = (df["caseload_at_end"].notna() & df["attendance_rate"].notna()).tolist()
    flagged = any(s and d for s, d in zip(smalls, drawn, strict=True))  # a mentor not drawn needs no key
    fig = go.Figure()
    supervisors = df["supervisor"].to_numpy()
    small_at = np.asarray(smalls, dtype=bool)
    for i, sup in enumerate(sorted(df["supervisor"].unique(), key=str)):
        colour = _colour(i)
        # Past eight supervisors colours repeat, so the shape changes with each round.
        shape = ("circle", "square", "diamond", "triangle-up")[(i // len(PALETTE)) % 4]
        # A supervisor's mentors in two traces, those with enough sessions and those without
        # (open markers): one style each, rather than a symbol, width and colour per point,
        # which plotly checks one by one (most of the chart's time with thousands of mentors).
        for small in (False, True):
            part_idx = np.flatnonzero((supervisors == sup) & (small_at == small))
            if not len(part_idx):
                continue
            part = df.iloc[part_idx]
            fig.add_trace(
                trace(
                    "scatter", x=part["caseload_at_end"], y=[_pct(v) for v in part["attendance_rate"]], mode="markers",
                    name=str(sup), showlegend=False,
                    marker={
                        "size": 12, "color": colour,
                        "symbol": f"{shape}-open" if small else shape,
                        "line": {"width": 2 if small else 1, "color": colour if small else "white"},
                        "opacity": 0.9,
                    },
                    customdata=np.column_stack(
                        [
                            part["mentor_id"].astype(str),
                            part.get("site", pd.Series([""] * len(part))).astype(str),
                            [small_label(k) if small else f"{percent(r)} of {int(d):,} sessions"
                             for r, d in zip(part["attendance_rate"], denom.iloc[part_idx], strict=True)]
                            if has_counts else [percent(r) for r in part["attendance_rate"]],
                        ]
                    ),
                    hovertemplate=(
                        "Mentor %{customdata[0]} (%{customdata[1]})<br>Open pairs at end: %{x}"
                        "<br>Attendance: %{customdata[2]}<extra>" + str(sup) + "</extra>"
                    ),
                )
            )
        fig.add_trace(
            trace("scatter", x=[None], y=[None], mode="markers", name=str(sup), hoverinfo="skip",
                       marker={"color": colour, "size": 12, "symbol": shape})
        )
    counted = denom.notna()  # a suppressed (blank) count cannot be pooled
    if has_counts and denom[counted].sum() > 0:
        pooled = df.loc[counted, "attended"].sum() / denom[counted].sum()
        add_lines(fig, ("y", pooled * 100, {"color": MUTED, "width": 1, "dash": "dash"}))
        fig.add_annotation(
            name="pooled_label", x=1, xref="paper", xanchor="right", y=pooled * 100, yanchor="bottom",
            text=f"{'All mentors' if counted.all() else 'Mentors with counts shown'}: {percent(pooled)}",
            showarrow=False, font={"size": 11, "color": MUTED},
        )
    if flagged:
        fig.add_trace(
            trace(
                "scatter", x=[None], y=[None], mode="markers", name=f"Open marker: {small_label(k)} sessions",
                marker={"symbol": "circle-open", "size": 12, "color": SMALL_GREY, "line": {"width": 2}},
                hoverinfo="skip",
            )
        )
    xmax = float(_num(df["caseload_at_end"].max()) or 1)
    fig.update_xaxes(title_text="Open pairs at end of period (caseload)", range=[-0.5, xmax * 1.1 + 0.5],
                     showgrid=True, gridcolor=GRID, **_count_axis(xmax))
    fig.update_yaxes(title_text="Attendance rate", **_percent_axis())
    note = "One point per mentor; colour: supervisor. Attendance rate = attended / (attended + no-show)."
    undrawn = drawn.count(False)
    if undrawn:
        note += (f" {undrawn} of {len(df)} mentors are not drawn: their caseload or attendance rate is "
                 "suppressed or undefined (no sessions).")
    n = len(df)
    pairs = df["pairs_in_scope"].sum() if "pairs_in_scope" in df.columns else None
    unit = "mentors" if pairs is None else f"mentors, {count_text(pairs, k)} pairs"
    return _finish(
        fig, title=f"{title} (n = {n:,} {unit})", n=n, footnote=_source(note, flagged, k, "mentors"),
    )
