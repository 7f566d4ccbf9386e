"""Columns and values. Each bad value is refused naming file, row and column,
never echoing the value; the store is unchanged. Tolerated variants are normalized."""

from __future__ import annotations

from datetime import date

import pytest
from fixtures import load_helpers
from fixtures.load_helpers import (
    KEY,
    PROGRAM,
    all_text,
    digest,
    load,
    refused,
    rows,
    write,
    write_program,
)

from analytics.load import LoadError
from analytics.store import pseudonym

SESSIONS = "session_id,pair_id,session_date,status,duration_min,modality\n"
PARTICIPANTS = "participant_id,site,enrolled_on\n"

# pytest fixtures shared by the load tests
base_store, loaded = load_helpers.base_store, load_helpers.loaded


def _csv(tmp_path, name: str, text: str):
    return [write(tmp_path / "in", f"{name}.csv", text)]


# 11. Missing or renamed required columns -----------------------------------------------------------


def test_aliases_are_mapped(loaded, tmp_path):
    text = "Contact ID,Match ID,Service Date,Attendance,Minutes,Contact Type\nS09,R01,2025-03-01,attended,30,phone\n"
    report = load(_csv(tmp_path, "sessions", text), loaded)
    assert report.tables[0].inserted == 1
    assert (date(2025, 3, 1), 30.0) in rows(loaded, "select session_date, duration_min from sessions")


def test_missing_required_columns_are_listed(loaded, tmp_path):
    text = "session_id,session_date,duration_min\nS09,2025-03-01,30\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 1", "missing required columns pair_id, status")


def test_duplicate_columns_after_normalizing_are_refused(loaded, tmp_path):
    text = "session_id,pair_id,Session Date,session-date,status\nS09,R01,2025-03-01,2025-03-01,attended\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "row 1", "columns 3 and 4 both map to session_date")


def test_file_without_header_is_refused_without_echoing_it(loaded, tmp_path):
    text = "P777,North,2025-01-01\nP778,South,2025-01-02\n"
    refused(_csv(tmp_path, "participants", text), loaded, "participants.csv row 1", "does not look like a header",
            secrets=("P777", "north"))


# 12. Unknown new columns -----------------------------------------------------------------------------


def test_unknown_columns_are_refused_and_listed(loaded, tmp_path):
    text = PARTICIPANTS.strip() + ",housing_status,risk score\nP9,North,2025-01-01,stable,3\n"
    refused(_csv(tmp_path, "participants", text), loaded, "participants.csv row 1",
            "unknown columns housing_status, risk_score")


def test_known_identifier_columns_are_dropped_and_named(loaded, tmp_path):
    text = "participant_id,First Name,site,E-mail,enrolled_on,Case Notes\nP9,Zelda,North,z@x.org,2025-01-01,relapsed\n"
    report = load(_csv(tmp_path, "participants", text), loaded)
    assert report.tables[0].dropped_columns == ["first_name", "e_mail", "case_notes"]
    assert "dropped columns (never stored): first_name, e_mail, case_notes" in report.text()
    assert not {"Zelda", "z@x.org", "relapsed"} & set(all_text(loaded))


# 13. Type errors ---------------------------------------------------------------------------------------


def test_only_contract_null_tokens_mean_empty(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,no_show,N/A,NA\nS10,R01,2025-03-08,no_show, null ,\n"
    load(_csv(tmp_path, "sessions", text), loaded)
    got = rows(loaded, "select duration_min, modality from sessions where session_date >= '2025-03-01'")
    assert got == [(None, None), (None, None)]


@pytest.mark.parametrize("value", ["-", "45 min", "n.a.", "1,5", "nan"])
def test_text_in_numbers_names_the_cell(loaded, tmp_path, value):
    text = SESSIONS + "S09,R01,2025-03-01,attended,30,phone\n" + f'S10,R01,2025-03-08,attended,"{value}",phone\n'
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 3, column duration_min", "not a number")


# 14. Ambiguous dates --------------------------------------------------------------------------------------


def test_ambiguous_day_month_is_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,03/04/2025,attended,30,phone\nS10,R01,04/03/2025,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 2, column session_date", "ambiguous",
            "(and 1 more row)")


def test_two_digit_years_are_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,attended,30,phone\nS10,R01,3/14/25,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 3, column session_date", "two-digit year")


def test_unambiguous_month_day_year_column_is_accepted(loaded, tmp_path):
    text = SESSIONS + "S09,R01,3/4/2025,attended,30,phone\nS10,R01,3/14/2025,attended,30,phone\n"
    load(_csv(tmp_path, "sessions", text), loaded)
    got = {d for (d,) in rows(loaded, "select session_date from sessions")}
    assert {date(2025, 3, 4), date(2025, 3, 14)} <= got


