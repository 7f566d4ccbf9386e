"""Small-cell suppression (CMS cell-size policy, k = 11) and export safety.

Summaries here are built by hand in the summary JSON shape; expected outputs are written out
with the reason for each suppression next to it.
"""

from __future__ import annotations

import copy
import io
import random

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import privacy
from analytics.privacy import (
    DEFAULT_K,
    ExportRefused,
    check_export_allowed,
    derived_label,
    safe_cell,
    safe_frame,
    suppress_summary,
    suppress_table,
    suppressed_label,
)

# Leaf names that hold counts of people, pairs, sessions or goals: checked independently of
# the module's rule table.
COUNT_LEAVES = {
    "in_scope", "matched_in_period", "active_at_end", "attended", "no_show", "cancelled",
    "pairs", "events", "eligible_90", "n_paired", "set", "achieved",
}


def block(**sections) -> dict:
    """A summary block (keys from "pairs" on) where every count is comfortably above k.

    Keyword arguments replace whole sections.
    """
    # Nested counts differ by k or more too (privacy.NESTED_COUNTS): 80 pairs in scope hold 40
    # matched, 30 active and 60 participants; 40 followed pairs hold 28 eligible and 12 events;
    # shares imply counts of k or more (km_30 0.7 x 40 = 28 retained, 12 not; 0.5 x 28 = 14).
    base = {
        "pairs": {"in_scope": 80, "matched_in_period": 40, "active_at_end": 30},
        "participants": {"in_scope": 60},
        "engagement": {
            "attended": 400, "no_show": 40, "cancelled": 20, "attendance_rate": 400 / 440,
            "contact_hours": 380.0, "pair_days": 9000, "sessions_per_pair_month": 1.35,
            "median_days_to_first_session": 6.0,
        },
        "retention": {
            "pairs": 40, "events": 12, "km_30": 0.7, "km_90": 0.6, "km_180": 0.5,
            "median_days": None, "eligible_90": 28, "retained_90": 0.5,
        },
        "outcomes": {
            "GSE10": {
                "n_paired": 30, "baseline_mean": 25.0, "followup_mean": 29.0, "mean_change": 4.0,
                "sd_change": 5.0, "ci95": [2.1, 5.9], "cohens_dz": 0.8,
                "reliable_improvement_rate": 0.4, "reliable_decline_rate": 0.0,
            },
        },
        "goals": {
            "set": 60, "achieved": 30, "achievement_rate": 0.5, "median_days_to_achieve": 45.0,
            "by_domain": {
                "health": {"set": 23, "achieved": 12, "achievement_rate": 12 / 23},
                "housing": {"set": 37, "achieved": 18, "achievement_rate": 18 / 37},
            },
        },
    }
    base.update(copy.deepcopy(sections))
    return base


def summary(groups: dict | None = None, **sections) -> dict:
    doc = {"as_of": "2026-06-30", "start": "2025-01-01", "end": "2026-06-30", "min_cell": 11,
           "suppressed": [], **block(**sections)}
    if groups is not None:
        doc["groups"] = groups
    return doc


# --------------------------------------------------------------------------------------
# Labels and k


def test_labels():
    assert DEFAULT_K == 11
    assert suppressed_label(11) == "<11"
    assert suppressed_label() == "<11"
    assert suppressed_label(5) == "<5"
    assert derived_label(11) == "n<11"


@pytest.mark.parametrize("k", [0, -1, 2.5, "11", True, None])
def test_bad_k_is_refused(k):
    with pytest.raises(ValueError):
        suppress_summary(summary(), k=k)


def test_docstring_lists_every_rule():
    # The rule table is data; the module docstring is where people read it. Keep them together.
    doc = privacy.__doc__
    for path in privacy.COUNT_PATHS:
        assert ".".join(path) in doc
    for rule in privacy.DERIVED_RULES:
        for path in (rule.value, *rule.denominator, *rule.inputs):
            assert ".".join(path) in doc


# --------------------------------------------------------------------------------------
# A summary without groups, written out in full


