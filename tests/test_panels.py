"""The panel catalogue (analytics.panels): each panel draws the chart, sentence and files the
pages drew by hand before, on screen from the page's frames and for images from suppressed
frames; every panel's metric has suppression rules; the Reports page offers the same charts."""

from __future__ import annotations

import pandas as pd
import pytest
from _demo_store import NARROW, demo_store

from analytics import stats, store
from analytics.domain.contract import INSTRUMENTS
from analytics.domain.instruments import ALWAYS_REPORTED
from analytics.metrics import outcomes
from analytics.metrics.compare import compare_groups, with_sessions
from analytics.metrics.scope import resolve_scope
from analytics.panels import METRICS, PANELS, WITH_SETTINGS_ONLY, ExportView, ScreenView, report_charts
from analytics.present import charts, theme
from analytics.present import sentences as narrative
from analytics.present.charts.compare import ForestSpec
from analytics.privacy import frames
from analytics.privacy.screen import suppressed_for_screen
from analytics.store import views

K = 11


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    cur = views.analysis_connection(store.connect_read(demo_store(tmp_path_factory)))
    yield cur
    cur.close()


@pytest.fixture(scope="module", params=["whole", "narrow"])
def scope(request, con):
    if request.param == "whole":
        return resolve_scope(con)
    return resolve_scope(con, start=NARROW["start"], end=NARROW["end"],
                         filters={"site": list(NARROW["sites"]), "funding_stream": list(NARROW["funding_streams"])})


def _getter(con, scope):
    # Memoized as the app's cache is: DuckDB's parallel float sums may differ in the last bit
    # between two runs of one query, and both sides here must read the same frames.
    seen = {}

    def get(name, other=None, settings=()):
        key = (name, other or scope, settings)
        if key not in seen:
            seen[key] = METRICS[name](con, other or scope, **dict(settings))
        return seen[key]

    return get


def _same(a, b):
    assert a.to_json() == b.to_json()


def test_every_panel_metric_has_suppression_rules():
    # A panel without rules would be refused to grant writers (privacy.screen raises KeyError).
    for name, panel in PANELS.items():
        assert panel.metric in METRICS, name
        assert panel.metric in frames.FRAME_SPECS, name


def test_every_metric_has_a_screen_rule(con):
    # Grant writers' screens go through privacy.screen: no aggregate metric may be missing there
    # (a row-level one is given only to the roles of its page, never suppressed).
    from ui.data_access import ROW_LEVEL

    # The comparison is refused to roles with suppressed screens (ui.data_access), never shown
    # suppressed: it shows its small groups.
    scope = resolve_scope(con)
    for name, fn in METRICS.items():
        if name not in ROW_LEVEL and name not in WITH_SETTINGS_ONLY:
            suppressed_for_screen(name, fn(con, scope), K)


def test_images_are_the_charts_drawn_from_suppressed_frames(con, scope):
    # What the pages' image menus drew before the catalogue, written out by hand.
    raw = _getter(con, scope)
    export = ExportView(get=raw, scope=scope, k=K)

    def framed(name, by=None):
        return frames.chart_frame(raw(name, scope.grouped(by) if by else None), name, K)[0]

    _same(PANELS["engagement_by_month"].figure(export), charts.engagement_monthly_chart(framed("engagement_by_month"), k=K))
    _same(PANELS["retention_km"].figure(export),
          charts.km_chart(*frames.km_chart_frames(raw("retention_curve"), K)[:2], k=K))
    _same(PANELS["cohort_triangle"].figure(export), charts.cohort_heatmap(framed("cohort_triangle"), k=K))
    _same(PANELS["closure_reasons"].figure(export), charts.closure_reasons_chart(framed("closure_reasons"), k=K))
    _same(PANELS["goals_by_domain"].figure(export), charts.goals_chart(framed("goals_by_domain"), k=K))
    _same(PANELS["mentor_caseloads"].figure(export), charts.mentor_chart(framed("mentor_caseloads"), k=K))
    _same(PANELS["quality_findings"].figure(export), charts.quality_chart(framed("quality_findings")))
    for code in outcomes.instruments(con):  # the instruments reported (the demo: GSE10, BARC10, PHQ9)
        _same(PANELS["intake_followup"].figure(export, code=code),
              charts.intake_followup_chart(framed("outcome_change", "site"), code, k=K))
        _same(PANELS["trend"].figure(export, code=code), charts.trend_chart(framed("outcome_trend"), code, k=K))
        change = framed("outcome_change")
        _same(PANELS["reliable_change"].figure(export, code=code),
              charts.reliable_change_chart(change[change["instrument"] == code], k=K))
        shown = frames.suppressed_table(raw("outcome_change"), "outcome_change", K)
        s_diff = shown.loc[shown["instrument"] == code, "s_diff"].iloc[0]
        threshold = None if isinstance(s_diff, str) or s_diff != s_diff else 1.96 * float(s_diff)
        _same(PANELS["change_distribution"].figure(export, code=code),
              charts.change_distribution_chart(framed("change_distribution"), code, k=K, threshold=threshold))
    # the Reports page's whole-program versions
    _same(PANELS["intake_followup"].figure(export, code="GSE10", by=None),
          charts.intake_followup_chart(framed("outcome_change"), "GSE10", k=K))
    _same(PANELS["reliable_change"].figure(export), charts.reliable_change_chart(framed("outcome_change"), k=K))


