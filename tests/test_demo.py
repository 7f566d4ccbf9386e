"""The synthetic demo program: deterministic, valid under every contract rule, and realistic.

Rules are checked with DuckDB directly on the generated CSV files (all read as text), so the
test sees exactly what a load would see.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from analytics import cli, demo, store
from analytics.demo import (
    DEMO_AS_OF,
    NotADemoStore,
    build_demo_store,
    fault_count,
    store_is_demo,
    write_demo_exports,
)
from analytics.domain import contract

SMALL = 300
BIG = 6000
AS_OF = DEMO_AS_OF.isoformat()


def _load_available() -> bool:
    try:
        from analytics.load import load_paths  # noqa: F401
    except ImportError:
        return False
    return True


needs_load = pytest.mark.skipif(
    not _load_available(), reason="analytics.load does not expose load_paths yet: the store build cannot run"
)


def _connect(folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in contract.TABLE_ORDER:
        con.read_csv(str(folder / f"{table}.csv"), header=True, all_varchar=True).create_view(table)
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    return con.execute(sql, params or []).fetchone()[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo_small")
    write_demo_exports(folder, participants=SMALL, seed=7)
    return folder


@pytest.fixture(scope="module")
def con(small):
    c = _connect(small)
    yield c
    c.close()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo_big")
    write_demo_exports(folder, participants=BIG, seed=11)
    c = _connect(folder)
    # Typed views for the realism checks.
    c.execute("""create view s as select s.session_id, s.pair_id, s.session_date::date as day, s.status,
                 p.participant_id, p.matched_on::date as matched_on, p.closed_on::date as closed_on, pt.site
                 from sessions s join pairs p using (pair_id) join participants pt using (participant_id)""")
    c.execute("""create view pr as select p.*, p.matched_on::date as m, p.closed_on::date as c, pt.site
                 from pairs p join participants pt using (participant_id)""")
    yield c
    c.close()


# ---------------------------------------------------------------------------------------------
# Files and determinism
# ---------------------------------------------------------------------------------------------


def test_writes_the_six_contract_files_with_contract_headers(small):
    for table in contract.TABLE_ORDER:
        path = small / f"{table}.csv"
        header = path.read_text().splitlines()[0]
        assert header.split(",") == contract.TABLES[table].column_names, table


def test_returns_paths_in_table_order(tmp_path):
    paths = write_demo_exports(tmp_path, participants=20, seed=1)
    assert [p.name for p in paths] == [f"{t}.csv" for t in contract.TABLE_ORDER]
    assert all(p.parent == tmp_path for p in paths)


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path, small):
    again = write_demo_exports(tmp_path / "again", participants=SMALL, seed=7)
    for path in again:
        assert path.read_bytes() == (small / path.name).read_bytes(), path.name
    other = write_demo_exports(tmp_path / "other", participants=SMALL, seed=8)
    assert any(p.read_bytes() != (small / p.name).read_bytes() for p in other)
    assert (tmp_path / "other" / "sessions.csv").read_bytes() != (small / "sessions.csv").read_bytes()


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        write_demo_exports(tmp_path, participants=0)
    with pytest.raises(ValueError):
        write_demo_exports(tmp_path, participants=10, seed=-1)
    with pytest.raises(ValueError):
        write_demo_exports(tmp_path, participants=10, as_of=date(2001, 1, 1))


def test_source_ids_look_like_codes(con):
    assert _one(con, "select count(*) from participants where not regexp_full_match(participant_id, 'P[0-9]{6}')") == 0
    assert _one(con, "select min(participant_id) from participants") == "P000001"
    assert _one(con, "select count(*) from sessions where not regexp_full_match(session_id, 'S[0-9]{8}')") == 0


# ---------------------------------------------------------------------------------------------
# Every load rule of the contract
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", contract.TABLE_ORDER)
def test_keys_unique_and_required_columns_filled(con, table):
    t = contract.TABLES[table]
    rows, keys = con.execute(f"select count(*), count(distinct {t.key}) from {table}").fetchone()
    assert rows > 0 and rows == keys
    for column in t.required:
        assert _one(con, f"select count(*) from {table} where {column} is null or trim({column}) = ''") == 0, column


def test_references_resolve(con):
    for table in contract.TABLE_ORDER:
        for column, parent in contract.TABLES[table].references:
            key = contract.TABLES[parent].key
            missing = _one(con, f"select count(*) from {table} c anti join {parent} p on c.{column} = p.{key}")
            assert missing == 0, (table, column)


def test_codes_are_in_their_codebooks(con):
    for table in contract.TABLE_ORDER:
        for column in contract.TABLES[table].columns:
            if column.kind != contract.CODE:
                continue
            values = {r[0] for r in con.execute(f"select distinct {column.name} from {table}").fetchall()}
            values.discard(None)
            assert values <= set(contract.CODEBOOKS[column.codebook]), (table, column.name, values)


def test_dates_are_iso_and_within_2000_and_as_of(con):
    for table in contract.TABLE_ORDER:
        for column in contract.TABLES[table].columns:
            if column.kind != contract.DATE:
                continue
            name = column.name
            bad_format = _one(con, f"select count(*) from {table} where {name} is not null "
                                   f"and (not regexp_full_match({name}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                                   f"or try_cast({name} as date) is null)")
            assert bad_format == 0, (table, name)
            lo, hi = con.execute(f"select min({name}::date), max({name}::date) from {table}").fetchone()
            assert lo >= date(2000, 1, 1), (table, name)
            if not column.may_be_future:  # a goal's target is a plan and may lie ahead
                assert hi <= DEMO_AS_OF, (table, name)


def test_date_order_rules(con):
    assert _one(con, "select count(*) from pairs where closed_on::date < matched_on::date") == 0
    assert _one(con, "select count(*) from participants where exited_on::date < enrolled_on::date") == 0
    assert _one(con, "select count(*) from goals where achieved_on::date < set_on::date") == 0
    assert _one(con, "select count(*) from goals where target_on::date < set_on::date") == 0
    assert _one(con, "select count(*) from goals where (status = 'achieved') <> (achieved_on is not null)") == 0
    # A match never starts before its participant enrolled.
    assert _one(con, "select count(*) from pairs join participants using (participant_id) "
                     "where matched_on::date < enrolled_on::date") == 0


def test_durations_and_scores(con):
    assert _one(con, "select count(*) from sessions where duration_min is not null "
                     "and try_cast(duration_min as integer) is null") == 0
    lo, hi = con.execute("select min(duration_min::int), max(duration_min::int) from sessions").fetchone()
    assert 0 <= lo and hi <= 600 and 30 <= lo and hi <= 90
    # Only attended sessions carry a duration.
    assert _one(con, "select count(*) from sessions where (status = 'attended') <> (duration_min is not null)") == 0
    assert {r[0] for r in con.execute("select distinct instrument from assessments").fetchall()} == set(
        demo.DEMO_INSTRUMENTS)
    for code in demo.DEMO_INSTRUMENTS:
        inst = contract.INSTRUMENTS[code]
        lo, hi, bad = con.execute(
            "select min(score::int), max(score::int), count(*) filter (where try_cast(score as integer) is null) "
            "from assessments where instrument = ?", [code]).fetchone()
        assert bad == 0 and inst.min_score <= lo and hi <= inst.max_score, code
    dupes = _one(con, "select count(*) from (select participant_id, instrument, administered_on "
                      "from assessments group by all having count(*) > 1)")
    assert dupes == 0


def test_no_identifier_looking_columns_or_values(small):
    value_patterns = [re.compile(p) for p in getattr(contract, "IDENTIFIER_VALUE_PATTERNS", {}).values()]
    for table in contract.TABLE_ORDER:
        text = (small / f"{table}.csv").read_text()
        assert "@" not in text
        header, *rows = text.splitlines()
        assert not any(contract.is_identifier_column(c) for c in header.split(","))
        free_text = [i for i, c in enumerate(contract.TABLES[table].columns) if c.kind == contract.TEXT]
        for row in rows[:2000]:
            cells = row.split(",")
            for i in free_text:
                assert not any(p.search(cells[i]) for p in value_patterns), (table, cells[i])


# ---------------------------------------------------------------------------------------------
# Consistency a program evaluator expects
# ---------------------------------------------------------------------------------------------


def test_exits_follow_the_last_pair(con):
    # An exited participant's last pair closed that day, and none of their pairs is still open.
    bad = _one(con, """
        select count(*) from participants pt
        where exited_on is not null and (
            exited_on <> (select max(closed_on) from pairs p where p.participant_id = pt.participant_id)
            or exists (select 1 from pairs p where p.participant_id = pt.participant_id and p.closed_on is null))""")
    assert bad == 0
    # Anyone with an open pair is still in the program.
    assert _one(con, "select count(*) from participants join pairs using (participant_id) "
                     "where closed_on is null and exited_on is not null") == 0
    # Exit reasons match closures.
    pairs = dict(con.execute("""
        select exit_reason, count(*) from participants pt join pairs p
          on p.participant_id = pt.participant_id and p.closed_on = pt.exited_on
        where exit_reason in ('completed', 'disengaged')
          and not ((exit_reason = 'completed' and close_reason = 'goals_met')
                or (exit_reason = 'disengaged' and close_reason in ('participant_withdrew', 'lost_contact')))
        group by all""").fetchall())
    assert pairs == {}


def test_rematches_get_a_second_pair_with_another_mentor(con):
    rows = con.execute("""
        select a.close_reason, a.closed_on::date, b.matched_on::date, a.mentor_id = b.mentor_id
        from pairs a join pairs b on a.participant_id = b.participant_id and a.pair_id <> b.pair_id
        where a.matched_on < b.matched_on""").fetchall()
    assert rows, "expected at least one rematch"
    for reason, closed, matched, same_mentor in rows:
        assert reason in ("rematched", "mentor_unavailable")
        assert matched >= closed and not same_mentor
    assert _one(con, "select max(n) from (select count(*) n from pairs group by participant_id)") <= 2


def test_a_few_sessions_are_flagged_outside_their_pair_dates(con):
    before, after = con.execute("""
        select count(*) filter (where s.session_date::date < p.matched_on::date),
               count(*) filter (where s.session_date::date > p.closed_on::date)
        from sessions s join pairs p using (pair_id)""").fetchone()
    assert before >= 1 and after >= 1
    assert before + after <= fault_count(SMALL)
    total = _one(con, "select count(*) from sessions")
    assert (before + after) / total < 0.01


def test_some_participants_lack_a_baseline_and_some_follow_ups_are_overdue(big):
    no_baseline = _one(big, """
        select count(*) from participants pt
        where enrolled_on::date <= ?::date - 30 and not exists (
            select 1 from assessments a where a.participant_id = pt.participant_id
              and a.administered_on::date <= pt.enrolled_on::date + 30)""", [AS_OF])
    assert 0 < no_baseline < 0.1 * BIG
    overdue = _one(big, """
        select count(*) from participants pt
        where exited_on is null and enrolled_on::date <= ?::date - 200
          and (select max(administered_on::date) from assessments a
               where a.participant_id = pt.participant_id) < ?::date - 120""", [AS_OF, AS_OF])
    assert overdue > 0


# ---------------------------------------------------------------------------------------------
# Realism (a bigger sample)
# ---------------------------------------------------------------------------------------------


def test_attendance_rate_is_about_three_quarters(big):
    rate = _one(big, "select count(*) filter (where status = 'attended') / "
                     "count(*) filter (where status in ('attended', 'no_show')) from sessions")
    assert 0.70 <= rate <= 0.80
    cancelled = _one(big, "select avg((status = 'cancelled')::int) from sessions")
    assert 0.02 < cancelled < 0.15


def test_about_weekly_sessions_and_thirty_per_participant(big):
    per_participant = _one(big, "select (select count(*) from sessions) / (select count(*) from participants)")
    assert 20 <= per_participant <= 40
    modalities = _one(big, "select count(distinct modality) from sessions")
    assert modalities == len(contract.CODEBOOKS["modality"])


def test_dropout_is_early(big):
    early, later = big.execute("""
        select count(*) filter (where c - m < 60), count(*) filter (where c - m >= 60 and c - m < 120)
        from pr where close_reason in ('participant_withdrew', 'lost_contact')""").fetchone()
    assert early > later > 0
    reasons = {r[0] for r in big.execute("select distinct close_reason from pairs").fetchall()}
    assert set(contract.CODEBOOKS["close_reason"]) <= reasons


def test_many_pairs_are_open_and_caseloads_are_realistic(big):
    open_share = _one(big, "select avg((closed_on is null)::int) from pairs")
    assert 0.2 <= open_share <= 0.6
    median = _one(big, "select median(n) from (select count(*) n from pairs where closed_on is null group by mentor_id)")
    assert 10 <= median <= 20


def test_enrollment_grows(big):
    first, last = big.execute(f"""
        select count(*) filter (where enrolled_on::date < date '{DEMO_AS_OF.replace(year=DEMO_AS_OF.year - 3)}'),
               count(*) filter (where enrolled_on::date > date '{DEMO_AS_OF.replace(year=DEMO_AS_OF.year - 1)}')
        from participants""").fetchone()
    assert last > 1.5 * first > 0
    assert _one(big, "select count(distinct funding_stream) from participants") == 3


def _changes(con, instrument: str):
    # As docs/metrics.md defines them: baseline = earliest, follow-up = latest at least 28 days after it.
    return con.execute("""
        with a as (select participant_id, administered_on::date d, score::int s from assessments
                   where instrument = ?),
        b as (select participant_id, min(d) d0, arg_min(s, d) s0 from a group by all),
        f as (select a.participant_id, arg_max(a.s, a.d) s1 from a join b using (participant_id)
              where a.d >= b.d0 + 28 group by all)
        select count(*), avg(s1 - s0), stddev_samp(s1 - s0), avg((s1 < s0)::int)
        from b join f using (participant_id)""", [instrument]).fetchone()


def test_outcomes_improve_with_spread(big):
    n, mean, sd, declined = _changes(big, "GSE10")
    assert n > 1000 and 2.5 < mean < 6 and 3.5 < sd < 7 and declined > 0.05
    n, mean, sd, declined = _changes(big, "BARC10")
    assert n > 1000 and 4 < mean < 9 and 5 < sd < 11 and declined > 0.05
    # The PHQ-9 runs the other way: scores fall (improve) on average, and some rise.
    n, mean, sd, declined = _changes(big, "PHQ9")
    assert n > 800 and -6 < mean < -2 and 3 < sd < 7 and 0.5 < declined < 0.95


def test_sites_differ(big):
    rows = big.execute("""
        select site, count(*) filter (where status = 'attended') /
                     count(*) filter (where status in ('attended', 'no_show'))
        from s group by site""").fetchall()
    rates = dict(rows)
    assert len(rates) >= 4
    assert max(rates.values()) - min(rates.values()) > 0.08
    dropout = dict(big.execute(f"""
        select site, avg((close_reason in ('participant_withdrew', 'lost_contact') and c - m < 90)::int)
        from pr where m <= date '{AS_OF}' - 90 group by site""").fetchall())
    assert max(dropout.values()) - min(dropout.values()) > 0.08
    # The site with the best attendance also keeps people longest.
    assert max(rates, key=rates.get) == min(dropout, key=dropout.get)


def test_goals_cover_domains_and_statuses(big):
    domains = {r[0] for r in big.execute("select distinct domain from goals").fetchall()}
    statuses = {r[0] for r in big.execute("select distinct status from goals").fetchall()}
    assert domains == set(contract.CODEBOOKS["goal_domain"])
    assert statuses == set(contract.CODEBOOKS["goal_status"])
    rate = _one(big, "select avg((status = 'achieved')::int) from goals")
    assert 0.25 < rate < 0.75


# ---------------------------------------------------------------------------------------------
# The store and the command
# ---------------------------------------------------------------------------------------------


def _non_demo_store(path: Path) -> bytes:
    with duckdb.connect(str(path)) as c:
        store.migrate(c)
        c.execute("checkpoint")
    return path.read_bytes()


def test_refuses_to_overwrite_a_store_that_is_not_a_demo(tmp_path):
    path = tmp_path / "real.duckdb"
    before = _non_demo_store(path)
    assert store_is_demo(path) is False
    with pytest.raises(NotADemoStore):
        build_demo_store(path, participants=20)
    assert path.read_bytes() == before


def test_refuses_to_overwrite_any_other_file(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database")
    assert store_is_demo(path) is False
    with pytest.raises(NotADemoStore):
        build_demo_store(path, participants=20)
    assert path.read_text() == "not a database"
    assert store_is_demo(tmp_path / "absent.duckdb") is None


def test_command_refuses_a_non_demo_store(tmp_path, capsys):
    path = tmp_path / "real.duckdb"
    before = _non_demo_store(path)
    assert cli.main(["demo", "--db", str(path), "--participants", "20"]) == 2
    assert "not a demo store" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_command_rejects_bad_input(tmp_path, capsys):
    db = str(tmp_path / "d.duckdb")
    assert cli.main(["demo", "--db", db, "--as-of", "30/09/2026"]) == 2
    assert cli.main(["demo", "--db", db, "--participants", "0"]) == 2
    assert cli.main(["demo", "--db", db, "--as-of", "2999-01-01"]) == 2
    assert not (tmp_path / "d.duckdb").exists()


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as c:
        return {t: c.execute(f"select count(*) from {t}").fetchone()[0] for t in contract.TABLE_ORDER}


def _csv_rows(folder: Path) -> dict[str, int]:
    return {t: len((folder / f"{t}.csv").read_text().splitlines()) - 1 for t in contract.TABLE_ORDER}


@needs_load
def test_build_demo_store_loads_everything_pseudonymized_and_marked(tmp_path):
    db = tmp_path / "demo.duckdb"
    exports = tmp_path / "exports"
    build_demo_store(db, participants=SMALL, seed=7, exports_dir=exports)
    assert store_is_demo(db) is True
    assert _counts(db) == _csv_rows(exports)
    with duckdb.connect(str(db), read_only=True) as c:
        assert store.get_meta(c, "demo_seed") == "7"
        assert store.get_meta(c, "demo_participants") == str(SMALL)
        # Source IDs never reach the store.
        assert c.execute("select count(*) from participants where participant_id like 'P0%'").fetchone()[0] == 0
        assert c.execute("select count(*) from sessions where session_id like 'S0%'").fetchone()[0] == 0
        flagged = c.execute("select count(*) from dq_findings where table_name = 'sessions'").fetchone()[0]
    assert 1 <= flagged <= fault_count(SMALL)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo")]


@needs_load
def test_rebuilding_replaces_the_demo_store(tmp_path):
    db = tmp_path / "demo.duckdb"
    build_demo_store(db, participants=SMALL, seed=7)
    build_demo_store(db, participants=120, seed=3)
    assert _counts(db)["participants"] == 120
    with duckdb.connect(str(db), read_only=True) as c:
        assert store.get_meta(c, "demo_seed") == "3"
    # Nothing left behind beside the store but its lock file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb", "demo.duckdb.lock"]


@needs_load
def test_command_builds_and_reports(tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    exports = tmp_path / "exports"
    code = cli.main(["demo", "--db", str(db), "--participants", str(SMALL), "--seed", "5",
                     "--exports-dir", str(exports)])
    out = capsys.readouterr().out
    assert code == 0
    assert "demo store" in out and f"{SMALL}" in out
    assert store_is_demo(db) is True
    assert sorted(p.name for p in exports.iterdir()) == sorted(f"{t}.csv" for t in contract.TABLE_ORDER)
    # A demo store may be rebuilt in place.
    assert cli.main(["demo", "--db", str(db), "--participants", "50"]) == 0
    assert _counts(db)["participants"] == 50
