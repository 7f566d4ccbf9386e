"""Statistics on aggregate tables: retention curves, group comparisons and effect sizes.

Every function here takes small aggregate tables (one row per day, per group, or summary
statistics per group), never per-person rows, so that only aggregates leave the database.
The functions are pure: no I/O, no global state, numpy/scipy/pandas only.

Conventions
-----------
- Confidence intervals are two-sided at ``level`` (default 0.95); the normal quantile is
  ``scipy.stats.norm.ppf(0.5 + level / 2)`` (1.959964 at 95 %), not the rounded 1.96.
- A value that is undefined (too few observations, zero variance, fewer than two groups) is
  ``None`` in a returned dict or tuple, never NaN. Inside a returned DataFrame an undefined
  float cell is NaN, as pandas stores it.
- Input counts must be non-negative integers; a malformed table raises ``ValueError``.

Sources
-------
- Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations.
  JASA 53, 457-481.
- Greenwood, M. (1926). The natural duration of cancer. Reports on Public Health and Medical
  Subjects 33, HMSO.
- Kalbfleisch, J. D. & Prentice, R. L. (2002). The Statistical Analysis of Failure Time Data,
  2nd ed., Wiley (log(-log) confidence bands, section 1.3).
- Mantel, N. (1966); Peto, R. & Peto, J. (1972) (log-rank test); Berry, G., Kitchin, R. M. &
  Mock, P. A. (1991), Stat Med 10, 749-755 (the (O - E) / V hazard ratio estimator).
- Wilson, E. B. (1927). Probable inference... JASA 22, 209-212.
- Hedges, L. V. & Olkin, I. (1985). Statistical Methods for Meta-Analysis, Academic Press.
- Smithson, M. (2003). Confidence Intervals. Sage (noncentral chi-square / F inversion).
- Steiger, J. H. (2004). Beyond the F test. Psychological Methods 9, 164-182.
- Jacobson, N. S. & Truax, P. (1991). Clinical significance. J Consult Clin Psychol 59, 12-19.
"""

from __future__ import annotations

import importlib
import math
import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from statistics import NormalDist
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from analytics.domain.numbers import finite_or_none as _num


class _LazyModule:
    """Imports a module on first use: the summary command (a whole process with a time
    budget) needs only numpy for Kaplan-Meier and scipy.special for its t intervals.

    scipy.stats is never imported (about a second, against 0.3 s for scipy.special): every
    distribution function used here is the scipy.special function that scipy.stats itself
    calls for it (t.ppf is stdtrit, t.sf stdtr, chi2.sf/cdf chdtrc/chdtr, ncx2.cdf chndtr,
    f.sf/cdf fdtrc/fdtr, ncf.cdf ncfdtr), with the same values bit for bit."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            # an import started in the background finishes first: two threads importing parts
            # of one package at once could each wait for a module the other holds
            for thread in _BACKGROUND:
                thread.join()
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def import_in_background(self) -> None:
        """Start importing the module on a thread of its own, for a caller that will need it
        after work that does not hold the interpreter (DuckDB queries): the summary command's
        queries run while scipy.special is imported. A first use of any lazy module joins the
        thread first, so nothing changes but when the time is spent."""
        if self._module is None and self._name not in sys.modules and not _BACKGROUND:
            thread = threading.Thread(target=importlib.import_module, args=(self._name,), daemon=True,
                                      name=f"import {self._name}")
            _BACKGROUND.append(thread)
            thread.start()


# Imports started by import_in_background (one at most).
_BACKGROUND: list[threading.Thread] = []


optimize = _LazyModule("scipy.optimize")
special = _LazyModule("scipy.special")

__all__ = [
    "KM_COLUMNS",
    "RC_CRITERION",
    "anova_from_stats",
    "at_risk_days",
    "at_risk_table",
    "chi_square_attendance",
    "cohens_dz",
    "kaplan_meier",
    "kaplan_meier_groups",
    "logrank",
    "mean_ci",
    "median_survival",
    "median_survival_groups",
    "ols_slope",
    "pooled_rate",
    "rows_at",
    "survival_at",
    "welch_t_from_stats",
    "wilson_ci",
]

KM_COLUMNS = ["t", "at_risk", "events", "censored", "survival", "std_err", "lower", "upper"]

# Jacobson & Truax (1991): a change is reliable when |RC| >= 1.96 (p < .05 two-sided).
RC_CRITERION = 1.96

# Products of fractions that are exactly 0.5 or exactly on the 1.96 boundary in exact
# arithmetic can land a few ulps on the wrong side in floating point; this tolerance keeps
# the hand-computed answer.
_EPS = 1e-9

# Beyond this the noncentral chi-square / F cdfs lose accuracy; an effect-size limit that
# needs it is reported as None rather than as a number of unknown precision.
_MAX_NONCENTRALITY = 1e8


# --------------------------------------------------------------------------- helpers


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return NormalDist().inv_cdf(0.5 + level / 2)




def _count(x: Any, name: str) -> int | None:
    """A non-negative integer count, None when missing; ValueError when malformed."""
    v = _num(x)
    if v is None:
        return None
    if v < 0 or v != int(v):
        raise ValueError(f"{name} must be a non-negative integer, got {x!r}")
    return int(v)


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")


def _count_column(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
    if bad.any():
        raise ValueError(f"{what}: column {col} must hold non-negative integers")
    return values.astype(np.int64)


def _p(x: float) -> float:
    # Survival-function tails are already in [0, 1]; the clip only removes rounding noise.
    return float(min(1.0, max(0.0, x)))


def _solve_noncentrality(cdf: Callable[[float], float], target: float) -> float | None:
    """The noncentrality lam >= 0 with cdf(lam) == target, where cdf decreases in lam.

    Returns 0 when even lam = 0 puts the observed statistic below the target (the usual
    truncation of the interval at zero effect, Smithson 2003, ch. 4); None when the root
    cannot be bracketed or the noncentral cdf is not computable there (statistics so large
    that the limit is numerically indistinguishable from a perfect effect).
    """
    start = cdf(0.0)
    if not math.isfinite(start):
        return None
    if start <= target:
        return 0.0
    lo, hi = 0.0, 1.0
    while True:
        value = cdf(hi)
        if not math.isfinite(value) or hi > _MAX_NONCENTRALITY:
            return None
        if value <= target:
            break
        lo, hi = hi, hi * 2.0
    try:
        return float(optimize.brentq(lambda lam: cdf(lam) - target, lo, hi, xtol=1e-10, rtol=1e-12))
    except (ValueError, RuntimeError):
        return None


def _noncentrality_interval(cdf: Callable[[float], float], level: float) -> tuple[float | None, float | None]:
    """Confidence interval for a noncentrality parameter by inverting the statistic's cdf.

    Lower limit: the lam at which the observed statistic is the (1 + level)/2 quantile;
    upper limit: the lam at which it is the (1 - level)/2 quantile (Smithson 2003;
    Steiger 2004).
    """
    alpha = 1.0 - level
    return _solve_noncentrality(cdf, 1 - alpha / 2), _solve_noncentrality(cdf, alpha / 2)


# --------------------------------------------------------------------------- proportions


def wilson_ci(successes: int, n: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion successes / n.

    Inputs: successes and n, non-negative integers with successes <= n.
    Output: (lower, upper); (None, None) when n is 0.
    Formula (Wilson 1927), p = successes / n, z the normal quantile:
        centre = (p + z^2 / (2n)) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
    Chosen over the Wald interval because it stays inside [0, 1] and keeps close to nominal
    coverage for the small groups and extreme rates a program dashboard shows.
    """
    z = _z(level)
    x = _count(successes, "successes")
    m = _count(n, "n")
    if x is None or m is None:
        raise ValueError("wilson_ci needs integer successes and n")
    if x > m:
        raise ValueError(f"successes ({x}) exceeds n ({m})")
    if m == 0:
        return None, None
    p = x / m
    denom = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m))
    # At p = 0 or 1 the closed form gives exactly 0 / 1 in exact arithmetic; pin them.
    lower = 0.0 if x == 0 else max(0.0, centre - half)
    upper = 1.0 if x == m else min(1.0, centre + half)
    return lower, upper