def test_flat_summary_expected_output():
    raw = {
        "as_of": "2026-06-30", "start": "2025-01-01", "end": "2026-06-30", "min_cell": 11,
        "suppressed": [],
        "pairs": {"in_scope": 40, "matched_in_period": 25, "active_at_end": 8},
        "participants": {"in_scope": 38},
        "engagement": {
            "attended": 120, "no_show": 6, "cancelled": 0, "attendance_rate": 120 / 126,
            "contact_hours": 110.5, "pair_days": 3000, "sessions_per_pair_month": 1.2,
            "median_days_to_first_session": 9.0,
        },
        "retention": {
            "pairs": 25, "events": 4, "km_30": 0.96, "km_90": 0.92, "km_180": 0.84,
            "median_days": None, "eligible_90": 40, "retained_90": 0.5,
        },
        "outcomes": {
            "GSE10": {
                "n_paired": 12, "baseline_mean": 24.0, "followup_mean": 28.5, "mean_change": 4.5,
                "sd_change": 3.0, "ci95": [2.59, 6.41], "cohens_dz": 1.5,
                "reliable_improvement_rate": 1.0, "reliable_decline_rate": 0.0,
            },
            "BARC10": {
                "n_paired": 7, "baseline_mean": 40.0, "followup_mean": 44.0, "mean_change": 4.0,
                "sd_change": 2.0, "ci95": [2.15, 5.85], "cohens_dz": None,
                "reliable_improvement_rate": 0.29, "reliable_decline_rate": 0.0,
            },
        },
        "goals": {
            "set": 30, "achieved": 9, "achievement_rate": 0.3, "median_days_to_achieve": 41.0,
            "by_domain": {
                "health": {"set": 14, "achieved": 5, "achievement_rate": 5 / 14},
                "housing": {"set": 9, "achieved": 2, "achievement_rate": 2 / 9},
                "employment": {"set": 7, "achieved": 2, "achievement_rate": 2 / 7},
                "education": {"set": 0, "achieved": 0, "achievement_rate": None},
            },
        },
    }
    expected = {
        "as_of": "2026-06-30", "start": "2025-01-01", "end": "2026-06-30", "min_cell": 11,
        "suppressed": [
            "engagement.attendance_rate",
            "engagement.no_show",
            "goals.achieved",
            "goals.achievement_rate",
            "goals.by_domain.employment.achieved",
            "goals.by_domain.employment.achievement_rate",
            "goals.by_domain.employment.set",
            "goals.by_domain.health.achieved",
            "goals.by_domain.health.achievement_rate",
            "goals.by_domain.housing.achieved",
            "goals.by_domain.housing.achievement_rate",
            "goals.by_domain.housing.set",
            "goals.median_days_to_achieve",
            "outcomes.BARC10.baseline_mean",
            "outcomes.BARC10.ci95",
            "outcomes.BARC10.followup_mean",
            "outcomes.BARC10.mean_change",
            "outcomes.BARC10.n_paired",
            "outcomes.BARC10.reliable_decline_rate",
            "outcomes.BARC10.reliable_improvement_rate",
            "outcomes.BARC10.sd_change",
            "pairs.active_at_end",
            "retention.events",
            "retention.km_180",
            "retention.km_30",
            "retention.km_90",
        ],
        # active_at_end 8 is a cell of 1-10.
        "pairs": {"in_scope": 40, "matched_in_period": 25, "active_at_end": None},
        "participants": {"in_scope": 38},
        "engagement": {
            # no_show 6 is small; the rate goes with it, or 120 / rate - 120 gives 6 back.
            # cancelled 0 is shown: zero reveals no one.
            "attended": 120, "no_show": None, "cancelled": 0, "attendance_rate": None,
            "contact_hours": 110.5, "pair_days": 3000, "sessions_per_pair_month": 1.2,
            "median_days_to_first_session": 9.0,
        },
        "retention": {
            # 4 disengagements: hidden, and the KM estimates on 25 pairs would give them back.
            # median_days was already null (undefined), so it is not listed as suppressed.
            # retained_90 is over eligible_90 = 40 pairs (20 retained, 20 not): shown.
            "pairs": 25, "events": None, "km_30": None, "km_90": None, "km_180": None,
            "median_days": None, "eligible_90": 40, "retained_90": 0.5,
        },
        "outcomes": {
            # 12 paired participants: everything shown.
            "GSE10": raw["outcomes"]["GSE10"],
            # 7 paired: every statistic goes, the ci95 list as a whole; cohens_dz was null.
            "BARC10": {
                "n_paired": None, "baseline_mean": None, "followup_mean": None, "mean_change": None,
                "sd_change": None, "ci95": None, "cohens_dz": None,
                "reliable_improvement_rate": None, "reliable_decline_rate": None,
            },
        },
        "goals": {
            # 9 achieved is small; the rate would give it back (0.3 * 30); the median days is
            # over those 9 achieved goals.
            "set": 30, "achieved": None, "achievement_rate": None, "median_days_to_achieve": None,
            "by_domain": {
                # set: housing 9 and employment 7 are two suppressed domains, so health (14)
                # needs no complement. achieved: 5, 2, 2 are all small. The rates go with a
                # hidden achieved count (health) or a small set (housing, employment).
                "health": {"set": 14, "achieved": None, "achievement_rate": None},
                "housing": {"set": None, "achieved": None, "achievement_rate": None},
                "employment": {"set": None, "achieved": None, "achievement_rate": None},
                "education": {"set": 0, "achieved": 0, "achievement_rate": None},
            },
        },
    }
    assert suppress_summary(raw) == expected


