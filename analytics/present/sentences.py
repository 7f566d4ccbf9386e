"""One plain-language sentence under each chart, carrying its main number.

Each function takes the frame (or one row of it) a metric function returns and gives a sentence
a grant writer can paste: "72.3% of pairs matched between Jan 2025 and Dec 2025 were still
meeting at 90 days (n = 412)." Percentages and means print with one decimal, rounded half up as
people expect (6.25% -> 6.3%), by the one format rule in analytics.domain.numbers. When the number a sentence rests on is below the
small-number threshold k (default 11) the sentence says "too few to report" instead, since
screens and exports must never state a rate or mean from fewer than k; k = 1 turns that off.
Missing input gives "No data for this selection." rather than an error.

Frames may be passed whole when they hold one group (or the "all" group); for a grouped frame
pass `grp=` to choose the group, or pass a row (a Series or dict).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from analytics.domain import numbers
from analytics.domain.contract import INSTRUMENTS, Instrument
from analytics.domain.numbers import DEFAULT_K, MINUS, count, fixed, percent, round_half_up, too_few
from analytics.domain.numbers import finite_or_none as _num

NO_DATA = "No data for this selection."

# Plural nouns for the comparison dimensions (analytics.metrics.scope.DIMENSIONS).
DIMENSION_PLURALS = {
    "site": "sites",
    "supervisor": "supervisors",
    "mentor": "mentors",
    "funding_stream": "funding streams",
    "match_quarter": "match quarters",
    "age_band": "age bands",
    "gender": "gender groups",
    "race_ethnicity": "race/ethnicity groups",
}
GOAL_DOMAIN_NAMES = {"health": "health", "home": "home", "purpose": "purpose", "community": "community"}


# --------------------------------------------------------------------------- formatting




def _as_date(d: Any) -> date | None:
    if d is None or d == "":
        return None
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    try:
        return pd.Timestamp(d).date()
    except (TypeError, ValueError):
        return None


def _people(n: Any, noun: str = "participant") -> str:
    """"1 participant", "120 participants"."""
    return f"{count(n)} {noun}" + ("" if _num(n) == 1 else "s")


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def period_text(start: Any = None, end: Any = None) -> str:
    """"between Jan 2025 and Dec 2025", "in Mar 2026", "between 5 Jan 2026 and 20 Mar 2026", or ""."""
    s, e = _as_date(start), _as_date(end)
    if s is None and e is None:
        return ""
    if s is None:
        return f"up to {_day(e)}"
    if e is None:
        return f"since {_day(s)}"
    whole_months = s.day == 1 and (e + pd.Timedelta(days=1)).day == 1
    if whole_months:
        if (s.year, s.month) == (e.year, e.month):
            return f"in {s:%b %Y}"
        return f"between {s:%b %Y} and {e:%b %Y}"
    return f"between {_day(s)} and {_day(e)}"


def _with_period(start: Any, end: Any) -> str:
    p = period_text(start, end)
    return f" {p}" if p else ""


def _sum(values: Any) -> float | None:
    """The total of a column, or None when a part is hidden (suppressed cells are NaN): a
    hidden number is never read as zero nor summed past."""
    parts = [_num(v) for v in values]
    return None if any(p is None for p in parts) else float(sum(parts))


def _too_few(topic: str, k: int, unit: str) -> str:
    return f"{topic}: too few to report (fewer than {k} {unit})."


def _entry(code: str, inst: Instrument | None = None) -> Instrument | None:
    """The instrument's definition: the one given (the store's), else the built-in entry."""
    return inst if inst is not None else INSTRUMENTS.get(code)


def instrument_name(code: str, inst: Instrument | None = None) -> str:
    entry = _entry(code, inst)
    return entry.name if entry else str(code)


# --------------------------------------------------------------------------- rows


def _row(obj: Any, *, grp: str | None = None, instrument: str | None = None) -> Mapping | None:
    """One row as a mapping, picked from a frame by instrument and group ("all" by default)."""
    if obj is None:
        return None
    if isinstance(obj, pd.Series):
        return obj.to_dict()
    if isinstance(obj, Mapping):
        return obj
    if not isinstance(obj, pd.DataFrame):
        raise TypeError(f"expected a DataFrame, Series or dict, got {type(obj).__name__}")
    df = obj
    if instrument is not None and "instrument" in df.columns:
        df = df[df["instrument"] == instrument]
    if "grp" in df.columns:
        if grp is not None:
            df = df[df["grp"] == grp]
        elif df["grp"].nunique() > 1:
            if (df["grp"] == "all").any():
                df = df[df["grp"] == "all"]
            else:
                raise ValueError("the frame holds several groups: pass grp= to choose one")
    if df.empty:
        return None
    if len(df) > 1:
        raise ValueError("expected one row; filter the frame (instrument=, grp=) first")
    return df.iloc[0].to_dict()


def _rows(df: Any, grp: str | None) -> pd.DataFrame | None:
    """The rows of one group from a long frame (all rows when it holds one group)."""
    if df is None or not isinstance(df, pd.DataFrame) or df.empty:
        return None
    if "grp" in df.columns:
        if grp is not None:
            df = df[df["grp"] == grp]
        elif df["grp"].nunique() > 1:
            if (df["grp"] == "all").any():
                df = df[df["grp"] == "all"]
            else:
                raise ValueError("the frame holds several groups: pass grp= to choose one")
    return None if df.empty else df


# --------------------------------------------------------------------------- sentences


def engagement_sentence(
    totals: Any, *, start: Any = None, end: Any = None, k: int = DEFAULT_K, grp: str | None = None
) -> str:
    """Attendance rate: "Pairs met for 76.4% of their scheduled sessions between Jan 2026 and
    Mar 2026 (n = 27,374 sessions, not counting cancellations)."

    `totals`: engagement_totals (attended, no_show; a frame or one row).
    """
    r = _row(totals, grp=grp)
    if r is None:
        return NO_DATA
    attended, no_show = _num(r.get("attended")), _num(r.get("no_show"))
    n = _sum([attended, no_show])
    period = _with_period(start, end)
    if n == 0:
        return f"No sessions were attended or missed{period}."
    if too_few(n, k):
        return _too_few(f"Attendance{period}", k, "sessions attended or missed")
    return (
        f"Pairs met for {percent(attended / n)} of their scheduled sessions{period} "
        f"(n = {count(n)} sessions, not counting cancellations)."
    )


def retention_sentence(
    summary: Any,
    *,
    start: Any = None,
    end: Any = None,
    day: int = 90,
    k: int = DEFAULT_K,
    grp: str | None = None,
    curve: pd.DataFrame | None = None,
) -> str:
    """Kaplan-Meier retention at `day` (30, 90 or 180): "72.3% of pairs matched between Jan 2025
    and Dec 2025 were still meeting at 90 days (n = 412)."

    `summary`: retention_summary (pairs, km_30, km_90, km_180; a frame or one row). With the
    retention `curve` as well, a day beyond the longest follow-up is reported as not yet
    known rather than as the last estimate carried forward.
    """
    r = _row(summary, grp=grp)
    if r is None:
        return NO_DATA
    pairs = _num(r.get("pairs"))
    period = _with_period(start, end)
    if pairs == 0:
        return f"No pairs were matched{period}."
    if too_few(pairs, k):
        return _too_few(f"Retention of pairs matched{period}", k, "pairs")
    value = _num(r.get(f"km_{day}"))
    followed = _rows(curve, r.get("grp") if grp is None else grp)
    if followed is not None and float(followed["t"].max()) < day:
        value = None
    if value is None and "events" in r and _num(r.get("events")) is None:
        # shown pairs but hidden events (a suppressed screen): the estimate is hidden with them
        return _too_few(f"Retention at {day} days{period}", k, "pairs that stopped meeting")
    if value is None:
        return f"No pair matched{period} has yet been followed for {day} days (n = {count(pairs)})."
    return f"{percent(value)} of pairs matched{period} were still meeting at {day} days (n = {count(pairs)})."


def cohort_sentence(triangle: Any, *, window: int = 2, k: int = DEFAULT_K, grp: str | None = None) -> str:
    """Share of pairs with an attended session in 30-day window `window` after matching, pooled
    over match months: "In days 60-89 after matching, 64.2% of pairs attended at least one
    session (n = 300 pairs followed that long)."

    `triangle`: cohort_triangle (cohort_month, k, pairs, pairs_attending).
    """
    df = _rows(triangle, grp)
    if df is None:
        return NO_DATA
    cells = df[df["k"] == window]
    span = f"days {30 * window}-{30 * window + 29} after matching"
    n = _sum(cells["pairs"]) if not cells.empty else 0
    if n == 0:
        return f"No pair has yet been followed through {span}."
    attending = _sum(cells["pairs_attending"])
    if too_few(n, k) or attending is None:
        return _too_few(f"Attendance in {span}", k, "pairs followed that long")
    return (
        f"In {span}, {percent(attending / n)} of pairs attended at least one session "
        f"(n = {count(n)} pairs followed that long)."
    )


def closure_sentence(
    closures: Any, *, start: Any = None, end: Any = None, k: int = DEFAULT_K, grp: str | None = None
) -> str:
    """Share of closures that were disengagement: "Of 725 pairs that closed between Oct 2025 and
    Sep 2026, 36.8% closed because the participant withdrew or lost contact."

    `closures`: closure_reasons (close_reason, pairs, is_disengagement).
    """
    df = _rows(closures, grp)
    period = _with_period(start, end)
    if df is None:
        return f"No pairs closed{period}."
    n = _sum(df["pairs"])
    if n == 0:
        return f"No pairs closed{period}."
    if too_few(n, k):
        return _too_few(f"Closures{period}", k, "pairs closed")
    if "is_disengagement" in df.columns:
        dis = df.loc[df["is_disengagement"].fillna(False).astype(bool), "pairs"].sum()
    else:
        from analytics.domain.contract import DISENGAGEMENT_REASONS

        dis = df.loc[df["close_reason"].isin(DISENGAGEMENT_REASONS), "pairs"].sum()
    return (
        f"Of {count(n)} pairs that closed{period}, {percent(dis / n)} closed because the participant "
        "withdrew or lost contact."
    )


def _paired_too_few(n: float | None, name: str, subject: str, k: int) -> str | None:
    """The sentence that stands instead of a paired-change result when nobody, or fewer than k
    people, has both an intake and a follow-up on the instrument; None when there are enough."""
    if n == 0:
        return f"No participant has both an intake and a follow-up {name} yet."
    if too_few(n, k):
        return _too_few(subject, k, "participants with an intake and a follow-up")
    return None


def outcome_sentence(
    instrument: str, change_row: Any, *, k: int = DEFAULT_K, grp: str | None = None, inst: Instrument | None = None,
) -> str:
    """Mean paired change: "Across 120 participants with an intake and a follow-up, General
    Self-Efficacy Scale scores rose by 3.9 points on average (95% CI 3.1 to 4.7); 38% improved
    reliably."

    `change_row`: a row of outcome_change, or the frame (the instrument's row is picked).
    """
    inst = _entry(instrument, inst)
    r = _row(change_row, grp=grp, instrument=instrument)
    name = instrument_name(instrument, inst)
    if r is None:
        return NO_DATA
    n = _num(r.get("n_paired"))
    if (stop := _paired_too_few(n, name, f"Change on the {name}", k)) is not None:
        return stop
    mean = _num(r.get("mean_change"))
    if mean is None:
        return NO_DATA
    rounded = round_half_up(mean, 1)
    if rounded > 0:
        verb = f"rose by {fixed(abs(mean), 1, minus=MINUS)} points"
    elif rounded < 0:
        verb = f"fell by {fixed(abs(mean), 1, minus=MINUS)} points"
    else:
        verb = "stayed about the same (less than 0.1 points change)"
    lower_better = inst is not None and not inst.higher_is_better
    note = ""
    if lower_better and rounded != 0:
        note = "lower is better, so " + ("an improvement" if rounded < 0 else "a worsening")
    text = f"Across {_people(n)} with an intake and a follow-up, {name} scores {verb} on average"
    lo, hi = _num(r.get("ci95_low")), _num(r.get("ci95_high"))
    ci = f"95% CI {fixed(lo, 1, minus=MINUS)} to {fixed(hi, 1, minus=MINUS)}" if lo is not None and hi is not None and rounded != 0 else ""
    inside = "; ".join(x for x in (ci, note) if x)
    if inside:
        text += f" ({inside})"
    rate = _num(r.get("reliable_improvement_rate"))
    if rate is not None:
        text += f"; {percent(rate)} improved reliably"
    meaningful = _num(r.get("meaningful_improvement_rate"))
    if meaningful is not None and inst is not None and inst.mcid is not None:
        text += f"; {percent(meaningful)} improved by at least the minimal important change ({inst.mcid:g} points)"
    return text + "."


def reliable_change_sentence(
    instrument: str, change_row: Any, *, k: int = DEFAULT_K, grp: str | None = None, inst: Instrument | None = None,
) -> str:
    """"Of 120 participants with an intake and a follow-up, 38.3% improved reliably on the General
    Self-Efficacy Scale, 55.0% showed no reliable change and 6.7% declined reliably."

    `change_row`: a row of outcome_change (n_paired, improved, no_reliable_change, declined),
    or the frame. "Improved" follows the instrument's direction (a PHQ-9 drop is an improvement).
    """
    r = _row(change_row, grp=grp, instrument=instrument)
    name = instrument_name(instrument, inst)
    if r is None:
        return NO_DATA
    n = _num(r.get("n_paired"))
    if (stop := _paired_too_few(n, name, f"Reliable change on the {name}", k)) is not None:
        return stop
    parts = [_num(r.get(c)) for c in ("improved", "no_reliable_change", "declined")]
    if any(p is None for p in parts) and any(c in r for c in ("improved", "declined")):
        return _too_few(f"Reliable change on the {name}", k, "participants in a class of change")
    classified = sum(p or 0 for p in parts)
    if classified == 0:
        return f"Reliable change on the {name} cannot be worked out yet (too little spread in intake scores)."
    imp, same, dec = ((p or 0) / classified for p in parts)
    return (
        f"Of {_people(n)} with an intake and a follow-up, {percent(imp)} improved reliably on the "
        f"{name}, {percent(same)} showed no reliable change and {percent(dec)} declined reliably."
    )


def trend_sentence(
    instrument: str, trend: Any, *, k: int = DEFAULT_K, grp: str | None = None, later: int | None = None,
    inst: Instrument | None = None,
) -> str:
    """The first month since enrollment against a later one: "Mean General Self-Efficacy Scale
    scores were 24.5 in the first 30 days after enrollment (n = 1,294) and 28.1 at days 90-119
    (n = 845)."

    `trend`: outcome_trend (instrument, month, n, mean). `later`: the month to compare with;
    by default the later month with the most assessments (follow-ups cluster at their due
    dates, so this is the best-measured point, not a noisy tail). Months with fewer than k
    assessments are never used.
    """
    df = _rows(trend, grp)
    name = instrument_name(instrument, inst)
    if df is not None and "instrument" in df.columns:
        df = df[df["instrument"] == instrument]
    if df is None or df.empty:
        return NO_DATA
    df = df[df["mean"].notna()].sort_values("month")
    ok = df[[not too_few(v, k) for v in df["n"]]]
    if ok.empty:
        return _too_few(f"The {name} trend", k, "assessments in any month since enrollment")
    first = ok.iloc[0]
    rest = ok[ok["month"] > first["month"]]
    if later is not None:
        rest = rest[rest["month"] == later]
    second = rest.loc[rest["n"].astype(float).idxmax()] if not rest.empty else None

    def when(m: int) -> str:
        return "in the first 30 days after enrollment" if m == 0 else f"at days {30 * m}-{30 * m + 29}"

    text = f"Mean {name} scores were {fixed(first['mean'], 1, minus=MINUS)} {when(int(first['month']))} (n = {count(first['n'])})"
    if second is not None:
        text += f" and {fixed(second['mean'], 1, minus=MINUS)} {when(int(second['month']))} (n = {count(second['n'])})"
    return text + "."


def threshold_sentence(
    instrument: str, change_row: Any, *, k: int = DEFAULT_K, grp: str | None = None, inst: Instrument | None = None,
) -> str | None:
    """The cut-off shares: "Of 120 participants with an intake and a follow-up, 30.8% had a Brief
    Assessment of Recovery Capital score of 47 or more at intake and 44.2% at follow-up." None for
    an instrument without a cut-off."""
    inst = _entry(instrument, inst)
    if inst is None or inst.threshold is None:
        return None
    name = instrument_name(instrument, inst)
    r = _row(change_row, grp=grp, instrument=instrument)
    if r is None:
        return NO_DATA
    n = _num(r.get("n_paired"))
    if (stop := _paired_too_few(n, name, f"The {name} cut-off shares", k)) is not None:
        return stop
    base, follow = _num(r.get("threshold_baseline_share")), _num(r.get("threshold_followup_share"))
    if base is None or follow is None:
        return _too_few(f"The {name} cut-off shares", k, "participants on one side of the cut-off")
    return (
        f"Of {_people(n)} with an intake and a follow-up, {percent(base)} had a {name} score of "
        f"{inst.threshold_text()} (the published cut-off) at intake and {percent(follow)} at follow-up."
    )


def dose_sentence(
    instrument: str, dose: Any, *, k: int = DEFAULT_K, grp: str | None = None, inst: Instrument | None = None,
) -> str:
    """The dose-and-change slope, worded as an association: "Among 120 participants, each 4 more
    sessions attended between intake and follow-up went with a 0.8-point larger rise in General
    Self-Efficacy Scale scores (95% CI 0.2 to 1.4), allowing for the intake score; an
    association, not proof that the sessions caused it."

    `dose`: dose_change (grp, instrument, band, n, slope_per_4_sessions, ...); the band "*" row.
    """
    inst = _entry(instrument, inst)
    name = instrument_name(instrument, inst)
    df = _rows(dose, grp)
    if df is None or "band" not in df.columns:
        return NO_DATA
    rows = df[(df["instrument"] == instrument) & (df["band"] == "*")]
    if rows.empty:
        return NO_DATA
    r = rows.iloc[0]
    n = _num(r.get("n"))
    if (stop := _paired_too_few(n, name, f"Dose and change on the {name}", k)) is not None:
        return stop
    b1 = _num(r.get("slope_per_4_sessions"))
    if b1 is None:
        return f"The dose-and-change slope on the {name} cannot be worked out (too little variation in sessions)."
    lo, hi = _num(r.get("slope_ci95_low")), _num(r.get("slope_ci95_high"))
    d = 1 if inst is None or inst.higher_is_better else -1
    rounded = round_half_up(b1, 1)
    if rounded == 0:
        how = f"went with about the same change in {name} scores (less than 0.1 points)"
    else:
        direction = "rise" if b1 > 0 else "fall"
        how = f"went with a {fixed(abs(b1), 1, minus=MINUS)}-point larger {direction} in {name} scores"
    parts = [f"95% CI {fixed(lo, 1, minus=MINUS)} to {fixed(hi, 1, minus=MINUS)}"] if lo is not None and hi is not None else []
    if rounded != 0:
        parts.append(f"{'better' if (b1 * d) > 0 else 'worse'} on this scale")
    ci = f" ({'; '.join(parts)})" if parts else ""
    return (
        f"Among {_people(n)} with an intake and a follow-up, each 4 more sessions attended between them "
        f"{how}{ci}, allowing for the intake score; an association, not proof that the sessions caused it."
    )


def goals_sentence(
    goals: Any,
    *,
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    k: int = DEFAULT_K,
    grp: str | None = None,
) -> str:
    """"Of 1,606 goals set between Oct 2025 and Sep 2026, 37.1% had been achieved by 30 Sep 2026;
    health goals were achieved most often (38.4%)."

    `goals`: goals_by_domain (domain with '*' for all domains, goals_set, achieved).
    """
    df = _rows(goals, grp)
    period = _with_period(start, end)
    if df is None:
        return NO_DATA
    total = df[df["domain"] == "*"]
    if total.empty:
        n, achieved = _sum(df["goals_set"]), _sum(df["achieved"])
    else:
        n, achieved = _num(total["goals_set"].iloc[0]), _num(total["achieved"].iloc[0])
    if n == 0:
        return f"No goals were set{period}."
    if too_few(n, k):
        return _too_few(f"Goals set{period}", k, "goals")
    if achieved is None:
        return _too_few(f"Goals achieved{period}", k, "goals achieved")
    a = _as_date(as_of)
    by = f" by {_day(a)}" if a else " so far"
    text = f"Of {count(n)} goals set{period}, {percent(achieved / n)} had been achieved{by}"
    big = pd.Series([not too_few(v, k) for v in df["goals_set"]], index=df.index)
    domains = df[(df["domain"] != "*") & big & df["achieved"].notna()]
    if len(domains) >= 2:
        rates = domains["achieved"] / domains["goals_set"]
        best = domains.loc[rates.idxmax()]
        label = GOAL_DOMAIN_NAMES.get(best["domain"], str(best["domain"]))
        text += f"; {label} goals were achieved most often ({percent(best['achieved'] / best['goals_set'])})"
    return text + "."


# The tests across groups on a change in scores, as a sentence names them.
TEST_NAMES = {"welch": "Welch's t-test", "anova": "one-way ANOVA"}


def compare_sentence(
    effects: Any,
    *,
    metric: str,
    estimate: str = "estimate",
    label: str = "grp",
    n: str = "n",
    dimension: str | None = None,
    percent: bool = False,
    unit: str = "",
    p_value: Any = None,
    test: str | None = None,
    k: int = DEFAULT_K,
) -> str:
    """The spread across groups and whether it is likely chance: "Across 5 sites, attendance rate
    ranged from 68.2% (Harbor, n = 4,392) to 81.9% (Northside, n = 7,955); a difference this large is
    unlikely to be chance alone (chi-square test, p < 0.001)."

    `effects`: one row per group with `label`, `estimate` (a 0-1 share when `percent`) and `n`.
    `p_value`/`test`: from analytics.stats (logrank, chi_square_attendance, welch/anova).
    Groups with n below k are left out of the range and counted as such.
    """
    if effects is None or not isinstance(effects, pd.DataFrame) or effects.empty:
        return NO_DATA
    plural = DIMENSION_PLURALS.get(dimension or "", "groups")
    df = effects[effects[estimate].notna()] if estimate in effects.columns else effects.iloc[0:0]
    big = df[[not too_few(v, k) for v in df[n]]] if n in df.columns else df
    left_out = len(effects) - len(big)
    if len(big) < 2:
        return _too_few(f"Comparing {metric} across {plural}", k, "in at least two groups")

    def fmt(v: Any) -> str:
        text = numbers.percent(v) if percent else fixed(v, 1, minus=MINUS)
        return f"{text}{unit}"

    lo = big.loc[big[estimate].astype(float).idxmin()]
    hi = big.loc[big[estimate].astype(float).idxmax()]

    def who(r: Mapping) -> str:
        g = "all" if r[label] is None else str(r[label])
        return f"{g}, n = {count(r[n])}" if n in big.columns else g

    if fmt(lo[estimate]) == fmt(hi[estimate]):
        text = f"Across {len(big)} {plural}, {metric} was {fmt(lo[estimate])} in each"
    else:
        text = (
            f"Across {len(big)} {plural}, {metric} ranged from {fmt(lo[estimate])} ({who(lo)}) "
            f"to {fmt(hi[estimate])} ({who(hi)})"
        )
    p = _num(p_value)
    if p is not None and fmt(lo[estimate]) != fmt(hi[estimate]):
        named = f"{test}, " if test else ""
        if p < 0.05:
            text += f"; a difference this large is unlikely to be chance alone ({named}{numbers.p_statement(p)})"
        else:
            text += f"; the difference could be chance ({named}{numbers.p_statement(p)})"
    if left_out:
        noun = plural if left_out > 1 else plural[:-1]
        verb = "is" if left_out == 1 else "are"
        text += f"; {left_out} {noun} with fewer than {k} or no estimate {verb} left out"
    return text + "."


def mentor_sentence(mentors: Any, *, k: int = DEFAULT_K) -> str:
    """"52 mentors had a median caseload of 14 open pairs at the end of the period (range 2 to
    27); their pairs met for 76.4% of scheduled sessions (n = 27,374 sessions)."

    `mentors`: mentor_caseloads (caseload_at_end, attended, no_show, pairs_in_scope).
    """
    if mentors is None or not isinstance(mentors, pd.DataFrame) or mentors.empty:
        return NO_DATA
    m = len(mentors)
    pairs = _num(mentors["pairs_in_scope"].sum()) if "pairs_in_scope" in mentors.columns else None
    if pairs is not None and too_few(pairs, k):
        return _too_few("Mentor caseloads", k, "pairs")
    caseload = mentors["caseload_at_end"].astype(float)
    med = round_half_up(float(caseload.median()), 1)
    med_text = f"{med:.0f}" if med == med.to_integral_value() else f"{med:.1f}"
    noun = "pair" if med == 1 else "pairs"
    lo, hi = int(caseload.min()), int(caseload.max())
    spread = f" (range {lo} to {hi})" if lo != hi else (f" (all {lo})" if m > 1 else "")
    who = "1 mentor had a caseload of" if m == 1 else f"{m:,} mentors had a median caseload of"
    if m == 1:
        spread = ""
    text = f"{who} {med_text} open {noun} at the end of the period{spread}"
    if {"attended", "no_show"} <= set(mentors.columns):
        n = _num((mentors["attended"] + mentors["no_show"]).sum()) or 0
        if n and not too_few(n, k):
            rate = mentors["attended"].sum() / n
            text += f"; their pairs met for {percent(rate)} of scheduled sessions (n = {count(n)} sessions)"
        elif n:
            text += f"; attendance: too few to report (fewer than {k} sessions)"
    return text + "."
