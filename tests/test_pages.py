"""Every page in Streamlit's AppTest, against the tiny program (tests/tiny_program.py).

Golden numbers for S = 2026-01-01, E = A = 2026-03-31, worked out by hand in
tests/tiny_program.py and tests/test_metrics_golden.py:
- pairs in scope 4 (pr1-pr4; pr5 closed 2025-12-20), participants 4;
- sessions in [S, E] of those pairs, ss4 excluded (after pr1 closed): attended 6 (ss1 ss3 ss6 ss7
  ss9 ss11), no-show 3 (ss2 ss8 ss10), attendance 6 / 9 = 66.7%, contact hours
  (60 + 30 + 60 + 60 + 90 + 60) / 60 = 6.0;
- pair-days: pr1 40 (Jan 2 - Feb 10) + pr2 85 (Jan 6 - Mar 31) + pr3 49 (Jan 12 - Mar 1)
  + pr4 58 (Feb 2 - Mar 31, closed after A) = 232;
- GSE10: pt1 +6, pt2 +3 (Mar 20; Jan 20 is too early), pt3 -3 -> n 3, mean change 2.0;
- goals set in the period 5 (gl1-gl5), achieved by A 2 (gl1, gl3) = 40.0%.
Site North (pr1, pr2): attended 4 (ss1 ss3 ss6 ss7), no-show 2 (ss2 ss8), pair-days 40 + 85 = 125.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import store

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("overview", "engagement", "retention", "outcomes", "goals", "followup", "compare", "mentors", "data")
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
TIMEOUT = 60


@pytest.fixture()
def app_db(tiny_store, monkeypatch) -> Path:
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    return tiny_store


def open_app(page: str | None = None, query: dict | None = None) -> AppTest:
    """The app as a browser opens it: the entry file, then (optionally) a switch to a page."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update(PERIOD if query is None else query)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def shown(element) -> str:
    """An element's text as a reader sees it (the Markdown escapes of ui.components.plain undone)."""
    return re.sub(r"\\(.)", r"\1", str(element.value))