def test_mixed_date_forms_are_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-04,attended,30,phone\nS10,R01,3/14/2025,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "row 3, column session_date", "only when every date")


def test_day_month_year_column_is_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,14/3/2025,attended,30,phone\nS10,R01,4/3/2025,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "row 2, column session_date", "day/month/year")


def test_not_a_date(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-02-30,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "row 2, column session_date", "is not a date")


# 15. Identifier columns ---------------------------------------------------------------------------------


def test_every_identifier_column_is_dropped(loaded, tmp_path):
    text = (
        "participant_id,site,enrolled_on,Last Name,Phone,SSN,Street Address,DOB,MRN,ZIP,Medicaid ID\n"
        "P9,North,2025-01-01,Quixote,555-867-5309,123-45-6789,1 Elm St,1980-05-17,MRN0042,02139,MCD-77\n"
    )
    report = load(_csv(tmp_path, "participants", text), loaded, today=date(2026, 6, 30))
    dropped = report.tables[0].dropped_columns
    assert {"last_name", "phone", "ssn", "street_address", "dob", "mrn", "zip", "medicaid_id"} <= set(dropped)
    stored = set(all_text(loaded))
    for value in ("Quixote", "555-867-5309", "123-45-6789", "1 Elm St", "1980-05-17", "MRN0042", "02139", "MCD-77"):
        assert value not in stored


def test_unknown_id_column_is_refused_not_kept(loaded, tmp_path):
    text = "participant_id,site,enrolled_on,housing_id\nP9,North,2025-01-01,H-77\n"
    refused(_csv(tmp_path, "participants", text), loaded, "unknown columns housing_id", secrets=("H-77",))


# 16. Identifier-looking values inside other fields -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [("jane.doe@example.org", "an email address"), ("123-45-6789", "a social security number"),
     ("(555) 867-5309", "a phone number"), ("call 555.867.5309", "a phone number")],
)
def test_identifier_values_in_free_text_are_refused(loaded, tmp_path, value, kind):
    text = "participant_id,site,enrolled_on,referral_source\nP9,North,2025-01-01,court\n" \
           f"P10,North,2025-01-01,{value}\n"
    refused(_csv(tmp_path, "participants", text), loaded, "participants.csv row 3, column referral_source",
            f"looks like {kind}", secrets=(value,))


def test_ordinary_text_with_numbers_is_fine(loaded, tmp_path):
    text = "participant_id,site,enrolled_on,funding_stream\nP9,Site 12,2025-01-01,SOR 2024-2025\n"
    load(_csv(tmp_path, "participants", text), loaded)


# 17. Source IDs -------------------------------------------------------------------------------------------


def test_source_ids_are_replaced_by_keyed_pseudonyms(loaded):
    stored = set(all_text(loaded))
    for table, text in PROGRAM.items():
        for line in text.strip().splitlines()[1:]:
            for value in line.split(","):
                if value[:1] in "PMRSGA" and value[1:].isdigit():
                    assert value not in stored, f"source id of {table} stored"
    assert ("pt_" + pseudonym.pseudonym("participant", "P001", KEY)[3:],) in rows(
        loaded, "select participant_id from participants")
    pair = rows(loaded, "select mentor_id, participant_id from pairs where pair_id = ?",
                [pseudonym.pseudonym("pair", "R01", KEY)])
    assert pair == [(pseudonym.pseudonym("mentor", "M01", KEY), pseudonym.pseudonym("participant", "P001", KEY))]


def test_no_key_no_load(tmp_path, monkeypatch):
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.setattr(pseudonym, "SECRETS_PATH", tmp_path / "absent.toml")
    db = tmp_path / "s.duckdb"
    with pytest.raises(pseudonym.MissingKey, match=pseudonym.KEY_ENV):
        load(write_program(tmp_path / "p"), db, key=None)
    assert not db.exists()


# 18. Ages and dates of birth ------------------------------------------------------------------------------


def test_birth_year_becomes_an_age_band(loaded, tmp_path):
    text = "participant_id,site,enrolled_on,birth_year\nP9,North,2025-01-01,1990\nP10,North,2025-01-01,1931\n"
    report = load(_csv(tmp_path, "participants", text), loaded)
    assert report.tables[0].dropped_columns == ["birth_year"]
    bands = rows(loaded, "select participant_id, age_band from participants")
    assert (pseudonym.pseudonym("participant", "P9", KEY), "35-44") in bands
    assert (pseudonym.pseudonym("participant", "P10", KEY), "65+") in bands  # 94: top-coded


