"""Retention charts: Kaplan-Meier curves, the cohort heatmap and closure reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.domain.contract import DISENGAGEMENT_REASONS
from analytics.domain.numbers import DEFAULT_K, flagged_small, percent
from analytics.domain.numbers import finite_or_none as _num
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    CLOSE_REASON_LABELS,
    DECLINED,
    GRID,
    MUTED,
    NEUTRAL,
    PALETTE,
    SMALL_PATTERN,
    TEXT,
    _band_alpha,
    _colour,
    _count_axis,
    _finish,
    _legend_entry,
    _missing,
    _percent_axis,
    _rgba,
    _source,
    _title,
    count_text,
    group_label,
    merge_layout,
    n_text,
    no_data_figure,
    small_label,
    trace,
)
from analytics.stats import at_risk_days, at_risk_table

# --------------------------------------------------------------------------- retention

@escaped_inputs
def km_chart(
    curve: pd.DataFrame | None,
    at_risk: pd.DataFrame | None = None,
    k: int = DEFAULT_K,
    *,
    small_groups: Iterable[str] = frozenset(),
) -> go.Figure:
    """Kaplan-Meier retention curves per group with 95% bands and numbers at risk below.

    `curve`: retention_curve (grp, t, at_risk, events, censored, survival, std_err, lower,
    upper). `at_risk`: retention.at_risk_table(curve) (grp, day, at_risk); computed here at
    days up to the longest follow-up when None. A group with fewer than k pairs (or listed in
    `small_groups`) is drawn faded and dashed without a band, named with "n<11"; numbers at
    risk below k print as "<11".
    """
    title = "Pairs still meeting, by days since match"
    if _missing(curve, ("grp", "t", "at_risk", "survival")):
        return no_data_figure(title)
    df = curve.sort_values(["grp", "t"], kind="stable")
    groups = _KmGroups.of(df, list(dict.fromkeys(curve["grp"])), k, set(small_groups))
    max_t = float(df["t"].max())
    at_risk, days = _at_risk_rows(df, at_risk, max_t)

    fig = go.Figure()
    for grp in groups.names:
        part = df[df["grp"] == grp]
        if not groups.small[grp] and {"lower", "upper"} <= set(part.columns):
            _add_km_band(fig, part, grp, groups)
        _add_km_curve(fig, part, grp, groups, k)
    row_labels, small_at_risk = _add_at_risk_rows(fig, at_risk, groups, k)
    geometry = _KmGeometry.for_groups(len(groups.names))
    _km_layout(fig, groups, row_labels, days, max_t, geometry)
    note = (
        "Kaplan-Meier estimate with 95% confidence band. A pair counts as stopped when it closed "
        "because the participant withdrew or was lost to contact; other pairs are followed until they close "
        "or until the data end."
    )
    # title, legend and footnote take about 150 px around the plot area
    return _finish(
        fig,
        title=_title(title, groups.n_total, k, "pairs"),
        n=groups.n_total,
        footnote=_source(note, any(groups.small.values()) or small_at_risk, k, "curves and counts"),
        height=geometry.plot_px + 150,
        below=6,
    )


def _at_risk_rows(df: pd.DataFrame, at_risk: pd.DataFrame | None, max_t: float) -> tuple[pd.DataFrame, list[int]]:
    """The numbers-at-risk rows and their tick days: the given table up to the longest
    follow-up (its days become the ticks), else the table computed at the standard tick days."""
    days = at_risk_days(max_t)
    if at_risk is None or at_risk.empty:
        return at_risk_table(df, days=days), days
    at_risk = at_risk[at_risk["day"] <= max(max_t, 0)]
    return at_risk, sorted(int(d) for d in at_risk["day"].unique()) or days


@dataclass(frozen=True)
class _KmGroups:
    """The groups of a retention chart in drawing order: size (pairs at risk on day 0), whether
    each is small (fewer than k pairs, or named small by the caller), label and colour."""

    names: list
    sizes: dict
    small: dict
    labels: dict
    colours: dict
    n_total: float

    @classmethod
    def of(cls, df: pd.DataFrame, names: list, k: int, named_small: set[str]) -> _KmGroups:
        sizes = {g: df.loc[df["grp"] == g, "at_risk"].iloc[0] for g in names}
        small = {g: flagged_small(sizes[g], k) or g in named_small for g in names}
        # Small groups keep a faded version of their colour (several grey curves could not be
        # told apart) and are dashed, without a band.
        base = {g: PALETTE[0] if len(names) == 1 else _colour(i) for i, g in enumerate(names)}
        colours = {g: _rgba(base[g], 0.5) if small[g] else base[g] for g in names}
        n_total = float(sum(_num(v) or 0 for v in sizes.values()))
        if any(_num(v) is None for v in sizes.values()):
            n_total = np.nan
        labels = {g: group_label(g, "All pairs") for g in names}
        return cls(names, sizes, small, labels, colours, n_total)


def _add_km_band(fig: go.Figure, part: pd.DataFrame, grp, groups: _KmGroups) -> None:
    """A group's 95% band: the upper edge, then the lower edge filled up to it, both as steps."""
    x = part["t"].to_numpy(dtype=float)
    label = groups.labels[grp]
    fig.add_trace(
        trace(
            "scatter", x=x, y=part["upper"] * 100, mode="lines", line={"width": 0, "shape": "hv"},
            hoverinfo="skip", showlegend=False, legendgroup=str(grp), name=f"{label} 95% band (upper)",
        )
    )
    fig.add_trace(
        trace(
            "scatter", x=x, y=part["lower"] * 100, mode="lines", line={"width": 0, "shape": "hv"},
            fill="tonexty", fillcolor=_rgba(groups.colours[grp], _band_alpha(len(groups.names))),
            hoverinfo="skip", showlegend=False, legendgroup=str(grp), name=f"{label} 95% band",
        )
    )


