"""Cohort comparison charts: the forest plot (hazard ratios, attendance, mean change per group)
and the Kaplan-Meier curves by group, with the notes an export of them adds."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.domain.numbers import DEFAULT_K, fixed, flagged_small
from analytics.domain.numbers import finite_or_none as _num
from analytics.domain.numbers import percent as share_text
from analytics.domain.scope import DIMENSION_LABELS
from analytics.present.charts.retention import km_chart
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    AXIS,
    GRID,
    MUTED,
    PALETTE,
    TEXT,
    _finish,
    _missing,
    _rgba,
    _source,
    _title,
    add_annotations,
    group_label,
    n_text,
    no_data_figure,
    small_label,
    trace,
    with_footnote,
)

# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class ForestSpec:
    """What one forest plot draws from its frame: the estimate and its 95% CI columns, the
    count column each row rests on (``n``, printed with ``n_unit``), the reference line
    (``null_value``), the axis (``log_x`` for ratios, ``percent`` for 0-1 shares) and its title."""

    estimate: str = "estimate"
    low: str = "low"
    high: str = "high"
    n: str = "n"
    n_unit: str = ""
    null_value: float = 0.0
    log_x: bool = False
    percent: bool = False
    x_title: str = "Estimate (95% CI)"

    @property
    def columns(self) -> list[str]:
        """The count, estimate and interval columns, in that order."""
        return [self.n, self.estimate, self.low, self.high]


# The Compare page's forest plots (analytics.metrics.compare's groups).
HAZARD_RATIOS = ForestSpec(
    estimate="hr", low="hr_lower", high="hr_upper", n="pairs", n_unit="pairs", null_value=1.0,
    log_x=True, x_title="Hazard of disengaging vs all other groups",
)
# Its reference line is the pooled attendance of the groups (null_value set per chart).
ATTENDANCE = ForestSpec(
    estimate="attendance_rate", low="attendance_low", high="attendance_high", n="sessions",
    n_unit="sessions", percent=True, x_title="Attendance rate",
)


def mean_change(code: str, higher_is_better: bool = True) -> ForestSpec:
    """An instrument's mean change per group (the axis says which way is better when lower
    scores are)."""
    better = "" if higher_is_better else " (lower is better)"
    return ForestSpec(
        estimate=f"{code}_mean_change", low=f"{code}_ci95_low", high=f"{code}_ci95_high",
        n=f"{code}_n_paired", n_unit="participants", null_value=0.0, x_title=f"{code} mean change{better}",
    )


def names_note(groups: Sequence, *, most: int = 6) -> str:
    """Groups named in a note: each name up to ``most``, else how many."""
    return ", ".join(map(str, groups)) if len(groups) <= most else f"{len(groups)} groups"


def not_drawn_note(left_out: Sequence, k: int) -> str:
    """An export's Kaplan-Meier note on the groups with fewer than k pairs matched."""
    return f"Not drawn (fewer than {k} pairs matched): {names_note(left_out)}."


def blanked_note(k: int) -> str:
    """An export's forest-plot note on rows whose estimate is hidden."""
    return (f"No estimate is shown where it rests on a suppressed count (1-{k - 1}, or one hidden with such a "
            "count so that totals cannot give it back).")


SHOWN_ATTENDANCE_NOTE = "Dashed line: attendance of the groups whose session counts are shown."


def _noted(fig: go.Figure, notes: Sequence[str]) -> go.Figure:
    for note in notes:
        fig = with_footnote(fig, note)
    return fig


@escaped_inputs
def km_by_group_chart(
    curve: pd.DataFrame | None,
    at_risk: pd.DataFrame | None = None,
    k: int = DEFAULT_K,
    *,
    small_groups: Iterable[str] = frozenset(),
    notes: Sequence[str] = (),
) -> go.Figure:
    """The Kaplan-Meier curves of the groups compared (``km_chart``), with ``notes`` (plain
    text, e.g. the groups an export leaves out) added to the footnote."""
    return _noted(km_chart(curve, at_risk, k, small_groups=small_groups), notes)


_LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
# Finer ticks for a narrow range (hazard ratios of 0.6-2.3 would otherwise get only 1 and 2).
_LOG_TICKS_FINE = (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10)


@escaped_inputs
def forest_plot(
    effects: pd.DataFrame | None,
    spec: ForestSpec = ForestSpec(),
    *,
    label: str = "grp",
    k: int = DEFAULT_K,
    title: str | None = None,
    by: str | None = None,
    small_groups: Iterable[str] = frozenset(),
    notes: Sequence[str] = (),
    rows: Sequence[int] | None = None,
) -> go.Figure:
    """One row per group: point estimate with 95% CI whiskers, a dashed reference line at
    `spec.null_value`, and "estimate (low to high)   n = .." printed at the right.

    Generic (``ForestSpec``): per-group mean change with CI (null 0), hazard ratios (null 1,
    `log_x`), attendance rates (`percent` for 0-1 values; null e.g. the pooled rate). Rows keep
    the frame's order, top to bottom. The title defaults to `spec.x_title` (plus "by
    <dimension>" when `by` names one), with n summed over rows (`spec.n_unit` after it). A row
    with n below k (or in `small_groups`) is faded with "n<11" and no numbers; a row with no
    estimate (suppressed) shows only its flag. `notes`: plain-text lines added to the footnote
    (what an export leaves out, which groups are drawn). `rows`: the positions of the rows to
    draw, in order (None: every row; the Compare page's charts past ``theme.MAX_GROUPS_DRAWN``
    groups, ``analytics.panels.drawn_groups``).
    """
    estimate, low, high, n = spec.estimate, spec.low, spec.high, spec.n
    null_value, x_title, log_x, percent, n_unit = spec.null_value, spec.x_title, spec.log_x, spec.percent, spec.n_unit
    if title is None:
        title = x_title if by is None else f"{x_title} by {DIMENSION_LABELS.get(by, by).lower()}"
    if _missing(effects, (estimate, label)):
        return _noted(no_data_figure(title), notes)
    df = effects.reset_index(drop=True)
    if rows is not None:
        df = df.iloc[list(rows)].reset_index(drop=True)
    scale = 100.0 if percent else 1.0
    labels = [group_label(g) for g in df[label]]
    has_n = n in df.columns
    ns = df[n] if has_n else pd.Series([np.nan] * len(df))
    small_set = set(small_groups)
    smalls = [(has_n and flagged_small(v, k)) or g in small_set for v, g in zip(ns, df[label], strict=True)]
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
        return share_text(v / scale) if percent else fixed(v, 2 if log_x else 1, grouping=False)

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
                trace(
                    "scatter", x=wx, y=wy, mode="lines", name="95% CI (small groups)" if faded else "95% CI",
                    line={"color": _rgba(AXIS, 0.35) if faded else AXIS, "width": 1.6},
                    hoverinfo="skip", showlegend=False,
                )
            )
    right = [small_label(k) if s else (n_text(v, k) if has_n else "") for v, s in zip(ns, smalls, strict=True)]
    fig.add_trace(
        trace(
            "scatter", x=est, y=labels, mode="markers", name="Estimate",
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
    side_texts = [f"{ct}   {r}" if ct and not s else r for s, r, ct in zip(smalls, right, ci_text, strict=True)]
    add_annotations(fig, [
        {"name": "n_label", "x": 1, "xref": "paper", "xanchor": "left", "xshift": 12, "y": lab, "yref": "y",
         "text": text, "showarrow": False, "align": "left", "font": {"size": 12, "color": MUTED if s else TEXT}}
        for lab, s, text in zip(labels, smalls, side_texts, strict=True)
    ])
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
    fig = _finish(
        fig, title=_title(title, total, k, n_unit) if has_n else title, n=total,
        footnote=_source("Squares: estimates; lines: 95% confidence intervals; dashed line: reference value.",
                         flagged, k, "rows"),
        height=max(300, 190 + 42 * len(df)), right=30 + int(6.6 * longest), labels=labels,
    )
    return _noted(fig, notes)
