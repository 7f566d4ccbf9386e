"""The `summary` JSON of METRICS.md: a stable interface other tools script against.

Keys are fixed; numbers are unrounded; null where undefined. `build_summary` returns the
suppressed document (privacy.suppress_summary); `raw_summary` the unsuppressed one, for
internal use and tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import duckdb
import pandas as pd

from analytics import privacy
from analytics.domain.contract import CODEBOOKS
from analytics.domain.numbers import finite_or_none
from analytics.domain.scope import ALL_GROUP, Scope
from analytics.metrics import compare, dose, followup, goals, outcomes
from analytics.metrics.scope import rows_by


def _num(x):
    """JSON-safe number: NaN -> None, numpy scalars -> Python."""
    if x is None:
        return None
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def _json_safe(node):
    """`node` with every number made JSON-safe (`_num`), through dicts and lists."""
    if isinstance(node, dict):
        return {k: _json_safe(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_safe(v) for v in node]
    return _num(node)


def _int(x) -> int:
    v = _num(x)
    return int(v) if v is not None else 0


def _split(df, keys: list[str]) -> dict:
    """Each key's rows, split off once (the rows a boolean filter per key would give, in order),
    for frames with several rows a key (the dose bands, the goal domains; one row a key:
    ``rows_by``): filtering every frame again for each of hundreds of groups made `--by mentor`
    quadratic."""
    return dict(tuple(df.groupby(keys, sort=False))) if len(df) else {}


def _followup_block(counts: dict, attrition: dict, grp: str, rule: str, target: float, codes) -> dict:
    """The `followup` block of one group (zeros and nulls when the group has no cohort).
    `counts`, `attrition`: the follow-up counts' rows by group and the attrition's by (group,
    instrument) (``rows_by``)."""
    c = counts.get(grp)
    doc = {"rule": rule, "target": target}
    for key in ("cohort", "due", "excused", "done", "missed"):
        doc[key] = _int(c[key]) if c is not None else 0
    doc["rate"] = finite_or_none(c["rate"]) if c is not None else None
    # rate >= target, null with the rate (a missing boolean reads as pd.NA)
    doc["meets_target"] = bool(c["meets_target"]) if doc["rate"] is not None else None
    for key in ("open_now", "opening_next_30"):
        doc[key] = _int(c[key]) if c is not None else 0
    doc["attrition"] = {}
    for code in codes:
        a = attrition.get((grp, code))
        doc["attrition"][code] = {
            "n_followed": _int(a["n_followed"]) if a is not None else 0,
            "n_missed": _int(a["n_missed"]) if a is not None else 0,
            **{
                key: finite_or_none(a[key]) if a is not None else None
                for key in ("baseline_mean_followed", "baseline_mean_missed", "smd")
            },
        }
    return doc


def _sections(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    followup_rule: str = followup.DEFAULT_RULE,
    followup_target: float = followup.DEFAULT_TARGET,
    keep: dict | None = None,
    headline: bool = False,
    given: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, dict]:
    """Every section from "pairs" on, for each group of the scope ('all' when ungrouped).
    `keep`, when given, receives the frames compare.compare_groups also needs (its `frames`).
    `headline`: without each outcome's "dose" block and without "followup" (the two costliest
    parts, which the Overview does not show); every other value is the same. `given`: as for
    compare.group_frames."""
    # The change table and the dose block read the same paired participants: paired once.
    both = not headline and "change" not in (given or {})
    paired = outcomes.paired_rows(con, scope) if both else None
    shared = compare.group_frames(con, scope, given, paired)
    if keep is not None:
        keep.update(shared)
    counts, totals, ret, outc = shared["counts"], shared["totals"], shared["retention"], shared["change"]
    codes = list(outcomes.instruments(con))
    gl = goals.goals_by_domain(con, scope)
    if headline:
        doses, fu_counts_by, fu_attrition_by = None, {}, {}
    else:
        doses = dose.dose_change(con, scope, paired)
        # the counts and the attrition read the same windows: placed once
        windows = followup.window_rows(con, scope, followup_rule)
        fu_counts_by = rows_by(followup.followup_counts(con, scope, followup_rule, followup_target, windows), "grp")
        fu_attrition_by = rows_by(followup.followup_attrition(con, scope, followup_rule, windows), "grp", "instrument")

    # one row per group (and instrument): found by key; the dose bands and the goal domains,
    # several rows per key, split off once
    counts_by, totals_by, ret_by = rows_by(counts, "grp"), rows_by(totals, "grp"), rows_by(ret, "grp")
    outc_by = rows_by(outc, "grp", "instrument")
    doses_by = _split(doses, ["grp", "instrument"]) if doses is not None else {}
    gl_by = _split(gl, ["grp"])
    no_doses = doses.iloc[0:0] if doses is not None else None

    out: dict[str, dict] = {}
    for grp in counts["grp"]:
        c, t, r = counts_by.get(grp), totals_by.get(grp), ret_by.get(grp)
        doc = {
            "pairs": {
                "in_scope": _int(c["pairs_in_scope"]),
                "matched_in_period": _int(c["matched_in_period"]),
                "active_at_end": _int(c["active_at_end"]),
            },
            "participants": {"in_scope": _int(c["participants_in_scope"])},
            "engagement": {
                "attended": _int(t["attended"]),
                "no_show": _int(t["no_show"]),
                "cancelled": _int(t["cancelled"]),
                "attendance_rate": _num(t["attendance_rate"]),
                "contact_hours": _num(t["contact_hours"]),
                "pair_days": _int(t["pair_days"]),
                "sessions_per_pair_month": _num(t["sessions_per_pair_month"]),
                "median_days_to_first_session": _num(t["median_days_to_first_session"]),
            },
            "retention": {
                "pairs": _int(r["pairs"]) if r is not None else 0,
                "events": _int(r["events"]) if r is not None else 0,
                "km_30": _num(r["km_30"]) if r is not None else None,
                "km_90": _num(r["km_90"]) if r is not None else None,
                "km_180": _num(r["km_180"]) if r is not None else None,
                "median_days": _num(r["median_days"]) if r is not None else None,
                "eligible_90": _int(r["eligible_90"]) if r is not None else 0,
                "retained_90": _num(r["retained_90"]) if r is not None else None,
            },
            "outcomes": {},
            "goals": {},
        }
        for code in codes:
            o = outc_by[(grp, code)]
            lo, hi = _num(o["ci95_low"]), _num(o["ci95_high"])
            doc["outcomes"][code] = {
                "n_paired": _int(o["n_paired"]),
                "baseline_mean": _num(o["baseline_mean"]),
                "followup_mean": _num(o["followup_mean"]),
                "mean_change": _num(o["mean_change"]),
                "sd_change": _num(o["sd_change"]),
                "ci95": [lo, hi] if lo is not None and hi is not None else None,
                "cohens_dz": _num(o["cohens_dz"]),
                "reliable_improvement_rate": _num(o["reliable_improvement_rate"]),
                "reliable_decline_rate": _num(o["reliable_decline_rate"]),
                "meaningful_improvement_rate": _num(o["meaningful_improvement_rate"]),
                "meaningful_decline_rate": _num(o["meaningful_decline_rate"]),
                "threshold": _threshold_block(o),
            }
            if doses is not None:
                doc["outcomes"][code]["dose"] = _dose_block(doses_by.get((grp, code), no_doses))
        g = gl_by.get((grp,), gl.iloc[0:0]).set_index("domain")
        doc["goals"] = {
            "set": _int(g.loc["*", "goals_set"]),
            "achieved": _int(g.loc["*", "achieved"]),
            "achievement_rate": _num(g.loc["*", "achievement_rate"]),
            "median_days_to_achieve": _num(g.loc["*", "median_days_to_achieve"]),
            "by_domain": {
                d: {
                    "set": _int(g.loc[d, "goals_set"]),
                    "achieved": _int(g.loc[d, "achieved"]),
                    "achievement_rate": _num(g.loc[d, "achievement_rate"]),
                }
                for d in CODEBOOKS["goal_domain"]
            },
        }
        if not headline:
            doc["followup"] = _followup_block(fu_counts_by, fu_attrition_by, grp, followup_rule, followup_target, codes)
        out[grp] = doc
    return out


def _threshold_block(o) -> dict | None:
    """{"value", "baseline_share", "followup_share"}, or None for an instrument without a cut-off."""
    value = _num(o["threshold"])
    if value is None:
        return None
    return {
        "value": value,
        "baseline_share": _num(o["threshold_baseline_share"]),
        "followup_share": _num(o["threshold_followup_share"]),
    }


def _dose_block(rows) -> dict:
    """{"n", "slope_per_4_sessions", "ci95", "bands": {"0-3": {"n", "mean_change"}, ...}}."""
    by_band = {r["band"]: r for r in rows.to_dict("records")}
    model = by_band.get("*")
    lo = _num(model["slope_ci95_low"]) if model else None
    hi = _num(model["slope_ci95_high"]) if model else None
    return {
        "n": _int(model["n"]) if model else 0,
        "slope_per_4_sessions": _num(model["slope_per_4_sessions"]) if model else None,
        "ci95": [lo, hi] if lo is not None and hi is not None else None,
        "bands": {
            label: {
                "n": _int(by_band[label]["n"]) if label in by_band else 0,
                "mean_change": _num(by_band[label]["mean_change"]) if label in by_band else None,
            }
            for label, _, _ in dose.BANDS
        },
    }


def raw_summary(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    min_cell: int = privacy.DEFAULT_K,
    *,
    followup_rule: str = followup.DEFAULT_RULE,
    followup_target: float = followup.DEFAULT_TARGET,
) -> dict:
    """The unsuppressed summary (groups and tests only when scope.by is set)."""
    followup_rule = followup.check_rule(followup_rule)
    followup_target = followup.check_target(followup_target)
    overall = _sections(con, scope.grouped(None), followup_rule, followup_target).get("all")
    if overall is None:  # no pair at all passes the filters
        overall = _empty_sections(outcomes.instruments(con), followup_rule, followup_target)
    doc = {**_envelope(scope, min_cell), **overall}
    if scope.by:
        frames: dict = {}
        doc["groups"] = _sections(con, scope, followup_rule, followup_target, keep=frames)
        # the same function the Compare page calls, so the page and the JSON agree (given the
        # group frames just computed, and without the effect sizes' confidence limits, which
        # the tests block does not report)
        result = compare.compare_groups(con, scope, scope.by, k=min_cell, effect_size_intervals=False, frames=frames)
        doc["tests"] = _json_safe(compare.summary_tests(result))
    return doc


def headline(
    con: duckdb.DuckDBPyConnection, scope: Scope, given: Mapping[str, pd.DataFrame] | None = None
) -> dict:
    """The unsuppressed summary of the whole scope (`scope.by` is ignored) without the dose
    blocks and the follow-up section: the Overview's tiles, computed by the very code the
    summary uses, so each value is the summary's. `given`: frames of compare.FRAME_METRICS
    already computed over the scope ungrouped (the dashboard's cached pair_counts, say)."""
    doc = _sections(con, scope.grouped(None), headline=True, given=given).get("all")
    if doc is None:
        doc = _empty_sections(outcomes.instruments(con))
        del doc["followup"]
        for block in doc["outcomes"].values():
            del block["dose"]
    return {**_envelope(scope, privacy.DEFAULT_K), **doc}


def _envelope(scope: Scope, min_cell: int) -> dict:
    """The keys a summary document starts with (METRICS.md), before its sections."""
    return {
        "as_of": scope.as_of.isoformat(),
        "start": scope.start.isoformat(),
        "end": scope.end.isoformat(),
        "min_cell": min_cell,
        "suppressed": [],
    }


def _empty_sections(
    registry: dict[str, dict], rule: str = followup.DEFAULT_RULE, target: float = followup.DEFAULT_TARGET
) -> dict:
    return {
        "pairs": {"in_scope": 0, "matched_in_period": 0, "active_at_end": 0},
        "participants": {"in_scope": 0},
        "engagement": {
            "attended": 0, "no_show": 0, "cancelled": 0, "attendance_rate": None,
            "contact_hours": 0.0, "pair_days": 0, "sessions_per_pair_month": None,
            "median_days_to_first_session": None,
        },
        "retention": {
            "pairs": 0, "events": 0, "km_30": None, "km_90": None, "km_180": None,
            "median_days": None, "eligible_90": 0, "retained_90": None,
        },
        "outcomes": {
            code: {
                "n_paired": 0, "baseline_mean": None, "followup_mean": None, "mean_change": None,
                "sd_change": None, "ci95": None, "cohens_dz": None,
                "reliable_improvement_rate": None, "reliable_decline_rate": None,
                "meaningful_improvement_rate": None, "meaningful_decline_rate": None,
                "threshold": (
                    {"value": entry["threshold"], "baseline_share": None, "followup_share": None}
                    if entry.get("threshold") is not None else None
                ),
                "dose": {
                    "n": 0, "slope_per_4_sessions": None, "ci95": None,
                    "bands": {label: {"n": 0, "mean_change": None} for label, _, _ in dose.BANDS},
                },
            }
            for code, entry in registry.items()
        },
        "goals": {
            "set": 0, "achieved": 0, "achievement_rate": None, "median_days_to_achieve": None,
            "by_domain": {d: {"set": 0, "achieved": 0, "achievement_rate": None} for d in CODEBOOKS["goal_domain"]},
        },
        "followup": _followup_block({}, {}, ALL_GROUP, rule, target, list(registry)),
    }


def build_summary(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    min_cell: int = privacy.DEFAULT_K,
    *,
    followup_rule: str = followup.DEFAULT_RULE,
    followup_target: float = followup.DEFAULT_TARGET,
) -> dict:
    """The summary as the command prints it: suppressed with k = min_cell."""
    doc = raw_summary(con, scope, min_cell, followup_rule=followup_rule, followup_target=followup_target)
    return privacy.suppress_summary(doc, k=min_cell)
