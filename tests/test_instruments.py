"""The instrument registry (analytics.domain.instruments, analytics.store.instruments): the file, its faults, the store's copy, and the
direction-aware numbers of a lower-is-better instrument worked out by hand.

The hand-worked PHQ-9 numbers use the tiny program (tests/tiny_program.py) with PHQ-9 scores
added (PHQ9 below). Period S = 2026-01-01, E = A = 2026-03-31.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
import tiny_program
from fixtures.load_helpers import KEY, PROGRAM, load, refused, rows, write, write_program

from analytics import cli, stats, store, summary
from analytics.domain import instruments as registry
from analytics.metrics import dose, instruments, outcomes
from analytics.metrics.scope import resolve_scope
from analytics.store import instruments as stored_registry
from analytics.store import pseudonym, views

# ------------------------------------------------------------------------------- the file


def test_builtin_registry_has_the_published_defaults():
    reg = registry.builtin()
    assert list(reg)[:4] == ["GSE10", "BARC10", "PHQ9", "GAD7"]
    gse, barc, phq, gad = (reg[c] for c in ("GSE10", "BARC10", "PHQ9", "GAD7"))
    # unchanged from the two entries the registry had in code
    assert (gse.min_score, gse.max_score, gse.higher_is_better, gse.reliability) == (10, 40, True, 0.86)
    assert (barc.min_score, barc.max_score, barc.higher_is_better, barc.reliability) == (10, 60, True, 0.90)
    assert barc.threshold == 47 and barc.mcid is None and "Vilsaint" in barc.source
    assert (phq.min_score, phq.max_score, phq.higher_is_better, phq.mcid, phq.threshold) == (0, 27, False, 5, 9)
    assert "Kroenke" in phq.source and "Lowe" in phq.source
    assert (gad.min_score, gad.max_score, gad.higher_is_better, gad.mcid) == (0, 21, False, 4)
    assert "Spitzer" in gad.source and "Toussaint" in gad.source
    assert "Schwarzer" in gse.source
    for inst in reg.values():
        assert 0 < inst.reliability < 1 and inst.source and inst.construct


PROGRAM_FILE = """
[instruments.MIRC]
name = "Multidimensional Inventory of Recovery Capital"
min = 28
max = 112
higher_is_better = true
reliability = 0.9
mcid = 6
threshold = 80
construct = "recovery capital"
source = "program's own figures"

