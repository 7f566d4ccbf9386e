"""Needs attention: the pairs and participants a supervisor should act on now, one row each.

Reasons (docs/metrics.md "Needs attention"), all read at the as-of date A:

- ``no_recent_session``: a pair open at A, matched 30 or more days before A (matched_on <=
  A - 30), with no attended session in the 30 days up to A (none dated in [A - 29, A]; a pair
  whose last attended session was exactly 30 days before A is listed). Days: since the last
  attended session, or since the match when there was none. The same rule as the Data page's
  ``no_recent_session`` finding (analytics.metrics.quality), which counts these pairs per site.
- ``followup_open``: a follow-up window of the funder follow-up metric (the window rule of
  analytics.metrics.followup, never a copy of it) open at A (window_open <= A <= window_close)
  without a follow-up assessment and not excused. Days: until the window closes (0: it closes
  on A, and an assessment that day still counts).
- ``followup_opening``: a window opening in the next 30 days (A < window_open <= A + 30), not
  excused. Days: until it opens.
- ``no_baseline``: a participant with a pair open at A and no assessment of any instrument on
  or before A. Days: since enrolment.

Pair reasons cover the pairs the filters keep (the period does not narrow them: they are about
A). Follow-up reasons cover the funder cohort of the scope (participants in scope enrolled in
[S, E]). A participant's row goes to the mentor of their latest pair among those the filters
keep (an open one first). Urgency: a window about to close first, then silent pairs, then
missing baselines, then windows about to open; within a reason, the fewest days left or the
most days waited first.

The rows carry pseudonyms only. They are row-level: the page shows them to its roles and
nothing exports them; ``attention_counts`` is what leaves (suppressed by the caller).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.metrics.followup import OPENING_DAYS, followup_windows_to_act
from analytics.metrics.quality import NO_SESSION_DAYS
from analytics.metrics.queries import query
from analytics.metrics.scope import Scope, run

__all__ = ["NO_SESSION_DAYS", "OPENING_DAYS", "REASONS", "REASON_HEADINGS", "attention_counts", "describe_days", "needs_attention"]

REASONS = {
    "followup_open": "Follow-up window open, no follow-up yet",
    "no_recent_session": f"No attended session in {NO_SESSION_DAYS} days",
    "no_baseline": "No baseline assessment",
    "followup_opening": f"Follow-up window opens within {OPENING_DAYS} days",
}
# Column headings of the counts per mentor.
REASON_HEADINGS = {
    "followup_open": "Window open",
    "no_recent_session": f"No session in {NO_SESSION_DAYS} days",
    "no_baseline": "No baseline",
    "followup_opening": "Window opening",
}
# Urgency order of the reasons, and whether fewer days (True) or more days (False) come first.
URGENCY = {
    "followup_open": True,
    "no_recent_session": False,
    "no_baseline": False,
    "followup_opening": True,
}
COLUMNS = ["mentor_id", "site", "reason", "days", "pair_id", "participant_id", "urgency"]

_SILENT_PAIRS = query("attention_silent_pairs")

_OWNERS = query("attention_owners")


def _owners(con: duckdb.DuckDBPyConnection, scope: Scope, window_keys: list[int]) -> pd.DataFrame:
    """The owner of each participant with a row of their own: open and never assessed (a
    missing baseline), or one of `window_keys` (a follow-up window to act on). Nobody else's
    owner is read: at L that was 200,000 rows for a few thousand used."""
    return run(con, scope, _OWNERS, {"window_keys": window_keys})


def _baseline_rows(owners: pd.DataFrame) -> pd.DataFrame:
    rows = owners[owners["is_open"] & owners["no_assessment"]]
    return pd.DataFrame({
        "mentor_id": rows["mentor_id"], "site": rows["site"], "reason": "no_baseline",
        "days": rows["days_enrolled"], "pair_id": rows["pair_id"], "participant_id": rows["participant_id"],
    })


def _windows(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """The funder metric's windows open at A, closing on A or opening within 30 days."""
    return followup_windows_to_act(con, scope.grouped(None))


