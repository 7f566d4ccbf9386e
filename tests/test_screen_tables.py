"""Screen tables (ui.components.table): formatted columns are handed to the grid as the numbers a
person reads, rounded by the one rule, with a printf format that prints them with the same
digits; a column holding text as well is handed over as text."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics.domain import numbers
from ui import components


def drawn_table(monkeypatch, df: pd.DataFrame, **kwargs) -> tuple[pd.DataFrame, dict]:
    drawn = []
    monkeypatch.setattr(components.st, "dataframe", lambda data, **kw: drawn.append((data, kw)))
    components.table(df, **kwargs)
    [(data, kw)] = drawn
    return data, kw


def printed(value: float | None, fmt: str) -> str | None:
    """What sprintf prints for the grid's formats ("%.1f%%", "%,.1f"): Python's format spec
    with the same flags (printf's "," flag is format()'s grouping)."""
    if value is None:
        return None
    spec = fmt[1:].removesuffix("%%")
    return format(value, spec[:-1] + "f") + ("%" if fmt.endswith("%%") else "")


def test_shares_and_decimals_are_rounded_half_up_as_everywhere():
    # 0.2845 * 100 = 28.45 -> 28.5 (half up, not half even); 0.74257 -> 74.3; 1 -> 100.0
    assert components.shown_numbers([0.2845, 0.74257, 1, None, math.nan], 1, share=True) == [
        28.5, 74.3, 100.0, None, None]
    # 1234.25 -> 1234.3; -0.04 -> 0.0 (no "-0.0"); 2.35 -> 2.4; 7 -> 7.0
    assert components.shown_numbers([1234.25, -0.04, 2.35, 7], 1) == [1234.3, 0.0, 2.4, 7.0]
    assert components.shown_numbers([1234.5, 12], 0) == [1235.0, 12.0]


@pytest.mark.parametrize("places", [0, 1, 2])
def test_the_grid_prints_what_the_project_prints(places):
    values = [0.0, 0.05, 0.15, 0.25, 1.005, 2.675, 1234.25, 98765.4321, -3.15, -0.004, 1e6 / 3]
    fmt = components.number_format(places)
    for v, shown in zip(values, components.shown_numbers(values, places), strict=True):
        assert printed(shown, fmt) == numbers.fixed(v, places)
    shares = [0.0, 0.2845, 0.74257, 2 / 3, 0.0005, 0.9995, 1.0]
    fmt = components.number_format(numbers.PERCENT_PLACES, share=True)
    for v, shown in zip(shares, components.shown_numbers(shares, numbers.PERCENT_PLACES, share=True), strict=True):
        assert printed(shown, fmt) == numbers.percent(v)


def test_a_table_hands_numbers_and_formats_to_the_grid(monkeypatch):
    df = pd.DataFrame({"Mentor": ["a", "b", "c"], "Pairs": [1234, 5, 12], "Rate": [0.743, None, 2 / 3],
                       "Hours": [1234.25, 0.0, None]})
    data, kw = drawn_table(monkeypatch, df, percent=["Rate"], decimals={"Hours": 1},
                           column_config={"Mentor": "Mentor ID"})
    config = kw["column_config"]
    assert config["Mentor"] == "Mentor ID"  # the caller's own settings kept
    assert config["Rate"]["type_config"]["format"] == "%.1f%%"
    assert config["Hours"]["type_config"]["format"] == "%,.1f"
    assert config["Pairs"]["type_config"]["format"] == "%,d"  # a count grouped, as numbers.count
    assert data["Rate"].tolist()[0] == 74.3 and math.isnan(data["Rate"].tolist()[1]) and data["Rate"].tolist()[2] == 66.7
    assert data["Hours"].tolist()[:2] == [1234.3, 0.0] and math.isnan(data["Hours"].tolist()[2])
    assert data["Pairs"].tolist() == [1234, 5, 12]
    assert df["Rate"].tolist()[0] == 0.743  # the caller's frame untouched
    assert [printed(v, "%.1f%%") for v in (74.3, 66.7)] == ["74.3%", "66.7%"]


def test_a_column_with_text_is_handed_over_as_text(monkeypatch):
    df = pd.DataFrame({"Site": ["North", "South", "East"], "Rate": [0.5, "n<11", None]})
    data, kw = drawn_table(monkeypatch, df, percent=["Rate"])
    assert data["Rate"].tolist() == ["50.0%", "n<11", None]
    assert "Rate" not in kw.get("column_config", {})


def test_a_table_without_formats_is_handed_over_as_it_is(monkeypatch):
    df = pd.DataFrame({"Site": ["North"], "Mean": [3.25], "Open": [True]})
    data, kw = drawn_table(monkeypatch, df)
    assert data is df and "column_config" not in kw


def test_whole_numbers_print_grouped_as_counts_do(monkeypatch):
    df = pd.DataFrame({"Site": ["North", "South"], "Pairs": [43249, 7], "Due": pd.array([1200, None], dtype="Int64"),
                       "Open": [True, False]})
    data, kw = drawn_table(monkeypatch, df, column_config={"Due": "Due now"})
    config = kw["column_config"]
    assert data is df  # the values themselves untouched: the grid groups them
    assert config["Pairs"]["type_config"]["format"] == components.COUNT_FORMAT
    assert config["Due"] == "Due now" and "Open" not in config and "Site" not in config
    # "%,d" is printf's "%d" with thousands grouped: what numbers.count prints
    for n in (0, 7, 999, 1000, 43249, 1234567):
        assert format(n, ",d") == numbers.count(n)

