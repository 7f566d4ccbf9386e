"""Table downloads on the pages (Streamlit's AppTest): the "Download table" menus under the pages'
tables and the CSV/XLSX buttons inside the charts' "Data behind this chart".

Streamlit's own table download is off (client.disableDataExport), so these are the only way a
table leaves the app: suppressed (privacy_frames.FRAME_SPECS), formula-safe, numbers numeric, audited,
and only for roles that may export. The files are checked as the buttons serve them: the
callable each button is given is caught (``downloads._audited``) and called, as a click would.

Golden values (tests/tiny_program.py, S = 2026-01-01, E = A = 2026-03-31; pairs in scope
pr1-pr4, sessions ss4 after pr1 closed and ss12 before S left out):
- attended by modality: in person 4 (ss1 ss6 ss7 ss9), phone 1 (ss3), video 1 (ss11);
- goals set in the period (gl1-gl5): all 5, achieved by A 2 (gl1, gl3); health 2 set, 2 achieved;
  home, purpose, community 1 set each, none achieved (gl5 after A, gl4 dropped);
- mentor mn1 (North, Lee): pr1 pr2, 2 pairs, 1 open at A (pr2), 2 matched, 1 disengaged (pr1 lost
  contact), attended 4 (ss1 ss3 ss6 ss7), no-show 2 (ss2 ss8); mn2 (South, Kim): pr3 pr4, 2 pairs,
  1 open at A (pr4 closes after A), 2 matched, 0 disengaged (pr3 met its goals), attended 2 (ss9
  ss11), no-show 1 (ss10).
Every count of these is 1-10 (shown "<11") or 0 (shown 0), and every rate rests on fewer than 11
("n<11") or on nothing (blank). The tiny program has 4 pairs, below k = 11, so the app itself
refuses its files (checked below); its frames are written here with a stand-in view of 500 pairs.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from _sign_in import AUTH
from streamlit.testing.v1 import AppTest

from analytics import privacy, store
from analytics.domain import access as core
from analytics.domain.scope import Filters
from analytics.exports.context import ExportContext
from analytics.metrics import engagement, goals, mentors, quality, retention
from analytics.metrics.compare import compare_groups, with_sessions
from analytics.metrics.scope import resolve_scope
from analytics.privacy import frames as privacy_frames
from analytics.store import audit, views
from ui import downloads

ROOT = Path(__file__).resolve().parent.parent
K = 11
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
# One site, one month of the demo: enough pairs for files, small cells inside (as in test_auth_pages).
SLICE = {"start": "2026-01-01", "end": "2026-01-31", "site": "Harbor"}
TIMEOUT = 120
ROLES = """
[users]
"pm@example.org" = { role = "program_manager" }
"gw@example.org" = { role = "grant_writer" }
"harbor@example.org" = { role = "supervisor", sites = ["Harbor"] }
"admin@example.org" = { role = "admin" }
"""
# page, the menu's key, the metric frame (FRAME_SPECS name) it downloads
TABLES = [
    ("goals", "goals__table_dl", "goals_by_domain"),
    ("engagement", "engagement__modality_dl", "attended_by_modality"),
    ("mentors", "mentors__table_dl", "mentor_caseloads"),
    ("compare", "compare__groups_dl", "compare_groups"),
    ("data", "data__quality_table_dl", "quality_findings"),
]
# page, Compare tab, the charts whose "Data behind this chart" offers files
CHART_DATA = [
    ("overview", None, ["overview__monthly"]),
    ("engagement", None, ["engagement__monthly"]),
    ("retention", None, ["retention__cohorts", "retention__closures"]),
    ("outcomes", None, ["outcomes__dumbbell_GSE10", "outcomes__trend_GSE10", "outcomes__reliable_GSE10",
                        "outcomes__distribution_GSE10"]),
    ("goals", None, ["goals__domains"]),
    ("data", None, ["data__quality"]),
    ("compare", "Retention", ["compare__hr"]),
    ("compare", "Attendance", ["compare__attendance"]),
    ("compare", "Outcomes", ["compare__change_GSE10", "compare__change_BARC10"]),
    ("followup", None, ["followup__by_month", "followup__by_site", "followup__by_mentor"]),
]
STAND_IN = ExportContext(filters="all pairs", start=date(2026, 1, 1), end=date(2026, 3, 31),
                         as_of=date(2026, 3, 31), n=500, k=K)


@pytest.fixture()
def demo_env(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(demo_store))
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES)
    monkeypatch.setenv(core.ROLES_ENV, str(roles))
    monkeypatch.setenv(audit.AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    return demo_store


@pytest.fixture()
def served(monkeypatch) -> dict[tuple[str, str], object]:
    """The files the pages' buttons would serve: (name, "csv"/"xlsx") -> the callable the button
    is given (audited, so calling it also writes the audit row, as a download does)."""
    caught: dict[tuple[str, str], object] = {}
    original = downloads._audited

    def catching(make, *, kind, name, context):
        audited = original(make, kind=kind, name=name, context=context)
        caught[(name, kind)] = audited
        return audited

    monkeypatch.setattr(downloads, "_audited", catching)
    return caught


@pytest.fixture()
def handed(monkeypatch) -> dict[str, tuple[pd.DataFrame, str, str]]:
    """What pages hand to the table menus and chart data downloads: key -> (frame, spec, file name)."""
    caught: dict[str, tuple[pd.DataFrame, str, str]] = {}
    menu, data = downloads.table_menu, downloads.data_download

    def table_menu(ctx, df, *, name, key, title=None, spec=None):
        caught[key] = (df, spec or name, name)
        menu(ctx, df, name=name, key=key, title=title, spec=spec)

    def data_download(ctx, df, *, name, key, spec=None, title=None):
        caught[key] = (df, spec or name, name)
        return data(ctx, df, name=name, key=key, spec=spec, title=title)

    monkeypatch.setattr(downloads, "table_menu", table_menu)
    monkeypatch.setattr(downloads, "data_download", data_download)
    return caught


def app(email: str | None, page: str, *, section: str | None = None, query: dict | None = None,
        opened: tuple[str, ...] = ()) -> AppTest:
    """The app as ``email`` opens ``page`` (None: the local single user, no sign-in), on the
    Compare page's tab ``section``, with the "Data behind this chart" of ``opened`` charts open.
    On the slice, Compare compares mentors (small groups); else sites."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    if email is not None:
        at.secrets = {"auth": dict(AUTH)}
        at.user = {"is_logged_in": True, "email": email}
    at.query_params.update(PERIOD if query is None else query)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    if section is not None or opened or (page == "compare" and query == SLICE):
        if section is not None:
            at.session_state["compare__section"] = section
        if page == "compare" and query == SLICE:
            at.session_state["compare__by"] = "mentor"
        for key in opened:
            at.session_state[f"{key}_data"] = True
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_menus(at: AppTest) -> dict[str, list[str]]:
    """Each "Download table" menu: the key of its buttons -> the formats offered."""
    out: dict[str, list[str]] = {}
    for pop in at.get("popover"):
        if pop.proto.popover.label == "Download table":
            out.update(buttons(pop))
    return out


