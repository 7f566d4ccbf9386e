"""The marts of whole spans: a pair whose sessions all fall in the period takes its sums from
mart_pair_sessions; a participant whose latest assessment of an instrument is on or before A
takes the baseline and latest scores from mart_assessment_span.

The metrics must come out exactly the same whether these are read from the marts or computed
again from the sessions and assessments: here the same queries run on a copy of the store whose
marts' spans all end in the year 9999 (so everything is computed again), and the frames are
compared value for value, over scopes whose dates cut through pairs' sessions and
participants' assessments and scopes that do not. mart_assessment_span also keeps
the dose of each such span (latest_dose), counted again from mart_participant_attended when the
span ends after A; that mart has no fallback of its own: the doses are counted again in pandas by
tests/test_instruments_independent.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analytics import store
from analytics.metrics import dose, engagement, mentors, outcomes
from analytics.metrics.scope import data_bounds, resolve_scope
from analytics.store import views
from analytics.store.marts import MART_ADDED_COLUMNS, MART_ORDER

# Dates as fractions of the store's span (earliest match to latest session), so each cuts
# through some pairs' sessions whatever the program's dates.
SCOPES = [
    {},
    {"by": "site"},
    {"by": "mentor"},
    {"start": 0.3},
    {"end": 0.6},
    {"as_of": 0.8},
    {"start": 0.2, "end": 0.7, "by": "funding_stream"},
]


def _dates(cur, kw: dict) -> dict:
    bounds = data_bounds(cur)
    first, last = bounds["earliest_match"], bounds["latest_session"]
    return {k: (first + (last - first) * v if isinstance(v, float) else v) for k, v in kw.items()}


def _copy_with(src: Path, dst: Path, sql: str | None) -> Path:
    shutil.copyfile(src, dst)
    if sql:
        con = duckdb.connect(str(dst))
        con.execute(sql)
        con.execute("checkpoint")
        con.close()
    return dst


def _results(path: Path, kw: dict) -> dict[str, pd.DataFrame]:
    con = store.connect_read(path)
    try:
        cur = views.analysis_connection(con)
        scope = resolve_scope(cur, **_dates(cur, kw))
        return {"engagement_totals": engagement.engagement_totals(cur, scope),
                "mentor_caseloads": mentors.mentor_caseloads(cur, scope),
                "outcome_change": outcomes.outcome_change(cur, scope),
                "reliable_change_counts": outcomes.reliable_change_counts(cur, scope),
                "change_distribution": outcomes.change_distribution(cur, scope),
                "dose_change": dose.dose_change(cur, scope)}
    finally:
        con.close()


@pytest.fixture(scope="module")
def stores(demo_store, tiny_store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pair_sums")
    out = {}
    for name, src in {"demo": demo_store, "tiny": tiny_store}.items():
        out[name] = {
            "as built": src,
            # every span made to end after any period: every pair and participant computed again
            "computed again": _copy_with(src, tmp / f"{name}-again.duckdb",
                                         "update mart_pair_sessions set last_session = date '9999-12-31';"
                                         " update mart_assessment_span set latest_on = date '9999-12-31'"),
            "mart altered": _copy_with(src, tmp / f"{name}-altered.duckdb",
                                       "update mart_pair_sessions set attended = attended + 1;"
                                       " update mart_assessment_span set latest_score = latest_score + 1,"
                                       " latest_dose = 2 * latest_dose;"
                                       " update mart_participant_attended set attended_on = attended_on || attended_on"),
        }
    return out


@pytest.mark.parametrize("which", ["demo", "tiny"])
@pytest.mark.parametrize("kw", SCOPES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_sums_from_the_mart_equal_the_sums_of_the_sessions(stores, which, kw):
    built = _results(stores[which]["as built"], kw)
    summed = _results(stores[which]["computed again"], kw)
    for name in built:
        assert len(built[name]) > 0, name
        assert_frame_equal(built[name], summed[name], check_exact=True)


@pytest.mark.parametrize("which", ["demo", "tiny"])
def test_the_default_period_reads_the_marts(stores, which):
    """The default period holds every session and assessment, so every pair's sums and every
    participant's scores come from the marts: marts altered on purpose show in the results (the
    test above compares something)."""
    built = _results(stores[which]["as built"], {})
    altered = _results(stores[which]["mart altered"], {})
    for name in ("engagement_totals", "mentor_caseloads"):
        assert altered[name]["attended"].sum() > built[name]["attended"].sum()
    assert altered["outcome_change"]["followup_mean"].sum() > built["outcome_change"]["followup_mean"].sum()
    # the doses of whole spans come from mart_assessment_span (doubled: participants move up the
    # dose bands); tests/test_instruments_independent.py checks them against sessions counted in
    # pandas
    bands = {k: f["dose_change"].query("band != '*'")["n"].tolist() for k, f in (("built", built), ("altered", altered))}
    assert bands["altered"] != bands["built"]


@pytest.mark.parametrize("which", ["demo", "tiny"])
def test_the_doses_of_spans_ending_after_a_are_counted_from_the_attended_sessions(stores, which):
    """With every span ending after A (the "computed again" store), each dose is counted from
    mart_participant_attended: its sessions listed twice (the "mart altered" store, whose
    mart_assessment_span then ends after A too) move participants up the dose bands."""
    again = stores[which]["computed again"]
    twice = _copy_with(stores[which]["mart altered"], again.with_name(f"{which}-twice.duckdb"),
                       "update mart_assessment_span set latest_on = date '9999-12-31'")
    bands = {k: _results(path, {})["dose_change"].query("band != '*'")["n"].tolist()
             for k, path in (("again", again), ("twice", twice))}
    assert sum(bands["again"]) > 0
    assert bands["twice"] != bands["again"]


@pytest.mark.parametrize("which", ["demo", "tiny"])
@pytest.mark.parametrize("as_of", [None, 0.35, 0.7])
def test_triangle_and_silent_pairs_from_the_mart_equal_the_sessions_counted_in_pandas(stores, which, as_of):
    """The cohort triangle reads each pair's attended 30-day windows from mart_pair_sessions, and
    the silent pairs of Needs attention its last attended session (when all of the pair's
    sessions are on or before A; the others' sessions are read again): the same cells and rows
    as the sessions counted here in pandas, at the latest date and at as-of dates that cut
    through pairs' sessions."""
    from analytics.metrics import attention, retention

    con = store.connect_read(stores[which]["as built"])
    try:
        cur = views.analysis_connection(con)
        scope = resolve_scope(cur, **_dates(cur, {"as_of": as_of} if as_of is not None else {}))
        triangle = retention.cohort_triangle(cur, scope)
        silent = attention.needs_attention(cur, scope).query("reason == 'no_recent_session'")
        pairs = cur.execute("select pair_key, pair_id, matched_on, closed_on from mart_pairs").df()
        sessions = cur.execute("select pair_key, session_date from mart_sessions"
                               " where inside_pair_dates and status = 'attended'").df()
    finally:
        con.close()
    a, s, e = (pd.Timestamp(d) for d in (scope.as_of, scope.start, scope.end))
    day = pd.Timedelta(days=1)
    sessions = sessions[sessions["session_date"] <= a].merge(pairs, on="pair_key")

    # the triangle: pairs matched in [S, E], window k = [matched + 30k, matched + 30k + 29]
    # counted when it ends on or before A; attending when an attended session falls in it
    sessions["k"] = (sessions["session_date"] - sessions["matched_on"]).dt.days // 30
    attended = set(zip(sessions["pair_key"], sessions["k"], strict=True))
    cells = []
    for pair in pairs[(pairs["matched_on"] >= s) & (pairs["matched_on"] <= e)].itertuples():
        for k in range(12):
            if pair.matched_on + (30 * k + 29) * day <= a:
                cells.append((pair.matched_on.to_period("M").to_timestamp(), k, (pair.pair_key, k) in attended))
    want = (pd.DataFrame(cells, columns=["cohort_month", "k", "attending"])
            .groupby(["cohort_month", "k"]).agg(pairs=("attending", "size"), pairs_attending=("attending", "sum"))
            .reset_index())
    def cells_of(f):
        return [(pd.Timestamp(m).date(), int(k), int(n), int(y))
                for m, k, n, y in zip(f["cohort_month"], f["k"], f["pairs"], f["pairs_attending"], strict=True)]

    assert len(want) > 0
    assert cells_of(triangle) == cells_of(want)

    # silent pairs: open at A, matched 30+ days before A, no attended session in the 30 days up to A
    last = sessions.groupby("pair_key")["session_date"].max()
    open_ = pairs[(pairs["closed_on"].isna() | (pairs["closed_on"] > a)) & (pairs["matched_on"] <= a - 30 * day)].copy()
    open_["last_on"] = open_["pair_key"].map(last)
    quiet = open_[open_["last_on"].isna() | (open_["last_on"] <= a - 30 * day)]
    want_silent = sorted(zip(quiet["pair_id"], (a - quiet["last_on"].fillna(quiet["matched_on"])).dt.days, strict=True))
    assert want_silent or which == "tiny"  # the tiny store has none at some dates
    assert sorted(zip(silent["pair_id"], silent["days"], strict=True)) == want_silent


def test_the_triangle_and_the_silent_pairs_read_the_mart(stores):
    """Marts altered on purpose show in both (the test above compares something): no attended
    window at all empties the triangle's attending counts; a last attended session moved to A's
    day takes every such pair off the silent list."""
    from analytics.metrics import attention, retention

    def read(path):
        con = store.connect_read(path)
        try:
            cur = views.analysis_connection(con)
            scope = resolve_scope(cur)
            return (retention.cohort_triangle(cur, scope)["pairs_attending"].sum(),
                    len(attention.needs_attention(cur, scope).query("reason == 'no_recent_session'")),
                    scope.as_of)
        finally:
            con.close()

    built = read(stores["demo"]["as built"])
    altered = _copy_with(stores["demo"]["as built"], stores["demo"]["as built"].with_name("windows-altered.duckdb"),
                         f"update mart_pair_sessions set attended_windows = 0,"
                         f" last_attended = date '{built[2].isoformat()}' where last_attended is not null")
    after = read(altered)
    assert built[0] > 0 and after[0] == 0
    assert built[1] > after[1]


# What an older release's store lacks: a mart, or a column added to a mart since.
OLDER = ([f"drop table {mart}" for mart in MART_ORDER]
         + [f"alter table {c.split('.')[0]} drop column {c.split('.')[1]}" for c in MART_ADDED_COLUMNS])


@pytest.mark.parametrize("change", OLDER)
def test_a_store_of_an_older_release_is_said_to_be_outdated_until_brought_up_to_date(demo_store, tmp_path, change):
    old = _copy_with(demo_store, tmp_path / "old.duckdb", change)
    con = store.connect_read(old)
    try:
        with pytest.raises(views.StoreOutdated, match="older release"):
            views.analysis_connection(con)
    finally:
        con.close()
    store.bring_up_to_date(old)
    con = store.connect_read(old)
    try:
        views.analysis_connection(con)  # current again
    finally:
        con.close()


def _table_digest(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"select count(*), sum(hash(columns(*))) from {t}").fetchall()
                for t in ("participants", "mentors", "pairs", "sessions", "goals", "assessments", "load_audit")}
    finally:
        con.close()