def test_key_order_and_set_kept():
    raw = summary()
    out = suppress_summary(raw)
    assert list(out) == list(raw)
    assert out == {**raw, "suppressed": []}


def test_missing_sections_stay_missing_and_suppressed_is_added():
    raw = {"as_of": "2026-06-30", "min_cell": 11, "pairs": {"in_scope": 3}}
    out = suppress_summary(raw)
    assert out == {"as_of": "2026-06-30", "min_cell": 11, "suppressed": ["pairs.in_scope"],
                   "pairs": {"in_scope": None}}
    assert list(out) == ["as_of", "min_cell", "suppressed", "pairs"]


def test_min_cell_is_set_to_k():
    out = suppress_summary(summary(), k=5)
    assert out["min_cell"] == 5


def test_zero_denominator_is_not_a_suppression():
    # No pairs at all: contact_hours 0.0 and pair_days 0 describe no one; nothing to hide.
    eng = {"attended": 0, "no_show": 0, "cancelled": 0, "attendance_rate": None, "contact_hours": 0.0,
           "pair_days": 0, "sessions_per_pair_month": None, "median_days_to_first_session": None}
    raw = summary(pairs={"in_scope": 0, "matched_in_period": 0, "active_at_end": 0}, engagement=eng)
    out = suppress_summary(raw)
    assert out["engagement"] == eng
    assert not any(p.startswith(("engagement", "pairs")) for p in out["suppressed"])


def test_unknown_denominator_suppresses_the_value():
    # A null count (e.g. already suppressed upstream) cannot be checked: the rate goes too.
    raw = summary()
    raw["outcomes"]["GSE10"]["n_paired"] = None
    out = suppress_summary(raw)
    assert out["outcomes"]["GSE10"]["mean_change"] is None
    assert "outcomes.GSE10.mean_change" in out["suppressed"]
    assert "outcomes.GSE10.n_paired" not in out["suppressed"]  # it was null already


def test_existing_suppressed_paths_are_kept():
    raw = summary()
    raw["suppressed"] = ["pairs.in_scope"]
    raw["pairs"]["in_scope"] = None
    assert "pairs.in_scope" in suppress_summary(raw)["suppressed"]


def test_k_one_leaves_everything():
    raw = summary(
        pairs={"in_scope": 3, "matched_in_period": 1, "active_at_end": 0},
        groups={"A": block(pairs={"in_scope": 2, "matched_in_period": 2, "active_at_end": 1}), "B": block()},
    )
    out = suppress_summary(raw, k=1)
    assert out == {**raw, "min_cell": 1, "suppressed": []}


def test_small_k_moves_the_threshold():
    raw = summary(pairs={"in_scope": 5, "matched_in_period": 4, "active_at_end": 0})
    out = suppress_summary(raw, k=5)
    # 5 is not below k = 5; 4 is.
    assert out["pairs"] == {"in_scope": 5, "matched_in_period": None, "active_at_end": 0}


# --------------------------------------------------------------------------------------
# Complementary suppression across groups


def pairs_section(n: int) -> dict:
    return {"in_scope": n, "matched_in_period": 40, "active_at_end": 30}


HIDDEN_WITH_IN_SCOPE = ("pairs.in_scope", "engagement.contact_hours", "engagement.pair_days",
                        "engagement.sessions_per_pair_month")


def test_one_suppressed_group_takes_the_next_smallest_with_it():
    raw = summary(
        pairs=pairs_section(54),
        groups={
            "Site A": block(pairs=pairs_section(30)),
            "Site B": block(pairs=pairs_section(4)),        # 1-10: suppressed
            "Site C.North": block(pairs=pairs_section(20)),  # next smallest non-zero: complement
            "Site D": block(pairs=pairs_section(0)),        # zero: shown, never the complement
        },
    )
    out = suppress_summary(raw)
    groups = out["groups"]
    assert groups["Site A"]["pairs"]["in_scope"] == 30
    assert groups["Site B"]["pairs"]["in_scope"] is None
    assert groups["Site C.North"]["pairs"]["in_scope"] is None
    assert groups["Site D"]["pairs"]["in_scope"] == 0
    assert out["pairs"]["in_scope"] == 54  # the total stays: 54 - 30 - 0 = 24 = B + C, not B
    # Values over the hidden pair counts go with them. The group name keeps its dot.
    assert out["suppressed"] == sorted(
        f"groups.{site}.{path}" for site in ("Site B", "Site C.North") for path in HIDDEN_WITH_IN_SCOPE
    )
    for site in ("Site B", "Site C.North"):
        eng = groups[site]["engagement"]
        assert eng["contact_hours"] is None and eng["pair_days"] is None
        assert eng["sessions_per_pair_month"] is None
        assert eng["attendance_rate"] == 400 / 440  # over 440 sessions, pair count not needed


