"""The grant report: every number read back from the DOCX (python-docx) and the PDF (pdftotext)
equals the suppressed summary for the same selection; no count of 1..k-1 is printed anywhere;
a selection below k is refused; the CLI's exit codes; the content hash.

Three selections: the whole seeded demo (most values shown), a one-site, one-month slice of it
(a mix of shown and suppressed values), and the tiny hand-made program with k = 4 (almost
everything suppressed, while its 4 pairs still meet k).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import docx
import pytest
from _demo_store import NARROW, demo_store

from analytics import cli, privacy, store, summary
from analytics.exports import browser, images
from analytics.exports.report import build_report
from analytics.exports.report_docx import write_docx
from analytics.exports.report_pdf import write_pdf
from analytics.metrics import retention
from analytics.metrics.scope import resolve_scope
from analytics.store import views

K = 11
TINY = {"as_of": "2026-03-31", "start": "2026-01-01", "end": "2026-03-31"}
MINUS = "\u2212"
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory)


def _made(path, *, k, as_of=None, start=None, end=None, sites=(), funding_streams=(), charts_wanted=True):
    """Report, its DOCX and PDF, and the summary command's document for the same selection."""
    con = store.connect_read(path)
    cur = views.analysis_connection(con)
    report = build_report(cur, as_of=as_of, start=start, end=end, sites=sites, funding_streams=funding_streams,
                          k=k, charts_wanted=charts_wanted)
    filters = {name: list(v) for name, v in (("site", sites), ("funding_stream", funding_streams)) if v}
    scope = resolve_scope(cur, as_of=as_of, start=start, end=end, filters=filters)
    doc = summary.build_summary(cur, scope, k)
    # the confidence intervals printed beside retention (not in the summary document)
    ci = retention.retention_summary(cur, scope).iloc[0]
    doc["_km_ci"] = {d: (ci[f"km_{d}_lower"], ci[f"km_{d}_upper"]) for d in (90, 180)}
    con.close()
    return {"report": report, "summary": doc, "k": k, "docx": write_docx(report), "pdf": write_pdf(report)}


@pytest.fixture(scope="module")
def full(demo_db):
    return _made(demo_db, k=K)


@pytest.fixture(scope="module")
def narrow(demo_db):
    return _made(demo_db, k=K, start=NARROW["start"], end=NARROW["end"], sites=NARROW["sites"],
                 funding_streams=NARROW["funding_streams"])


@pytest.fixture(scope="module")
def tiny(tiny_store):
    return _made(tiny_store, k=4, **TINY)


CASES = ("full", "narrow", "tiny")


