"""Sidebar filters: period, site, funding stream, supervisor.

The values live in `st.session_state` under `filters__*` (the widgets' own keys, kept for the
whole session across page switches) and are mirrored in the URL query string, so a copied link
reproduces the view:

    ?period=12m                      a preset (all time is the default and is left out)
    ?start=2026-01-01&end=2026-03-31 custom dates
    &site=North&site=South           multiselects repeat their parameter

The URL is read once, when a session starts; after that the session state is the source and
the URL follows it. Values from the URL are only ever matched against allow-lists (presets,
the store's own filter choices, ISO dates in range); anything else is dropped without being
shown back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from analytics.domain.contract import EARLIEST_DATE
from analytics.domain.scope import DIMENSION_LABELS, Filters

PRESETS = {
    "all": "All time",
    "12m": "Last 12 months",
    "ytd": "Year to date",
    "custom": "Custom dates",
}
DEFAULT_PERIOD = "all"
MULTI = ("site", "funding_stream", "supervisor")
URL_NAMES = ("period", "start", "end", *MULTI)
KEY = "filters__{}".format
_READY = "filters__ready"
_IGNORED = "filters__ignored_url"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_EARLIEST = date.fromisoformat(EARLIEST_DATE)


@dataclass(frozen=True)
class Bounds:
    """The store's dates: A (the latest session) and the earliest match (default start)."""

    as_of: date
    earliest: date


@dataclass(frozen=True)
class Chosen:
    start: date
    end: date
    filters: Filters
    period: str


def preset_dates(period: str, bounds: Bounds) -> tuple[date, date]:
    """METRICS.md defaults for "all": S = earliest match, E = A; the others end at A too."""
    a = bounds.as_of
    if period == "12m":
        try:
            year_ago = a.replace(year=a.year - 1)
        except ValueError:  # 29 February
            year_ago = a.replace(year=a.year - 1, day=28)
        return year_ago + timedelta(days=1), a
    if period == "ytd":
        return date(a.year, 1, 1), a
    return min(bounds.earliest, a), a


def _parse_date(raw: str | None, bounds: Bounds) -> date | None:
    if raw is None or not _ISO.fullmatch(raw):
        return None
    try:
        d = date.fromisoformat(raw)
    except ValueError:
        return None
    return d if _EARLIEST <= d <= bounds.as_of else None


def _from_url(bounds: Bounds, choices: dict[str, list[str]]) -> None:
    """Seed the session's filters from the link it was opened with (once per session)."""
    qp = st.query_params
    state = st.session_state
    ignored = False
    period = qp.get("period")
    start_raw, end_raw = qp.get("start"), qp.get("end")
    start, end = _parse_date(start_raw, bounds), _parse_date(end_raw, bounds)
    ignored |= (start_raw is not None and start is None) or (end_raw is not None and end is None)
    if start or end:
        start = start or preset_dates("all", bounds)[0]
        end = end or bounds.as_of
        if start <= end:
            state[KEY("period")] = "custom"
            state[KEY("start")], state[KEY("end")] = start, end
        else:
            ignored = True
    elif period is not None:
        if period in PRESETS and period != "custom":
            state[KEY("period")] = period
        else:
            ignored = True
    for name in MULTI:
        raw = qp.get_all(name)
        allowed = set(choices.get(name, ()))
        kept = [v for v in dict.fromkeys(raw) if v in allowed]
        ignored |= len(kept) != len(set(raw))
        if kept:
            state[KEY(name)] = kept
    state[_IGNORED] = ignored


def _sanitize(bounds: Bounds, choices: dict[str, list[str]]) -> None:
    """Make the stored values valid for the widgets (a load may have changed the choices)."""
    state = st.session_state
    if state.get(KEY("period")) not in PRESETS:
        state[KEY("period")] = DEFAULT_PERIOD
    if state[KEY("period")] == "custom":
        start, end = state.get(KEY("start")), state.get(KEY("end"))
        # start > end is allowed here: someone may be mid-way through typing a range.
        ok = all(isinstance(d, date) and _EARLIEST <= d <= bounds.as_of for d in (start, end))
        if not ok:
            state[KEY("period")] = DEFAULT_PERIOD
    if state[KEY("period")] != "custom":
        state[KEY("start")], state[KEY("end")] = preset_dates(state[KEY("period")], bounds)
    for name in MULTI:
        allowed = set(choices.get(name, ()))
        state[KEY(name)] = [v for v in state.get(KEY(name), []) if v in allowed]


def _on_date() -> None:
    st.session_state[KEY("period")] = "custom"


def reset() -> None:
    """Back to the defaults: all time, no filters (a button callback)."""
    st.session_state[KEY("period")] = DEFAULT_PERIOD
    for name in MULTI:
        st.session_state[KEY(name)] = []


def _write_url(chosen: Chosen) -> None:
    """Mirror the filters in the query string, touching only the parameters that changed."""
    wanted: dict[str, list[str]] = {}
    if chosen.period == "custom":
        wanted["start"], wanted["end"] = [chosen.start.isoformat()], [chosen.end.isoformat()]
    elif chosen.period != DEFAULT_PERIOD:
        wanted["period"] = [chosen.period]
    for name in MULTI:
        values = list(getattr(chosen.filters, name))
        if values:
            wanted[name] = values
    qp = st.query_params
    for name in URL_NAMES:
        if qp.get_all(name) == wanted.get(name, []):
            continue
        if name in wanted:
            qp[name] = wanted[name]
        elif name in qp:
            del qp[name]


def sidebar_filters(bounds: Bounds, choices: dict[str, list[str]]) -> Chosen:
    """Render the filters in the sidebar and return what they select."""
    state = st.session_state
    if not state.get(_READY):
        _from_url(bounds, choices)
        state[_READY] = True
    _sanitize(bounds, choices)

    sb = st.sidebar
    sb.subheader("Filters")
    sb.selectbox(
        "Period",
        list(PRESETS),
        format_func=PRESETS.__getitem__,
        key=KEY("period"),
        persist_state="session",
    )
    # One under the other: side by side, the sidebar cuts the dates off.
    limits = {"min_value": _EARLIEST, "max_value": bounds.as_of, "format": "YYYY-MM-DD"}
    sb.date_input("From", key=KEY("start"), on_change=_on_date, persist_state="session", **limits)
    sb.date_input("To", key=KEY("end"), on_change=_on_date, persist_state="session", **limits)
    for name in MULTI:
        sb.multiselect(
            DIMENSION_LABELS[name],
            choices.get(name, []),
            key=KEY(name),
            placeholder="All",
            persist_state="session",
        )
    sb.button("Reset filters", key=KEY("reset"), on_click=reset, icon=":material/restart_alt:")
    if state.get(_IGNORED):
        sb.caption("Some filters in the link were not recognised and were left out.")

    start, end = state[KEY("start")], state[KEY("end")]
    if start > end:
        # Shown while someone is mid-way through typing a range; the end date wins.
        sb.warning("The start date is after the end date: showing the end date only.")
        start = end
    chosen = Chosen(
        start=start,
        end=end,
        filters=Filters.from_mapping({name: state[KEY(name)] for name in MULTI if state[KEY(name)]}),
        period=state[KEY("period")],
    )
    _write_url(chosen)
    return chosen