def test_two_suppressed_groups_need_nothing_more():
    raw = summary(
        pairs=pairs_section(57),
        groups={
            "A": block(pairs=pairs_section(30)),
            "B": block(pairs=pairs_section(4)),
            "C": block(pairs=pairs_section(3)),
            "D": block(pairs=pairs_section(20)),
        },
    )
    out = suppress_summary(raw)
    assert [out["groups"][g]["pairs"]["in_scope"] for g in "ABCD"] == [30, None, None, 20]
    assert out["suppressed"] == sorted(f"groups.{g}.{p}" for g in "BC" for p in HIDDEN_WITH_IN_SCOPE)


def test_zero_groups_are_never_the_complement():
    # B is the only suppressed group and every other group is zero: nothing to take with it.
    # The total (4) is itself 1-10, so it is suppressed and B cannot be read from it.
    raw = summary(
        pairs=pairs_section(4),
        groups={"A": block(pairs=pairs_section(0)), "B": block(pairs=pairs_section(4)),
                "C": block(pairs=pairs_section(0))},
    )
    out = suppress_summary(raw)
    assert [out["groups"][g]["pairs"]["in_scope"] for g in "ABC"] == [0, None, 0]
    assert out["pairs"]["in_scope"] is None


def test_complement_ties_go_to_the_first_name():
    raw = summary(groups={"A": block(pairs=pairs_section(5)), "C": block(pairs=pairs_section(20)),
                          "B": block(pairs=pairs_section(20))})
    out = suppress_summary(raw)
    assert [out["groups"][g]["pairs"]["in_scope"] for g in "ABC"] == [None, None, 20]


def test_complement_hides_what_is_derived_from_it():
    # B's n_paired (8) is small; C (15) is the complement, so C's outcome statistics go too.
    def outcomes(n):
        return {"GSE10": {**block()["outcomes"]["GSE10"], "n_paired": n}}

    raw = summary(groups={"A": block(outcomes=outcomes(40)), "B": block(outcomes=outcomes(8)),
                          "C": block(outcomes=outcomes(15))})
    out = suppress_summary(raw)
    stats = ["baseline_mean", "ci95", "cohens_dz", "followup_mean", "mean_change", "n_paired",
             "reliable_decline_rate", "reliable_improvement_rate", "sd_change"]
    assert out["suppressed"] == sorted(f"groups.{g}.outcomes.GSE10.{s}" for g in "BC" for s in stats)
    assert out["groups"]["A"]["outcomes"]["GSE10"]["ci95"] == [2.1, 5.9]


def goals(h, ho, e):
    """A goals section with these goals set per domain and none achieved yet."""
    dom = {name: {"set": n, "achieved": 0, "achievement_rate": 0.0 if n else None}
           for name, n in (("health", h), ("housing", ho), ("employment", e))}
    return {"set": h + ho + e, "achieved": 0, "achievement_rate": 0.0,
            "median_days_to_achieve": None, "by_domain": dom}


def test_group_by_domain_two_way_table():
    # Goals set, groups x domains:      health  housing  employment
    #   A                                  3       20        30
    #   B                                 15       12        40
    #   C                                 25       18        50
    # A.health (3) is small. Within A the complement is housing (20). Across groups, health
    # takes B (15) and housing, now alone at A, takes B (12); B then has two. Nothing else.
    raw = summary(
        goals=goals(43, 50, 120),
        groups={"A": block(goals=goals(3, 20, 30)), "B": block(goals=goals(15, 12, 40)),
                "C": block(goals=goals(25, 18, 50))},
    )
    out = suppress_summary(raw)
    assert out["suppressed"] == sorted(
        f"groups.{g}.goals.by_domain.{d}.{v}"
        for g in "AB" for d in ("health", "housing") for v in ("set", "achievement_rate")
    )
    # achieved 0 is shown everywhere; group totals (goals.set) stay.
    assert out["groups"]["A"]["goals"]["set"] == 53
    assert out["groups"]["C"]["goals"]["by_domain"]["health"]["set"] == 25