@pytest.fixture(params=CASES)
def case(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------------------- reading back


def docx_tables(data: bytes) -> list[list[list[str]]]:
    d = docx.Document(io.BytesIO(data))
    return [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]


def docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        parts.extend(c.text for row in t.rows for c in row.cells)
    for section in d.sections:
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ------------------------------------------------------------------------------- expectations
# Written here from the summary document, independently of the report's own formatting code.


def get(doc: dict, path: str):
    node = doc
    for key in path.split("."):
        node = node[key]
    return node


def count(doc: dict, path: str, k: int) -> str:
    return f"<{k}" if path in doc["suppressed"] else f"{get(doc, path) or 0:,}"


def rate(doc: dict, path: str, k: int) -> str:
    if path in doc["suppressed"]:
        return f"not reported (fewer than {k})"
    v = get(doc, path)
    return "\u2013" if v is None else pct(v)


def mean(v: float, signed: bool = False) -> str:
    text = f"{abs(v):,.1f}"
    if v < 0 and text != "0.0":
        return MINUS + text
    return ("+" + text) if signed and text != "0.0" else text


def pct(v: float) -> str:
    """A percentage as every surface prints it: one decimal, half up."""
    return f"{Decimal(repr(round(float(v) * 100, 9))).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):.1f}%"


def expected_headline(doc: dict, k: int) -> dict[str, tuple[str, list[str]]]:
    """Measure -> (the Result cell, strings its Based-on cell holds)."""
    c = lambda p: count(doc, p, k)  # noqa: E731
    r = lambda p: rate(doc, p, k)  # noqa: E731
    hidden = set(doc["suppressed"])
    rows = {
        "Participants served": (c("participants.in_scope"), []),
        "Mentoring pairs": (c("pairs.in_scope"), []),
        "New pairs matched": (c("pairs.matched_in_period"), []),
        "Pairs open at period end": (c("pairs.active_at_end"), []),
        "Sessions attended": (c("engagement.attended"), [c("engagement.no_show"), c("engagement.cancelled")]),
        "Attendance rate": (r("engagement.attendance_rate"), []),
    }
    fu = doc["followup"]
    fu_rate = r("followup.rate")
    target = f"target {pct(fu['target'])}"
    if "followup.rate" not in hidden and fu["rate"] is not None:
        fu_rate += f" ({target}: {'met' if fu['meets_target'] else 'not met'})"
    else:
        fu_rate += f" ({target})"
    rows["Follow-up rate (SUPRT)"] = (fu_rate, [c("followup.done"), c("followup.due"), c("followup.excused"),
                                                "days 150-210 after intake"])
    hours = get(doc, "engagement.contact_hours")
    rows["Contact hours"] = (
        f"not reported (fewer than {k})" if "engagement.contact_hours" in hidden else f"{hours:,.0f}", [])
    for day in (90, 180):
        result = r(f"retention.km_{day}")
        lo, hi = doc["_km_ci"][day]
        if get(doc, f"retention.km_{day}") is not None and f"retention.km_{day}" not in hidden:
            result += f" (95% CI {pct(lo)} to {pct(hi)})"
        rows[f"Still meeting at {day} days"] = (result, [c("retention.pairs"), c("retention.events")])
    for code in ("GSE10", "BARC10"):
        base = f"outcomes.{code}"
        mc = get(doc, f"{base}.mean_change")
        if f"{base}.mean_change" in hidden:
            result = f"not reported (fewer than {k})"
        elif mc is None:
            result = "\u2013"
        else:
            lo, hi = get(doc, f"{base}.ci95")
            result = f"{mean(mc, True)} points (95% CI {mean(lo, True)} to {mean(hi, True)})"
            dz = get(doc, f"{base}.cohens_dz")
            if dz is not None:
                result += f"; effect size d_z = {dz:.2f}".replace("-", MINUS)
        basis = [c(f"{base}.n_paired")]
        if get(doc, f"{base}.baseline_mean") is not None:
            basis += [mean(get(doc, f"{base}.baseline_mean")), mean(get(doc, f"{base}.followup_mean"))]
        name = "General Self-Efficacy Scale" if code == "GSE10" else "Brief Assessment of Recovery Capital"
        rows[f"{name} ({code}): mean change"] = (result, basis)
        rows[f"{code}: reliable improvement"] = (r(f"{base}.reliable_improvement_rate"),
                                                 [r(f"{base}.reliable_decline_rate")])
    goals = f"{c('goals.achieved')} of {c('goals.set')}"
    if "goals.achievement_rate" in hidden:
        goals += "; rate not reported"
    elif get(doc, "goals.achievement_rate") is not None:
        goals += f" ({r('goals.achievement_rate')})"
    rows["Goals achieved"] = (goals, [])
    return rows


def expected_goals_table(doc: dict, k: int) -> list[list[str]]:
    rows = []
    for d in ("health", "home", "purpose", "community"):
        base = f"goals.by_domain.{d}"
        rows.append([d.capitalize(), count(doc, f"{base}.set", k), count(doc, f"{base}.achieved", k),
                     rate(doc, f"{base}.achievement_rate", k)])
    rows.append(["All domains", count(doc, "goals.set", k), count(doc, "goals.achieved", k),
                 rate(doc, "goals.achievement_rate", k)])
    return rows


# ------------------------------------------------------------------------------- numbers equal the summary


def test_docx_tables_equal_summary(case):
    doc, k = case["summary"], case["k"]
    tables = docx_tables(case["docx"])
    headline = next(t for t in tables if t[0] == ["Measure", "Result", "Based on"])
    got = {row[0]: (row[1], row[2]) for row in headline[1:]}
    for measure, (result, basis) in expected_headline(doc, k).items():
        assert got[measure][0] == result, measure
        for part in basis:
            assert part in got[measure][1], (measure, part)
    goals = next(t for t in tables if t[0] == ["Domain", "Goals set", "Achieved", "Achievement rate"])
    assert goals[1:] == expected_goals_table(doc, k)
    attrition = next(t for t in tables if t[0][:2] == ["Instrument", "Reassessed"])
    assert [row[1:4:2] for row in attrition[1:]] == [
        [count(doc, f"followup.attrition.{code}.n_followed", k), count(doc, f"followup.attrition.{code}.n_missed", k)]
        for code in doc["followup"]["attrition"]
    ]


@needs_pdftotext
def test_pdf_numbers_equal_summary(case, tmp_path):
    doc, k = case["summary"], case["k"]
    text = flat(pdf_text(case["pdf"], tmp_path))
    wanted = set()
    for result, basis in expected_headline(doc, k).values():
        wanted.update(re.split(r" \(|\); |; | to |\)$", result))
        wanted.update(basis)
    for row in expected_goals_table(doc, k):
        wanted.update(row)
    for token in sorted(t.strip(" ()") for t in wanted if t.strip(" ()")):
        assert token in text, token


def test_sentences_carry_the_summary_numbers(full):
    doc = full["summary"]
    text = flat(docx_text(full["docx"]))
    e, r = doc["engagement"], doc["retention"]
    assert f"Pairs met for {pct(e['attendance_rate'])} of their scheduled sessions" in text
    assert f"(n = {e['attended'] + e['no_show']:,} sessions" in text
    assert f"{pct(r['km_90'])} of pairs matched" in text and f"at 90 days (n = {r['pairs']:,})" in text
    for code in ("GSE10", "BARC10"):
        o = doc["outcomes"][code]
        assert f"Across {o['n_paired']:,} participants with an intake and a follow-up" in text
        assert f"rose by {mean(o['mean_change'])} points on average" in text
        assert f"(95% CI {mean(o['ci95'][0])} to {mean(o['ci95'][1])})" in text
        assert f"{pct(o['reliable_improvement_rate'])} improved reliably" in text
    g = doc["goals"]
    assert f"Of {g['set']:,} goals set" in text and f"{pct(g['achievement_rate'])} had been achieved" in text


def test_every_instrument_with_data_is_reported_with_its_shares(full):
    # The demo's PHQ-9 (lower is better): its fall reads as an improvement, and its
    # meaningful-change and cut-off shares, like BARC-10's cut-off share, are the summary's.
    doc = full["summary"]
    text = flat(docx_text(full["docx"]))
    rows = {r[0]: r for t in docx_tables(full["docx"]) for r in t}
    phq = doc["outcomes"]["PHQ9"]
    assert phq["mean_change"] < 0
    assert f"fell by {mean(-phq['mean_change'])} points on average" in text
    assert "lower is better, so an improvement" in text
    assert f"{pct(phq['meaningful_improvement_rate'])} improved by at least the minimal important change" in text
    k = full["k"]

    def r(path):
        return rate(doc, path, k)

    assert rows["PHQ9: meaningful improvement"][1] == r("outcomes.PHQ9.meaningful_improvement_rate")
    assert r("outcomes.PHQ9.meaningful_decline_rate") in rows["PHQ9: meaningful improvement"][2]
    for code, cut in (("PHQ9", "9 or less"), ("BARC10", "47 or more")):
        assert rows[f"{code}: at the cut-off ({cut})"][1] == (
            f"{r(f'outcomes.{code}.threshold.baseline_share')} at intake, "
            f"{r(f'outcomes.{code}.threshold.followup_share')} at follow-up")
    # GAD-7 is in the registry but has no assessment: not in the report
    assert "GAD7" not in text.split("Appendix")[0]


def test_suppressed_values_are_labelled(narrow, tiny):
    for made in (narrow, tiny):
        k, text = made["k"], docx_text(made["docx"])
        assert made["summary"]["suppressed"], "these selections have suppressed values"
        assert f"<{k}" in text and f"not reported (fewer than {k})" in text


# ------------------------------------------------------------------------------- no small counts anywhere

MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# Numbers that are not counts of people, pairs, sessions or goals. Everything else that is a
# whole number 1..k-1 would be a count of 1..k-1, which must never be printed.
NOT_COUNTS = [
    rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}\b", rf"\b(?:{MONTHS}) \d{{4}}\b", r"\b\d{4}-\d{2}-\d{2}\b",
    r"\bPage \d+ of \d+\b", r"\b(?:Table|Figure) \d+\b", r"[+\-\u2212]?\d[\d,]*\.\d+", r"\d+(?:\.\d+)?%",
    r"\b\d+-\d+\b", r"n?<\d+", r"fewer than \d+", r"\b(?:GSE|BARC)10\b", r"\bd_z\b", r"\b[0-9a-f]{12,}\b",
    r"--min-cell \d+", r"SHA-256", r"MD5", r"\b\d+ (?:days|items|tables|64-bit)\b", r"\bdays? \d+\b",
    r"\b(?:two|four) 64-bit\b", r"\b1991\b", r"k = \d+", r"\bpeer-outcomes \S+", r"DuckDB \S+",
    # scale points of the instrument registry (minimal important change, cut-offs) and codes; a
    # PDF line may break between the number and its words
    r"\b\d+\s+points\b", r"\b\d+\s+or\s+(?:more|less)\b", r"\b(?:PHQ|GAD)\d\b", r"\b(?:PHQ|GAD)-\d\b",
    r"Questionnaire-\d\b", r"Disorder-\d\b",
]