def _add_km_curve(fig: go.Figure, part: pd.DataFrame, grp, groups: _KmGroups, k: int) -> None:
    """A group's step curve (dashed when small), its legend entry naming n, and its hover."""
    small, label = groups.small[grp], groups.labels[grp]
    has_band = {"lower", "upper"} <= set(part.columns)
    nan = [np.nan] * len(part)
    custom = np.column_stack(
        [
            [count_text(v, k) for v in part["at_risk"]],
            [percent(v) for v in (part["lower"] if has_band else nan)],
            [percent(v) for v in (part["upper"] if has_band else nan)],
            [percent(v) for v in part["survival"]],
        ]
    )
    fig.add_trace(
        trace(
            "scatter", x=part["t"].to_numpy(dtype=float),
            y=part["survival"] * 100,
            mode="lines",
            name=f"{label} ({small_label(k) if small else n_text(groups.sizes[grp], k)})",
            legendgroup=str(grp),
            line={"color": groups.colours[grp], "width": 2.5, "shape": "hv", "dash": "dash" if small else "solid"},
            customdata=custom,
            hovertemplate=(
                f"{label}<br>Day %{{x}}: %{{customdata[3]}} still meeting"
                "<br>95% CI %{customdata[1]} to %{customdata[2]}"
                "<br>At risk: %{customdata[0]}<extra></extra>"
            ),
        )
    )


def _add_at_risk_rows(fig: go.Figure, at_risk: pd.DataFrame, groups: _KmGroups, k: int) -> tuple[list[str], bool]:
    """Numbers at risk: a text row per group under the x axis, at the tick days. Returns the
    rows' labels (each with a swatch of its curve's colour) and whether any number printed is
    small."""
    row_labels = []
    small_seen = False
    for grp in groups.names:
        rows = at_risk[at_risk["grp"] == grp]
        lab = groups.labels[grp]
        # the name in the text colour, then a line swatch of its curve's colour (the labels are
        # right-aligned, so the swatches form a column): a name written in the palette's yellow,
        # orange or sky blue was hard to read on white
        row_labels.append(f'{lab} <span style="color:{groups.colours[grp]}">━━</span>')
        fig.add_trace(
            trace(
                "scatter", x=rows["day"],
                y=[lab] * len(rows),
                mode="text",
                text=["0" if _num(v) == 0 else count_text(v, k) for v in rows["at_risk"]],
                textfont={"size": 11, "color": MUTED if groups.small[grp] else TEXT},
                showlegend=False,
                hoverinfo="skip",
                name=f"{lab} at risk",
                xaxis="x2",
                yaxis="y2",
            )
        )
        small_seen |= any(flagged_small(v, k) for v in rows["at_risk"])
    return row_labels, small_seen