def test_screens_draw_from_the_pages_frames_with_their_sentences(con, scope):
    raw = _getter(con, scope)
    view = ScreenView(get=raw, scope=scope, k=K)
    period = {"start": scope.start, "end": scope.end}

    def screen(name, **params):
        panel = PANELS[name]
        p = panel.params(**params)
        args, kwargs = panel.call(view, p, screen=True)
        return panel.chart(*args, **kwargs), panel.say(view, p), panel.data_frame(view, p, args)

    curve = raw("retention_curve")
    fig, sentence, data = screen("retention_km")
    _same(fig, charts.km_chart(curve, stats.at_risk_table(curve), k=K))
    assert sentence == narrative.retention_sentence(raw("retention_summary"), **period, k=K, curve=curve)
    pd.testing.assert_frame_equal(data, curve)

    fig, sentence, _ = screen("cohort_triangle")
    _same(fig, charts.cohort_heatmap(raw("cohort_triangle"), k=K, cell_text=None))
    assert sentence == narrative.cohort_sentence(raw("cohort_triangle"), k=K)

    totals = raw("engagement_totals").iloc[0]
    fig, sentence, _ = screen("engagement_by_month")
    assert sentence == narrative.engagement_sentence(totals, **period, k=K)

    change, by_site = raw("outcome_change"), raw("outcome_change", scope.grouped("site"))
    for code in outcomes.instruments(con):
        o = change[change["instrument"] == code].iloc[0]
        site_rows = by_site[by_site["instrument"] == code]
        fig, sentence, data = screen("intake_followup", code=code)
        _same(fig, charts.intake_followup_chart(site_rows, code, k=K))
        assert sentence == narrative.outcome_sentence(code, o, k=K)
        pd.testing.assert_frame_equal(data, site_rows)
        assert screen("reliable_change", code=code)[1] == narrative.reliable_change_sentence(code, o, k=K)
        s_diff = o["s_diff"]
        threshold = None if s_diff != s_diff else 1.96 * float(s_diff)
        dist = raw("change_distribution")
        _same(screen("change_distribution", code=code)[0],
              charts.change_distribution_chart(dist[dist["instrument"] == code], code, k=K, threshold=threshold))

    assert screen("mentor_caseloads")[2] is None  # the Mentors page shows its own table


def test_suppressed_screens_show_the_numbers_at_risk_not_the_curve(con):
    scope = resolve_scope(con)
    raw = _getter(con, scope)
    view = ScreenView(get=raw, scope=scope, k=K, suppressed=True)
    panel = PANELS["retention_km"]
    p = panel.params()
    data = panel.data_frame(view, p, panel.call(view, p)[0])
    assert list(data.columns) == ["grp", "day", "at_risk"]


