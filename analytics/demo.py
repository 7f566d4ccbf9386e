"""Seeded synthetic demo program, written as the six contract exports and loaded like real ones.

The demo is a made-up peer recovery program: about three and a half years of growing
enrollment at five sites that differ in dropout and attendance, three funding streams,
mentors hired as caseloads grow, roughly weekly sessions, goals in the four recovery domains,
and GSE10/BARC10 assessments at intake and about every 90 days. It carries a few of the
data-quality faults real exports have (sessions outside their pair's dates, missing intake
assessments, overdue follow-ups), so the data-quality page has something to show.

Everything is vectorized with numpy and written by Arrow's CSV writer, so 200,000 participants
(about 6 million sessions) take seconds, not minutes. The same seed always gives byte-identical
files. No names, emails or other identifier-looking values appear anywhere: IDs are codes like
"P000123", which the load replaces by keyed pseudonyms.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from analytics import store
from analytics.domain import instruments as registry
from analytics.domain.contract import CODEBOOKS, INSTRUMENTS, TABLE_ORDER

if TYPE_CHECKING:  # the load package is imported lazily: generating files does not need it
    from analytics.load import LoadReport

DEMO_AS_OF = date(2026, 9, 30)
DEMO_SEED = 7
DEMO_PARTICIPANTS = 1500

# The program has been running about three and a half years at as_of.
PROGRAM_DAYS = 1280
# Enrollment grows over time: the intake rate at as_of is this many times the rate at launch.
ENROLLMENT_GROWTH = 3.0
# Mentors are hired so that each carries about this many open pairs.
TARGET_CASELOAD = 14
MIN_MENTORS_PER_SITE = 2

_EPOCH = date(1970, 1, 1)
_EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Site:
    name: str
    share: float  # share of all enrollments
    opens: float  # fraction of the program's span that passes before the site enrolls anyone
    dropout: float  # multiplier on the disengagement hazard
    attendance: float  # shift on the log-odds of attending a (not cancelled) session
    gain: float  # shift on the mean GSE10 gain, in points (BARC10 gets 1.5 times as much)
    completion: float  # multiplier on the goals-met hazard
    supervisors: int
    modality: tuple[float, float, float, float, float]  # in_person, phone, video, text, group


# One clearly better site (Northside), one clearly worse (Harbor), a late-opening rural site
# that leans on video and phone (Valley View), two average ones.
SITES: tuple[Site, ...] = (
    Site("Northside", 0.27, 0.00, 0.60, 0.55, 1.2, 1.20, 3, (0.60, 0.14, 0.12, 0.05, 0.09)),
    Site("Riverside", 0.24, 0.00, 1.00, 0.00, 0.0, 1.00, 2, (0.52, 0.20, 0.14, 0.09, 0.05)),
    Site("Eastgate", 0.20, 0.08, 1.05, 0.05, 0.3, 1.00, 2, (0.46, 0.20, 0.24, 0.05, 0.05)),
    Site("Harbor", 0.18, 0.00, 1.70, -0.55, -1.0, 0.80, 2, (0.40, 0.30, 0.10, 0.15, 0.05)),
    Site("Valley View", 0.11, 0.45, 0.90, 0.10, 0.5, 1.00, 1, (0.30, 0.25, 0.35, 0.05, 0.05)),
)

FUNDING_STREAMS = ("State Opioid Response grant", "Medicaid", "County general fund")
GENDERS = ("Man", "Woman", "Nonbinary")
GENDER_P = (0.56, 0.41, 0.02)  # the remaining 1% is not recorded
RACES = (
    "White", "Black or African American", "Hispanic or Latino",
    "American Indian or Alaska Native", "Asian", "Two or more races",
)
RACE_P = (0.57, 0.18, 0.13, 0.03, 0.02, 0.05)  # the remaining 2% is not recorded
AGE_P = (0.12, 0.32, 0.27, 0.16, 0.10, 0.03)  # 18-24 ... 65+
REFERRALS = (
    "Emergency department", "Treatment provider", "Drug court", "Reentry program",
    "Self-referral", "Family or friend", "Community organization",
)
REFERRAL_P = (0.22, 0.26, 0.12, 0.08, 0.16, 0.09, 0.07)
GOAL_DOMAIN_P = (0.36, 0.20, 0.26, 0.18)  # health, home, purpose, community

# Codebook positions used below (codes are indexes into the contract's codebooks).
_CLOSE = {name: i for i, name in enumerate(CODEBOOKS["close_reason"])}
_EXIT = {name: i for i, name in enumerate(CODEBOOKS["exit_reason"])}
_STATUS = {name: i for i, name in enumerate(CODEBOOKS["session_status"])}
_GOAL = {name: i for i, name in enumerate(CODEBOOKS["goal_status"])}

# Closure causes competing in each pair.
_DISENGAGE, _GOALS_MET, _CHANGE, _EXIT_PROGRAM = range(4)
_NEVER = np.iinfo(np.int32).max // 2  # "not closed" sentinel for day arithmetic


def _day(d: date) -> int:
    return (d - _EPOCH).days


# --------------------------------------------------------------------------------------------
# Hazards: the day-by-day risk of each way a pair can end.
# --------------------------------------------------------------------------------------------

_GRID = np.arange(0, 6001, dtype=np.float64)  # days since match


def _cumhaz_disengage(t: np.ndarray) -> np.ndarray:
    # Peer programs lose most of their dropouts in the first weeks, before the relationship has
    # formed: an early hazard decaying with a ~5-week time constant on top of a low background
    # rate. This is what makes the Kaplan-Meier curve fall steeply before day 60, then flatten.
    early, tau, late = 0.0065, 35.0, 0.0005
    return early * tau * (1.0 - np.exp(-t / tau)) + late * t


def _cumhaz_goals_met(t: np.ndarray) -> np.ndarray:
    # Completion needs time: almost none before ~3 months, most between 6 and 15 months.
    return (t / 530.0) ** 2.6


def _cumhaz_change(t: np.ndarray) -> np.ndarray:
    # Rematches and mentor departures happen at a steady low rate.
    return 0.00045 * t


def _cumhaz_program_exit(t: np.ndarray) -> np.ndarray:
    # Leaving for reasons outside the program (moving away, incarceration, ...): steady, low.
    return 0.0003 * t


_CUMHAZ = tuple(
    f(_GRID) for f in (_cumhaz_disengage, _cumhaz_goals_met, _cumhaz_change, _cumhaz_program_exit)
)


def _latent_time(rng: np.random.Generator, cumhaz: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
    """Days to the event for each row by inverting multiplier * H(t) = Exp(1); inf = beyond the grid."""
    target = rng.exponential(size=multiplier.size) / multiplier
    return np.interp(target, cumhaz, _GRID, right=np.inf)


def _close_pairs(
    rng: np.random.Generator,
    dropout: np.ndarray,
    completion: np.ndarray,
    first_pair: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Competing risks: each cause draws a latent time; the earliest closes the pair.

    Returns (days from match to closure, at least 1; inf when never within the grid) and the cause.
    """
    ones = np.ones_like(dropout)
    # A second match is never rematched again; it only ends early if its mentor leaves.
    change_mult = ones if first_pair else ones * 0.6
    times = np.stack(
        [
            _latent_time(rng, _CUMHAZ[_DISENGAGE], dropout),
            _latent_time(rng, _CUMHAZ[_GOALS_MET], completion),
            _latent_time(rng, _CUMHAZ[_CHANGE], change_mult),
            _latent_time(rng, _CUMHAZ[_EXIT_PROGRAM], ones),
        ]
    )
    cause = times.argmin(axis=0).astype(np.int8)
    days = np.maximum(1.0, np.ceil(times.min(axis=0)))
    return days, cause


