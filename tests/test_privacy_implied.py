"""Counts given back by arithmetic on what an export shows: a share beside its denominator, and
the difference of two nested counts. Both rules are declared once in analytics.privacy
(SHARE_COLUMNS, NESTED_COUNTS, NESTED_COLUMNS) and hold in the summary and in every table.

Golden cases are reported leaks (a retention table, a comparison by mentor, the summary), worked by hand in the comments."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_privacy import summary

from analytics import privacy
from analytics.privacy import frames as privacy_frames
from analytics.privacy import suppress_summary

K = privacy.DEFAULT_K


def _cell(table: pd.DataFrame, row: int, col: str):
    return table[col].iloc[row]


# ---------------------------------------------------------------------------------------------
# Tables: shares beside their denominators


def test_retention_table_hides_a_share_that_gives_back_a_small_count():
    # Reports page: events <11, eligible_90 39, retained_90 0.820513 = 32/39, so 39 - 32 = 7
    # pairs disengaged before day 90. The share goes; its denominator stays.
    frame = pd.DataFrame({"pairs": [60], "events": [8], "eligible_90": [39], "retained_90": [32 / 39],
                          "km_90": [0.8], "median_days": [None]})
    table, cells = privacy_frames.suppress(frame, privacy_frames.spec_for("retention_summary"), K)
    assert _cell(table, 0, "retained_90") == privacy.derived_label(K)
    assert _cell(table, 0, "eligible_90") == 39
    assert (0, "retained_90") in cells


def test_compare_groups_hides_a_kaplan_meier_share_of_one_pair():
    # Compare by mentor: km_90 0.958333 of 24 pairs = 23 retained, so 24 - 23 = 1 pair gone
    # before day 90; the estimate and its interval go, the 24 pairs stay.
    frame = pd.DataFrame({
        "grp": ["M1", "M2"], "pairs": [24, 40], "events": [12, 14],
        "km_90": [23 / 24, 0.6], "km_90_lower": [0.8, 0.45], "km_90_upper": [0.99, 0.72],
        "eligible_90": [24, 40], "retained_90": [0.5, 0.5],
    })
    spec = privacy_frames.spec_for("compare_groups")
    table, cells = privacy_frames.suppress(frame, spec, K)
    for col in ("km_90", "km_90_lower", "km_90_upper"):
        assert _cell(table, 0, col) == privacy.derived_label(K)
        assert _cell(table, 1, col) != privacy.derived_label(K)  # 0.6 x 40 = 24, 16 gone: shown
    assert _cell(table, 0, "pairs") == 24
    # 0.5 x 24 = 12 retained, 12 not: shown
    assert _cell(table, 0, "retained_90") == 0.5


# ---------------------------------------------------------------------------------------------
# Tables: nested counts


def test_nested_counts_in_a_row_never_differ_by_a_small_count():
    # pairs 135, eligible_90 128: 135 - 128 = 7 pairs not yet followed 90 days. The inner count
    # goes, and with it the share resting on it.
    frame = pd.DataFrame({"pairs": [135], "events": [30], "eligible_90": [128], "retained_90": [0.75]})
    table, _ = privacy_frames.suppress(frame, privacy_frames.spec_for("retention_summary"), K)
    assert _cell(table, 0, "eligible_90") == privacy.suppressed_label(K)
    assert _cell(table, 0, "retained_90") == privacy.derived_label(K)
    assert _cell(table, 0, "pairs") == 135


def test_a_nested_cell_hidden_in_one_row_is_completed_down_its_column():
    # pair_counts by site: North 89 in scope, 84 active (89 - 84 = 5 closures): active hides;
    # then North is the lone hidden cell of active_at_end, so the smallest other non-zero active
    # count (South 40, of 40 and 70) goes with it, or the total would give North back.
    frame = pd.DataFrame({"grp": ["North", "South", "East"], "pairs_in_scope": [89, 60, 90],
                          "participants_in_scope": [80, 55, 85], "matched_in_period": [50, 30, 40],
                          "active_at_end": [84, 40, 70]})
    spec = privacy_frames.FrameSpec("Pairs by site", privacy_frames.spec_for("pair_counts").count_cols)
    table, cells = privacy_frames.suppress(frame, spec, K)
    assert {c for c in cells if c[1] == "active_at_end"} == {(0, "active_at_end"), (1, "active_at_end")}
    assert table["pairs_in_scope"].tolist() == [89, 60, 90]


@pytest.mark.parametrize(("outer", "inner"), privacy.NESTED_COLUMNS)
def test_every_declared_nested_pair_is_applied(outer, inner):
    frame = pd.DataFrame({outer: [50, 80], inner: [45, 30]})  # 50 - 45 = 5: hidden; 80 - 30 = 50
    table, cells = privacy.suppress_table(frame, count_cols=[outer, inner], derived={})
    assert (0, inner) in cells and (1, inner) in cells  # row 1 is the column's complement
    assert table[outer].tolist() == [50, 80]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=6))
def test_no_difference_of_two_shown_nested_counts_is_small(rows):
    # pairs_in_scope >= active_at_end in every row, as the metrics guarantee
    frame = pd.DataFrame({"pairs_in_scope": [max(a, b) for a, b in rows],
                          "active_at_end": [min(a, b) for a, b in rows]})
    table, _ = privacy.suppress_table(frame, count_cols=["pairs_in_scope", "active_at_end"], derived={})
    for outer, inner in zip(table["pairs_in_scope"], table["active_at_end"], strict=True):
        if isinstance(outer, str) or isinstance(inner, str):
            continue
        assert not 0 < outer - inner < K
        assert not 0 < inner < K and not 0 < outer < K


# ---------------------------------------------------------------------------------------------
# The summary


def test_summary_hides_the_inner_count_of_a_small_nested_difference():
    # in_scope 89 - active_at_end 84 = 5 closures; retention.pairs 135 - eligible_90 128 = 7.
    raw = summary()
    raw["pairs"] = {"in_scope": 189, "matched_in_period": 135, "active_at_end": 184}
    raw["retention"] = {**raw["retention"], "pairs": 135, "events": 30, "eligible_90": 128, "retained_90": 0.75}
    out = suppress_summary(raw)
    assert out["pairs"] == {"in_scope": 189, "matched_in_period": 135, "active_at_end": None}
    assert out["retention"]["eligible_90"] is None and out["retention"]["retained_90"] is None
    assert out["retention"]["pairs"] == 135
    assert {"pairs.active_at_end", "retention.eligible_90", "retention.retained_90"} <= set(out["suppressed"])


def test_summary_nested_goals_and_groups():
    # goals: 60 set, 41 achieved (19 not: fine). housing: 37 set, 29 achieved, so 8 housing goals
    # not achieved: housing's achieved goes. It is then the lone hidden member of the domains'
    # achieved line, so the smallest other (health 12) goes too: 41 - 12 would give 29 back.
    raw = summary()
    raw["goals"] = {"set": 60, "achieved": 41, "achievement_rate": 41 / 60, "median_days_to_achieve": 40.0,
                    "by_domain": {"health": {"set": 23, "achieved": 12, "achievement_rate": 12 / 23},
                                  "housing": {"set": 37, "achieved": 29, "achievement_rate": 29 / 37}}}
    out = suppress_summary(raw)
    by = out["goals"]["by_domain"]
    assert by["housing"]["achieved"] is None and by["housing"]["achievement_rate"] is None
    assert by["health"]["achieved"] is None and by["health"]["set"] == 23
    assert out["goals"]["achieved"] == 41 and out["goals"]["set"] == 60


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 80), st.integers(0, 80), st.integers(0, 80), st.integers(0, 80))
def test_summary_never_shows_a_small_nested_difference(a, b, c, d):
    raw = summary()
    in_scope, active = max(a, b), min(a, b)
    followed, eligible = max(c, d), min(c, d)
    raw["pairs"] = {"in_scope": max(in_scope, followed), "matched_in_period": followed, "active_at_end": active}
    raw["retention"] = {**copy.deepcopy(raw["retention"]), "pairs": followed, "events": 0, "eligible_90": eligible}
    out = suppress_summary(raw)
    for outer, inner in privacy.NESTED_COUNTS:
        o = out.get(outer[0], {}).get(outer[1]) if len(outer) == 2 else None
        i = out.get(inner[0], {}).get(inner[1]) if len(inner) == 2 else None
        if o is not None and i is not None:
            assert not 0 < o - i < K, (outer, inner, o, i)