def test_file_names_and_keys_are_the_pages_own():
    p = PANELS
    assert p["intake_followup"].file_stem(code="GSE10") == "intake_followup_GSE10"
    assert p["intake_followup"].data_file_stem(code="GSE10") == "outcome_change_GSE10_by_site"
    assert p["intake_followup"].widget_key("outcomes", code="BARC10") == "outcomes__dumbbell_BARC10"
    assert p["trend"].data_file_stem(code="GSE10") == "outcome_trend_GSE10"
    assert p["reliable_change"].data_file_stem(code="GSE10") == "outcome_change_GSE10"
    assert p["change_distribution"].file_stem(code="GSE10") == "change_distribution_GSE10"
    assert p["retention_km"].file_stem() == "retention_km"
    assert p["retention_km"].data_file_stem() == "retention_curve"
    assert p["quality_findings"].file_stem() == "data_quality_findings"
    assert p["quality_findings"].data_file_stem() == "quality_findings"
    assert p["engagement_by_month"].widget_key("overview") == "overview__monthly"
    assert p["dose_change"].file_stem(code="PHQ9") == "dose_change_PHQ9"
    assert p["threshold"].widget_key("outcomes", code="BARC10") == "outcomes__threshold_BARC10"
    # the Compare page's, grouped by its choice
    assert p["compare_km"].file_stem(by="mentor") == "compare_km_by_mentor"
    assert p["compare_km"].widget_key("compare", by="mentor") == "compare__km"
    assert p["compare_hazard_ratios"].file_stem(by="site") == "compare_hazard_ratios_by_site"
    assert p["compare_hazard_ratios"].data_file_stem(by="site") == "compare_hazard_ratios_by_site"
    assert p["compare_hazard_ratios"].widget_key("compare", by="site") == "compare__hr"
    assert p["compare_attendance"].data_file_stem(by="funding_stream") == "compare_attendance_by_funding_stream"
    assert p["compare_attendance"].widget_key("compare") == "compare__attendance"
    assert p["compare_change"].file_stem(code="GSE10", by="site") == "compare_GSE10_change_by_site"
    assert p["compare_change"].data_file_stem(code="PHQ9", by="mentor") == "compare_PHQ9_change_by_mentor"
    assert p["compare_change"].widget_key("compare", code="BARC10", by="site") == "compare__change_BARC10"
    with pytest.raises(KeyError):
        p["trend"].params(code="")


BUILT_IN = [(c, INSTRUMENTS[c]) for c in ALWAYS_REPORTED]  # without a store's registry


def test_the_reports_page_offers_the_charts_it_offered():
    offered = [(PANELS[name].file_stem(**params), PANELS[name].chart_title(**params)) for name, params in report_charts()]
    assert offered == [
        ("engagement_by_month", "Sessions attended and attendance rate by month"),
        ("retention_km", "Pairs still meeting, by days since match"),
        ("cohort_triangle", "Share of pairs attending, by month of match"),
        ("closure_reasons", "Why pairs closed"),
        *((f"intake_followup_{c}", f"{i.name}: intake and follow-up") for c, i in BUILT_IN),
        *((f"trend_{c}", f"{i.name}: mean score by months since enrollment") for c, i in BUILT_IN),
        ("reliable_change", "Reliable change from intake to follow-up"),
        *((f"dose_change_{c}", f"{i.name}: change by sessions attended") for c, i in BUILT_IN),
        ("goals_by_domain", "Goals set and achieved by recovery domain"),
        # and not the Compare page's: it is not a Reports page chart (no grant writer has Compare)
    ]


def test_per_instrument_panels_follow_the_stores_registry(con):
    from analytics.panels import panels_for, registry_of

    view = ScreenView(get=_getter(con, resolve_scope(con)), scope=resolve_scope(con), k=K)
    reported = registry_of(view)
    assert list(reported) == ["GSE10", "BARC10", "PHQ9"]  # the demo's instruments with data
    # the cut-off chart only for instruments with a threshold in the registry
    assert panels_for(reported, "threshold") == ["BARC10", "PHQ9"]
    offered = [params.get("code") for name, params in report_charts(reported) if name == "dose_change"]
    assert offered == ["GSE10", "BARC10", "PHQ9"]
    assert PANELS["trend"].chart_title(reported, code="PHQ9") == (
        "Patient Health Questionnaire-9: mean score by months since enrollment")


# ------------------------------------------------------------------------------- the Compare page
# The page's charts as it built them before the catalogue (ui/compare_view.py): forest_plot with
# these arguments, on screen from the groups with sessions, for images from the groups suppressed
# column by column, with the footnotes the exports added.

