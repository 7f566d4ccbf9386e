"""Chart builders: metric DataFrames in, plotly figures out. No Streamlit, no I/O.

Every builder takes the frame a metric function returns (columns as documented there, with
`grp` the group value, "all" when ungrouped) and returns a `plotly.graph_objects.Figure` laid
out by `house_layout`: white background, Okabe-Ito colours, a title carrying n, an optional
subtitle and a footnote line. Exports re-call `house_layout` on the same figure to put
filters, period and as-of in the title and the suppression rule in the footnote.

Small numbers: a group, bar or cell whose n is below the privacy threshold k (default 11, the
CMS small-cell norm) is drawn faded (its colour at reduced opacity, so groups stay apart),
hatched, dashed or as an open marker, and labelled "n<11" (counts "<11"). Its exact n and
its value labels are not printed (the mark stays, so the shape of the data is visible, and
hover text names the flag). A value missing because the frame was suppressed upstream (NaN)
is treated the same way. k = 1 turns flagging off for internal analysis.

An empty or missing frame gives a figure with a "No data for this selection" note instead of
raising, so a page never breaks on a narrow filter.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.contract import CODEBOOKS, DISENGAGEMENT_REASONS, INSTRUMENTS, Instrument
from analytics.metrics.scope import DIMENSION_LABELS
from analytics.values import finite_or_none as _num

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision
# deficiencies and in greyscale print. Ordered for series: the strong, dark colours first;
# yellow last because it is hard to read on white.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
PALETTE: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
)
# Meaningful colours, used the same way on every chart.
IMPROVED = OKABE_ITO["bluish_green"]
DECLINED = OKABE_ITO["vermillion"]
BASELINE = OKABE_ITO["sky_blue"]
FOLLOWUP = OKABE_ITO["blue"]
NEUTRAL = "#A0A0A0"
SMALL_GREY = "#B8B8B8"
TEXT = "#222222"
MUTED = "#5F5F5F"
GRID = "#E6E6E6"
AXIS = "#444444"

# CMS small-cell norm (METRICS.md "Privacy threshold"): no cell of 1-10.
SMALL_N = 11
SMALL_PATTERN = "/"
NO_DATA = "No data for this selection"
ALL_LABEL = "All"
SOURCE_NOTE = "Source: program records."

FONT_FAMILY = "Arial, Liberation Sans, Helvetica, sans-serif"
# Streamlit sizes width to the column; the height is fixed so pixel-placed titles, legends and
# footnotes land in the same place on screen and in exported images.
DEFAULT_HEIGHT = 480

# For st.plotly_chart(config=...): no plotly logo.
# No "download plot" button on screen: an image taken from the screen would skip small-cell
# suppression and the audit trail. Images come from the export menus, built from suppressed data.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d", "toImage"],
}

GOAL_DOMAIN_LABELS = {"health": "Health", "home": "Home", "purpose": "Purpose", "community": "Community"}
CLOSE_REASON_LABELS = {
    "goals_met": "Goals met",
    "participant_withdrew": "Participant withdrew",
    "lost_contact": "Lost contact",
    "mentor_unavailable": "Mentor unavailable",
    "rematched": "Rematched to another mentor",
    "program_exit": "Left the program",
    "other": "Other",
}
RELIABLE_CHANGE_LABELS = {
    "improved": "Improved reliably",
    "no_reliable_change": "No reliable change",
    "declined": "Declined reliably",
}
FINDING_LABELS = {
    "session_outside_pair_dates": "Sessions outside pair dates",
    "no_baseline": "No baseline assessment",
    "overdue_followup": "Follow-up overdue",
    "no_recent_session": "No session in last 30 days",
}

_TITLE_PX = 24
_SUBTITLE_PX = 19
_LEGEND_PX = 28
_FOOTNOTE_PX = 15
_EDGE = 16  # px from the figure's left edge to the title and footnote on horizontal charts
_FOOTNOTE_WRAP = 125  # characters per footnote line: fits a 700 px export at 11 px


# --------------------------------------------------------------------------- layout


def _template() -> go.layout.Template:
    axis = {
        "showline": True,
        "linecolor": AXIS,
        "linewidth": 1,
        "ticks": "outside",
        "tickcolor": AXIS,
        "ticklen": 4,
        "showgrid": False,
        "zeroline": False,
        "title": {"font": {"size": 13, "color": TEXT}, "standoff": 8},
        "tickfont": {"size": 12, "color": TEXT},
        "automargin": True,
    }
    return go.layout.Template(
        layout={
            "font": {"family": FONT_FAMILY, "size": 12, "color": TEXT},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "colorway": list(PALETTE),
            "xaxis": axis,
            "yaxis": {**axis, "showgrid": True, "gridcolor": GRID},
            "hoverlabel": {"font": {"family": FONT_FAMILY, "size": 12}, "bgcolor": "white"},
            "legend": {"font": {"size": 12}, "bgcolor": "rgba(255,255,255,0)"},
            "separators": ".,",
        }
    )


HOUSE_TEMPLATE = _template()


def _lines(text: str | None) -> int:
    return 0 if not text else text.count("<br>") + 1


def _wrap(text: str) -> str:
    parts = []
    for para in text.split("<br>"):
        parts.extend(textwrap.wrap(para, _FOOTNOTE_WRAP) or [""])
    return "<br>".join(parts)


def _legend_rows(fig: go.Figure, width: int = 860) -> int:
    """Rows the horizontal legend above the plot will take, at a typical export width."""
    if fig.layout.showlegend is False:
        return 0
    names = [t.name for t in fig.data if t.showlegend is not False and t.name]
    seen_groups: set = set()
    items = []
    for t in fig.data:
        if t.showlegend is False or not t.name:
            continue
        if t.legendgroup and t.legendgroup in seen_groups:
            continue
        if t.legendgroup:
            seen_groups.add(t.legendgroup)
        items.append(t.name)
    if len(names) < 2 and not (len(names) == 1 and fig.layout.showlegend):
        return 0
    # swatch and gap ~40 px, ~6 px per character at 12 px; once a horizontal legend wraps,
    # plotly gives every entry the width of the widest one.
    widths = [40 + 6 * len(name) for name in items]
    if sum(widths) <= width:
        return 1
    per_row = max(1, width // max(widths))
    return math.ceil(len(items) / per_row)


def house_layout(
    fig: go.Figure,
    *,
    title: str,
    subtitle: str | None = None,
    footnote: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Apply the house look and set title, subtitle and footnote; returns the same figure.

    Safe to call again on a finished chart (exports do, to add filters, period and as-of to
    the title and the suppression rule to the footnote): `subtitle` or `footnote` None keeps
    what the figure already has, "" removes it. The title text is stored plain (no markup), so
    `fig.layout.title.text` can be read back and extended.
    """
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    if subtitle is None:
        subtitle = meta.get("subtitle") or None
    if footnote is None:
        footnote = meta.get("footnote") or None
    footnote = _wrap(footnote) if footnote else None
    meta.update(subtitle=subtitle or "", footnote=footnote or "")
    # Pixels between the plot area's bottom edge and the footnote: tick labels and the x title.
    below = meta.setdefault("below", 58)
    top = 16 + _TITLE_PX * _lines(title) + _SUBTITLE_PX * _lines(subtitle) + 10
    top += _LEGEND_PX * _legend_rows(fig)
    bottom = below + (_FOOTNOTE_PX * _lines(footnote) + 8 if footnote else 0) + 6
    # A later call that adds title lines or footnote lines grows the figure rather than
    # squeezing the plot: remember the margins the height was chosen with.
    if height is not None or "chrome" not in meta:
        meta["height"] = height or meta.get("height", DEFAULT_HEIGHT)
        meta["chrome"] = top + bottom
    height = int(meta["height"] + (top + bottom - meta["chrome"]))

    left = meta.get("left")
    annotations = [a for a in fig.layout.annotations if a.name != "footnote"]
    if footnote:
        annotations.append(
            go.layout.Annotation(
                name="footnote",
                text=footnote,
                xref="paper",
                yref="paper",
                x=0,
                y=0,
                xanchor="left",
                yanchor="top",
                yshift=-below,
                xshift=-(left - _EDGE) if left else 0,
                align="left",
                showarrow=False,
                font={"size": 11, "color": MUTED},
            )
        )
    # Assigned, not passed to update_layout: an update merges lists item by item, so a removed
    # footnote would survive.
    fig.layout.annotations = annotations
    fig.update_layout(
        template=HOUSE_TEMPLATE,
        height=height,
        meta=meta,
        margin={"t": top, "b": bottom, "l": left or _EDGE, "r": meta.get("right", 24), "pad": 0},
        title={
            "text": title,
            # With a known left margin (horizontal charts) the title starts at the figure's edge,
            # above the category labels; otherwise at the plot's edge, past the y-axis title.
            "x": 0,
            "xref": "container" if left else "paper",
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 14, "l": _EDGE if left else 0},
            "font": {"size": 17, "color": TEXT, "weight": "bold"},
            "subtitle": {"text": subtitle or "", "font": {"size": 13, "color": MUTED}},
        },
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1,
            "yanchor": "bottom",
            "yref": "paper",
            "traceorder": "normal",
        },
    )
    return fig


