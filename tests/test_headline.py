"""The Overview's `headline` is the summary without its dose blocks and follow-up section:
every value it has is the summary's, raw and after suppression, whatever the scope and k.

Suppression is complementary across a document, so dropping two sections could in principle
change what else gets hidden; these checks show it does not, on a store with small groups (one
site, and k large enough that many cells are hidden)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import privacy, summary
from analytics.domain.scope import Filters
from analytics.metrics.scope import resolve_scope


def _without_dose_and_followup(doc: dict) -> dict:
    out = {key: value for key, value in doc.items() if key not in ("followup", "groups", "tests")}
    out["outcomes"] = {
        code: {key: value for key, value in block.items() if key != "dose"}
        for code, block in doc["outcomes"].items()
    }
    out["suppressed"] = [
        path for path in doc["suppressed"]
        if not path.startswith("followup.") and ".dose." not in path and not path.endswith(".dose")
    ]
    return out


def _scopes(con):
    whole = resolve_scope(con)
    one_site = resolve_scope(con, filters=Filters(site=("Harbor",)))
    early = resolve_scope(con, start=whole.start, end=whole.start + dt.timedelta(days=120))
    return {"whole": whole, "one_site": one_site, "early": early, "previous": whole.shifted_back(),
            "grouped": whole.grouped("site")}


@pytest.mark.parametrize("k", [1, 11, 40])
def test_the_headline_is_the_summary_without_dose_and_followup(demo_con, k):
    for name, scope in _scopes(demo_con).items():
        full = summary.raw_summary(demo_con, scope.grouped(None), min_cell=k)
        head = summary.headline(demo_con, scope)
        assert "followup" not in head and all("dose" not in b for b in head["outcomes"].values()), name
        assert {key for key in head if key != "min_cell"} | {"followup"} == {
            key for key in full if key != "min_cell"}, name
        suppressed_full = privacy.suppress_summary(full, k=k)
        suppressed_head = privacy.suppress_summary(head, k=k)
        assert _without_dose_and_followup(suppressed_head) | {"min_cell": k} == (
            _without_dose_and_followup(suppressed_full)), (name, k)
    # the suppression had something to hide at the larger k (so the check above means something)
    if k == 40:
        hidden = privacy.suppress_summary(summary.headline(demo_con, _scopes(demo_con)["one_site"]), k=k)
        assert hidden["suppressed"]


def test_an_empty_scope_gives_the_empty_headline(demo_con):
    nobody = resolve_scope(demo_con, filters=Filters(site=("Harbor",), gender=("no such gender",)))
    head = summary.headline(demo_con, nobody)
    assert head["pairs"]["in_scope"] == 0
    assert "followup" not in head and all("dose" not in b for b in head["outcomes"].values())