OLD_HAZARD_RATIOS = {
    "estimate": "hr", "low": "hr_lower", "high": "hr_upper", "n": "pairs", "n_unit": "pairs", "null_value": 1.0,
    "log_x": True, "x_title": "Hazard of disengaging vs all other groups",
}
OLD_ATTENDANCE = {
    "estimate": "attendance_rate", "low": "attendance_low", "high": "attendance_high", "n": "sessions",
    "n_unit": "sessions", "percent": True, "x_title": "Attendance rate",
}


def old_mean_change(code, higher_is_better=True):
    better = "" if higher_is_better else " (lower is better)"
    return {"estimate": f"{code}_mean_change", "low": f"{code}_ci95_low", "high": f"{code}_ci95_high",
            "n": f"{code}_n_paired", "n_unit": "participants", "null_value": 0.0,
            "x_title": f"{code} mean change{better}"}


# the columns each image was drawn from: the chart's, with the counts its values rest on
OLD_COLUMNS = {
    "hr": ["grp", "pairs", "hr", "hr_lower", "hr_upper", "events"],
    "attendance": ["grp", "sessions", "attendance_rate", "attendance_low", "attendance_high", "attended", "no_show"],
}
BLANKED = ("No estimate is shown where it rests on a suppressed count (1-10, or one hidden with such a count so "
           "that totals cannot give it back).")


def old_forest(groups, args, **kwargs):
    return charts.forest_plot(groups, ForestSpec(**args), **kwargs)


def _pooled(groups):
    return float(groups["attended"].sum() / groups["sessions"].sum())


def _old_images(result, code_args):
    """The Compare page's images as ui/compare_view.py drew them: {name: figure}."""
    raw = with_sessions(result["groups"])
    common = {"by": result["by"], "k": K, "small_groups": result["small_groups"]}

    def blanks(fig, shown, estimate):
        blanked = shown[estimate].isna().to_numpy() & raw[estimate].notna().to_numpy()
        return theme.with_footnote(fig, BLANKED) if blanked.any() else fig

    shown, at_risk, _ = frames.km_chart_frames(result["curve"], K)
    km = charts.km_chart(shown, at_risk, k=K, small_groups=result["small_groups"])
    left_out = [g for g in dict.fromkeys(result["curve"]["grp"]) if shown.empty or g not in set(shown["grp"])]
    if left_out:
        names = ", ".join(map(str, left_out)) if len(left_out) <= 6 else f"{len(left_out)} groups"
        km = theme.with_footnote(km, f"Not drawn (fewer than {K} pairs matched): {names}.")
    out = {"compare_km": km}

    hr = frames.chart_frame(raw[OLD_COLUMNS["hr"]], "compare_groups", K)[0]
    out["compare_hazard_ratios"] = blanks(old_forest(hr, OLD_HAZARD_RATIOS, **common), hr, "hr")

    cols = OLD_COLUMNS["attendance"]
    att = frames.chart_frame(raw[cols], "compare_groups", K)[0]
    whole = all(frames.total_publishable(raw[cols], "compare_groups", K, c) for c in ("attended", "no_show"))
    counted = att[att[["attended", "no_show"]].notna().all(axis=1)]
    fig = old_forest(att, {**OLD_ATTENDANCE, "null_value": _pooled(raw if whole else counted)}, **common)
    if not whole:
        fig = theme.with_footnote(fig, "Dashed line: attendance of the groups whose session counts are shown.")
    out["compare_attendance"] = blanks(fig, att, "attendance_rate")

    for code, args in code_args.items():
        cols = ["grp", args["n"], args["estimate"], args["low"], args["high"]]
        change = frames.chart_frame(raw[cols], "compare_groups", K)[0]
        out[f"compare_change_{code}"] = blanks(old_forest(change, args, **common), change, args["estimate"])
    return out