def no_data_figure(title: str, message: str = NO_DATA, *, subtitle: str | None = None) -> go.Figure:
    """A blank chart saying there is nothing to show, laid out like every other chart."""
    fig = go.Figure()
    fig.add_annotation(
        name="no_data",
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 15, "color": MUTED},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(meta={"below": 8, "n": 0})
    return house_layout(fig, title=f"{title} (n = 0)", subtitle=subtitle, height=300)


# --------------------------------------------------------------------------- helpers


def _missing(df: pd.DataFrame | None, columns: Iterable[str] = ()) -> bool:
    return df is None or df.empty or any(c not in df.columns for c in columns)




def is_small(n, k: int = SMALL_N) -> bool:
    """True when a count must be flagged: 1..k-1, or missing (suppressed upstream). Zero is shown."""
    v = _num(n)
    if v is None:
        return k > 1
    return 0 < v < k


def small_label(k: int = SMALL_N) -> str:
    """The flag printed on a small group's rate or mean: "n<11"."""
    return f"n<{k}"


def count_text(n, k: int = SMALL_N) -> str:
    """A count as printed on a chart: "1,234", or "<11" when small."""
    return f"<{k}" if is_small(n, k) else f"{int(_num(n)):,}"


def n_text(n, k: int = SMALL_N) -> str:
    """'n = 1,234', or 'n<11' when small."""
    return small_label(k) if is_small(n, k) else f"n = {int(_num(n)):,}"


def _title(text: str, n, k: int, unit: str = "") -> str:
    """A chart title carrying n: "Why pairs closed (n = 725 closures)"."""
    tail = f" {unit}" if unit else ""
    if is_small(n, k):
        return f"{text} ({small_label(k)}{tail})"
    return f"{text} (n = {int(_num(n) or 0):,}{tail})"


def group_label(grp, all_label: str = ALL_LABEL) -> str:
    return all_label if grp is None or str(grp) == "all" else str(grp)


def _entry(code: str, inst: Instrument | None = None) -> Instrument | None:
    """The instrument's definition: the one given (the store's, registry.reported), else the
    built-in entry of that code."""
    return inst if inst is not None else INSTRUMENTS.get(code)


def instrument_name(code: str, inst: Instrument | None = None) -> str:
    entry = _entry(code, inst)
    return entry.name if entry else str(code)


def _higher_is_better(code: str, inst: Instrument | None = None) -> bool:
    entry = _entry(code, inst)
    return entry.higher_is_better if entry else True


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _pct(x) -> float | None:
    v = _num(x)
    return None if v is None else v * 100.0


def _fmt_pct(x) -> str:
    v = _pct(x)
    return "" if v is None else f"{v:.0f}%"


def _fmt1(x) -> str:
    v = _num(x)
    return "" if v is None else f"{v:.1f}"


def _source(extra: str | None, flagged: bool, k: int, what: str = "groups") -> str:
    parts = [SOURCE_NOTE]
    if extra:
        parts.append(extra)
    if flagged and k > 1:
        parts.append(
            f"{small_label(k)} and <{k} mark {what} resting on fewer than {k} (the small-number threshold); "
            "read them with caution."
        )
    return " ".join(parts)


def _band_alpha(groups: int) -> float:
    """Confidence bands fade as groups are added, so overlapping bands stay readable."""
    return 0.18 if groups == 1 else 0.13 if groups == 2 else 0.07


def _finish(
    fig: go.Figure,
    *,
    title: str,
    n,
    subtitle: str | None = None,
    footnote: str | None = None,
    height: int = DEFAULT_HEIGHT,
    below: int = 58,
    right: int = 24,
    labels: Iterable[str] | None = None,
) -> go.Figure:
    """Record n and the pixel room around the plot in meta, then apply the house layout.

    `labels`: the category labels left of a horizontal chart. Their width fixes the left
    margin, so the title and footnote can start at the figure's left edge rather than at the
    plot's, where a long footnote would run off the right side.
    """
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    meta.update(n=None if _num(n) is None else int(_num(n)), below=below, right=right)
    if labels is not None:
        longest = max((len(_strip_tags(str(t))) for t in labels), default=0)
        meta["left"] = 28 + int(6.8 * longest)
    fig.update_layout(meta=meta)
    return house_layout(fig, title=title, subtitle=subtitle, footnote=footnote, height=height)


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def _legend_entry(fig: go.Figure, name: str, colour: str, kind: str = "bar") -> None:
    """A legend-only trace. Plotly draws a legend swatch from a trace's first point, which may
    be a flagged (faded, hatched) one, so the real traces stay out of the legend. A marker, not
    a bar: an empty bar trace would still take a slot in grouped bar charts."""
    fig.add_trace(
        go.Scatter(
            x=[None], y=[None], mode="lines+markers" if kind == "line" else "markers", name=name,
            hoverinfo="skip", line={"color": colour, "width": 2.5},
            marker={
                "color": colour,
                "size": 12 if kind in ("bar", "marker") else 8,
                "symbol": {"bar": "square", "marker": "circle", "open": "circle-open", "line": "circle"}[kind],
                "line": {"width": 2 if kind == "open" else 0},
            },
        )
    )