@dataclass(frozen=True)
class _KmGeometry:
    """Heights in pixels, so the numbers-at-risk table keeps one line per group whatever the
    group count: the curves' plot, the gap for the x axis title, the table."""

    plot_px: int
    gap_px: int
    table_px: int

    @classmethod
    def for_groups(cls, n_groups: int, row_px: int = 22, gap_px: int = 92, main_px: int = 330) -> _KmGeometry:
        table_px = row_px * n_groups + 6
        return cls(main_px + gap_px + table_px, gap_px, table_px)

    @property
    def split(self) -> float:
        """The share of the plot height the table takes (the lower y axis's domain)."""
        return self.table_px / self.plot_px


def _km_layout(fig: go.Figure, groups: _KmGroups, row_labels: list[str], days: list[int], max_t: float,
               geometry: _KmGeometry) -> None:
    """The curves' axes above, the numbers-at-risk rows' category axis below, sharing x."""
    x_range = [-max_t * 0.025 - 1, max_t * 1.03 + 1]
    labels = [groups.labels[g] for g in groups.names]
    split = geometry.split
    merge_layout(
        fig,
        xaxis={"range": x_range, "tickmode": "array", "tickvals": days, "title": {"text": "Days since match"},
               "domain": [0, 1]},
        yaxis={"domain": [split + geometry.gap_px / geometry.plot_px, 1], "title": {"text": "Still meeting"},
               **_percent_axis()},
        xaxis2={"range": x_range, "visible": False, "matches": "x", "anchor": "y2", "domain": [0, 1]},
        yaxis2={
            "domain": [0, split], "anchor": "x2", "type": "category", "categoryorder": "array",
            "categoryarray": labels, "range": [len(groups.names) - 0.5, -0.5], "tickmode": "array",
            "tickvals": labels, "ticktext": row_labels, "showline": False, "ticks": "", "showgrid": False,
            "fixedrange": True, "tickfont": {"size": 11},
        },
        hovermode="closest",
    )
    fig.add_annotation(
        name="at_risk_title", text="Number at risk", xref="paper", yref="y2 domain", x=0, y=1,
        xanchor="left", yanchor="bottom", yshift=4, showarrow=False,
        font={"size": 12, "color": TEXT, "weight": "bold"},
    )


def _month_label(d) -> str:
    return pd.Timestamp(d).strftime("%b %Y")


# Above this many cells a screen heatmap drops its printed shares and cell gaps: drawing 500
# labelled cells took a browser 0.4 s against 0.06 s without (measured), and the shares are in
# the hover and in the table under the chart. Exported images always print them.
HEATMAP_TEXT_MAX_CELLS = 240