def test_the_dashboard_brings_a_store_of_an_older_release_up_to_date(tiny_store, tmp_path, monkeypatch):
    """A store written before a mart existed: the first page rebuilds the marts (one swap, the
    rows untouched) and shows the same numbers as a current store, with no error."""
    from streamlit.testing.v1 import AppTest

    old = _copy_with(tiny_store, tmp_path / "old.duckdb", "drop table mart_pair_sessions")
    rows_before = _table_digest(old)
    root = Path(__file__).resolve().parent.parent

    def overview(db: Path) -> dict[str, str]:
        monkeypatch.setenv("OUTCOMES_DB", str(db))
        at = AppTest.from_file(str(root / "dashboard.py"), default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return {m.label: m.value for m in at.metric}

    shown = overview(old)
    con = store.connect_read(old)
    try:
        assert views.outdated_reason(store.use_store(con.cursor())) is None
    finally:
        con.close()
    assert _table_digest(old) == rows_before
    assert shown and shown == overview(tiny_store)


@pytest.fixture(scope="module")
def late_barc(demo_store, tmp_path_factory):
    """The demo store with every second participant's BARC10 assessments of the first 60% of
    its span removed: their first BARC10 comes late, after some as-of dates below."""
    path = tmp_path_factory.mktemp("late") / "late.duckdb"
    shutil.copyfile(demo_store, path)
    con = duckdb.connect(str(path))
    first, last = con.execute("select min(administered_on), max(administered_on) from assessments").fetchone()
    con.execute("delete from assessments where instrument = 'BARC10' and hash(participant_id) % 2 = 0"
                " and administered_on <= ?", [first + (last - first) * 0.6])
    con.execute("checkpoint")
    con.close()
    store.bring_up_to_date(path)  # the marts rebuilt from the assessments left
    return path


@pytest.mark.parametrize("which", ["demo", "late BARC10"])
@pytest.mark.parametrize("as_of", [None, 0.35, 0.7])
def test_attrition_baselines_from_the_span_mart_equal_the_earliest_assessment_on_or_before_a(
        demo_store, late_barc, which, as_of):
    """followup_attrition reads each baseline from mart_assessment_span (the earliest assessment
    of all, kept when it is on or before A): the same members and means as the earliest
    assessment on or before A found again here in pandas from the assessments themselves."""
    from analytics.metrics import followup

    con = store.connect_read(demo_store if which == "demo" else late_barc)
    try:
        cur = views.analysis_connection(con)
        kw = _dates(cur, {"as_of": as_of} if as_of is not None else {})
        scope = resolve_scope(cur, **kw)
        got = followup.followup_attrition(cur, scope).set_index("instrument")
        due = followup.followup_windows(cur, scope).query("due")[["participant_key", "done"]]
        a = cur.execute("select participant_key, instrument, administered_on, score from mart_assessments").df()
        a = a[a["administered_on"] <= pd.Timestamp(scope.as_of)]
        first = a.sort_values("administered_on").groupby(["participant_key", "instrument"], as_index=False).first()
        both = due.merge(first, on="participant_key")
        checked = 0
        for code, rows in both.groupby("instrument"):
            g = got.loc[code]
            followed, missed = rows[rows["done"]]["score"], rows[~rows["done"]]["score"]
            assert (g["n_followed"], g["n_missed"]) == (len(followed), len(missed)), code
            if len(followed):
                assert g["baseline_mean_followed"] == pytest.approx(followed.mean(), rel=1e-12)
            if len(missed):
                assert g["baseline_mean_missed"] == pytest.approx(missed.mean(), rel=1e-12)
            checked += len(rows)
        assert checked > 0
    finally:
        con.close()