def _percent_axis(**extra) -> dict:
    # Explicit tick text: plotly ignores ticksuffix once tickvals are given.
    ticks = [0, 25, 50, 75, 100]
    return {
        "range": [0, 105],
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [f"{t}%" for t in ticks],
        **extra,
    }


def _count_axis(max_value) -> dict:
    """Whole-number ticks for counts: no "2.5 sessions" on a small program's chart."""
    v = _num(max_value) or 0
    return {"rangemode": "tozero", "tickformat": ",d", **({"dtick": 1} if v <= 8 else {})}


# --------------------------------------------------------------------------- engagement


def engagement_monthly_chart(monthly: pd.DataFrame | None, *, k: int = SMALL_N) -> go.Figure:
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

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    groups = list(dict.fromkeys(df["grp"]))
    flagged = False
    for i, grp in enumerate(groups):
        part = df[df["grp"] == grp]
        small = [is_small(v, k) for v in part["attended"]]
        flagged |= any(small)
        colour = PALETTE[0] if len(groups) == 1 else _colour(i)
        fig.add_trace(
            go.Bar(
                x=part["month"],
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
            ),
            secondary_y=False,
        )
        _legend_entry(fig, "Sessions attended" if len(groups) == 1 else f"{group_label(grp)}: attended", colour)
    fig.add_trace(
        go.Scatter(
            x=totals["month"],
            y=totals["active_pairs"],
            name="Active pairs",
            mode="lines+markers",
            line={"color": OKABE_ITO["black"], "width": 1.5, "dash": "dot"},
            marker={"size": 5},
            customdata=[count_text(v, k) for v in totals["active_pairs"]],
            hovertemplate="%{x|%b %Y}<br>Active pairs: %{customdata}<extra></extra>",
        ),
        secondary_y=False,
    )
    small_rate = [is_small(d, k) for d in denom]
    flagged |= any(small_rate)
    rate = [_pct(r) for r in totals["rate"]]
    fig.add_trace(
        go.Scatter(
            x=totals["month"],
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
                small_label(k) if s else f"{_fmt_pct(r)} of {int(d):,}"
                for r, d, s in zip(totals["rate"], denom, small_rate, strict=True)
            ],
            hovertemplate="%{x|%b %Y}<br>Attendance rate: %{customdata}<extra></extra>",
            text=[small_label(k) if s else "" for s in small_rate],
            textposition="top center",
            textfont={"size": 10, "color": MUTED},
        ),
        secondary_y=True,
    )
    _legend_entry(fig, "Attendance rate", PALETTE[1], kind="line")
    fig.update_layout(barmode="stack", bargap=0.25, hovermode="x unified" if len(groups) == 1 else "closest")
    peak = max(float(totals["attended"].max() or 0), float(totals["active_pairs"].max() or 0))
    fig.update_xaxes(tickformat="%b<br>%Y", dtick="M1" if len(totals) <= 18 else "M3", title=None)
    fig.update_yaxes(title_text="Sessions attended / active pairs", secondary_y=False, **_count_axis(peak))
    fig.update_yaxes(
        title_text="Attendance rate",
        secondary_y=True,
        showgrid=False,
        **_percent_axis(),
    )
    note = "Attendance rate = attended / (attended + no-show); cancelled sessions are not counted."
    return _finish(
        fig,
        title=_title(title, n, k, "sessions attended or missed"),
        n=n,
        footnote=_source(note, flagged, k, "months"),
        below=52,
    )


# --------------------------------------------------------------------------- retention

