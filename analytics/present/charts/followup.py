"""Chart builder for the funder follow-up rate (analytics.metrics.followup): the rate against
the target line, by month of window close or by group. House look, colours and small-number
flags as in the other chart builders (analytics.present.theme): a bar resting on fewer than k due participants (or hidden
upstream) is faded, hatched and labelled "n<11" without its rate.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.domain.numbers import DEFAULT_K, flagged_small, percent
from analytics.domain.numbers import finite_or_none as _num
from analytics.domain.scope import DIMENSION_LABELS
from analytics.metrics.followup import DEFAULT_TARGET, RULE_LABELS, RULE_WINDOWS
from analytics.present.escape import escaped_inputs
from analytics.present.theme import (
    DECLINED,
    IMPROVED,
    MAX_GROUPS_DRAWN,
    MUTED,
    SMALL_PATTERN,
    _finish,
    _legend_entry,
    _missing,
    _percent_axis,
    _rgba,
    _source,
    _title,
    add_lines,
    group_label,
    groups_word,
    no_data_figure,
    small_label,
    trace,
)

TARGET_COLOUR = "#444444"


def _label(value, by: str) -> str:
    if by == "month":
        return f"{pd.Timestamp(value):%b %Y}"
    # a site or mentor label is data: escaped on the way in (escaped_inputs)
    return group_label(value)


def _missed(frame: pd.DataFrame) -> pd.Series:
    """Each row's missed windows (due - done where the frame has no `missed`); NaN where the
    count is hidden (suppressed)."""
    missed = frame["missed"] if "missed" in frame.columns else frame["due"] - frame["done"]
    return pd.to_numeric(missed, errors="coerce")


def _stubs(frame: pd.DataFrame, k: int) -> pd.Series:
    """Whether each row's bar is a stub without its rate: resting on fewer than k due, or its
    rate hidden (suppressed)."""
    return pd.Series([flagged_small(due, k) or _num(r) is None
                      for due, r in zip(frame["due"], frame["rate"], strict=True)], index=frame.index)


def most_missed(frame: pd.DataFrame, most: int, k: int = DEFAULT_K) -> pd.DataFrame:
    """The `most` rows of a follow-up count frame to draw: first the rows whose bar shows its
    rate, then the stubs (resting on fewer than k, ``_stubs``), each with the most missed
    windows first; ties, and then the rows whose count is hidden (suppressed), in the frame's
    order. A stub says no rate, so it comes after every bar that does, as the Compare charts
    draw small groups last."""
    key = pd.DataFrame({"stub": _stubs(frame, k), "missed": -_missed(frame)})
    order = key.sort_values(["stub", "missed"], na_position="last", kind="stable")
    return frame.loc[order.index[:most]].reset_index(drop=True)


def drawn_note(drawn: int, groups: int, shown: int, hidden: int, word: str, k: int = DEFAULT_K) -> str:
    """What a chart of `drawn` of its `groups` rows (``most_missed``) says it draws: `shown` of
    them have a bar that shows its rate, `hidden` have their missed windows hidden (suppressed,
    in an export or on a suppressed screen; always among the stubs, since a rate is hidden with
    its counts). A hidden count is never ranked: its place among the bars would tell it."""
    end = "; the data behind the chart lists every one."
    stubs = groups - shown
    if not stubs:
        return f" Drawn: the {drawn} of {groups:,} {word} with the most missed windows, most first{end}"
    # a stub rests on fewer than k due (with k = 1: none), or on counts hidden as small numbers
    under = "no window due" if k <= 1 else f"fewer than {k}" + ("" if hidden else " due")
    if shown >= drawn:
        rest = "have no window due" if k <= 1 else f"rest on {under}"
        return (f" Drawn: the {drawn} of {groups:,} {word} with the most missed windows among the {shown:,}"
                f" whose rates are shown, most first (the other {stubs:,} {rest}){end}")
    if hidden == groups:
        return (f" Drawn: {drawn} of the {groups:,} {word}, in the data's order (the missed windows of"
                f" every one are hidden as small numbers){end}")
    resting = "with no window due" if k <= 1 else f"resting on {under}"
    last = (f", those whose missed windows are hidden as small numbers ({hidden:,}) last, in the data's order"
            if hidden else "")
    if not shown:
        return (f" Drawn: {drawn} of the {groups:,} {word}, every one {resting}: the most missed windows"
                f" first{last}{end}")
    if hidden == stubs:
        rest = f"{drawn - shown:,} of the {stubs:,} whose counts are hidden as small numbers, in the data's order"
    else:
        rest = f"{drawn - shown:,} of the {stubs:,} {resting}, the most missed windows first{last}"
    return (f" Drawn: {drawn} of the {groups:,} {word}: the {shown:,} whose rates are shown, the most missed"
            f" windows first, then {rest}{end}")


@escaped_inputs
def followup_rate_chart(
    frame: pd.DataFrame | None,
    *,
    by: str = "month",
    target: float = DEFAULT_TARGET,
    rule: str = "suprt",
    k: int = DEFAULT_K,
) -> go.Figure:
    """Follow-up rate bars with a dashed target line.

    `frame`: followup_by_close_month (by="month": grp, month, due, done, rate; groups pooled)
    or followup_counts grouped by a dimension (by=<dimension>: grp, due, done, missed, rate), one
    bar per row; past MAX_GROUPS_DRAWN groups, those whose rates are shown and then the stubs,
    each with the most missed windows first (``most_missed``), and a footnote saying which are
    drawn. Bars meeting the target are green, those below it vermillion.
    """
    what = "month of window close" if by == "month" else DIMENSION_LABELS.get(by, by).lower()
    title = f"Follow-up rate by {what}"
    key = "month" if by == "month" else "grp"
    if _missing(frame, (key, "due", "done", "rate")):
        return no_data_figure(title)
    df = frame
    if by == "month":
        df = frame.groupby("month", as_index=False)[["due", "done"]].sum(min_count=1)
        df["rate"] = [d / n if _num(n) and _num(d) is not None else None
                      for d, n in zip(df["done"], df["due"], strict=True)]
        df = df.sort_values("month")
    df = df.reset_index(drop=True)
    if df.empty or not (df["due"].fillna(1) > 0).any():
        return no_data_figure(title)
    n = df["due"].sum(min_count=1) if not df["due"].isna().any() else None
    groups = len(df)
    hidden = int(_missed(df).isna().sum())
    stubs = _stubs(df, k)
    shown = groups - int(stubs.sum())
    if by != "month" and groups > MAX_GROUPS_DRAWN:
        df = most_missed(df, MAX_GROUPS_DRAWN, k)
        stubs = _stubs(df, k)
    labels = [_label(v, by) for v in df[key]]
    smalls = stubs.tolist()
    rates = [None if s else _num(r) * 100 for r, s in zip(df["rate"], smalls, strict=True)]
    colours = [
        MUTED if r is None else (IMPROVED if r >= target * 100 - 1e-9 else DECLINED) for r in rates
    ]
    horizontal = by != "month"
    heights = [r if r is not None else 4.0 for r in rates]  # a flagged bar keeps a stub, so it is seen
    text = [small_label(k) if r is None else percent(v) for r, v in zip(rates, df["rate"], strict=True)]
    bar = trace(
        "bar",
        x=heights if horizontal else labels, y=labels if horizontal else heights,
        orientation="h" if horizontal else "v", text=text, textposition="outside",
        # each bar's colour and pattern are set below; these stand in for them, in their place
        marker={"color": MUTED, "pattern": {"shape": "", "fgcolor": MUTED}},
        cliponaxis=False, showlegend=False, textfont={"size": 11},
        hovertemplate=("%{y}" if horizontal else "%{x}") + "<br>Follow-up rate: %{text}<extra></extra>",
    )
    fig = go.Figure(data=[bar])
    # plotly checks a list of colours one colour at a time (0.09 s for 4,785 mentors); these
    # are the palette's own colours, set as a restyle, which takes them as given.
    fig.plotly_restyle({
        "marker.color": [[_rgba(c, 0.35) if s else c for c, s in zip(colours, smalls, strict=True)]],
        "marker.pattern.shape": [[SMALL_PATTERN if s else "" for s in smalls]],
    }, 0)
    _legend_entry(fig, "Meets the target", IMPROVED)
    _legend_entry(fig, "Below the target", DECLINED)
    line = {"color": TARGET_COLOUR, "width": 1.5, "dash": "dash"}
    if horizontal:
        add_lines(fig, ("x", target * 100, line))
        fig.add_annotation(name="target_label", x=target * 100, y=1, yref="paper", yanchor="bottom",
                           xanchor="left", text=f"Target {percent(target)}", showarrow=False,
                           font={"size": 11, "color": TARGET_COLOUR})
        fig.update_xaxes(title_text="Follow-up rate", **_percent_axis(range=[0, 112]))
        fig.update_yaxes(title=None, autorange="reversed", ticks="")
    else:
        add_lines(fig, ("y", target * 100, line))
        fig.add_annotation(name="target_label", x=1, xref="paper", xanchor="right", y=target * 100,
                           yanchor="bottom", text=f"Target {percent(target)}", showarrow=False,
                           font={"size": 11, "color": TARGET_COLOUR})
        fig.update_yaxes(title_text="Follow-up rate", **_percent_axis(range=[0, 112]))
        fig.update_xaxes(title=None, ticks="")
    fig.update_layout(bargap=0.35)
    flagged = any(smalls)
    note = (f"{RULE_LABELS.get(rule, rule)} window, {RULE_WINDOWS.get(rule, '')}. Rate = reassessed inside the "
            "window / due (window closed by the as-of date, excused not counted).")
    if len(df) < groups:
        note += drawn_note(len(df), groups, shown, hidden, groups_word(by), k)
    height = max(360, 60 + 26 * len(df)) if horizontal else 440
    return _finish(
        fig, title=_title(title, n, k, "due"), n=n, footnote=_source(note, flagged, k, "bars"),
        height=height, labels=labels if horizontal else None, below=62,
    )
