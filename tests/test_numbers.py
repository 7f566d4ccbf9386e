"""The number rules (analytics.domain.numbers): one small-number rule, one rounding rule, and
the same share printed the same way in a sentence, a chart's hover and labels, a screen table,
a tile and the grant report."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.domain import numbers
from analytics.domain.numbers import DEFAULT_K, MINUS
from analytics.present import charts
from analytics.present import sentences as narrative
from analytics.privacy import suppressed_label


def test_k_is_eleven_everywhere():
    from analytics import privacy
    from analytics.metrics import compare

    assert DEFAULT_K == 11 and privacy.DEFAULT_K is DEFAULT_K
    assert compare.compare_groups.__defaults__ == (DEFAULT_K,)
    assert suppressed_label() == "<11"


def test_the_small_number_rule_and_its_two_readings():
    counts = (0, 1, 10, 11, 500)
    assert [numbers.is_small(v) for v in counts] == [False, True, True, False, False]
    assert not numbers.is_small(None) and not numbers.is_small(float("nan"))
    # a chart flags a count suppressed upstream (missing) as well, unless suppression is off
    assert [numbers.flagged_small(v) for v in counts] == [False, True, True, False, False]
    assert numbers.flagged_small(None) and numbers.flagged_small(float("nan"))
    assert not numbers.flagged_small(5, k=1) and not numbers.flagged_small(None, k=1)
    # a sentence states no number over fewer than k, none at all included
    assert [numbers.too_few(v) for v in counts] == [True, True, True, False, False]
    assert numbers.too_few(None)


def test_rounding_is_half_up_as_read_in_decimal():
    # 6.25% and 28.45% are 6.25 and 28.449999999999996 in binary: Python's f"{x:.1f}" gives 6.2
    # and 28.4, people expect 6.3 and 28.5
    assert f"{0.0625 * 100:.1f}" == "6.2" and f"{0.2845 * 100:.1f}" == "28.4"
    assert numbers.PERCENT_PLACES == 1
    assert [numbers.percent(x) for x in (0.0625, 0.2845, 2 / 3, 0.0004, 0.0005, 1)] == [
        "6.3%", "28.5%", "66.7%", "0.0%", "0.1%", "100.0%"]
    assert numbers.percent(0.74257) == "74.3%" and numbers.percent(0.285) == "28.5%"
    assert numbers.percent(-0.0004) == "0.0%" and numbers.percent(-0.0625, minus=MINUS) == f"{MINUS}6.3%"
    # a difference of two shares, in points, with the decimals of a percentage
    assert numbers.points(0.882 - 0.8) == "+8.2 pts" and numbers.points(-0.000625) == "-0.1 pts"
    assert numbers.points(0) == "0.0 pts" and numbers.points(None, missing="–") == "–"
    assert numbers.spreadsheet_percent_format() == "0.0%"
    assert numbers.fixed(2.25) == "2.3" and numbers.fixed(-2.25, minus=MINUS) == f"{MINUS}2.3"
    assert numbers.fixed(-0.04) == "0.0"  # never "-0.0"
    assert numbers.fixed(1234.56) == "1,234.6" and numbers.fixed(1234.56, grouping=False) == "1234.6"
    assert numbers.fixed(2.5, 1, signed=True) == "+2.5" and numbers.fixed(0, 1, signed=True) == "0.0"
    assert numbers.percent(None) == "" and numbers.percent(None, missing="–") == "–"
    assert numbers.count(1234.0) == "1,234"


def _decimal_fixed(v: float, places: int, signed: bool) -> str:
    """``fixed`` written out over ``round_half_up``'s Decimal, the rule it must agree with."""
    d = numbers.round_half_up(v, places)
    text = f"{abs(d):,.{places}f}"
    if d < 0 and d != 0:
        return "-" + text
    return "+" + text if signed and d > 0 else text


