"""Names are text in charts, never markup (plotly reads a small HTML dialect in every text it
draws: titles, ticks, legends, hover labels, annotations). A site or supervisor named with a
link or a styled span must reach the figure escaped, on screen and in exported SVG."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import tiny_program

from analytics import store
from analytics.domain.contract import INSTRUMENTS
from analytics.metrics.scope import resolve_scope
from analytics.panels import METRICS, PANELS, ScreenView
from analytics.present import charts
from analytics.present.escape import escape_frame, plotly_text
from analytics.store import views

K = 11
LINK = '<a href="https://evil.example/x">North</a>'
COVER = '<span style="font-size:400px;color:red">Team A</span>'
BOLD = "<b>White</b> & <i>others</i>"
HOSTILE = (LINK, COVER, BOLD)


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list | tuple):
        for v in node:
            yield from _strings(v)
    elif hasattr(node, "tolist"):
        yield from _strings(node.tolist())


def assert_no_markup_from_data(fig) -> set[str]:
    """No hostile name appears raw anywhere in the figure; returns which appear escaped."""
    texts = list(_strings(fig.to_plotly_json()))
    joined = "\n".join(texts)
    for name in HOSTILE:
        assert name not in joined, name
    assert "evil.example/x\">" not in joined and "<a " not in joined.lower()
    assert "<span style=\"font-size:400px" not in joined
    return {name for name in HOSTILE if plotly_text(name) in joined}


def test_every_chart_builder_escapes_its_inputs():
    # A builder added later without the wrapper would draw names as markup again.
    for name in charts.__all__:
        builder = getattr(charts, name)
        assert getattr(builder, "__wrapped__", None) is not None, name


def test_escaping_is_plain_html_entities_once():
    assert plotly_text(LINK) == '&lt;a href="https://evil.example/x"&gt;North&lt;/a&gt;'
    assert plotly_text("A & B") == "A &amp; B" and plotly_text(3) == 3
    frame = pd.DataFrame({"grp": [LINK, "South"], "n": [12, 20],
                          "cat": pd.Categorical([COVER, "x"])}).set_index("grp", drop=False)
    once = escape_frame(frame)
    assert escape_frame(once) is once  # marked: never escaped twice
    assert once["grp"].tolist() == [plotly_text(LINK), "South"] and once["n"].tolist() == [12, 20]
    assert list(once["cat"].cat.categories) == sorted([plotly_text(COVER), "x"])
    assert list(once.index) == [plotly_text(LINK), "South"]
    assert frame["grp"].tolist() == [LINK, "South"]  # the caller's frame is not changed


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    """The tiny program with a site, a supervisor and a demographic group named in markup."""
    db = tiny_program.build(tmp_path_factory.mktemp("hostile") / "hostile.duckdb")
    with store.swap_writer(db) as con:
        con.execute("update participants set site = ? where site = 'North'", [LINK])
        con.execute("update mentors set site = ? where site = 'North'", [LINK])
        con.execute("update mentors set supervisor = ?", [COVER])
        con.execute("update participants set race_ethnicity = ?", [BOLD])
    return db


@pytest.fixture(scope="module")
def con(hostile_store):
    cur = views.analysis_connection(store.connect_read(hostile_store))
    yield cur
    cur.close()


def _view(con, by: str | None) -> ScreenView:
    scope = resolve_scope(con, start="2026-01-01", end="2026-03-31", as_of="2026-03-31").grouped(by)
    seen = {}

    def get(name, other=None, settings=()):
        key = (name, other or scope, settings)
        if key not in seen:
            seen[key] = METRICS[name](con, other or scope, **dict(settings))
        return seen[key]

    return ScreenView(get=get, scope=scope, k=K)


@pytest.mark.parametrize("by", [None, "site", "supervisor", "race_ethnicity"])
def test_every_panel_draws_names_as_text(con, by):
    view = _view(con, by)
    drawn, escaped = [], set()
    for name, panel in PANELS.items():
        for params in ({}, *({"code": c} for c in INSTRUMENTS)):
            try:
                fig = panel.figure(view, **params)
            except (TypeError, IndexError):
                continue  # a panel that takes no instrument, or needs one
            drawn.append(name)
            escaped |= assert_no_markup_from_data(fig)
    assert set(drawn) == set(PANELS)  # every panel was drawn at least once
    if by is not None:
        # the grouped names did reach the charts (as text): the check above is not vacuous
        assert escaped


def test_mentor_and_compare_charts_name_supervisors_and_groups_as_text(con):
    scope = resolve_scope(con, start="2026-01-01", end="2026-03-31", as_of="2026-03-31")
    mentors = METRICS["mentor_caseloads"](con, scope)
    assert COVER in set(mentors["supervisor"])
    fig = charts.mentor_chart(mentors, k=1)
    assert {LINK, COVER} <= assert_no_markup_from_data(fig)  # site and supervisor, as text
    forest = pd.DataFrame({"grp": [LINK, "South"], "estimate": [1.2, 0.8], "low": [0.7, 0.5],
                           "high": [2.0, 1.3], "n": [30, 40]})
    assert assert_no_markup_from_data(charts.forest_plot(forest, k=K)) == {LINK}


@pytest.mark.skipif(shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists(),
                    reason="no browser for chart images")
def test_an_exported_svg_holds_no_link_or_style_from_data(con):
    import re

    from analytics.exports import images
    from analytics.exports.context import ExportContext

    scope = resolve_scope(con, start="2026-01-01", end="2026-03-31", as_of="2026-03-31").grouped("site")
    fig = charts.engagement_monthly_chart(METRICS["engagement_by_month"](con, scope), k=1)
    context = ExportContext(filters=f"Site: {LINK}", start=date(2026, 1, 1), end=date(2026, 3, 31),
                            as_of=date(2026, 3, 31), n=40, k=1)
    svg = images.export_chart(fig, "svg", context=context).decode("utf-8")
    # the site's name is printed, as characters, in the legend and the subtitle ...
    assert svg.count("&#60;a href=\"https://evil.example/x\"&#62;North&#60;/a&#62;") >= 2
    # ... and no element of the drawing is a link or carries the name's style
    assert re.search(r"<a[\s>]", svg) is None and "font-size:400px" not in svg