@pytest.mark.parametrize("by", ["site", "mentor"])
def test_compare_panels_are_the_charts_the_page_drew(con, scope, by):
    get = _getter(con, scope)
    view = ScreenView(get=get, scope=scope, k=K)
    result = compare_groups(con, scope, by, k=K)
    # the panels read the very compare_groups result the page's tables show
    got = view.comparison(by)
    assert got["groups"].to_json() == result["groups"].to_json()
    assert got["curve"].to_json() == result["curve"].to_json() and got["small_groups"] == result["small_groups"]
    groups = with_sessions(got["groups"])
    registry = {c: i for c, i in outcomes.instruments(con).items()}
    code_args = {c: old_mean_change(c, bool(registry[c]["higher_is_better"])) for c in got["instruments"]}
    assert code_args["PHQ9"]["x_title"] == "PHQ9 mean change (lower is better)"

    def screen(name, **params):
        panel = PANELS[name]
        p = panel.params(by=by, **params)
        args, kwargs = panel.call(view, p, screen=True)
        return panel.chart(*args, **kwargs), panel.say(view, p), panel.data_frame(view, p, args)

    common = {"label": "grp", "dimension": by, "k": K}
    forest = {"by": by, "k": K, "small_groups": got["small_groups"]}
    rt, at = got["retention_test"] or {}, got["attendance_test"] or {}

    fig, sentence, data = screen("compare_km")
    _same(fig, charts.km_chart(got["curve"], k=K, small_groups=got["small_groups"]))
    assert sentence == narrative.compare_sentence(
        groups, metric="the share still meeting at 90 days", estimate="km_90", n="pairs", percent=True,
        p_value=rt.get("p_value"), test="log-rank test", **common)
    assert data is None

    fig, sentence, data = screen("compare_hazard_ratios")
    _same(fig, old_forest(groups, OLD_HAZARD_RATIOS, **forest))
    assert sentence is None
    pd.testing.assert_frame_equal(data, groups[["grp", "pairs", "events", "hr", "hr_lower", "hr_upper"]])

    fig, sentence, data = screen("compare_attendance")
    _same(fig, old_forest(groups, {**OLD_ATTENDANCE, "null_value": _pooled(groups)}, **forest))
    assert sentence == narrative.compare_sentence(
        groups, metric="attendance rate", estimate="attendance_rate", n="sessions", percent=True,
        p_value=at.get("p_value"), test="chi-square test", **common)
    pd.testing.assert_frame_equal(data, groups[["grp", "attended", "no_show", "attendance_rate", "attendance_low",
                                                "attendance_high"]])

    names = {"welch": "Welch's t-test", "anova": "one-way ANOVA"}
    for code, args in code_args.items():
        fig, sentence, data = screen("compare_change", code=code)
        _same(fig, old_forest(groups, args, **forest))
        test = got["outcome_tests"][code]
        better = "" if registry[code]["higher_is_better"] else " (lower is better)"
        assert sentence == narrative.compare_sentence(
            groups, metric=f"the mean {code} change{better}", estimate=args["estimate"], n=args["n"],
            unit=" points", p_value=test.get("p_value"), test=names.get(test.get("test")), **common)
        pd.testing.assert_frame_equal(data, groups[["grp", args["n"], args["estimate"], args["low"], args["high"]]])

    # images: drawn from the suppressed groups, with the exports' footnotes
    old = _old_images(got, code_args)
    for name, fig in old.items():
        panel, code = (name, None) if not name.startswith("compare_change_") else ("compare_change", name[15:])
        _same(PANELS[panel].figure(ExportView(get=get, scope=scope, k=K), by=by, code=code), fig)


def test_compare_images_say_what_they_leave_out(con):
    # On the narrow slice by mentor the images hide cells: the footnotes and the title's total
    # must show up (so the comparison above is not of figures without them).
    from analytics.exports import images
    from analytics.panels import export_figure

    scope = resolve_scope(con, start=NARROW["start"], end=NARROW["end"],
                          filters={"site": list(NARROW["sites"]), "funding_stream": list(NARROW["funding_streams"])})
    get = _getter(con, scope)
    notes = []
    for name in ("compare_km", "compare_hazard_ratios", "compare_attendance"):
        fig, title = images.build_for_export(lambda name=name: export_figure(name, get, scope, K, by="mentor"))
        notes.append(fig.layout.meta["footnote"].replace("<br>", " "))
        assert title is not None and images.NO_TOTAL in title, name
    assert "Not drawn (fewer than 11 pairs matched)" in notes[0]
    assert "No estimate is shown where it rests on a suppressed count" in " ".join(notes[1:])