def texts(at: AppTest) -> str:
    """Everything the page says in text elements (to check nothing unsafe is echoed)."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader"):
        parts.extend(shown(e) for e in at.get(kind))
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_its_charts(app_db, page):
    at = open_app(page)
    assert not at.exception
    if page != "data":
        charts = figures(at)
        assert charts, f"{page} shows no chart"
        assert all("data" in fig and "layout" in fig for fig in charts)
    assert at.multiselect(key="filters__site").options == ["North", "South"]


def test_overview_headline_numbers(app_db):
    t = tiles(open_app())
    assert t["Pairs in scope"] == "4"
    assert t["Participants"] == "4"
    assert t["Attendance rate"] == "66.7%"
    assert t["GSE10 mean change"] == "+2.0"
    assert t["Goals achieved"] == "40.0%"


def test_overview_flags_small_numbers_and_compares_with_previous_period(app_db):
    at = open_app()
    assert "Fewer than 11 behind" in texts(at)
    # Oct-Dec 2025 held pr5 only: one pair before, four now.
    pairs = next(m for m in at.metric if m.label == "Pairs in scope")
    assert pairs.delta == "+3"
    # Shares change in points, with the decimals of a percentage: pr5 attended ss12, its only
    # session, so 6/9 - 1/1 = -0.333 -> "-33.3 pts"; its one goal gl6 was achieved, 0.4 - 1 -> "-60.0 pts"
    deltas = {m.label: m.delta for m in at.metric}
    assert (deltas["Attendance rate"], deltas["Goals achieved"]) == ("-33.3 pts", "-60.0 pts")


def test_engagement_golden_numbers(app_db):
    t = tiles(open_app("engagement"))
    assert (t["Attended"], t["No-shows"], t["Attendance rate"]) == ("6", "3", "66.7%")
    assert t["Contact hours"] == "6.0"
    assert t["Pair-days"] == "232"


def test_outcomes_and_goals_golden_numbers(app_db):
    t = tiles(open_app("outcomes"))
    assert t["GSE10 mean change"] == "+2.0"
    assert [m.value for m in open_app("outcomes").metric if m.label == "Paired participants"][0] == "3"
    g = tiles(open_app("goals"))
    assert (g["Goals set"], g["Goals achieved"], g["Achievement rate"]) == ("5", "2", "40.0%")


def test_site_filter_narrows_the_numbers_and_lands_in_the_url(app_db):
    at = open_app("engagement")
    at.multiselect(key="filters__site").set_value(["North"]).run()
    assert not at.exception
    t = tiles(at)
    assert (t["Attended"], t["No-shows"], t["Pair-days"]) == ("4", "2", "125")
    assert at.query_params["site"] == "North"
    assert at.query_params["start"] == "2026-01-01"


def test_filters_persist_across_a_page_switch(app_db):
    at = open_app("engagement")
    at.multiselect(key="filters__site").set_value(["North"]).run()
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    assert at.multiselect(key="filters__site").value == ["North"]
    assert tiles(at)["Pairs in scope"] == "2"
    at.switch_page("pages/engagement.py").run()
    assert tiles(at)["Attended"] == "4"


def test_a_link_with_filters_reproduces_the_view(app_db):
    at = open_app("engagement", {**PERIOD, "site": "North"})
    assert at.multiselect(key="filters__site").value == ["North"]
    assert tiles(at)["Attended"] == "4"


def test_reset_restores_the_defaults(app_db):
    at = open_app("engagement", {**PERIOD, "site": "North"})
    at.button(key="filters__reset").click().run()
    assert not at.exception
    assert at.multiselect(key="filters__site").value == []
    assert at.selectbox(key="filters__period").value == "all"
    assert "site" not in at.query_params and "start" not in at.query_params


def test_a_preset_period_is_kept_in_the_url(app_db):
    at = open_app("engagement", {})
    at.selectbox(key="filters__period").set_value("ytd").run()
    assert not at.exception
    assert at.query_params["period"] == "ytd"
    assert at.date_input(key="filters__start").value.isoformat() == "2026-01-01"


def test_bad_link_values_are_ignored_and_never_echoed(app_db):
    hostile = "<img src=x onerror=alert(1)>"
    at = open_app("engagement", {"start": "2026-13-45", "end": "yesterday", "site": [hostile, "North"], "period": hostile})
    assert not at.exception
    assert at.multiselect(key="filters__site").value == ["North"]
    assert at.selectbox(key="filters__period").value == "all"
    shown = texts(at)
    assert "not recognised" in shown
    assert "onerror" not in shown and "2026-13-45" not in shown


def test_a_page_file_opened_on_its_own_gets_the_same_setup(app_db):
    # What a deep link such as /engagement does on a fresh server: the page file runs without
    # the entry file, and must still bring the filters, the numbers and no error.
    at = AppTest.from_file(str(ROOT / "pages" / "engagement.py"), default_timeout=TIMEOUT)
    at.query_params.update(PERIOD)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="filters__site").options == ["North", "South"]
    assert tiles(at)["Attended"] == "6"
    assert figures(at)


def test_compare_by_another_dimension(app_db):
    at = open_app("compare")
    assert "North" in texts(at) or at.dataframe
    at.selectbox(key="compare__by").set_value("funding_stream").run()
    assert not at.exception
    # Two pairs per funding stream: both groups flagged, neither merged away.
    assert any("County" in shown(w) and "SOR" in shown(w) for w in at.warning)
    assert len(figures(at)) >= 2  # the open tab's charts: Kaplan-Meier and hazard ratios


def test_data_page_without_a_pseudonym_key_says_how_to_set_one(app_db, monkeypatch, tmp_path):
    from analytics.store import pseudonym

    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.setattr(pseudonym, "SECRETS_PATH", tmp_path / "secrets.toml")
    at = open_app("data")
    assert any(pseudonym.KEY_ENV in shown(w) for w in at.warning)
    assert at.get("file_uploader")[0].proto.disabled


def test_demo_store_is_built_when_there_is_none_and_says_so(tmp_path, monkeypatch):
    import tiny_program

    import analytics.demo

    built = []
    db = tmp_path / "none_yet.duckdb"
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    monkeypatch.setattr(analytics.demo, "build_demo_store", tiny_program.demo_stand_in(built))
    at = open_app("retention")
    assert built == [db] and db.exists()
    assert any("Demo data: a synthetic program, not real people" in str(i.value) for i in at.info)
    at.switch_page("pages/goals.py").run()
    assert any("Demo data" in str(i.value) for i in at.info)
    assert len(built) == 1


def test_a_load_seen_on_the_next_rerun(tmp_path, monkeypatch):
    # A load swaps a new file in: the stamp changes and the next rerun reads the new data,
    # though the previous file's connection is still open in this process.
    import tiny_program

    db = tiny_program.build(tmp_path / "swap.duckdb")
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = open_app("engagement")
    assert tiles(at)["Attended"] == "6"
    with store.swap_writer(db) as con:
        con.execute("insert into sessions values ('ss99', 'pr2', '2026-03-02', 'attended', 60, 'phone')")
    at.run()
    assert not at.exception
    assert tiles(at)["Attended"] == "7"


def test_a_narrow_selection_is_flagged_on_screen(app_db):
    # Four pairs in the tiny program's period: fewer than k = 11, so every page says so.
    at = open_app("goals")
    assert any("Only 4 pairs are in this selection" in shown(w) for w in at.warning)


def test_plain_shows_text_literally():
    from ui.components import plain

    hostile = "[link](javascript:alert(1)) <b>*bold*</b> :red[x] $x$ `code` # h"
    escaped = plain(hostile)
    # Every Markdown-active character is escaped, so st.markdown shows the text as typed.
    for ch in "[]()<>*:$`#":
        assert f"\\{ch}" in escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == hostile


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_a_sessions_first_run_primes_the_chart_library_once(app_db):
    # The first run sends an empty, data-free chart before the sidebar (the browser starts
    # loading plotly.js at once); later runs of the session do not.
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update(PERIOD)
    at.run()
    keys = [c.key for c in at.get("plotly_chart")]
    assert keys == ["setup__prime", "overview__monthly"]
    prime = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert prime["data"] == [] and prime["layout"]["height"] == 10
    at.run()
    assert [c.key for c in at.get("plotly_chart")] == ["overview__monthly"]
    # Pages without charts never load the library for it.
    fresh = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=TIMEOUT)
    fresh.run()
    assert "setup__prime" not in [c.key for c in fresh.get("plotly_chart")]
