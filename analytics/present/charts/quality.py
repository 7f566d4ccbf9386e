"""Data quality findings chart."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.domain.numbers import count
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    FINDING_LABELS,
    GRID,
    TEXT,
    _colour,
    _count_axis,
    _finish,
    _missing,
    _source,
    no_data_figure,
    trace,
)

# --------------------------------------------------------------------------- data quality


@escaped_inputs
def quality_chart(findings: pd.DataFrame | None) -> go.Figure:
    """Data-quality findings: counts per finding (and instrument), stacked by site.

    `findings`: quality_findings (finding, description, instrument, site, n). These are counts
    of records to fix for data staff, so they are not flagged as small numbers.
    """
    title = "Data-quality findings by site"
    if _missing(findings, ("finding", "site", "n")):
        return no_data_figure(title, message="No data-quality findings for this selection")
    df = findings.copy()
    inst = df["instrument"].fillna("") if "instrument" in df.columns else pd.Series([""] * len(df))
    df["label"] = [
        FINDING_LABELS.get(f, str(f).replace("_", " ").capitalize()) + (f" ({i})" if i else "")
        for f, i in zip(df["finding"], inst, strict=True)
    ]
    order = df.groupby("label", sort=False)["n"].sum().sort_values(ascending=True)
    # a suppressed (blank) site count is left out of its finding's total, which says so
    partial = df["n"].isna().groupby(df["label"], sort=False).any()
    sites = sorted(df["site"].fillna("(not recorded)").unique(), key=str)
    fig = go.Figure()
    for i, site in enumerate(sites):
        # blank (suppressed) counts are left out: an all-blank trace would break plotly's stacking
        part = df[(df["site"].fillna("(not recorded)") == site) & df["n"].notna()]
        fig.add_trace(
            trace(
                "bar", y=part["label"], x=part["n"], orientation="h", name=str(site), marker={"color": _colour(i)},
                customdata=[count(v) for v in part["n"]],
                hovertemplate=f"{site}<br>%{{y}}: %{{customdata}}<extra></extra>",
            )
        )
    for lab, total in order.items():
        text = f"{int(total):,}" if not partial[lab] else ("suppressed" if total == 0 else f"{int(total):,}+")
        fig.add_annotation(
            name="total_label", x=total, y=lab, xanchor="left", xshift=6, showarrow=False,
            text=text, font={"size": 12, "color": TEXT},
        )
    fig.update_layout(barmode="stack", bargap=0.35, showlegend=True)
    fig.update_yaxes(categoryorder="array", categoryarray=list(order.index), showgrid=False, ticks="")
    xmax = max(float(order.max()), 1.0)
    fig.update_xaxes(title_text="Records to check", range=[0, xmax * 1.15], showgrid=True,
                     gridcolor=GRID, **_count_axis(xmax))
    n = float(df["n"].sum())
    note = "Sessions outside pair dates are excluded from every metric; other findings are follow-up tasks."
    if partial.any():
        note += " A total marked + leaves out suppressed site counts."
    return _finish(
        fig, title=f"{title} (n = {int(n):,} records)", n=n, footnote=_source(note, False, 1),
        height=max(320, 160 + 40 * len(order)), labels=list(order.index),
    )
