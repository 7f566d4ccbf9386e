"""Outcome charts: intake vs follow-up, trend, reliable change and the change distribution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.domain.contract import Instrument
from analytics.domain.numbers import DEFAULT_K, fixed, flagged_small, percent
from analytics.domain.numbers import finite_or_none as _num
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    AXIS,
    BASELINE,
    DECLINED,
    FOLLOWUP,
    GRID,
    IMPROVED,
    MUTED,
    NEUTRAL,
    PALETTE,
    RELIABLE_CHANGE_LABELS,
    SMALL_GREY,
    SMALL_PATTERN,
    TEXT,
    _band_alpha,
    _colour,
    _count_axis,
    _entry,
    _finish,
    _legend_entry,
    _missing,
    _percent_axis,
    _rgba,
    _source,
    _title,
    add_annotations,
    add_lines,
    count_text,
    group_label,
    instrument_name,
    n_text,
    no_data_figure,
    small_label,
    trace,
)


def _higher_is_better(code: str, inst: Instrument | None = None) -> bool:
    entry = _entry(code, inst)
    return entry.higher_is_better if entry else True


# --------------------------------------------------------------------------- outcomes


def _instrument_rows(df: pd.DataFrame | None, instrument: str | None, need: Sequence[str]) -> pd.DataFrame:
    if _missing(df, need):
        return pd.DataFrame(columns=list(need))
    if instrument is not None and "instrument" in df.columns:
        df = df[df["instrument"] == instrument]
    return df


@escaped_inputs
def intake_followup_chart(
    change: pd.DataFrame | None,
    instrument: str,
    *,
    k: int = DEFAULT_K,
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
    smalls = [flagged_small(n, k) or g in small_set for n, g in zip(df["n_paired"], df["grp"], strict=True)]
    flagged = any(smalls)
    n = float(df["n_paired"].sum(min_count=1)) if not df["n_paired"].isna().any() else np.nan

    fig = go.Figure()
    for lab, b, f, s in zip(labels, df["baseline_mean"], df["followup_mean"], smalls, strict=True):
        if _num(b) is None or _num(f) is None:
            continue
        fig.add_trace(
            trace(
                "scatter", x=[b, f], y=[lab, lab], mode="lines", showlegend=False, hoverinfo="skip",
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
            trace(
                "scatter", x=vals, y=labels, mode="markers+text", name=legend, showlegend=False,
                marker={
                    "size": 15,
                    "color": [_rgba(colour, 0.45) if s else colour for s in smalls],
                    "line": {"color": "white", "width": 1.5},
                },
                text=["" if s else fixed(v, 1, grouping=False) for v, s in zip(vals, smalls, strict=True)], textposition=positions,
                textfont={"size": 12, "color": [MUTED if s else TEXT for s in smalls]},
                cliponaxis=False,
                # the mean as the label prints it (numbers.fixed), not rounded again by the browser
                customdata=np.column_stack(
                    [[fixed(v, 1, grouping=False) for v in vals], [n_text(v, k) for v in df["n_paired"]]]
                ) if len(df) else None,
                hovertemplate=f"%{{y}}<br>{legend}: %{{customdata[0]}} (%{{customdata[1]}})<extra></extra>",
            )
        )
        _legend_entry(fig, legend, colour, kind="marker")
    # n per group in a column at the right edge, outside the plot area.
    add_annotations(fig, [
        {"name": "n_label", "x": 1, "xref": "paper", "xanchor": "left", "xshift": 10, "y": lab, "yref": "y",
         "text": small_label(k) if s else n_text(nn, k), "showarrow": False,
         "font": {"size": 12, "color": MUTED if s else TEXT}}
        for lab, nn, s in zip(labels, df["n_paired"], smalls, strict=True)
    ])
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


@escaped_inputs
def trend_chart(
    trend: pd.DataFrame | None,
    instrument: str,
    *,
    k: int = DEFAULT_K,
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
    df = df.assign(small=[flagged_small(v, k) or g in small_set for v, g in zip(df["n"], df["grp"], strict=True)])
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
            fig.add_trace(trace("scatter", x=x, y=big["ci95_high"], mode="lines", line={"width": 0}, hoverinfo="skip",
                                     showlegend=False, legendgroup=str(grp), name=f"{label} 95% CI (upper)"))
            fig.add_trace(trace("scatter", x=x, y=big["ci95_low"], mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(colour, alpha), hoverinfo="skip", showlegend=False,
                                     legendgroup=str(grp), name=f"{label} 95% CI"))
        x = big["month"].astype(int).tolist()
        fig.add_trace(
            trace(
                "scatter", x=x, y=big["mean"], mode="lines+markers+text" if one_line and len(big) <= 15 else "lines+markers",
                name=label if not one_line or grp != "all" else "Mean score",
                legendgroup=str(grp),
                line={"color": colour, "width": 2.5},
                marker={"size": 8, "color": colour, "line": {"color": "white", "width": 1}},
                text=[n_text(v, k) for v in big["n"]], textposition="bottom center",
                textfont={"size": 10, "color": MUTED},
                customdata=np.column_stack(
                    [[n_text(v, k) for v in big["n"]], [f"{30 * m}-{30 * m + 29}" for m in x],
                     [fixed(v, 1, grouping=False) for v in big["mean"]]]
                ) if len(big) else None,
                hovertemplate=(
                    f"{label}<br>Days %{{customdata[1]}}: mean %{{customdata[2]}} (%{{customdata[0]}})<extra></extra>"
                ),
            )
        )
        if not small.empty:
            xs = small["month"].astype(int).tolist()
            fig.add_trace(
                trace(
                    "scatter", x=xs, y=small["mean"], mode="markers", name=f"{label} ({small_label(k)})",
                    legendgroup=str(grp), showlegend=False,
                    marker={"size": 8, "symbol": "circle-open", "color": _rgba(colour, 0.55), "line": {"width": 1.5}},
                    customdata=[f"{30 * m}-{30 * m + 29}" for m in xs],
                    hovertemplate=f"{label}<br>Days %{{customdata}}: {small_label(k)}<extra></extra>",
                )
            )
    if flagged:
        fig.add_trace(
            trace(
                "scatter", x=[None], y=[None], mode="markers", name=f"Open marker: {small_label(k)} assessments",
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


@escaped_inputs
def reliable_change_chart(
    change: pd.DataFrame | None,
    *,
    k: int = DEFAULT_K,
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
        small = flagged_small(nn, k) or grp in small_set
        head = f"{group_label(grp)} · {code}" if multi else instrument_name(code, (instruments or {}).get(code))
        labels.append(f"{head}  ({small_label(k) if small else n_text(nn, k)})")
        smalls.append(small)
    flagged = any(smalls)
    fig = go.Figure()
    for key, colour in zip(cols, (IMPROVED, NEUTRAL, DECLINED), strict=True):
        share = (df[key] / df["classified"]).tolist()
        fig.add_trace(
            trace(
                "bar", y=labels, x=[0 if _num(v) is None else v * 100 for v in share], orientation="h",
                name=RELIABLE_CHANGE_LABELS[key], showlegend=False,
                marker={
                    "color": [_rgba(colour, 0.4) if s else colour for s in smalls],
                    "pattern": {"shape": [SMALL_PATTERN if s else "" for s in smalls], "fgcolor": colour},
                    "line": {"color": "white", "width": 1},
                },
                text=["" if s or _num(v) is None or v < 0.04 else percent(v) for v, s in zip(share, smalls, strict=True)],
                textposition="inside", insidetextanchor="middle",
                textfont={"color": "white", "size": 12},
                customdata=[small_label(k) if s else percent(_num(v) or 0) for v, s in zip(share, smalls, strict=True)],
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


@escaped_inputs
def change_distribution_chart(
    dist: pd.DataFrame | None,
    instrument: str,
    *,
    k: int = DEFAULT_K,
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
    smalls = [flagged_small(v, k) for v in bins["participants"]]
    flagged = any(smalls)
    texts = [f"{int(v):,}+" if p else count_text(v, k)
             for v, p in zip(bins["participants"], bins["partial"], strict=True)]
    hover = [
        (f"{c:+g}" if width == 1 else f"{c - width / 2:+g} to {c + width / 2:+g}") + f": {t}"
        for c, t in zip(bins["center"], texts, strict=True)
    ]
    fig = go.Figure(
        trace(
            "bar", x=bins["center"], y=bins["participants"].fillna(0), width=width * 0.85, name="Participants",
            marker={
                "color": [_rgba(c, 0.45) if s else c for c, s in zip(colours, smalls, strict=True)],
                "pattern": {"shape": [SMALL_PATTERN if s else "" for s in smalls], "fgcolor": colours},
            },
            text=texts, textposition="outside", cliponaxis=False,
            textfont={"size": 11, "color": TEXT}, customdata=hover,
            hovertemplate="Change %{customdata} participants<extra></extra>",
        )
    )
    add_lines(fig, ("x", 0, {"color": AXIS, "width": 1.2, "dash": "solid"}))
    if _num(threshold):
        add_lines(fig, *(("x", sign * threshold, {"color": MUTED, "width": 1, "dash": "dash"}) for sign in (-1, 1)))
        fig.add_annotation(
            name="threshold_label", x=threshold, y=1, yref="paper", xanchor="left", yanchor="bottom",
            text=f"reliable change ±{fixed(threshold, 1)}", showarrow=False, font={"size": 11, "color": MUTED},
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
