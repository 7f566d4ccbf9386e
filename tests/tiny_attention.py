"""A tiny hand-made program for the Needs attention worklist (analytics.metrics.attention).

Kept apart from tests/tiny_program.py so that program's golden numbers stay as they are.
A = 2026-06-30 (the latest session); the period used by the tests is S = 2025-12-01, E = A, so
the follow-up cohort is the participants enrolled from 2025-12-01 on (all but pH and pJ).

Follow-up windows (suprt: enrolled_on + 150 .. + 210 days, inclusive):

    id  site   enrolled    window                    at A = 2026-06-30
    pA  North  2025-12-02  2026-05-01 .. 2026-06-30  closes today (A - 210 = 2025-12-02), not done
    pB  North  2025-12-10  2026-05-09 .. 2026-07-08  done (assessed 2026-06-01, inside)
    pC  North  2025-12-05  2026-05-04 .. 2026-07-03  not done, exited 2026-06-15 <= close: excused
    pD  North  2026-01-20  2026-06-19 .. 2026-08-18  open, not done: closes in 2026-08-18 - A = 49 days
    pE  South  2026-02-01  2026-07-01 .. 2026-08-30  opens in 1 day
    pF  South  2026-03-02  2026-07-30 .. 2026-09-28  opens in 30 days (A + 30: the last day counted)
    pG  South  2026-03-03  2026-07-31 .. 2026-09-29  opens in 31 days: not listed

Pairs (A - 30 = 2026-05-31; the 30 days up to A are 2026-06-01 .. 2026-06-30):

    rA  mA1 pA  matched 2025-12-03, attended 2026-06-20            recent: not listed
    rB  mA1 pB  matched 2025-12-10, attended 2026-06-01 (A - 29)   recent: not listed
    rC  mA1 pC  closed 2026-06-15                                  closed: not listed
    rD  mA1 pD  matched 2026-01-20, last attended 2026-05-31       exactly 30 days: listed, 30
    rE  mA2 pE  matched 2026-06-01 (A - 29), no session            too new: not listed
    rF  mA2 pF  matched 2026-05-31 (A - 30), no session            matched exactly 30 days ago: listed, 30
    rG  mA2 pG  attended 2026-06-30                                not listed
    rH  mA2 pH  last attended 2026-04-01, no-show 2026-06-25       listed, A - 2026-04-01 = 90
    rJ  mA1 pJ  closed 2026-02-01, no assessment                   closed: no row at all

No baseline (no assessment of any instrument on or before A, with a pair open at A): pE
(enrolled 2026-02-01: A - enrolled = 149 days) and pH (2025-11-01: 241 days). pJ has none
either but no open pair.
"""

from __future__ import annotations

from pathlib import Path

from analytics import store

AS_OF = "2026-06-30"
START = "2025-12-01"

PARTICIPANTS = [
    # participant_id, site, enrolled_on, exited_on, exit_reason, age_band, gender, race_ethnicity, funding_stream, referral_source
    ("pA", "North", "2025-12-02", None, None, "25-34", "woman", "White", "SOR", "court"),
    ("pB", "North", "2025-12-10", None, None, "35-44", "man", "Black", "SOR", "self"),
    ("pC", "North", "2025-12-05", "2026-06-15", "disengaged", "25-34", "man", "Hispanic", "County", "hospital"),
    ("pD", "North", "2026-01-20", None, None, "45-54", "woman", "White", "County", "self"),
    ("pE", "South", "2026-02-01", None, None, "18-24", "man", "White", "SOR", "court"),
    ("pF", "South", "2026-03-02", None, None, "25-34", "woman", "Black", "SOR", "self"),
    ("pG", "South", "2026-03-03", None, None, "35-44", "man", "White", "County", "court"),
    ("pH", "South", "2025-11-01", None, None, "45-54", "woman", "Hispanic", "SOR", "hospital"),
    ("pJ", "North", "2025-11-15", "2026-02-01", "disengaged", "18-24", "man", "White", "County", "self"),
]
MENTORS = [
    ("mA1", "North", "Lee", "2024-05-01"),
    ("mA2", "South", "Kim", "2023-09-01"),
]
PAIRS = [
    # pair_id, mentor_id, participant_id, matched_on, closed_on, close_reason
    ("rA", "mA1", "pA", "2025-12-03", None, None),
    ("rB", "mA1", "pB", "2025-12-10", None, None),
    ("rC", "mA1", "pC", "2025-12-06", "2026-06-15", "participant_withdrew"),
    ("rD", "mA1", "pD", "2026-01-20", None, None),
    ("rE", "mA2", "pE", "2026-06-01", None, None),
    ("rF", "mA2", "pF", "2026-05-31", None, None),
    ("rG", "mA2", "pG", "2026-03-03", None, None),
    ("rH", "mA2", "pH", "2025-11-01", None, None),
    ("rJ", "mA1", "pJ", "2025-11-16", "2026-02-01", "lost_contact"),
]
SESSIONS = [
    # session_id, pair_id, session_date, status, duration_min, modality
    ("sA1", "rA", "2026-06-20", "attended", 60, "in_person"),
    ("sB1", "rB", "2026-06-01", "attended", 60, "in_person"),
    ("sC1", "rC", "2026-06-10", "attended", 60, "phone"),
    ("sD1", "rD", "2026-05-31", "attended", 45, "in_person"),
    ("sD2", "rD", "2026-06-20", "cancelled", None, "in_person"),
    ("sG1", "rG", "2026-06-30", "attended", 60, "video"),
    ("sH1", "rH", "2026-04-01", "attended", 60, "in_person"),
    ("sH2", "rH", "2026-06-25", "no_show", None, "in_person"),
    ("sJ1", "rJ", "2025-12-01", "attended", 60, "in_person"),
]
GOALS: list[tuple] = []
ASSESSMENTS = [
    # assessment_id, participant_id, instrument, administered_on, score
    ("aA1", "pA", "GSE10", "2025-12-02", 20),
    ("aB1", "pB", "GSE10", "2025-12-10", 22),
    ("aB2", "pB", "GSE10", "2026-06-01", 28),  # inside pB's window: done
    ("aC1", "pC", "BARC10", "2025-12-05", 30),
    ("aD1", "pD", "GSE10", "2026-01-20", 25),
    ("aF1", "pF", "GSE10", "2026-03-02", 24),
    ("aG1", "pG", "GSE10", "2026-03-03", 26),
    ("aE9", "pE", "GSE10", "2026-07-15", 27),  # after A: not yet happened, pE has no baseline
]


def build(path: Path) -> Path:
    """Write the program into a new store at `path`."""
    with store.swap_writer(path) as con:
        con.executemany("insert into participants values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PARTICIPANTS)
        con.executemany("insert into mentors values (?, ?, ?, ?)", MENTORS)
        con.executemany("insert into pairs values (?, ?, ?, ?, ?, ?)", PAIRS)
        con.executemany("insert into sessions values (?, ?, ?, ?, ?, ?)", SESSIONS)
        con.executemany("insert into assessments values (?, ?, ?, ?, ?)", ASSESSMENTS)
    return path