def test_fixed_rounds_in_integers_exactly_as_the_decimal_rule_does():
    # fixed rounds values below a million in whole billionths (integer arithmetic), larger ones
    # through Decimal: both must print every value the same, ties above all.
    import random

    rng = random.Random(7)
    values = [rng.uniform(-1, 1) for _ in range(3000)] + [rng.gauss(0, 5e4) for _ in range(3000)]
    # decimal ties at every place (k + 0.5 units), as shares and as percentages, both signs
    values += [(k + 0.5) / 10**p / s for p in range(4) for k in range(-400, 400) for s in (1, 100)]
    values += [0.0, -0.0, 0.0625, 0.2845, -0.04, 1e-12, -5e-10, 999_999.95, -999_999.95, 2e6 + 0.25, 1234.25]
    for v in values:
        for places in (0, 1, 2, 3):
            for signed in (False, True):
                assert numbers.fixed(v, places, signed=signed) == _decimal_fixed(v, places, signed), (v, places)
    assert numbers.fixed(999_999.95, 1) == "1,000,000.0" and numbers.fixed(0.05, 1) == "0.1"


def test_no_surface_chooses_its_own_percent_decimals():
    import inspect

    # percent() and points() take no places: the decimals are PERCENT_PLACES, for every caller
    assert "places" not in inspect.signature(numbers.percent).parameters
    assert "places" not in inspect.signature(numbers.points).parameters
    from ui import components

    assert "digits" not in inspect.signature(components.pct).parameters


def test_a_share_prints_the_same_in_sentence_hover_table_and_report():
    # Goals: 57 of 200 achieved = 0.285 -> "28.5%" wherever it is printed.
    goals = pd.DataFrame({
        "grp": ["all"] * 5, "domain": ["*", "health", "home", "purpose", "community"],
        "goals_set": [200, 50, 50, 50, 50], "achieved": [57, 15, 14, 14, 14],
        "achievement_rate": [0.285, 0.3, 0.28, 0.28, 0.28], "median_days_to_achieve": [40.0] * 5,
    })
    sentence = narrative.goals_sentence(goals, k=DEFAULT_K)
    assert "28.5%" in sentence and "29%" not in sentence
    fig = charts.engagement_monthly_chart(pd.DataFrame({
        "grp": ["all"], "month": [pd.Timestamp("2026-01-01")], "attended": [57], "no_show": [143],
        "cancelled": [0], "active_pairs": [30],
    }), k=DEFAULT_K)
    hover = [str(c) for t in fig.data if t.name == "Attendance rate" and t.customdata is not None for c in t.customdata]
    assert hover == ["28.5% of 200"]  # 57 / (57 + 143) = 0.285
    from ui import components

    assert components.pct(0.285) == "28.5%"
    from analytics.exports import report

    assert report.percent is numbers.percent  # the report prints through the same rule


TINY = {"as_of": "2026-03-31", "start": "2026-01-01", "end": "2026-03-31"}


