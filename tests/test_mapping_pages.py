"""The Data page's mapping step in Streamlit's AppTest: an upload in another system's shape is
mapped (pre-filled from the draft, three choices made by hand), checked, loaded, and the next
upload in the same shape maps itself with the profile kept beside the store."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
import streamlit
import tiny_program
from fixtures.foreign_export import write_csv_export
from fixtures.load_helpers import KEY, rows
from test_pages import open_app, shown, texts

from analytics.load import mapping as mp
from analytics.store import pseudonym

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
# Cell values of the export that the page must never show (IDs, notes, names, dates, sites).
NEVER_SHOWN = ("S0001", "R001", "Talked about housing", "Left a voicemail", "1/15/2025", "P0001", "Northside")


class _Upload:
    """What st.file_uploader returns, for a file on disk."""

    def __init__(self, path):
        self.name, self._data = path.name, path.read_bytes()
        self.size = len(self._data)
        self.file_id = hashlib.sha256(self.name.encode() + self._data).hexdigest()[:16]

    def getvalue(self) -> bytes:
        return self._data


@pytest.fixture()
def mixed_upload(tmp_path):
    """contacts.csv in another system's shape, the other five tables as the contract has them."""
    foreign = write_csv_export(tmp_path / "caseworks")
    paths = [foreign / "contacts.csv"] + [SAMPLE / f"{t}.csv" for t in ("participants", "mentors", "pairs",
                                                                           "goals", "assessments")]
    return [_Upload(p) for p in paths]


@pytest.fixture()
def fresh_store(tmp_path, monkeypatch):
    db = tiny_program.build(tmp_path / "store.duckdb")
    monkeypatch.setenv("OUTCOMES_DB", str(db))
    # Uploads are saved under a private temporary folder, out of reach of any other process's
    # clean-up of the machine's one.
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setenv(pseudonym.KEY_ENV, KEY.decode())
    return db


def _upload(monkeypatch, files) -> None:
    real = streamlit.file_uploader

    def fake(label, *args, **kwargs):
        real(label, *args, **kwargs)  # the widget is still drawn (and disabled without a key)
        return files

    monkeypatch.setattr(streamlit, "file_uploader", fake)


def _by_label(at, label):
    [box] = [s for s in at.selectbox if s.label == label]
    return box


def test_mapping_step_end_to_end(fresh_store, mixed_upload, monkeypatch):
    _upload(monkeypatch, mixed_upload)
    at = open_app("data")
    said = texts(at)
    assert "These files cannot be loaded as they are: contacts.csv: the file name does not name a table" in said
    assert "Map these files onto the data contract" in said
    assert "Read as they are (already in the contract's shape): participants.csv, mentors.csv" in said
    # Pre-filled from the draft: the table, the header row under the two title rows, the columns.
    assert _by_label(at, "Table it feeds").value == "sessions"
    assert at.number_input[0].value == 3
    assert _by_label(at, "Column for Date of Service").value == "session_date"
    assert _by_label(at, "Column for Contact Outcome").value == "status"
    assert _by_label(at, "Date format of Date of Service").value == "%m/%d/%Y"
    assert _by_label(at, "Codebook value for No Show").value == "no_show"
    # Not decided by the draft: the notes column and two spellings.
    assert _by_label(at, "Column for Staff Notes").value is None
    assert _by_label(at, "Codebook value for Showed").value is None
    # Only headers and codebook labels are shown; the notes' values never are.
    shown_labels = {s.label for s in at.selectbox}
    assert "Codebook value for Canceled by client" in shown_labels
    for value in NEVER_SHOWN:
        assert value not in said and all(value not in label for label in shown_labels)

    # Checking with a header left unchosen is refused as any unknown column is.
    [check] = [b for b in at.button if b.label == "Check with this mapping"]
    check.click().run()
    assert any("unknown columns staff_notes" in shown(e) for e in at.error)

    _by_label(at, "Column for Staff Notes").set_value("drop (never stored)")
    _by_label(at, "Codebook value for Showed").set_value("attended")
    _by_label(at, "Codebook value for Office visit").set_value("in_person")
    [check] = [b for b in at.button if b.label == "Check with this mapping"]
    check.click().run()
    assert not at.exception, [e.value for e in at.exception]
    said = texts(at)
    assert "Check passed." in said
    [report] = [c.value for c in at.code]
    assert "contacts.csv      -> sessions: 11 rows read, 11 inserted" in report
    assert "dropped columns (never stored): staff_notes" in report
    assert "mapping profile: store.mapping.toml (sha256 " in report
    assert "Read in the export's own shape with the mapping profile store.mapping.toml." in said
    assert at.get("download_button")

    [confirm] = [b for b in at.button if b.label == "Confirm and load"]
    confirm.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("next month's upload in this shape maps itself" in shown(s) for s in at.success)
    saved = mp.saved_profile(fresh_store)
    assert saved is not None and saved.name == "store.mapping.toml"
    assert saved.tables["sessions"].values["status"] == {
        "Canceled by client": "cancelled", "No Show": "no_show", "Showed": "attended"}
    assert saved.tables["sessions"].drop == ("Staff Notes",)
    assert rows(fresh_store, "select mapping_profile, mapping_sha256 from load_audit") == [
        ("store.mapping.toml", saved.sha256)]
    assert rows(fresh_store, "select count(*) from sessions")[0][0] == 12 + 11  # tiny program + the export