def small_integers(text: str, k: int) -> list[str]:
    for pattern in NOT_COUNTS:
        text = re.sub(pattern, " ", text)
    return [m.group(0) for m in re.finditer(r"(?<![\w.,])\d[\d,]*(?![\w.,])", text)
            if 0 < int(m.group(0).replace(",", "")) < k]


def test_no_small_count_in_docx(case):
    assert small_integers(docx_text(case["docx"]), case["k"]) == []


@needs_pdftotext
def test_no_small_count_in_pdf(case, tmp_path):
    assert small_integers(pdf_text(case["pdf"], tmp_path), case["k"]) == []


def test_count_scan_catches_a_small_count():
    # the scan itself: a count of 7 in a sentence or a cell is found, dates and percentages are not
    assert small_integers("7 pairs were matched on 3 Jan 2026; 7.5% of 3,000", 11) == ["7"]
    assert small_integers("Page 2 of 6 · Table 3 · range 10-40 · <11 · n = 4", 11) == ["4"]


# ------------------------------------------------------------------------------- content, refusal, hashes


def test_report_contents(full):
    report = full["report"]
    # one intake-and-follow-up figure per instrument with data (the demo: GSE10, BARC10, PHQ9)
    assert 4 <= len(report.figures) <= 7
    if images.images_available():
        assert all(f.png and f.png.startswith(b"\x89PNG") for f in report.figures)
    text = docx_text(full["docx"])
    for heading in ("Summary", "Engagement", "Retention", "Outcomes by instrument", "Recovery goals",
                    "Appendix: Methods"):
        assert heading in text
    assert report.data_hash in text and report.filters_hash in text
    assert ("Counts of 1-10, and counts that would give one back, are suppressed (shown as <11); rates on"
            " fewer than 11 are not shown.") in text
    assert "Data as of" in text and "30 Sep 2026" in text
    assert "synthetic" in text, "a demo store says so"


