"""Data values as plotly text: escaped, so a name is never read as markup.

Plotly draws titles, tick labels, legends, hover labels and annotations from a small HTML
dialect (``<a href>``, ``<span style>``, ``<b>``, ``<br>``...), in the browser and in exported
SVG and PDF alike. A supervisor, site or group named ``<a href="...">`` would be a live link,
and ``<span style=...>`` could cover the chart. So every chart builder receives its frames with
text cells escaped (``&``, ``<``, ``>`` as entities, which plotly shows as the characters):
``escaped_inputs`` wraps each builder, so whatever a builder does with a value (an axis
category, a legend name, a hover template, a row label) it handles text, never markup. The
builders' own markup (``<br>`` in a template) is not data and stays.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

_MARK = "plotly_text_escaped"
F = TypeVar("F", bound=Callable[..., Any])


def plotly_text(value: Any) -> Any:
    """A text value escaped for plotly; anything else unchanged."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    return value


def _escape_labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.map(lambda t: tuple(plotly_text(v) for v in t))
    if pd.api.types.is_object_dtype(index.dtype) or isinstance(index.dtype, pd.StringDtype):
        return index.map(plotly_text)
    return index


def _escape_column(column: pd.Series) -> pd.Series:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return column.cat.rename_categories([plotly_text(c) for c in dtype.categories])
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        escaped = column.map(plotly_text, na_action="ignore")
        return escaped.astype(dtype) if isinstance(dtype, pd.StringDtype) else escaped
    return column


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell, column and index label escaped (once: an escaped
    frame is marked and passed through unchanged)."""
    if df.attrs.get(_MARK):
        return df
    out = df.copy()
    for pos in range(out.shape[1]):
        out.isetitem(pos, _escape_column(out.iloc[:, pos]))
    out.columns = _escape_labels(out.columns)
    out.index = _escape_labels(out.index)
    out.attrs[_MARK] = True
    return out


def escape_data(value: Any) -> Any:
    """Frames, series and mappings of them (the Compare page's results) with text escaped."""
    if isinstance(value, pd.DataFrame):
        return escape_frame(value)
    if isinstance(value, pd.Series):
        if value.attrs.get(_MARK):
            return value
        out = _escape_column(value)
        out.index = _escape_labels(value.index)
        out.attrs[_MARK] = True
        return out
    if isinstance(value, dict):
        return {k: escape_data(v) for k, v in value.items()}
    return value


def escaped_inputs(builder: F) -> F:
    """Call ``builder`` with the text of its data arguments escaped (frames, series, mappings
    of them). Plain string arguments are the builder's own labels and stay as given."""

    @functools.wraps(builder)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return builder(*(escape_data(a) for a in args), **{k: escape_data(v) for k, v in kwargs.items()})

    return wrapped  # type: ignore[return-value]