def test_next_months_upload_maps_itself(fresh_store, mixed_upload, monkeypatch):
    profile = mp.parse_profile(
        '[tables.sessions]\nfile = "contacts.csv"\nheader_row = 3\n'
        '[tables.sessions.columns]\nsession_id = "Contact ID"\npair_id = "Match ID"\n'
        'session_date = "Date of Service"\nstatus = "Contact Outcome"\nduration_min = "Minutes"\n'
        'modality = "Contact Method"\n'
        '[tables.sessions.values.status]\n"Showed" = "attended"\n"No Show" = "no_show"\n'
        '"Canceled by client" = "cancelled"\n'
        '[tables.sessions.values.modality]\n"Office visit" = "in_person"\n"Telehealth (video)" = "video"\n'
        '"Telephone" = "phone"\n"Group session" = "group"\n"Text message" = "text"\n'
        '[tables.sessions.dates]\nsession_date = "%m/%d/%Y"\n'
        '[tables.sessions.drop]\ncolumns = ["Staff Notes"]\n',
        "store.mapping.toml",
    )
    mp.save_profile(profile, fresh_store)
    _upload(monkeypatch, mixed_upload)
    at = open_app("data")
    said = texts(at)
    assert "Check passed." in said and "Map these files" not in said
    assert "mapping profile store.mapping.toml" in said
    assert not at.error


def test_a_saved_profile_that_does_not_fit_says_why_and_the_step_follows(fresh_store, mixed_upload, monkeypatch):
    mp.save_profile(mp.parse_profile('[tables.sessions]\nfile = "visits.csv"\n', "store.mapping.toml"), fresh_store)
    _upload(monkeypatch, mixed_upload)
    at = open_app("data")
    said = texts(at)
    assert ("The mapping profile kept beside the store does not fit these files: mapping profile "
            "store.mapping.toml: names none of the files given") in said
    assert "Map these files onto the data contract" in said


def test_the_mapping_step_needs_a_role_that_may_load(fresh_store, mixed_upload, monkeypatch, tmp_path):
    # Without a pseudonym key nothing is checked, so no mapping step either.
    monkeypatch.delenv(pseudonym.KEY_ENV)
    monkeypatch.setattr(pseudonym, "SECRETS_PATH", tmp_path / "secrets.toml")
    _upload(monkeypatch, mixed_upload)
    at = open_app("data")
    assert "Map these files" not in texts(at)