def _close_reasons(rng: np.random.Generator, cause: np.ndarray, first_pair: bool) -> np.ndarray:
    """Contract close_reason codes for each cause."""
    u = rng.random(cause.size)
    reason = np.empty(cause.size, dtype=np.int8)
    reason[cause == _GOALS_MET] = _CLOSE["goals_met"]
    dis = cause == _DISENGAGE
    reason[dis] = np.where(u[dis] < 0.45, _CLOSE["participant_withdrew"], _CLOSE["lost_contact"])
    ch = cause == _CHANGE
    if first_pair:
        reason[ch] = np.where(u[ch] < 0.55, _CLOSE["rematched"], _CLOSE["mentor_unavailable"])
    else:
        reason[ch] = _CLOSE["mentor_unavailable"]
    ex = cause == _EXIT_PROGRAM
    reason[ex] = np.where(u[ex] < 0.85, _CLOSE["program_exit"], _CLOSE["other"])
    return reason


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _weekday(days: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int) -> np.ndarray:
    """Move Saturdays to Friday and Sundays to Monday, staying inside [lo, hi].

    Programs record contacts on working days; weekend dates would make the monthly series and
    days-to-first-session look unlike real exports.
    """
    dow = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    shifted = days - (dow == 5) + (dow == 6)
    return np.clip(shifted, lo, hi).astype(np.int32)


def _choice(rng: np.random.Generator, p: tuple[float, ...] | np.ndarray, size: int) -> np.ndarray:
    """Codes 0..len(p)-1 drawn with probabilities p; -1 (not recorded) for any remainder."""
    cum = np.cumsum(p)
    codes = np.searchsorted(cum, rng.random(size), side="right")
    return np.where(codes >= len(p), -1, codes).astype(np.int8)


