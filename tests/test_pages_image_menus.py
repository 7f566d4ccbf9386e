"""The "Download image" menus under the Outcomes change distribution, the Mentors chart, the Data
page's data-quality chart and the Compare page's charts (Streamlit's AppTest, on the seeded demo
store, so a selection holds enough pairs for the menus to offer files).

A menu is there for roles that may export (program managers) and absent for roles that may not
(supervisors; admins on the Data page). Each menu's chart is also built, as a click would build
it, from suppressed frames.
"""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from _sign_in import AUTH
from streamlit.testing.v1 import AppTest

from analytics.domain import access as core
from analytics.exports import images
from analytics.privacy import frames
from analytics.store import audit

ROOT = Path(__file__).resolve().parent.parent
PERIOD = {"start": "2026-01-01", "end": "2026-03-31"}
TIMEOUT = 120
ROLES = """
[users]
"pm@example.org" = { role = "program_manager" }
"harbor@example.org" = { role = "supervisor", sites = ["Harbor"] }
"admin@example.org" = { role = "admin" }
"""
# page, Compare tab (None: the page has no tabs, or its first tab), the menus' keys
MENUS = [
    ("outcomes", None, {"outcomes__distribution_GSE10_dl"}),
    ("mentors", None, {"mentors__chart_dl"}),
    ("followup", None, {"followup__by_month_dl", "followup__by_site_dl", "followup__by_mentor_dl"}),
    ("data", None, {"data__quality_dl"}),
    ("compare", "Retention", {"compare__km_dl", "compare__hr_dl"}),
    ("compare", "Attendance", {"compare__attendance_dl"}),
    ("compare", "Outcomes", {"compare__change_GSE10_dl", "compare__change_BARC10_dl"}),
]


@pytest.fixture()
def env(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(demo_store))
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES)
    monkeypatch.setenv(core.ROLES_ENV, str(roles))
    monkeypatch.setenv(audit.AUDIT_ENV, str(tmp_path / "audit.jsonl"))


def app(email: str, page: str, section: str | None = None) -> AppTest:
    """The app as ``email`` opens ``page`` (and, on Compare, the tab ``section``)."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.secrets = {"auth": dict(AUTH)}
    at.user = {"is_logged_in": True, "email": email}
    at.query_params.update(PERIOD)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    if section is not None:
        at.session_state["compare__section"] = section
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def menus(at: AppTest) -> dict[str, list[str]]:
    """Each "Download image" menu on the page: the key of its buttons -> the formats offered."""
    out: dict[str, list[str]] = {}
    for pop in at.get("popover"):
        if pop.proto.popover.label != "Download image":
            assert pop.proto.popover.label == "Download table"  # tests/test_pages_table_downloads.py
            continue
        for button in pop.get("download_button"):
            key, fmt = button.key.rsplit("__", 1)
            out.setdefault(key, []).append(fmt)
    return out


@pytest.mark.parametrize(("page", "section", "keys"), MENUS)
def test_a_program_manager_gets_the_image_menus(env, page, section, keys):
    found = menus(app("pm@example.org", page, section))
    for key in keys:
        # PNG, SVG and PDF with a browser; standalone HTML without one
        assert found.get(key) in (["png", "svg", "pdf"], ["html"]), (key, found)


@pytest.mark.parametrize(("page", "section", "keys"), MENUS)
def test_roles_that_cannot_export_get_no_image_menu(env, page, section, keys):
    # Supervisors cannot export; the Data page is the admins' (and managers'), and admins cannot either.
    at = app("admin@example.org" if page == "data" else "harbor@example.org", page, section)
    assert at.get("plotly_chart"), "the chart itself is still shown"
    assert not at.get("popover")
    assert not set(menus(at)) & keys


def printed_small_counts(fig: go.Figure, k: int = 11) -> list[str]:
    """Labels of a figure that print a count of 1..k-1 on their own or as "n = x"."""
    texts = [a.text for a in fig.layout.annotations if a.text]
    for trace in fig.data:
        text = getattr(trace, "text", None)
        texts += [text] if isinstance(text, str) else [str(t) for t in (text if text is not None else ())]
    found = []
    for t in texts:
        m = re.search(r"(?:^|n\s*=\s*)(\d[\d,]*)$", t.strip())
        if m and 0 < int(m.group(1).replace(",", "")) < k:
            found.append(t)
    return found


@pytest.mark.parametrize(("page", "section", "keys"), MENUS)
def test_each_menu_draws_its_chart_from_suppressed_frames(env, monkeypatch, page, section, keys):
    # A click runs the menu's builder on a thread of its own: here the builders are caught as the
    # page hands them over and run afterwards, as the download would.
    from ui import downloads

    handed: dict[str, object] = {}
    original = downloads.image_menu

    def catching(ctx, build, *, name, key):
        handed[key] = build
        original(ctx, build, name=name, key=key)

    monkeypatch.setattr(downloads, "image_menu", catching)
    app("pm@example.org", page, section)
    assert keys <= set(handed)

    suppressed: list[str] = []
    for name in ("chart_frame", "km_chart_frame"):
        def counting(*args, _name=name, _f=getattr(frames, name), **kw):
            suppressed.append(_name)
            return _f(*args, **kw)

        monkeypatch.setattr(frames, name, counting)
    for key in keys:
        suppressed.clear()
        fig, title = images.build_for_export(handed[key])
        assert suppressed, f"{key} was drawn without going through the suppression"
        assert isinstance(fig, go.Figure) and fig.data, key
        assert not printed_small_counts(fig), (key, printed_small_counts(fig))
        shown = title if title is not None else fig.layout.title.text
        # every chart of these states its n, or says why it states no total
        assert "(n = " in shown or images.NO_TOTAL in shown, (key, shown)
