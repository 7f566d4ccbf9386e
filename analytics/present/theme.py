"""The house style every chart shares: colours, template, layout, small-number marks and labels."""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from analytics.domain.contract import INSTRUMENTS, Instrument
from analytics.domain.numbers import DEFAULT_K, flagged_small
from analytics.domain.numbers import finite_or_none as _num

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
    fig.layout.template = HOUSE_TEMPLATE
    fig.layout.height = height
    fig.layout.meta = meta
    merge_layout(
        fig,
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


def with_footnote(fig: go.Figure, note: str) -> go.Figure:
    """A copy of ``fig`` with ``note`` (plain text) added to its footnote, e.g. what an export
    of it leaves out. The original figure is not changed."""
    out = go.Figure(fig)
    meta = dict(out.layout.meta) if isinstance(out.layout.meta, dict) else {}
    footnote = meta.get("footnote") or ""
    note = html.escape(note, quote=False)
    return house_layout(out, title=out.layout.title.text or "",
                        footnote=f"{footnote}<br>{note}" if footnote else note)


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




def small_label(k: int = DEFAULT_K) -> str:
    """The flag printed on a small group's rate or mean: "n<11"."""
    return f"n<{k}"


def count_text(n, k: int = DEFAULT_K) -> str:
    """A count as printed on a chart: "1,234", or "<11" when small."""
    return f"<{k}" if flagged_small(n, k) else f"{int(_num(n)):,}"


def n_text(n, k: int = DEFAULT_K) -> str:
    """'n = 1,234', or 'n<11' when small."""
    return small_label(k) if flagged_small(n, k) else f"n = {int(_num(n)):,}"


def _title(text: str, n, k: int, unit: str = "") -> str:
    """A chart title carrying n: "Why pairs closed (n = 725 closures)"."""
    tail = f" {unit}" if unit else ""
    if flagged_small(n, k):
        return f"{text} ({small_label(k)}{tail})"
    return f"{text} (n = {int(_num(n) or 0):,}{tail})"


def group_label(grp, all_label: str = ALL_LABEL) -> str:
    return all_label if grp is None or str(grp) == "all" else str(grp)


def _entry(code: str, inst: Instrument | None = None) -> Instrument | None:
    """The instrument's definition: the one given (the store's, analytics.store.instruments.reported),
    else the built-in entry of that code."""
    return inst if inst is not None else INSTRUMENTS.get(code)


def instrument_name(code: str, inst: Instrument | None = None) -> str:
    entry = _entry(code, inst)
    return entry.name if entry else str(code)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _pct(x) -> float | None:
    v = _num(x)
    return None if v is None else v * 100.0


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


def _merged(current: dict, update: dict) -> dict:
    """``current`` with ``update`` merged in, nested dicts key by key: ``update_layout``'s rule."""
    out = dict(current)
    for key, value in update.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def merge_layout(fig: go.Figure, **parts) -> go.Figure:
    """``fig.update_layout(**parts)``, faster: a compound part given as a dict (title, legend,
    margin, an axis, a second axis not drawn yet) has its current properties merged with the
    new ones as plain dicts, then is assigned once; any other value is assigned, lists whole
    (as plotly assigns an axis range or tick values; an array of objects such as annotations,
    which plotly's update merges item by item, is not for this). The same figure; plotly's own
    update walks every nested property through its validators (9 ms for a title with a
    subtitle, 0.7 ms assigned)."""
    for name, value in parts.items():
        if isinstance(value, dict) and name in fig.layout and fig.layout[name] is not None:
            value = _merged(fig.layout[name].to_plotly_json(), value)
        fig.layout[name] = value
    return fig


def add_lines(fig: go.Figure, *lines: tuple[str, float, dict]) -> go.Figure:
    """``fig.add_vline(x=v, line=line)`` for each ("x", v, line) and ``fig.add_hline(y=v,
    line=line)`` for each ("y", v, line), in order, faster: the very shapes those add (a line at
    v on its axis across the other axis's domain), assigned once after any already there.
    For a figure without subplots (one x and one y axis, refused otherwise); plotly's own walks
    the subplot grid for each line, 2-4 ms a line."""
    if fig._grid_ref is not None:
        raise ValueError("add_lines draws on a figure without subplots; use fig.add_vline there")
    shapes = []
    for axis, v, line in lines:
        if axis == "x":
            shapes.append({"type": "line", "x0": v, "x1": v, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                           "line": line})
        elif axis == "y":
            shapes.append({"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": v, "y1": v, "yref": "y",
                           "line": line})
        else:
            raise ValueError(f"a line is drawn at an x or a y value, not {axis!r}")
    fig.layout.shapes = [*fig.layout.shapes, *shapes]
    return fig


# A chart of groups draws at most this many (a program with hundreds or thousands of mentors
# made charts of one row each a hundred thousand pixels tall and minutes to build); which ones
# each chart draws, and the footnote saying so, are its own (charts.followup.most_missed,
# analytics.panels.drawn_groups). The demo program's 40 mentors are all drawn.
MAX_GROUPS_DRAWN = 40
_GROUPS_WORD = {"mentor": "mentors", "site": "sites", "supervisor": "supervisors"}


def groups_word(by: str | None) -> str:
    """The groups of a dimension in a footnote: "mentors", "sites", "supervisors", else "groups"."""
    return _GROUPS_WORD.get(by or "", "groups")


def add_annotations(fig: go.Figure, annotations: list[dict]) -> go.Figure:
    """``fig.add_annotation(**a)`` for each of `annotations`, in order, assigned once after any
    already there: plotly's add_annotation validates the figure's whole list again on every
    call, so a label per row cost time growing with the square of the rows (30 s for a forest
    plot of 494 mentors). For a figure without subplots, as ``add_lines``."""
    if fig._grid_ref is not None:
        raise ValueError("add_annotations writes on a figure without subplots; use fig.add_annotation there")
    fig.layout.annotations = [*fig.layout.annotations, *annotations]
    return fig


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def trace(kind: str, **props) -> dict:
    """A trace of type ``kind`` as a plain dict, for ``fig.add_trace`` and ``go.Figure``: the
    figure validates it once, where a ``go.Scatter`` or ``go.Bar`` is validated when built and
    again, whole, when added (twice per point's colour and pattern: a tenth of a second for
    the follow-up rates of 4,785 mentors). The same figure either way."""
    return {"type": kind, **props}


def legend_trace(name: str, colour: str, kind: str = "bar") -> dict:
    """A legend-only trace (``trace``'s dict). Plotly draws a legend swatch from a trace's first
    point, which may be a flagged (faded, hatched) one, so the real traces stay out of the
    legend. A marker, not a bar: an empty bar trace would still take a slot in grouped bar
    charts."""
    return trace(
        "scatter", x=[None], y=[None], mode="lines+markers" if kind == "line" else "markers", name=name,
        hoverinfo="skip", line={"color": colour, "width": 2.5},
        marker={
            "color": colour,
            "size": 12 if kind in ("bar", "marker") else 8,
            "symbol": {"bar": "square", "marker": "circle", "open": "circle-open", "line": "circle"}[kind],
            "line": {"width": 2 if kind == "open" else 0},
        },
    )


def _legend_entry(fig: go.Figure, name: str, colour: str, kind: str = "bar") -> None:
    """``legend_trace`` added to `fig`."""
    fig.add_trace(legend_trace(name, colour, kind))


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