[instruments.PHQ9]
name = "PHQ-9 (program cut-off)"
min = 0
max = 27
higher_is_better = false
reliability = 0.84
mcid = 5
threshold = 4
construct = "depression symptoms"
source = "program's own figures"
"""


def test_a_program_file_adds_and_replaces_entries_whole(tmp_path):
    path = write(tmp_path, "ours.toml", PROGRAM_FILE)
    in_force = registry.in_force(path)
    assert in_force.file == "ours.toml"
    assert list(in_force.instruments) == ["GSE10", "BARC10", "PHQ9", "GAD7", "MIRC"]
    phq = in_force.instruments["PHQ9"]
    # replaced whole: the program's threshold and name, nothing kept from the built-in entry
    assert phq.threshold == 4 and phq.name == "PHQ-9 (program cut-off)" and phq.items == ""
    assert in_force.instruments["MIRC"].origin == "ours.toml"


def test_the_environment_names_the_file_for_the_apps_loads(tmp_path, monkeypatch):
    path = write(tmp_path, "env.toml", PROGRAM_FILE)
    monkeypatch.setenv(registry.REGISTRY_ENV, str(path))
    assert "MIRC" in registry.in_force().instruments
    assert registry.in_force_file_name() == "env.toml"
    # the demo asks for the built-in registry alone, whatever the environment says
    assert "MIRC" not in registry.in_force(registry.BUILTIN_FILE).instruments


ENTRY = """[instruments.X1]
name = "X"
min = 0
max = 10
higher_is_better = true
reliability = 0.8
"""


@pytest.mark.parametrize(("text", "why"), [
    ("[instruments.X1\nname = 1", "not valid TOML"),
    (ENTRY.replace("max = 10", "max = 10\nmaximum = 12"), "unknown key 'maximum'"),
    ("title = 'x'\n" + ENTRY, "unknown key 'title'"),
    (ENTRY.replace("min = 0", "min = 12"), "min 12 is greater than max 10"),
    (ENTRY.replace("reliability = 0.8", "reliability = 1.2"), "reliability 1.2 is outside (0, 1)"),
    (ENTRY.replace("reliability = 0.8", "reliability = 0"), "reliability 0 is outside (0, 1)"),
    (ENTRY.replace("reliability = 0.8", "reliability = 1"), "reliability 1 is outside (0, 1)"),
    (ENTRY.replace("reliability = 0.8\n", ""), "reliability is missing"),
    (ENTRY.replace("higher_is_better = true", 'higher_is_better = "yes"'), "higher_is_better must be true or false"),
    (ENTRY + "threshold = 11\n", "threshold 11 is outside the score range 0-10"),
    (ENTRY + "mcid = -1\n", "mcid -1 must be above 0"),
    (ENTRY.replace("min = 0", 'min = "zero"'), "min must be a number"),
    (ENTRY.replace("X1", "phq-9"), "must be upper-case letters, digits or _"),
    ("", "no [instruments.CODE] table"),
])
def test_registry_file_faults_are_one_line(tmp_path, text, why):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(registry.RegistryError) as info:
        registry.read_file(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith("bad.toml") and why in message, message


def test_a_bad_registry_file_refuses_the_ingest_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(pseudonym.KEY_ENV, KEY.decode())
    bad = write(tmp_path, "bad.toml", ENTRY.replace("reliability = 0.8", "reliability = 1.5"))
    db = tmp_path / "s.duckdb"
    code = cli.main(["ingest", str(write_program(tmp_path / "p")), "--db", str(db), "--today", "2026-06-30",
                     "--instruments", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "bad.toml: instrument X1: reliability 1.5 is outside (0, 1)" in err
    assert not db.exists()
    # no path of the machine in the message, only the file's name
    assert str(tmp_path) not in err


# ------------------------------------------------------------------------------- the store's copy


def test_a_load_keeps_the_definitions_it_used(tmp_path):
    db = tmp_path / "s.duckdb"
    load(write_program(tmp_path / "p"), db)
    assert rows(db, "select max(load_id) from instrument_definitions") == [(1,)]
    ours = write(tmp_path, "ours.toml", PROGRAM_FILE)
    extra = PROGRAM["assessments"] + "A05,P002,MIRC,2025-02-01,70\n"
    report = load(write_program(tmp_path / "q", assessments=extra), db, instruments=ours)
    assert any("instrument registry from ours.toml" in n and "added MIRC" in n for n in report.notes)
    # every load's definitions are kept; metrics read the latest load's
    assert rows(db, "select load_id, count(*) from instrument_definitions group by load_id order by load_id") == [
        (0, 4), (1, 4), (2, 5)]
    con = store.connect_read(db)
    try:
        stored = stored_registry.stored(con)
        assert stored["PHQ9"].threshold == 4 and stored["MIRC"].origin == "ours.toml"
        # reported: GSE10 and BARC10 always, and every other instrument with an assessment
        assert stored_registry.reported_codes(con) == ["GSE10", "BARC10", "MIRC"]
        cur = views.analysis_connection(con)
        frame = instruments.instrument_registry(cur)
        assert frame.set_index("code")["reported"].to_dict() == {
            "GSE10": True, "BARC10": True, "PHQ9": False, "GAD7": False, "MIRC": True}
        assert list(outcomes.instruments(cur)) == ["GSE10", "BARC10", "MIRC"]
    finally:
        con.close()


def test_a_registry_that_does_not_fit_the_stored_data_is_refused(tmp_path):
    db = tmp_path / "s.duckdb"
    ours = write(tmp_path, "ours.toml", PROGRAM_FILE)
    extra = PROGRAM["assessments"] + "A05,P002,MIRC,2025-02-01,70\n"
    load(write_program(tmp_path / "p", assessments=extra), db, instruments=ours)
    again = write_program(tmp_path / "q")
    # direction change for stored data
    flipped = write(tmp_path, "flip.toml", PROGRAM_FILE.replace("higher_is_better = true", "higher_is_better = false"))
    refused(again, db, "flip.toml (with the built-in registry): MIRC would change direction for stored data",
            instruments=flipped)
    # a range that would put stored scores out of range
    narrow = write(tmp_path, "narrow.toml", PROGRAM_FILE.replace("min = 28", "min = 75").replace("threshold = 80",
                                                                                                   "threshold = 90"))
    refused(again, db, "narrow.toml (with the built-in registry): MIRC range 75-112 would put stored MIRC scores",
            instruments=narrow)
    # stored data of an instrument the registry no longer defines
    refused(again, db, "the store holds 1 MIRC assessments but the built-in registry (instruments.toml) does "
                       "not define MIRC")


def test_an_unknown_instrument_names_the_instrument_and_the_file(tmp_path):
    db = tmp_path / "s.duckdb"
    load(write_program(tmp_path / "p"), db)
    extra = PROGRAM["assessments"] + "A05,P002,MIRC,2025-02-01,70\n"
    msg = refused(write_program(tmp_path / "q", assessments=extra), db,
                  "assessments.csv row 6, column instrument: instrument MIRC is not defined in the built-in "
                  "registry (instruments.toml)", "--instruments FILE", registry.REGISTRY_ENV)
    assert "[instruments.MIRC]" in msg
    ours = write(tmp_path, "other.toml", ENTRY)
    refused(write_program(tmp_path / "r", assessments=extra), db, "not defined in other.toml (with the built-in "
            "registry)", instruments=ours)


def test_scores_outside_a_program_instruments_range_are_refused(tmp_path):
    db = tmp_path / "s.duckdb"
    ours = write(tmp_path, "ours.toml", PROGRAM_FILE)
    extra = PROGRAM["assessments"] + "A05,P002,MIRC,2025-02-01,120\n"
    refused(write_program(tmp_path / "p", assessments=extra), db, "assessments.csv row 6, column score",
            "outside the MIRC score range 28-112", instruments=ours)


def test_an_old_store_is_migrated_with_the_builtin_registry(tmp_path):
    import duckdb

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    for sql in store.MIGRATIONS[0][1]:
        con.execute(sql)
    con.execute("insert into schema_meta values ('schema_version', '1')")
    con.close()
    con = duckdb.connect(str(db))
    assert store.migrate(con) == store.SCHEMA_VERSION  # every later migration runs too
    assert con.execute("select load_id, code from instrument_definitions order by position").fetchall() == [
        (0, "GSE10"), (0, "BARC10"), (0, "PHQ9"), (0, "GAD7")]
    con.close()


# ------------------------------------------------------------------------------- a lower-is-better instrument

PHQ9 = [
    # assessment_id, participant_id, instrument, administered_on, score
    ("ph1", "pt1", "PHQ9", "2026-01-02", 18),
    ("ph2", "pt1", "PHQ9", "2026-02-15", 9),
    ("ph3", "pt2", "PHQ9", "2026-01-06", 12),
    ("ph4", "pt2", "PHQ9", "2026-01-20", 5),  # 14 days after baseline: not a follow-up
    ("ph5", "pt2", "PHQ9", "2026-03-20", 9),
    ("ph6", "pt3", "PHQ9", "2026-01-12", 8),
    ("ph7", "pt3", "PHQ9", "2026-03-01", 15),
    ("ph8", "pt4", "PHQ9", "2026-02-02", 20),
    ("ph9", "pt4", "PHQ9", "2026-03-10", 15),
]


@pytest.fixture(scope="module")
def phq_store(tmp_path_factory):
    path = tiny_program.build(tmp_path_factory.mktemp("phq") / "phq.duckdb")
    with store.swap_writer(path) as con:
        con.executemany("insert into assessments values (?, ?, ?, ?, ?)", PHQ9)
    return path


@pytest.fixture()
def phq(phq_store):
    con = store.connect_read(phq_store)
    cur = views.analysis_connection(con)
    scope = resolve_scope(cur, start="2026-01-01", end="2026-03-31", as_of="2026-03-31")
    yield cur, scope
    cur.close()
    con.close()


def test_phq9_change_reads_lower_as_better(phq):
    cur, scope = phq
    row = outcomes.outcome_change(cur, scope).set_index("instrument").loc["PHQ9"]
    # paired: pt1 18 -> 9 (-9), pt2 12 -> 9 (-3; ph4 is 14 days in), pt3 8 -> 15 (+7), pt4 20 -> 15 (-5)
    assert row["n_paired"] == 4
    # raw sign kept: (-9 - 3 + 7 - 5) / 4 = -2.5
    assert row["mean_change"] == pytest.approx(-2.5)
    # baselines 18, 12, 8, 20: mean 14.5, squares 12.25 + 6.25 + 42.25 + 30.25 = 91, SD_b = sqrt(91 / 3)
    sd_b = math.sqrt(91 / 3)
    assert row["sd_baseline"] == pytest.approx(sd_b)
    # S_diff = sqrt(2) * SD_b * sqrt(1 - 0.84) = 3.1153; d = -1 (lower is better)
    s_diff = math.sqrt(2) * sd_b * math.sqrt(0.16)
    assert row["s_diff"] == pytest.approx(s_diff)
    # d * RC: pt1 9 / 3.1153 = 2.89 (improved), pt2 0.96, pt4 1.61 (no reliable change),
    # pt3 -7 / 3.1153 = -2.25 (declined): a PHQ-9 drop is an improvement
    assert (row["improved"], row["no_reliable_change"], row["declined"]) == (1, 2, 1)
    assert row["reliable_improvement_rate"] == pytest.approx(1 / 4)
    assert row["reliable_decline_rate"] == pytest.approx(1 / 4)
    # MCID 5: d * change = 9, 3, -7, 5 -> pt1 and pt4 (5 >= 5) improved, pt3 (-7 <= -5) declined
    assert row["meaningful_improvement_rate"] == pytest.approx(2 / 4)
    assert row["meaningful_decline_rate"] == pytest.approx(1 / 4)
    # cut-off 9 or less: intake 18, 12, 8, 20 -> pt3 only; follow-up 9, 9, 15, 15 -> pt1, pt2
    assert row["threshold_baseline_share"] == pytest.approx(1 / 4)
    assert row["threshold_followup_share"] == pytest.approx(2 / 4)


def test_phq9_in_the_summary_with_its_dose_block(phq):
    cur, scope = phq
    doc = summary.raw_summary(cur, scope, min_cell=1)
    assert list(doc["outcomes"]) == ["GSE10", "BARC10", "PHQ9"]
    o = doc["outcomes"]["PHQ9"]
    assert o["threshold"] == {"value": 9.0, "baseline_share": 0.25, "followup_share": 0.5}
    # dose = attended, unflagged sessions of the participant's pairs from baseline to follow-up:
    # pt1 (pr1, Jan 2 - Feb 15): ss1, ss3 = 2 (ss4 flagged); pt2 (pr2, Jan 6 - Mar 20): ss6, ss7 = 2;
    # pt3 (pr3, Jan 12 - Mar 1): ss9 = 1; pt4 (pr4, Feb 2 - Mar 10): ss11 = 1. All in 0-3.
    assert o["dose"]["n"] == 4
    assert o["dose"]["bands"] == {"0-3": {"n": 4, "mean_change": -2.5}, "4-11": {"n": 0, "mean_change": None},
                                  "12+": {"n": 0, "mean_change": None}}
    # OLS change ~ 1 + dose/4 + baseline on (0.5, 18, -9), (0.5, 12, -3), (0.25, 8, 7), (0.25, 20, -5):
    # statsmodels gives the same slope and classical 95% CI (t with n - 3 = 1 df)
    x = sm.add_constant(np.array([[0.5, 18], [0.5, 12], [0.25, 8], [0.25, 20]]))
    fit = sm.OLS(np.array([-9.0, -3, 7, -5]), x).fit()
    assert o["dose"]["slope_per_4_sessions"] == pytest.approx(fit.params[1], abs=1e-9)
    assert o["dose"]["ci95"] == pytest.approx(list(fit.conf_int(0.05)[1]), abs=1e-9)
    # GSE10 has no cut-off: its threshold block is null; every old key is still there
    assert doc["outcomes"]["GSE10"]["threshold"] is None
    assert doc["outcomes"]["GSE10"]["meaningful_improvement_rate"] is None


def test_the_ols_slope_by_hand():
    # stats.ols_slope: the coefficient of dose/4 in change ~ 1 + dose/4 + baseline
    # dose/4 = 0, 0, 1, 1 and baseline 10, 20, 10, 20 are orthogonal once centred; change =
    # 1 + 2 * dose/4 + 0.1 * baseline + e with e = +0.5, -0.5, -0.5, +0.5 (orthogonal to all three):
    # b1 = 2 exactly; RSS = 4 * 0.25 = 1, df = 1, sigma^2 = 1; Sxx = 4 * 0.5^2 = 1, SE(b1) = 1;
    # t(0.975, 1) = 12.7062047, so the CI is 2 -/+ 12.7062047
    doses = np.array([0, 0, 4, 4])
    baseline = np.array([10.0, 20, 10, 20])
    change = 1 + 2 * doses / 4 + 0.1 * baseline + np.array([0.5, -0.5, -0.5, 0.5])
    b1, lo, hi = stats.ols_slope(doses / 4, baseline, change)
    assert b1 == pytest.approx(2.0)
    assert (lo, hi) == pytest.approx((2 - 12.7062047, 2 + 12.7062047))
    lstsq = np.linalg.lstsq(sm.add_constant(np.column_stack([doses / 4, baseline])), change, rcond=None)[0]
    assert b1 == pytest.approx(lstsq[1])
    # null when n < 4 or the design is singular (every dose the same)
    assert stats.ols_slope(doses[:3] / 4, baseline[:3], change[:3]) is None
    assert stats.ols_slope(np.array([1.0, 1, 1, 1]), baseline, change) is None


def test_dose_bands_edges():
    assert [dose.band_of(d) for d in (0, 3, 4, 11, 12, 40)] == ["0-3", "0-3", "4-11", "4-11", "12+", "12+"]
    assert list(dose.bands_of(np.array([0, 3, 4, 11, 12, 40]))) == ["0-3", "0-3", "4-11", "4-11", "12+", "12+"]


def test_dose_rows_split_into_their_group_and_instrument_runs():
    import pyarrow as pa

    rows = pa.table({"grp": ["a", "a", "a", "b", "b"], "instrument": ["GSE10", "GSE10", "PHQ9", "GSE10", "GSE10"],
                     "change": [1.5, 2.0, -3.0, 0.25, 4.0], "baseline_score": [20.0, 21, 12, 30, 31],
                     "dose": pa.array([0, 5, 12, 3, 3], pa.int64()),
                     "times": pa.array([2, 1, 1, 3, 1], pa.int64())})
    parts = dose._runs(rows)
    assert list(parts) == [("a", "GSE10"), ("a", "PHQ9"), ("b", "GSE10")]
    # each distinct row stands for `times` participants: a's GSE10 run is 1.5, 1.5, 2.0; b's is
    # 0.25 three times, then 4.0
    assert parts[("a", "GSE10")]["change"].tolist() == [1.5, 1.5, 2.0]
    assert parts[("b", "GSE10")]["change"].tolist() == [0.25, 0.25, 0.25, 4.0]
    frame = rows.to_pandas().loc[lambda f: f.index.repeat(f["times"])]
    for (grp, code), part in parts.items():
        want = frame[(frame["grp"] == grp) & (frame["instrument"] == code)][["change", "baseline_score", "dose"]]
        assert {c: v.tolist() for c, v in part.items()} == {c: want[c].tolist() for c in want}
        assert part["dose"].dtype == np.int64 and part["change"].dtype == np.float64
    assert dose._runs(rows.slice(0, 0)) == {}
    # a key whose rows are not one run (the query's order lost) is refused, not split twice
    with pytest.raises(ValueError, match="not ordered"):
        dose._runs(rows.take([0, 3, 1]))


def test_suppressed_summary_hides_small_phq9_cells(phq):
    cur, scope = phq
    doc = summary.build_summary(cur, scope, min_cell=11)
    o = doc["outcomes"]["PHQ9"]
    # 4 paired participants: every share and the dose figures are hidden and listed
    assert o["n_paired"] is None and o["meaningful_improvement_rate"] is None
    assert o["threshold"]["value"] == 9.0 and o["threshold"]["baseline_share"] is None
    assert o["dose"]["n"] is None and o["dose"]["slope_per_4_sessions"] is None
    assert o["dose"]["bands"]["0-3"]["n"] is None and o["dose"]["bands"]["4-11"]["n"] == 0
    for path in ("outcomes.PHQ9.threshold.baseline_share", "outcomes.PHQ9.dose.slope_per_4_sessions",
                 "outcomes.PHQ9.meaningful_improvement_rate", "outcomes.PHQ9.dose.bands.0-3.n"):
        assert path in doc["suppressed"]


def test_phq9_words_flip(phq):
    from analytics.present import charts, theme
    from analytics.present import sentences as narrative

    cur, scope = phq
    change = outcomes.outcome_change(cur, scope)
    inst = registry.builtin()["PHQ9"]
    text = narrative.outcome_sentence("PHQ9", change, k=1, grp="all", inst=inst)
    assert "fell by 2.5 points on average (95% CI" in text and "lower is better, so an improvement)" in text
    assert "improved by at least the minimal important change (5 points)" in text
    assert "9 or less" in narrative.threshold_sentence("PHQ9", change, k=1, grp="all", inst=inst)
    fig = charts.intake_followup_chart(change, "PHQ9", k=1, inst=inst)
    assert "lower scores are better" in fig.layout.meta.get("footnote", "") or any(
        "lower scores are better" in (a.text or "") for a in fig.layout.annotations)
    dose_rows = dose.dose_change(cur, scope)
    fig = charts.dose_change_chart(dose_rows, "PHQ9", k=1, inst=inst)
    # a mean fall of 2.5 on the PHQ-9 is drawn in the improvement colour
    assert fig.data[0].marker.color[0] == theme.IMPROVED
    assert "lower is better" in fig.layout.yaxis.title.text
    assert "An association, not an effect" in fig.to_json()
    dist = outcomes.change_distribution(cur, scope)
    fig = charts.change_distribution_chart(dist, "PHQ9", k=1, inst=inst)
    colours = dict(zip(fig.data[0].x, fig.data[0].marker.color, strict=True))
    assert colours[-9] == theme.IMPROVED and colours[7] == theme.DECLINED


def test_the_same_files_and_registry_loaded_twice_change_nothing(tmp_path):
    db = tmp_path / "s.duckdb"
    ours = write(tmp_path, "ours.toml", PROGRAM_FILE)
    first = load(write_program(tmp_path / "p"), db, instruments=ours)
    assert first.changed and any("added MIRC" in n and "changed PHQ9" in n for n in first.notes)
    again = load(write_program(tmp_path / "p"), db, instruments=ours)
    assert not again.changed and not any("instrument registry" in n for n in again.notes)
    # the same entry under another file name is the same definition
    copy = write(tmp_path, "copy.toml", PROGRAM_FILE)
    assert not load(write_program(tmp_path / "p"), db, instruments=copy).changed