def _repeat_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows repeated counts[i] times: the source row of each repeat and its 0-based rank."""
    counts = counts.astype(np.int64)
    owner = np.repeat(np.arange(counts.size, dtype=np.int32), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(owner.size, dtype=np.int64) - np.repeat(starts, counts)
    return owner, rank.astype(np.int32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _width(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(n, 1))))


# --------------------------------------------------------------------------------------------
# The program, table by table
# --------------------------------------------------------------------------------------------


@dataclass
class _Program:
    as_of: int
    start: int
    # participants (sorted by enrolled_on; participant number = index + 1)
    site: np.ndarray
    enrolled: np.ndarray
    risk: np.ndarray  # latent disengagement tendency, N(0, 1): drives dropout and no-shows
    exited: np.ndarray | None = None
    exit_reason: np.ndarray | None = None
    engaged_until: np.ndarray | None = None
    # pairs (sorted by matched_on; pair number = index + 1)
    pr_pid: np.ndarray | None = None
    pr_matched: np.ndarray | None = None
    pr_closed: np.ndarray | None = None  # -1 = open at as_of
    pr_reason: np.ndarray | None = None  # -1 = open
    pr_mentor: np.ndarray | None = None
    # mentors (mentor number = index + 1)
    mentor_att: np.ndarray | None = None  # each mentor's effect on attendance log-odds


def _enrollment(rng: np.random.Generator, n: int, start: int, as_of: int) -> tuple[np.ndarray, np.ndarray]:
    """Site and enrolled_on of each participant, sorted by enrollment date."""
    shares = np.array([s.share for s in SITES])
    counts = rng.multinomial(n, shares / shares.sum())
    g = ENROLLMENT_GROWTH - 1.0
    sites, days = [], []
    for code, (site, count) in enumerate(zip(SITES, counts, strict=True)):
        # Intake rate rises linearly over the program (density 1 + g*u on u in [opens, 1]):
        # sample by inverting its CDF u + g*u^2/2.
        lo = site.opens + g * site.opens**2 / 2
        hi = 1.0 + g / 2
        c = lo + rng.random(count) * (hi - lo)
        u = (np.sqrt(1.0 + 2.0 * g * c) - 1.0) / g
        days.append(start + np.floor(u * PROGRAM_DAYS).astype(np.int32))
        sites.append(np.full(count, code, dtype=np.int8))
    site = np.concatenate(sites)
    enrolled = _weekday(np.concatenate(days), start, as_of)
    order = np.lexsort((site, enrolled))
    return site[order], enrolled[order]


def _participant_columns(rng: np.random.Generator, prog: _Program) -> dict[str, Any]:
    n = prog.site.size
    u = (prog.enrolled - prog.start) / PROGRAM_DAYS
    # Medicaid billing for peer support grows over the program's life; grant funding shrinks.
    p_medicaid = 0.18 + 0.27 * u
    r = rng.random(n)
    funding = np.where(r < p_medicaid, 1, np.where(r < p_medicaid + 0.22, 2, 0)).astype(np.int8)
    return {
        "age_band": _choice(rng, AGE_P, n),
        "gender": _choice(rng, GENDER_P, n),
        "race_ethnicity": _choice(rng, RACE_P, n),
        "funding_stream": funding,
        "referral_source": _choice(rng, REFERRAL_P, n),
    }


def _pairs(rng: np.random.Generator, prog: _Program) -> None:
    """First pairs, second pairs after a rematch, and each participant's exit."""
    n = prog.site.size
    as_of = prog.as_of
    site_dropout = np.array([s.dropout for s in SITES])[prog.site]
    site_completion = np.array([s.completion for s in SITES])[prog.site]
    # Participants who miss sessions also drop out: one latent tendency drives both.
    dropout = site_dropout * np.exp(0.6 * prog.risk - 0.18)
    completion = site_completion * np.exp(-0.3 * prog.risk)

    # First match: usually within two weeks of enrollment, occasionally a long wait.
    lag = 1 + np.floor(rng.exponential(7.0, n)).astype(np.int32)
    matched1 = _weekday(prog.enrolled + lag, prog.enrolled, _NEVER)
    has1 = matched1 <= as_of
    days1, cause1 = _close_pairs(rng, dropout, completion, first_pair=True)
    reason1 = _close_reasons(rng, cause1, first_pair=True)
    closed1 = _closing_day(matched1, days1)
    closed1_in = has1 & (closed1 <= as_of)

    # Rematch: "rematched" always gets a second mentor, "mentor_unavailable" usually does.
    rematch = closed1_in & (
        (reason1 == _CLOSE["rematched"])
        | ((reason1 == _CLOSE["mentor_unavailable"]) & (rng.random(n) < 0.7))
    )
    gap = 3 + np.floor(rng.exponential(7.0, n)).astype(np.int32)
    matched2 = _weekday(closed1 + gap, closed1, _NEVER)
    has2 = rematch & (matched2 <= as_of)
    # Someone rematched has already stayed a while, so their second match is a little steadier.
    days2, cause2 = _close_pairs(rng, dropout * 0.8, completion, first_pair=False)
    reason2 = _close_reasons(rng, cause2, first_pair=False)
    closed2 = _closing_day(matched2, days2)

    # Each participant's last pair decides whether and why they left the program.
    last_closed = np.where(has2, closed2, np.where(has1, closed1, _NEVER))
    last_reason = np.where(has2, reason2, reason1)
    awaiting_rematch = rematch & ~has2
    exited = has1 & (last_closed <= as_of) & ~awaiting_rematch
    prog.exited = np.where(exited, last_closed, -1).astype(np.int32)
    prog.exit_reason = np.where(exited, _exit_reasons(rng, last_reason), -1).astype(np.int8)
    prog.engaged_until = np.where(exited, last_closed, as_of).astype(np.int32)

    pid = np.concatenate([np.flatnonzero(has1), np.flatnonzero(has2)]).astype(np.int32)
    matched = np.concatenate([matched1[has1], matched2[has2]]).astype(np.int32)
    closed = np.concatenate([closed1[has1], closed2[has2]])
    reason = np.concatenate([reason1[has1], reason2[has2]])
    is_open = closed > as_of
    order = np.lexsort((pid, matched))
    prog.pr_pid = pid[order]
    prog.pr_matched = matched[order]
    prog.pr_closed = np.where(is_open, -1, closed).astype(np.int32)[order]
    prog.pr_reason = np.where(is_open, -1, reason).astype(np.int8)[order]


