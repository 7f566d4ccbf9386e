"""CSV and XLSX exports: suppressed, formula-injection safe, numbers kept numeric, aggregates only."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pandas as pd
import pytest
from _compare_frames import compare_groups_frame, km_curve_by_group
from _demo_store import NARROW, demo_store

from analytics import privacy, store
from analytics.exports import tables
from analytics.exports.context import ExportContext, suppression_rule
from analytics.metrics import engagement, goals, outcomes, retention
from analytics.metrics.scope import resolve_scope
from analytics.privacy import frames as privacy_frames
from analytics.store import views

K = 11
CONTEXT = ExportContext(filters="all pairs", start=date(2026, 1, 1), end=date(2026, 3, 31),
                        as_of=date(2026, 3, 31), n=500, k=K)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    return demo_store(tmp_path_factory)


@pytest.fixture(scope="module")
def narrow(demo_db):
    """Metric frames of a one-site, one-month slice: small cells in most of them."""
    con = views.analysis_connection(store.connect_read(demo_db))
    scope = resolve_scope(con, start=NARROW["start"], end=NARROW["end"],
                          filters={"site": NARROW["sites"], "funding_stream": NARROW["funding_streams"]})
    n = int(engagement.pair_counts(con, scope)["pairs_in_scope"].sum())
    frames = {
        "engagement_by_month": engagement.engagement_by_month(con, scope),
        "closure_reasons": retention.closure_reasons(con, scope),
        "goals_by_domain": goals.goals_by_domain(con, scope),
        "outcome_change": outcomes.outcome_change(con, scope),
        "outcome_trend": outcomes.outcome_trend(con, scope),
        "change_distribution": outcomes.change_distribution(con, scope),
        "retention_curve": retention.retention_curve(con, scope),
    }
    yield ExportContext.from_scope(scope, n, K), frames
    con.close()


def read_csv(data: bytes) -> tuple[list[list[str]], list[list[str]]]:
    """(header block rows, table rows incl. its header) of an exported CSV."""
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads accents right"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    blank = rows.index([])
    return rows[:blank], rows[blank + 1:]


def read_xlsx(data: bytes):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    cells = [[c for c in row] for row in ws.iter_rows()]
    top = next(i for i, row in enumerate(cells) if row[0].value is None) + 1  # the blank row, then the table
    return cells[:top - 1], cells[top:]


def assert_count_cells(values, k: int = K) -> None:
    """Every count cell reads "<k", 0 or at least k: never a count of 1..k-1."""
    for v in values:
        if isinstance(v, str):
            assert v == f"<{k}", v
        elif v is not None and v != "":
            assert v == 0 or v >= k, v


# ------------------------------------------------------------------------------- CSV / XLSX


def test_csv_header_block_and_suppressed_cells(narrow):
    context, frames = narrow
    df = frames["closure_reasons"]
    assert ((df["pairs"] > 0) & (df["pairs"] < K)).any(), "the slice should have small closure counts"
    header, table = read_csv(tables.to_csv_bytes(df, spec="closure_reasons", context=context))
    labels = dict(header[1:])
    assert header[0] == ["Table", "Why pairs closed"]
    assert labels["Filters"] == "Site: Harbor; Funding stream: Medicaid"
    assert labels["Period"] == "1 Jan 2026 to 31 Jan 2026"
    assert labels["Data as of"] == "30 Sep 2026"
    assert labels["Small numbers"] == suppression_rule(K)
    cols = table[0]
    body = [dict(zip(cols, r, strict=True)) for r in table[1:]]
    assert len(body) == len(df)
    shown = [b["pairs"] for b in body]
    assert "<11" in shown
    assert_count_cells([v if v.startswith("<") else int(v) for v in shown])


@pytest.mark.parametrize("name", ["engagement_by_month", "closure_reasons", "goals_by_domain", "outcome_change",
                                  "outcome_trend", "change_distribution"])
def test_no_small_count_in_any_count_cell(narrow, name):
    context, frames = narrow
    spec = privacy_frames.spec_for(name)
    _, table = read_csv(tables.to_csv_bytes(frames[name], spec=name, context=context))
    cols = table[0]
    for col in spec.count_cols:
        if col in cols:
            i = cols.index(col)
            assert_count_cells([r[i] if r[i].startswith("<") or r[i] == "" else float(r[i]) for r in table[1:]])
    _, xrows = read_xlsx(tables.to_xlsx_bytes(frames[name], spec=name, context=context))
    xcols = [c.value for c in xrows[0]]
    for col in spec.count_cols:
        if col in xcols:
            assert_count_cells([r[xcols.index(col)].value for r in xrows[1:]])
    # a derived value is either hidden ("n<11") or a number (its denominator is shown and >= k)
    for col in spec.derived:
        if col in xcols:
            for r in xrows[1:]:
                v = r[xcols.index(col)].value
                assert v is None or v == f"n<{K}" or isinstance(v, int | float), v


def test_xlsx_numbers_stay_numbers(demo_db):
    con = views.analysis_connection(store.connect_read(demo_db))
    scope = resolve_scope(con, start="2026-01-01", end="2026-02-28", filters={"site": ["Harbor"]})
    df = goals.goals_by_domain(con, scope)
    assert ((df["goals_set"] > 0) & (df["goals_set"] < K)).any() and (df["goals_set"] >= K).any()
    context = ExportContext.from_scope(scope, int(engagement.pair_counts(con, scope)["pairs_in_scope"].sum()), K)
    header, rows = read_xlsx(tables.to_xlsx_bytes(df, spec="goals_by_domain", context=context))
    assert header[0][0].value == "Goals by recovery domain"
    assert {r[0].value for r in header[1:]} >= {"Filters", "Period", "Data as of", "Small numbers"}
    cols = [c.value for c in rows[0]]
    achieved = [r[cols.index("achieved")] for r in rows[1:]]
    rates = [r[cols.index("achievement_rate")] for r in rows[1:]]
    assert any(c.data_type == "n" and isinstance(c.value, int | float) for c in achieved + rates)
    for c in rates:
        if isinstance(c.value, float):
            assert c.number_format == "0.0%"
    for c in achieved:
        assert c.data_type in ("n", "s")
        if c.data_type == "s":
            assert c.value == "<11"


def test_formula_injection_escaped_in_csv_and_xlsx():
    hostile = ['=HYPERLINK("http://evil.example","click")', "+1", "@x", "-2", "\tcmd", "\rcmd", "Plain site"]
    df = pd.DataFrame({"site": hostile, "pairs": [40, 30, 20, 15, 12, 11, 50], "delta": [-2, 3, -5, 0, 1, 2, 3]})
    context = ExportContext(filters='Site: =HYPERLINK("x")', start=date(2026, 1, 1), end=date(2026, 3, 31),
                            as_of=date(2026, 3, 31), n=200, k=K)
    kw = {"count_cols": ["pairs"], "derived": {}, "labels": ["delta"], "context": context, "title": "=SUM(A1:A9)"}
    header, table = read_csv(tables.to_csv_bytes(df, **kw))
    assert header[0][1] == "'=SUM(A1:A9)"
    sites = [r[0] for r in table[1:]]
    for raw, cell in zip(hostile, sites, strict=True):
        assert cell == ("'" + raw if raw[0] in "=+-@\t\r" else raw)
    assert [r[2] for r in table[1:]][0] == "-2", "a negative number stays a plain number"

    xheader, xrows = read_xlsx(tables.to_xlsx_bytes(df, **kw))
    assert xheader[0][0].value == "'=SUM(A1:A9)" and xheader[0][0].data_type == "s"
    for raw, row in zip(hostile, xrows[1:], strict=True):
        cell = row[0]
        assert cell.data_type == "s", "never a formula"
        # OOXML stores a carriage return as _x000D_ (Excel shows it as one); openpyxl leaves it so
        assert cell.value.replace("_x000D_", "\r") == ("'" + raw if raw[0] in "=+-@\t\r" else raw)
        assert isinstance(row[1].value, int) and isinstance(row[2].value, int)
    assert xrows[1][2].value == -2


def test_row_level_frames_refused():
    for col in ("participant_id", "pair_id", "session_id"):
        df = pd.DataFrame({col: ["a", "b"], "pairs": [20, 30]})
        with pytest.raises(privacy.ExportRefused, match="row-level"):
            tables.to_csv_bytes(df, count_cols=["pairs"], derived={}, context=CONTEXT)
    # a mentor pseudonym naming each row of an aggregate is allowed only as that row label
    df = pd.DataFrame({"mentor_id": ["m1", "m2"], "pairs_in_scope": [12, 30]})
    tables.to_csv_bytes(df, count_cols=["pairs_in_scope"], derived={}, label="mentor_id", context=CONTEXT)
    with pytest.raises(privacy.ExportRefused):
        tables.to_csv_bytes(df, count_cols=["pairs_in_scope"], derived={}, context=CONTEXT)


def test_undeclared_numeric_column_refused():
    df = pd.DataFrame({"site": ["A", "B"], "pairs": [20, 30], "people": [3, 4]})
    with pytest.raises(ValueError, match="people"):
        tables.to_csv_bytes(df, count_cols=["pairs"], derived={}, context=CONTEXT)


def test_view_below_k_refused():
    small = ExportContext(filters="Site: North", start=date(2026, 1, 1), end=date(2026, 3, 31),
                          as_of=date(2026, 3, 31), n=7, k=K)
    df = pd.DataFrame({"site": ["North"], "pairs": [7]})
    for writer in (tables.to_csv_bytes, tables.to_xlsx_bytes):
        with pytest.raises(privacy.ExportRefused):
            writer(df, count_cols=["pairs"], derived={}, context=small)


def test_complementary_suppression_in_a_breakdown():
    df = pd.DataFrame({"grp": ["all"] * 4, "close_reason": ["a", "b", "c", "d"], "pairs": [4, 15, 30, 0],
                       "is_disengagement": [True, False, False, False]})
    out = privacy_frames.suppressed_table(df, "closure_reasons", K)
    # 4 is hidden; the next smallest non-zero member (15) too, so the total cannot give 4 back; zero is shown
    assert list(out["pairs"]) == ["<11", "<11", 30, 0]


def test_chart_frame_blanks_suppressed_cells(narrow):
    _, frames = narrow
    goals_frame = frames["goals_by_domain"]
    out, hidden = privacy_frames.chart_frame(goals_frame, "goals_by_domain", K)
    assert hidden == ("goals_by_domain",)
    small = (goals_frame["goals_set"] > 0) & (goals_frame["goals_set"] < K)
    assert small.any()
    assert out.loc[small.to_numpy(), "goals_set"].isna().all()
    assert out.loc[small.to_numpy(), "achievement_rate"].isna().all()
    curve = frames["retention_curve"]
    shown, at_risk, _ = privacy_frames.km_chart_frames(curve, K)
    assert (shown["at_risk"] >= K).all() and shown["events"].isna().all()
    if at_risk is not None:
        assert_count_cells([None if pd.isna(v) else v for v in at_risk["at_risk"]])


def test_k_must_match_the_context():
    df = pd.DataFrame({"site": ["A"], "pairs": [20]})
    with pytest.raises(ValueError, match="k"):
        tables.to_csv_bytes(df, count_cols=["pairs"], derived={}, context=CONTEXT, k=5)


def test_a_frame_suppressed_before_export_keeps_its_labels(narrow):
    # a suppressed screen hands the export frames with blanks where counts were hidden
    context, frames = narrow
    for name in ("closure_reasons", "goals_by_domain", "engagement_by_month"):
        raw = privacy_frames.suppressed_table(frames[name], name, K)
        again = privacy_frames.suppressed_table(privacy_frames.chart_frame(frames[name], name, K)[0], name, K)
        for col in privacy_frames.spec_for(name).count_cols:
            assert list(again[col]) == list(raw[col]), (name, col)


def test_each_download_is_audited(monkeypatch, tmp_path):
    import json

    from analytics.domain.access import LOCAL_ACCESS
    from ui import auth, downloads

    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("OUTCOMES_AUDIT_LOG", str(log))
    monkeypatch.setattr(auth, "current", lambda: LOCAL_ACCESS)
    df = pd.DataFrame({"site": ["A", "B"], "pairs": [20, 30]})
    make = downloads._audited(lambda: tables.to_csv_bytes(df, count_cols=["pairs"], derived={}, context=CONTEXT),
                              kind="csv", name="pairs_by_site", context=CONTEXT)
    assert not log.exists(), "nothing is recorded until the file is served"
    data = make()
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["action"] == "export" and entry["what"]["file_kind"] == "csv"
    assert entry["what"]["name"] == "pairs_by_site" and entry["bytes"] == len(data)
    assert "A" not in json.dumps(entry["what"]), "no data values in the audit trail"


# ------------------------------------------------------------------------------- the Compare page's groups


def test_compare_groups_blanks_a_group_below_k():
    out, _ = privacy_frames.chart_frame(compare_groups_frame(), "compare_groups", K)
    # C's counts 6, 6, 4, 5, 4 (no-show), 4, 2, 3, 5, 5 are 1-10: hidden. Complements, the smallest
    # other non-zero member of each column: pairs in scope B 75 (of 120, 75, 90); pairs B 42 (of 60,
    # 42, 48); events D 11 (of 12, 13, 11); no-show D 12 (of 30, 15, 12); GSE10 paired B 15 (of 25, 15, 18).
    # No nested difference of A, B or D is 1-10 (in scope - active: 30, 21, 24; followed - eligible:
    # 15, 12, 12), nor any share's implied count (km_90 x pairs: 42 of 60, 25 of 42, 31 of 48).
    assert out["pairs_in_scope"].tolist()[::3] == [120, 90] and out["pairs_in_scope"][1:3].isna().all()
    assert out["pairs"].isna().tolist() == [False, True, True, False]
    assert out["events"].isna().tolist() == [False, False, True, True]
    assert out["no_show"].isna().tolist() == [False, False, True, True]
    assert out["GSE10_n_paired"].isna().tolist() == [False, True, True, False]
    # attended: 120, 60, 18, 90, none 1-10, so none hidden; sessions = attended + no-show goes with
    # a hidden no-show: 150, 75 shown, C and D blank
    assert out["attended"].tolist() == [120, 60, 18, 90]
    assert out["sessions"].tolist()[:2] == [150, 75] and out["sessions"].isna().tolist()[2:] == [True, True]
    # C, below k, has no estimate left
    estimates = ["hr", "hr_lower", "hr_upper", "km_90", "km_90_lower", "km_90_upper", "retained_90",
                 "attendance_rate", "attendance_low", "attendance_high", "contact_hours", "sessions_per_pair_month",
                 "GSE10_mean_change", "GSE10_ci95_low", "GSE10_ci95_high", "BARC10_mean_change"]
    assert out.loc[2, estimates].isna().all()
    # a hazard ratio rests on the pairs and goes with the events: A only (B's pairs, D's events hidden)
    assert out["hr"].notna().tolist() == [True, False, False, False]
    assert out["attendance_rate"].notna().tolist() == [True, True, False, False]
    assert out["GSE10_mean_change"].notna().tolist() == [True, False, False, True]
    # no count of 1-10 survives, in any count column or in sessions
    for col in (*privacy_frames.spec_for("compare_groups").count_cols, "sessions"):
        assert_count_cells([None if pd.isna(v) else v for v in out[col]])


def test_compare_groups_refuses_an_undeclared_number():
    with pytest.raises(ValueError, match="median_days"):
        privacy_frames.chart_frame(compare_groups_frame().assign(median_days=30.0), "compare_groups", K)


def test_every_comparison_of_the_demo_is_accepted(demo_db):
    from analytics.domain.scope import DIMENSIONS
    from analytics.metrics.compare import compare_groups, with_sessions

    con = views.analysis_connection(store.connect_read(demo_db))
    scope = resolve_scope(con, start="2026-01-01", end="2026-03-31")
    hidden_somewhere = False
    for by in DIMENSIONS:
        groups = with_sessions(compare_groups(con, scope, by, K)["groups"])
        out, _ = privacy_frames.chart_frame(groups, "compare_groups", K)  # every numeric column is declared
        for col in (*privacy_frames.spec_for("compare_groups").count_cols, "sessions"):
            assert_count_cells([None if pd.isna(v) else v for v in out[col]])
        hidden_somewhere |= bool(out["pairs"].isna().any())
    con.close()
    assert hidden_somewhere, "some dimension should have a group below k for this test to mean anything"


def test_a_total_is_stated_only_when_the_hidden_cells_sum_to_zero_or_k():
    # no-show 30, 15, 4, 12: C's 4 hidden and D's 12 as its complement, 16 >= 11: the total may stand
    assert privacy_frames.total_publishable(compare_groups_frame(), "compare_groups", K, "no_show")
    # nothing hidden in attended: its total may stand
    assert privacy_frames.total_publishable(compare_groups_frame(), "compare_groups", K, "attended")
    # no-show 30, 3, 4, 20: two cells hidden, no complement needed, and 3 + 4 = 7 would come back
    assert not privacy_frames.total_publishable(compare_groups_frame((30, 3, 4, 20)), "compare_groups", K, "no_show")
    assert privacy_frames.total_publishable(compare_groups_frame((30, 3, 4, 20)), "compare_groups", 1, "no_show")


def test_km_chart_frames_cut_each_group_where_fewer_than_k_remain():
    shown, at_risk, _ = privacy_frames.km_chart_frames(km_curve_by_group(), K)
    # A while 11 or more remain (t 0-75; 10 at t = 100); B starts with 6: left out
    assert shown["grp"].tolist() == ["A"] * 5 and shown["t"].tolist() == [0, 10, 30, 60, 75]
    assert shown["events"].isna().all() and shown["censored"].isna().all()
    # tick days for a curve ending at 75: 0, 30, 60 (km_chart's spacing). At risk = the first row
    # with t >= day: A 20, 18, 15; B 6 and 5 (blank, below k), then 0 (no B pair followed to day 60)
    table = at_risk.set_index(["grp", "day"])["at_risk"]
    assert [table[("A", d)] for d in (0, 30, 60)] == [20, 18, 15]
    assert pd.isna(table[("B", 0)]) and pd.isna(table[("B", 30)]) and table[("B", 60)] == 0


def test_frames_return_what_they_hid():
    # Changed on purpose: the frames say what they hid in their return value (no context variable).
    _, hidden = privacy_frames.chart_frame(compare_groups_frame().query("grp != 'C'"), "compare_groups", K)
    assert hidden == ()  # no 1-10 left
    assert privacy_frames.chart_frame(compare_groups_frame(), "compare_groups", K)[1] == ("compare_groups",)
    assert privacy_frames.km_chart_frames(km_curve_by_group(), K)[2] == ("retention_curve",)  # B left out
    assert privacy_frames.km_chart_frame(km_curve_by_group().query("grp == 'A'"), K)[1] == ()


def test_one_hidden_class_is_never_given_back_by_the_paired_total():
    # GSE10 by site. A: 45 paired = 11 improved + 32 no change + 2 declined; B: 60 = 20 + 30 + 10.
    # Declined 2 and 10 are below 11 (hidden). Without the row rule, A's declined would be
    # 45 - 11 - 32 = 2 again. So each row hides its smallest other non-zero class too: A's
    # improved 11 (< 32), B's improved 20 (< 30); the improvement rates go with them.
    frame = pd.DataFrame({
        "grp": ["A", "B"], "instrument": ["GSE10", "GSE10"], "n_paired": [45, 60],
        "improved": [11, 20], "no_reliable_change": [32, 30], "declined": [2, 10],
        "reliable_improvement_rate": [11 / 45, 20 / 60], "reliable_decline_rate": [2 / 45, 10 / 60],
    })
    table, cells = privacy_frames.suppress(frame, privacy_frames.spec_for("outcome_change"), K)
    assert set(cells) == {(0, "improved"), (0, "declined"), (1, "improved"), (1, "declined"),
                          (0, "reliable_improvement_rate"), (0, "reliable_decline_rate"),
                          (1, "reliable_improvement_rate"), (1, "reliable_decline_rate")}
    assert table["no_reliable_change"].tolist() == [32, 30] and table["n_paired"].tolist() == [45, 60]


def test_no_row_of_the_demo_outcomes_gives_a_hidden_class_back(demo_db):
    # Every site, every quarter of 2025-26: in each row with the paired total shown, either no
    # class is hidden or at least two are (so total minus the shown classes leaves a sum).
    con = views.analysis_connection(store.connect_read(demo_db))
    classes = ["improved", "no_reliable_change", "declined"]
    checked = hidden_rows = 0
    for start, end in (("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-06-30"), ("2025-10-01", "2026-03-31"),
                       ("2026-01-01", "2026-03-31")):
        scope = resolve_scope(con, start=start, end=end).grouped("site")
        table, _ = privacy_frames.suppress(outcomes.outcome_change(con, scope), privacy_frames.spec_for("outcome_change"), K)
        for _, row in table.iterrows():
            if isinstance(row["n_paired"], str):
                continue
            hidden = sum(isinstance(row[c], str) for c in classes)
            assert hidden != 1, row.to_dict()
            checked += 1
            hidden_rows += hidden > 0
    con.close()
    assert checked and hidden_rows, "the demo should have rows with hidden classes for this test to mean anything"


def test_counts_arriving_as_floats_print_as_whole_numbers():
    # A grant writer's screen frame was suppressed before it reaches the writer: its counts are
    # floats (12.0, NaN for hidden). The CSV prints "12" and "<11", never "12.0"; rates stay decimal.
    frame = pd.DataFrame({"grp": ["all", "all"], "close_reason": ["moved", "goals_met"],
                          "pairs": [12.0, float("nan")]})
    context = CONTEXT
    _, table = read_csv(tables.to_csv_bytes(frame, spec="closure_reasons", context=context))
    assert [r[table[0].index("pairs")] for r in table[1:]] == ["12", "<11"]
    book = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx_bytes(frame, spec="closure_reasons", context=context)))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert 12 in values and isinstance(values[values.index(12)], int | float) and "<11" in values
