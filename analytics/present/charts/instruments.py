"""Charts of the instrument registry's measures: the cut-off shares and dose and change.

Both read the direction of the instrument (registry.Instrument.higher_is_better): green is an
improvement and vermillion a decline whichever way the scale runs, and every axis says which
way is better. The dose chart is an association, never an effect, and says so in its title
block.
"""

from __future__ import annotations

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
    IMPROVED,
    MUTED,
    NEUTRAL,
    SMALL_PATTERN,
    TEXT,
    _entry,
    _finish,
    _percent_axis,
    _rgba,
    _source,
    _title,
    add_lines,
    instrument_name,
    n_text,
    no_data_figure,
    small_label,
    trace,
)

BAND_LABELS = {"0-3": "0-3 sessions", "4-11": "4-11 sessions", "12+": "12 or more"}


def _one_row(change: pd.DataFrame | None, instrument: str, grp: str = "all"):
    if change is None or change.empty or "instrument" not in change.columns:
        return None
    rows = change[change["instrument"] == instrument]
    if "grp" in rows.columns and (rows["grp"] == grp).any():
        rows = rows[rows["grp"] == grp]
    return rows.iloc[0] if not rows.empty else None


@escaped_inputs
def threshold_chart(
    change: pd.DataFrame | None, instrument: str, *, k: int = DEFAULT_K, inst: Instrument | None = None,
) -> go.Figure:
    """The share of paired participants meeting the instrument's published cut-off at intake
    and at follow-up (outcome_change: n_paired, threshold_baseline_share, threshold_followup_share).
    Hidden (n<11) when fewer than k are paired."""
    inst = _entry(instrument, inst)
    name = instrument_name(instrument, inst)
    if inst is None or inst.threshold is None:
        return no_data_figure(f"{name}: published cut-off", "This instrument has no cut-off in the registry")
    title = f"{name}: at the cut-off ({inst.threshold_text()})"
    r = _one_row(change, instrument)
    n = _num(r["n_paired"]) if r is not None else None
    if r is None or not n:
        return no_data_figure(title, subtitle="Participants with an intake and a follow-up")
    small = flagged_small(n, k)
    labels = ["Intake", "Follow-up"]
    shares = [_num(r.get("threshold_baseline_share")), _num(r.get("threshold_followup_share"))]
    hidden = small or any(v is None for v in shares)
    y = [0 if hidden or v is None else v * 100 for v in shares]
    fig = go.Figure(
        trace(
            "bar", x=labels, y=y, width=0.55, name="Share at the cut-off", showlegend=False,
            marker={
                "color": [_rgba(c, 0.45) if hidden else c for c in (BASELINE, FOLLOWUP)],
                "pattern": {"shape": [SMALL_PATTERN if hidden else ""] * 2},
            },
            text=[small_label(k) if hidden else percent(v) for v in shares], textposition="outside",
            cliponaxis=False, textfont={"size": 13, "color": MUTED if hidden else TEXT},
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(title_text=f"Share with a score of {inst.threshold_text()}", **_percent_axis())
    fig.update_layout(bargap=0.4)
    meets = "at or above" if inst.higher_is_better else "at or below"
    note = (
        f"Participants with an intake and a follow-up; a score {meets} {inst.threshold:g} meets the cut-off "
        f"({inst.better} scores are better)."
    )
    return _finish(fig, title=_title(title, n, k, "participants"), n=n,
                   subtitle="Share meeting the published cut-off, at intake and at latest follow-up",
                   footnote=_source(note, hidden, k, "bars"), height=360)


@escaped_inputs
def dose_change_chart(
    dose: pd.DataFrame | None, instrument: str, *, k: int = DEFAULT_K, inst: Instrument | None = None,
    grp: str = "all",
) -> go.Figure:
    """Mean change by dose band (0-3, 4-11, 12+ attended sessions between intake and follow-up),
    with 95% CIs. `dose`: dose_change (grp, instrument, band, n, mean_change, ci95_low,
    ci95_high). A band with fewer than k participants is hatched and shows no mean."""
    inst = _entry(instrument, inst)
    name = instrument_name(instrument, inst)
    title = f"{name}: change by sessions attended"
    subtitle = "An association, not an effect: participants who met more often may differ in other ways"
    if dose is None or dose.empty or not {"instrument", "band", "n", "mean_change"} <= set(dose.columns):
        return no_data_figure(title, subtitle=subtitle)
    rows = dose[(dose["instrument"] == instrument) & (dose["band"] != "*")]
    if "grp" in rows.columns:
        rows = rows[rows["grp"] == grp]
    rows = rows.set_index("band").reindex(list(BAND_LABELS)).reset_index()
    total = rows["n"].sum(min_count=1) if not rows["n"].isna().any() else np.nan
    if rows.empty or _num(total) == 0:
        return no_data_figure(title, subtitle=subtitle)
    d = 1 if (inst is None or inst.higher_is_better) else -1
    x = [BAND_LABELS[b] for b in rows["band"]]
    smalls = [flagged_small(v, k) or _num(m) is None for v, m in zip(rows["n"], rows["mean_change"], strict=True)]
    means = [None if s else float(m) for m, s in zip(rows["mean_change"], smalls, strict=True)]
    colours = [NEUTRAL if m is None or m == 0 else IMPROVED if d * m > 0 else DECLINED for m in means]
    lo = [None if s or pd.isna(v) else float(v) for v, s in zip(rows.get("ci95_low", rows["n"] * np.nan), smalls,
                                                                  strict=True)]
    hi = [None if s or pd.isna(v) else float(v) for v, s in zip(rows.get("ci95_high", rows["n"] * np.nan), smalls,
                                                                  strict=True)]
    err_plus = [h - m if h is not None and m is not None else 0 for h, m in zip(hi, means, strict=True)]
    err_minus = [m - lw if lw is not None and m is not None else 0 for lw, m in zip(lo, means, strict=True)]
    fig = go.Figure(
        trace(
            "bar", x=x, y=[0 if m is None else m for m in means], width=0.55, name="Mean change", showlegend=False,
            marker={
                "color": [_rgba(c, 0.45) if s else c for c, s in zip(colours, smalls, strict=True)],
                "pattern": {"shape": [SMALL_PATTERN if s else "" for s in smalls], "fgcolor": colours},
            },
            error_y={"type": "data", "symmetric": False, "array": err_plus, "arrayminus": err_minus,
                     "color": AXIS, "thickness": 1.2, "width": 6},
            # the mean inside its bar, by the zero line, clear of the CI whiskers; a hidden band's
            # label above its empty slot
            text=[small_label(k) if s else fixed(m, 1, signed=True, grouping=False) for m, s in zip(means, smalls, strict=True)],
            textposition=["outside" if s else "inside" for s in smalls], insidetextanchor="start",
            cliponaxis=False, textfont={"size": 12, "color": [TEXT if s else "white" for s in smalls]},
            customdata=[n_text(v, k) for v in rows["n"]],
            hovertemplate="%{x}: mean change %{text} (%{customdata})<extra></extra>",
        )
    )
    add_lines(fig, ("y", 0, {"color": AXIS, "width": 1}))
    fig.update_xaxes(title_text="Attended sessions between intake and follow-up",
                     ticktext=[f"{lab}<br>({small_label(k) if s else n_text(v, k)})"
                               for lab, v, s in zip(x, rows["n"], smalls, strict=True)],
                     tickvals=x, tickmode="array")
    vals = [v for v in (*lo, *hi, *means) if v is not None] or [0.0]
    span = max(abs(min(vals)), abs(max(vals)), 1.0)
    fig.update_yaxes(title_text=f"Mean change in score ({inst.better if inst else 'higher'} is better)",
                     range=[min(0.0, min(vals)) - 0.25 * span, max(0.0, max(vals)) + 0.25 * span], zeroline=False)
    fig.update_layout(bargap=0.35)
    better = "up" if d > 0 else "down"
    note = (
        f"Follow-up minus intake per participant, mean with 95% CI, by attended sessions (any of their pairs) "
        f"from intake to follow-up. On this scale an improvement goes {better}: green, better; vermillion, worse."
    )
    # two-line tick labels (band and n) push the axis title down: more room below the plot
    return _finish(fig, title=_title(title, total, k, "participants"), n=total, subtitle=subtitle,
                   footnote=_source(note, any(smalls), k, "bands"), height=420, below=84)
