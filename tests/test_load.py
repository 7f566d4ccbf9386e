"""The load end to end: what reaches the store, upserts, dry runs, audit rows, the report and the
CLI. Faulty files and values have their own files (test_faults_*.py)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from fixtures import load_helpers
from fixtures.load_helpers import (
    ALL_TABLES,
    DATA_TABLES,
    KEY,
    PROGRAM,
    TODAY,
    all_text,
    digest,
    load,
    refused,
    rows,
    write,
    write_program,
)

from analytics import cli, store
from analytics.load import LoadError, Source, discover, load_sources, sources_for_file
from analytics.store import pseudonym

ROOT = Path(__file__).resolve().parent.parent

IDENTIFIED = {
    "participants": """Client ID,First Name,Last Name,Email,site,enrolled_on,Birth Year
C-1001,Marisol,Vantongeren,marisol.v@example.org,North,2025-01-06,1988
C-1002,Dashiell,Okonkwo-Baptiste,dash.ob@example.net,South,2025-01-13,1975
""",
    "mentors": """Staff ID,Mentor Name,Work Phone,site
E-77,Rosalind Featherstonehaugh,555-201-3344,North
""",
    "pairs": """Match ID,Staff ID,Client ID,matched_on
K-500,E-77,C-1001,2025-01-08
K-501,E-77,C-1002,2025-01-15
""",
    "sessions": """Encounter ID,Match ID,Service Date,Attendance,Notes
