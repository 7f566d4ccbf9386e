"""The `summary` command: the METRICS.md interface (flags, JSON keys, exit codes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PERIOD = ["--start", "2026-01-01", "--end", "2026-03-31", "--as-of", "2026-03-31"]

# The JSON shape of METRICS.md, keys only.
SECTION_KEYS = {
    "pairs": {"in_scope", "matched_in_period", "active_at_end"},
    "participants": {"in_scope"},
    "engagement": {
        "attended", "no_show", "cancelled", "attendance_rate", "contact_hours", "pair_days",
        "sessions_per_pair_month", "median_days_to_first_session",
    },
    "retention": {"pairs", "events", "km_30", "km_90", "km_180", "median_days", "eligible_90", "retained_90"},
    "goals": {"set", "achieved", "achievement_rate", "median_days_to_achieve", "by_domain"},
    "followup": {
        "rule", "target", "cohort", "due", "excused", "done", "missed", "rate", "meets_target",
        "open_now", "opening_next_30", "attrition",
    },
}
ATTRITION_KEYS = {"n_followed", "n_missed", "baseline_mean_followed", "baseline_mean_missed", "smd"}
OUTCOME_KEYS = {
    "n_paired", "baseline_mean", "followup_mean", "mean_change", "sd_change", "ci95", "cohens_dz",
    "reliable_improvement_rate", "reliable_decline_rate",
    # added with the instrument registry (every key above keeps its name and meaning)
    "meaningful_improvement_rate", "meaningful_decline_rate", "threshold", "dose",
}


def summary(db, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "summary", "--db", str(db), *args],
        capture_output=True, text=True, timeout=120,
    )


def _check_sections(doc):
    for section, keys in SECTION_KEYS.items():
        assert set(doc[section]) == keys, section
    assert set(doc["outcomes"]) == {"GSE10", "BARC10"}
    for inst in doc["outcomes"].values():
        assert set(inst) == OUTCOME_KEYS
    for dom in doc["goals"]["by_domain"].values():
        assert set(dom) == {"set", "achieved", "achievement_rate"}
    assert set(doc["followup"]["attrition"]) == {"GSE10", "BARC10"}
    for inst in doc["followup"]["attrition"].values():
        assert set(inst) == ATTRITION_KEYS


def test_json_shape_and_numbers_without_suppression(tiny_store):
    out = summary(tiny_store, *PERIOD, "--min-cell", "1")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"as_of", "start", "end", "min_cell", "suppressed", *SECTION_KEYS, "outcomes"}
    _check_sections(doc)
    assert (doc["as_of"], doc["start"], doc["end"], doc["min_cell"]) == ("2026-03-31", "2026-01-01", "2026-03-31", 1)
    assert doc["suppressed"] == []
    # hand numbers: see tests/test_metrics_golden.py
    assert doc["pairs"] == {"in_scope": 4, "matched_in_period": 4, "active_at_end": 2}
    assert doc["engagement"]["attended"] == 6 and doc["engagement"]["pair_days"] == 232
    assert doc["engagement"]["attendance_rate"] == pytest.approx(6 / 9)
    assert doc["retention"]["km_90"] == pytest.approx(0.75) and doc["retention"]["median_days"] is None
    assert doc["outcomes"]["GSE10"]["mean_change"] == pytest.approx(2.0)
    assert doc["goals"]["set"] == 5 and doc["goals"]["achievement_rate"] == pytest.approx(0.4)


def test_by_site_adds_groups(tiny_store):
    doc = json.loads(summary(tiny_store, *PERIOD, "--min-cell", "1", "--by", "site").stdout)
    assert set(doc["groups"]) == {"North", "South"}
    assert list(doc)[-2:] == ["groups", "tests"]
    assert set(doc["tests"]) == {"logrank", "attendance", "change"}
    for grp in doc["groups"].values():
        assert set(grp) == {*SECTION_KEYS, "outcomes"}
        _check_sections(grp)
    # North: pr1 + pr2 -> attended 4, no-show 2, pair-days 40 + 85
    north = doc["groups"]["North"]["engagement"]
    assert (north["attended"], north["no_show"], north["pair_days"]) == (4, 2, 125)


def test_site_filter(tiny_store):
    doc = json.loads(summary(tiny_store, *PERIOD, "--min-cell", "1", "--site", "South").stdout)
    # South: pr3 + pr4 -> attended ss9 ss11 = 2, no-show ss10 = 1
    assert (doc["engagement"]["attended"], doc["engagement"]["no_show"]) == (2, 1)


def test_default_suppression_nulls_small_counts_and_lists_paths(tiny_store):
    doc = json.loads(summary(tiny_store, *PERIOD).stdout)
    assert doc["min_cell"] == 11
    # 4 pairs in scope < 11: suppressed, as is every rate over them
    assert doc["pairs"]["in_scope"] is None and "pairs.in_scope" in doc["suppressed"]
    assert doc["engagement"]["attendance_rate"] is None
    assert doc["suppressed"] == sorted(set(doc["suppressed"]))
    _check_sections(doc)


def test_table_format(tiny_store):
    out = summary(tiny_store, *PERIOD, "--format", "table")
    assert out.returncode == 0
    assert "engagement.attendance_rate" in out.stdout and "<11" in out.stdout


def test_table_floats_round_half_up_like_every_other_surface():
    from analytics.cli.summary import _fmt

    # 0.1235 is 0.12349999... in binary: Python's f"{:.3f}" prints 0.123, the one rule 0.124;
    # a tiny negative prints 0.000, never -0.000
    assert [_fmt(v, 11) for v in (0.1235, -0.0001, 2.0, [0.5, None])] == ["0.124", "0.000", "2.000", "[0.500, -]"]


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--end", "2030-01-01"], "after the as-of"),
        (["--start", "03/04/2026"], "not a date"),
        (["--by", "first_name"], "invalid choice"),
        (["--min-cell", "0"], "min-cell"),
    ],
)
def test_bad_input_exits_2_with_one_line(tiny_store, args, reason):
    out = summary(tiny_store, *args)
    assert out.returncode == 2
    assert reason in out.stderr


def test_missing_store_exits_2(tmp_path):
    out = summary(tmp_path / "none.duckdb")
    assert out.returncode == 2 and "no store" in out.stderr
    assert not (tmp_path / "none.duckdb").exists()