def buttons(element) -> dict[str, list[str]]:
    """The download buttons inside ``element``: the key before "__csv" -> formats."""
    out: dict[str, list[str]] = {}
    for button in element.get("download_button"):
        key, fmt = button.key.rsplit("__", 1)
        out.setdefault(key, []).append(fmt)
    return out


def read_csv(data: bytes) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(header block, table rows by column) of a CSV as the buttons serve it."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    blank = rows.index([])
    cols = rows[blank + 1]
    return dict(rows[:blank]), [dict(zip(cols, r, strict=True)) for r in rows[blank + 2:]]


def read_xlsx(data: bytes) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    top = next(i for i, row in enumerate(rows) if row[0] is None) + 1  # the blank row, then the table
    return [dict(zip(rows[top], r, strict=True)) for r in rows[top + 1:]]


def no_small_counts(rows: list[dict], spec: privacy_frames.FrameSpec) -> list[str]:
    """Every count cell of ``rows`` (CSV text or XLSX values): "<11", 0, at least 11 or blank."""
    seen = []
    for row in rows:
        for col in spec.count_cols:
            if col not in row or row[col] in ("", None):
                continue
            v = row[col]
            if isinstance(v, str) and v.startswith("<"):
                assert v == f"<{K}", (col, v)
            else:
                assert float(v) == 0 or float(v) >= K, (col, v)
            seen.append(str(v))
    return seen


def expected_cells(frame: pd.DataFrame, spec: str) -> list[dict[str, object]]:
    """The frame as its file shows it, by ``privacy_frames.suppressed_table`` (text escaped as in files)."""
    out = privacy.safe_frame(privacy_frames.suppressed_table(frame, spec, K))
    return [{str(c): v for c, v in row.items()} for row in out.to_dict("records")]


