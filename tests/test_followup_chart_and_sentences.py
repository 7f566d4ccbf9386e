"""The follow-up rate chart (analytics.present.charts.followup) and the follow-up sentences
(analytics.present.followup_sentences), on the follow-up program of tests/tiny_followup.py and on
small hand-made frames. Figures are read through their traces and layout, never rendered."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.metrics import followup
from analytics.metrics.scope import resolve_scope
from analytics.present import followup_sentences as say
from analytics.present.charts import followup_rate_chart


@pytest.fixture()
def scope(tiny_followup_con):
    return resolve_scope(tiny_followup_con, start="2025-01-01", end="2025-12-31", as_of="2025-12-31")


def _bar(fig):
    return next(t for t in fig.data if t.type == "bar")


def test_by_month_with_k_1_draws_each_rate_and_the_target(tiny_followup_con, scope):
    frame = followup.followup_by_close_month(tiny_followup_con, scope)
    fig = followup_rate_chart(frame, by="month", target=0.8, k=1)
    bar = _bar(fig)
    # closes: Aug 2025 2 due 0 done (0.0%), Sep 1/1, Oct 1/1 (f4 excused), Nov 1/1
    assert list(bar.x) == ["Aug 2025", "Sep 2025", "Oct 2025", "Nov 2025"]
    assert list(bar.y) == [0.0, 100.0, 100.0, 100.0]
    assert list(bar.text) == ["0.0%", "100.0%", "100.0%", "100.0%"]
    assert fig.layout.title.text.startswith("Follow-up rate by month of window close (n = 5 due)")
    [line] = [s for s in fig.layout.shapes if s.type == "line"]
    assert (line.y0, line.y1) == (80.0, 80.0)
    assert any(a.text == "Target 80.0%" for a in fig.layout.annotations)
    # below the target in vermillion, meeting it in green
    colours = list(bar.marker.color)
    assert colours[0] != colours[1] and colours[1] == colours[2] == colours[3]


def test_small_bars_are_flagged_without_their_rate(tiny_followup_con, scope):
    frame = followup.followup_counts(tiny_followup_con, scope.grouped("site"))
    fig = followup_rate_chart(frame, by="site", target=0.8, k=11)
    bar = _bar(fig)
    # North 4 due, South 1 due: both below k, so no rate is printed and the title says n<11
    assert list(bar.text) == ["n<11", "n<11"]
    assert list(bar.y) == ["North", "South"] and bar.orientation == "h"
    assert "(n<11 due)" in fig.layout.title.text
    assert list(bar.marker.pattern.shape) == ["/", "/"]


def test_a_suppressed_frame_draws_flags_only():
    frame = pd.DataFrame({"grp": ["A", "B"], "due": [float("nan"), 40.0], "done": [float("nan"), 30.0],
                          "rate": [float("nan"), 0.75]})
    bar = _bar(followup_rate_chart(frame, by="site", target=0.7, k=11))
    assert list(bar.text) == ["n<11", "75.0%"]


def test_group_labels_are_escaped():
    frame = pd.DataFrame({"grp": ["<b>Site</b>"], "due": [20], "done": [18], "rate": [0.9]})
    bar = _bar(followup_rate_chart(frame, by="site", k=11))
    assert list(bar.y) == ["&lt;b&gt;Site&lt;/b&gt;"]


def test_empty_frame_gives_the_no_data_figure():
    fig = followup_rate_chart(pd.DataFrame(columns=["month", "due", "done", "rate"]), k=11)
    assert "(n = 0)" in fig.layout.title.text


def test_rate_sentence():
    block = {"rule": "suprt", "target": 0.8, "due": 25, "done": 21, "excused": 3, "rate": 21 / 25}
    # 21 / 25 = 84.0% >= 80.0%
    assert say.rate_sentence(block, as_of=date(2026, 6, 30)) == (
        "Of 25 participants whose SUPRT follow-up window (days 150-210 after intake, 180 \u00b1 30) closed by "
        "30 Jun 2026, 21 were reassessed inside it: a follow-up rate of 84.0%, meeting the 80.0% target. 3 more "
        "left the program before or during their window and are not counted."
    )
    gpra = {"rule": "gpra", "target": 0.8, "due": 20, "done": 15, "excused": 0, "rate": 0.75}
    assert "GPRA follow-up window (months 5 to 8 after intake)" in say.rate_sentence(gpra, as_of=date(2026, 6, 30))
    assert "below the 80.0% target" in say.rate_sentence(gpra, as_of=date(2026, 6, 30))
    hidden = {**block, "due": None, "done": None, "rate": None}
    assert "too few to report" in say.rate_sentence(hidden, as_of=date(2026, 6, 30))
    none_due = {**block, "due": 0, "done": 0, "rate": None}
    assert "no follow-up rate yet" in say.rate_sentence(none_due, as_of=date(2026, 6, 30))


@pytest.mark.parametrize(("smd", "meaning"), [
    (0.0, "little difference at intake"),
    (-0.19, "little difference at intake"),
    (0.2, "some difference: those reassessed scored higher at intake"),
    (-0.49, "some difference: those reassessed scored lower at intake"),
    (0.5, "a large difference: those reassessed scored higher at intake"),
    (None, "not computed (fewer than two participants on one side)"),
])
def test_smd_meaning(smd, meaning):
    assert say.smd_meaning(smd) == meaning


def test_attrition_sentence_names_the_largest_difference():
    rows = [{"instrument": "GSE10", "smd": 0.1}, {"instrument": "BARC10", "smd": -0.34}]
    text = say.attrition_sentence(rows)
    assert text.startswith("On Brief Assessment of Recovery Capital, participants reassessed and those missed")
    assert "(standardized difference \u22120.34)" in text and "scored lower at intake" in text
    assert "started out alike" in say.attrition_sentence([{"instrument": "GSE10", "smd": 0.05}])
    assert "cannot be told yet" in say.attrition_sentence([{"instrument": "GSE10", "smd": None}])


def _mentors(count: int) -> pd.DataFrame:
    # mentor m00..m{count-1}: 50 due each, missed = its number, done = 50 - missed
    missed = list(range(count))
    return pd.DataFrame({"grp": [f"m{i:02d}" for i in missed], "due": [50] * count,
                         "done": [50 - m for m in missed], "missed": missed,
                         "rate": [(50 - m) / 50 for m in missed]})


def test_past_forty_groups_the_most_missed_are_drawn_most_first():
    fig = followup_rate_chart(_mentors(45), by="mentor", target=0.8, k=11)
    bar = _bar(fig)
    # 45 mentors > 40: the 40 with the most missed windows, m44 (44 missed) down to m05 (5)
    assert list(bar.y) == [f"m{i:02d}" for i in range(44, 4, -1)]
    # m44: done 6 of 50 = 12.0%; m05: 45 of 50 = 90.0%
    assert bar.text[0] == "12.0%" and bar.text[-1] == "90.0%"
    # the title's n is every mentor's due: 45 * 50 = 2,250
    assert "(n = 2,250 due)" in fig.layout.title.text
    footnote = " ".join(a.text for a in fig.layout.annotations)
    assert "the 40 of 45 mentors with the most missed windows, most first" in footnote


def test_forty_groups_or_fewer_are_all_drawn_in_their_order():
    fig = followup_rate_chart(_mentors(40), by="mentor", target=0.8, k=11)
    assert list(_bar(fig).y) == [f"m{i:02d}" for i in range(40)]
    assert "most missed" not in " ".join(a.text for a in fig.layout.annotations)


def test_the_most_missed_puts_hidden_counts_last_and_keeps_ties_in_order():
    from analytics.present.charts.followup import most_missed

    nan = float("nan")
    frame = pd.DataFrame({"grp": list("abcdef"), "due": [20] * 6, "missed": [1, 5, nan, 5, 2, 0]})
    frame["rate"] = [(20 - m) / 20 if m == m else nan for m in frame["missed"]]
    # 5 (b), 5 (d) in the frame's order, then 2 (e), 1 (a); the hidden count (c) after 0 (f)
    assert most_missed(frame, 4)["grp"].tolist() == ["b", "d", "e", "a"]
    assert most_missed(frame, 6)["grp"].tolist() == ["b", "d", "e", "a", "f", "c"]
    # no `missed` column: due - done
    frame = pd.DataFrame({"grp": ["x", "y"], "due": [12, 20], "done": [9, 5], "rate": [0.75, 0.25]})
    assert most_missed(frame, 1)["grp"].tolist() == ["y"]


def test_the_most_missed_draws_the_bars_with_a_rate_before_the_stubs():
    """A stub (fewer than k due, or its rate hidden) says no rate, so it comes after every bar
    that does, whatever its missed count: as the Compare charts draw small groups last."""
    from analytics.present.charts.followup import most_missed

    nan = float("nan")
    frame = pd.DataFrame({
        "grp": list("pqrstu"),
        # p: 6 missed of 8 due (under k = 11: a stub); q: 2 of 30; r: 9 of 40; s: its rate
        # hidden (an export's suppressed row); t: 0 of 3 (a stub); u: 1 of 11
        "due": [8, 30, 40, 25, 3, 11],
        "missed": [6, 2, 9, nan, 0, 1],
        "rate": [2 / 8, 28 / 30, 31 / 40, nan, 1.0, 10 / 11],
    })
    # with rates: r (9), q (2), u (1); then the stubs: p (6), t (0), s (hidden) last
    assert most_missed(frame, 6)["grp"].tolist() == ["r", "q", "u", "p", "t", "s"]
    assert most_missed(frame, 4)["grp"].tolist() == ["r", "q", "u", "p"]
    # with k = 5, p (8 due) shows its rate and is ranked by its 6 missed
    assert most_missed(frame, 6, k=5)["grp"].tolist() == ["r", "p", "q", "u", "t", "s"]


def test_past_forty_groups_a_mentor_with_fewer_than_k_due_is_drawn_after_those_with_rates():
    # 45 mentors of 50 due each (m00 0 missed ... m44 44 missed); m43 and m44 with 8 due (6 and 7
    # missed): stubs on any screen, so the 40 drawn are m42 down to m03, with rates
    frame = _mentors(45)
    frame.loc[43:44, "due"] = 8
    frame.loc[43:44, "missed"] = [6, 7]
    frame.loc[43:44, "done"] = [2, 1]
    frame["rate"] = frame["done"] / frame["due"]
    fig = followup_rate_chart(frame, by="mentor", target=0.8, k=11)
    assert list(_bar(fig).y) == [f"m{i:02d}" for i in range(42, 2, -1)]
    footnote = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert ("Drawn: the 40 of 45 mentors with the most missed windows among the 43 whose rates are shown,"
            " most first (the other 2 rest on fewer than 11 due)") in footnote
    # m39-m42 at 8 due (0 missed) too: the 39 mentors with rates (m00-m38, 50 due) drawn, m38 (38
    # missed) down to m00, then one of the six stubs m39-m44 (8 due each): m44, with the most (7)
    frame.loc[39:42, "due"] = 8
    frame.loc[39:42, ["missed", "done"]] = [0, 8]
    frame["rate"] = frame["done"] / frame["due"]
    fig = followup_rate_chart(frame, by="mentor", target=0.8, k=11)
    assert list(_bar(fig).y) == [f"m{i:02d}" for i in range(38, -1, -1)] + ["m44"]
    footnote = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert ("Drawn: 40 of the 45 mentors: the 39 whose rates are shown, the most missed windows first, then"
            " 1 of the 6 resting on fewer than 11 due, the most missed windows first; the data behind") in footnote


def test_the_drawn_note_says_what_each_stub_rests_on():
    from analytics.present.charts.followup import drawn_note

    # k = 1 (suppression off): a stub is a mentor with no window due (no rate to draw)
    assert drawn_note(40, 488, 438, 0, "mentors", k=1) == (
        " Drawn: the 40 of 488 mentors with the most missed windows among the 438 whose rates are shown,"
        " most first (the other 50 have no window due); the data behind the chart lists every one.")
    assert drawn_note(40, 50, 30, 0, "mentors", k=1).startswith(
        " Drawn: 40 of the 50 mentors: the 30 whose rates are shown, the most missed windows first, then 10"
        " of the 20 with no window due, the most missed windows first;")
    # suppressed (some counts hidden): "fewer than 11", not "fewer than 11 due" (a rate is also
    # hidden where its missed windows are under k)
    assert drawn_note(40, 488, 24, 345, "mentors", k=11).startswith(
        " Drawn: 40 of the 488 mentors: the 24 whose rates are shown, the most missed windows first, then 16"
        " of the 464 resting on fewer than 11, the most missed windows first, those whose missed windows are"
        " hidden as small numbers (345) last, in the data's order;")
    # no stub: every bar shows its rate
    assert drawn_note(40, 45, 45, 0, "mentors").startswith(
        " Drawn: the 40 of 45 mentors with the most missed windows, most first;")


def _hidden(frame: pd.DataFrame, grps: list[str]) -> pd.DataFrame:
    # those mentors' counts hidden, as an export's suppressed frame has them
    out = frame.copy()
    out.loc[out["grp"].isin(grps), ["done", "missed", "rate"]] = float("nan")
    return out


def test_past_forty_groups_hidden_counts_are_not_ranked_and_the_footnote_says_so():
    # 45 mentors, m40-m44 (the most missed) with hidden counts: the 40 drawn are the 40 shown,
    # m39 (39 missed) down to m00, and the note says the ranking is among those shown
    fig = followup_rate_chart(_hidden(_mentors(45), [f"m{i}" for i in range(40, 45)]), by="mentor",
                              target=0.8, k=11)
    assert list(_bar(fig).y) == [f"m{i:02d}" for i in range(39, -1, -1)]
    footnote = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert ("the 40 of 45 mentors with the most missed windows among the 40 whose rates are shown, most"
            " first (the other 5 rest on fewer than 11)") in footnote
    # m35-m44 hidden: the 35 shown, m34 down to m00, then 5 of the 10 hidden in the frame's order
    fig = followup_rate_chart(_hidden(_mentors(45), [f"m{i}" for i in range(35, 45)]), by="mentor",
                              target=0.8, k=11)
    assert list(_bar(fig).y) == [f"m{i:02d}" for i in range(34, -1, -1)] + [f"m{i}" for i in range(35, 40)]
    footnote = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert ("Drawn: 40 of the 45 mentors: the 35 whose rates are shown, the most missed windows first, then"
            " 5 of the 10 whose counts are hidden as small numbers, in the data's order") in footnote
    # every count hidden: 40 in the frame's order
    fig = followup_rate_chart(_hidden(_mentors(45), [f"m{i:02d}" for i in range(45)]), by="mentor",
                              target=0.8, k=11)
    assert list(_bar(fig).y) == [f"m{i:02d}" for i in range(40)]
    footnote = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert ("Drawn: 40 of the 45 mentors, in the data's order (the missed windows of every one are hidden"
            " as small numbers)") in footnote


def test_the_image_export_says_its_ranking_leaves_out_the_hidden_counts(tiny_followup_con, monkeypatch):
    """The screen and the image export of the rate by mentor, one mentor drawn of the tiny
    program's two, both stubs (fewer than 11 due): on screen mf1 (2 missed of 4 due; mf2 0 of 1)
    is ranked by its count. In the export mf1's 2 missed (under k = 11) is hidden and never
    ranked, lest its place tell it: mf2's 0 is the one shown, so mf2 is drawn, and the footnote
    says the hidden counts come last."""
    import analytics.present.charts.followup as chart_module
    from analytics.panels import METRICS, PANELS, ScreenView, export_figure

    monkeypatch.setattr(chart_module, "MAX_GROUPS_DRAWN", 1)
    scope = resolve_scope(tiny_followup_con)

    def get(name, other=None, settings=()):
        return METRICS[name](tiny_followup_con, other or scope, **dict(settings))

    def footnote(fig) -> str:
        return " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")

    screen = PANELS["followup_by_mentor"].figure(ScreenView(get=get, scope=scope, k=11))
    assert list(_bar(screen).y) == ["mf1"]
    assert ("Drawn: 1 of the 2 mentors, every one resting on fewer than 11 due: the most missed windows"
            " first; the data behind") in footnote(screen)
    image, hidden = export_figure("followup_by_mentor", get, scope, 11)
    assert hidden and list(_bar(image).y) == ["mf2"]
    assert ("Drawn: 1 of the 2 mentors, every one resting on fewer than 11: the most missed windows first,"
            " those whose missed windows are hidden as small numbers (1) last, in the data's order") in footnote(image)
