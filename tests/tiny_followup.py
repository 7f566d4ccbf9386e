"""A tiny hand-made program for the funder follow-up windows (METRICS.md "Funder follow-up").

Kept apart from tests/tiny_program.py so that program's golden numbers stay as they are.
Period used by the tests: S = 2025-01-01, E = A = 2025-12-31 (the latest session).

Windows by participant (suprt: enrolled_on + 150 .. + 210 days; gpra: + 5 .. + 8 months):

    id   site   enrolled    exited      suprt window              gpra window
    f1   North  2025-01-31  -           2025-06-30 .. 2025-08-29  2025-06-30 .. 2025-09-30 (clamped)
    f2   North  2025-02-01  -           2025-07-01 .. 2025-08-30  2025-07-01 .. 2025-10-01
    f3   North  2025-03-01  -           2025-07-29 .. 2025-09-27  2025-08-01 .. 2025-11-01
    f4   North  2025-03-10  2025-08-15  2025-08-07 .. 2025-10-06  2025-08-10 .. 2025-11-10
    f5   North  2025-04-01  -           2025-08-29 .. 2025-10-28  2025-09-01 .. 2025-12-01
    f6   South  2025-04-15  2025-10-01  2025-09-12 .. 2025-11-11  2025-09-15 .. 2025-12-15
    f7   South  2025-07-01  -           2025-11-28 .. 2026-01-27  2025-12-01 .. 2026-03-01
    f8   South  2025-08-10  -           2026-01-07 .. 2026-03-08  2026-01-10 .. 2026-04-10
    f9   South  2025-07-15  2025-09-01  2025-12-12 .. 2026-02-10  2025-12-15 .. 2026-03-15
    f10  South  2024-12-20  -           (enrolled before S: not in the cohort)
    f11  South  2025-07-20  2026-01-05  2025-12-17 .. 2026-02-15  2025-12-20 .. 2026-03-20
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics import store

PARTICIPANTS = [
    # participant_id, site, enrolled_on, exited_on, exit_reason, age_band, gender, race_ethnicity, funding_stream, referral_source
    ("f1", "North", "2025-01-31", None, None, "25-34", "woman", "White", "SOR", "court"),
    ("f2", "North", "2025-02-01", None, None, "35-44", "man", "Black", "SOR", "self"),
    ("f3", "North", "2025-03-01", None, None, "25-34", "man", "Hispanic", "County", "hospital"),
    # exits inside the suprt window without a reassessment: excused under suprt only
    ("f4", "North", "2025-03-10", "2025-08-15", "disengaged", "45-54", "woman", "White", "County", "self"),
    ("f5", "North", "2025-04-01", None, None, "18-24", "man", "White", "SOR", "court"),
    # exits inside the window but was reassessed first: done, not excused
    ("f6", "South", "2025-04-15", "2025-10-01", "completed", "25-34", "woman", "Black", "SOR", "self"),
    ("f7", "South", "2025-07-01", None, None, "35-44", "man", "White", "County", "court"),
    ("f8", "South", "2025-08-10", None, None, "45-54", "woman", "Hispanic", "SOR", "hospital"),
    # exits before the window opens, window still open at A: excused under suprt, not counted
    ("f9", "South", "2025-07-15", "2025-09-01", "disengaged", "18-24", "man", "White", "County", "self"),
    ("f10", "South", "2024-12-20", None, None, "25-34", "woman", "White", "SOR", "court"),
    # exits after A: read at A as not exited
    ("f11", "South", "2025-07-20", "2026-01-05", "transferred", "35-44", "man", "Black", "County", "self"),
]
MENTORS = [
    ("mf1", "North", "Lee", "2024-05-01"),
    ("mf2", "South", "Kim", "2023-09-01"),
]
PAIRS = [
    # pair_id, mentor_id, participant_id, matched_on, closed_on, close_reason
    ("pf1", "mf1", "f1", "2025-02-01", None, None),
    ("pf2", "mf1", "f2", "2025-02-02", None, None),
    ("pf3", "mf1", "f3", "2025-03-02", None, None),
    ("pf4", "mf1", "f4", "2025-03-11", "2025-08-15", "lost_contact"),
    ("pf5", "mf1", "f5", "2025-04-02", None, None),
    ("pf6", "mf2", "f6", "2025-04-16", "2025-10-01", "goals_met"),
    ("pf7", "mf2", "f7", "2025-07-02", None, None),
    ("pf8", "mf2", "f8", "2025-08-11", None, None),
    ("pf9", "mf2", "f9", "2025-07-16", "2025-09-01", "participant_withdrew"),
    ("pf10", "mf2", "f10", "2024-12-21", None, None),
    ("pf11", "mf2", "f11", "2025-07-21", "2026-01-05", "program_exit"),
]
SESSIONS = [
    # session_id, pair_id, session_date, status, duration_min, modality
    ("sf1", "pf1", "2025-02-05", "attended", 60, "in_person"),
    ("sf2", "pf2", "2025-02-06", "attended", 60, "in_person"),
    ("sf3", "pf3", "2025-03-05", "no_show", None, "phone"),
    ("sf4", "pf7", "2025-12-31", "attended", 45, "video"),  # the latest session: A = 2025-12-31
]
ASSESSMENTS = [
    # assessment_id, participant_id, instrument, administered_on, score
    ("af1", "f1", "GSE10", "2025-01-31", 20),
    ("af2", "f1", "GSE10", "2025-09-30", 26),  # gpra close (clamped to 30 Sep): done; after the suprt close
    ("af3", "f2", "GSE10", "2025-02-01", 30),
    ("af4", "f2", "GSE10", "2025-06-30", 31),  # one day before either window opens
    ("af5", "f3", "GSE10", "2025-03-01", 24),
    ("af6", "f3", "GSE10", "2025-07-29", 27),  # suprt open edge: done; before the gpra window
    ("af7", "f4", "GSE10", "2025-03-10", 16),
    ("af8", "f5", "GSE10", "2025-04-01", 28),
    ("af9", "f5", "BARC10", "2025-04-01", 40),
    ("af10", "f5", "BARC10", "2025-09-15", 45),  # any instrument counts
    ("af11", "f6", "GSE10", "2025-04-15", 22),
    ("af12", "f6", "GSE10", "2025-11-11", 25),  # suprt close edge, after the exit: done
    ("af13", "f7", "GSE10", "2025-07-01", 25),
    ("af14", "f7", "GSE10", "2026-01-10", 29),  # inside the window but after A: not yet done
    ("af15", "f8", "GSE10", "2025-08-10", 26),
    ("af16", "f9", "GSE10", "2025-07-15", 21),
    ("af17", "f11", "GSE10", "2025-07-20", 23),
]


def build(path: Path) -> Path:
    """Write the follow-up program into a new store at `path`."""
    with store.swap_writer(path) as con:
        _insert(con)
    return path


def _insert(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany("insert into participants values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PARTICIPANTS)
    con.executemany("insert into mentors values (?, ?, ?, ?)", MENTORS)
    con.executemany("insert into pairs values (?, ?, ?, ?, ?, ?)", PAIRS)
    con.executemany("insert into sessions values (?, ?, ?, ?, ?, ?)", SESSIONS)
    con.executemany("insert into assessments values (?, ?, ?, ?, ?)", ASSESSMENTS)