def test_dob_becomes_an_age_band_and_is_never_kept(loaded, tmp_path):
    text = "participant_id,site,enrolled_on,Date of Birth\nP9,North,2025-01-01,1980-05-17\n"
    load(_csv(tmp_path, "participants", text), loaded)
    assert (pseudonym.pseudonym("participant", "P9", KEY), "35-44") in rows(
        loaded, "select participant_id, age_band from participants")
    assert "1980-05-17" not in all_text(loaded)
    assert (date(1980, 5, 17),) not in rows(loaded, "select enrolled_on from participants")


def test_age_over_89_is_top_coded(loaded, tmp_path):
    text = "participant_id,site,enrolled_on,age\nP9,North,2025-01-01,93\n"
    load(_csv(tmp_path, "participants", text), loaded)
    assert (pseudonym.pseudonym("participant", "P9", KEY), "65+") in rows(
        loaded, "select participant_id, age_band from participants")


def test_under_18_is_refused(loaded, tmp_path):
    text = "participant_id,site,enrolled_on,age\nP9,North,2025-01-01,17\n"
    refused(_csv(tmp_path, "participants", text), loaded, "row 2, column age", "under 18")


# 19. Duplicates ------------------------------------------------------------------------------------------


def test_exact_duplicates_are_removed_and_counted(loaded, tmp_path):
    row = "S09,R01,2025-03-01,attended,30,phone\n"
    report = load(_csv(tmp_path, "sessions", SESSIONS + row + row + row), loaded)
    assert (report.tables[0].inserted, report.tables[0].duplicates_removed) == (1, 2)
    assert "2 exact duplicate rows removed" in report.text()


def test_same_key_different_values_is_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,attended,30,phone\nS10,R01,2025-03-02,attended,30,phone\n" \
           "S09,R01,2025-03-01,attended,45,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 4, column session_id",
            "the same session_id as row 2 but with different values", secrets=("S09",))


# 20. The same file again ------------------------------------------------------------------------------------


def test_same_files_again_change_nothing(loaded, tmp_path):
    from fixtures.load_helpers import DATA_TABLES

    before = digest(loaded, DATA_TABLES)
    report = load(write_program(tmp_path / "again"), loaded)
    assert not report.changed and report.already_loaded_on
    assert report.text().startswith(f"already loaded on {report.already_loaded_on}: nothing changed")
    assert all(t.inserted == t.updated == 0 for t in report.tables)
    assert digest(loaded, DATA_TABLES) == before


# 21. Orphans ---------------------------------------------------------------------------------------------------


def test_orphan_is_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,attended,30,phone\nS10,R99,2025-03-01,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 3, column pair_id",
            "no such pair in this load or in the store", secrets=("R99",))


def test_references_resolve_in_the_store(loaded, tmp_path):
    report = load(_csv(tmp_path, "sessions", SESSIONS + "S09,R02,2025-03-01,attended,30,phone\n"), loaded)
    assert report.tables[0].inserted == 1


def test_file_order_never_matters(tmp_path):
    # Children named first on the command line, parents last, into an empty store.
    folder = write_program(tmp_path / "p")
    names = ["assessments", "goals", "sessions", "pairs", "mentors", "participants"]
    report = load([folder / f"{n}.csv" for n in names], tmp_path / "s.duckdb")
    assert report.changed


def test_orphan_parent_missing_from_empty_store(tmp_path):
    folder = write_program(tmp_path / "p", participants=None)
    refused([folder], tmp_path / "s.duckdb", "pairs.csv row 2, column participant_id", "no such participant")


# 22. Sessions outside their pair's dates --------------------------------------------------------------------------


def test_session_outside_pair_dates_is_kept_and_flagged(loaded, tmp_path):
    text = SESSIONS + "S09,R04,2025-05-01,attended,30,phone\n"  # R04 closed 2025-04-21
    report = load(_csv(tmp_path, "sessions", text), loaded)
    assert report.tables[0].inserted == 1 and report.tables[0].flagged == 1
    assert "flagged" in report.text()
    sid = pseudonym.pseudonym("session", "S09", KEY)
    assert rows(loaded, "select finding, table_name, record_id from dq_findings") == [
        ("session_outside_pair_dates", "sessions", sid)]
    # A later pairs load that moves the closing date clears the finding.
    pairs = PROGRAM["pairs"].replace("R04,M02,P004,2025-02-12,2025-04-21", "R04,M02,P004,2025-02-12,2025-05-21")
    load(_csv(tmp_path / "b", "pairs", pairs), loaded)
    assert rows(loaded, "select count(*) from dq_findings") == [(0,)]


# 23. Future or pre-2000 dates -------------------------------------------------------------------------------------


def test_future_date_is_refused(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,attended,30,phone\nS10,R01,2026-07-01,attended,30,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 3, column session_date",
            "in the future (after 2026-06-30)")


