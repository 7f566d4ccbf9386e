"""A straightforward pandas implementation of the ungrouped summary (METRICS.md).

It loads whole tables into memory and computes every number with plain pandas, the way one
would without a database. It serves twice: as the benchmark's baseline, and in the tests as an
independent implementation that the SQL metrics must agree with.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

DISENGAGEMENT = {"participant_withdrew", "lost_contact"}
INSTRUMENTS = {"GSE10": 0.86, "BARC10": 0.90}


def load_tables(path: str) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(path, read_only=True)
    try:
        return {
            t: con.execute(f"select * from {t}").df()  # noqa: S608 - fixed names
            for t in ("participants", "mentors", "pairs", "sessions", "goals", "assessments")
        }
    finally:
        con.close()


def _d(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s)


def pandas_summary(t: dict[str, pd.DataFrame], as_of: date | None = None, start: date | None = None,
                   end: date | None = None) -> dict:
    sessions = t["sessions"].assign(session_date=_d(t["sessions"]["session_date"]))
    pairs = t["pairs"].assign(matched_on=_d(t["pairs"]["matched_on"]), closed_on=_d(t["pairs"]["closed_on"]))
    A = pd.Timestamp(as_of) if as_of else sessions["session_date"].max()
    S = pd.Timestamp(start) if start else pairs["matched_on"].min()
    E = pd.Timestamp(end) if end else A

    pairs = pairs[pairs["matched_on"] <= A].copy()
    closed_at = pairs["closed_on"].where(pairs["closed_on"] <= A)
    pairs["closed_at"] = closed_at
    pairs["reason_at"] = pairs["close_reason"].where(closed_at.notna())
    in_scope = pairs[(pairs["matched_on"] <= E) & (pairs["closed_at"].isna() | (pairs["closed_at"] >= S))]
    matched = pairs[(pairs["matched_on"] >= S) & (pairs["matched_on"] <= E)]
    active = pairs[(pairs["matched_on"] <= E) & (pairs["closed_at"].isna() | (pairs["closed_at"] > E))]

    # sessions inside their pair's dates (flagged ones excluded)
    sp = sessions.merge(t["pairs"][["pair_id", "matched_on", "closed_on"]].assign(
        m=_d(t["pairs"]["matched_on"]), c=_d(t["pairs"]["closed_on"])), on="pair_id")
    clean = sp[(sp["session_date"] >= sp["m"]) & (sp["c"].isna() | (sp["session_date"] <= sp["c"]))]
    ss = clean[clean["pair_id"].isin(in_scope["pair_id"]) & clean["session_date"].between(S, E)]
    att = int((ss["status"] == "attended").sum())
    ns = int((ss["status"] == "no_show").sum())
    can = int((ss["status"] == "cancelled").sum())
    hours = float(ss.loc[ss["status"] == "attended", "duration_min"].sum()) / 60
    lo = in_scope["matched_on"].where(in_scope["matched_on"] > S, S)
    hi = in_scope["closed_at"].fillna(E).where(in_scope["closed_at"].fillna(E) < E, E)
    pair_days = int(np.maximum(0, (hi - lo).dt.days + 1).sum())
    firsts = clean[(clean["status"] == "attended") & (clean["session_date"] <= A)
                   & clean["pair_id"].isin(matched["pair_id"])]
    firsts = firsts[firsts["session_date"] >= firsts["m"]].groupby("pair_id").agg(
        first=("session_date", "min"), m=("m", "first"))
    med_first = float((firsts["first"] - firsts["m"]).dt.days.median()) if len(firsts) else None

    # retention
    dur = (matched["closed_at"].fillna(A) - matched["matched_on"]).dt.days
    ev = matched["closed_at"].notna() & matched["reason_at"].isin(DISENGAGEMENT)
    surv, km = 1.0, {}
    times = sorted(set(dur[ev]))
    curve = []
    for d in times:
        at_risk = int((dur >= d).sum())
        e = int(((dur == d) & ev).sum())
        surv *= 1 - e / at_risk
        curve.append((d, surv))
    def km_at(day):
        v = [s for d, s in curve if d <= day]
        return v[-1] if v else 1.0
    for day in (30, 90, 180):
        km[f"km_{day}"] = km_at(day) if len(matched) else None
    med = next((d for d, s in curve if s <= 0.5), None)
    elig = matched[matched["matched_on"] <= A - timedelta(days=90)]
    elig_dur = (elig["closed_at"].fillna(A) - elig["matched_on"]).dt.days
    elig_ev = elig["closed_at"].notna() & elig["reason_at"].isin(DISENGAGEMENT) & (elig_dur < 90)
    retained = float((~elig_ev).mean()) if len(elig) else None

    # outcomes
    people = set(in_scope["participant_id"])
    a = t["assessments"].assign(administered_on=_d(t["assessments"]["administered_on"]))
    a = a[a["participant_id"].isin(people) & (a["administered_on"] <= A)]
    outcomes = {}
    for code, r in INSTRUMENTS.items():
        x = a[a["instrument"] == code].sort_values("administered_on")
        base = x.groupby("participant_id", as_index=False).first()[["participant_id", "administered_on", "score"]]
        j = x.merge(base, on="participant_id", suffixes=("", "_b"))
        j = j[j["administered_on"] >= j["administered_on_b"] + timedelta(days=28)]
        fol = j.sort_values("administered_on").groupby("participant_id", as_index=False).last()
        rows = list(zip(fol["score_b"], fol["score"], strict=True))
        n = len(rows)
        if n:
            bs = np.array([b for b, _ in rows])
            fs = np.array([f for _, f in rows])
            ch = fs - bs
            sd = float(ch.std(ddof=1)) if n >= 2 else None
            ci = None
            if n >= 2:
                h = sps.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
                ci = [float(ch.mean() - h), float(ch.mean() + h)]
            sdiff = math.sqrt(2) * bs.std(ddof=1) * math.sqrt(1 - r) if n >= 2 else None
            outcomes[code] = {
                "n_paired": n, "baseline_mean": float(bs.mean()), "followup_mean": float(fs.mean()),
                "mean_change": float(ch.mean()), "sd_change": sd, "ci95": ci,
                "cohens_dz": float(ch.mean() / sd) if sd else None,
                "reliable_improvement_rate": float((ch / sdiff >= 1.96).mean()) if sdiff else None,
                "reliable_decline_rate": float((ch / sdiff <= -1.96).mean()) if sdiff else None,
            }
        else:
            outcomes[code] = {"n_paired": 0}

    # goals
    g = t["goals"].assign(set_on=_d(t["goals"]["set_on"]), achieved_on=_d(t["goals"]["achieved_on"]))
    g = g[g["pair_id"].isin(in_scope["pair_id"]) & g["set_on"].between(S, E)]
    ach = (g["status"] == "achieved") & (g["achieved_on"] <= A)
    days = (g.loc[ach, "achieved_on"] - g.loc[ach, "set_on"]).dt.days
    return {
        "as_of": A.date().isoformat(), "start": S.date().isoformat(), "end": E.date().isoformat(),
        "pairs": {"in_scope": len(in_scope), "matched_in_period": len(matched), "active_at_end": len(active)},
        "participants": {"in_scope": int(in_scope["participant_id"].nunique())},
        "engagement": {
            "attended": att, "no_show": ns, "cancelled": can,
            "attendance_rate": att / (att + ns) if att + ns else None, "contact_hours": hours,
            "pair_days": pair_days,
            "sessions_per_pair_month": att / (pair_days / 30.4375) if pair_days else None,
            "median_days_to_first_session": med_first,
        },
        "retention": {"pairs": len(matched), "events": int(ev.sum()), **km,
                      "median_days": float(med) if med is not None else None,
                      "eligible_90": len(elig), "retained_90": retained},
        "outcomes": outcomes,
        "goals": {"set": len(g), "achieved": int(ach.sum()),
                  "achievement_rate": float(ach.mean()) if len(g) else None,
                  "median_days_to_achieve": float(days.median()) if len(days) else None},
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(pandas_summary(load_tables(sys.argv[1])), indent=2, default=str))
