"""A tiny hand-made program whose every metric is worked out by hand in tests/test_metrics_golden.py.

Rows are written straight into the store's tables (already pseudonymous-looking ids), so the
metric tests do not depend on the load. Period used by the golden tests:
S = 2026-01-01, E = A = 2026-03-31.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics import store

PARTICIPANTS = [
    # participant_id, site, enrolled_on, exited_on, exit_reason, age_band, gender, race_ethnicity, funding_stream, referral_source
    ("pt1", "North", "2026-01-01", None, None, "25-34", "woman", "White", "SOR", "court"),
    ("pt2", "North", "2026-01-05", None, None, "35-44", "man", "Black", "SOR", "self"),
    ("pt3", "South", "2026-01-10", None, None, "25-34", "man", "Hispanic", "County", "hospital"),
    ("pt4", "South", "2026-02-01", None, None, "45-54", "woman", "White", "County", "self"),
    ("pt5", "South", "2025-11-01", "2025-12-20", "disengaged", "18-24", "man", "White", "SOR", "court"),
]
MENTORS = [
    ("mn1", "North", "Lee", "2024-05-01"),
    ("mn2", "South", "Kim", "2023-09-01"),
]
PAIRS = [
    # pair_id, mentor_id, participant_id, matched_on, closed_on, close_reason
    ("pr1", "mn1", "pt1", "2026-01-02", "2026-02-10", "lost_contact"),
    ("pr2", "mn1", "pt2", "2026-01-06", None, None),
    ("pr3", "mn2", "pt3", "2026-01-12", "2026-03-01", "goals_met"),
    # closed after A = 2026-03-31, so open at A
    ("pr4", "mn2", "pt4", "2026-02-02", "2026-04-15", "participant_withdrew"),
    ("pr5", "mn2", "pt5", "2025-11-03", "2025-12-20", "participant_withdrew"),
]
SESSIONS = [
    # session_id, pair_id, session_date, status, duration_min, modality
    ("ss1", "pr1", "2026-01-05", "attended", 60, "in_person"),
    ("ss2", "pr1", "2026-01-12", "no_show", None, "in_person"),
    ("ss3", "pr1", "2026-01-19", "attended", 30, "phone"),
    ("ss4", "pr1", "2026-03-01", "attended", 45, "phone"),  # after pr1 closed: flagged, excluded
    ("ss5", "pr2", "2026-01-06", "cancelled", None, "video"),
    ("ss6", "pr2", "2026-01-13", "attended", 60, "in_person"),
    ("ss7", "pr2", "2026-02-03", "attended", 60, "in_person"),
    ("ss8", "pr2", "2026-03-31", "no_show", None, "in_person"),
    ("ss9", "pr3", "2026-01-20", "attended", 90, "in_person"),
    ("ss10", "pr3", "2026-01-27", "no_show", None, "phone"),
    ("ss11", "pr4", "2026-02-10", "attended", 60, "video"),
    ("ss12", "pr5", "2025-11-10", "attended", 60, "in_person"),
]
GOALS = [
    # goal_id, pair_id, domain, set_on, target_on, status, achieved_on
    ("gl1", "pr1", "health", "2026-01-10", None, "achieved", "2026-02-01"),
    ("gl2", "pr2", "home", "2026-01-15", None, "open", None),
    ("gl3", "pr2", "health", "2026-02-01", None, "achieved", "2026-03-03"),
    ("gl4", "pr3", "purpose", "2026-01-20", None, "dropped", None),
    ("gl5", "pr4", "community", "2026-02-05", None, "achieved", "2026-04-10"),  # after A: open at A
    ("gl6", "pr5", "health", "2025-11-10", None, "achieved", "2025-12-01"),  # pair not in scope
]
ASSESSMENTS = [
    # assessment_id, participant_id, instrument, administered_on, score
    ("as1", "pt1", "GSE10", "2026-01-02", 20),
    ("as2", "pt1", "GSE10", "2026-02-15", 26),
    ("as3", "pt2", "GSE10", "2026-01-06", 22),
    ("as4", "pt2", "GSE10", "2026-01-20", 30),  # 14 days after baseline: not a follow-up
    ("as5", "pt2", "GSE10", "2026-03-20", 25),
    ("as6", "pt3", "GSE10", "2026-01-12", 30),
    ("as7", "pt3", "GSE10", "2026-03-01", 27),
    ("as8", "pt4", "GSE10", "2026-02-02", 18),  # baseline only
    ("as9", "pt1", "BARC10", "2026-01-02", 30),
    ("as10", "pt1", "BARC10", "2026-02-20", 38),
]


def build(path: Path) -> Path:
    """Write the tiny program into a new store at `path`."""
    with store.swap_writer(path) as con:
        _insert(con)
    return path


def demo_stand_in(built: list):
    """A stand-in for ``analytics.demo.build_demo_store``: the tiny program marked as demo (the
    seeded demo build is slower); each store it builds is appended to ``built``."""

    def build_demo(db=None, **_):
        build(Path(db))
        with store.swap_writer(db) as con:
            store.set_meta(con, "is_demo", "true")
        built.append(db)

    return build_demo


def _insert(con: duckdb.DuckDBPyConnection) -> None:
    con.executemany("insert into participants values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", PARTICIPANTS)
    con.executemany("insert into mentors values (?, ?, ?, ?)", MENTORS)
    con.executemany("insert into pairs values (?, ?, ?, ?, ?, ?)", PAIRS)
    con.executemany("insert into sessions values (?, ?, ?, ?, ?, ?)", SESSIONS)
    con.executemany("insert into goals values (?, ?, ?, ?, ?, ?, ?)", GOALS)
    con.executemany("insert into assessments values (?, ?, ?, ?, ?)", ASSESSMENTS)