def test_complement_with_no_partner_hides_the_total():
    # Goals set, groups x domains:      health  housing  employment
    #   A                                 30        0         0
    #   B                                  0        5        20
    #   top level                         30        5        20
    # B.housing (5) is small (and so is the top-level housing, 5). Within B the complement is
    # employment (20). Across groups, B.employment is then alone and A has none to pair with
    # it, so the top-level employment (20) goes; otherwise it would equal B.employment and
    # B.goals.set - 0 - 20 would give B.housing back.
    raw = summary(goals=goals(30, 5, 20),
                  groups={"A": block(goals=goals(30, 0, 0)), "B": block(goals=goals(0, 5, 20))})
    out = suppress_summary(raw)
    assert out["suppressed"] == [
        "goals.by_domain.employment.achievement_rate", "goals.by_domain.employment.set",
        "goals.by_domain.housing.achievement_rate", "goals.by_domain.housing.set",
        "groups.B.goals.by_domain.employment.achievement_rate", "groups.B.goals.by_domain.employment.set",
        "groups.B.goals.by_domain.housing.achievement_rate", "groups.B.goals.by_domain.housing.set",
    ]
    assert out["goals"]["set"] == 55 and out["groups"]["B"]["goals"]["set"] == 25


def test_top_level_domain_complement():
    # employment: 45 set, 30 achieved, so 15 not achieved (a nested difference of k or more)
    goals = {"set": 64, "achieved": 30, "achievement_rate": 30 / 64, "median_days_to_achieve": 50.0,
             "by_domain": {"health": {"set": 6, "achieved": 0, "achievement_rate": 0.0},
                           "housing": {"set": 13, "achieved": 0, "achievement_rate": 0.0},
                           "employment": {"set": 45, "achieved": 30, "achievement_rate": 30 / 45},
                           "education": {"set": 0, "achieved": 0, "achievement_rate": None}}}
    out = suppress_summary(summary(goals=goals))
    assert out["suppressed"] == [
        "goals.by_domain.health.achievement_rate", "goals.by_domain.health.set",
        "goals.by_domain.housing.achievement_rate", "goals.by_domain.housing.set",
    ]


def test_input_is_not_mutated():
    raw = summary(groups={"A": block(pairs=pairs_section(3)), "B": block()})
    before = copy.deepcopy(raw)
    out = suppress_summary(raw)
    assert raw == before
    out["groups"]["B"]["pairs"]["in_scope"] = -1
    out["groups"]["B"]["outcomes"]["GSE10"]["ci95"].append(0)
    assert raw == before


# --------------------------------------------------------------------------------------
# Property tests on random summary-shaped documents

DOMAINS = ("health", "housing", "employment")
INSTRUMENTS = ("GSE10", "BARC10")


def random_block(rng: random.Random) -> dict:
    """A block with counts weighted towards 0 and 1..12, and derived values null or not.

    Values come from a seeded random.Random: drawing each of the ~50 leaves through
    hypothesis would make these tests take minutes.
    """
    def c():
        return rng.choice((0, rng.randint(1, 12), rng.randint(0, 60)))

    def f():
        return rng.choice((None, round(rng.uniform(-50, 50), 3)))

    dom = {d: {"set": c(), "achieved": c(), "achievement_rate": f()} for d in DOMAINS}
    return {
        "pairs": {"in_scope": c(), "matched_in_period": c(), "active_at_end": c()},
        "participants": {"in_scope": c()},
        "engagement": {"attended": c(), "no_show": c(), "cancelled": c(), "attendance_rate": f(),
                       "contact_hours": f(), "pair_days": c(), "sessions_per_pair_month": f(),
                       "median_days_to_first_session": f()},
        "retention": {"pairs": c(), "events": c(), "km_30": f(), "km_90": f(), "km_180": f(),
                      "median_days": f(), "eligible_90": c(), "retained_90": f()},
        "outcomes": {i: {"n_paired": c(), "baseline_mean": f(), "followup_mean": f(), "mean_change": f(),
                         "sd_change": f(), "ci95": rng.choice((None, [f(), f()])),
                         "cohens_dz": f(), "reliable_improvement_rate": f(), "reliable_decline_rate": f()}
                     for i in INSTRUMENTS},
        "goals": {"set": sum(v["set"] for v in dom.values()),
                  "achieved": sum(v["achieved"] for v in dom.values()),
                  "achievement_rate": f(), "median_days_to_achieve": f(), "by_domain": dom},
    }


def leaves(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*prefix, key))
    else:
        yield prefix, node


def at(node, path):
    for key in path:
        node = node[key]
    return node


@st.composite
def random_summary(draw) -> dict:
    # Group names include dots and a literal "*" (the rule tables' wildcard).
    names = draw(st.lists(st.sampled_from(["A", "B", "Site.1", "Site 2", "x.y.z", "*"]),
                          min_size=0, max_size=5, unique=True))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    groups = {name: random_block(rng) for name in names}
    top = random_block(rng)
    if groups:
        # The top-level counts are the sums over the groups, as with a real --by breakdown.
        for path, _ in list(leaves(top)):
            if path[-1] in COUNT_LEAVES:
                parent = at(top, path[:-1])
                parent[path[-1]] = sum(at(g, path) for g in groups.values())
    doc = {"as_of": "2026-06-30", "start": "2025-01-01", "end": "2026-06-30", "min_cell": 11,
           "suppressed": [], **top}
    if groups:
        doc["groups"] = groups
    return doc