@needs_pdftotext
def test_pdf_has_page_numbers(full, tmp_path):
    text = pdf_text(full["pdf"], tmp_path)
    pages = text.count("\f")
    assert pages >= 4 and f"Page {pages} of {pages}" in text and "Page 1 of" in text
    assert full["pdf"].startswith(b"%PDF")


def test_refused_below_k(tiny_store, demo_db):
    con = store.connect_read(tiny_store)
    with pytest.raises(privacy.ExportRefused):
        build_report(views.analysis_connection(con), k=K, **TINY)
    con.close()
    con = store.connect_read(demo_db)
    with pytest.raises(privacy.ExportRefused):
        build_report(views.analysis_connection(con), as_of=None, start=None, end=None, sites=("Nowhere",), k=K)
    con.close()


def test_without_a_browser_the_report_says_so(demo_db, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    monkeypatch.setattr(browser, "_RENDERER", browser._Renderer())
    made = _made(demo_db, k=K, start="2026-01-01", end="2026-03-31", sites=("Harbor",))
    figures = made["report"].figures
    assert made["report"].images_note and figures and all(f.png is None for f in figures)
    text = docx_text(made["docx"])
    assert "Charts are not included in this report" in text and "apt-get install chromium" in text
    assert text.count("Chart not included") == len(figures)


def test_content_hash_is_stable_and_sensitive(tiny_store, tmp_path):
    from analytics.exports import fingerprint

    def digest(path, **kw):
        con = store.connect_read(path)
        cur = views.analysis_connection(con)
        out = fingerprint.data_digest(cur, resolve_scope(cur, **{**TINY, **kw}))[0]
        con.close()
        return out

    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(tiny_store, copy)
    assert digest(tiny_store) == digest(copy)
    with store.swap_writer(copy) as con:
        con.execute("update sessions set duration_min = 61 where session_id = 'ss1'")
    assert digest(copy) != digest(tiny_store)
    # a record dated after the as-of date is not read, so it does not change the hash
    with store.swap_writer(copy) as con:
        con.execute("update sessions set duration_min = 60 where session_id = 'ss1'")
        con.execute("insert into sessions values ('ss99', 'pr2', '2026-04-07', 'attended', 60, 'phone')")
    assert digest(copy) == digest(tiny_store)
    con = store.connect_read(tiny_store)
    cur = views.analysis_connection(con)
    a = resolve_scope(cur, **TINY)
    b = resolve_scope(cur, **{**TINY, "start": "2026-02-01"})
    assert fingerprint.filters_digest(a, 11) != fingerprint.filters_digest(b, 11) != fingerprint.filters_digest(a, 4)
    con.close()


# ------------------------------------------------------------------------------- command line


def test_cli_writes_docx_and_pdf(tiny_store, tmp_path, capsys):
    for ext in ("docx", "pdf"):
        out = tmp_path / f"r.{ext}"
        code = cli.main(["report", "--db", str(tiny_store), "--as-of", TINY["as_of"], "--start", TINY["start"],
                         "--end", TINY["end"], "--min-cell", "4", "--no-charts", "--out", str(out)])
        assert code == 0 and out.exists()
    assert tmp_path.joinpath("r.pdf").read_bytes().startswith(b"%PDF")
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{tmp}/r.txt"], "must end in .docx or .pdf"),
        (["--out", "{tmp}/missing/r.pdf"], "no folder"),
        (["--min-cell", "0", "--out", "{tmp}/r.pdf"], "--min-cell"),
        (["--end", "2027-01-01", "--out", "{tmp}/r.pdf"], "after the as-of date"),
        (["--start", "2026-13-01", "--out", "{tmp}/r.pdf"], "not a date"),
        (["--out", "{tmp}/r.pdf"], "report refused"),  # 4 pairs < 11
    ],
)
def test_cli_bad_input_exits_2(tiny_store, tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = cli.main(["report", "--db", str(tiny_store), "--as-of", TINY["as_of"], *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not any(tmp_path.glob("r.*")), "nothing written"


def test_cli_missing_store(tmp_path, capsys):
    code = cli.main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.pdf")])
    assert code == 2 and "no store" in capsys.readouterr().err


# ------------------------------------------------------------------------------- the page


@pytest.fixture()
def with_reports_page(monkeypatch):
    """The app's navigation with the Reports page in it (registered here when it is missing)."""
    from ui import setup

    if "reports" not in {p.name for p in setup.PAGES}:
        spec = setup.PageSpec("reports", "Reports", ":material/description:", "Data")
        monkeypatch.setattr(setup, "PAGES", (*setup.PAGES, spec))
    return setup


def _open_reports(setup, db, monkeypatch, query):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("OUTCOMES_DB", str(db))
    at = AppTest.from_file(str(setup.ROOT / "dashboard.py"), default_timeout=90)
    at.query_params.update(query)
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_reports_page_refuses_a_small_program(with_reports_page, tiny_store, monkeypatch):
    at = _open_reports(with_reports_page, tiny_store, monkeypatch, {"start": TINY["start"], "end": TINY["end"]})
    # the tiny program has 4 pairs: every download is refused at k = 11, and the page says why
    shown = " ".join(w.value for w in at.warning) + " ".join(c.value for c in at.caption)
    assert "fewer than 11 pairs" in shown.replace("\\", "")
    assert not at.get("download_button")


def test_reports_page_offers_report_tables_and_charts(with_reports_page, demo_db, monkeypatch):
    at = _open_reports(with_reports_page, demo_db, monkeypatch, {})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Word report (DOCX)") == 1 and labels.count("PDF report") == 1
    assert labels.count("CSV") == labels.count("XLSX") >= 6
    assert labels.count("PNG") >= 6 or labels.count("HTML") >= 6


def test_report_command_is_audited(tiny_store, tmp_path, monkeypatch):
    import json
    import subprocess
    import sys

    log = tmp_path / "audit.jsonl"
    out = tmp_path / "r.pdf"
    env = {**__import__("os").environ, "OUTCOMES_AUDIT_LOG": str(log)}
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--db", str(tiny_store), "--start", "2026-01-01",
         "--end", "2026-03-31", "--as-of", "2026-03-31", "--min-cell", "1", "--no-charts", "--out", str(out),
         "--exported-by", "scheduler"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["action"] for r in rows] == ["export"]
    row = rows[0]
    assert row["who"] == "scheduler" and row["what"]["name"] == "grant_report"
    assert row["what"]["period"] == "2026-01-01/2026-03-31"
    # the file's hash, never its contents
    import hashlib

    assert hashlib.sha256(out.read_bytes()).hexdigest() in json.dumps(row)