def test_the_attendance_rate_prints_one_way_on_every_surface(tiny_con, monkeypatch):
    """The same share through a sentence, a chart's hover and label, a tile, a screen table, the
    grant report's row and sentence, and the XLSX cell format: one text, "66.7%"."""
    import io

    import openpyxl

    from analytics.exports import tables
    from analytics.exports.context import ExportContext
    from analytics.exports.report import Table, build_report
    from analytics.metrics import engagement, mentors
    from analytics.metrics.scope import resolve_scope
    from ui import components

    # The tiny program (tests/tiny_program.py), 2026-01-01 to 2026-03-31. Sessions of the pairs
    # in scope: attended ss1, ss3, ss6, ss7, ss9, ss11 = 6; no-show ss2, ss8, ss10 = 3 (ss4 is
    # after pr1 closed, ss5 cancelled, ss12 before the period). 6 / (6 + 3) = 0.6666... prints
    # "66.7%" (a whole percent would print "67%"). By mentor: mn1 (pr1, pr2) attended 4 of 6,
    # mn2 (pr3, pr4) 2 of 3: 66.7% each, and pooled 6 of 9.
    shown = "66.7%"
    scope = resolve_scope(tiny_con, **TINY)
    totals = engagement.engagement_totals(tiny_con, scope)
    rate = totals.iloc[0]["attendance_rate"]
    assert rate == pytest.approx(6 / 9)

    # the sentence under the chart (k = 1: the tiny program is below the default k)
    assert f"Pairs met for {shown} of their scheduled sessions" in narrative.engagement_sentence(totals, k=1)

    # the mentor chart's hovers (one per mentor) and its pooled line's label
    by_mentor = mentors.mentor_caseloads(tiny_con, scope)
    fig = charts.mentor_chart(by_mentor, k=1)
    hovers = sorted(str(row[2]) for t in fig.data if t.customdata is not None for row in t.customdata)
    assert hovers == [f"{shown} of 3 sessions", f"{shown} of 6 sessions"]
    assert [a.text for a in fig.layout.annotations if a.name == "pooled_label"] == [f"All mentors: {shown}"]

    # a screen tile, and a screen table's percent column
    assert components.pct(rate) == shown
    drawn = []
    monkeypatch.setattr(components.st, "dataframe", lambda data, **kwargs: drawn.append((data, kwargs)))
    components.table(totals[["attendance_rate"]].rename(columns={"attendance_rate": "Attendance rate"}),
                     percent=["Attendance rate"])
    [(data, kwargs)] = drawn
    # the grid is handed 66.7 and prints it with its column's printf format (sprintf: "%.1f%%")
    cell, fmt = data.iloc[0]["Attendance rate"], kwargs["column_config"]["Attendance rate"]["type_config"]["format"]
    assert (cell, fmt) == (66.7, "%.1f%%") and fmt % cell == shown

    # the grant report: its headline row and its engagement sentence
    report = build_report(tiny_con, k=1, charts_wanted=False, **TINY)
    blocks = [b for section in report.sections for b in section.blocks]
    rows = {row[0]: row[1] for b in blocks if isinstance(b, Table) for row in b.rows}
    assert rows["Attendance rate"] == shown
    assert any(f"Pairs met for {shown}" in getattr(b, "text", "") for b in blocks)

    # the XLSX keeps the share as a number and shows it with the same decimals
    context = ExportContext.from_scope(scope, 4, k=1)
    book = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx_bytes(by_mentor, spec="mentor_caseloads", context=context)))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if isinstance(c.value, float)
             and c.value == pytest.approx(2 / 3)]
    assert len(cells) == 2 and {c.number_format for c in cells} == {numbers.spreadsheet_percent_format()} == {"0.0%"}


def test_a_p_value_prints_the_same_in_the_tests_table_and_the_sentence():
    from ui import compare_view

    assert [numbers.p_value(p) for p in (0.0004, 0.001, 0.0423, 0.0425, 0.42, 1.0)] == [
        "< 0.001", "0.001", "0.042", "0.043", "0.420", "1.000"]  # 0.0425: half up, as read
    assert numbers.p_value(None, missing="–") == numbers.p_value(float("nan"), missing="–") == "–"
    assert [numbers.p_statement(p) for p in (0.0004, 0.0423, None)] == ["p < 0.001", "p = 0.042", ""]
    effects = pd.DataFrame({"grp": ["North", "South"], "change": [3.9, 2.1], "n": [120, 85]})
    for p in (0.0004, 0.0423, 0.42):
        table = compare_view.tests_table({
            "retention_test": {"chi2": 1.0, "df": 1, "p_value": p}, "attendance_test": None, "outcome_tests": {}})
        sentence = narrative.compare_sentence(effects, metric="x", estimate="change", p_value=p)
        assert f"p {table['p-value'][0]}" in sentence or f"p = {table['p-value'][0]}" in sentence


def test_an_estimate_prints_with_its_interval():
    assert numbers.estimate_ci(1.234, 0.9, 1.5) == "1.23 (0.90 to 1.50)"
    assert numbers.estimate_ci(-0.125, -0.5, 0.25) == "-0.13 (-0.50 to 0.25)"
    assert numbers.estimate_ci(0.2, None, 0.4) == "0.20 (– to 0.40)"
    assert numbers.estimate_ci(None, 0.1, 0.2) == "–"