ks = st.sampled_from([1, 2, 5, 11, 20])


def lines(doc):
    """(margin path, member paths) for every breakdown line of the document."""
    groups = doc.get("groups", {})
    for path, _ in leaves({k: v for k, v in doc.items() if k != "groups"}):
        if path[-1] in COUNT_LEAVES and groups:
            yield path, [("groups", g, *path) for g in groups]
    for prefix in [(), *(("groups", g) for g in groups)]:
        for v in ("set", "achieved"):
            yield (*prefix, "goals", v), [(*prefix, "goals", "by_domain", d, v) for d in DOMAINS]


@settings(max_examples=100, deadline=None)
@given(random_summary(), ks)
def test_no_small_count_survives(raw, k):
    out = suppress_summary(raw, k=k)
    for path, value in leaves(out):
        if path[-1] in COUNT_LEAVES and isinstance(value, int):
            assert not 0 < value < k, path


@settings(max_examples=100, deadline=None)
@given(random_summary(), ks)
def test_no_single_hidden_cell_is_recoverable(raw, k):
    out = suppress_summary(raw, k=k)
    for margin, members in lines(raw):
        if at(out, margin) is None:
            continue  # the total itself is hidden
        hidden = [m for m in members if at(out, m) is None]
        # total minus the shown members would give a lone hidden member back exactly.
        assert len(hidden) != 1, (margin, hidden)


@settings(max_examples=100, deadline=None)
@given(random_summary(), ks)
def test_suppressed_lists_exactly_what_became_null(raw, k):
    before = copy.deepcopy(raw)
    out = suppress_summary(raw, k=k)
    assert raw == before  # the input is not mutated
    became_null = {".".join(map(str, p)) for p, v in leaves(raw)
                   if v is not None and at(out, p) is None}
    assert out["suppressed"] == sorted(became_null)
    assert out["min_cell"] == k
    # Everything else is unchanged and the key set is exact.
    assert [p for p, _ in leaves(out) if p != ("suppressed",) and p != ("min_cell",)] == \
           [p for p, _ in leaves(raw) if p != ("suppressed",) and p != ("min_cell",)]
    for path, value in leaves(raw):
        if path not in (("suppressed",), ("min_cell",)) and at(out, path) is not None:
            assert at(out, path) == value
    if k == 1:
        assert out["suppressed"] == []


@settings(max_examples=100, deadline=None)
@given(random_summary(), ks)
def test_rates_over_small_denominators_are_hidden(raw, k):
    out = suppress_summary(raw, k=k)
    for prefix in [(), *(("groups", g) for g in raw.get("groups", {}))]:
        for inst in INSTRUMENTS:
            n = at(raw, (*prefix, "outcomes", inst, "n_paired"))
            if 0 < n < k:
                assert all(v is None for v in at(out, (*prefix, "outcomes", inst)).values())
        eng = at(raw, (*prefix, "engagement"))
        if 0 < eng["attended"] + eng["no_show"] < k:
            assert at(out, (*prefix, "engagement", "attendance_rate")) is None


# --------------------------------------------------------------------------------------
# Tables


def site_table() -> pd.DataFrame:
    return pd.DataFrame({
        "site": ["A", "B", "C", "D", "Total"],
        "pairs": [30, 4, 20, 0, 54],
        "attended": [300, 40, 200, 0, 540],
        "no_show": [20, 3, 15, 0, 38],
        "attendance_rate": [300 / 320, 40 / 43, 200 / 215, np.nan, 540 / 578],
    })


def test_table_primary_and_complement():
    df = site_table()
    out, cells = suppress_table(df, count_cols=["pairs", "attended", "no_show"],
                                derived={"attendance_rate": ("attended", "no_show")},
                                group_col="site", total_labels=("Total",))
    # pairs: B (4) small, C (20) the next smallest non-zero; D (0) shown; the total shown.
    assert out["pairs"].tolist() == [30, "<11", "<11", 0, 54]
    # no_show: B (3) small; C (15) is the smallest other non-zero row.
    assert out["no_show"].tolist() == [20, "<11", "<11", 0, 38]
    # attended has nothing small: stays an integer column.
    assert out["attended"].dtype == np.int64
    # The rate goes with a hidden no_show; D's undefined rate stays empty.
    rates = out["attendance_rate"].tolist()
    assert rates[1:3] == ["n<11", "n<11"] and rates[0] == 300 / 320 and np.isnan(rates[3])
    assert cells == [("B", "pairs"), ("B", "no_show"), ("B", "attendance_rate"),
                     ("C", "pairs"), ("C", "no_show"), ("C", "attendance_rate")]
    # Numbers left in a touched column are still numbers, not text.
    assert isinstance(out["pairs"].iloc[0], int | np.integer)
    assert df.equals(site_table())  # input untouched


