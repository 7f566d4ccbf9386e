"""Needs attention: golden rows per reason, the page per role, the digest and relink commands.

Golden rows are worked out by hand in tests/tiny_attention.py (A = 2026-06-30, S = 2025-12-01,
E = A); each day count is checked once more with Python's own date arithmetic below.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import tiny_attention
from _analysis import analysis_cursor
from _sign_in import AUTH
from streamlit.testing.v1 import AppTest

from analytics import store
from analytics.cli import main
from analytics.domain import access as core
from analytics.metrics import attention, quality
from analytics.metrics.followup import followup_counts
from analytics.metrics.scope import Filters, resolve_scope
from analytics.store import audit, pseudonym, views

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
A = date(2026, 6, 30)
PERIOD = {"start": tiny_attention.START, "end": tiny_attention.AS_OF}
TIMEOUT = 60

# (reason, mentor, pair, participant, days), most urgent first (module text of attention.py):
GOLDEN = [
    ("followup_open", "mA1", "rA", "pA", 0),  # closes today: 2025-12-02 + 210 = A
    ("followup_open", "mA1", "rD", "pD", 49),  # 2026-01-20 + 210 = 2026-08-18; - A = 49
    ("no_recent_session", "mA2", "rH", "pH", 90),  # last attended 2026-04-01: 29 + 31 + 30 = 90
    ("no_recent_session", "mA1", "rD", "pD", 30),  # last attended 2026-05-31 = A - 30 (edge)
    ("no_recent_session", "mA2", "rF", "pF", 30),  # matched 2026-05-31 = A - 30, never met (edge)
    ("no_baseline", "mA2", "rH", "pH", 241),  # enrolled 2025-11-01: 29+31+31+28+31+30+31+30 = 241
    ("no_baseline", "mA2", "rE", "pE", 149),  # enrolled 2026-02-01: 27+31+30+31+30 = 149
    ("followup_opening", "mA2", "rE", "pE", 1),  # 2026-02-01 + 150 = 2026-07-01 = A + 1
    ("followup_opening", "mA2", "rF", "pF", 30),  # 2026-03-02 + 150 = 2026-07-30 = A + 30 (edge)
]
ROLES = """
[users]
"pm@example.org" = { role = "program_manager" }
"north@example.org" = { role = "supervisor", sites = ["North"] }
"gw@example.org" = { role = "grant_writer" }
"admin@example.org" = { role = "admin" }
"""


@pytest.fixture(scope="module")
def attention_store(tmp_path_factory) -> Path:
    return tiny_attention.build(tmp_path_factory.mktemp("attention") / "attention.duckdb")


@pytest.fixture()
def con(attention_store):
    with analysis_cursor(attention_store) as cur:
        yield cur


@pytest.fixture()
def scope(con):
    return resolve_scope(con, start=tiny_attention.START)


def _tuples(rows: pd.DataFrame) -> list[tuple]:
    return list(rows[["reason", "mentor_id", "pair_id", "participant_id", "days"]].itertuples(index=False, name=None))


# ------------------------------------------------------------------------------- the worklist


def test_golden_rows_in_urgency_order(con, scope):
    assert scope.as_of == A
    rows = attention.needs_attention(con, scope)
    assert _tuples(rows) == GOLDEN
    assert list(rows["urgency"]) == list(range(1, 10))
    assert list(rows["site"]) == ["North", "North", "South", "North", "South", "South", "South", "South", "South"]


def test_days_agree_with_python_date_arithmetic():
    def d(iso: str) -> int:
        return abs((date.fromisoformat(iso) - A).days)

    from datetime import timedelta

    assert date(2025, 12, 2) + timedelta(days=210) == A
    assert [g[4] for g in GOLDEN] == [
        0, d("2026-08-18"), d("2026-04-01"), d("2026-05-31"), d("2026-05-31"),
        d("2025-11-01"), d("2026-02-01"), d("2026-07-01"), d("2026-07-30"),
    ]


def test_edges_one_day_inside_are_not_listed(con, scope):
    rows = attention.needs_attention(con, scope)
    # rB met on A - 29, rE was matched on A - 29; pG's window opens on A + 31; pB is done; pC is
    # excused (exited before the close); pJ's only pair is closed.
    assert "rB" not in set(rows["pair_id"]) and "pG" not in set(rows["participant_id"])
    assert not ({"pB", "pC", "pJ"} & set(rows["participant_id"]))
    assert not rows[(rows["pair_id"] == "rE") & (rows["reason"] == "no_recent_session")].shape[0]


def test_a_window_closing_today_leaves_the_list_tomorrow(con):
    next_day = resolve_scope(con, as_of="2026-07-01", start=tiny_attention.START)
    rows = attention.needs_attention(con, next_day)
    assert "pA" not in set(rows.loc[rows["reason"] == "followup_open", "participant_id"])
    # and pE's window, opening on 2026-07-01, is open now: 2026-08-30 - 2026-07-01 = 60 days left
    pe = rows[(rows["participant_id"] == "pE") & (rows["reason"] == "followup_open")]
    assert list(pe["days"]) == [60]


def test_the_windows_are_the_funder_metrics(con, scope):
    # One rule: the page's open windows are the metric's open_now plus those closing on A, and
    # its opening windows are exactly opening_next_30.
    counts = followup_counts(con, scope).iloc[0]
    rows = attention.needs_attention(con, scope)
    assert (rows["reason"] == "followup_opening").sum() == counts["opening_next_30"] == 2
    assert (rows["reason"] == "followup_open").sum() == counts["open_now"] + 1 == 2  # + pA, closing on A


def test_silent_pairs_agree_with_the_data_quality_finding(con, scope):
    rows = attention.needs_attention(con, scope)
    found = quality.quality_findings(con, scope)
    per_site = found[found["finding"] == "no_recent_session"].set_index("site")["n"].to_dict()
    listed = rows[rows["reason"] == "no_recent_session"].groupby("site").size().to_dict()
    assert per_site == listed == {"North": 1, "South": 2}


def test_filters_narrow_the_list(con, scope):
    north = resolve_scope(con, start=tiny_attention.START, filters={"site": ["North"]})
    assert _tuples(attention.needs_attention(con, north)) == [g for g in GOLDEN if g[1] == "mA1"]
    one = resolve_scope(con, start=tiny_attention.START, filters={"mentor": ["mA2"]})
    assert _tuples(attention.needs_attention(con, one)) == [g for g in GOLDEN if g[1] == "mA2"]
    # the follow-up cohort is the participants enrolled in [S, E]: pA (2025-12-02) leaves it
    late = resolve_scope(con, start="2026-01-01")
    assert "pA" not in set(attention.needs_attention(con, late)["participant_id"])


def test_counts_per_mentor(con, scope):
    counts = attention.attention_counts(attention.needs_attention(con, scope))
    assert counts.to_dict("records") == [
        {"mentor_id": "mA1", "site": "North", "followup_open": 2, "no_recent_session": 1, "no_baseline": 0,
         "followup_opening": 0, "total": 3},
        {"mentor_id": "mA2", "site": "South", "followup_open": 0, "no_recent_session": 2, "no_baseline": 2,
         "followup_opening": 2, "total": 6},
    ]


def test_describe_days():
    assert attention.describe_days("followup_open", 0) == "closes today"
    assert attention.describe_days("followup_open", 1) == "closes in 1 day"
    assert attention.describe_days("followup_opening", 30) == "opens in 30 days"
    assert attention.describe_days("no_recent_session", 90) == "90 days without an attended session"
    assert attention.describe_days("no_baseline", 149) == "enrolled 149 days ago"


# ------------------------------------------------------------------------------- the page


@pytest.fixture()
def env(attention_store, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_DB", str(attention_store))
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES)
    monkeypatch.setenv(core.ROLES_ENV, str(roles))
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv(audit.AUDIT_ENV, str(log))
    return {"log": log}


def app(email: str | None, *, deep_link: bool = False, signed_in: bool = True) -> AppTest:
    script = ROOT / "pages" / "attention.py" if deep_link else ROOT / "dashboard.py"
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
    if signed_in:
        at.secrets = {"auth": dict(AUTH)}
        at.user = {"is_logged_in": True, "email": email}
    at.query_params.update(PERIOD)
    at.run()
    if not deep_link:
        at.switch_page("pages/attention.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value.data if hasattr(d.value, "data") else d.value for d in at.dataframe]


def test_a_supervisor_sees_exactly_their_sites_rows(env):
    at = app("north@example.org")
    assert [t.value for t in at.title] == ["Needs attention"]
    by_mentor, worklist = _frames(at)
    assert list(by_mentor["Mentor"]) == ["mA1"] and list(by_mentor["Total"]) == [3]
    assert list(worklist["Site"].unique()) == ["North"]
    assert list(zip(worklist["Pair"], worklist["Participant"], worklist["Days"], strict=True)) == [
        ("rA", "pA", 0), ("rD", "pD", 49), ("rD", "pD", 30)]
    assert list(worklist["When"]) == ["closes today", "closes in 49 days", "30 days without an attended session"]
    assert not at.get("download_button")
    # opening the page is on the audit trail, with the sites it covered and the rows shown
    views_ = audit.entries(action="view", path=env["log"])
    assert len(views_) == 1 and views_[0]["who"] == "north@example.org" and views_[0]["role"] == "supervisor"
    assert views_[0]["what"]["page"] == "attention" and views_[0]["what"]["filters"] == {"site": ["North"]}
    assert views_[0]["rows"] == {"rows": 3}


def test_a_supervisor_cannot_widen_to_another_site(env):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.secrets = {"auth": dict(AUTH)}
    at.user = {"is_logged_in": True, "email": "north@example.org"}
    at.query_params.update({**PERIOD, "site": "South"})
    at.run()
    at.switch_page("pages/attention.py").run()
    assert not at.exception
    _by_mentor, worklist = _frames(at)
    assert set(worklist["Site"]) == {"North"}


def test_a_rerun_writes_no_second_row_but_coming_back_does(env):
    at = app("pm@example.org")
    _by_mentor, worklist = _frames(at)
    assert len(worklist) == 9
    at.run()  # a rerun of the same view (a click elsewhere on the page)
    assert len(audit.entries(action="view", path=env["log"])) == 1
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/attention.py").run()
    assert len(audit.entries(action="view", path=env["log"])) == 2


def test_the_manager_sees_every_mentor_grouped_and_the_reason_filter(env):
    at = app("pm@example.org")
    by_mentor, worklist = _frames(at)
    assert list(by_mentor["Mentor"]) == ["mA1", "mA2"] and list(by_mentor["Total"]) == [3, 6]
    assert list(worklist["Mentor"]) == ["mA1"] * 3 + ["mA2"] * 6  # grouped, most urgent mentor first
    assert list(worklist["Urgency"]) == [1, 2, 4, 3, 5, 6, 7, 8, 9]
    at.get("button_group")[0].set_value(["no_baseline"]).run()
    _by_mentor, worklist = _frames(at)
    assert list(worklist["Participant"]) == ["pH", "pE"]


@pytest.mark.parametrize("email", ["gw@example.org", "admin@example.org"])
@pytest.mark.parametrize("deep_link", [False, True])
def test_grant_writers_and_admins_get_no_access(env, email, deep_link):
    at = app(email, deep_link=deep_link)
    assert [t.value for t in at.title] == ["No access"]
    assert not at.dataframe and not at.metric and not at.get("download_button")
    assert not audit.entries(action="view", path=env["log"])
    denied = audit.entries(action="denied", path=env["log"])
    assert denied[0]["who"] == email and denied[0]["what"]["page"] == "attention"


def test_the_list_is_refused_to_other_roles_whatever_page_asks(attention_store):
    from ui import data_access

    stamp = dataclasses.astuple(store.stamp(attention_store))
    for role in (core.GRANT_WRITER, core.ADMIN):
        access = core.access_for("x@example.org", core.Grant(role=role))
        with pytest.raises(PermissionError):
            data_access.metric("needs_attention", stamp, scope=_any_scope(), access=access)


def _any_scope():
    from analytics.domain.scope import Scope

    return Scope(as_of=A, start=date(2025, 12, 1), end=A, filters=Filters())


def test_the_local_mode_page_renders(env, tmp_path, monkeypatch):
    monkeypatch.setenv(core.ROLES_ENV, str(tmp_path / "no-roles.toml"))  # no sign-in: no roles file
    at = app(None, signed_in=False)
    assert [t.value for t in at.title] == ["Needs attention"]
    assert len(_frames(at)[1]) == 9
    assert audit.entries(action="view", path=env["log"])[0]["who"] == core.LOCAL_USER


# ------------------------------------------------------------------------------- the digest


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_digest_json_unsuppressed(attention_store, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(audit.AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    code, out, _ = _cli(capsys, "attention", "--db", str(attention_store), "--as-of", tiny_attention.AS_OF,
                        "--start", tiny_attention.START, "--min-cell", "1")
    assert code == 0
    doc = json.loads(out)
    assert doc["suppressed"] == [] and doc["as_of"] == tiny_attention.AS_OF and doc["min_cell"] == 1
    assert doc["totals"] == {"followup_open": 2, "no_recent_session": 3, "no_baseline": 2,
                             "followup_opening": 2, "total": 9}
    assert [(m["mentor_id"], m["total"]) for m in doc["mentors"]] == [("mA1", 3), ("mA2", 6)]
    code, table, _ = _cli(capsys, "attention", "--db", str(attention_store), "--start", tiny_attention.START,
                          "--min-cell", "1", "--format", "table")
    assert "not suppressed (k = 1)" in table
    assert [line.split()[-1] for line in table.splitlines()[2:5]] == ["3", "6", "9"]  # mA1, mA2, all
    exported = audit.entries(action="export", path=tmp_path / "audit.jsonl")
    assert exported[0]["what"]["name"] == "attention_digest"


def test_digest_is_suppressed_and_refuses_small_selections(attention_store, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(audit.AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    # 9 pairs in scope (rJ too: closed 2026-02-01, after S): fewer than k = 11, refused
    code, _, err = _cli(capsys, "attention", "--db", str(attention_store), "--start", tiny_attention.START)
    assert code == 2 and "fewer than 11 pairs" in err
    # k = 2 (only 1s hidden), worked out by hand on the counts of test_counts_per_mentor:
    # - mA1's silent pairs (1) are hidden; down that column the smallest other non-zero member,
    #   mA2's 2, goes too;
    # - across mA1's row, total 3 shown with one part hidden would give it back: the smallest
    #   other non-zero part, followup_open 2, goes; that column then has one hidden member and
    #   no other non-zero one, so its total (2) goes;
    # - across mA2's row, the hidden silent 2 is joined by the first smallest other part,
    #   no_baseline 2, whose column total (2) goes in turn for the same reason.
    code, out, _ = _cli(capsys, "attention", "--db", str(attention_store), "--start", tiny_attention.START,
                        "--min-cell", "2")
    doc = json.loads(out)
    assert doc["suppressed"] == [
        "mentors.mA1.followup_open", "mentors.mA1.no_recent_session", "mentors.mA2.no_recent_session",
        "mentors.mA2.no_baseline", "totals.followup_open", "totals.no_baseline"]
    m1, m2 = doc["mentors"]
    assert m1 == {"mentor_id": "mA1", "site": "North", "followup_open": None, "no_recent_session": None,
                  "no_baseline": 0, "followup_opening": 0, "total": 3}
    assert m2 == {"mentor_id": "mA2", "site": "South", "followup_open": 0, "no_recent_session": None,
                  "no_baseline": None, "followup_opening": 2, "total": 6}
    assert doc["totals"] == {"followup_open": None, "no_recent_session": 3, "no_baseline": None,
                             "followup_opening": 2, "total": 9}
    # The same cells through the suppression module directly (no second copy of the rule here):
    from analytics import privacy

    counts = attention.attention_counts(attention.needs_attention(*_con_and_scope(attention_store)))
    _table, cells = privacy.suppress_table(
        counts.drop(columns=["site"]), count_cols=[*attention.REASONS, "total"], derived={}, k=2,
        group_col="mentor_id", row_totals={"total": list(attention.REASONS)})
    assert {("mA1", "no_recent_session"), ("mA2", "no_recent_session")} <= set(cells)
    code, table, _ = _cli(capsys, "attention", "--db", str(attention_store), "--start", tiny_attention.START,
                          "--min-cell", "2", "--format", "table")
    assert code == 0 and "<2" in table and "mA1" in table


def _con_and_scope(db):
    cur = views.analysis_connection(store.connect_read(db))
    return cur, resolve_scope(cur, start=tiny_attention.START)


# ------------------------------------------------------------------------------- relink


def _read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture()
def sample_store(tmp_path, monkeypatch):
    """A fresh store loaded from data/sample with a key of the program's own."""
    key = "the-program's-own-pseudonym-key-0123456789"
    monkeypatch.setenv(pseudonym.KEY_ENV, key)
    monkeypatch.setenv(audit.AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    db = tmp_path / "sample.duckdb"
    assert main(["ingest", str(SAMPLE), "--db", str(db), "--today", "2026-06-30"]) == 0
    return {"db": db, "key": key.encode(), "log": tmp_path / "audit.jsonl"}


def test_relink_round_trips_on_the_sample_export(sample_store, capsys, tmp_path):
    capsys.readouterr()
    code, out, err = _cli(capsys, "relink", "--db", str(sample_store["db"]), "--ids", str(SAMPLE / "pairs.csv"))
    assert code == 0, err
    rows = _read_csv(out)
    header = next(csv.reader(io.StringIO(out)))
    assert header == ["pair_id", "pair_id_pseudonym", "mentor_id", "mentor_id_pseudonym", "participant_id",
                      "participant_id_pseudonym", "matched_on", "closed_on", "close_reason"]
    source = _read_csv((SAMPLE / "pairs.csv").read_text())
    assert [r["pair_id"] for r in rows] == [r["pair_id"] for r in source]  # the program's ids, untouched
    con = store.connect_read(sample_store["db"])
    try:
        stored = {tuple(r) for r in con.execute("select pair_id, mentor_id, participant_id from pairs").fetchall()}
    finally:
        con.close()
    # every pseudonym the store holds is given back beside its source id, and nothing else
    assert {(r["pair_id_pseudonym"], r["mentor_id_pseudonym"], r["participant_id_pseudonym"]) for r in rows} == stored
    assert all(r["participant_id_pseudonym"] == pseudonym.pseudonym("participant", r["participant_id"],
                                                                    sample_store["key"]) for r in rows)
    assert "10 of 10 pair_id values" in err
    relinks = audit.entries(action="relink", path=sample_store["log"])
    assert relinks and relinks[0]["rows"]["roster_rows"] == 10
    assert "P0001" not in sample_store["log"].read_text() and "R001" not in sample_store["log"].read_text()


def test_relink_writes_a_file_when_asked(sample_store, capsys, tmp_path):
    out = tmp_path / "roster_with_pseudonyms.csv"
    code, printed, _ = _cli(capsys, "relink", "--db", str(sample_store["db"]),
                            "--ids", str(SAMPLE / "participants.csv"), "--out", str(out))
    assert code == 0 and printed == ""
    rows = _read_csv(out.read_text())
    assert len(rows) == 10 and rows[0]["participant_id"] == "P0001"
    assert rows[0]["participant_id_pseudonym"] == pseudonym.pseudonym("participant", "P0001", sample_store["key"])
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_relink_refuses_a_wrong_key(sample_store, capsys, monkeypatch):
    monkeypatch.setenv(pseudonym.KEY_ENV, "somebody-else's-key-0123456789abcdef")
    code, out, err = _cli(capsys, "relink", "--db", str(sample_store["db"]), "--ids", str(SAMPLE / "pairs.csv"))
    assert code == 2 and out == "" and "wrong key" in err


def test_relink_refuses_when_no_id_is_found(attention_store, capsys, tmp_path, monkeypatch):
    # This store keeps no key fingerprint: the key check is that some id is found.
    monkeypatch.setenv(pseudonym.KEY_ENV, "any-key-at-all-0123456789abcdef")
    roster = tmp_path / "roster.csv"
    roster.write_text("participant_id,name_in_our_system\npA,someone\n")
    code, out, err = _cli(capsys, "relink", "--db", str(attention_store), "--ids", str(roster))
    assert code == 2 and out == "" and "none of the roster's ids is in this store" in err


def test_relink_finds_the_ids_of_the_worklist(sample_store, capsys, tmp_path):
    # The ids a supervisor reads on the worklist come back as the program's own.
    con = views.analysis_connection(store.connect_read(sample_store["db"]))
    scope = resolve_scope(con)
    rows = attention.needs_attention(con, scope)
    assert not rows.empty
    code, out, _ = _cli(capsys, "relink", "--db", str(sample_store["db"]), "--ids", str(SAMPLE / "pairs.csv"))
    back = {r["pair_id_pseudonym"]: r["pair_id"] for r in _read_csv(out)}
    assert set(rows["pair_id"]) <= set(back)
    assert all(back[p].startswith("R") for p in rows["pair_id"])


def test_relink_refuses_a_roster_without_id_columns(sample_store, capsys, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,phone\nx,y\n")
    code, _, err = _cli(capsys, "relink", "--db", str(sample_store["db"]), "--ids", str(roster))
    assert code == 2 and "none of the id columns" in err


def test_relink_keeps_the_ids_as_written(sample_store, capsys, tmp_path):
    roster = tmp_path / "roster.csv"
    shutil.copyfile(SAMPLE / "mentors.csv", roster)
    code, out, _ = _cli(capsys, "relink", "--db", str(sample_store["db"]), "--ids", str(roster))
    assert code == 0
    assert [r["mentor_id"] for r in _read_csv(out)] == ["M01", "M02", "M03", "M04"]


def test_a_supervisor_of_one_site_relinks_their_list_on_the_sample_export(sample_store, capsys, monkeypatch):
    """The whole errand: a Northside supervisor opens the page on a store loaded from
    data/sample, and relink gives the program's own ids of exactly that site's rows.

    By hand, from data/sample: A = 2025-05-01 (latest session), A - 30 = 2025-04-01. Open at A:
    R001, R002 (closes 2025-06-30, after A), R003, R005, R006, R007 (matched 2025-04-09); R004
    closed 2025-04-21; R008-R010 not matched yet. Matched on or before 2025-04-01 with no
    attended session since 2025-04-02: R001 (last 2025-01-15: 106 days), R002 (2025-02-03: 87),
    R003 (never; matched 2025-02-05: 85), R005 (2025-03-12: 50), R006 (2025-03-26: 36). No
    assessment with an open pair: P0007 (enrolled 2025-04-07: 24 days). Every follow-up window
    opens after A + 30 (the earliest, P0002's, on 2025-06-12). Northside: P0001-P0003, P0007.
    """
    roles = sample_store["db"].parent / "roles.toml"
    roles.write_text('[users]\n"lee@example.org" = { role = "supervisor", sites = ["Northside"] }\n')
    monkeypatch.setenv(core.ROLES_ENV, str(roles))
    monkeypatch.setenv("OUTCOMES_DB", str(sample_store["db"]))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.secrets = {"auth": dict(AUTH)}
    at.user = {"is_logged_in": True, "email": "lee@example.org"}
    at.run()
    at.switch_page("pages/attention.py").run()
    assert not at.exception, [e.value for e in at.exception]
    _by_mentor, worklist = _frames(at)
    listed = list(zip(worklist["Pair"], worklist["Participant"], worklist["Days"], strict=True))

    capsys.readouterr()
    code, out, _ = _cli(capsys, "relink", "--db", str(sample_store["db"]), "--ids", str(SAMPLE / "pairs.csv"))
    assert code == 0
    back = {}
    for r in _read_csv(out):
        back[r["pair_id_pseudonym"]] = r["pair_id"]
        back[r["participant_id_pseudonym"]] = r["participant_id"]
    assert [(back[p], back[q], d) for p, q, d in listed] == [
        ("R001", "P0001", 106), ("R002", "P0002", 87), ("R003", "P0003", 85), ("R007", "P0007", 24)]
    assert set(worklist["Site"]) == {"Northside"}