def _window_rows(scope: Scope, w: pd.DataFrame, owners: pd.DataFrame) -> pd.DataFrame:
    """Rows for follow-up windows open at A or opening within 30 days (see the module text);
    `w`: ``_windows``."""
    if w.empty:
        return pd.DataFrame(columns=COLUMNS[:-1])
    a = pd.Timestamp(scope.as_of)
    opens, closes = pd.to_datetime(w["window_open"]), pd.to_datetime(w["window_close"])
    # open_now of the funder metric (open <= A < close), and the window's last day: it counts
    # as closed there, yet an assessment on A is still inside it.
    last_day = (closes == a) & ~w["done"].astype(bool) & ~w["excused"].astype(bool)
    open_now = w["open_now"].astype(bool) | last_day
    opening = w["opening_next_30"].astype(bool)
    parts = [
        w.loc[open_now, ["participant_key"]].assign(reason="followup_open", days=(closes - a).dt.days[open_now]),
        w.loc[opening, ["participant_key"]].assign(reason="followup_opening", days=(opens - a).dt.days[opening]),
    ]
    rows = pd.concat(parts, ignore_index=True)
    rows = rows.merge(owners[["participant_key", "mentor_id", "site", "pair_id", "participant_id"]],
                      on="participant_key", how="inner")
    return rows[COLUMNS[:-1]]


def needs_attention(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    """One row per pair or participant needing action, most urgent first.

    Columns: mentor_id, site, reason (a key of REASONS), days (see REASONS in the module text),
    pair_id, participant_id (pseudonyms), urgency (1 = most urgent)."""
    windows = _windows(con, scope)
    owners = _owners(con, scope, sorted(int(k) for k in set(windows["participant_key"])))
    silent = run(con, scope, _SILENT_PAIRS, {"no_session_days": NO_SESSION_DAYS})
    frames = [f for f in (silent, _baseline_rows(owners), _window_rows(scope, windows, owners)) if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("days", "urgency") else "object")
                             for c in COLUMNS})
    rows = pd.concat(frames, ignore_index=True)
    rows["days"] = rows["days"].astype("int64")
    order = {r: n for n, r in enumerate(URGENCY)}
    rows["_rank"] = rows["reason"].map(order)
    rows["_days"] = [d if URGENCY[r] else -d for r, d in zip(rows["reason"], rows["days"], strict=True)]
    rows = rows.sort_values(["_rank", "_days", "mentor_id", "pair_id", "participant_id"], kind="stable")
    rows = rows.drop(columns=["_rank", "_days"]).reset_index(drop=True)
    rows["urgency"] = range(1, len(rows) + 1)
    return rows[COLUMNS]


def describe_days(reason: str, days: int) -> str:
    """What a row's days count, in words ("closes in 3 days", "closes today")."""
    def n(d: int) -> str:
        return f"{d} day" if d == 1 else f"{d} days"

    if reason == "followup_open":
        return "closes today" if days == 0 else f"closes in {n(days)}"
    if reason == "followup_opening":
        return f"opens in {n(days)}"
    if reason == "no_recent_session":
        return f"{n(days)} without an attended session"
    if reason == "no_baseline":
        return f"enrolled {n(days)} ago"
    raise ValueError(f"unknown reason {reason!r}")


def attention_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of `needs_attention` counted per mentor and reason: mentor_id, site, one column
    per reason (in urgency order) and total; mentors ordered by their most urgent row."""
    reasons = list(REASONS)
    if rows.empty:
        return pd.DataFrame(columns=["mentor_id", "site", *reasons, "total"])
    counts = rows.groupby(["mentor_id", "reason"]).size().unstack(fill_value=0).reindex(columns=reasons, fill_value=0)
    first = rows.groupby("mentor_id")["urgency"].min()
    # each mentor's sites, in order, joined: one row per mentor and site first
    sites = rows[["mentor_id", "site"]].drop_duplicates().sort_values(["mentor_id", "site"], kind="stable")
    site = sites.groupby("mentor_id")["site"].agg(", ".join)
    out = counts.assign(total=counts.sum(axis=1)).astype("int64")
    out.insert(0, "site", site)
    out = out.loc[first.sort_values(kind="stable").index].reset_index()
    out.columns.name = None
    return out[["mentor_id", "site", *reasons, "total"]]