@escaped_inputs
def cohort_heatmap(triangle: pd.DataFrame | None, *, k: int = DEFAULT_K, cell_text: bool | None = True) -> go.Figure:
    """Share of each match month's pairs with an attended session in each 30-day window.

    `triangle`: cohort_triangle (grp, cohort_month, k, pairs, pairs_attending, share). Rows are
    match months (oldest on top), columns windows 0-11; cells with no eligible pair stay
    blank. With several groups the counts are pooled. A cell resting on fewer than k pairs is
    grey with "n<11" instead of its share. ``cell_text``: print each cell's share (True), or
    only when the grid has at most ``HEATMAP_TEXT_MAX_CELLS`` cells (None, for screens); small
    cells stay grey either way.
    """
    title = "Share of pairs attending, by month of match and months since match"
    need = ("cohort_month", "k", "pairs", "share")
    if _missing(triangle, need):
        return no_data_figure(title)
    df = triangle.copy()
    df["cohort_month"] = pd.to_datetime(df["cohort_month"])
    if "pairs_attending" not in df.columns:
        df["pairs_attending"] = df["share"] * df["pairs"]
    cells = df.groupby(["cohort_month", "k"], as_index=False)[["pairs", "pairs_attending"]].sum(min_count=1)
    cells["share"] = cells["pairs_attending"] / cells["pairs"].where(cells["pairs"] > 0)
    months = sorted(cells["cohort_month"].unique())
    windows = list(range(int(max(11, cells["k"].max())) + 1))
    ylabels = [_month_label(m) for m in months]
    xlabels = [str(w) for w in windows]
    z = np.full((len(months), len(windows)), np.nan)
    z_small = np.full_like(z, np.nan)
    text = np.full(z.shape, "", dtype=object)
    hover = np.full(z.shape, "", dtype=object)
    mi = {m: i for i, m in enumerate(months)}
    flagged = False
    for r in cells.itertuples(index=False):
        i, j = mi[r.cohort_month], int(r.k)
        span = f"days {30 * j}-{30 * j + 29}"
        if flagged_small(r.pairs, k):
            flagged = True
            z_small[i, j] = 1
            text[i, j] = small_label(k)
            hover[i, j] = f"Matched {ylabels[i]}, {span}<br>{small_label(k)} pairs"
        elif _num(r.share) is not None:
            z[i, j] = r.share * 100
            text[i, j] = percent(r.share)
            hover[i, j] = (
                f"Matched {ylabels[i]}, {span}<br>{percent(r.share)} attended"
                f" ({int(r.pairs_attending):,} of {int(r.pairs):,} pairs)"
            )
    first = cells[cells["k"] == 0]["pairs"]
    n = float(first.sum()) if not first.isna().any() else np.nan
    if cell_text is None:
        cell_text = z.size <= HEATMAP_TEXT_MAX_CELLS
    gap = 2 if cell_text else 0
    if not cell_text:
        text = np.full(z.shape, "", dtype=object)

    fig = go.Figure()
    fig.add_trace(
        trace(
            "heatmap", z=z, x=xlabels, y=ylabels, zmin=0, zmax=100, name="Share attending",
            colorscale=[[0, "#F2F7FB"], [0.5, "#7FB3D9"], [1, "#08457A"]],
            text=text, texttemplate="%{text}" if cell_text else None, textfont={"size": 10},
            customdata=hover, hovertemplate="%{customdata}<extra></extra>",
            xgap=gap, ygap=gap, hoverongaps=False,
            colorbar={"title": {"text": "Attending", "side": "right"}, "ticksuffix": "%", "thickness": 12,
                      "len": 0.8, "outlinewidth": 0},
        )
    )
    if flagged:
        fig.add_trace(
            trace(
                "heatmap", z=z_small, x=xlabels, y=ylabels, zmin=0, zmax=1, showscale=False, name=small_label(k),
                colorscale=[[0, "#EBEBEB"], [1, "#EBEBEB"]], text=np.where(np.isnan(z_small), "", text),
                texttemplate="%{text}" if cell_text else None, textfont={"size": 9, "color": MUTED},
                customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                xgap=gap, ygap=gap, hoverongaps=False,
            )
        )
    fig.update_xaxes(title_text="Months since match (30-day windows)", side="bottom", showline=False,
                     ticks="", type="category")
    fig.update_yaxes(autorange="reversed", showline=False, ticks="", showgrid=False, type="category",
                     title_text="Month matched")
    fig.update_layout(showlegend=False)
    note = (
        "Each cell: share of the month's pairs with at least one attended session in that 30-day window; "
        "only pairs followed to the end of the window count. Blank: not yet observed."
        + ("" if cell_text else " Point at a cell for its share; every cell is in the data under the chart.")
        + (f" Grey cells rest on fewer than {k} pairs." if flagged and not cell_text and k > 1 else "")
    )
    height = max(360, 150 + 24 * len(months))
    return _finish(
        fig, title=_title(title, n, k, "pairs"), n=n, footnote=_source(note, flagged, k, "cells"),
        height=height, below=52,
    )