def same_cell(shown: str, want: object) -> bool:
    if want is None or (isinstance(want, float) and pd.isna(want)):
        return shown == ""
    if isinstance(want, pd.Timestamp):
        return shown == want.date().isoformat()
    if isinstance(want, bool) or not isinstance(want, int | float):
        return shown == str(want)
    return shown != "" and float(shown) == pytest.approx(float(want))


# ------------------------------------------------------------------------------- who gets the menus


@pytest.mark.parametrize(("page", "key", "spec"), TABLES)
def test_a_program_manager_gets_a_table_menu_under_each_table(demo_env, page, key, spec):
    at = app("pm@example.org", page)
    assert table_menus(at).get(key) == ["csv", "xlsx"], table_menus(at)
    assert at.dataframe, "the table itself is shown"


@pytest.mark.parametrize(("page", "key", "spec"), TABLES)
def test_roles_that_cannot_export_get_no_table_menu(demo_env, page, key, spec):
    # Supervisors cannot export; the Data page is the admins' (and managers'), and admins cannot either.
    at = app("admin@example.org" if page == "data" else "harbor@example.org", page)
    assert at.dataframe, "the table itself is still shown"
    assert not table_menus(at) and not at.get("download_button")
    assert not any(p.proto.popover.label == "Download table" for p in at.get("popover"))


@pytest.mark.parametrize(("page", "section", "keys"), CHART_DATA)
def test_a_charts_data_offers_csv_and_xlsx_once_opened(demo_env, page, section, keys):
    closed = buttons(app("pm@example.org", page, section=section))
    assert not {f"{key}_data_dl" for key in keys} & set(closed), "nothing is built while the expander is closed"
    at = app("pm@example.org", page, section=section, opened=tuple(keys))
    found = {k: v for e in at.get("expander") for k, v in buttons(e).items()}
    for key in keys:
        assert found.get(f"{key}_data_dl") == ["csv", "xlsx"], (key, found)


@pytest.mark.parametrize(("page", "section", "keys"), [CHART_DATA[0], CHART_DATA[3], CHART_DATA[6]])
def test_a_charts_data_offers_no_file_to_roles_that_cannot_export(demo_env, page, section, keys):
    at = app("harbor@example.org", page, section=section, opened=tuple(keys))
    opened = [e for e in at.get("expander") if e.dataframe]
    assert len(opened) >= len(keys), "the data itself is shown"
    assert not at.get("download_button")


def test_a_selection_below_k_pairs_says_why_there_is_no_file(tiny_store, monkeypatch):
    # The tiny program has 4 pairs: the menu is there (the local user may export), its files are not.
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    at = app(None, "goals", opened=("goals__domains",))
    [menu] = [p for p in at.get("popover") if p.proto.popover.label == "Download table"]
    assert not menu.get("download_button")
    assert any("Downloads are off for this selection" in str(c.value) for c in menu.get("caption"))
    assert not at.get("download_button")


# ------------------------------------------------------------------------------- what the files hold


