"""An independent check of every `outcomes.<CODE>` block of the summary, the new keys included.

The program is one the other tests never see: the demo generator with another seed and size,
plus scores of an instrument only this program's registry file defines (MIRC, higher is better)
and a PHQ-9 entry of its own (another cut-off and minimal important change). It is loaded with
that registry file through the ordinary load, and the summary command's JSON is compared, at
1e-6, with the definitions of docs/metrics.md computed here in plain pandas from the store's
tables and the registry files read with tomllib (statsmodels for the dose regression).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tomllib
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from fixtures.load_helpers import load, write
from scipy import stats as sps

from analytics.demo import write_demo_exports
from analytics.domain import instruments as registry

SEED, PARTICIPANTS, AS_OF = 20261202, 420, date(2026, 6, 30)

REGISTRY_FILE = """
[instruments.MIRC]
name = "Multidimensional Inventory of Recovery Capital"
min = 28
max = 112
higher_is_better = true
reliability = 0.93
mcid = 8
threshold = 84
construct = "recovery capital"
source = "figures chosen for this check"

[instruments.PHQ9]
name = "Patient Health Questionnaire-9"
min = 0
max = 27
higher_is_better = false
reliability = 0.89
mcid = 6
threshold = 4
construct = "depression symptoms"
source = "figures chosen for this check"
"""


def _add_mirc(folder) -> None:
    """Append MIRC scores (intake and up to two follow-ups) for about half the participants."""
    rng = np.random.default_rng(SEED)
    people = pd.read_csv(folder / "participants.csv", dtype=str)
    path = folder / "assessments.csv"
    tests = pd.read_csv(path, dtype=str)
    enrolled = pd.to_datetime(people["enrolled_on"])
    rows = []
    for pid, start in zip(people["participant_id"], enrolled, strict=True):
        if rng.random() < 0.5:
            continue
        level, gain = rng.normal(62, 12), rng.normal(9, 10)
        days = [int(rng.integers(0, 8))]
        days += sorted({int(d) for d in rng.integers(20, 260, size=int(rng.integers(0, 3)))})
        for d in days:
            when = (start + pd.Timedelta(days=d)).date()
            if when > AS_OF:
                continue
            score = int(np.clip(round(level + gain * min(1.0, d / 150) + rng.normal(0, 4)), 28, 112))
            rows.append({"assessment_id": f"MX{len(rows):06d}", "participant_id": pid, "instrument": "MIRC",
                         "administered_on": when.isoformat(), "score": str(score)})
    pd.concat([tests, pd.DataFrame(rows)]).to_csv(path, index=False)


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    base = tmp_path_factory.mktemp("unseen")
    folder = base / "exports"
    write_demo_exports(folder, participants=PARTICIPANTS, seed=SEED, as_of=AS_OF)
    _add_mirc(folder)
    reg_path = write(base, "program_instruments.toml", REGISTRY_FILE)
    db = base / "unseen.duckdb"
    load([folder], db, instruments=reg_path, today=date(2026, 7, 1))
    return db, reg_path


def _registry(path) -> dict[str, dict]:
    """The built-in file with the program's file laid over it, entry by entry (read here with tomllib)."""
    merged = dict(tomllib.loads(registry.BUILTIN_FILE.read_text())["instruments"])
    merged.update(tomllib.loads(path.read_text())["instruments"])
    return merged


def _tables(db) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"select * from {t}").df() for t in ("participants", "pairs", "sessions", "assessments")}
    finally:
        con.close()


