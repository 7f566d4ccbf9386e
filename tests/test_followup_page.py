"""The Follow-up page in Streamlit's AppTest, for every role, on the follow-up program of
tests/tiny_followup.py (S = 2025-01-01, E = A = 2025-12-31).

Hand numbers (tests/test_followup_golden.py): suprt cohort 10, due 5 (f1 f2 f3 f5 f6), done 3
(f3 f5 f6), missed 2, excused 1 (f4), open now 2 (f7 f11), opening in 30 days 1 (f8), rate 60.0%;
gpra due 6, done 3 (f1 f5 f6), rate 50.0%. North (f1-f5): suprt due 4, done 2, rate 50.0%.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _sign_in import AUTH
from streamlit.testing.v1 import AppTest

from analytics.domain import access as core
from analytics.store import audit

ROOT = Path(__file__).resolve().parent.parent
PERIOD = {"start": "2025-01-01", "end": "2025-12-31"}
TIMEOUT = 60
ROLES = """
[users]
"pm@example.org" = { role = "program_manager" }
"north@example.org" = { role = "supervisor", sites = ["North"] }
"gw@example.org" = { role = "grant_writer" }
"admin@example.org" = { role = "admin" }
"""


@pytest.fixture()
def local(tiny_followup_store, monkeypatch):
    """The local single-user mode: no roles file, no sign-in."""
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_followup_store))


@pytest.fixture()
def env(tiny_followup_store, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(tiny_followup_store))
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES)
    monkeypatch.setenv(core.ROLES_ENV, str(roles))
    monkeypatch.setenv(audit.AUDIT_ENV, str(tmp_path / "audit.jsonl"))


def open_page(email: str | None) -> AppTest:
    """The Follow-up page as `email` opens it (None: the local single user, no sign-in)."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    if email is not None:
        at.secrets = {"auth": dict(AUTH)}
        at.user = {"is_logged_in": True, "email": email}
    at.query_params.update(PERIOD)
    at.run()
    at.switch_page("pages/followup.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def said(at: AppTest) -> str:
    return "\n".join(str(e.value).replace("\\", "") for e in at.get("markdown"))


def test_local_user_sees_the_hand_numbers(local):
    at = open_page(None)
    t = tiles(at)
    assert (t["Due"], t["Reassessed"], t["Missed"], t["Excused"]) == ("5", "3", "2", "1")
    assert (t["Windows open now"], t["Opening in the next 30 days"], t["Cohort"]) == ("2", "1", "10")
    assert t["Follow-up rate"] == "60.0%"
    # 0.6 - 0.8 = -0.2: the gap in points, with the decimals of the rate beside it
    assert next(m.delta for m in at.metric if m.label == "Follow-up rate") == "-20.0 pts vs 80.0% target"
    assert "a follow-up rate of 60.0%, below the 80.0% target" in said(at)
    titles = chart_titles(at)
    assert any(x.startswith("Follow-up rate by month of window close") for x in titles)
    assert any(x.startswith("Follow-up rate by site") for x in titles)
    assert any(x.startswith("Follow-up rate by mentor") for x in titles)
    # the by-site table and the attrition table
    assert len(at.dataframe) == 2
    # small numbers are flagged on staff screens
    assert any("Fewer than 11 behind" in str(c.value) for c in at.caption)


def test_rule_and_target_controls(local):
    at = open_page(None)
    at.segmented_control(key="followup__rule").set_value("gpra").run()
    assert not at.exception
    t = tiles(at)
    # gpra: due 6, done 3, nobody excused
    assert (t["Due"], t["Reassessed"], t["Excused"], t["Follow-up rate"]) == ("6", "3", "0", "50.0%")
    at.number_input(key="followup__target").set_value(50).run()
    assert "a follow-up rate of 50.0%, meeting the 50.0% target" in said(at)
    assert next(m.delta for m in at.metric if m.label == "Follow-up rate") == "+0.0 pts vs 50.0% target"


def test_program_manager(env):
    at = open_page("pm@example.org")
    assert tiles(at)["Due"] == "5"
    assert any(x.startswith("Follow-up rate by mentor") for x in chart_titles(at))
    # the people behind the open windows are on the Needs attention page, which managers may open
    [link] = at.get("page_link")
    assert (link.proto.page, link.proto.label) == ("attention", "Who to reassess: the Needs attention page")


def test_supervisor_sees_their_site_only(env):
    at = open_page("north@example.org")
    t = tiles(at)
    # North: due f1 f2 f3 f5 = 4, done f3 f5 = 2
    assert (t["Due"], t["Reassessed"], t["Follow-up rate"]) == ("4", "2", "50.0%")
    assert any(x.startswith("Follow-up rate by mentor") for x in chart_titles(at))


def test_grant_writer_sees_suppressed_numbers(env):
    at = open_page("gw@example.org")
    t = tiles(at)
    # 11 pairs in scope (>= k, so the page opens), but every follow-up count is 1-10: hidden
    assert all(t[label] == "–" for label in ("Due", "Reassessed", "Missed", "Excused", "Follow-up rate"))
    assert "too few to report" in said(at)
    # no mentor-level view for grant writers, and no link to a list of people
    assert not any(x.startswith("Follow-up rate by mentor") for x in chart_titles(at))
    assert not at.get("page_link")
    # the charts draw flagged bars, never a hidden rate
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        for trace in spec["data"]:
            for text in trace.get("text") or []:
                assert text in ("n<11", ""), text


def test_admin_has_no_access(env):
    at = open_page("admin@example.org")
    assert "You have no access to this page." in [str(e.value) for e in at.error]
    assert not at.metric


# ------------------------------------------------------------------------------- exports


def test_followup_files_and_images_are_suppressed(env, monkeypatch):
    import csv
    import io
    from datetime import date

    from analytics.exports import images
    from analytics.exports.context import ExportContext
    from analytics.privacy import frames
    from ui import downloads

    handed, builders = {}, {}
    menu, data, image = downloads.table_menu, downloads.data_download, downloads.image_menu

    def table_menu(ctx, df, *, name, key, title=None, spec=None):
        handed[key] = (df, spec or name)
        menu(ctx, df, name=name, key=key, title=title, spec=spec)

    def data_download(ctx, df, *, name, key, spec=None, title=None):
        handed[key] = (df, spec or name)
        return data(ctx, df, name=name, key=key, spec=spec, title=title)

    def image_menu(ctx, build, *, name, key):
        builders[key] = build
        image(ctx, build, name=name, key=key)

    monkeypatch.setattr(downloads, "table_menu", table_menu)
    monkeypatch.setattr(downloads, "data_download", data_download)
    monkeypatch.setattr(downloads, "image_menu", image_menu)
    open_page("pm@example.org")
    # a stand-in view of 500 pairs, so the files are written (the tiny program has 11 pairs)
    context = ExportContext(filters="all pairs", start=date(2025, 1, 1), end=date(2025, 12, 31),
                            as_of=date(2025, 12, 31), n=500, k=11)

    def rows(key):
        frame, spec = handed[key]
        text = downloads.table_file(frame, spec=spec, context=context, fmt="csv").decode("utf-8-sig")
        body = re.split(r"\r?\n\r?\n", text, maxsplit=1)[1]  # after the header block (table, filters, period)
        return list(csv.DictReader(io.StringIO(body)))

    # by site: North cohort 5, due 4, done 2, missed 2, excused 1; South cohort 5, due 1, done 1:
    # every count 1-10 hidden, every rate on fewer than 11 due hidden
    sites = {r["grp"]: r for r in rows("followup__sites_dl")}
    assert {c: sites["North"][c] for c in ("cohort", "due", "done", "missed", "rate")} == {
        "cohort": "<11", "due": "<11", "done": "<11", "missed": "<11", "rate": "n<11"}
    assert sites["South"]["missed"] == "0"  # zero is shown
    # attrition: GSE10 followed 3 (f3 f5 f6), missed 2 (f1 f2): counts hidden, means and SMD too
    gse = next(r for r in rows("followup__attrition_dl") if r["instrument"] == "GSE10")
    assert (gse["n_followed"], gse["n_missed"], gse["smd"]) == ("<11", "<11", "n<11")
    # by month: closes in Aug (2 due), Sep, Oct, Nov (1 each): all hidden
    months = rows("followup__by_month_data_dl")
    assert months and all(r["due"] == "<11" and r["rate"] == "n<11" for r in months)

    # each image is drawn again from suppressed frames: no rate printed, only the flag
    seen = []
    original = frames.chart_frame
    monkeypatch.setattr(frames, "chart_frame", lambda *a, **kw: seen.append(a[1]) or original(*a, **kw))
    assert {"followup__by_month_dl", "followup__by_site_dl", "followup__by_mentor_dl"} <= set(builders)
    for key in ("followup__by_month_dl", "followup__by_site_dl", "followup__by_mentor_dl"):
        seen.clear()
        fig, _ = images.build_for_export(builders[key])
        assert seen, key
        texts = [t for trace in fig.data for t in (trace.text or ())]
        assert texts and all(t == "n<11" for t in texts), (key, texts)


def test_the_grant_report_takes_the_follow_up_settings(env, monkeypatch):
    from ui import downloads

    built, handed = [], {}
    monkeypatch.setattr(downloads, "_report_file", lambda *args: built.append(args) or b"%PDF")
    original = downloads._audited

    def catching(make, *, kind, name, context):
        handed[(name, kind)] = make
        return original(make, kind=kind, name=name, context=context)

    monkeypatch.setattr(downloads, "_audited", catching)
    at = open_page("pm@example.org")
    # GPRA and 70% on the Follow-up page ...
    at.segmented_control(key="followup__rule").set_value("gpra").run()
    at.number_input(key="followup__target").set_value(70).run()
    # ... are the Reports page's choice too, beside the grant report
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.segmented_control(key="reports__followup_rule").value == "gpra"
    assert at.number_input(key="reports__followup_target").value == 70
    # the buttons drawn in the page's first run already carry the choice
    handed[("grant_report", "pdf")]()
    assert built[-1][-2:] == ("gpra", 0.7)
    # and a change there is the Follow-up page's choice when it is opened again
    at.segmented_control(key="reports__followup_rule").set_value("suprt").run()
    handed[("grant_report", "pdf")]()
    assert built[-1][-2:] == ("suprt", 0.7)
    at.switch_page("pages/followup.py").run()
    assert at.segmented_control(key="followup__rule").value == "suprt"
    assert tiles(at)["Due"] == "5"