def test_tiny_program_files_hold_no_small_count(tiny_store, monkeypatch, handed):
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_store))
    for page, _, _ in TABLES:
        app(None, page)
    for _, key, spec in TABLES:
        frame, used, _ = handed[key]
        assert used == spec, key
        # the metric frame as computed, not the screen's renamed table ("Goals set", "Small group")
        assert all(" " not in str(c) for c in frame.columns), (key, list(frame.columns))
        _, rows = read_csv(downloads.table_file(frame, spec=spec, context=STAND_IN, fmt="csv"))
        assert len(rows) == len(frame), key
        shown = no_small_counts(rows, privacy_frames.spec_for(spec))
        assert f"<{K}" in shown, f"{key}: the tiny program's small counts should show as <{K}"
        xrows = read_xlsx(downloads.table_file(frame, spec=spec, context=STAND_IN, fmt="xlsx"))
        no_small_counts(xrows, privacy_frames.spec_for(spec))
        for row in xrows:  # a count left standing is a number, not text
            for col in privacy_frames.spec_for(spec).count_cols:
                if col in row and row[col] not in (None, f"<{K}"):
                    assert isinstance(row[col], int | float), (key, col, row[col])

    # goals: set 5, 2, 1, 1, 1 all 1-10; achieved 2, 2 hidden, 0s shown; every achievement rate
    # rests on 1-5 goals set (n<11); a median over 0 achieved is undefined (blank)
    _, goal_rows = read_csv(downloads.table_file(handed["goals__table_dl"][0], spec="goals_by_domain",
                                                 context=STAND_IN, fmt="csv"))
    assert [(r["domain"], r["goals_set"], r["achieved"], r["achievement_rate"], r["median_days_to_achieve"])
            for r in goal_rows] == [
        ("*", "<11", "<11", "n<11", "n<11"), ("health", "<11", "<11", "n<11", "n<11"),
        ("home", "<11", "0", "n<11", ""), ("purpose", "<11", "0", "n<11", ""), ("community", "<11", "0", "n<11", ""),
    ]
    # modality: 4, 1, 1
    _, modality = read_csv(downloads.table_file(handed["engagement__modality_dl"][0], spec="attended_by_modality",
                                                context=STAND_IN, fmt="csv"))
    assert [(r["modality"], r["attended"]) for r in modality] == [
        ("in_person", "<11"), ("phone", "<11"), ("video", "<11")]
    # mentors: mn1 disengaged 1 hidden, mn2's 0 shown; attendance 4 / 6 and 2 / 3 rest on fewer than 11
    _, caseloads = read_csv(downloads.table_file(handed["mentors__table_dl"][0], spec="mentor_caseloads",
                                                 context=STAND_IN, fmt="csv"))
    assert [(r["mentor_id"], r["pairs_in_scope"], r["disengaged_in_period"], r["attended"], r["attendance_rate"],
             r["contact_hours"]) for r in caseloads] == [
        ("mn1", "<11", "<11", "<11", "n<11", "n<11"), ("mn2", "<11", "0", "<11", "n<11", "n<11")]
    xcase = read_xlsx(downloads.table_file(handed["mentors__table_dl"][0], spec="mentor_caseloads",
                                           context=STAND_IN, fmt="xlsx"))
    assert xcase[1]["disengaged_in_period"] == 0 and isinstance(xcase[1]["disengaged_in_period"], int | float)
    # compare by site: North and South, 2 pairs each; North's events 1 hidden, South's 0 shown;
    # sessions 6 and 3 (attended + no-show) and every estimate rest on fewer than 11
    _, groups = read_csv(downloads.table_file(handed["compare__groups_dl"][0], spec="compare_groups",
                                              context=STAND_IN, fmt="csv"))
    assert [(r["grp"], r["pairs_in_scope"], r["events"], r["sessions"], r["attendance_rate"], r["hr"])
            for r in groups] == [("North", "<11", "<11", "n<11", "n<11", "n<11"),
                                 ("South", "<11", "0", "n<11", "n<11", "n<11")]


def test_the_files_the_buttons_serve_match_the_suppressed_metric_frames(demo_env, served):
    # A one-site month of the demo: at least 11 pairs (the files are made), small cells inside.
    for page, _, _ in TABLES:
        app("pm@example.org", page, query=SLICE)
    con = views.analysis_connection(store.connect_read(demo_env))
    try:
        scope = resolve_scope(con, start=SLICE["start"], end=SLICE["end"], filters=Filters(site=(SLICE["site"],)))
        frames = {  # computed here, not through the app
            "goals_by_domain": goals.goals_by_domain(con, scope),
            "attended_by_modality": engagement.attended_by_modality(con, scope),
            "mentor_caseloads": mentors.mentor_caseloads(con, scope),
            "compare_groups_by_mentor": with_sessions(compare_groups(con, scope.grouped(None), "mentor",
                                                                     k=K)["groups"]),
            "quality_findings": quality.quality_findings(con, scope),
        }
    finally:
        con.close()
    small_somewhere = False
    for name, frame in frames.items():
        spec = "compare_groups" if name.startswith("compare") else name
        header, rows = read_csv(served[(name, "csv")]())
        assert header["Filters"] == f"Site: {SLICE['site']}" and header["Small numbers"].startswith("Counts of 1-10")
        want = expected_cells(frame, spec)
        assert len(rows) == len(want), name
        for got, exp in zip(rows, want, strict=True):
            assert set(got) == set(exp), name
            bad = {c: (got[c], exp[c]) for c in exp if not same_cell(got[c], exp[c])}
            assert not bad, (name, bad)
        shown = no_small_counts(rows, privacy_frames.spec_for(spec))
        small_somewhere |= f"<{K}" in shown
        xrows = read_xlsx(served[(name, "xlsx")]())
        assert len(xrows) == len(want), name
        no_small_counts(xrows, privacy_frames.spec_for(spec))
        for got, exp in zip(xrows, want, strict=True):
            for col, v in exp.items():  # numbers stay numbers, labels stay text
                if isinstance(v, int | float) and not isinstance(v, bool) and not pd.isna(v):
                    assert isinstance(got[col], int | float) and got[col] == pytest.approx(float(v)), (name, col)
                elif isinstance(v, str) and v in (f"<{K}", f"n<{K}"):
                    assert got[col] == v, (name, col)
    assert small_somewhere, "the slice should hold small counts for this test to mean anything"


