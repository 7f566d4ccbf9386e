"""The Outcomes and Data pages (AppTest) on the tiny program with PHQ-9 scores (lower is better).

Numbers are those worked out by hand in tests/test_instruments.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny_program
from streamlit.testing.v1 import AppTest
from test_instruments import PHQ9

from analytics import store
from analytics.present import theme as charts

ROOT = Path(__file__).resolve().parent.parent
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
TIMEOUT = 60


@pytest.fixture(scope="module")
def phq_db(tmp_path_factory) -> Path:
    path = tiny_program.build(tmp_path_factory.mktemp("phq_pages") / "phq.duckdb")
    with store.swap_writer(path) as con:
        con.executemany("insert into assessments values (?, ?, ?, ?, ?)", PHQ9)
    return path


def open_page(db: Path, monkeypatch, page: str, tab: str | None = None) -> AppTest:
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update(PERIOD)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    if tab is not None:
        at.session_state["outcomes__instrument"] = tab
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption") for e in at.get(kind)).replace("\\", "")


def test_outcomes_page_lists_every_instrument_with_data(phq_db, monkeypatch):
    at = open_page(phq_db, monkeypatch, "outcomes")
    assert [t.label for t in at.get("tab")] == [
        "General Self-Efficacy Scale", "Brief Assessment of Recovery Capital", "Patient Health Questionnaire-9"]


def test_outcomes_page_with_a_phq9(phq_db, monkeypatch):
    at = open_page(phq_db, monkeypatch, "outcomes", tab="Patient Health Questionnaire-9")
    t = {m.label: m.value for m in at.metric}
    # pt1 18 -> 9, pt2 12 -> 9, pt3 8 -> 15, pt4 20 -> 15 (tests/test_instruments.py)
    assert t["Paired participants"] == "4" and t["PHQ9 mean change"] == "-2.5"
    assert (t["Meaningful improvement"], t["Meaningful decline"]) == ("50.0%", "25.0%")
    assert t["At cut-off, intake (9 or less)"] == "25.0%" and t["At cut-off, follow-up (9 or less)"] == "50.0%"
    text = _text(at)
    assert "lower is better" in text
    # four paired participants: the sentences say too few rather than print small-number shares
    assert "Change on the Patient Health Questionnaire-9: too few to report" in text
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [f["layout"]["title"]["text"] for f in figs]
    assert any(x.startswith("Patient Health Questionnaire-9: change by sessions attended") for x in titles)
    assert any(x.startswith("Patient Health Questionnaire-9: at the cut-off (9 or less)") for x in titles)
    dose_fig = next(f for f in figs if "change by sessions attended" in f["layout"]["title"]["text"])
    assert "An association, not an effect" in json.dumps(dose_fig["layout"])
    # four participants in the 0-3 band: hatched and faded, its mean not printed
    assert dose_fig["data"][0]["text"][0] == "n<11"
    trend = next(f for f in figs if "by months since enrollment" in f["layout"]["title"]["text"])
    assert "lower is better" in trend["layout"]["yaxis"]["title"]["text"]


def test_a_phq9_drop_reads_as_an_improvement_on_the_demo(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch, "outcomes", tab="Patient Health Questionnaire-9")
    text = _text(at)
    assert "Patient Health Questionnaire-9 scores fell by" in text
    assert "lower is better, so an improvement)" in text
    assert "improved by at least the minimal important change (5 points)" in text
    assert "a Patient Health Questionnaire-9 score of 9 or less (the published cut-off)" in text
    assert "an association, not proof that the sessions caused it" in text
    assert any(w in text for w in ("better on this scale", "worse on this scale", "about the same change")), text
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    dose_fig = next(f for f in figs if "change by sessions attended" in f["layout"]["title"]["text"])
    bar = dose_fig["data"][0]
    # the 12+ band: a mean fall in PHQ-9 scores, drawn in the improvement colour
    assert bar["y"][2] < 0 and bar["marker"]["color"][2] == charts.IMPROVED
    dist = next(f for f in figs if "change from intake to follow-up" in f["layout"]["title"]["text"])
    colours = dict(zip(dist["data"][0]["x"], dist["data"][0]["marker"]["color"], strict=True))
    assert all(c == charts.IMPROVED for x, c in colours.items() if x < 0 and not str(c).startswith("rgba"))


def test_data_page_shows_the_registry_in_force(phq_db, monkeypatch):
    at = open_page(phq_db, monkeypatch, "data")
    assert "Instrument registry in force" in [s.value for s in at.subheader]
    frames = [d.value for d in at.dataframe]
    registry_frame = next(f for f in frames if "Reliability r" in getattr(f, "columns", []))
    rows = registry_frame.set_index("Code")
    assert list(rows.index) == ["GSE10", "BARC10", "PHQ9", "GAD7"]
    assert (rows.loc["PHQ9", "Minimal important change"], rows.loc["GSE10", "Cut-off"]) == ("5", "–")
    assert rows.loc["PHQ9", "Better"] == "lower" and rows.loc["PHQ9", "Reported"] == "yes"
    assert rows.loc["GAD7", "Reported"] == "no"
    assert "Kroenke" in rows.loc["PHQ9", "Source"]


def test_compare_page_says_which_way_the_phq9_is_better(demo_store, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(demo_store))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/compare.py").run()
    at.session_state["compare__section"] = "Outcomes"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    axes = [f["layout"]["xaxis"]["title"]["text"] for f in figs]
    assert "PHQ9 mean change (lower is better)" in axes and "GSE10 mean change" in axes
    assert "the mean PHQ9 change (lower is better)" in _text(at)