def test_pre_2000_date_is_refused(loaded, tmp_path):
    text = "mentor_id,site,certified_on\nM09,East,1999-12-31\n"
    refused(_csv(tmp_path, "mentors", text), loaded, "mentors.csv row 2, column certified_on", "before 2000-01-01")


def test_goal_target_may_be_in_the_future(loaded, tmp_path):
    text = "goal_id,pair_id,domain,set_on,target_on\nG09,R01,home,2026-06-01,2026-12-01\n"
    assert load(_csv(tmp_path, "goals", text), loaded).tables[0].inserted == 1


# 24. End before start, durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "text", "where", "what"),
    [
        ("pairs", "pair_id,mentor_id,participant_id,matched_on,closed_on\nR09,M01,P001,2025-03-01,2025-02-01\n",
         "row 2, column closed_on", "before matched_on"),
        ("participants", PARTICIPANTS.strip() + ",exited_on\nP9,North,2025-03-01,2025-02-01\n",
         "row 2, column exited_on", "before enrolled_on"),
        ("goals", "goal_id,pair_id,domain,set_on,status,achieved_on\nG9,R01,home,2025-03-01,achieved,2025-02-01\n",
         "row 2, column achieved_on", "before set_on"),
        ("sessions", SESSIONS + "S09,R01,2025-03-01,attended,-5,phone\n", "row 2, column duration_min",
         "outside the allowed range 0 to 600"),
        ("sessions", SESSIONS + "S09,R01,2025-03-01,attended,601,phone\n", "row 2, column duration_min",
         "outside the allowed range"),
        ("goals", "goal_id,pair_id,domain,set_on,status,achieved_on\nG9,R01,home,2025-03-01,open,2025-04-01\n",
         "row 2, column achieved_on", "status is not achieved"),
        ("goals", "goal_id,pair_id,domain,set_on,status,achieved_on\nG9,R01,home,2025-03-01,achieved,\n",
         "row 2, column achieved_on", "empty but the goal's status is achieved"),
    ],
)
def test_impossible_spans_are_refused(loaded, tmp_path, table, text, where, what):
    refused(_csv(tmp_path, table, text), loaded, f"{table}.csv {where}", what)


def test_missing_goal_status_means_open(loaded):
    assert rows(loaded, "select status from goals where goal_id = ?",
                [pseudonym.pseudonym("goal", "G03", KEY)]) == [("open",)]


# 25. Scores -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instrument", "score", "what"), [
    ("GSE10", "41", "outside the GSE10 score range 10-40"),
    ("BARC10", "9", "outside the BARC10 score range 10-60"),
    ("GSE10", "high", "not a number"),
])
def test_bad_scores_are_refused(loaded, tmp_path, instrument, score, what):
    text = f"assessment_id,participant_id,instrument,administered_on,score\nA9,P002,{instrument},2025-03-01,{score}\n"
    refused(_csv(tmp_path, "assessments", text), loaded, "assessments.csv row 2, column score", what)


def test_one_assessment_a_day_counting_the_store(loaded, tmp_path):
    # A01 (P001, GSE10, 2025-01-08) is already stored; A09 repeats that day under another id.
    text = "assessment_id,participant_id,instrument,administered_on,score\nA09,P001,gse-10,2025-01-08,30\n"
    refused(_csv(tmp_path, "assessments", text), loaded, "assessments.csv row 2, column administered_on",
            "same day")


# 26. Codebooks --------------------------------------------------------------------------------------------------


def test_codebook_spellings_are_normalized(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,No Show,,In-Person\nS10,R01,2025-03-02,NOSHOW,,phone\n" \
                      "S11,R01,2025-03-03, Attended ,30,Telephone\nS12,R01,2025-03-04,canceled,,face to face\n"
    load(_csv(tmp_path, "sessions", text), loaded)
    got = set(rows(loaded, "select status, modality from sessions where session_date >= '2025-03-01'"))
    assert got == {("no_show", "in_person"), ("no_show", "phone"), ("attended", "phone"), ("cancelled", "in_person")}


def test_unknown_code_lists_the_allowed_values(loaded, tmp_path):
    text = SESSIONS + "S09,R01,2025-03-01,excused,,phone\n"
    refused(_csv(tmp_path, "sessions", text), loaded, "sessions.csv row 2, column status",
            "allowed: attended, no_show, cancelled", secrets=("excused",))


def test_error_message_is_a_load_error_line(loaded, tmp_path):
    with pytest.raises(LoadError) as info:
        load(_csv(tmp_path, "sessions", SESSIONS + "S09,R01,2025-03-01,excused,,phone\n"), loaded)
    assert str(info.value).count("\n") == 0
