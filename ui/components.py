"""Page building blocks: banners, headline tiles, and the chart + sentence + data block.

Nothing here renders HTML: text from the data (site names, mentor pseudonyms) goes through
`plain()` before it reaches Markdown, and tables through st.dataframe, which shows text as text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analytics.domain import numbers
from analytics.domain.numbers import DEFAULT_K
from analytics.present.theme import PLOTLY_CONFIG

DEMO_BANNER = "Demo data: a synthetic program, not real people"
SMALL_ICON = ":material/warning:"

# Every ASCII punctuation character can be backslash-escaped in Markdown; escaping them all
# also defuses Streamlit's own syntax (":red[...]", ":material/...:", "$...$").
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """`text` shown literally by st.markdown (no formatting, links, icons or maths)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def say(text: object) -> None:
    """One plain sentence under a chart."""
    st.markdown(plain(text))


def demo_banner() -> None:
    st.info(DEMO_BANNER, icon=":material/science:")


def is_missing(x: object) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def pct(x: object) -> str:
    """A share on screen (``numbers.percent``, one decimal as everywhere), "–" when undefined."""
    return numbers.percent(x, missing="–")


def num(x: object, digits: int = 0) -> str:
    """A number on screen (``numbers.fixed``), "–" when undefined."""
    return numbers.fixed(x, digits, missing="–")


def signed(x: object, digits: int = 1, unit: str = "") -> str | None:
    """A delta for st.metric ("+2.0"; a zero delta "+0.0"), or None when undefined."""
    if is_missing(x):
        return None
    text = numbers.fixed(x, digits, signed=True)
    return (text if text[0] in "+-" else "+" + text) + unit


def points(x: object) -> str | None:
    """A change of a share for st.metric, in percentage points (``numbers.points``: "+1.2 pts";
    a zero change "+0.0 pts"), or None when undefined."""
    if is_missing(x):
        return None
    text = numbers.points(x)
    return text if text[0] in "+-" else "+" + text


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    small: bool = False
    delta_color: str = "normal"


def tiles(items: Sequence[Tile], per_row: int = 4, k: int = DEFAULT_K) -> None:
    """Headline numbers in rows; a tile resting on fewer than k is marked and listed below."""
    for i in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, t in zip(cols, items[i : i + per_row], strict=False):
            col.metric(
                t.label,
                t.value,
                delta=t.delta,
                delta_color=t.delta_color,
                help=t.help,
                icon=SMALL_ICON if t.small else None,
                border=True,
            )
    small = [t.label for t in items if t.small]
    if small:
        small_note(f"Fewer than {k} behind: {', '.join(small)}. Read these with care.")


def small_note(text: str) -> None:
    st.caption(plain(text), help="Screens show small numbers so staff can act on them; exports suppress them.")


def flag_small(df: pd.DataFrame, n_col: str, k: int = DEFAULT_K, label: str = "Small group") -> pd.DataFrame:
    """A copy of df with a visible marker column for rows resting on fewer than k."""
    out = df.copy()
    out[label] = ["⚠ n < " + str(k) if numbers.is_small(n, k) else "" for n in out[n_col]]
    return out


def table(
    df: pd.DataFrame,
    *,
    percent: Sequence[str] = (),
    decimals: dict[str, int] | None = None,
    **kwargs,
) -> None:
    """A read-only table; `percent` columns hold 0-1 shares, shown as "74.3%"."""
    def shown(fmt: Callable[[object], str]) -> Callable[[object], str]:
        return lambda v: v if isinstance(v, str) else fmt(v)  # a flag ("n<11") stays as it is

    formats = {c: shown(pct) for c in percent if c in df.columns}
    formats |= {c: shown(lambda v, d=d: num(v, d)) for c, d in (decimals or {}).items() if c in df.columns}
    data = df.style.format(formats, na_rep="–") if formats else df
    st.dataframe(data, hide_index=True, width="stretch", **kwargs)


def data_expander(
    df: pd.DataFrame, *, key: str, label: str = "Data behind this chart", download: Callable[[], None] | None = None
) -> None:
    """The chart's data in a closed expander; ``download`` (``ui.downloads.data_download``) draws
    its CSV/XLSX buttons under the table."""
    # Lazy: the table (and its downloads) are built and sent only once someone opens it (a rerun on toggle).
    box = st.expander(label, key=key, on_change="rerun")
    if box.open:
        with box:
            table(df)
            if download is not None:
                download()


def chart(
    fig, sentence: str | None, data: pd.DataFrame | None, *, key: str, download: Callable[[], None] | None = None
) -> None:
    """The standard block: the chart, one sentence carrying its main number, its data (with
    ``download``, the data's suppressed CSV/XLSX buttons: ``ui.downloads.data_download``)."""
    st.plotly_chart(fig, key=key, width="stretch", config=PLOTLY_CONFIG)
    if sentence:
        say(sentence)
    if data is not None:
        data_expander(data, key=f"{key}_data", download=download)


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")
