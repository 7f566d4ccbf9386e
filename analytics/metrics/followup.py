"""Funder follow-up (METRICS.md "Funder follow-up"): reassessment windows and the follow-up rate.

Cohort: participants in scope with enrolled_on in [S, E]. Each gets one window from intake:
rule ``suprt`` (default; SAMHSA's SUPRT tool from 1 Oct 2025) [enrolled_on + 150 days,
enrolled_on + 210 days]; rule ``gpra`` (the earlier GPRA tool) [enrolled_on + 5 calendar months,
enrolled_on + 8 calendar months], month addition clamping to the month's last day. Window edges
are inclusive. done = an assessment of any instrument inside the window and on or before A;
under ``suprt`` a participant not done whose exit (read at A) is on or before the window's close
is excused. The SQL lives in analytics/metrics/sql/ (first line of each file: its grain).

A participant with pairs in two groups (two mentors, say) counts in both groups, as in outcomes.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.domain.followup_rules import (  # noqa: F401 - the rules are named through this module too
    DEFAULT_RULE,
    DEFAULT_TARGET,
    RULE_LABELS,
    RULE_WINDOWS,
    RULES,
    check_rule,
    check_target,
)
from analytics.domain.scope import Scope
from analytics.metrics.queries import query
from analytics.metrics.scope import made_over, rows_by, run, run_arrow, run_given
from analytics.store.instruments import reported_codes

OPENING_DAYS = 30


# The name a caller's window rows are registered under for one query (on its own cursor).
_GIVEN = "windows_given"


def window_rows(con: duckdb.DuckDBPyConnection, scope: Scope, rule: str = DEFAULT_RULE):
    """The cohort's windows over `scope` under `rule` (followup_windows.sql: one row per group and
    cohort participant, with the flags the aggregates read; no pseudonym), as a pyarrow Table
    that records its scope and rule. For a caller computing several follow-up metrics over one scope (the
    summary, the Follow-up page): each takes them as ``windows`` instead of placing every
    window again. Row-level: never shown or exported, only queried."""
    params = {"rule": check_rule(rule), "opening_days": OPENING_DAYS, "to_act": False}
    return run_arrow(con, scope, query("followup_windows") + "\n" + query("followup_windows_select"), params)


def _run(con, scope: Scope, body: str, rule: str, extra: dict | None = None, *, ctes: bool = False,
         windows=None, to_act: bool = False, regroup: bool = False) -> pd.DataFrame:
    """`body` after the scope CTEs and followup_windows; `ctes` when it starts with more CTEs.
    ``windows``: ``window_rows`` of this very scope and rule, read in place of the windows;
    with ``regroup``, of a grouped scope the rows of the same scope ungrouped may be given too,
    each put under its participant's groups (for counts only: their order is not kept).
    ``to_act``: place only the windows a worklist can list (for followup_rows_to_act.sql)."""
    placed = {"rule": check_rule(rule), "opening_days": OPENING_DAYS, "to_act": to_act}
    params = {**placed, **(extra or {})}
    joint = ",\n" if ctes else "\n"
    if windows is None:
        return run(con, scope, query("followup_windows") + joint + body, params)
    ungrouped = scope.grouped(None)
    if regroup and scope.by is not None and made_over(windows, ungrouped, placed):
        return run_given(con, scope, query("followup_windows_regrouped") + joint + body, params, _GIVEN, windows,
                         made_with=placed, over=ungrouped)
    # windows placed over another scope or under another rule are refused (run_given)
    return run_given(con, scope, query("followup_windows_given") + joint + body, params, _GIVEN, windows,
                     made_with=placed)


def followup_windows(con: duckdb.DuckDBPyConnection, scope: Scope, rule: str = DEFAULT_RULE) -> pd.DataFrame:
    """One row per cohort participant (per group when scope.by is set; grp 'all' otherwise).

    Columns: grp, participant_key, participant_id (the pseudonym), site, enrolled_on, exited_on
    (read at A), window_open, window_close (both inclusive), done_on (the first assessment inside
    the window, on or before A), done, excused, window_closed (close <= A), due, missed,
    open_now, opening_next_30 (booleans, as METRICS.md defines them). Person-level: for worklists
    inside the app, never for an export.
    """
    return _run(con, scope, query("followup_rows"), rule)


def followup_windows_to_act(con: duckdb.DuckDBPyConnection, scope: Scope, rule: str = DEFAULT_RULE) -> pd.DataFrame:
    """The rows of ``followup_windows`` whose window is open at A, closes on A without a
    follow-up and not excused, or opens within OPENING_DAYS days (open_now, opening_next_30):
    the ones a worklist acts on, with the same columns, values and order."""
    return _run(con, scope, query("followup_rows_to_act"), rule, to_act=True)


def followup_counts(
    con: duckdb.DuckDBPyConnection, scope: Scope, rule: str = DEFAULT_RULE, target: float = DEFAULT_TARGET,
    windows=None,
) -> pd.DataFrame:
    """One row per group with a cohort: cohort, due, excused, done, missed, rate, meets_target,
    open_now, opening_next_30 (rate and meets_target null when due is 0). ``windows``: as
    ``window_rows`` gives them for this scope and rule, or for a grouped scope over the same
    scope ungrouped (else placed here): the same counts."""
    return _run(con, scope, query("followup_counts"), rule, {"target": check_target(target)}, windows=windows,
                regroup=True)


def followup_attrition(con: duckdb.DuckDBPyConnection, scope: Scope, rule: str = DEFAULT_RULE,
                       windows=None) -> pd.DataFrame:
    """Per group and instrument (every instrument reported, analytics.store.instruments.reported_codes:
    GSE10 and BARC10 always and every other with an assessment; n 0 when nobody): n_followed,
    n_missed, baseline_mean_followed, baseline_mean_missed, pooled_sd, smd, and the group's
    due, done and missed (as ``followup_counts``), for the suppression of the counts.

    Among due members with a baseline of the instrument (earliest assessment on or before A):
    smd = (mean_followed - mean_missed) / pooled SD (both groups, n - 2 denominator); null when
    either group has fewer than 2 or the pooled SD is 0. ``windows``: as for ``followup_counts``.
    """
    if windows is None:
        windows = window_rows(con, scope, rule)  # placed once for the two queries below
    raw = _run(con, scope, query("followup_attrition"), rule, ctes=True, windows=windows)
    # the group's due, done and missed (followup_counts' own), beside each instrument's counts:
    # the suppression of a table needs them in the row (analytics/privacy/frames.py)
    block = rows_by(followup_counts(con, scope, rule, windows=windows), "grp")
    groups = run(con, scope, query("groups"))
    rows = []
    codes = reported_codes(con)
    found = rows_by(raw, "grp", "instrument")
    for grp in groups["grp"]:
        b = block.get(grp)
        for code in codes:
            r = found.get((grp, code))
            rows.append(
                {
                    "grp": grp,
                    "instrument": code,
                    "n_followed": int(r["n_followed"]) if r is not None else 0,
                    "n_missed": int(r["n_missed"]) if r is not None else 0,
                    **{
                        k: (None if r is None or pd.isna(r[k]) else float(r[k]))
                        for k in ("baseline_mean_followed", "baseline_mean_missed", "pooled_sd", "smd")
                    },
                    **{k: int(b[k]) if b is not None else 0 for k in ("due", "done", "missed")},
                }
            )
    return pd.DataFrame(rows)


def followup_by_close_month(con: duckdb.DuckDBPyConnection, scope: Scope, rule: str = DEFAULT_RULE,
                            windows=None) -> pd.DataFrame:
    """Closed windows per group and calendar month of window close: month, due, done, missed,
    excused, rate (null when due is 0). ``windows``: as for ``followup_counts``."""
    return _run(con, scope, query("followup_by_month"), rule, windows=windows)
