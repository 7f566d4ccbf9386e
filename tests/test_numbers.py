"""The number rules (analytics.domain.numbers): one small-number rule, one rounding rule, and
the same share printed the same way in a sentence, a chart's hover and labels, a screen table,
a tile and the grant report."""

from __future__ import annotations

import pandas as pd

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
    # 0.285 * 100 is 28.499999999999996 in binary: Python's f"{x:.0f}" gives 28, people expect 29
    assert f"{0.285 * 100:.0f}" == "28"
    assert [numbers.percent(x) for x in (0.125, 0.285, 2 / 3, 0.004, 1)] == ["13%", "29%", "67%", "0%", "100%"]
    assert numbers.percent(0.74257, 1) == "74.3%" and numbers.percent(0.0005, 1) == "0.1%"
    assert numbers.fixed(2.25) == "2.3" and numbers.fixed(-2.25, minus=MINUS) == f"{MINUS}2.3"
    assert numbers.fixed(-0.04) == "0.0"  # never "-0.0"
    assert numbers.fixed(1234.56) == "1,234.6" and numbers.fixed(1234.56, grouping=False) == "1234.6"
    assert numbers.fixed(2.5, 1, signed=True) == "+2.5" and numbers.fixed(0, 1, signed=True) == "0.0"
    assert numbers.percent(None) == "" and numbers.percent(None, missing="–") == "–"
    assert numbers.count(1234.0) == "1,234"


def test_a_share_prints_the_same_in_sentence_hover_table_and_report():
    # Goals: 57 of 200 achieved = 0.285 -> "29%" wherever it is printed.
    goals = pd.DataFrame({
        "grp": ["all"] * 5, "domain": ["*", "health", "home", "purpose", "community"],
        "goals_set": [200, 50, 50, 50, 50], "achieved": [57, 15, 14, 14, 14],
        "achievement_rate": [0.285, 0.3, 0.28, 0.28, 0.28], "median_days_to_achieve": [40.0] * 5,
    })
    sentence = narrative.goals_sentence(goals, k=DEFAULT_K)
    assert "29%" in sentence and "28%" not in sentence
    fig = charts.engagement_monthly_chart(pd.DataFrame({
        "grp": ["all"], "month": [pd.Timestamp("2026-01-01")], "attended": [57], "no_show": [143],
        "cancelled": [0], "active_pairs": [30],
    }), k=DEFAULT_K)
    hover = [str(c) for t in fig.data if t.name == "Attendance rate" and t.customdata is not None for c in t.customdata]
    assert hover == ["29% of 200"]  # 57 / (57 + 143) = 0.285
    from ui import components

    assert components.pct(0.285, 0) == "29%"
    from analytics.exports import report

    assert report.percent is numbers.percent  # the report prints through the same rule


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