@escaped_inputs
def closure_reasons_chart(closures: pd.DataFrame | None, *, k: int = DEFAULT_K) -> go.Figure:
    """Why pairs closed: horizontal bars per close reason; disengagement reasons in vermillion.

    `closures`: closure_reasons (grp, close_reason, pairs, is_disengagement); groups pooled.
    Counts below k are hatched and printed "<11".
    """
    title = "Why pairs closed"
    if _missing(closures, ("close_reason", "pairs")):
        return no_data_figure(title)
    df = closures.copy()
    df["close_reason"] = df["close_reason"].fillna("other")
    agg = df.groupby("close_reason", as_index=False)["pairs"].sum(min_count=1)
    if "is_disengagement" in df.columns:
        dis = df.groupby("close_reason")["is_disengagement"].any()
        agg["dis"] = agg["close_reason"].map(dis).fillna(False).astype(bool)
    else:
        agg["dis"] = agg["close_reason"].isin(DISENGAGEMENT_REASONS)
    agg = agg.sort_values(["pairs", "close_reason"], ascending=[True, False], na_position="first")
    n = float(agg["pairs"].sum())
    hidden = bool(agg["pairs"].isna().any())
    labels = [CLOSE_REASON_LABELS.get(r, str(r).replace("_", " ").capitalize()) for r in agg["close_reason"]]
    flagged = False
    fig = go.Figure()
    for is_dis, colour, name in (
        (True, DECLINED, "Disengagement (counts as stopping)"),
        (False, NEUTRAL, "Other reason"),
    ):
        part = agg[agg["dis"] == is_dis]
        if part.empty:
            continue
        lab = [lb for lb, d in zip(labels, agg["dis"], strict=True) if d == is_dis]
        small = [flagged_small(v, k) for v in part["pairs"]]
        flagged |= any(small)
        share = [(_num(v) or 0) / n if n and not s else None for v, s in zip(part["pairs"], small, strict=True)]
        # With a count hidden (an export's suppressed frame) the shown bars do not add up to
        # all closures, so a share of their sum would be a share of the wrong total: counts only.
        text = [
            count_text(v, k) if s else (f"{int(v):,}" if hidden else f"{int(v):,} ({percent(sh)})")
            for v, s, sh in zip(part["pairs"], small, share, strict=True)
        ]
        bar = trace(
            "bar", x=part["pairs"].fillna(0), y=lab, orientation="h", name=name,
            marker={
                "color": [_rgba(colour, 0.45) if s else colour for s in small],
                "pattern": {"shape": [SMALL_PATTERN if s else "" for s in small], "fgcolor": colour},
            },
            text=text, textposition="outside", cliponaxis=False, textfont={"size": 12, "color": TEXT},
            hovertemplate="%{y}: %{text}<extra></extra>", showlegend=False,
        )
        fig.add_trace(bar)
        _legend_entry(fig, name, colour)
    ordered = labels  # ascending, so the largest bar is on top
    fig.update_yaxes(categoryorder="array", categoryarray=ordered, showgrid=False, ticks="", title=None)
    xmax = float(agg["pairs"].max() or 1)
    fig.update_xaxes(title_text="Pairs closed", range=[0, xmax * 1.25], showgrid=True, gridcolor=GRID,
                     **_count_axis(xmax))
    fig.update_layout(bargap=0.35, barmode="overlay")
    note = "Pairs in scope that closed during the period, by recorded close reason."
    height = max(320, 150 + 40 * len(agg))
    return _finish(
        fig, title=_title(title, n, k, "closures"), n=n, footnote=_source(note, flagged, k, "bars"),
        height=height, labels=labels,
    )