def test_drawn_groups_are_the_most_pairs_in_the_tables_order_with_small_groups_last():
    from analytics.panels import drawn_groups

    # 45 groups g00..g44 with 100 + i pairs, but g44 and g43 under k: 10 and 3 pairs
    pairs = [100 + i for i in range(43)] + [10, 3]
    result = {"by": "mentor", "groups": pd.DataFrame({"grp": [f"g{i:02d}" for i in range(45)], "pairs": pairs})}
    rows, notes = drawn_groups(result, K)
    # the 40 largest are g03..g42 (103..142 pairs, rows 3-42); g00-g02 (100-102) and the small
    # g43, g44 are not
    assert rows == list(range(3, 43))
    assert notes == ("Drawn: the 40 of 45 mentors with the most pairs; the table and the tests above cover every one.",)
    # ties keep the table's order; 40 groups or fewer: all of them, no note
    tied = {"by": "site", "groups": pd.DataFrame({"grp": [f"s{i}" for i in range(41)], "pairs": [50] * 41})}
    assert drawn_groups(tied, K)[0] == list(range(40))
    # under k (10 pairs) ranks after every group of k or more, whatever its count
    mixed = {"by": "mentor", "groups": pd.DataFrame({"grp": [f"m{i}" for i in range(41)],
                                                     "pairs": [10] + [11] * 40})}
    assert drawn_groups(mixed, K)[0] == list(range(1, 41))
    # 45 groups, only 30 of them with k or more pairs (g00..g29, 50 each; g30..g44 5 each): the 30,
    # then the first 10 small ones in the table's order (g30..g39), and the note says so
    few = {"by": "mentor", "groups": pd.DataFrame({"grp": [f"g{i:02d}" for i in range(45)],
                                                   "pairs": [50] * 30 + [5] * 15})}
    rows, notes = drawn_groups(few, K)
    assert rows == list(range(40))
    assert notes == ("Drawn: the 30 of 45 mentors with 11 or more pairs, then 10 of the 15 with fewer, "
                     "in the table's order; the table and the tests above cover every one.",)
    # none with k or more: the first 40 in the table's order
    none = {"by": "mentor", "groups": few["groups"].assign(pairs=5)}
    assert drawn_groups(none, K) == (list(range(40)), (
        "Drawn: 40 of the 45 mentors, in the table's order (none has 11 or more pairs); the table and the "
        "tests above cover every one.",))
    assert drawn_groups({"by": "site", "groups": tied["groups"].head(40)}, K) == (None, ())


def test_past_the_limit_the_comparison_charts_draw_the_same_largest_groups_on_screen_and_in_exports(
        con, monkeypatch):
    import analytics.panels as panels

    monkeypatch.setattr(panels, "MAX_GROUPS_DRAWN", 3)
    scope = resolve_scope(con)
    get = _getter(con, scope)
    screen_view = ScreenView(get=get, scope=scope, k=K)
    groups = screen_view.comparison("mentor")["groups"]
    assert len(groups) > 3
    # the three mentors with the most pairs (at least K each), in the table's order
    big = groups[groups["pairs"] >= K].sort_values("pairs", ascending=False, kind="stable").head(3)
    expected = groups.loc[sorted(big.index), "grp"].tolist()
    note = f"Drawn: the 3 of {len(groups)} mentors with the most pairs"
    for name in ("compare_km", "compare_hazard_ratios", "compare_attendance"):
        panel = PANELS[name]
        p = panel.params(by="mentor")
        args, kwargs = panel.call(screen_view, p, screen=True)
        for fig in (panel.chart(*args, **kwargs), panel.figure(ExportView(get=get, scope=scope, k=K), by="mentor")):
            footnote = fig.layout.meta["footnote"] if isinstance(fig.layout.meta, dict) else ""
            assert note in footnote, name
            if name == "compare_km":
                drawn = list(dict.fromkeys(t.name.split(" (")[0] for t in fig.data
                                           if t.mode == "lines" and t.name and t.showlegend is not False))
            else:
                drawn = list(dict.fromkeys(y for t in fig.data if t.mode == "markers" for y in t.y))
            assert drawn == expected, name
        if name != "compare_km":  # the data behind the forest plots keeps every mentor
            assert len(panel.data_frame(screen_view, p, args)) == len(groups)