ENC-9001,K-500,2025-01-15,attended,talked about her sister Philippa
ENC-9002,K-501,2025-01-20,no show,
""",
}
SECRET_VALUES = [
    "C-1001", "C-1002", "Marisol", "Vantongeren", "marisol.v@example.org", "Dashiell", "Okonkwo-Baptiste",
    "dash.ob@example.net", "1988", "1975", "E-77", "Rosalind", "Featherstonehaugh", "555-201-3344", "K-500",
    "K-501", "ENC-9001", "ENC-9002", "Philippa",
]

# pytest fixtures shared by the load tests
base_store, loaded = load_helpers.base_store, load_helpers.loaded


# Done when: no identifier or source ID anywhere in the store ---------------------------------------------


def test_no_name_email_or_source_id_reaches_the_store(tmp_path):
    folder = tmp_path / "exports"
    for table, text in IDENTIFIED.items():
        write(folder, f"{table}.csv", text)
    db = tmp_path / "s.duckdb"
    messages: list[str] = []
    report = load([folder], db, progress=lambda m, f: messages.append(m))
    stored = all_text(db)  # every text column of every table, audit and meta included
    shown = report.text() + "\n".join(messages)
    for value in SECRET_VALUES:
        # Short values could turn up inside a hex hash by chance: those must not be a whole value.
        found = value in stored if len(value) < 6 else any(value in v for v in stored)
        assert not found, f"{value!r} is in the store"
        assert value not in shown, f"{value!r} is in the report or progress"
    by_table = {t.table: t.dropped_columns for t in report.tables}
    assert by_table["participants"] == ["first_name", "last_name", "email", "birth_year"]
    assert by_table["mentors"] == ["mentor_name", "work_phone"]
    assert by_table["sessions"] == ["notes"]
    assert rows(db, "select count(*) from sessions") == [(2,)]


# Done when: the same folder twice leaves every data table identical -------------------------------------------


def test_loading_the_same_folder_twice_changes_no_data(loaded, tmp_path):
    before = digest(loaded, DATA_TABLES)
    report = load(write_program(tmp_path / "same"), loaded)
    assert not report.changed
    assert digest(loaded, DATA_TABLES) == before
    audit = rows(loaded, "select load_id, outcome, note from load_audit order by load_id")
    assert audit == [(1, "loaded", ""), (2, "unchanged", "nothing changed")]


# Done when: a failed load leaves the store identical --------------------------------------------------------------


def test_failed_load_leaves_the_store_identical(loaded, tmp_path):
    # Valid new participants and pairs, then one bad session: nothing of it may be written.
    folder = write_program(
        tmp_path / "bad",
        participants=PROGRAM["participants"] + "P005,North,2025-03-01,,,,,,,\n",
        sessions=PROGRAM["sessions"] + "S06,R01,2025-03-01,attended,999,phone\n",
    )
    refused([folder], loaded, "sessions.csv row 7, column duration_min")
    assert rows(loaded, "select count(*) from participants") == [(4,)]


# Upserts ------------------------------------------------------------------------------------------------------


def test_changed_rows_are_updated_and_new_ones_inserted(loaded, tmp_path):
    text = PROGRAM["sessions"].replace("S05,R04,2025-02-19,attended,30", "S05,R04,2025-02-19,attended,35")
    text += "S06,R03,2025-02-26,attended,50,phone\n"
    report = load([write(tmp_path / "u", "sessions.csv", text)], loaded)
    t = report.tables[0]
    assert (t.inserted, t.updated, t.unchanged) == (1, 1, 4)
    assert rows(loaded, "select count(*) from sessions") == [(6,)]
    sid = pseudonym.pseudonym("session", "S05", KEY)
    assert rows(loaded, "select duration_min from sessions where session_id = ?", [sid]) == [(35.0,)]
    assert report.already_loaded_on is None and report.changed


def test_audit_rows_hold_counts_and_hashes_but_no_values(loaded, base_store):
    audit = rows(loaded, "select table_name, file_sha256, rows_read, inserted, dropped_columns from load_audit_tables")
    expected = {t: hashlib.sha256(text.encode()).hexdigest() for t, text in PROGRAM.items()}
    assert {a[0]: a[1] for a in audit} == expected
    assert {a[0]: a[3] for a in audit}["sessions"] == 5
    assert rows(loaded, "select loaded_by, source, outcome from load_audit") == [("cli", "csv", "loaded")]


def test_key_check_and_meta_are_written(tmp_path):
    db = tmp_path / "s.duckdb"
    load(write_program(tmp_path / "p"), db, meta={"is_demo": "true"})
    meta = dict(rows(db, "select key, value from schema_meta"))
    assert meta["key_check"] == pseudonym.key_fingerprint(KEY) and meta["is_demo"] == "true"


# Dry runs -------------------------------------------------------------------------------------------------------


def test_dry_run_on_a_new_store_creates_nothing(tmp_path):
    db = tmp_path / "new" / "s.duckdb"
    report = load(write_program(tmp_path / "p"), db, dry_run=True)
    assert report.dry_run and report.load_id is None and report.changed
    assert [t.inserted for t in report.tables] == [4, 2, 4, 5, 3, 4]
    assert report.text().startswith("Dry run")
    assert not db.parent.exists()


def test_dry_run_reports_against_the_store_and_writes_nothing(loaded, tmp_path):
    before = digest(loaded)
    text = PROGRAM["sessions"] + "S06,R04,2025-05-01,attended,50,phone\n"  # outside R04's dates
    report = load([write(tmp_path / "d", "sessions.csv", text)], loaded, dry_run=True)
    t = report.tables[0]
    assert (t.inserted, t.unchanged, t.flagged) == (1, 5, 1)
    assert digest(loaded) == before


def test_dry_run_refuses_like_a_load(loaded, tmp_path):
    text = PROGRAM["sessions"] + "S06,R99,2025-05-01,attended,50,phone\n"
    refused([write(tmp_path / "d", "sessions.csv", text)], loaded, "row 7, column pair_id", dry_run=True)


# Sources ----------------------------------------------------------------------------------------------------------


def test_upload_label_names_the_table_but_never_the_path(tmp_path):
    path = write(tmp_path, "0f3a.upload", PROGRAM["mentors"])
    [source] = sources_for_file(path, label="../../etc/mentors.csv")
    assert source == Source(label="../../etc/mentors.csv", table="mentors", path=path)
    report = load_sources([source], tmp_path / "s.duckdb", key=KEY, today=TODAY)
    assert report.tables[0].inserted == 2


def test_discover_refuses_unknown_names_and_repeats(tmp_path):
    folder = write_program(tmp_path / "p")
    write(folder, "README.csv", "x\n1\n")
    with pytest.raises(LoadError, match="README.csv: the file name does not name a table"):
        discover([folder])
    with pytest.raises(LoadError, match="table mentors is also in"):
        discover([tmp_path / "p" / "mentors.csv", tmp_path / "p" / "mentors.csv"])
    with pytest.raises(LoadError, match="no such file or folder"):
        discover([tmp_path / "missing"])


def test_progress_reports_fractions(tmp_path):
    seen: list[tuple[str, float | None]] = []
    load(write_program(tmp_path / "p"), tmp_path / "s.duckdb", progress=lambda m, f: seen.append((m, f)))
    fractions = [f for _, f in seen if f is not None]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] <= 1


def test_sample_exports_load(tmp_path):
    report = load([ROOT / "data" / "sample"], tmp_path / "s.duckdb", today=date(2026, 1, 1))
    assert [t.table for t in report.tables] == list(DATA_TABLES[:6])
    assert all(t.inserted > 0 for t in report.tables)


# CLI ---------------------------------------------------------------------------------------------------------------


def test_cli_loads_and_prints_the_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(pseudonym.KEY_ENV, KEY.decode())
    db = tmp_path / "s.duckdb"
    code = cli.main(["ingest", str(write_program(tmp_path / "p")), "--db", str(db), "--today", "2026-06-30"])
    out = capsys.readouterr().out
    assert code == 0 and "Load 1: done." in out and "sessions.csv" in out
    code = cli.main(["ingest", str(tmp_path / "p"), "--db", str(db), "--today", "2026-06-30"])
    assert code == 0 and "nothing changed" in capsys.readouterr().out


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(pseudonym.KEY_ENV, KEY.decode())
    folder = write_program(tmp_path / "p", sessions=PROGRAM["sessions"] + "S06,R01,2099-01-01,attended,5,phone\n")
    db = tmp_path / "s.duckdb"
    code = cli.main(["ingest", str(folder), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: sessions.csv row 7, column session_date: is in the future")
    assert not db.exists()


def test_cli_without_key_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.setattr(pseudonym, "SECRETS_PATH", tmp_path / "none.toml")
    code = cli.main(["ingest", str(write_program(tmp_path / "p")), "--db", str(tmp_path / "s.duckdb")])
    assert code == 2 and "no pseudonym key" in capsys.readouterr().err


def test_store_path_defaults_to_the_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    load(write_program(tmp_path / "p"), None)
    assert store.db_path() == db and rows(db, "select count(*) from participants") == [(4,)]


def test_all_tables_are_covered_by_the_digest(loaded):
    tables = {t for (t,) in rows(loaded, "select table_name from information_schema.tables")}
    assert tables == set(ALL_TABLES)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_load_caps_the_database_memory_and_spills_to_its_scratch_folder(tmp_path, monkeypatch, dry_run):
    """Beyond the cap, tables spill to the load's private scratch folder (staging tables hold
    source IDs), never beside the store; the folder is gone after the load."""
    from analytics.load import limits, validate

    seen = []
    check_text = validate.check_text

    def spying(con, *args, **kw):
        seen.append(con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')").fetchone())
        return check_text(con, *args, **kw)

    monkeypatch.setattr(validate, "check_text", spying)
    load(write_program(tmp_path / "exports"), tmp_path / "store.duckdb", dry_run=dry_run)
    assert seen
    limit, spill = seen[0]
    number, unit = limit.split()
    assert unit in ("MiB", "GiB", "KiB") and float(number) * {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit] <= limits.LOAD_MEMORY
    assert Path(spill).name == "spill" and Path(spill).parent.name.startswith("outcomes-load-")
    assert not Path(spill).parent.exists()


def test_the_load_history_counts_whole_rows(loaded, tmp_path):
    from analytics.metrics import admin

    load(write_program(tmp_path / "same"), loaded)
    con = store.connect_read(loaded)
    try:
        history = admin.load_history(con)
    finally:
        con.close()
    # load 1 inserted 4 participants + 2 mentors + 4 pairs + 5 sessions + 3 goals + 4 assessments
    # = 22 rows; load 2, the same files, left those 22 unchanged. Whole numbers, so screens print
    # them as counts ("1,234"), not as the floats a sum of BIGINT (a HUGEINT) reached pandas as.
    counts = ["inserted", "updated", "unchanged", "duplicates_removed", "flagged"]
    assert history[["load_id", *counts]].values.tolist() == [[2, 0, 0, 22, 0, 0], [1, 22, 0, 0, 0, 0]]
    assert all(pd.api.types.is_integer_dtype(history[c]) for c in counts)