@pytest.mark.parametrize(("page", "section", "keys"), CHART_DATA)
def test_a_charts_data_files_are_its_frame_suppressed(demo_env, served, handed, page, section, keys):
    app("pm@example.org", page, section=section, query=SLICE, opened=tuple(keys))
    for key in keys:
        frame, spec, name = handed[f"{key}_data_dl"]
        assert spec in privacy_frames.FRAME_SPECS and all(" " not in str(c) for c in frame.columns), key
        _, rows = read_csv(served[(name, "csv")]())
        want = expected_cells(frame, spec)
        assert len(rows) == len(want), key
        for got, exp in zip(rows, want, strict=True):
            assert set(got) == set(exp), key
            bad = {c: (got[c], exp[c]) for c in exp if not same_cell(got[c], exp[c])}
            assert not bad, (key, bad)
        no_small_counts(rows, privacy_frames.spec_for(spec))
        no_small_counts(read_xlsx(served[(name, "xlsx")]()), privacy_frames.spec_for(spec))


def test_a_grant_writers_file_reads_as_a_managers(demo_env, served):
    # A grant writer's screen frames are suppressed already (blank cells); suppressing them again
    # for the file gives the manager's file, cell for cell.
    app("pm@example.org", "goals", query=SLICE)
    pm = served[("goals_by_domain", "csv")]()
    at = app("gw@example.org", "goals", query=SLICE)
    assert table_menus(at).get("goals__table_dl") == ["csv", "xlsx"], "grant writers export too"
    gw = served[("goals_by_domain", "csv")]()

    # (cell by cell as numbers: the grant writer's counts arrive as floats, so the CSV reads "12.0")
    def cells(data: bytes) -> list[list[object]]:
        return [[float(v) if v.replace(".", "", 1).isdigit() else v for v in row.values()] for row in read_csv(data)[1]]

    assert cells(gw) == cells(pm)
    assert f"<{K}" in pm.decode("utf-8-sig")


# ------------------------------------------------------------------------------- the Kaplan-Meier curve


def test_the_day_level_curve_is_not_offered_as_a_table(demo_env, demo_con):
    # Cut where fewer than 11 remain at risk, as the chart image is, the curve's numbers at risk
    # still step down by each day's closures and censorings: the table would hand out counts of 1-10.
    scope = resolve_scope(demo_con, start=PERIOD["start"], end=PERIOD["end"])
    curve = retention.retention_curve(demo_con, scope)
    cut, _ = privacy_frames.km_chart_frame(curve, K)
    full = curve[(curve["at_risk"] >= K) & curve["survival"].notna()].reset_index(drop=True)
    steps = (cut["at_risk"] - cut["at_risk"].shift(-1)).iloc[:-1]
    assert (steps == (full["events"] + full["censored"]).iloc[:-1]).all()
    assert ((steps > 0) & (steps < K)).any()
    # so the Retention page offers the image, and says why there is no table
    at = app("pm@example.org", "retention", opened=("retention__km", "retention__cohorts"))
    [box] = [e for e in at.get("expander") if e.label == "Data behind this chart"
             and e.dataframe and any("No table download" in str(c.value) for c in e.get("caption"))]
    assert not box.get("download_button")
    assert "retention__km_data_dl" not in {k for e in at.get("expander") for k in buttons(e)}
    assert "retention__cohorts_data_dl" in {k for e in at.get("expander") for k in buttons(e)}


def test_a_grant_writer_sees_numbers_at_risk_not_the_day_level_curve(demo_env):
    # The grant writer's screen is suppressed: the KM chart's data is the numbers at risk at the
    # chart's tick days (counts below 11 blank), never one row per day of the curve.
    at = app("gw@example.org", "retention", opened=("retention__km",))
    [box] = [e for e in at.get("expander") if e.label == "Data behind this chart" and e.dataframe]
    shown = box.dataframe[0].value
    assert list(shown.columns) == ["grp", "day", "at_risk"]
    assert shown["day"].tolist() == sorted(shown["day"].tolist()) and len(shown) <= 12
    assert not ((shown["at_risk"] > 0) & (shown["at_risk"] < K)).any()
    # a program manager (unsuppressed screen) still reads the whole curve
    pm = app("pm@example.org", "retention", opened=("retention__km",))
    [full] = [e for e in pm.get("expander") if e.label == "Data behind this chart" and e.dataframe
              and "survival" in e.dataframe[0].value.columns]
    assert len(full.dataframe[0].value) > 12
