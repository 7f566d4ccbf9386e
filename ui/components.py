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
    """A read-only table; `percent` columns hold 0-1 shares, shown as "74.3%".

    A formatted column is sent as the numbers a person reads, rounded by the one rule
    (``shown_numbers``), and the grid prints them with as many decimals (a printf format of
    its column): the column sorts as numbers and prints as a tile, a sentence and an export
    do. A column holding text as well (a flag such as "n<11") is sent as that text."""
    specs = {c: (numbers.PERCENT_PLACES, True) for c in percent if c in df.columns}
    specs |= {c: (d, False) for c, d in (decimals or {}).items() if c in df.columns}
    config = dict(kwargs.pop("column_config", None) or {})
    # Whole numbers (counts, days) print grouped, as numbers.count prints them: "1,234".
    for c in df.columns:
        if c not in specs and c not in config and pd.api.types.is_integer_dtype(df[c]) \
                and not pd.api.types.is_bool_dtype(df[c]):
            config[c] = st.column_config.NumberColumn(format=COUNT_FORMAT)
    if specs:
        df = df.copy()
        for c, (places, share) in specs.items():
            values = df[c].tolist()
            if any(isinstance(v, str) for v in values):
                text = pct if share else (lambda v, d=places: num(v, d))
                df[c] = [v if isinstance(v, str) or is_missing(v) else text(v) for v in values]
            else:
                df[c] = shown_numbers(values, places, share=share)
                config[c] = st.column_config.NumberColumn(format=number_format(places, share=share))
    if config:
        kwargs["column_config"] = config
    st.dataframe(df, hide_index=True, width="stretch", **kwargs)


def shown_numbers(values: Sequence[object], places: int, *, share: bool = False) -> list[float | None]:
    """The numbers a table prints: each value as ``numbers.fixed`` (a share as
    ``numbers.percent``, in percent) prints it, read back as a float (None when undefined). The
    grid's format (``number_format``) prints such a float with the same digits."""
    def back(text: str) -> float | None:
        return float(text.rstrip("%").replace(",", "")) if text else None

    if share:
        return [back(numbers.percent(v)) for v in values]
    return [back(numbers.fixed(v, places)) for v in values]


# The grid's printf format of a whole-number column: grouped as ``numbers.count`` groups it.
COUNT_FORMAT = "%,d"


def number_format(places: int, *, share: bool = False) -> str:
    """The grid's printf format for ``shown_numbers``: thousands grouped as ``numbers.fixed``
    groups them ("1,234.5"), a percentage ungrouped with its sign ("74.3%")."""
    return f"%.{places}f%%" if share else f"%,.{places}f"


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