def _closing_day(matched: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The working day a pair closes on, days after matched_on; _NEVER when it never closes."""
    finite = np.isfinite(days)
    closed = matched.astype(np.int64) + np.where(finite, days, 0).astype(np.int64)
    return np.where(finite, _weekday(np.minimum(closed, _NEVER), matched, _NEVER), _NEVER).astype(np.int32)


def _exit_reasons(rng: np.random.Generator, close_reason: np.ndarray) -> np.ndarray:
    """Participant exit_reason implied by the close_reason of their last pair."""
    u = rng.random(close_reason.size)
    out = np.full(close_reason.size, _EXIT["other"], dtype=np.int8)
    out[close_reason == _CLOSE["goals_met"]] = _EXIT["completed"]
    dis = (close_reason == _CLOSE["participant_withdrew"]) | (close_reason == _CLOSE["lost_contact"])
    out[dis] = _EXIT["disengaged"]
    mu = close_reason == _CLOSE["mentor_unavailable"]
    out[mu] = np.where(u[mu] < 0.5, _EXIT["transferred"], _EXIT["other"])
    ex = close_reason == _CLOSE["program_exit"]
    out[ex] = np.select(
        [u[ex] < 0.30, u[ex] < 0.65, u[ex] < 0.70],
        [_EXIT["incarcerated"], _EXIT["transferred"], _EXIT["deceased"]],
        _EXIT["other"],
    )
    return out


def _mentors(rng: np.random.Generator, prog: _Program) -> dict[str, np.ndarray]:
    """Hire mentors per site as open pairs grow, then assign every pair to one of them."""
    step = 7
    checkpoints = np.arange(prog.start, prog.as_of + 1, step, dtype=np.int64)
    pair_site = prog.site[prog.pr_pid]
    closed = np.where(prog.pr_closed < 0, _NEVER, prog.pr_closed)
    checkpoint_of_pair = np.clip((prog.pr_matched - prog.start) // step, 0, checkpoints.size - 1)
    active = np.empty(prog.pr_pid.size, dtype=np.int64)  # mentors on staff when the pair matched
    first = np.empty(prog.pr_pid.size, dtype=np.int64)  # the site's first mentor number
    m_site, m_hired = [], []
    offset = 0
    for code, site in enumerate(SITES):
        mask = pair_site == code
        matched_sorted = np.sort(prog.pr_matched[mask])
        closed_sorted = np.sort(closed[mask])
        open_pairs = np.searchsorted(matched_sorted, checkpoints, "right") - np.searchsorted(
            closed_sorted, checkpoints, "left"
        )
        needed = np.maximum(MIN_MENTORS_PER_SITE, np.ceil(open_pairs / TARGET_CASELOAD)).astype(np.int64)
        needed = np.maximum.accumulate(needed)  # mentors are not let go when caseloads dip
        total = int(needed[-1])
        hire_checkpoint = np.searchsorted(needed, np.arange(1, total + 1), "left")
        opens_on = prog.start + int(site.opens * PROGRAM_DAYS)
        m_hired.append(np.maximum(checkpoints[hire_checkpoint], opens_on - 30))
        m_site.append(np.full(total, code, dtype=np.int8))
        active[mask] = needed[checkpoint_of_pair[mask]]
        first[mask] = offset
        offset += total
    # A new pair goes to any mentor already on staff when it was matched, so caseloads even out.
    local = np.floor(rng.random(prog.pr_pid.size) * active).astype(np.int64)
    # A participant's second pair must not go back to the first pair's mentor.
    order = np.lexsort((prog.pr_matched, prog.pr_pid))
    same = np.flatnonzero(prog.pr_pid[order][1:] == prog.pr_pid[order][:-1])
    second, previous = order[same + 1], order[same]
    clash = second[local[second] == local[previous]]
    local[clash] = (local[clash] + 1) % active[clash]
    mentor = first + local
    site_arr = np.concatenate(m_site)
    hired = np.concatenate(m_hired).astype(np.int32)
    supervisor = _supervisors(site_arr)
    # Number mentors in hiring order, as a staff roster would.
    order = np.lexsort((np.arange(site_arr.size), hired))
    number = np.empty(site_arr.size, dtype=np.int32)
    number[order] = np.arange(site_arr.size, dtype=np.int32)
    prog.pr_mentor = number[mentor]
    # Some mentors keep their people coming back more than others (the Mentors page shows it).
    prog.mentor_att = rng.normal(0.0, 0.35, site_arr.size)
    certified = hired[order] - 30 - np.floor(rng.exponential(500.0, site_arr.size)).astype(np.int32)
    certified = np.maximum(certified, _day(_EARLIEST))
    certified[rng.random(site_arr.size) < 0.05] = -1  # not every roster records certification
    return {"site": site_arr[order], "supervisor": supervisor[order], "certified_on": certified}


def _supervisor_names() -> list[str]:
    return [f"{site.name} team {chr(ord('A') + j)}" for site in SITES for j in range(site.supervisors)]


def _supervisors(mentor_site: np.ndarray) -> np.ndarray:
    """Supervisor code of each mentor: a site's mentors are spread over its supervisors in turn."""
    first_code = np.cumsum([0] + [s.supervisors for s in SITES])[:-1]
    per_site = np.array([s.supervisors for s in SITES])
    # rank of each mentor within its site (mentors arrive grouped by site)
    starts = np.searchsorted(mentor_site, np.arange(len(SITES)), "left")
    rank = np.arange(mentor_site.size) - starts[mentor_site]
    return (first_code[mentor_site] + rank % per_site[mentor_site]).astype(np.int16)


def _pair_end(prog: _Program) -> np.ndarray:
    """Last day a pair could meet: its closed_on, or as_of while it is open."""
    return np.where(prog.pr_closed < 0, prog.as_of, prog.pr_closed).astype(np.int32)


def _sessions(rng: np.random.Generator, prog: _Program, n_faults: int) -> dict[str, np.ndarray]:
    """About one session a week per open pair, with attendance driven by site, mentor and person."""
    npairs = prog.pr_pid.size
    end = _pair_end(prog)
    span = end - prog.pr_matched
    first = (rng.geometric(0.2, npairs) - 1).astype(np.int32)  # days to the first meeting, mean 4
    weeks = np.where(first <= span, (span - first) // 7 + 1, 0)
    owner, week = _repeat_index(weeks)
    # Each pair meets in most weeks, some more reliably than others; the first meeting always
    # happens (it is how the match starts).
    meets = rng.beta(12.0, 1.0, npairs)
    keep = (rng.random(owner.size) < meets[owner]) | (week == 0)
    owner, week = owner[keep], week[keep]
    lo, hi = prog.pr_matched[owner], end[owner]
    day = lo + first[owner] + 7 * week + rng.integers(-1, 2, owner.size, dtype=np.int32)
    day = _weekday(np.clip(day, lo, hi), lo, hi)

    pair_site = prog.site[prog.pr_pid]
    pair_logit = (
        1.25
        + np.array([s.attendance for s in SITES])[pair_site]
        + prog.mentor_att[prog.pr_mentor]
        - 0.55 * prog.risk[prog.pr_pid]
        + rng.normal(0.0, 0.6, npairs)
    )
    # No-shows pile up in the weeks before a participant disengages.
    disengaging = np.isin(prog.pr_reason, (_CLOSE["participant_withdrew"], _CLOSE["lost_contact"]))
    fading = disengaging[owner] & (hi - day <= 35)
    logit = pair_logit[owner] - 1.6 * fading
    cancelled = rng.random(owner.size) < 0.07
    attended = ~cancelled & (rng.random(owner.size) < _sigmoid(logit))
    status = np.where(
        cancelled, _STATUS["cancelled"], np.where(attended, _STATUS["attended"], _STATUS["no_show"])
    ).astype(np.int8)
    minutes = np.clip(np.round(rng.normal(57.0, 14.0, owner.size) / 5.0) * 5.0, 30, 90)
    duration = np.where(attended, minutes, 0).astype(np.int16)  # 0 is written as empty
    modality = _modalities(rng, pair_site[owner])

    day = _misdate(rng, prog, owner, day, n_faults)
    # Source systems number sessions as they are recorded: order by date, then pair. Rows are
    # already in pair order, so a stable sort on the (small) day offset does it; on 16-bit keys
    # numpy uses a radix sort, which keeps this cheap at millions of rows.
    offset = day - day.min() if day.size else day
    key = offset.astype(np.int16) if offset.size and offset.max() < np.iinfo(np.int16).max else offset
    order = np.argsort(key, kind="stable")
    return {
        "pair": owner[order], "day": day[order], "status": status[order],
        "duration": duration[order], "modality": modality[order],
    }


def _modalities(rng: np.random.Generator, site: np.ndarray) -> np.ndarray:
    """Session modality drawn from each site's mix."""
    u = rng.random(site.size)
    out = np.empty(site.size, dtype=np.int8)
    for code, s in enumerate(SITES):
        mask = site == code
        out[mask] = np.minimum(np.searchsorted(np.cumsum(s.modality), u[mask], "right"), len(s.modality) - 1)
    return out


def _misdate(
    rng: np.random.Generator, prog: _Program, owner: np.ndarray, day: np.ndarray, n_faults: int
) -> np.ndarray:
    """A few sessions recorded against the wrong pair dates: kept by the load but flagged."""
    day = day.copy()
    if owner.size == 0 or n_faults <= 0:
        return day
    before = rng.choice(owner.size, size=min(owner.size, n_faults - n_faults // 2), replace=False)
    day[before] = prog.pr_matched[owner[before]] - rng.integers(1, 22, before.size)
    # After-close faults only where the shifted date stays on or before as_of.
    closed = prog.pr_closed[owner]
    eligible_mask = (closed >= 0) & (closed <= prog.as_of - 21)
    eligible_mask[before] = False
    eligible = np.flatnonzero(eligible_mask)
    if eligible.size:
        after = eligible[rng.choice(eligible.size, size=min(eligible.size, n_faults // 2), replace=False)]
        day[after] = closed[after] + rng.integers(1, 22, after.size)
    return day


def _goals(rng: np.random.Generator, prog: _Program) -> dict[str, np.ndarray]:
    """Goals set early in a match; achievement depends on how the match went."""
    end = _pair_end(prog)
    span = end - prog.pr_matched
    # Short matches set fewer goals; a settled match has two or three.
    count = np.minimum(rng.poisson(0.6 + 1.6 * np.minimum(1.0, span / 120.0)), 6)
    owner, rank = _repeat_index(count)
    lo, hi = prog.pr_matched[owner], end[owner]
    offset = np.floor(rng.exponential(25.0, owner.size)) + 14 * rank  # later goals come later
    set_on = _weekday(np.minimum(lo + offset.astype(np.int32), hi), lo, hi)
    domain = _choice(rng, GOAL_DOMAIN_P, owner.size)
    target = set_on + rng.choice(np.array([30, 60, 90, 120, 180], dtype=np.int32), owner.size)
    # A target is a plan, so it may lie after as_of (the contract allows it for target_on only);
    # some goals are recorded without one.
    target = np.where(rng.random(owner.size) < 0.08, -1, target)

    reason = prog.pr_reason[owner]
    p_achieve = np.select(
        [
            reason == _CLOSE["goals_met"],
            reason < 0,
            (reason == _CLOSE["participant_withdrew"]) | (reason == _CLOSE["lost_contact"]),
        ],
        [0.85, 0.65, 0.30],
        0.45,
    )
    achieved_day = set_on + 14 + np.ceil(rng.gamma(2.0, 40.0, owner.size)).astype(np.int32)
    achieved = (rng.random(owner.size) < p_achieve) & (achieved_day <= hi)
    # Goals left behind: closed matches mostly drop them, a few records are never updated.
    closed = reason >= 0
    u = rng.random(owner.size)
    status = np.where(
        achieved,
        _GOAL["achieved"],
        np.where(closed, np.where(u < 0.85, _GOAL["dropped"], _GOAL["open"]),
                 np.where(u < 0.07, _GOAL["dropped"], _GOAL["open"])),
    ).astype(np.int8)
    achieved_on = np.where(achieved, _weekday(np.minimum(achieved_day, hi), set_on, hi), -1)
    return {
        "pair": owner, "domain": domain, "set_on": set_on, "target_on": target.astype(np.int32),
        "status": status, "achieved_on": achieved_on.astype(np.int32),
    }


def _assessments(rng: np.random.Generator, prog: _Program) -> dict[str, np.ndarray]:
    """GSE10 and BARC10 at intake, about every 90 days while engaged, and often at completion
    (with the visits, for the PHQ-9 drawn afterwards from a stream of its own: _phq9)."""
    n = prog.site.size
    as_of = prog.as_of
    baseline = _weekday(prog.enrolled + rng.integers(0, 11, n, dtype=np.int32), prog.enrolled, _NEVER)
    has_baseline = baseline <= as_of
    end = np.minimum(prog.engaged_until, as_of)

    # Scheduled follow-ups at 90, 180, ... days; some are late, some never happen (those show
    # up as overdue follow-ups), and people drifting away miss more of them.
    due = np.where(has_baseline & (end >= baseline), (end - baseline) // 90 + 1, 0)
    owner, rank = _repeat_index(due)
    day = baseline[owner] + 90 * (rank + 1) + rng.integers(-10, 21, owner.size, dtype=np.int32)
    miss = np.clip(0.13 + 0.08 * prog.risk, 0.03, 0.5)[owner]
    keep = (day <= end[owner]) & (rng.random(owner.size) >= miss)
    owner, day = owner[keep], day[keep]
    day = _weekday(day, day - 1, end[owner])

    # A few intake assessments were never entered: a data-quality finding.
    intake = np.flatnonzero(has_baseline & (rng.random(n) >= 0.03)).astype(np.int32)
    last = baseline.copy()
    np.maximum.at(last, owner, day)
    # Completers are often assessed at discharge, if the last visit is a month or more back.
    completers = np.flatnonzero(
        (prog.exit_reason == _EXIT["completed"])
        & has_baseline
        & (prog.exited - last >= 30)
        & (rng.random(n) < 0.7)
    ).astype(np.int32)
    visit_pid = np.concatenate([intake, owner, completers])
    visit_day = np.concatenate([baseline[intake], day, prog.exited[completers]]).astype(np.int32)
    is_intake = np.zeros(visit_pid.size, dtype=bool)
    is_intake[: intake.size] = True

    scores = _scores(rng, prog, visit_pid, visit_day - baseline[visit_pid])
    visits = {"visit_pid": visit_pid, "visit_day": visit_day, "is_intake": is_intake, "baseline": baseline}
    pids, days, instruments, values = [], [], [], []
    for code, score in enumerate(scores):
        present = is_intake | (rng.random(visit_pid.size) < 0.97)
        pids.append(visit_pid[present])
        days.append(visit_day[present])
        instruments.append(np.full(int(present.sum()), code, dtype=np.int8))
        values.append(score[present])
    pid, day, instrument, score = (np.concatenate(x) for x in (pids, days, instruments, values))
    order = np.lexsort((instrument, pid, day))
    return {"pid": pid[order], "day": day[order], "instrument": instrument[order], "score": score[order], **visits}


# The PHQ-9 (lower is better) comes from a stream of its own, drawn after everything else and
# appended after the other assessments, so the GSE10 and BARC10 rows (and every number resting
# on them) are exactly those of the demo before the PHQ-9 was added.
PHQ9_SHARE = 1.0  # of participants screened with the PHQ-9 at intake (as with the other two)
# (mean level, sd level, mean improvement, sd improvement, noise sd), in PHQ-9 points
PHQ9_PARAMS = (11.5, 5.0, 4.5, 4.5, 1.6)


def _phq9(rng: np.random.Generator, prog: _Program, tests: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """PHQ-9 totals at the same visits as the other instruments (intake always, about 90% of the
    later visits): a
    starting level and a personal improvement (a fall in score) reached over ~5 months, about
    half as large for participants who disengaged; measurement noise makes some follow-ups
    higher than intake."""
    inst = INSTRUMENTS["PHQ9"]
    n = prog.site.size
    visit_pid, visit_day, is_intake = tests["visit_pid"], tests["visit_day"], tests["is_intake"]
    screened = rng.random(n) < PHQ9_SHARE
    mean_level, sd_level, mean_gain, sd_gain, noise = PHQ9_PARAMS
    site_gain = np.array([s.gain for s in SITES])[prog.site]
    disengaged = prog.exit_reason == _EXIT["disengaged"]
    level = mean_level + sd_level * rng.standard_normal(n)
    gain = (mean_gain + site_gain) * np.where(disengaged, 0.5, 1.0) + sd_gain * rng.standard_normal(n)
    ramp = np.minimum(1.0, (visit_day - tests["baseline"][visit_pid]) / 150.0)
    raw = level[visit_pid] - gain[visit_pid] * ramp + rng.normal(0.0, noise, visit_pid.size)
    score = np.clip(np.round(raw), inst.min_score, inst.max_score).astype(np.int16)
    present = screened[visit_pid] & (is_intake | (rng.random(visit_pid.size) < 0.9))
    pid, day, score = visit_pid[present], visit_day[present], score[present]
    order = np.lexsort((pid, day))
    return {"pid": pid[order], "day": day[order], "instrument": np.full(order.size, DEMO_INSTRUMENTS.index("PHQ9"),
                                                                          dtype=np.int8), "score": score[order]}


# The demo's instruments, in the order of their codes in the assessments file.
DEMO_INSTRUMENTS = ("GSE10", "BARC10", "PHQ9")


def _with_phq9(tests: dict[str, np.ndarray], phq9: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([tests[k], phq9[k]]) for k in ("pid", "day", "instrument", "score")}


def _scores(
    rng: np.random.Generator, prog: _Program, pid: np.ndarray, days_since_baseline: np.ndarray
) -> list[np.ndarray]:
    """Integer totals per instrument (registry order) for each visit.

    Each participant has a true starting level and a personal gain reached over ~5 months,
    with the two instruments correlated; disengaged participants gain about half as much,
    and measurement noise makes some follow-ups lower than intake.
    """
    n = prog.site.size
    site_gain = np.array([s.gain for s in SITES])[prog.site]
    disengaged = prog.exit_reason == _EXIT["disengaged"]
    z_level = rng.standard_normal((2, n))
    z_gain = rng.standard_normal((2, n))
    level_corr, gain_corr = 0.5, 0.55
    z_level[1] = level_corr * z_level[0] + np.sqrt(1 - level_corr**2) * z_level[1]
    z_gain[1] = gain_corr * z_gain[0] + np.sqrt(1 - gain_corr**2) * z_gain[1]
    # (mean level, sd level, mean gain, sd gain, site gain scale, noise sd) per instrument
    params = {"GSE10": (24.5, 4.8, 4.5, 4.7, 1.0, 1.8), "BARC10": (34.0, 8.5, 7.0, 7.5, 1.5, 2.6)}
    ramp = np.minimum(1.0, days_since_baseline / 150.0)
    out = []
    for i, code in enumerate(("GSE10", "BARC10")):
        mean_level, sd_level, mean_gain, sd_gain, site_scale, noise = params[code]
        level = mean_level + sd_level * z_level[i]
        gain = (mean_gain + site_scale * site_gain) * np.where(disengaged, 0.5, 1.0) + sd_gain * z_gain[i]
        raw = level[pid] + gain[pid] * ramp + rng.normal(0.0, noise, pid.size)
        inst = INSTRUMENTS[code]
        out.append(np.clip(np.round(raw), inst.min_score, inst.max_score).astype(np.int16))
    return out


# --------------------------------------------------------------------------------------------
# Writing the CSV files
# --------------------------------------------------------------------------------------------

_ID_PREFIX = {"participant": "P", "mentor": "M", "pair": "PR", "session": "S", "goal": "G", "assessment": "A"}
_ID_MIN_WIDTH = {"participant": 6, "mentor": 4, "pair": 6, "session": 8, "goal": 7, "assessment": 7}


def _ids(entity: str, count: int) -> pa.Array:
    """Source IDs 1..count of an entity, zero-padded ("P000123"); formatted by Arrow, not Python."""
    width = _width(count, _ID_MIN_WIDTH[entity])
    digits = pc.ascii_lpad(pc.cast(pa.array(np.arange(1, count + 1, dtype=np.int64)), pa.string()), width, "0")
    return pc.utf8_replace_slice(digits, 0, 0, _ID_PREFIX[entity])


def _refs(ids: pa.Array, index: np.ndarray) -> pa.Array:
    """IDs of the referenced rows (0-based indexes)."""
    return ids.take(pa.array(index, type=pa.int64()))


def _dates(days: np.ndarray) -> pa.Array:
    """Day numbers since 1970-01-01 as dates (-1 = empty); Arrow writes them as YYYY-MM-DD."""
    return pa.array(days.astype(np.int32), mask=days < 0).cast(pa.date32())


def _codes(codes: np.ndarray, labels: tuple[str, ...] | list[str]) -> pa.Array:
    """Codes into labels (-1 = empty), dictionary-encoded so millions of rows stay cheap."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8), mask=codes < 0), pa.array(list(labels)))


def _tables(prog: _Program, people: dict, mentors: dict, sessions: dict, goals: dict, tests: dict) -> dict:
    site_names = [s.name for s in SITES]
    participant_ids = _ids("participant", prog.site.size)
    mentor_ids = _ids("mentor", mentors["site"].size)
    pair_ids = _ids("pair", prog.pr_pid.size)
    duration = sessions["duration"]
    tables = {
        "participants": {
            "participant_id": participant_ids,
            "site": _codes(prog.site, site_names),
            "enrolled_on": _dates(prog.enrolled),
            "exited_on": _dates(prog.exited),
            "exit_reason": _codes(prog.exit_reason, CODEBOOKS["exit_reason"]),
            "age_band": _codes(people["age_band"], CODEBOOKS["age_band"]),
            "gender": _codes(people["gender"], GENDERS),
            "race_ethnicity": _codes(people["race_ethnicity"], RACES),
            "funding_stream": _codes(people["funding_stream"], FUNDING_STREAMS),
            "referral_source": _codes(people["referral_source"], REFERRALS),
        },
        "mentors": {
            "mentor_id": mentor_ids,
            "site": _codes(mentors["site"], site_names),
            "supervisor": _codes(mentors["supervisor"], _supervisor_names()),
            "certified_on": _dates(mentors["certified_on"]),
        },
        "pairs": {
            "pair_id": pair_ids,
            "mentor_id": _refs(mentor_ids, prog.pr_mentor),
            "participant_id": _refs(participant_ids, prog.pr_pid),
            "matched_on": _dates(prog.pr_matched),
            "closed_on": _dates(prog.pr_closed),
            "close_reason": _codes(prog.pr_reason, CODEBOOKS["close_reason"]),
        },
        "sessions": {
            "session_id": _ids("session", sessions["pair"].size),
            "pair_id": _refs(pair_ids, sessions["pair"]),
            "session_date": _dates(sessions["day"]),
            "status": _codes(sessions["status"], CODEBOOKS["session_status"]),
            # Only attended sessions carry a duration; the others are left empty, as exports do.
            "duration_min": pa.array(duration, mask=duration == 0),
            "modality": _codes(sessions["modality"], CODEBOOKS["modality"]),
        },
        "goals": {
            "goal_id": _ids("goal", goals["pair"].size),
            "pair_id": _refs(pair_ids, goals["pair"]),
            "domain": _codes(goals["domain"], CODEBOOKS["goal_domain"]),
            "set_on": _dates(goals["set_on"]),
            "target_on": _dates(goals["target_on"]),
            "status": _codes(goals["status"], CODEBOOKS["goal_status"]),
            "achieved_on": _dates(goals["achieved_on"]),
        },
        "assessments": {
            "assessment_id": _ids("assessment", tests["pid"].size),
            "participant_id": _refs(participant_ids, tests["pid"]),
            "instrument": _codes(tests["instrument"], list(DEMO_INSTRUMENTS)),
            "administered_on": _dates(tests["day"]),
            "score": pa.array(tests["score"]),
        },
    }
    return {name: pa.table(columns) for name, columns in tables.items()}


def _write_csv(table: pa.Table, path: Path) -> None:
    # Arrow's writer quotes every header and string; real exports rarely do, and no demo value
    # contains a comma, quote or line break ("none" raises if one ever does).
    with open(path, "wb") as f:
        f.write((",".join(table.column_names) + "\n").encode())
        pcsv.write_csv(table, f, pcsv.WriteOptions(include_header=False, quoting_style="none"))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _check_args(participants: int, seed: int, as_of: date) -> None:
    if int(participants) < 1:
        raise ValueError("participants must be at least 1")
    if int(seed) < 0:
        raise ValueError("seed must be 0 or more")
    # Room for the program's span and a few misdated sessions before it, after 2000-01-01.
    if _day(as_of) - PROGRAM_DAYS - 60 < _day(_EARLIEST):
        raise ValueError(f"as_of must be at least {PROGRAM_DAYS + 60} days after {_EARLIEST}")


def fault_count(participants: int) -> int:
    """How many sessions are deliberately dated outside their pair (a handful, growing with size)."""
    return max(5, participants // 300)


def write_demo_exports(
    folder: Path,
    *,
    participants: int = DEMO_PARTICIPANTS,
    seed: int = DEMO_SEED,
    as_of: date = DEMO_AS_OF,
) -> list[Path]:
    """Write the six contract CSV files for a synthetic program into folder.

    Deterministic: the same (participants, seed, as_of) gives byte-identical files. Returns
    the paths in the contract's table order (parents first).
    """
    _check_args(participants, seed, as_of)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # One independent stream per step, so changing one step's draws leaves the others alone.
    # The eighth (PHQ-9) was added later: spawning one more leaves the first seven unchanged.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(8)]
    end = _day(as_of)
    start = end - PROGRAM_DAYS
    site, enrolled = _enrollment(streams[0], int(participants), start, end)
    prog = _Program(as_of=end, start=start, site=site, enrolled=enrolled,
                    risk=streams[0].standard_normal(site.size))
    people = _participant_columns(streams[1], prog)
    _pairs(streams[2], prog)
    mentors = _mentors(streams[3], prog)
    sessions = _sessions(streams[4], prog, fault_count(int(participants)))
    goals = _goals(streams[5], prog)
    tests = _assessments(streams[6], prog)
    tests = _with_phq9(tests, _phq9(streams[7], prog, tests))
    tables = _tables(prog, people, mentors, sessions, goals, tests)
    paths = []
    for name in TABLE_ORDER:
        path = folder / f"{name}.csv"
        _write_csv(tables[name], path)
        paths.append(path)
    return paths


class NotADemoStore(ValueError):
    """The target holds something other than a demo store; it is never overwritten."""


def demo_meta(participants: int, seed: int) -> dict[str, str]:
    """What the load records in schema_meta, so the app can say it shows demo data."""
    return {"is_demo": "true", "demo_seed": str(int(seed)), "demo_participants": str(int(participants))}


def store_is_demo(path: str | os.PathLike) -> bool | None:
    """True for a demo store, False for any other file (or one that cannot be read), None if absent."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        con = store.connect_read(p)
    except (duckdb.Error, OSError, store.StoreDamaged):
        return False
    try:
        return store.get_meta(con, "is_demo") == "true"
    except duckdb.Error:  # not one of our stores: no schema_meta table
        return False
    finally:
        con.close()


def _refuse_unless_demo(path: Path) -> None:
    if store_is_demo(path) is False:
        raise NotADemoStore(
            f"{path.name} exists and is not a demo store; refusing to overwrite it "
            "(choose another path, or remove the file yourself)"
        )


def load_demo_exports(
    paths: list[Path],
    db: str | os.PathLike | None = None,
    *,
    participants: int,
    seed: int,
    progress: Callable[[str, float | None], None] | None = None,
) -> LoadReport:
    """Load demo exports into a fresh store at db through the same load real programs use.

    The store is built beside the target and swapped in whole, so an earlier demo store is
    replaced rather than merged into, and readers of the old file are never disturbed. A target
    that is not a demo store is refused (checked again under the store's write lock).
    """
    from analytics.load import load_paths  # lazy: generating files does not need the load
    from analytics.store.pseudonym import DEMO_KEY

    target = store.db_path(db)
    _refuse_unless_demo(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    build = target.with_name(f".{target.name}.demo-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        report = load_paths(
            [Path(p) for p in paths], build, key=DEMO_KEY, loaded_by="demo", progress=progress,
            meta=demo_meta(participants, seed), instruments=registry.BUILTIN_FILE,
        )
        with store.write_lock(target):
            _refuse_unless_demo(target)
            os.replace(build, target)
        return report
    finally:
        for leftover in (build, build.with_name(build.name + ".wal"), build.with_name(build.name + ".lock")):
            leftover.unlink(missing_ok=True)


def build_demo_store(
    db: str | os.PathLike | None = None,
    *,
    participants: int = DEMO_PARTICIPANTS,
    seed: int = DEMO_SEED,
    as_of: date = DEMO_AS_OF,
    progress: Callable[[str, float | None], None] | None = None,
    exports_dir: str | os.PathLike | None = None,
) -> LoadReport:
    """Generate the demo exports and load them into the store at db (default: OUTCOMES_DB).

    The files go to a temporary folder (or exports_dir, kept) and through `load_paths` with the
    published demo key, recording is_demo, demo_seed and demo_participants in schema_meta.
    Refuses (NotADemoStore) to overwrite a store that is not a demo store.
    """
    _check_args(participants, seed, as_of)
    if as_of > date.today():
        raise ValueError("as_of lies in the future; a load refuses dates after today")
    target = store.db_path(db)
    _refuse_unless_demo(target)  # before spending time on the files
    if progress is not None:
        progress("generating the synthetic demo exports", None)
    with tempfile.TemporaryDirectory(prefix="demo-exports-") as tmp:
        folder = Path(exports_dir) if exports_dir is not None else Path(tmp)
        paths = write_demo_exports(folder, participants=participants, seed=seed, as_of=as_of)
        return load_demo_exports(paths, target, participants=participants, seed=seed, progress=progress)