def _expected(t: dict[str, pd.DataFrame], reg: dict[str, dict]) -> dict[str, dict]:
    pairs, sessions, assess = t["pairs"].copy(), t["sessions"].copy(), t["assessments"].copy()
    for df, cols in ((pairs, ("matched_on", "closed_on")), (sessions, ("session_date",)),
                     (assess, ("administered_on",))):
        for c in cols:
            df[c] = pd.to_datetime(df[c])
    a_day = sessions["session_date"].max()  # A: the latest session date
    s_day, e_day = pairs["matched_on"].min(), a_day  # S: the earliest match; E = A
    closed_at_a = pairs["closed_on"].where(pairs["closed_on"] <= a_day)
    in_scope = pairs[(pairs["matched_on"] <= e_day) & (closed_at_a.isna() | (closed_at_a >= s_day))]
    people = set(in_scope["participant_id"])

    # dose: attended sessions inside their pair's dates, of any of the participant's pairs
    s = sessions.merge(pairs[["pair_id", "participant_id", "matched_on", "closed_on"]], on="pair_id")
    inside = (s["session_date"] >= s["matched_on"]) & (s["closed_on"].isna() | (s["session_date"] <= s["closed_on"]))
    attended = s[inside & (s["status"] == "attended")]

    present = set(assess["instrument"])
    codes = ["GSE10", "BARC10"] + [c for c in reg if c not in ("GSE10", "BARC10") and c in present]
    out = {}
    for code in codes:
        entry = reg[code]
        d = 1 if entry["higher_is_better"] else -1
        a = assess[(assess["instrument"] == code) & (assess["administered_on"] <= a_day)]
        a = a.sort_values(["participant_id", "administered_on"])
        base = a.groupby("participant_id").first()[["administered_on", "score"]]
        base.columns = ["b_on", "b"]
        later = a.merge(base, left_on="participant_id", right_index=True)
        later = later[later["administered_on"] >= later["b_on"] + pd.Timedelta(days=28)]
        follow = later.groupby("participant_id").last()[["administered_on", "score"]]
        follow.columns = ["f_on", "f"]
        p = base.join(follow, how="inner")
        p = p[p.index.isin(people)].copy()
        p["change"] = p["f"] - p["b"]
        n = len(p)
        block = {"n_paired": n}
        if n == 0:
            out[code] = block
            continue
        mean, sd = p["change"].mean(), p["change"].std(ddof=1) if n >= 2 else None
        block.update(baseline_mean=p["b"].mean(), followup_mean=p["f"].mean(), mean_change=mean, sd_change=sd)
        half = sps.t.ppf(0.975, n - 1) * sd / math.sqrt(n) if n >= 2 else None
        block["ci95"] = [mean - half, mean + half] if half is not None else None
        block["cohens_dz"] = mean / sd if sd else None
        s_diff = math.sqrt(2) * p["b"].std(ddof=1) * math.sqrt(1 - entry["reliability"]) if n >= 2 else None
        rc = d * p["change"] / s_diff if s_diff else None
        block["reliable_improvement_rate"] = float((rc >= 1.96).mean()) if rc is not None else None
        block["reliable_decline_rate"] = float((rc <= -1.96).mean()) if rc is not None else None
        mcid = entry.get("mcid")
        block["meaningful_improvement_rate"] = float((d * p["change"] >= mcid).mean()) if mcid else None
        block["meaningful_decline_rate"] = float((d * p["change"] <= -mcid).mean()) if mcid else None
        cut = entry.get("threshold")
        block["threshold"] = None if cut is None else {
            "value": float(cut),
            "baseline_share": float((d * p["b"] >= d * cut).mean()),
            "followup_share": float((d * p["f"] >= d * cut).mean()),
        }
        doses = []
        for pid, r in p.iterrows():
            mine = attended[attended["participant_id"] == pid]
            doses.append(int(((mine["session_date"] >= r["b_on"]) & (mine["session_date"] <= r["f_on"])).sum()))
        p["dose"] = doses
        fit = sm.OLS(p["change"].to_numpy(float), sm.add_constant(
            np.column_stack([p["dose"] / 4, p["b"]]).astype(float))).fit() if n >= 4 else None
        bands = {"0-3": p[p["dose"] <= 3], "4-11": p[(p["dose"] >= 4) & (p["dose"] <= 11)], "12+": p[p["dose"] >= 12]}
        block["dose"] = {
            "n": n,
            "slope_per_4_sessions": float(fit.params[1]) if fit is not None else None,
            "ci95": [float(x) for x in fit.conf_int(0.05)[1]] if fit is not None else None,
            "bands": {k: {"n": len(v), "mean_change": float(v["change"].mean()) if len(v) else None}
                      for k, v in bands.items()},
        }
        out[code] = block
    return out


def _close(got, want, path):
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        for k in want:
            _close(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert got is not None and len(got) == len(want), path
        for x, y in zip(got, want, strict=True):
            assert x == pytest.approx(y, rel=1e-6, abs=1e-6), path
    elif want is None:
        assert got is None, path
    else:
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6), path


def test_every_outcomes_block_equals_an_independent_computation(program):
    db, reg_path = program
    out = subprocess.run([sys.executable, "-m", "analytics", "summary", "--db", str(db), "--min-cell", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    want = _expected(_tables(db), _registry(reg_path))
    assert list(doc["outcomes"]) == list(want) == ["GSE10", "BARC10", "PHQ9", "MIRC"]
    for code, block in want.items():
        assert block["n_paired"] > 30, code  # a real test, not an empty one
        got = doc["outcomes"][code]
        # every key of the block, old and new, is in both and agrees
        assert set(got) == set(block), code
        _close(got, block, f"outcomes.{code}")
    # the program's entries are the ones in force: PHQ-9's own cut-off (4) and MIRC's direction
    assert doc["outcomes"]["PHQ9"]["threshold"]["value"] == 4.0
    assert doc["outcomes"]["MIRC"]["threshold"]["value"] == 84.0
    # a lower-is-better drop is an improvement: the PHQ-9 mean falls and improvements outnumber declines
    phq = doc["outcomes"]["PHQ9"]
    assert phq["mean_change"] < 0 and phq["reliable_improvement_rate"] > phq["reliable_decline_rate"]
    assert phq["meaningful_improvement_rate"] > phq["meaningful_decline_rate"]