# --------------------------------------------------------------------------- Kaplan-Meier


def _empty_curve() -> pd.DataFrame:
    dtypes = {"t": "int64", "at_risk": "int64", "events": "int64", "censored": "int64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in KM_COLUMNS})


def kaplan_meier(durations: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier retention curve with Greenwood log(-log) confidence bands.

    Input
        durations: one row per follow-up day (repeated days are summed) with columns
        ``t`` (days since the match, integer >= 0), ``events`` (pairs whose disengagement
        closed the pair on day t) and ``censored`` (pairs still open, or closed for another
        reason, with duration t).
    Output
        DataFrame with columns ``t, at_risk, events, censored, survival, std_err, lower,
        upper``: one row at t = 0 and one per day on which a pair had an event or was
        censored, sorted by t. Empty (same columns) when there are no pairs.
    Formula
        at_risk_d = pairs with duration >= d, so a pair censored on day d still counts as at
        risk for that day's events (censoring happens after the day's events).
        S(t) = prod over event days d <= t of (1 - events_d / at_risk_d)  (Kaplan & Meier 1958).
        S(0) is 1 unless pairs disengaged on the day they were matched.
        Greenwood (1926): Var S(t) = S(t)^2 * sum_{d <= t} events_d / (at_risk_d (at_risk_d -
        events_d)); ``std_err`` = sqrt of that.
        Bands: the interval is built for log(-log S(t)), whose standard error is
        sqrt(sum) / |log S(t)|, and mapped back: lower = S^exp(+z se), upper = S^exp(-z se)
        (the "exponential Greenwood" interval of Kalbfleisch & Prentice 2002; lifelines'
        default and R survival's ``conf.type = "log-log"``). Unlike the plain Greenwood
        S +/- z * std_err it never leaves [0, 1].
        Where S(t) = 1 the band is [1, 1]; where S(t) = 0 (every pair still at risk
        disengaged) the variance is undefined and the band is reported as [0, 0] with
        std_err 0, as lifelines does (R reports NA there).
    """
    _require(durations, ["t", "events", "censored"], "kaplan_meier")
    if durations.empty:
        return _empty_curve()
    # one group: the same computation as every group's (kaplan_meier_groups), written once
    curve = kaplan_meier_groups(durations[["t", "events", "censored"]].assign(grp=0), level)
    if curve.empty:
        return _empty_curve()
    return curve.drop(columns="grp").reset_index(drop=True)


def kaplan_meier_groups(durations: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """:func:`kaplan_meier` for every group of ``durations`` at once (columns ``grp, t, events,
    censored``): the same rows and values, bit for bit, as each group's curve computed alone and
    the curves stacked in ascending group order (columns ``grp`` then ``KM_COLUMNS``; a group
    without pairs has no rows). One vectorised pass instead of one DataFrame pass per group,
    which with hundreds of groups (mentors) was seconds; the running products and sums are taken
    per group with numpy's sequential accumulation, as :func:`kaplan_meier` takes them.
    """
    z = _z(level)
    what = "kaplan_meier"
    _require(durations, ["grp", "t", "events", "censored"], what)
    frame = pd.DataFrame(
        {
            "grp": durations["grp"].to_numpy(),
            "t": _count_column(durations, "t", what),
            "events": _count_column(durations, "events", what),
            "censored": _count_column(durations, "censored", what),
        }
    )
    frame = frame.groupby(["grp", "t"], as_index=False, sort=True)[["events", "censored"]].sum()
    frame = frame[(frame["events"] + frame["censored"]) > 0]
    if frame.empty:
        return pd.DataFrame({"grp": pd.Series(dtype=object), **{c: s for c, s in _empty_curve().items()}})
    # a t = 0 row for each group whose first day is later
    first = frame.drop_duplicates("grp")
    starts = first.loc[first["t"] != 0, ["grp"]].assign(t=0, events=0, censored=0)
    if len(starts):
        frame = pd.concat([starts, frame], ignore_index=True).sort_values(["grp", "t"], kind="stable")

    grp = frame["grp"].to_numpy()
    t = frame["t"].to_numpy(dtype=np.int64)
    d = frame["events"].to_numpy(dtype=np.int64)
    c = frame["censored"].to_numpy(dtype=np.int64)
    bounds = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1], True])

    at_risk = np.empty_like(d)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        at_risk[a:b] = np.cumsum((d[a:b] + c[a:b])[::-1])[::-1]  # pairs with duration >= t
    factor = 1.0 - d / at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(d > 0, d / (at_risk * (at_risk - d).astype(float)), 0.0)
    survival = np.empty_like(factor)
    greenwood = np.empty_like(term)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        survival[a:b] = np.cumprod(factor[a:b])
        greenwood[a:b] = np.cumsum(term[a:b])  # +inf from the day S reaches 0

    std_err = np.zeros_like(survival)
    lower = np.ones_like(survival)
    upper = np.ones_like(survival)
    inner = (survival > 0) & (survival < 1)
    s_in = survival[inner]
    log_s = np.log(s_in)
    se_loglog = np.sqrt(greenwood[inner]) / np.abs(log_s)
    std_err[inner] = s_in * np.sqrt(greenwood[inner])
    lower[inner] = np.exp(log_s * np.exp(z * se_loglog))
    upper[inner] = np.exp(log_s * np.exp(-z * se_loglog))
    zero = survival <= 0
    survival[zero] = 0.0
    lower[zero] = 0.0
    upper[zero] = 0.0

    return pd.DataFrame(
        {
            "grp": grp,
            "t": t,
            "at_risk": at_risk.astype(np.int64),
            "events": d,
            "censored": c,
            "survival": survival,
            "std_err": std_err,
            "lower": lower,
            "upper": upper,
        }
    )


def survival_at(
    curve: pd.DataFrame, t: float, *, column: str = "survival", carry_forward: bool = False
) -> float | None:
    """Value of the Kaplan-Meier step function at day t (e.g. km_30, km_90, km_180).

    Input: a curve from :func:`kaplan_meier`; t in days; ``column``: "survival", or "lower" /
    "upper" for the Greenwood band at t.
    Output: S(t), counting events on day t itself (the curve is right-continuous, matching
    "event days d <= t"); None when the curve is empty or t < 0. Beyond the longest observed
    follow-up (the last row's t): None by default, since an evaluator reading "retained at 180
    days" for a program whose longest pair has been followed for 120 days expects no number
    rather than an extrapolation; with ``carry_forward`` the last value, as lifelines'
    ``predict`` and METRICS.md's product over event days d <= t give it (the retention
    summary's km_30/90/180 and their bands). A missing band value is None.
    """
    tt = _num(t)
    if curve.empty or tt is None or tt < 0:
        return None
    days = curve["t"].to_numpy()
    if tt > days[-1] and not carry_forward:
        return None
    i = int(np.searchsorted(days, tt, side="right")) - 1
    return _num(curve[column].iloc[i])


def at_risk_days(max_t: float) -> list[int]:
    """Days for a KM chart's x ticks and numbers-at-risk row, spaced for the length of follow-up
    (``max_t``, the longest in days) and including the 30/90/180-day marks the retention summary
    reports where they fit."""
    if max_t <= 200:
        days = range(0, 211, 30)
    elif max_t <= 400:
        days = (0, 30, 60, 90, 120, 180, 270, 365)
    elif max_t <= 800:
        days = (0, 90, 180, 270, 365, 455, 545, 635, 730)
    else:
        days = range(0, int(max_t) + 200, 180)
    # the axis runs a little past the longest follow-up, so a tick just beyond it still shows
    return [d for d in days if d <= max_t * 1.03 + 1] or [0]


def at_risk_table(curve: pd.DataFrame, days=None) -> pd.DataFrame:
    """Numbers at risk under a KM chart: pairs still followed (duration >= day) per group, at
    ``days`` (by default ``at_risk_days`` of the curve's longest follow-up)."""
    if days is None:
        days = at_risk_days(float(curve["t"].max())) if not curve.empty else [0]
    rows = []
    for grp, c in curve.groupby("grp", sort=True):
        # at_risk at day d = pairs with duration >= d: the at_risk of the first row with t >= d
        t, at_risk = c["t"].to_numpy(dtype=float), c["at_risk"].to_numpy()
        if len(t) and (np.diff(t) >= 0).all():  # a curve's steps in time order (as kaplan_meier gives)
            first = np.searchsorted(t, np.asarray(days, dtype=float), side="left")
        else:
            first = [int(np.flatnonzero(t >= d)[0]) if (t >= d).any() else len(t) for d in days]
        for d, i in zip(days, first, strict=True):
            rows.append({"grp": grp, "day": d, "at_risk": int(at_risk[i]) if i < len(t) else 0})
    return pd.DataFrame(rows, columns=["grp", "day", "at_risk"])



def median_survival(curve: pd.DataFrame) -> float | None:
    """Median retention: the smallest t with S(t) <= 0.5, else None.

    Input: a curve from :func:`kaplan_meier`. Output: days, or None when the curve never
    reaches 0.5 (lifelines' ``median_survival_time_`` returns inf there). This is the
    definition lifelines uses; R's ``survfit`` would instead take the midpoint when S is
    exactly 0.5 over an interval.
    """
    if curve.empty:
        return None
    hit = curve.loc[curve["survival"] <= 0.5 + _EPS, "t"]
    return float(hit.iloc[0]) if len(hit) else None


def median_survival_groups(curve: pd.DataFrame) -> dict[Hashable, float]:
    """:func:`median_survival` of each group's curve (a :func:`kaplan_meier_groups` frame), for
    the groups whose curve reaches 0.5 (the others are left out)."""
    hit = curve.loc[curve["survival"] <= 0.5 + _EPS, ["grp", "t"]].drop_duplicates("grp")
    return {g: float(t) for g, t in zip(hit["grp"], hit["t"], strict=True)}


def rows_at(curve: pd.DataFrame, t: float) -> pd.DataFrame:
    """Each group's row of a :func:`kaplan_meier_groups` frame at day t, indexed by group: the
    last row with t <= day, i.e. :func:`survival_at` with ``carry_forward`` for every column
    (a group whose curve starts after t has no row)."""
    return curve[curve["t"] <= t].groupby("grp", sort=False).tail(1).set_index("grp")


# --------------------------------------------------------------------------- log-rank


def logrank(table: pd.DataFrame, reference: Hashable | None = None, level: float = 0.95) -> dict[str, Any]:
    """k-group log-rank test on retention, with per-group hazard ratios.

    Input
        table: columns ``group, t, events, censored`` (per group, the :func:`kaplan_meier`
        input). Repeated (group, t) rows are summed. Groups with no pairs are excluded
        and listed under ``excluded``. Group order is order of first appearance.
        reference: for exactly two groups, the group the hazard ratio is relative to
        (default: the first group).
    Output (dict)
        ``chi2``, ``df``, ``p_value``: the test (None with fewer than two groups or no events);
        ``groups``: DataFrame[group, pairs, observed, expected, variance, hr, hr_lower,
        hr_upper], where hr is the group's hazard of disengagement relative to all other
        groups pooled;
        ``hr``, ``hr_lower``, ``hr_upper``, ``hr_group``, ``hr_reference``: with exactly two
        groups, the hazard ratio of ``hr_group`` vs ``hr_reference`` (else None);
        ``excluded``: list of groups with no pairs.
    Formula (Mantel 1966; Peto & Peto 1972), over the distinct event days j:
        n_gj = pairs of group g with duration >= j, d_gj their events, n_j, d_j the totals;
        O_g = sum_j d_gj, E_g = sum_j n_gj d_j / n_j;
        V_gh = sum_j d_j (n_j - d_j) / (n_j - 1) * n_gj / n_j * (1[g = h] - n_hj / n_j).
        chi2 = (O - E)' V^-1 (O - E) over all groups but one, df = k - 1. A group never at
        risk on an event day (V_gg = 0, O_g = E_g) adds no information and no degree of
        freedom, as in R's ``survdiff`` (lifelines keeps df = k - 1 there).
        Hazard ratio, log-rank (Peto) estimator: HR_g = exp((O_g - E_g) / V_gg), 95% CI
        exp((O_g - E_g) / V_gg +/- z / sqrt(V_gg)) (Berry, Kitchin & Mock 1991). V_gg is the
        variance of the two-group test "g vs the rest", so the per-group HR is that test's
        effect size. The estimator is accurate for HR between about 1/3 and 3; beyond that it
        is biased towards 1.
    """
    z = _z(level)
    what = "logrank"
    _require(table, ["group", "t", "events", "censored"], what)
    frame = pd.DataFrame(
        {
            "group": table["group"].to_numpy(),
            "t": _count_column(table, "t", what),
            "events": _count_column(table, "events", what),
            "censored": _count_column(table, "censored", what),
        }
    )
    codes, labels = pd.factorize(frame["group"], use_na_sentinel=False)
    order = list(labels)
    if reference is not None and reference not in order:
        raise ValueError(f"{what}: reference group {reference!r} is not in the table")
    pairs = np.bincount(codes, weights=frame["events"] + frame["censored"], minlength=len(order))
    keep = pairs > 0
    included = [g for g, kept in zip(order, keep, strict=True) if kept]
    excluded = [g for g, kept in zip(order, keep, strict=True) if not kept]

    result: dict[str, Any] = {
        "chi2": None,
        "df": None,
        "p_value": None,
        "groups": pd.DataFrame(
            {
                "group": pd.Series(included, dtype=object),
                "pairs": pairs[keep].astype(np.int64),
            }
        ),
        "hr": None,
        "hr_lower": None,
        "hr_upper": None,
        "hr_group": None,
        "hr_reference": None,
        "excluded": excluded,
    }
    k = len(included)
    for col in ("observed", "expected", "variance", "hr", "hr_lower", "hr_upper"):
        result["groups"][col] = np.nan
    if k == 0:
        return result

    # Renumber the kept groups 0..k-1 in order of first appearance.
    position = np.cumsum(keep) - 1
    rows = keep[codes]
    gi = position[codes[rows]]
    t_kept = frame["t"].to_numpy()[rows]
    days = np.unique(t_kept)
    ti = np.searchsorted(days, t_kept)
    dmat = np.zeros((k, len(days)))
    cmat = np.zeros((k, len(days)))
    np.add.at(dmat, (gi, ti), frame["events"].to_numpy()[rows])
    np.add.at(cmat, (gi, ti), frame["censored"].to_numpy()[rows])
    nmat = np.cumsum((dmat + cmat)[:, ::-1], axis=1)[:, ::-1]  # at risk: duration >= t

    event_days = dmat.sum(axis=0) > 0
    dmat, nmat = dmat[:, event_days], nmat[:, event_days]
    d = dmat.sum(axis=0)
    n = nmat.sum(axis=0)
    observed = dmat.sum(axis=1)
    share = nmat / n if len(n) else nmat
    expected = (share * d).sum(axis=1)
    # Hypergeometric variance; a day with one pair at risk has n - d = 0 and adds nothing.
    factor = np.where(n > 1, d * (n - d) / np.where(n > 1, n - 1, 1), 0.0)
    weighted = share * factor
    cov = np.diag(weighted.sum(axis=1)) - weighted @ share.T
    diff = observed - expected

    var = np.diag(cov).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_hr = np.where(var > 0, diff / np.where(var > 0, var, 1), np.nan)
        half = np.where(var > 0, z / np.sqrt(np.where(var > 0, var, 1)), np.nan)
    groups = result["groups"]
    groups["observed"] = observed
    groups["expected"] = expected
    groups["variance"] = var
    # A group with very few events has a bound beyond float range: it reads as infinite (an
    # unbounded interval), which the pages and exports show as missing.
    with np.errstate(over="ignore"):
        groups["hr"] = np.exp(log_hr)
        groups["hr_lower"] = np.exp(log_hr - half)
        groups["hr_upper"] = np.exp(log_hr + half)

    # Groups never at risk on an event day with n_j > d_j carry no information (V_gg = 0 and
    # O_g = E_g). Over the remaining groups V has rank (groups - 1) because risk sets are
    # nested in time, so dropping one group and solving is exact (no generalized inverse).
    active = np.flatnonzero(var > 0)
    if k >= 2 and len(active) >= 2:
        sub = active[:-1]
        chi2 = float(diff[sub] @ np.linalg.solve(cov[np.ix_(sub, sub)], diff[sub]))
        chi2 = max(0.0, chi2)
        df = len(active) - 1
        result["chi2"] = chi2
        result["df"] = df
        result["p_value"] = _p(special.chdtrc(df, chi2))

    if k == 2:
        ref = included[0] if reference is None else reference
        if ref in included:
            other = included[1] if ref == included[0] else included[0]
            row = groups.loc[groups["group"] == other].iloc[0]
            result["hr_group"] = other
            result["hr_reference"] = ref
            result["hr"] = _num(row["hr"])
            result["hr_lower"] = _num(row["hr_lower"])
            result["hr_upper"] = _num(row["hr_upper"])
    return result


# --------------------------------------------------------------------------- chi-square


def chi_square_attendance(counts: pd.DataFrame, level: float = 0.95, *, intervals: bool = True) -> dict[str, Any]:
    """Chi-square test of independence of group and attended vs no-show, with Cramer's V.

    Input
        counts: columns ``group, attended, no_show`` (repeated groups are summed). Groups with
        neither an attended nor a no-show session are excluded and listed under ``excluded``.
    Output (dict)
        ``chi2``, ``df``, ``p_value``: Pearson's test without continuity correction
        (``scipy.stats.chi2_contingency(correction=False)``); None with fewer than two groups
        or when one outcome never occurs.
        ``n``: sessions in the test; ``min_expected``: the smallest expected count (the
        chi-square approximation is doubtful below 5; the caller may flag that).
        ``cramers_v``, ``cramers_v_lower``, ``cramers_v_upper``: effect size with CI.
        ``groups``: DataFrame[group, attended, no_show, total, rate, rate_lower, rate_upper],
        the attendance rate attended / (attended + no_show) with its Wilson interval.
        ``excluded``: list of groups with no sessions.
    Formula
        E_gs = row_g * col_s / N; chi2 = sum (O - E)^2 / E; df = (k - 1)(2 - 1) = k - 1.
        Cramer's V = sqrt(chi2 / (N (m - 1))), m = min(k, 2) = 2, so V = sqrt(chi2 / N).
        CI (Smithson 2003, ch. 4): chi2 follows a noncentral chi-square with df and
        noncentrality lam = N (m - 1) V^2. The limits lam_L, lam_U solve
        ncx2.cdf(chi2_obs; df, lam_L) = (1 + level)/2 and ncx2.cdf(chi2_obs; df, lam_U) =
        (1 - level)/2 (a limit is 0 when no root exists above 0); V limits =
        sqrt(lam / (N (m - 1))), the upper one capped at 1. When chi2_obs is below the
        (1 - level)/2 quantile of the central chi-square, both limits are 0 and the interval
        does not contain the sample V: no noncentrality makes so small a statistic likely.
        None for a limit beyond the noncentral cdf's reliable range (lam > 1e8).
        With ``intervals=False`` the V limits stay None and are not computed (root finding
        through scipy.optimize, for callers that never show them).
    """
    what = "chi_square_attendance"
    _require(counts, ["group", "attended", "no_show"], what)
    frame = pd.DataFrame(
        {
            "group": counts["group"].to_numpy(),
            "attended": _count_column(counts, "attended", what),
            "no_show": _count_column(counts, "no_show", what),
        }
    )
    codes, labels = pd.factorize(frame["group"], use_na_sentinel=False)
    att_all = np.bincount(codes, weights=frame["attended"], minlength=len(labels)).astype(np.int64)
    ns_all = np.bincount(codes, weights=frame["no_show"], minlength=len(labels)).astype(np.int64)
    keep = (att_all + ns_all) > 0
    excluded = [g for g, kept in zip(labels, keep, strict=True) if not kept]
    names = [g for g, kept in zip(labels, keep, strict=True) if kept]
    att, ns = att_all[keep], ns_all[keep]
    tot = att + ns

    bounds = [wilson_ci(int(a), int(m), level) for a, m in zip(att, tot, strict=True)]
    groups = pd.DataFrame(
        {
            "group": pd.Series(names, dtype=object),
            "attended": att,
            "no_show": ns,
            "total": tot,
            "rate": att / np.where(tot > 0, tot, 1),
            "rate_lower": [b[0] for b in bounds],
            "rate_upper": [b[1] for b in bounds],
        }
    )
    groups[["rate_lower", "rate_upper"]] = groups[["rate_lower", "rate_upper"]].astype(float)

    n_total = int(tot.sum())
    result: dict[str, Any] = {
        "chi2": None,
        "df": None,
        "p_value": None,
        "n": n_total,
        "min_expected": None,
        "cramers_v": None,
        "cramers_v_lower": None,
        "cramers_v_upper": None,
        "groups": groups,
        "excluded": excluded,
    }
    k = len(tot)
    col_totals = np.array([att.sum(), ns.sum()], dtype=float)
    if k < 2 or (col_totals == 0).any():
        return result

    observed = np.column_stack([att, ns]).astype(float)
    expected = np.outer(tot, col_totals) / n_total
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    df = k - 1
    m = min(k, 2)
    scale = n_total * (m - 1)
    result.update(
        chi2=chi2,
        df=df,
        p_value=_p(special.chdtrc(df, chi2)),
        min_expected=float(expected.min()),
        cramers_v=math.sqrt(chi2 / scale),
    )
    if not intervals:
        return result

    def cdf(lam: float) -> float:
        return float(special.chdtr(df, chi2) if lam == 0 else special.chndtr(chi2, df, lam))

    lam_lo, lam_hi = _noncentrality_interval(cdf, level)
    if lam_lo is not None:
        result["cramers_v_lower"] = min(1.0, math.sqrt(lam_lo / scale))
    if lam_hi is not None:
        result["cramers_v_upper"] = min(1.0, math.sqrt(lam_hi / scale))
    return result


# --------------------------------------------------------------------------- means


def pooled_rate(successes: Sequence[float], trials: Sequence[float]) -> float:
    """sum(successes) / sum(trials) over groups (0 when there are no trials): e.g. attendance
    pooled over the groups of a comparison, the reference line its forest plot draws."""
    return float(np.sum(successes) / max(1, np.sum(trials)))


def mean_ci(mean: float, sd: float, n: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """t-based confidence interval for a mean from its summary statistics.

    Inputs: mean, sample SD (n - 1 denominator) and n. Output: (lower, upper), or
    (None, None) when n < 2 or mean / sd are missing.
    Formula: mean +/- t((1 + level)/2, n - 1) * sd / sqrt(n). With sd = 0 the interval is
    the single point (mean, mean).
    """
    m, s, k = _num(mean), _num(sd), _count(n, "n")
    if m is None or s is None or k is None or k < 2:
        return None, None
    if s < 0:
        raise ValueError(f"sd must be non-negative, got {sd!r}")
    _z(level)
    half = float(special.stdtrit(k - 1, 0.5 + level / 2)) * s / math.sqrt(k)
    return m - half, m + half


def cohens_dz(mean_change: float, sd_change: float, n: int | None = None) -> float | None:
    """Cohen's d_z for paired change: mean_change / sd_change.

    Inputs: the mean and sample SD of the per-person changes; optionally n.
    Output: d_z, or None when sd_change is missing or 0, or n < 2 when n is given.
    (Cohen 1988, standardised by the SD of the differences, so it is the paired t / sqrt(n).)
    """
    m, s = _num(mean_change), _num(sd_change)
    if m is None or s is None or s <= 0:
        return None
    if n is not None and (_count(n, "n") or 0) < 2:
        return None
    return m / s


def welch_t_from_stats(
    m1: float, s1: float, n1: int, m2: float, s2: float, n2: int, level: float = 0.95
) -> dict[str, float | None]:
    """Welch's two-sample t-test from per-group mean, SD and n, with Hedges' g.

    Inputs: group 1 (m1, s1, n1) and group 2 (m2, s2, n2); SDs are sample SDs (n - 1).
    Output (dict, None where undefined)
        ``t``, ``df``, ``p_value`` (two-sided): None unless both n >= 2 and the standard error
        is positive. ``mean_diff`` = m1 - m2 (as ``scipy.stats.ttest_ind(a, b)``; defined
        whenever both groups have n >= 1), ``mean_diff_lower``, ``mean_diff_upper``.
        ``hedges_g``, ``hedges_g_lower``, ``hedges_g_upper``.
    Formula
        se = sqrt(s1^2/n1 + s2^2/n2); t = (m1 - m2) / se;
        Welch-Satterthwaite df = se^4 / ((s1^2/n1)^2/(n1 - 1) + (s2^2/n2)^2/(n2 - 1));
        CI = (m1 - m2) +/- t((1 + level)/2, df) * se.
        Hedges' g (Hedges & Olkin 1985, ch. 5): d = (m1 - m2) / s_pooled with
        s_pooled^2 = ((n1 - 1)s1^2 + (n2 - 1)s2^2) / (n1 + n2 - 2); g = J d with the
        small-sample correction J = 1 - 3 / (4(n1 + n2) - 9); approximate
        Var(g) = (n1 + n2)/(n1 n2) + g^2 / (2(n1 + n2)); CI = g +/- z sqrt(Var(g)).
        The effect size uses the pooled SD (its usual definition) even though the test does
        not assume equal variances.
    """
    z = _z(level)
    a, sa, na = _num(m1), _num(s1), _count(n1, "n1")
    b, sb, nb = _num(m2), _num(s2), _count(n2, "n2")
    out: dict[str, float | None] = dict.fromkeys(
        (
            "t",
            "df",
            "p_value",
            "mean_diff",
            "mean_diff_lower",
            "mean_diff_upper",
            "hedges_g",
            "hedges_g_lower",
            "hedges_g_upper",
        )
    )
    if a is None or b is None or not na or not nb:
        return out
    out["mean_diff"] = a - b
    if sa is None or sb is None or na < 2 or nb < 2:
        return out
    if sa < 0 or sb < 0:
        raise ValueError("standard deviations must be non-negative")
    va, vb = sa * sa / na, sb * sb / nb
    se = math.sqrt(va + vb)
    if se > 0:
        t = (a - b) / se
        # Scaled by the larger variance term so tiny variances cannot underflow to 0 / 0.
        ra, rb = va / max(va, vb), vb / max(va, vb)
        df = (ra + rb) ** 2 / (ra * ra / (na - 1) + rb * rb / (nb - 1))
        q = float(special.stdtrit(df, 0.5 + level / 2))
        out.update(
            t=t,
            df=df,
            p_value=_p(2 * special.stdtr(df, -abs(t))),
            mean_diff_lower=(a - b) - q * se,
            mean_diff_upper=(a - b) + q * se,
        )
    pooled = math.sqrt(((na - 1) * sa * sa + (nb - 1) * sb * sb) / (na + nb - 2))
    if pooled > 0:
        g = (1 - 3 / (4 * (na + nb) - 9)) * (a - b) / pooled
        se_g = math.sqrt((na + nb) / (na * nb) + g * g / (2 * (na + nb)))
        out.update(hedges_g=g, hedges_g_lower=g - z * se_g, hedges_g_upper=g + z * se_g)
    return out


def anova_from_stats(groups: pd.DataFrame, level: float = 0.95, *, intervals: bool = True) -> dict[str, Any]:
    """One-way ANOVA from per-group n, mean and SD, with eta^2 (CI) and omega^2.

    Input
        groups: columns ``group, n, mean, sd`` (sd the sample SD; it may be missing for a
        group with n = 1). Groups with n = 0 are excluded and listed under ``excluded``.
    Output (dict, None where undefined)
        ``F``, ``df_between``, ``df_within``, ``p_value``; ``eta_squared`` with
        ``eta_squared_lower``, ``eta_squared_upper``; ``omega_squared``; ``n`` (total);
        ``excluded``. F and the p-value are None with fewer than two groups, no residual
        degrees of freedom, or zero within-group variance.
    Formula
        grand = sum n_g mean_g / N; SSB = sum n_g (mean_g - grand)^2; SSW = sum (n_g - 1) sd_g^2;
        df_b = k - 1, df_w = N - k; F = (SSB / df_b) / (SSW / df_w), as scipy.stats.f_oneway.
        eta^2 = SSB / (SSB + SSW). omega^2 = (SSB - df_b MSW) / (SST + MSW), truncated at 0
        (it is negative whenever F < 1, where the population value is 0).
        eta^2 CI (Smithson 2003; Steiger 2004): F follows a noncentral F(df_b, df_w, lam);
        lam_L and lam_U solve ncf.cdf(F_obs; df_b, df_w, lam) = (1 + level)/2 and
        (1 - level)/2 (0 when no positive root), and map to eta^2 = lam / (lam + N).
        As for Cramer's V, an F in the lower tail of the central F gives limits [0, 0], and a
        limit needing lam > 1e8 (near-zero within-group variance) is None. With
        ``intervals=False`` the eta^2 limits stay None and are not computed.
    """
    what = "anova_from_stats"
    _require(groups, ["group", "n", "mean", "sd"], what)
    rows = []
    excluded = []
    for g, n, mean, sd in zip(groups["group"], groups["n"], groups["mean"], groups["sd"], strict=True):
        k = _count(n, "n")
        if not k:
            excluded.append(g)
            continue
        m, s = _num(mean), _num(sd)
        if m is None:
            raise ValueError(f"{what}: group {g!r} has n = {k} but no mean")
        if s is None:
            if k >= 2:
                raise ValueError(f"{what}: group {g!r} has n = {k} but no sd")
            s = 0.0
        if s < 0:
            raise ValueError(f"{what}: group {g!r} has a negative sd")
        rows.append((k, m, s))

    out: dict[str, Any] = dict.fromkeys(
        (
            "F",
            "df_between",
            "df_within",
            "p_value",
            "eta_squared",
            "eta_squared_lower",
            "eta_squared_upper",
            "omega_squared",
        )
    )
    n_total = sum(r[0] for r in rows)
    out["n"] = n_total
    out["excluded"] = excluded
    k = len(rows)
    if k < 2 or n_total - k < 1:
        return out
    n = np.array([r[0] for r in rows], dtype=float)
    mean = np.array([r[1] for r in rows])
    sd = np.array([r[2] for r in rows])
    grand = float((n * mean).sum() / n_total)
    ssb = float((n * (mean - grand) ** 2).sum())
    ssw = float(((n - 1) * sd * sd).sum())
    sst = ssb + ssw
    df_b, df_w = k - 1, n_total - k
    out["df_between"], out["df_within"] = df_b, df_w
    if sst > 0:
        out["eta_squared"] = ssb / sst
    if ssw <= 0:
        return out
    msw = ssw / df_w
    f = (ssb / df_b) / msw
    out["F"] = f
    out["p_value"] = _p(special.fdtrc(df_b, df_w, f))
    out["omega_squared"] = max(0.0, (ssb - df_b * msw) / (sst + msw))
    if not intervals:
        return out

    def cdf(lam: float) -> float:
        return float(special.fdtr(df_b, df_w, f) if lam == 0 else special.ncfdtr(df_b, df_w, lam, f))

    lam_lo, lam_hi = _noncentrality_interval(cdf, level)
    if lam_lo is not None:
        out["eta_squared_lower"] = lam_lo / (lam_lo + n_total)
    if lam_hi is not None:
        out["eta_squared_upper"] = lam_hi / (lam_hi + n_total)
    return out


# --------------------------------------------------------------------------- regression


def ols_slope(
    x: np.ndarray, covariate: np.ndarray, y: np.ndarray, level: float = 0.95
) -> tuple[float, float, float] | None:
    """The coefficient of ``x`` in the least-squares fit y ~ 1 + x + covariate, with its
    classical (t, n - 3 df) confidence interval: (b1, ci_low, ci_high).

    None when n < 4 (no residual degree of freedom) or the design is singular (x or the
    covariate constant, or one a multiple of the other).
    """
    n = len(y)
    if n < 4:
        return None
    design = np.column_stack([np.ones(n), np.asarray(x, float), np.asarray(covariate, float)])
    obs = np.asarray(y, float)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    beta, _, _, _ = np.linalg.lstsq(design, obs, rcond=None)
    resid = obs - design @ beta
    df = n - design.shape[1]
    cov = float(resid @ resid) / df * np.linalg.inv(design.T @ design)
    half = float(special.stdtrit(df, 0.5 + level / 2)) * math.sqrt(max(cov[1, 1], 0.0))
    b1 = float(beta[1])
    return b1, b1 - half, b1 + half
