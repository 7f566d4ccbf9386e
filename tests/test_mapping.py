"""Mapping profiles: an export in another system's shape loads, with a profile, to exactly the
store its contract-shaped twin gives; `mapping suggest` drafts the profile; every profile fault
is refused with one line and the store unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import duckdb
import pytest

from analytics import store, summary
from analytics.load import LoadError, suggest
from analytics.load import mapping as mp
from analytics.metrics.scope import resolve_scope
from analytics.store import audit, views
from tests.fixtures.foreign_export import (
    PROFILE_CSV,
    PROFILE_XLSX,
    SAMPLE,
    SHAPES,
    write_csv_export,
    write_xlsx_export,
)
from tests.fixtures.load_helpers import DATA_TABLES, KEY, TODAY, digest, load, refused, rows, write


def _summary(db) -> dict:
    con = views.analysis_connection(store.connect_read(db))
    try:
        return summary.build_summary(con, resolve_scope(con), min_cell=1)
    finally:
        con.close()


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """The contract-shaped sample loaded once: the store every mapped export must equal."""
    folder = tmp_path_factory.mktemp("twin")
    db = folder / "twin.duckdb"
    load(SAMPLE, db)
    return db


@pytest.fixture()
def loaded(twin, tmp_path):
    """A private copy of the twin store, for loads that must leave it unchanged."""
    import shutil

    db = tmp_path / "store.duckdb"
    shutil.copyfile(twin, db)
    return db


@pytest.fixture()
def export(tmp_path):
    folder = write_csv_export(tmp_path / "caseworks")
    profile = write(tmp_path, "caseworks.toml", PROFILE_CSV)
    return folder, profile


def test_csv_folder_in_another_shape_loads_to_the_twin_store(twin, export, tmp_path):
    folder, profile_path = export
    db = tmp_path / "mapped.duckdb"
    report = load(folder, db, mapping=mp.read_profile(profile_path))
    assert digest(db, DATA_TABLES) == digest(twin, DATA_TABLES)
    assert json.dumps(_summary(db), sort_keys=True) == json.dumps(_summary(twin), sort_keys=True)
    # Title rows, the notes column and the client-name column never reach the store.
    by_table = {t.table: t for t in report.tables}
    assert by_table["sessions"].dropped_columns == ["staff_notes"]
    assert by_table["participants"].dropped_columns == ["client_name"]
    assert by_table["sessions"].label == "contacts.csv"
    text = report.text()
    sha = mp.read_profile(profile_path).sha256
    assert f"mapping profile: caseworks.toml (sha256 {sha[:12]})" in text
    # The audit row records the profile and the original files' hashes.
    assert rows(db, "select mapping_profile, mapping_sha256 from load_audit") == [("caseworks.toml", sha)]
    import hashlib
    contacts_sha = hashlib.sha256((folder / "contacts.csv").read_bytes()).hexdigest()
    assert rows(db, "select file_sha256 from load_audit_tables where table_name = 'sessions'") == [(contacts_sha,)]


def test_workbook_with_named_sheets_and_date_cells_loads_to_the_twin_store(twin, tmp_path):
    book = write_xlsx_export(tmp_path / "caseworks.xlsx")
    db = tmp_path / "mapped.duckdb"
    load(book, db, mapping=mp.parse_profile(PROFILE_XLSX, "caseworks-xlsx.toml"))
    assert digest(db, DATA_TABLES) == digest(twin, DATA_TABLES)
    assert _summary(db) == _summary(twin)


def test_loading_the_same_export_again_changes_nothing(export, tmp_path):
    folder, profile_path = export
    db = tmp_path / "mapped.duckdb"
    profile = mp.read_profile(profile_path)
    load(folder, db, mapping=profile)
    before = digest(db, DATA_TABLES)
    again = load(folder, db, mapping=profile)
    assert not again.changed and again.already_loaded_on
    assert digest(db, DATA_TABLES) == before


def test_cli_ingest_with_mapping_and_audit_trail(export, tmp_path, monkeypatch):
    folder, profile_path = export
    db = tmp_path / "cli.duckdb"
    trail = tmp_path / "audit.jsonl"
    env = {"OUTCOMES_PSEUDONYM_KEY": KEY.decode(), audit.AUDIT_ENV: str(trail), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", str(folder), "--mapping", str(profile_path), "--db", str(db),
         "--today", TODAY.isoformat()],
        capture_output=True, text=True, env=env, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "mapping profile: caseworks.toml" in out.stdout
    entry = json.loads(trail.read_text().splitlines()[-1])
    assert entry["what"]["mapping_profile"] == "caseworks.toml"
    assert entry["what"]["mapping_sha256"] == mp.read_profile(profile_path).sha256
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "ingest", str(folder), "--db", str(tmp_path / "x.duckdb")],
        capture_output=True, text=True, env=env, check=False,
    )
    # Without the profile the export is refused as today (its file names name no table).
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "does not name a table" in bad.stderr


# ---------------------------------------------------------------------------------------------
# suggest
# ---------------------------------------------------------------------------------------------


def test_suggest_proposes_the_unambiguous_columns(export):
    folder, _ = export
    text = suggest.suggest_text([folder])
    doc = tomllib.loads(text)  # the draft is valid TOML as printed
    tables = doc["tables"]
    for table, (file, _sheet, _cols) in SHAPES.items():
        assert tables[table]["file"] == file
        assert tables[table]["header_row"] == 3
    # Every header named as the contract or another system names it is decided (a plain line).
    decided = [line for line in text.splitlines() if "=" in line and not line.startswith("#") and "#" not in line]
    for line in ('session_id = "Contact ID"', 'pair_id = "Match ID"', 'session_date = "Date of Service"',
                 'status = "Contact Outcome"', 'duration_min = "Minutes"', 'participant_id = "Client ID"',
                 'mentor_id = "Peer Specialist"', 'mentor_id = "Peer Specialist ID"', 'site = "Program Location"',
                 'session_date = "%m/%d/%Y"', '"No Show" = "no_show"', '"Telephone" = "phone"'):
        assert line in decided, line
    # What it could not decide is a comment line: the notes column, "Showed".
    assert '# ? = "Staff Notes"' in text
    assert '# "Showed" = ?' in text
    assert "Client Name" in text and "client_name = " not in text
    # Cell values of other columns never appear: IDs, notes, dates, the client names' values.
    for value in ("S0001", "R001", "Talked about housing", "Client 0001", "1/15/2025", "Northside"):
        assert value not in text


def test_suggest_finds_the_sheets_of_a_workbook(tmp_path):
    book = write_xlsx_export(tmp_path / "caseworks.xlsx")
    doc = tomllib.loads(suggest.suggest_text([book]))
    assert {t: v["sheet"] for t, v in doc["tables"].items()} == {t: s for t, (_f, s, _c) in SHAPES.items()}
    assert doc["tables"]["sessions"]["columns"]["session_date"] == "Date of Service"
    # Real date cells need no format; text dates get theirs.
    assert "session_date" not in doc["tables"]["sessions"].get("dates", {})
    assert doc["tables"]["goals"]["dates"]["set_on"] == "%m/%d/%Y"


def test_suggest_cli(export):
    folder, _ = export
    out = subprocess.run([sys.executable, "-m", "analytics", "mapping", "suggest", str(folder)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert tomllib.loads(out.stdout)["tables"]["sessions"]["file"] == "contacts.csv"


def test_suggest_never_prints_a_data_row_taken_for_a_header(tmp_path):
    folder = write_csv_export(tmp_path / "caseworks")
    lines = (folder / "contacts.csv").read_text().splitlines()
    (folder / "contacts.csv").write_text("\n".join(lines[3:]) + "\n")  # no title, no header
    text = suggest.suggest_text([folder / "contacts.csv"])
    assert "no row looks like a header (row 1 names no column)" in text
    for value in ("S0001", "R001", "Showed", "1/15/2025", "Talked about housing"):
        assert value not in text


def test_suggest_dates_day_first_and_undecided():
    grid = mp.Grid("x.csv", "csv", "", [(1, ["d"]), (2, ["13/01/2025"]), (3, ["02/03/2025"])])
    assert suggest.guess_date(grid, 1, "d").fmt == "%d/%m/%Y"
    grid = mp.Grid("x.csv", "csv", "", [(1, ["d"]), (2, ["01/02/2025"]), (3, ["02/03/2025"])])
    g = suggest.guess_date(grid, 1, "d")
    assert not g.decided and "%d/%m/%Y" in g.note
    iso = mp.Grid("x.csv", "csv", "", [(1, ["d"]), (2, ["2025-01-02"])])
    assert suggest.guess_date(iso, 1, "d") is None


def test_values_are_listed_only_for_label_like_columns():
    many = [(1, ["who"])] + [(n + 2, [f"Person {n}"]) for n in range(suggest.MAX_LABELS + 1)]
    assert mp.distinct_labels(mp.Grid("x.csv", "csv", "", many), 1, "who", suggest.MAX_LABELS) is None
    emails = [(1, ["outcome"]), (2, ["a.person@example.org"]), (3, ["Showed"])]
    assert mp.distinct_labels(mp.Grid("x.csv", "csv", "", emails), 1, "outcome", 30) is None
    ok = [(1, ["outcome"]), (2, ["Showed"]), (3, ["No Show"]), (4, ["Showed"]), (5, ["NA"])]
    assert mp.distinct_labels(mp.Grid("x.csv", "csv", "", ok), 1, "outcome", 30) == ["No Show", "Showed"]


# ---------------------------------------------------------------------------------------------
# Every profile fault: one line, the store unchanged
# ---------------------------------------------------------------------------------------------


def _with(profile: str, old: str, new: str) -> str:
    assert old in profile, old
    return profile.replace(old, new, 1)


FAULTS = [
    ("lacks", _with(PROFILE_CSV, 'session_date = "Date of Service"', 'session_date = "Service Date Time"'),
     ("maps session_date to the header 'Service Date Time'", "contacts.csv does not have")),
    ("two headers, one column", _with(PROFILE_CSV, 'duration_min = "Minutes"', 'duration_min = "Date of Service"'),
     ("maps the header 'Date of Service' that session_date maps already",)),
    ("header also by name", _with(PROFILE_CSV, 'modality = "Contact Method"', 'modality = "Staff Notes"').replace(
        'columns = ["Staff Notes"]', 'columns = ["Contact Method"]'), None),
    ("outside the codebook", _with(PROFILE_CSV, '"Showed" = "attended"', '"Showed" = "present"'),
     ("maps a value to something outside the session_status codebook", "allowed: attended, no_show, cancelled")),
    ("unknown key", _with(PROFILE_CSV, "header_row = 3\n", "header_row = 3\nheader_rows = 3\n"),
     ("unknown key 'header_rows'",)),
    ("unknown top key", "version = 2\n" + PROFILE_CSV, ("top level: unknown key 'version'",)),
    ("bad toml", _with(PROFILE_CSV, '"Showed" = "attended"', '"Showed" = attended'), ("not valid TOML",)),
    ("not a table", _with(PROFILE_CSV, "[tables.sessions]", "[tables.contacts]").replace(
        "[tables.sessions.", "[tables.contacts."), ("'contacts' is not a table",)),
    ("not a column", _with(PROFILE_CSV, 'duration_min = "Minutes"', 'minutes_long = "Minutes"'),
     ("'minutes_long' is not a column of sessions",)),
    ("values of a non-codebook column", _with(PROFILE_CSV, "[tables.sessions.values.status]",
                                              "[tables.sessions.values.duration_min]"),
     ("'duration_min' is not a codebook column of sessions",)),
    ("two-digit year", _with(PROFILE_CSV, 'session_date = "%m/%d/%Y"', 'session_date = "%m/%d/%y"'),
     ("a two-digit year (%y) is ambiguous",)),
    # Read day-first, the sample's session dates fail where the day is over 12: 1/15, 1/22, 1/20,
    # 2/19, 3/26, 4/16 -- six rows, the first in row 4 (two title rows, then the header).
    ("wrong date format", _with(PROFILE_CSV, 'session_date = "%m/%d/%Y"', 'session_date = "%d/%m/%Y"'),
     ("contacts.csv row 4, column session_date: is not a date in the profile's format %d/%m/%Y (and 5 more rows)",)),
    # A table whose file is not given is skipped (a load may carry any subset of the tables), so
    # contacts.csv is then read as it is, and refused as today.
    ("file not given", _with(PROFILE_CSV, 'file = "contacts.csv"', 'file = "contacts_june.csv"'),
     ("contacts.csv: the file name does not name a table",)),
    ("drop lacks", _with(PROFILE_CSV, 'columns = ["Staff Notes"]', 'columns = ["Staff Comments"]'),
     ("drops the header 'Staff Comments', which contacts.csv does not have",)),
    ("mapped and dropped", _with(PROFILE_CSV, 'columns = ["Staff Notes"]', 'columns = ["Minutes"]'),
     ("the header 'Minutes' is both mapped and dropped",)),
    ("header row wrong", _with(PROFILE_CSV, 'file = "contacts.csv"\nheader_row = 3', 'file = "contacts.csv"\nheader_row = 2'),
     None),
    ("unmapped column", _with(PROFILE_CSV, 'columns = ["Staff Notes"]', "columns = []"),
     ("contacts.csv row 3: unknown columns staff_notes",)),
    ("an identifier under a contract name", _with(PROFILE_CSV, 'site = "Program Location"', 'site = "Client Name"'),
     ("maps site to the header 'Client Name', which looks like a direct identifier",)),
    ("header_row not a number", _with(PROFILE_CSV, "header_row = 3", 'header_row = "3"'),
     ("header_row: must be a whole number",)),
]


@pytest.mark.parametrize("text, fragments", [(t, f) for _, t, f in FAULTS], ids=[n for n, _, _ in FAULTS])
def test_every_profile_fault_is_refused_in_one_line(loaded, tmp_path, text, fragments):
    folder = write_csv_export(tmp_path / "caseworks")
    secrets = ("Talked about housing", "S0001", "Client 0001", "1/15/2025")

    def run():
        return mp.parse_profile(text, "caseworks.toml")

    try:
        profile = run()
    except LoadError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("mapping profile caseworks.toml: ")
        for fragment in fragments or ():
            assert fragment in message, (fragment, message)
        return
    message = refused(folder, loaded, *(fragments or ()), secrets=secrets, mapping=profile)
    assert message


def test_a_header_named_after_a_mapped_column_is_two_headers_for_one_column(loaded, tmp_path):
    folder = write_csv_export(tmp_path / "caseworks")
    text = (folder / "contacts.csv").read_text().replace("Staff Notes", "Duration")
    (folder / "contacts.csv").write_text(text)
    profile = mp.parse_profile(PROFILE_CSV.replace('columns = ["Staff Notes"]', "columns = []"), "p.toml")
    refused(folder, loaded, "two headers map to duration_min: 'Minutes' (by the profile) and duration (by its name)",
            mapping=profile)


def test_a_profile_of_six_tables_maps_a_load_of_one(loaded, tmp_path):
    # Next month only the contacts come: the other tables are in the store already.
    folder = write_csv_export(tmp_path / "caseworks")
    report = load(folder / "contacts.csv", loaded, mapping=mp.parse_profile(PROFILE_CSV, "caseworks.toml"))
    assert [(t.table, t.rows_read, t.unchanged) for t in report.tables] == [("sessions", 11, 11)]


def test_a_profile_that_fits_none_of_the_files_is_refused(loaded, tmp_path):
    folder = write_csv_export(tmp_path / "caseworks")
    profile = mp.parse_profile('[tables.sessions]\nfile = "visits.csv"\n', "p.toml")
    refused(folder / "contacts.csv", loaded, "mapping profile p.toml: names none of the files given (contacts.csv); "
            "it maps visits.csv", mapping=profile)


def test_profile_file_faults(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        mp.read_profile(tmp_path / "missing.toml")
    with pytest.raises(LoadError, match="not UTF-8"):
        mp.parse_profile(b"\xff\xfe[tables]", "p.toml")
    with pytest.raises(LoadError, match="maps no table"):
        mp.parse_profile("", "p.toml")
    with pytest.raises(LoadError, match="larger than"):
        mp.parse_profile("#" * (mp.MAX_PROFILE_BYTES + 1), "p.toml")


def test_dump_profile_round_trips_and_is_kept_beside_the_store(tmp_path):
    profile = mp.parse_profile(PROFILE_CSV, "caseworks.toml")
    text = mp.dump_profile(list(profile.tables.values()))
    again = mp.parse_profile(text, "again.toml")
    assert again.tables == profile.tables
    db = tmp_path / "outcomes.duckdb"
    assert mp.saved_profile(db) is None
    path = mp.save_profile(again, db)
    assert path == tmp_path / "outcomes.mapping.toml"
    assert mp.saved_profile(db).tables == profile.tables


def test_a_refused_mapped_load_leaves_no_copies_behind(loaded, tmp_path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    folder = write_csv_export(tmp_path / "caseworks")
    profile = mp.parse_profile(PROFILE_CSV.replace('columns = ["Staff Notes"]', "columns = []"), "p.toml")
    refused(folder, loaded, "unknown columns staff_notes", mapping=profile)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_schema_migration_adds_the_profile_columns_to_an_old_store(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    for sql in store.MIGRATIONS[0][1]:
        con.execute(sql)
    con.execute("insert into schema_meta values ('schema_version', '1')")
    con.close()
    con = duckdb.connect(str(db))
    assert store.migrate(con) == store.SCHEMA_VERSION
    cols = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                      "where table_name = 'load_audit'").fetchall()}
    assert {"mapping_profile", "mapping_sha256"} <= cols
    con.close()