def test_table_xlsx_keeps_numbers_numeric():
    out, _ = suppress_table(site_table(), count_cols=["pairs", "no_show"], derived={}, group_col="site",
                            total_labels=("Total",))
    buf = io.BytesIO()
    out.to_excel(buf, index=False)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active
    col = [c.value for c in ws["B"]][1:]  # pairs
    assert col == [30, "<11", "<11", 0, 54]
    assert [ws.cell(row=r, column=2).data_type for r in range(2, 7)] == ["n", "s", "s", "n", "n"]


def test_table_small_totals_row_is_suppressed_but_never_a_member():
    df = pd.DataFrame({"pairs": [5, 3, 8]}, index=["A", "B", "Total"])
    out, cells = suppress_table(df, count_cols=["pairs"], derived={}, total_labels=("Total",))
    assert out["pairs"].tolist() == ["<11", "<11", "<11"]
    assert cells == [("A", "pairs"), ("B", "pairs"), ("Total", "pairs")]


def test_table_totals_row_is_never_the_complement():
    df = pd.DataFrame({"pairs": [5, 30, 0, 35]}, index=["A", "B", "C", "Total"])
    out, _ = suppress_table(df, count_cols=["pairs"], derived={}, total_labels=("Total",))
    assert out["pairs"].tolist() == ["<11", "<11", 0, 35]


def test_table_without_totals_row_and_two_suppressed():
    df = pd.DataFrame({"set": [4, 3, 40], "achieved": [2, 0, 20], "rate": [0.5, 0.0, 0.5]},
                      index=["health", "housing", "employment"])
    out, cells = suppress_table(df, count_cols=["set", "achieved"], derived={"rate": "set"},
                                inputs={"rate": ["achieved"]})
    # set: two small rows, no complement. achieved: health (2) alone -> employment (20), the
    # only other non-zero row (housing is 0). Rates follow a small set or a hidden achieved.
    assert out["set"].tolist() == ["<11", "<11", 40]
    assert out["achieved"].tolist() == ["<11", 0, "<11"]
    assert out["rate"].tolist() == ["n<11", "n<11", "n<11"]
    assert ("employment", "rate") in cells


def test_table_k_one_leaves_everything():
    df = site_table()
    out, cells = suppress_table(df, count_cols=["pairs", "no_show"],
                                derived={"attendance_rate": ("attended", "no_show")}, k=1, group_col="site")
    assert cells == []
    pd.testing.assert_frame_equal(out, df)


def test_table_rejects_bad_input():
    df = pd.DataFrame({"n": [1, 2]}, index=["a", "a"])
    with pytest.raises(ValueError, match="unique"):
        suppress_table(df, count_cols=["n"], derived={})
    with pytest.raises(ValueError, match="no column"):
        suppress_table(pd.DataFrame({"n": [1]}), count_cols=["m"], derived={})
    with pytest.raises(TypeError):
        suppress_table(pd.DataFrame({"n": ["5"]}), count_cols=["n"], derived={})


@st.composite
def random_table(draw):
    n = draw(st.integers(1, 6))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    a, b = ([rng.choice((0, rng.randint(1, 12), rng.randint(0, 60))) for _ in range(n)] for _ in "ab")
    rate = [rng.choice((np.nan, 0.5)) for _ in range(n)]
    index = [f"r{i}" for i in range(n)] + ["Total"]
    return pd.DataFrame({"a": [*a, sum(a)], "b": [*b, sum(b)], "rate": [*rate, 0.5]}, index=index)


@settings(max_examples=200, deadline=None)
@given(random_table(), ks)
def test_table_properties(df, k):
    before = df.copy()
    out, cells = suppress_table(df, count_cols=["a", "b"], derived={"rate": "a"}, k=k,
                                total_labels=("Total",))
    pd.testing.assert_frame_equal(df, before)
    label = suppressed_label(k)
    for col in ("a", "b"):
        values = out[col].tolist()
        assert not any(isinstance(v, int | np.integer) and 0 < v < k for v in values)
        if values[-1] != label:  # total shown: a lone hidden row would be total minus the rest
            assert sum(v == label for v in values[:-1]) != 1
    assert sorted(cells) == sorted((row, col) for col in out.columns for row, v in out[col].items()
                                   if isinstance(v, str))


# --------------------------------------------------------------------------------------
# Narrowed views


def test_export_refused_below_k():
    with pytest.raises(ExportRefused) as err:
        check_export_allowed(7, 11)
    assert err.value.reason == ("this view covers fewer than 11 pairs; "
                                "exports are refused below the privacy threshold")
    assert str(err.value) == err.value.reason
    with pytest.raises(ExportRefused):
        check_export_allowed(0, 11)