def km_chart(
    curve: pd.DataFrame | None,
    at_risk: pd.DataFrame | None = None,
    k: int = SMALL_N,
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
    need = ("grp", "t", "at_risk", "survival")
    if _missing(curve, need):
        return no_data_figure(title)
    df = curve.sort_values(["grp", "t"], kind="stable")
    groups = list(dict.fromkeys(curve["grp"]))
    # Imported here: the metrics module brings the database driver, which charts do not need.
    from analytics.metrics.retention import at_risk_days, at_risk_table

    max_t = float(df["t"].max())
    days = at_risk_days(max_t)
    if at_risk is None or at_risk.empty:
        at_risk = at_risk_table(df, days=days)
    else:
        at_risk = at_risk[at_risk["day"] <= max(max_t, 0)]
        days = sorted(int(d) for d in at_risk["day"].unique()) or days

    small_set = set(small_groups)
    sizes = {g: df.loc[df["grp"] == g, "at_risk"].iloc[0] for g in groups}
    smalls = {g: is_small(sizes[g], k) or g in small_set for g in groups}
    # Small groups keep a faded version of their colour (several grey curves could not be told
    # apart) and are dashed, without a band.
    colours = {
        g: _rgba(PALETTE[0] if len(groups) == 1 else _colour(i), 0.5) if smalls[g]
        else (PALETTE[0] if len(groups) == 1 else _colour(i))
        for i, g in enumerate(groups)
    }
    n_total = float(sum(_num(v) or 0 for v in sizes.values()))
    if any(_num(v) is None for v in sizes.values()):
        n_total = np.nan
    flagged = any(smalls.values())

    fig = go.Figure()
    for grp in groups:
        part = df[df["grp"] == grp]
        small, colour = smalls[grp], colours[grp]
        label = group_label(grp, "All pairs")
        name = f"{label} ({small_label(k) if small else n_text(sizes[grp], k)})"
        x = part["t"].to_numpy(dtype=float)
        has_band = {"lower", "upper"} <= set(part.columns)
        if not small and has_band:
            # The band: upper edge, then the lower edge filled up to it, both as steps.
            fig.add_trace(
                go.Scatter(
                    x=x, y=part["upper"] * 100, mode="lines", line={"width": 0, "shape": "hv"},
                    hoverinfo="skip", showlegend=False, legendgroup=str(grp), name=f"{label} 95% band (upper)",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x, y=part["lower"] * 100, mode="lines", line={"width": 0, "shape": "hv"},
                    fill="tonexty", fillcolor=_rgba(colour, _band_alpha(len(groups))), hoverinfo="skip",
                    showlegend=False, legendgroup=str(grp), name=f"{label} 95% band",
                )
            )
        nan = [np.nan] * len(part)
        custom = np.column_stack(
            [
                [count_text(v, k) for v in part["at_risk"]],
                [_fmt_pct(v) for v in (part["lower"] if has_band else nan)],
                [_fmt_pct(v) for v in (part["upper"] if has_band else nan)],
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=part["survival"] * 100,
                mode="lines",
                name=name,
                legendgroup=str(grp),
                line={"color": colour, "width": 2.5, "shape": "hv", "dash": "dash" if small else "solid"},
                customdata=custom,
                hovertemplate=(
                    f"{label}<br>Day %{{x}}: %{{y:.0f}}% still meeting"
                    "<br>95% CI %{customdata[1]} to %{customdata[2]}"
                    "<br>At risk: %{customdata[0]}<extra></extra>"
                ),
            )
        )

    # Numbers at risk: a text row per group under the x axis, at the x tick positions. Heights
    # are worked out in pixels so the table keeps one line per group whatever the group count.
    row_px, gap_px, main_px = 22, 92, 330
    table_px = row_px * len(groups) + 6
    plot_px = main_px + gap_px + table_px
    split = table_px / plot_px
    row_labels = []
    for grp in groups:
        rows = at_risk[at_risk["grp"] == grp]
        lab = group_label(grp, "All pairs")
        row_labels.append(f'<span style="color:{colours[grp]}">{lab}</span>')
        fig.add_trace(
            go.Scatter(
                x=rows["day"],
                y=[lab] * len(rows),
                mode="text",
                text=["0" if _num(v) == 0 else count_text(v, k) for v in rows["at_risk"]],
                textfont={"size": 11, "color": MUTED if smalls[grp] else TEXT},
                showlegend=False,
                hoverinfo="skip",
                name=f"{lab} at risk",
                xaxis="x2",
                yaxis="y2",
            )
        )
        flagged |= any(is_small(v, k) for v in rows["at_risk"])

    x_range = [-max_t * 0.025 - 1, max_t * 1.03 + 1]
    labels = [group_label(g, "All pairs") for g in groups]
    fig.update_layout(
        xaxis={"range": x_range, "tickmode": "array", "tickvals": days, "title": {"text": "Days since match"},
               "domain": [0, 1]},
        yaxis={"domain": [split + gap_px / plot_px, 1], "title": {"text": "Still meeting"}, **_percent_axis()},
        xaxis2={"range": x_range, "visible": False, "matches": "x", "anchor": "y2", "domain": [0, 1]},
        yaxis2={
            "domain": [0, split], "anchor": "x2", "type": "category", "categoryorder": "array",
            "categoryarray": labels, "range": [len(groups) - 0.5, -0.5], "tickmode": "array",
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
    note = (
        "Kaplan-Meier estimate with 95% confidence band. A pair counts as stopped when it closed "
        "because the participant withdrew or was lost to contact; other pairs are followed until they close "
        "or until the data end."
    )
    # title, legend and footnote take about 150 px around the plot area
    return _finish(
        fig,
        title=_title(title, n_total, k, "pairs"),
        n=n_total,
        footnote=_source(note, flagged, k, "curves and counts"),
        height=plot_px + 150,
        below=6,
    )


def _month_label(d) -> str:
    return pd.Timestamp(d).strftime("%b %Y")


# Above this many cells a screen heatmap drops its printed shares and cell gaps: drawing 500
# labelled cells took a browser 0.4 s against 0.06 s without (measured), and the shares are in
# the hover and in the table under the chart. Exported images always print them.
HEATMAP_TEXT_MAX_CELLS = 240


def cohort_heatmap(triangle: pd.DataFrame | None, *, k: int = SMALL_N, cell_text: bool | None = True) -> go.Figure:
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
        if is_small(r.pairs, k):
            flagged = True
            z_small[i, j] = 1
            text[i, j] = small_label(k)
            hover[i, j] = f"Matched {ylabels[i]}, {span}<br>{small_label(k)} pairs"
        elif _num(r.share) is not None:
            z[i, j] = r.share * 100
            text[i, j] = f"{r.share * 100:.0f}%"
            hover[i, j] = (
                f"Matched {ylabels[i]}, {span}<br>{r.share * 100:.0f}% attended"
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
        go.Heatmap(
            z=z, x=xlabels, y=ylabels, zmin=0, zmax=100, name="Share attending",
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
            go.Heatmap(
                z=z_small, x=xlabels, y=ylabels, zmin=0, zmax=1, showscale=False, name=small_label(k),
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


def closure_reasons_chart(closures: pd.DataFrame | None, *, k: int = SMALL_N) -> go.Figure:
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
        small = [is_small(v, k) for v in part["pairs"]]
        flagged |= any(small)
        share = [(_num(v) or 0) / n * 100 if n and not s else None for v, s in zip(part["pairs"], small, strict=True)]
        # With a count hidden (an export's suppressed frame) the shown bars do not add up to
        # all closures, so a share of their sum would be a share of the wrong total: counts only.
        text = [
            count_text(v, k) if s else (f"{int(v):,}" if hidden else f"{int(v):,} ({sh:.0f}%)")
            for v, s, sh in zip(part["pairs"], small, share, strict=True)
        ]
        bar = go.Bar(
            x=part["pairs"].fillna(0), y=lab, orientation="h", name=name,
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


# --------------------------------------------------------------------------- outcomes


def _instrument_rows(df: pd.DataFrame | None, instrument: str | None, need: Sequence[str]) -> pd.DataFrame:
    if _missing(df, need):
        return pd.DataFrame(columns=list(need))
    if instrument is not None and "instrument" in df.columns:
        df = df[df["instrument"] == instrument]
    return df


def intake_followup_chart(
    change: pd.DataFrame | None,
    instrument: str,
    *,
    k: int = SMALL_N,
    small_groups: Iterable[str] = frozenset(),
    inst: Instrument | None = None,
) -> go.Figure:
    """Dumbbell per group: mean score at intake -> mean at follow-up, with n paired.

    `change`: outcome_change (grp, instrument, n_paired, baseline_mean, followup_mean, ...);
    rows of `instrument` are drawn. Groups with no paired participant are left out; a group
    with fewer than k paired participants (or in `small_groups`) is faded and labelled "n<11".
    `inst`: the instrument's definition in the store (name, range, direction).
    """
    inst = _entry(instrument, inst)
    name = instrument_name(instrument, inst)
    title = f"{name}: intake and follow-up"
    df = _instrument_rows(change, instrument, ("grp", "n_paired", "baseline_mean", "followup_mean"))
    df = df[df["n_paired"].isna() | (df["n_paired"] > 0)]
    if df.empty:
        return no_data_figure(title, subtitle="Mean score of participants with an intake and a follow-up")
    small_set = set(small_groups)
    labels = [group_label(g, "All participants") for g in df["grp"]]
    smalls = [is_small(n, k) or g in small_set for n, g in zip(df["n_paired"], df["grp"], strict=True)]
    flagged = any(smalls)
    n = float(df["n_paired"].sum(min_count=1)) if not df["n_paired"].isna().any() else np.nan

    fig = go.Figure()
    for lab, b, f, s in zip(labels, df["baseline_mean"], df["followup_mean"], smalls, strict=True):
        if _num(b) is None or _num(f) is None:
            continue
        fig.add_trace(
            go.Scatter(
                x=[b, f], y=[lab, lab], mode="lines", showlegend=False, hoverinfo="skip",
                line={"color": _rgba("#9DB9CF", 0.5) if s else "#9DB9CF", "width": 5},
            )
        )
    for key, colour, legend, pos in (
        ("baseline_mean", BASELINE, "Intake", "middle left"),
        ("followup_mean", FOLLOWUP, "Follow-up", "middle right"),
    ):
        vals = [_num(v) for v in df[key]]
        left_is_intake = [
            (_num(b) or 0) <= (_num(f) or 0) for b, f in zip(df["baseline_mean"], df["followup_mean"], strict=True)
        ]
        positions = [
            pos if li else ("middle right" if pos == "middle left" else "middle left") for li in left_is_intake
        ]
        fig.add_trace(
            go.Scatter(
                x=vals, y=labels, mode="markers+text", name=legend, showlegend=False,
                marker={
                    "size": 15,
                    "color": [_rgba(colour, 0.45) if s else colour for s in smalls],
                    "line": {"color": "white", "width": 1.5},
                },
                text=["" if s else _fmt1(v) for v, s in zip(vals, smalls, strict=True)], textposition=positions,
                textfont={"size": 12, "color": [MUTED if s else TEXT for s in smalls]},
                cliponaxis=False,
                customdata=[n_text(v, k) for v in df["n_paired"]],
                hovertemplate=f"%{{y}}<br>{legend}: %{{x:.1f}} (%{{customdata}})<extra></extra>",
            )
        )
        _legend_entry(fig, legend, colour, kind="marker")
    # n per group in a column at the right edge, outside the plot area.
    for lab, nn, s in zip(labels, df["n_paired"], smalls, strict=True):
        fig.add_annotation(
            name="n_label", x=1, xref="paper", xanchor="left", xshift=10, y=lab, yref="y",
            text=small_label(k) if s else n_text(nn, k), showarrow=False,
            font={"size": 12, "color": MUTED if s else TEXT},
        )
    values = pd.concat([df["baseline_mean"], df["followup_mean"]]).astype(float)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max((hi - lo) * 0.25, 1.0)
    scale = f" (possible range {inst.min_score:g}-{inst.max_score:g})" if inst else ""
    fig.update_xaxes(title_text=f"Mean {name} score{scale}", range=[lo - pad, hi + pad], showgrid=True,
                     gridcolor=GRID)
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", showline=False, type="category")
    better = "higher" if _higher_is_better(instrument, inst) else "lower"
    note = f"Participants with an intake and a follow-up at least 28 days later; {better} scores are better."
    height = max(300, 190 + 46 * len(df))
    return _finish(
        fig, title=_title(title, n, k, "participants"), n=n,
        subtitle="Mean score at intake and at latest follow-up",
        footnote=_source(note, flagged, k, "groups"), height=height, right=80, labels=labels,
    )


def trend_chart(
    trend: pd.DataFrame | None,
    instrument: str,
    *,
    k: int = SMALL_N,
    small_groups: Iterable[str] = frozenset(),
    inst: Instrument | None = None,
) -> go.Figure:
    """Mean score by month since enrollment with a 95% CI band, one line per group.

    `trend`: outcome_trend (grp, instrument, month, n, mean, sd, ci95_low, ci95_high). The
    line joins only points resting on at least k assessments; the others are faint open
    markers (hover "n<11") and carry no band. n per point is in the hover, and printed
    under the points when there is one line. `inst`: the instrument's definition in the store.
    """
    inst = _entry(instrument, inst)
    name = instrument_name(instrument, inst)
    title = f"{name} by months since enrollment"
    df = _instrument_rows(trend, instrument, ("grp", "month", "n", "mean"))
    if not df.empty:
        df = df[df["mean"].notna() | df["n"].isna()]
    if df.empty:
        return no_data_figure(title)
    df = df.sort_values(["grp", "month"], kind="stable")
    groups = list(dict.fromkeys(df["grp"]))
    small_set = set(small_groups)
    df = df.assign(small=[is_small(v, k) or g in small_set for v, g in zip(df["n"], df["grp"], strict=True)])
    n = float(df["n"].sum(min_count=1)) if not df["n"].isna().any() else np.nan
    flagged = bool(df["small"].any())
    shown = df[~df["small"]]
    # Months beyond the last well-populated one would only stretch the axis for faint markers.
    last = int(shown["month"].max()) if not shown.empty else int(df["month"].max())
    df = df[df["month"] <= last]
    alpha = _band_alpha(len(groups))
    one_line = len(groups) == 1
    fig = go.Figure()
    for i, grp in enumerate(groups):
        part = df[df["grp"] == grp]
        big, small = part[~part["small"]], part[part["small"]]
        colour = PALETTE[0] if one_line else _colour(i)
        label = group_label(grp, "All participants")
        if {"ci95_low", "ci95_high"} <= set(big.columns) and big["ci95_low"].notna().any():
            x = big["month"].astype(int).tolist()
            fig.add_trace(go.Scatter(x=x, y=big["ci95_high"], mode="lines", line={"width": 0}, hoverinfo="skip",
                                     showlegend=False, legendgroup=str(grp), name=f"{label} 95% CI (upper)"))
            fig.add_trace(go.Scatter(x=x, y=big["ci95_low"], mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(colour, alpha), hoverinfo="skip", showlegend=False,
                                     legendgroup=str(grp), name=f"{label} 95% CI"))
        x = big["month"].astype(int).tolist()
        fig.add_trace(
            go.Scatter(
                x=x, y=big["mean"], mode="lines+markers+text" if one_line and len(big) <= 15 else "lines+markers",
                name=label if not one_line or grp != "all" else "Mean score",
                legendgroup=str(grp),
                line={"color": colour, "width": 2.5},
                marker={"size": 8, "color": colour, "line": {"color": "white", "width": 1}},
                text=[n_text(v, k) for v in big["n"]], textposition="bottom center",
                textfont={"size": 10, "color": MUTED},
                customdata=np.column_stack(
                    [[n_text(v, k) for v in big["n"]], [f"{30 * m}-{30 * m + 29}" for m in x]]
                ) if len(big) else None,
                hovertemplate=f"{label}<br>Days %{{customdata[1]}}: mean %{{y:.1f}} (%{{customdata[0]}})<extra></extra>",
            )
        )
        if not small.empty:
            xs = small["month"].astype(int).tolist()
            fig.add_trace(
                go.Scatter(
                    x=xs, y=small["mean"], mode="markers", name=f"{label} ({small_label(k)})",
                    legendgroup=str(grp), showlegend=False,
                    marker={"size": 8, "symbol": "circle-open", "color": _rgba(colour, 0.55), "line": {"width": 1.5}},
                    customdata=[f"{30 * m}-{30 * m + 29}" for m in xs],
                    hovertemplate=f"{label}<br>Days %{{customdata}}: {small_label(k)}<extra></extra>",
                )
            )
    if flagged:
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=f"Open marker: {small_label(k)} assessments",
                marker={"symbol": "circle-open", "size": 9, "color": SMALL_GREY, "line": {"width": 1.5}},
                hoverinfo="skip",
            )
        )
    fig.update_xaxes(title_text="Months since enrollment (30-day steps; 0 = first 30 days)",
                     dtick=1 if last <= 18 else 3, range=[-0.4, max(1, last) + 0.4])
    fig.update_yaxes(title_text="Mean score" + (
        f" (range {inst.min_score:g}-{inst.max_score:g}; {inst.better} is better)" if inst else ""))
    basis = shown if not shown.empty else df
    vals = pd.concat([basis["mean"], basis.get("ci95_low", basis["mean"]), basis.get("ci95_high", basis["mean"])])
    vals = vals.astype(float)
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    pad = max((hi - lo) * 0.12, 1.0)
    lo, hi = lo - pad, hi + pad
    if inst:
        lo, hi = max(inst.min_score, lo), min(inst.max_score, hi)
    fig.update_yaxes(range=[lo, hi])
    fig.update_layout(showlegend=not one_line or groups[0] != "all" or flagged)
    note = (
        "Mean of all assessments in each 30-day step since enrollment, with 95% confidence band; "
        "the people assessed differ between steps."
    )
    return _finish(
        fig, title=_title(title, n, k, "assessments"), n=n, footnote=_source(note, flagged, k, "points"),
    )


def reliable_change_chart(
    change: pd.DataFrame | None,
    *,
    k: int = SMALL_N,
    small_groups: Iterable[str] = frozenset(),
    instruments: Mapping[str, Instrument] | None = None,
) -> go.Figure:
    """Stacked 100% bars: improved / no reliable change / declined, per instrument (and group).

    `change`: outcome_change (grp, instrument, n_paired, improved, no_reliable_change,
    declined). Rows where nobody could be classified are left out. A row with fewer than k
    paired participants (or whose group is in `small_groups`) is hatched with "n<11" and its
    shares are not printed.
    """
    title = "Reliable change from intake to follow-up"
    cols = ("improved", "no_reliable_change", "declined")
    if _missing(change, ("instrument", *cols)):
        return no_data_figure(title)
    df = change.copy()
    if "grp" not in df.columns:
        df["grp"] = "all"
    df["classified"] = df[list(cols)].sum(axis=1, min_count=1)
    df = df[df["classified"].isna() | (df["classified"] > 0)]
    if df.empty:
        return no_data_figure(title, subtitle="Not enough paired participants to classify change")
    small_set = set(small_groups)
    multi = df["grp"].nunique() > 1
    n_col = df["n_paired"] if "n_paired" in df.columns else df["classified"]
    labels, smalls = [], []
    for grp, code, nn in zip(df["grp"], df["instrument"], n_col, strict=True):
        small = is_small(nn, k) or grp in small_set
        head = f"{group_label(grp)} · {code}" if multi else instrument_name(code, (instruments or {}).get(code))
        labels.append(f"{head}  ({small_label(k) if small else n_text(nn, k)})")
        smalls.append(small)
    flagged = any(smalls)
    fig = go.Figure()
    for key, colour in zip(cols, (IMPROVED, NEUTRAL, DECLINED), strict=True):
        share = (df[key] / df["classified"] * 100).tolist()
        fig.add_trace(
            go.Bar(
                y=labels, x=[0 if _num(v) is None else v for v in share], orientation="h",
                name=RELIABLE_CHANGE_LABELS[key], showlegend=False,
                marker={
                    "color": [_rgba(colour, 0.4) if s else colour for s in smalls],
                    "pattern": {"shape": [SMALL_PATTERN if s else "" for s in smalls], "fgcolor": colour},
                    "line": {"color": "white", "width": 1},
                },
                text=["" if s or _num(v) is None or v < 4 else f"{v:.0f}%" for v, s in zip(share, smalls, strict=True)],
                textposition="inside", insidetextanchor="middle",
                textfont={"color": "white", "size": 12},
                customdata=[small_label(k) if s else f"{_num(v) or 0:.0f}%" for v, s in zip(share, smalls, strict=True)],
                hovertemplate=f"%{{y}}<br>{RELIABLE_CHANGE_LABELS[key]}: %{{customdata}}<extra></extra>",
            )
        )
        _legend_entry(fig, RELIABLE_CHANGE_LABELS[key], colour)
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(title_text="Share of paired participants", **_percent_axis(range=[0, 100]))
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", showline=False, type="category")
    note = (
        "Reliable change (Jacobson & Truax): a change larger than measurement error alone would give "
        "(|RC| >= 1.96), using each instrument's published reliability."
    )
    # Participants overlap between instruments, so n is given per instrument, summed over groups.
    per_instrument = []
    for code in dict.fromkeys(df["instrument"]):
        ns = n_col[df["instrument"] == code]
        tot = ns.sum(min_count=1) if not ns.isna().any() else np.nan
        per_instrument.append(f"{n_text(tot, k)} {code}" if len(set(df['instrument'])) > 1 else n_text(tot, k))
    total = n_col.sum(min_count=1) if not n_col.isna().any() else np.nan
    title = f"{title} ({'; '.join(per_instrument)}{' participants' if len(per_instrument) == 1 else ''})"
    height = max(300, 200 + 44 * len(df))
    return _finish(
        fig, title=title, n=total, subtitle="n per row: participants with an intake and a follow-up",
        footnote=_source(note, flagged, k, "rows"), height=height, labels=labels,
    )


def _bin_changes(df: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Pool change values into at most ~16 bins centred on multiples of a width, one centred on 0."""
    values = df["change"].astype(float)
    span = float(values.max() - values.min()) if len(values) else 0.0
    width = 1.0
    # Odd widths: scores are whole numbers, so no change sits on a bin edge.
    for w in (1, 3, 5, 9, 15, 25, 51):
        width = float(w)
        if span / w <= 16:
            break
    out = df.assign(center=np.floor(values / width + 0.5) * width)
    g = out.groupby("center")["participants"]
    shown = g.count()
    # partial: the bin pools a suppressed (blank) count with shown ones, so its sum leaves it out
    bins = pd.DataFrame({"participants": g.sum(min_count=1), "partial": (shown > 0) & (shown < g.size())})
    return bins.reset_index(), width


def change_distribution_chart(
    dist: pd.DataFrame | None,
    instrument: str,
    *,
    k: int = SMALL_N,
    threshold: float | None = None,
    inst: Instrument | None = None,
) -> go.Figure:
    """How many paired participants had each score change: bars with a line at 0.

    `dist`: change_distribution (grp, instrument, change, participants); groups pooled.
    Changes are pooled into bins of 3, 5, 9... points when they spread widely. Bars in the
    improving direction are green, declining vermillion, no change grey. `threshold`: the
    reliable-change size in points (1.96 * s_diff from outcome_change) to mark as dashed lines.
    Bars with fewer than k participants are hatched and printed "<11". `inst`: the instrument's
    definition in the store (its direction colours the bars).
    """
    inst = _entry(instrument, inst)
    name = instrument_name(instrument, inst)
    title = f"{name}: change from intake to follow-up"
    df = _instrument_rows(dist, instrument, ("change", "participants"))
    df = df[df["change"].notna()] if not df.empty else df
    if df.empty:
        return no_data_figure(title)
    bins, width = _bin_changes(df)
    n = float(bins["participants"].sum(min_count=1)) if not bins["participants"].isna().any() else np.nan
    up = 1 if _higher_is_better(instrument, inst) else -1
    colours = [IMPROVED if c * up > 0 else DECLINED if c * up < 0 else NEUTRAL for c in bins["center"]]
    smalls = [is_small(v, k) for v in bins["participants"]]
    flagged = any(smalls)
    texts = [f"{int(v):,}+" if p else count_text(v, k)
             for v, p in zip(bins["participants"], bins["partial"], strict=True)]
    hover = [
        (f"{c:+g}" if width == 1 else f"{c - width / 2:+g} to {c + width / 2:+g}") + f": {t}"
        for c, t in zip(bins["center"], texts, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=bins["center"], y=bins["participants"].fillna(0), width=width * 0.85, name="Participants",
            marker={
                "color": [_rgba(c, 0.45) if s else c for c, s in zip(colours, smalls, strict=True)],
                "pattern": {"shape": [SMALL_PATTERN if s else "" for s in smalls], "fgcolor": colours},
            },
            text=texts, textposition="outside", cliponaxis=False,
            textfont={"size": 11, "color": TEXT}, customdata=hover,
            hovertemplate="Change %{customdata} participants<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": AXIS, "width": 1.2, "dash": "solid"})
    if _num(threshold):
        for sign in (-1, 1):
            fig.add_vline(x=sign * threshold, line={"color": MUTED, "width": 1, "dash": "dash"})
        fig.add_annotation(
            name="threshold_label", x=threshold, y=1, yref="paper", xanchor="left", yanchor="bottom",
            text=f"reliable change ±{threshold:.1f}", showarrow=False, font={"size": 11, "color": MUTED},
        )
    better = "higher" if up > 0 else "lower"
    binned = "" if width == 1 else f" (bins of {width:g} points)"
    fig.update_xaxes(title_text=f"Change in {name} score, follow-up minus intake{binned}", zeroline=False)
    if width > 1:
        # ticks on the bin centres, so each bar reads as "about +6" rather than sitting between ticks
        fig.update_xaxes(tickmode="array", tickvals=bins["center"].tolist(),
                         ticktext=[f"{c:+g}" if c else "0" for c in bins["center"]])
    ymax = float(bins["participants"].max() or 1)
    fig.update_yaxes(title_text="Participants", range=[0, ymax * 1.18], **_count_axis(ymax))
    fig.update_layout(showlegend=False, bargap=0.1)
    note = (
        f"Participants with an intake and a follow-up; {better} scores are better. "
        "Green: better than at intake; vermillion: worse; grey: "
        + ("no change." if width == 1 else f"within {width / 2:g} points of no change.")
    )
    if bins["partial"].any():
        note += " A count marked + leaves out a suppressed count pooled into the same bar."
    return _finish(
        fig, title=_title(title, n, k, "participants"), n=n, footnote=_source(note, flagged, k, "bars"),
    )


# --------------------------------------------------------------------------- goals


def goals_chart(goals: pd.DataFrame | None, *, k: int = SMALL_N) -> go.Figure:
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
    smalls = [is_small(v, k) for v in agg["goals_set"]]
    flagged = any(smalls)
    all_rows = goals[goals["domain"] == "*"]
    n = float(all_rows["goals_set"].sum(min_count=1)) if not all_rows.empty else float(agg["goals_set"].sum())
    fig = go.Figure()
    for key, colour, legend in (("goals_set", BASELINE, "Goals set"), ("achieved", IMPROVED, "Achieved")):
        small_v = [is_small(v, k) for v in agg[key]]
        fig.add_trace(
            go.Bar(
                x=labels, y=agg[key].fillna(0), name=legend, showlegend=False,
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
        rate = small_label(k) if s else (f"{a / g * 100:.0f}% achieved" if _num(g) else "")
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


# --------------------------------------------------------------------------- comparison


_LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
# Finer ticks for a narrow range (hazard ratios of 0.6-2.3 would otherwise get only 1 and 2).
_LOG_TICKS_FINE = (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10)


def forest_plot(
    effects: pd.DataFrame | None,
    *,
    estimate: str = "estimate",
    low: str = "low",
    high: str = "high",
    label: str = "grp",
    n: str = "n",
    null_value: float = 0.0,
    x_title: str = "Estimate (95% CI)",
    k: int = SMALL_N,
    log_x: bool = False,
    percent: bool = False,
    title: str | None = None,
    by: str | None = None,
    n_unit: str = "",
    small_groups: Iterable[str] = frozenset(),
) -> go.Figure:
    """One row per group: point estimate with 95% CI whiskers, a dashed reference line at
    `null_value`, and "estimate (low to high)   n = .." printed at the right.

    Generic: per-group mean change with CI (null 0), hazard ratios (null 1, `log_x=True`),
    attendance rates (`percent=True` for 0-1 values; null e.g. the pooled rate). Rows keep the
    frame's order, top to bottom. The title defaults to `x_title` (plus "by <dimension>" when
    `by` names one), with n summed over rows (`n_unit` after it). A row with n below k (or in
    `small_groups`) is faded with "n<11" and no numbers; a row with no estimate (suppressed)
    shows only its flag.
    """
    if title is None:
        title = x_title if by is None else f"{x_title} by {DIMENSION_LABELS.get(by, by).lower()}"
    if _missing(effects, (estimate, label)):
        return no_data_figure(title)
    df = effects.reset_index(drop=True)
    scale = 100.0 if percent else 1.0
    labels = [group_label(g) for g in df[label]]
    has_n = n in df.columns
    ns = df[n] if has_n else pd.Series([np.nan] * len(df))
    small_set = set(small_groups)
    smalls = [(has_n and is_small(v, k)) or g in small_set for v, g in zip(ns, df[label], strict=True)]
    flagged = any(smalls)

    def column(name: str) -> np.ndarray:
        if name not in df.columns:
            return np.full(len(df), np.nan)
        return np.array([np.nan if _num(v) is None else _num(v) for v in df[name]], dtype=float) * scale

    est, lo, hi = column(estimate), column(low), column(high)
    if log_x:
        # a ratio of 0 or below has no place on a log axis
        for arr in (est, lo, hi):
            arr[arr <= 0] = np.nan

    def fmt(v: float) -> str:
        return f"{v:.1f}%" if percent else (f"{v:.2f}" if log_x else f"{v:.1f}")

    ci_text = [
        "" if np.isnan(e) else fmt(e) + ("" if np.isnan(a) or np.isnan(b) else f" ({fmt(a)} to {fmt(b)})")
        for e, a, b in zip(est, lo, hi, strict=True)
    ]
    fig = go.Figure()
    # Whiskers as plain line segments (None breaks the line between rows): error_x would draw
    # a cap even where a CI is undefined, and could not fade a small row's whisker.
    for faded in (False, True):
        wx, wy = [], []
        for lab, a_, b_, s in zip(labels, lo, hi, smalls, strict=True):
            if s == faded and not (np.isnan(a_) or np.isnan(b_)):
                wx += [a_, b_, None]
                wy += [lab, lab, None]
        if wx:
            fig.add_trace(
                go.Scatter(
                    x=wx, y=wy, mode="lines", name="95% CI (small groups)" if faded else "95% CI",
                    line={"color": _rgba(AXIS, 0.35) if faded else AXIS, "width": 1.6},
                    hoverinfo="skip", showlegend=False,
                )
            )
    right = [small_label(k) if s else (n_text(v, k) if has_n else "") for v, s in zip(ns, smalls, strict=True)]
    fig.add_trace(
        go.Scatter(
            x=est, y=labels, mode="markers", name="Estimate",
            marker={"symbol": "square", "size": 11, "color": [_rgba(PALETTE[0], 0.4) if s else PALETTE[0] for s in smalls]},
            customdata=np.column_stack([ci_text, right]),
            hovertemplate="%{y}: %{customdata[0]} (%{customdata[1]})<extra></extra>",
        )
    )
    null_x = null_value * scale
    # The reference line spans the plot height (paper units) at the null value (data units;
    # shapes take data values on a log axis too, unlike axis ranges).
    fig.add_shape(
        name="null_line", type="line", xref="x", yref="paper", y0=0, y1=1, x0=null_x, x1=null_x,
        line={"color": MUTED, "width": 1.2, "dash": "dash"},
    )
    side_texts = []
    for lab, s, r, ct in zip(labels, smalls, right, ci_text, strict=True):
        text = f"{ct}   {r}" if ct and not s else r
        side_texts.append(text)
        fig.add_annotation(
            name="n_label", x=1, xref="paper", xanchor="left", xshift=12, y=lab, yref="y",
            text=text, showarrow=False, align="left", font={"size": 12, "color": MUTED if s else TEXT},
        )
    finite = np.concatenate([est[~np.isnan(est)], lo[~np.isnan(lo)], hi[~np.isnan(hi)], [null_x]])
    if log_x:
        finite = finite[finite > 0]
        a, b = math.log10(finite.min()), math.log10(finite.max())
        pad = max((b - a) * 0.08, 0.05)
        ticks = [t for t in _LOG_TICKS_FINE if a - pad <= math.log10(t) <= b + pad]
        if len(ticks) < 4 or len(ticks) > 8:
            ticks = [t for t in _LOG_TICKS if a - pad <= math.log10(t) <= b + pad]
        fig.update_xaxes(type="log", range=[a - pad, b + pad], tickmode="array", tickvals=ticks,
                         ticktext=[f"{t:g}" for t in ticks])
    else:
        a, b = float(finite.min()), float(finite.max())
        pad = max((b - a) * 0.08, 0.5 if not percent else 2)
        fig.update_xaxes(range=[a - pad, b + pad], ticksuffix="%" if percent else "")
    fig.update_xaxes(title_text=x_title, showgrid=True, gridcolor=GRID)
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", showline=False, type="category")
    fig.update_layout(showlegend=False)
    total = float(ns.sum(min_count=1)) if has_n and not ns.isna().any() else np.nan
    longest = max((len(t) for t in side_texts), default=0)
    return _finish(
        fig, title=_title(title, total, k, n_unit) if has_n else title, n=total,
        footnote=_source("Squares: estimates; lines: 95% confidence intervals; dashed line: reference value.",
                         flagged, k, "rows"),
        height=max(300, 190 + 42 * len(df)), right=30 + int(6.6 * longest), labels=labels,
    )


# --------------------------------------------------------------------------- mentors


def mentor_chart(mentors: pd.DataFrame | None, *, k: int = SMALL_N) -> go.Figure:
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
    smalls = [is_small(d, k) for d in denom] if has_counts else [False] * len(df)
    drawn = (df["caseload_at_end"].notna() & df["attendance_rate"].notna()).tolist()
    flagged = any(s and d for s, d in zip(smalls, drawn, strict=True))  # a mentor not drawn needs no key
    fig = go.Figure()
    for i, sup in enumerate(sorted(df["supervisor"].unique(), key=str)):
        part_idx = [j for j, s in enumerate(df["supervisor"]) if s == sup]
        part = df.iloc[part_idx]
        colour = _colour(i)
        # Past eight supervisors colours repeat, so the shape changes with each round.
        shape = ("circle", "square", "diamond", "triangle-up")[(i // len(PALETTE)) % 4]
        sm = [smalls[j] for j in part_idx]
        fig.add_trace(
            go.Scatter(
                x=part["caseload_at_end"], y=[_pct(v) for v in part["attendance_rate"]], mode="markers",
                name=str(sup), showlegend=False,
                marker={
                    "size": 12, "color": colour,
                    "symbol": [f"{shape}-open" if s else shape for s in sm],
                    "line": {"width": [2 if s else 1 for s in sm], "color": [colour if s else "white" for s in sm]},
                    "opacity": 0.9,
                },
                customdata=np.column_stack(
                    [
                        part["mentor_id"].astype(str),
                        part.get("site", pd.Series([""] * len(part))).astype(str),
                        [small_label(k) if s else f"{_fmt_pct(r)} of {int(d):,} sessions"
                         for r, d, s in zip(part["attendance_rate"], denom.iloc[part_idx], sm, strict=True)]
                        if has_counts else [_fmt_pct(r) for r in part["attendance_rate"]],
                    ]
                ),
                hovertemplate=(
                    "Mentor %{customdata[0]} (%{customdata[1]})<br>Open pairs at end: %{x}"
                    "<br>Attendance: %{customdata[2]}<extra>" + str(sup) + "</extra>"
                ),
            )
        )
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="markers", name=str(sup), hoverinfo="skip",
                       marker={"color": colour, "size": 12, "symbol": shape})
        )
    counted = denom.notna()  # a suppressed (blank) count cannot be pooled
    if has_counts and denom[counted].sum() > 0:
        pooled = df.loc[counted, "attended"].sum() / denom[counted].sum() * 100
        fig.add_hline(y=pooled, line={"color": MUTED, "width": 1, "dash": "dash"})
        fig.add_annotation(
            name="pooled_label", x=1, xref="paper", xanchor="right", y=pooled, yanchor="bottom",
            text=f"{'All mentors' if counted.all() else 'Mentors with counts shown'}: {pooled:.0f}%",
            showarrow=False, font={"size": 11, "color": MUTED},
        )
    if flagged:
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=f"Open marker: {small_label(k)} sessions",
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


# --------------------------------------------------------------------------- data quality


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
            go.Bar(
                y=part["label"], x=part["n"], orientation="h", name=str(site), marker={"color": _colour(i)},
                hovertemplate=f"{site}<br>%{{y}}: %{{x:,}}<extra></extra>",
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