def test_export_allowed_at_k_and_when_off():
    assert check_export_allowed(11, 11) is None
    assert check_export_allowed(500) is None
    assert check_export_allowed(0, 1) is None  # k = 1: suppression off


# --------------------------------------------------------------------------------------
# Formula injection


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x", "-3",
                                  "=HYPERLINK(\"http://x\",\"y\")"])
def test_formula_text_is_escaped(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Site B", "<11", "n<11", "", "a=b", "1+1", " =x"])
def test_plain_text_is_unchanged(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("value", [-3, -2.5, 0, 7, np.int64(-4), np.float64(-0.5), None, True])
def test_numbers_stay_numbers(value):
    out = safe_cell(value)
    assert out is value


def test_safe_frame():
    df = pd.DataFrame({
        "=site": ["=1+1", "Site B", None, "@cmd"],
        "change": [-3, 2, 0, -1],
        "rate": [-0.5, 0.25, np.nan, 1.0],
        "text": pd.Series(["-2+3", "ok", pd.NA, "+x"], dtype="string"),
        "cat": pd.Categorical(["\t=x", "b", "b", "\r=x"]),
    })
    before = df.copy()
    out = safe_frame(df)
    assert list(out.columns) == ["'=site", "change", "rate", "text", "cat"]
    assert out["'=site"].tolist() == ["'=1+1", "Site B", None, "'@cmd"]
    assert out["change"].dtype == np.int64 and out["change"].tolist() == [-3, 2, 0, -1]
    assert out["rate"].dtype == np.float64
    assert out["text"].dtype == "string" and out["text"].tolist()[::3] == ["'-2+3", "'+x"]
    assert out["cat"].tolist() == ["'\t=x", "b", "b", "'\r=x"]
    pd.testing.assert_frame_equal(df, before)


def test_safe_frame_after_suppression_keeps_numbers():
    out, _ = suppress_table(site_table(), count_cols=["pairs"], derived={}, group_col="site",
                            total_labels=("Total",))
    safe = safe_frame(out)
    assert safe["pairs"].tolist() == [30, "<11", "<11", 0, 54]


def test_a_share_that_implies_a_small_count_is_suppressed():
    raw = summary()
    # 22 paired, reliable decline 1/22 = 4.5%: the rate times the shown n names one person;
    # improvement 11/22 leaves 11 and 11, both shown.
    raw["outcomes"]["GSE10"].update(n_paired=22, reliable_improvement_rate=11 / 22, reliable_decline_rate=1 / 22)
    # 60 eligible, 55 retained: the complement implies 5 early disengagements.
    raw["retention"].update(eligible_90=60, retained_90=55 / 60)
    out = suppress_summary(raw)
    assert out["outcomes"]["GSE10"]["reliable_decline_rate"] is None
    assert out["outcomes"]["GSE10"]["reliable_improvement_rate"] == pytest.approx(0.5)
    assert out["retention"]["retained_90"] is None
    assert {"outcomes.GSE10.reliable_decline_rate", "retention.retained_90"} <= set(out["suppressed"])


def test_reliable_change_shares_never_give_the_middle_class_back():
    # 45 paired: 20 improved (44.4%), 20 declined (44.4%), so 45 - 20 - 20 = 5 showed no
    # reliable change: a count of 1-10 given by the two shares. Each share alone passes the
    # share rule (20 and 25 are >= 11), so only the partition rule hides one: the smaller
    # class's (a tie: the last, the decline rate).
    raw = {"as_of": "2026-06-30", "min_cell": 11,
           "outcomes": {"GSE10": {"n_paired": 45, "reliable_improvement_rate": 20 / 45,
                                  "reliable_decline_rate": 20 / 45}}}
    out = suppress_summary(raw)
    gse = out["outcomes"]["GSE10"]
    assert gse["reliable_decline_rate"] is None and gse["reliable_improvement_rate"] == pytest.approx(20 / 45)
    assert out["suppressed"] == ["outcomes.GSE10.reliable_decline_rate"]
    # 45 = 20 + 13 + 12: the middle class is 13, nothing to hide.
    fine = copy.deepcopy(raw)
    fine["outcomes"]["GSE10"]["reliable_decline_rate"] = 12 / 45
    assert suppress_summary(fine)["suppressed"] == []
    # 45 = 30 + 11 + 4: improvement 30 > decline 4, but the decline share is already hidden by
    # the share rule (4 < 11), so the partition rule has nothing more to hide.
    small = copy.deepcopy(raw)
    small["outcomes"]["GSE10"].update(reliable_improvement_rate=30 / 45, reliable_decline_rate=4 / 45)
    assert suppress_summary(small)["suppressed"] == ["outcomes.GSE10.reliable_decline_rate"]
