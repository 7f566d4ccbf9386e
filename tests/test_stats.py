"""Tests for analytics.stats.

Three kinds: golden numbers worked by hand on tiny tables (the arithmetic is in the
comments), cross-checks against lifelines and scipy on seeded random data (aggregated here
the way the database hands it over), and hypothesis property tests.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy import stats
from scipy.stats.contingency import association

from analytics import stats as S

Z = stats.norm.ppf(0.975)  # 1.959964


def no_nan_values(d: dict) -> bool:
    """Returned dict values are floats or None, never NaN."""
    return not any(isinstance(v, float) and math.isnan(v) for v in d.values())


def km_table(durations: np.ndarray, events: np.ndarray) -> pd.DataFrame:
    """Per-pair durations -> the per-day aggregate the API takes."""
    df = pd.DataFrame({"t": durations, "e": events.astype(int)})
    df["c"] = 1 - df["e"]
    agg = df.groupby("t", as_index=False).agg(events=("e", "sum"), censored=("c", "sum"))
    return agg


def simulate_pairs(rng: np.random.Generator, n: int, scale: float = 120.0, p_event: float = 0.6):
    durations = np.floor(rng.exponential(scale, n)).astype(int)
    events = rng.random(n) < p_event
    return durations, events


# =========================================================================== Kaplan-Meier

# Five pairs: day 2 event; day 4 two events and one censored (the same day); day 9 censored.
#   t=0: at_risk 5, S = 1
#   t=2: at_risk 5 (all durations >= 2), S = 1 - 1/5 = 0.8
#   t=4: at_risk 4 (durations 4, 4, 4, 9; the pair censored on day 4 is still at risk
#        for that day's events), S = 0.8 * (1 - 2/4) = 0.4
#   t=9: at_risk 1, censored only, S stays 0.4
# Greenwood at t=4: sum d/(n(n-d)) = 1/(5*4) + 2/(4*2) = 0.05 + 0.25 = 0.30
#   Var S = 0.4^2 * 0.30 = 0.048, std_err = sqrt(0.048) = 0.219089
#   log(-log) band: se = sqrt(0.30) / |ln 0.4| = 0.547723 / 0.916291 = 0.597761
#   lower = 0.4 ^ exp(+1.959964 * 0.597761) = 0.4 ^ 3.227118 = 0.051976
#   upper = 0.4 ^ exp(-1.959964 * 0.597761) = 0.4 ^ 0.309874 = 0.752816
# Greenwood at t=2: sum = 1/(5*4) = 0.05, std_err = 0.8 * sqrt(0.05) = 0.178885
#   se = sqrt(0.05) / |ln 0.8| = 0.223607 / 0.223144 = 1.002076
#   lower = 0.8 ^ exp(1.959964 * 1.002076) = 0.203809, upper = 0.8 ^ exp(-1.964033) = 0.969180
TINY_KM = pd.DataFrame({"t": [2, 4, 4, 4, 9], "events": [1, 1, 1, 0, 0], "censored": [0, 0, 0, 1, 1]})


def test_km_golden_by_hand():
    curve = S.kaplan_meier(TINY_KM)
    assert list(curve.columns) == S.KM_COLUMNS
    assert curve["t"].tolist() == [0, 2, 4, 9]
    assert curve["at_risk"].tolist() == [5, 5, 4, 1]
    assert curve["events"].tolist() == [0, 1, 2, 0]
    assert curve["censored"].tolist() == [0, 0, 1, 1]
    assert curve["survival"].tolist() == pytest.approx([1.0, 0.8, 0.4, 0.4])
    assert curve["std_err"].tolist() == pytest.approx(
        [0.0, 0.178885, math.sqrt(0.048), math.sqrt(0.048)], abs=1e-6
    )
    assert curve["lower"].tolist() == pytest.approx([1.0, 0.203809, 0.051976, 0.051976], abs=1e-6)
    assert curve["upper"].tolist() == pytest.approx([1.0, 0.969180, 0.752816, 0.752816], abs=1e-6)


def test_km_helpers_by_hand():
    curve = S.kaplan_meier(TINY_KM)
    assert S.survival_at(curve, 0) == 1.0
    assert S.survival_at(curve, 1) == 1.0
    assert S.survival_at(curve, 2) == pytest.approx(0.8)  # events on day t count (d <= t)
    assert S.survival_at(curve, 3) == pytest.approx(0.8)
    assert S.survival_at(curve, 9) == pytest.approx(0.4)  # last observed follow-up
    assert S.survival_at(curve, 10) is None  # beyond follow-up: no extrapolation
    assert S.survival_at(curve, -1) is None
    assert S.median_survival(curve) == 4.0  # first t with S <= 0.5


def test_km_median_exactly_half_and_not_reached():
    # Four pairs, events on days 3, 5 (then 2 censored on day 8): S(3) = 3/4, S(5) = 3/4 * 2/3 = 0.5
    # exactly, so the median is 5 even though 0.75 * (2/3) is not exact in floating point.
    curve = S.kaplan_meier(pd.DataFrame({"t": [3, 5, 8], "events": [1, 1, 0], "censored": [0, 0, 2]}))
    assert S.median_survival(curve) == 5.0
    never = S.kaplan_meier(pd.DataFrame({"t": [3, 8], "events": [1, 0], "censored": [0, 3]}))
    assert S.median_survival(never) is None  # S = 0.75 at the end


def test_km_events_on_day_zero_and_curve_reaching_zero():
    # 4 pairs: 1 disengaged on the match day, then 3 events on day 6.
    # S(0) = 1 - 1/4 = 0.75; S(6) = 0.75 * (1 - 3/3) = 0 -> band degenerates to [0, 0].
    curve = S.kaplan_meier(pd.DataFrame({"t": [0, 6], "events": [1, 3], "censored": [0, 0]}))
    assert curve["t"].tolist() == [0, 6]
    assert curve["survival"].tolist() == pytest.approx([0.75, 0.0])
    assert curve.loc[1, ["lower", "upper", "std_err"]].tolist() == [0.0, 0.0, 0.0]
    assert S.median_survival(curve) == 6.0


def test_km_sums_repeated_days_and_ignores_empty_rows():
    split = pd.DataFrame(
        {"t": [4, 2, 4, 9, 4, 7], "events": [2, 1, 0, 0, 0, 0], "censored": [0, 0, 1, 1, 0, 0]}
    )
    pd.testing.assert_frame_equal(S.kaplan_meier(split), S.kaplan_meier(TINY_KM))


def test_km_empty_and_invalid():
    empty = S.kaplan_meier(pd.DataFrame({"t": [], "events": [], "censored": []}))
    assert empty.empty and list(empty.columns) == S.KM_COLUMNS
    assert S.survival_at(empty, 30) is None and S.median_survival(empty) is None
    with pytest.raises(ValueError):
        S.kaplan_meier(pd.DataFrame({"t": [-1], "events": [1], "censored": [0]}))
    with pytest.raises(ValueError):
        S.kaplan_meier(pd.DataFrame({"t": [1.5], "events": [1], "censored": [0]}))
    with pytest.raises(ValueError):
        S.kaplan_meier(pd.DataFrame({"t": [1], "events": [1]}))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_km_matches_lifelines(seed):
    rng = np.random.default_rng(seed)
    durations, events = simulate_pairs(rng, n=int(rng.integers(20, 300)), p_event=rng.uniform(0.2, 0.9))
    curve = S.kaplan_meier(km_table(durations, events))

    kmf = KaplanMeierFitter().fit(durations, events)
    sf = kmf.survival_function_["KM_estimate"]
    ci = kmf.confidence_interval_
    t = curve["t"].to_numpy()
    assert set(sf.index.astype(int)) == set(t)
    np.testing.assert_allclose(curve["survival"], sf.loc[t].to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(curve["lower"], ci.iloc[:, 0].loc[t].to_numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(curve["upper"], ci.iloc[:, 1].loc[t].to_numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_array_equal(curve["at_risk"], kmf.event_table["at_risk"].loc[t].to_numpy())
    expected_median = kmf.median_survival_time_
    got = S.median_survival(curve)
    assert (got is None) if math.isinf(expected_median) else (got == expected_median)
    for day in (30, 90, 180):
        if day <= durations.max():
            assert S.survival_at(curve, day) == pytest.approx(float(kmf.predict(day)), rel=1e-9)


def test_km_greenwood_std_err_matches_lifelines_variance():
    rng = np.random.default_rng(11)
    durations, events = simulate_pairs(rng, 150)
    curve = S.kaplan_meier(km_table(durations, events))
    kmf = KaplanMeierFitter().fit(durations, events)
    # lifelines keeps the running Greenwood sum; Var S = S^2 * sum.
    greenwood = kmf._cumulative_sq_.loc[curve["t"].to_numpy()].to_numpy()
    inner = (curve["survival"] > 0).to_numpy()
    np.testing.assert_allclose(
        curve["std_err"].to_numpy()[inner],
        (curve["survival"] * np.sqrt(greenwood)).to_numpy()[inner],
        rtol=1e-9,
    )


km_rows = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=25
)


@settings(max_examples=80, deadline=None)
@given(km_rows)
def test_km_properties(rows):
    table = pd.DataFrame(rows, columns=["t", "events", "censored"])
    curve = S.kaplan_meier(table)
    if (table["events"] + table["censored"]).sum() == 0:
        assert curve.empty
        return
    s = curve["survival"].to_numpy()
    assert curve["t"].iloc[0] == 0
    assert np.all(np.diff(curve["t"]) > 0)
    assert np.all(np.diff(s) <= 1e-12)  # never rises
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(curve["at_risk"]) <= 0)
    lo, hi = curve["lower"].to_numpy(), curve["upper"].to_numpy()
    assert np.all((lo >= 0) & (hi <= 1))
    assert np.all(lo <= s + 1e-12) and np.all(s <= hi + 1e-12)
    assert not curve.isna().any().any()
    assert S.survival_at(curve, int(curve["t"].iloc[-1])) == pytest.approx(s[-1])
    med = S.median_survival(curve)
    assert med is None or S.survival_at(curve, med) <= 0.5 + 1e-9


grouped_km_rows = st.lists(
    st.tuples(st.sampled_from(["b", "a", "c d", "z"]), st.integers(0, 60), st.integers(0, 6), st.integers(0, 6)),
    min_size=1, max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(grouped_km_rows)
def test_km_groups_equal_each_group_alone_bit_for_bit(rows):
    """The all-groups-at-once curve is each group's own kaplan_meier curve, stacked in group
    order, to the last bit; so are the median and the values read off at a day."""
    table = pd.DataFrame(rows, columns=["grp", "t", "events", "censored"])
    together = S.kaplan_meier_groups(table)
    alone = []
    for grp, part in table.groupby("grp", sort=True):
        curve = S.kaplan_meier(part[["t", "events", "censored"]])
        curve.insert(0, "grp", grp)
        alone.append(curve)
    expected = pd.concat(alone, ignore_index=True)
    if expected.empty:
        assert together.empty and list(together.columns) == ["grp", *S.KM_COLUMNS]
        return
    pd.testing.assert_frame_equal(together, expected, check_exact=True)
    medians = S.median_survival_groups(together)
    for grp, curve in together.groupby("grp"):
        assert medians.get(grp) == S.median_survival(curve)
        for day in (0, 7, 30, 90):
            at = S.rows_at(together, day)
            for col in ("survival", "lower", "upper"):
                assert at.at[grp, col] == S.survival_at(curve, day, column=col, carry_forward=True)


def test_km_groups_checks_its_input():
    with pytest.raises(ValueError, match="missing column"):
        S.kaplan_meier_groups(pd.DataFrame({"t": [1], "events": [1], "censored": [0]}))
    with pytest.raises(ValueError, match="non-negative integers"):
        S.kaplan_meier_groups(pd.DataFrame({"grp": ["a"], "t": [1.5], "events": [1], "censored": [0]}))


# =========================================================================== log-rank

# Group A: events on days 1 and 3. Group B: event on day 2, censored on day 4.
#   day 1: nA=2 nB=2 n=4 d=1: E_A = 2*1/4 = 1/2; V = 1*(4-1)/(4-1) * (2/4)(2/4) = 1/4
#   day 2: nA=1 nB=2 n=3 d=1: E_A = 1/3;         V = 1*(3-1)/(3-1) * (1/3)(2/3) = 2/9
#   day 3: nA=1 nB=1 n=2 d=1: E_A = 1/2;         V = 1*(2-1)/(2-1) * (1/2)(1/2) = 1/4
#   O_A = 2, E_A = 4/3, O_A - E_A = 2/3; V = 1/4 + 2/9 + 1/4 = 13/18
#   chi2 = (2/3)^2 / (13/18) = 8/13 = 0.615385; p = P(chi2_1 > 8/13) = erfc(sqrt(4/13)) = 0.432768
#   HR(A vs B) = exp((2/3) / (13/18)) = exp(12/13) = 2.517023; HR(B vs A) = exp(-12/13) = 0.397295
#   CI(B vs A) = exp(-12/13 -/+ 1.959964 / sqrt(13/18)) = exp(-0.923077 -/+ 2.306288)
TINY_LR = pd.DataFrame(
    {"group": ["A", "A", "B", "B"], "t": [1, 3, 2, 4], "events": [1, 1, 1, 0], "censored": [0, 0, 0, 1]}
)


def test_logrank_golden_by_hand():
    res = S.logrank(TINY_LR)
    assert res["chi2"] == pytest.approx(8 / 13)
    assert res["df"] == 1
    assert res["p_value"] == pytest.approx(math.erfc(math.sqrt(4 / 13)))
    g = res["groups"].set_index("group")
    assert g.loc["A", "observed"] == 2 and g.loc["A", "expected"] == pytest.approx(4 / 3)
    assert g.loc["B", "observed"] == 1 and g.loc["B", "expected"] == pytest.approx(5 / 3)
    assert g.loc["A", "variance"] == pytest.approx(13 / 18)
    assert g.loc["A", "hr"] == pytest.approx(math.exp(12 / 13))
    assert g["pairs"].tolist() == [2, 2]
    assert (res["hr_group"], res["hr_reference"]) == ("B", "A")
    assert res["hr"] == pytest.approx(math.exp(-12 / 13))
    half = Z / math.sqrt(13 / 18)
    assert res["hr_lower"] == pytest.approx(math.exp(-12 / 13 - half))
    assert res["hr_upper"] == pytest.approx(math.exp(-12 / 13 + half))
    flipped = S.logrank(TINY_LR, reference="B")
    assert flipped["hr_group"] == "A" and flipped["hr"] == pytest.approx(math.exp(12 / 13))
    assert no_nan_values(res)


def test_logrank_excludes_empty_groups_and_undefined_cases():
    table = pd.concat(
        [TINY_LR, pd.DataFrame({"group": ["C"], "t": [5], "events": [0], "censored": [0]})],
        ignore_index=True,
    )
    res = S.logrank(table)
    assert res["excluded"] == ["C"] and res["groups"]["group"].tolist() == ["A", "B"]
    assert res["chi2"] == pytest.approx(8 / 13)
    one = S.logrank(TINY_LR[TINY_LR["group"] == "A"])
    assert one["chi2"] is None and one["p_value"] is None and one["hr"] is None
    no_events = S.logrank(TINY_LR.assign(events=0, censored=1))
    assert no_events["chi2"] is None and no_events["p_value"] is None and no_nan_values(no_events)
    with pytest.raises(ValueError):
        S.logrank(TINY_LR, reference="Z")


def test_logrank_group_never_at_risk_on_an_event_day_adds_no_degree_of_freedom():
    # Group C's two pairs are censored on day 0, before the first event (day 1): they are in
    # no risk set of an event day, so O_C = E_C = 0, V_CC = 0, and the test is A vs B.
    table = pd.concat(
        [TINY_LR, pd.DataFrame({"group": ["C"], "t": [0], "events": [0], "censored": [2]})],
        ignore_index=True,
    )
    res = S.logrank(table)
    assert res["df"] == 1 and res["chi2"] == pytest.approx(8 / 13)
    c = res["groups"].set_index("group").loc["C"]
    assert c["pairs"] == 2 and c["observed"] == 0 and c["expected"] == 0 and c["variance"] == 0
    assert math.isnan(c["hr"])


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_logrank_two_groups_matches_lifelines(seed):
    rng = np.random.default_rng(seed)
    da, ea = simulate_pairs(rng, int(rng.integers(15, 120)), scale=100)
    db, eb = simulate_pairs(rng, int(rng.integers(15, 120)), scale=160)
    table = pd.concat([km_table(da, ea).assign(group="a"), km_table(db, eb).assign(group="b")])
    res = S.logrank(table)
    ref = logrank_test(da, db, event_observed_A=ea, event_observed_B=eb)
    assert res["chi2"] == pytest.approx(ref.test_statistic, rel=1e-9)
    assert res["p_value"] == pytest.approx(ref.p_value, rel=1e-9)
    g = res["groups"]
    assert g["observed"].tolist() == [ea.sum(), eb.sum()]
    assert g["observed"].sum() == pytest.approx(g["expected"].sum())
    # With two groups the test is (O - E)^2 / V and the two HRs are reciprocal.
    assert res["chi2"] == pytest.approx((g["observed"][1] - g["expected"][1]) ** 2 / g["variance"][1])
    assert g["hr"][0] * g["hr"][1] == pytest.approx(1.0)
    assert res["hr"] == pytest.approx(g["hr"][1])


@pytest.mark.parametrize("seed,k", [(8, 3), (9, 4), (10, 5)])
def test_logrank_k_groups_matches_lifelines(seed, k):
    rng = np.random.default_rng(seed)
    durations, events, labels, parts = [], [], [], []
    for i in range(k):
        d, e = simulate_pairs(rng, int(rng.integers(10, 80)), scale=80 + 30 * i)
        durations.append(d)
        events.append(e)
        labels.append(np.full(len(d), f"g{i}"))
        parts.append(km_table(d, e).assign(group=f"g{i}"))
    res = S.logrank(pd.concat(parts))
    ref = multivariate_logrank_test(np.concatenate(durations), np.concatenate(labels), np.concatenate(events))
    assert res["df"] == ref.degrees_of_freedom == k - 1
    assert res["chi2"] == pytest.approx(ref.test_statistic, rel=1e-8)
    assert res["p_value"] == pytest.approx(ref.p_value, rel=1e-7, abs=1e-14)
    assert res["hr"] is None  # only defined for two groups
    g = res["groups"]
    # Each group's HR is the effect size of the two-group test "this group vs the rest":
    # that test's statistic is (O_g - E_g)^2 / V_gg.
    all_d, all_e, all_g = np.concatenate(durations), np.concatenate(events), np.concatenate(labels)
    for row in g.itertuples():
        mine = all_g == row.group
        vs_rest = logrank_test(all_d[mine], all_d[~mine], all_e[mine], all_e[~mine])
        assert (row.observed - row.expected) ** 2 / row.variance == pytest.approx(vs_rest.test_statistic)
        assert row.hr == pytest.approx(math.exp((row.observed - row.expected) / row.variance))
    assert g["observed"].sum() == pytest.approx(g["expected"].sum())
    assert ((g["hr_lower"] <= g["hr"]) & (g["hr"] <= g["hr_upper"])).all()


lr_rows = st.lists(
    st.tuples(st.sampled_from("ABC"), st.integers(0, 30), st.integers(0, 4), st.integers(0, 4)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(lr_rows)
def test_logrank_properties(rows):
    res = S.logrank(pd.DataFrame(rows, columns=["group", "t", "events", "censored"]))
    assert no_nan_values(res)
    if res["p_value"] is not None:
        assert 0 <= res["p_value"] <= 1 and res["chi2"] >= 0
        assert 1 <= res["df"] <= 2
    g = res["groups"]
    assert g["observed"].sum() == pytest.approx(g["expected"].sum())


# =========================================================================== chi-square

# 2x2 by hand: A 30 attended / 10 no-show, B 20 / 20. N = 80, column totals 50 / 30,
# row totals 40 / 40, so every expected count is 40 * 50/80 = 25 or 40 * 30/80 = 15.
#   chi2 = (30-25)^2/25 + (10-15)^2/15 + (20-25)^2/25 + (20-15)^2/15 = 1 + 5/3 + 1 + 5/3 = 16/3
#   df = 1; p = erfc(sqrt(chi2 / 2)) = 0.020921; V = sqrt((16/3) / 80) = sqrt(1/15) = 0.258199
# Wilson for A (30/40, z = 1.959964): denom = 1 + z^2/40 = 1.096036
#   centre = (0.75 + z^2/80) / denom = 0.728095
#   half = z / denom * sqrt(0.75*0.25/40 + z^2/6400) = 0.130034 -> [0.598061, 0.858129]
TINY_ATT = pd.DataFrame({"group": ["A", "B"], "attended": [30, 20], "no_show": [10, 20]})


def test_chi_square_golden_by_hand():
    res = S.chi_square_attendance(TINY_ATT)
    assert res["chi2"] == pytest.approx(16 / 3)
    assert res["df"] == 1 and res["n"] == 80 and res["min_expected"] == 15
    assert res["p_value"] == pytest.approx(math.erfc(math.sqrt(8 / 3)))
    assert res["cramers_v"] == pytest.approx(math.sqrt(1 / 15))
    assert 0 < res["cramers_v_lower"] < res["cramers_v"] < res["cramers_v_upper"] < 1
    g = res["groups"].set_index("group")
    assert g.loc["A", "rate"] == 0.75 and g.loc["B", "rate"] == 0.5
    assert g.loc["A", "rate_lower"] == pytest.approx(0.728095 - 0.130034, abs=2e-6)
    assert g.loc["A", "rate_upper"] == pytest.approx(0.728095 + 0.130034, abs=2e-6)
    assert no_nan_values(res)


def test_cramers_v_ci_is_the_noncentral_chi_square_inversion():
    # The limits are noncentralities lam with ncx2.cdf(chi2_obs; df, lam) = 0.975 / 0.025
    # and V = sqrt(lam / N) (Smithson 2003).
    res = S.chi_square_attendance(TINY_ATT)
    lam_lo = res["cramers_v_lower"] ** 2 * 80
    lam_hi = res["cramers_v_upper"] ** 2 * 80
    assert stats.ncx2.cdf(16 / 3, 1, lam_lo) == pytest.approx(0.975, abs=1e-7)
    assert stats.ncx2.cdf(16 / 3, 1, lam_hi) == pytest.approx(0.025, abs=1e-7)


def test_chi_square_undefined_and_excluded():
    res = S.chi_square_attendance(
        pd.DataFrame({"group": ["A", "B", "C"], "attended": [5, 7, 0], "no_show": [0, 0, 0]})
    )
    assert res["excluded"] == ["C"]
    assert res["chi2"] is None and res["p_value"] is None and res["cramers_v"] is None
    assert res["groups"]["rate"].tolist() == [1.0, 1.0]
    assert no_nan_values(res)
    single = S.chi_square_attendance(TINY_ATT.iloc[:1])
    assert single["chi2"] is None and single["groups"]["rate"].tolist() == [0.75]


@pytest.mark.parametrize("seed,k", [(12, 2), (13, 3), (14, 6)])
def test_chi_square_matches_scipy(seed, k):
    rng = np.random.default_rng(seed)
    # Session-level rows, aggregated to counts per group as the database would.
    groups = rng.integers(0, k, 600)
    attended = rng.random(600) < 0.6 + 0.05 * groups
    sessions = pd.DataFrame({"group": groups, "attended": attended.astype(int)})
    counts = sessions.groupby("group", as_index=False).agg(
        attended=("attended", "sum"), no_show=("attended", lambda s: int((s == 0).sum()))
    )
    res = S.chi_square_attendance(counts)
    table = counts[["attended", "no_show"]].to_numpy()
    ref = stats.chi2_contingency(table, correction=False)
    assert res["chi2"] == pytest.approx(ref.statistic, rel=1e-10)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-15)
    assert res["df"] == ref.dof
    assert res["min_expected"] == pytest.approx(ref.expected_freq.min())
    assert res["cramers_v"] == pytest.approx(association(table, method="cramer", correction=False))
    for row in res["groups"].itertuples():
        lo, hi = stats.binomtest(int(row.attended), int(row.total)).proportion_ci(method="wilson")
        assert (row.rate_lower, row.rate_upper) == pytest.approx((lo, hi), rel=1e-9)


att_rows = st.lists(
    st.tuples(st.sampled_from("ABCD"), st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=6
)


@settings(max_examples=50, deadline=None)
@given(att_rows)
def test_chi_square_properties(rows):
    res = S.chi_square_attendance(pd.DataFrame(rows, columns=["group", "attended", "no_show"]))
    assert no_nan_values(res)
    g = res["groups"]
    assert ((g["rate_lower"] <= g["rate"] + 1e-12) & (g["rate"] <= g["rate_upper"] + 1e-12)).all()
    if res["p_value"] is None:
        return
    assert 0 <= res["p_value"] <= 1
    v, lo, hi = res["cramers_v"], res["cramers_v_lower"], res["cramers_v_upper"]
    assert 0 <= lo <= hi <= 1 and 0 <= v <= 1
    # The inverted interval contains V unless the statistic sits in the central distribution's
    # lower tail, where no noncentrality explains it and both limits are 0 (Smithson 2003).
    if stats.chi2.cdf(res["chi2"], res["df"]) >= 0.025:
        assert lo - 1e-9 <= v <= hi + 1e-9 or hi == 1.0


# =========================================================================== means and effect sizes


def test_mean_ci_and_dz_by_hand():
    # mean 2, sd 1, n 3: t(0.975, 2) = 4.302653, half-width = 4.302653 / sqrt(3) = 2.484138
    lo, hi = S.mean_ci(2.0, 1.0, 3)
    assert (lo, hi) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-6)
    assert S.mean_ci(2.0, 1.0, 1) == (None, None)
    assert S.mean_ci(2.0, float("nan"), 5) == (None, None)
    assert S.mean_ci(2.0, 0.0, 5) == (2.0, 2.0)
    assert S.cohens_dz(3.0, 6.0) == 0.5
    assert S.cohens_dz(3.0, 0.0) is None
    assert S.cohens_dz(3.0, None) is None
    assert S.cohens_dz(3.0, 6.0, n=1) is None


def test_mean_ci_and_dz_match_scipy():
    rng = np.random.default_rng(15)
    change = rng.normal(1.5, 4.0, 37)
    m, s, n = change.mean(), change.std(ddof=1), len(change)
    ref = stats.ttest_1samp(change, 0.0)
    assert S.mean_ci(m, s, n) == pytest.approx(tuple(ref.confidence_interval()), rel=1e-10)
    # d_z = paired t / sqrt(n)
    assert S.cohens_dz(m, s, n) == pytest.approx(ref.statistic / math.sqrt(n))


def test_welch_golden_by_hand():
    # Group 1: 1, 2, 3 -> mean 2, var 1. Group 2: 2, 4, 6, 8 -> mean 5, var 20/3.
    #   se^2 = 1/3 + (20/3)/4 = 1/3 + 5/3 = 2; t = (2 - 5) / sqrt(2) = -2.121320
    #   df = 2^2 / ((1/3)^2/2 + (5/3)^2/3) = 4 / (1/18 + 25/27) = 4 / (53/54) = 216/53 = 4.075472
    # Hedges' g: s_pooled^2 = (2*1 + 3*20/3) / 5 = 22/5 = 4.4; d = -3 / sqrt(4.4) = -1.430194
    #   J = 1 - 3 / (4*7 - 9) = 16/19; g = -1.204374
    #   Var(g) = 7/12 + g^2 / 14 = 0.583333 + 0.103607 = 0.686940
    res = S.welch_t_from_stats(2.0, 1.0, 3, 5.0, math.sqrt(20 / 3), 4)
    assert res["t"] == pytest.approx(-3 / math.sqrt(2))
    assert res["df"] == pytest.approx(216 / 53)
    assert res["mean_diff"] == -3.0
    q = stats.t.ppf(0.975, 216 / 53)
    assert (res["mean_diff_lower"], res["mean_diff_upper"]) == pytest.approx(
        (-3 - q * math.sqrt(2), -3 + q * math.sqrt(2))
    )
    g = 16 / 19 * -3 / math.sqrt(4.4)
    assert res["hedges_g"] == pytest.approx(g)
    se_g = math.sqrt(7 / 12 + g * g / 14)
    assert (res["hedges_g_lower"], res["hedges_g_upper"]) == pytest.approx((g - Z * se_g, g + Z * se_g))
    ref = stats.ttest_ind([1, 2, 3], [2, 4, 6, 8], equal_var=False)
    assert res["p_value"] == pytest.approx(ref.pvalue)


def test_welch_undefined():
    one = S.welch_t_from_stats(2.0, None, 1, 5.0, 1.0, 4)
    assert one["mean_diff"] == -3.0 and one["t"] is None and one["hedges_g"] is None
    flat = S.welch_t_from_stats(2.0, 0.0, 5, 2.0, 0.0, 5)
    assert flat["t"] is None and flat["p_value"] is None and flat["hedges_g"] is None
    assert no_nan_values(one) and no_nan_values(flat)
    empty = S.welch_t_from_stats(2.0, 1.0, 0, 5.0, 1.0, 4)
    assert all(v is None for v in empty.values())


@pytest.mark.parametrize("seed", [16, 17, 18, 19])
def test_welch_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, rng.uniform(1, 5), int(rng.integers(2, 40)))
    b = rng.normal(1.0, rng.uniform(1, 5), int(rng.integers(2, 40)))
    res = S.welch_t_from_stats(a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b))
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert res["t"] == pytest.approx(ref.statistic, rel=1e-9)
    assert res["df"] == pytest.approx(ref.df, rel=1e-9)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    ci = ref.confidence_interval()
    assert (res["mean_diff_lower"], res["mean_diff_upper"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    na, nb = len(a), len(b)
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    assert res["hedges_g"] == pytest.approx((1 - 3 / (4 * (na + nb) - 9)) * (a.mean() - b.mean()) / pooled)


def test_anova_golden_by_hand():
    # Three groups of 3 with means 2, 4, 6 and sd 1: grand mean 4.
    #   SSB = 3*(2-4)^2 + 0 + 3*(6-4)^2 = 24; SSW = 3 * (3-1) * 1 = 6; SST = 30
    #   df_b = 2, df_w = 6; F = (24/2) / (6/6) = 12
    #   p = P(F(2, 6) > 12) = (1 + 2*12/6)^(-6/2) = 5^-3 = 0.008  (closed form for df_b = 2)
    #   eta^2 = 24/30 = 0.8; omega^2 = (24 - 2*1) / (30 + 1) = 22/31 = 0.709677
    table = pd.DataFrame({"group": list("abc"), "n": [3, 3, 3], "mean": [2.0, 4.0, 6.0], "sd": [1.0] * 3})
    res = S.anova_from_stats(table)
    assert res["F"] == pytest.approx(12.0)
    assert (res["df_between"], res["df_within"], res["n"]) == (2, 6, 9)
    assert res["p_value"] == pytest.approx(0.008)
    assert res["eta_squared"] == pytest.approx(0.8)
    assert res["omega_squared"] == pytest.approx(22 / 31)
    # CI limits are noncentralities with ncf.cdf(12; 2, 6, lam) = 0.975 / 0.025, eta^2 = lam/(lam + N).
    lo, hi = res["eta_squared_lower"], res["eta_squared_upper"]
    assert 0 < lo < hi < 1
    for eta2, target in ((lo, 0.975), (hi, 0.025)):
        lam = 9 * eta2 / (1 - eta2)
        assert stats.ncf.cdf(12.0, 2, 6, lam) == pytest.approx(target, abs=1e-7)


def test_anova_undefined_and_edge_cases():
    one = S.anova_from_stats(pd.DataFrame({"group": ["a"], "n": [5], "mean": [1.0], "sd": [1.0]}))
    assert one["F"] is None and one["p_value"] is None and one["eta_squared"] is None
    flat = S.anova_from_stats(
        pd.DataFrame({"group": ["a", "b"], "n": [3, 3], "mean": [1.0, 2.0], "sd": [0.0, 0.0]})
    )
    assert flat["F"] is None and flat["p_value"] is None and flat["eta_squared"] == 1.0
    # n = 1 groups (sd missing) still count between groups; n = 0 groups are excluded.
    mixed = S.anova_from_stats(
        pd.DataFrame(
            {"group": ["a", "b", "c"], "n": [1, 4, 0], "mean": [3.0, 1.0, None], "sd": [None, 2.0, None]}
        )
    )
    assert mixed["excluded"] == ["c"] and (mixed["df_between"], mixed["df_within"]) == (1, 3)
    # b = 1 - sqrt(5), 0, 2, 1 + sqrt(5): mean 1, squared deviations 5 + 1 + 1 + 5 = 12, sd 2
    ref = stats.f_oneway([3.0], [1 - 5**0.5, 0.0, 2.0, 1 + 5**0.5])
    assert mixed["F"] == pytest.approx(ref.statistic)
    null = S.anova_from_stats(
        pd.DataFrame({"group": ["a", "b"], "n": [3, 3], "mean": [2.0, 2.0], "sd": [1.0, 1.0]})
    )
    assert null["F"] == 0 and null["omega_squared"] == 0.0 and null["eta_squared_upper"] >= 0
    # Almost no within-group variance: F ~ 4e9 is beyond where the noncentral F cdf is
    # reliable, so the eta^2 limits are None rather than a number of unknown precision.
    huge = S.anova_from_stats(
        pd.DataFrame({"group": [0, 1], "n": [2, 9], "mean": [0.0, 33.0], "sd": [0.001953125, 0.0]})
    )
    assert huge["F"] > 1e9 and huge["eta_squared"] == pytest.approx(1.0)
    assert huge["eta_squared_lower"] is None and huge["eta_squared_upper"] is None
    for res in (one, flat, mixed, null, huge):
        assert no_nan_values(res)


@pytest.mark.parametrize("seed,k", [(20, 2), (21, 3), (22, 5)])
def test_anova_matches_scipy(seed, k):
    rng = np.random.default_rng(seed)
    samples = [rng.normal(0.3 * i, 2.0, int(rng.integers(2, 30))) for i in range(k)]
    table = pd.DataFrame(
        {
            "group": range(k),
            "n": [len(x) for x in samples],
            "mean": [x.mean() for x in samples],
            "sd": [x.std(ddof=1) for x in samples],
        }
    )
    res = S.anova_from_stats(table)
    ref = stats.f_oneway(*samples)
    assert res["F"] == pytest.approx(ref.statistic, rel=1e-9)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
    pooled = np.concatenate(samples)
    ssb = sum(len(x) * (x.mean() - pooled.mean()) ** 2 for x in samples)
    assert res["eta_squared"] == pytest.approx(ssb / ((pooled - pooled.mean()) ** 2).sum())
    if k == 2:  # two groups: F = pooled-variance t^2
        assert res["F"] == pytest.approx(stats.ttest_ind(*samples).statistic ** 2)


finite = st.floats(-100, 100, allow_nan=False)
sds = st.floats(0, 50, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(finite, sds, st.integers(0, 40), finite, sds, st.integers(0, 40))
def test_welch_properties(m1, s1, n1, m2, s2, n2):
    res = S.welch_t_from_stats(m1, s1, n1, m2, s2, n2)
    assert no_nan_values(res)
    if res["p_value"] is not None:
        assert 0 <= res["p_value"] <= 1
        assert res["mean_diff_lower"] <= res["mean_diff"] <= res["mean_diff_upper"]
    if res["hedges_g"] is not None:
        assert res["hedges_g_lower"] <= res["hedges_g"] <= res["hedges_g_upper"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), finite, sds), min_size=1, max_size=5))
def test_anova_properties(rows):
    table = pd.DataFrame(
        [(i, n, m, s if n >= 2 else None) for i, (n, m, s) in enumerate(rows)],
        columns=["group", "n", "mean", "sd"],
    )
    res = S.anova_from_stats(table)
    assert no_nan_values(res)
    if res["p_value"] is not None:
        assert 0 <= res["p_value"] <= 1
        assert 0 <= res["eta_squared"] <= 1 and 0 <= res["omega_squared"] <= res["eta_squared"] + 1e-12
        lo, hi = res["eta_squared_lower"], res["eta_squared_upper"]
        if lo is not None and hi is not None:
            assert 0 <= lo <= hi < 1


# =========================================================================== Wilson


def test_wilson_by_hand_and_against_scipy():
    # 0/10: the lower limit is 0 and the upper is z^2 / (n + z^2) = 3.841459 / 13.841459 = 0.277533
    assert S.wilson_ci(0, 10) == (0.0, pytest.approx(Z**2 / (10 + Z**2)))
    assert S.wilson_ci(10, 10) == (pytest.approx(10 / (10 + Z**2)), 1.0)
    assert S.wilson_ci(0, 0) == (None, None)
    with pytest.raises(ValueError):
        S.wilson_ci(5, 4)
    for x, n in [(1, 3), (30, 40), (17, 250), (999, 1000)]:
        ci = stats.binomtest(x, n).proportion_ci(method="wilson")
        assert S.wilson_ci(x, n) == pytest.approx((ci.low, ci.high), rel=1e-10)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_properties(a, b):
    x, n = min(a, b), max(a, b)
    lo, hi = S.wilson_ci(x, n)
    if n == 0:
        assert (lo, hi) == (None, None)
    else:
        assert 0 <= lo <= x / n <= hi <= 1


def test_survival_at_carries_forward_and_reads_the_band_when_asked():
    # Events on days 2 and 5 among 5 pairs followed to day 9 (one censored on day 9):
    # S(2) = 4/5 = 0.8, S(5) = 0.8 * 3/4 = 0.6. Beyond day 9 the default gives no number;
    # carried forward it is the last value, as lifelines' predict gives it.
    counts = pd.DataFrame({"t": [2, 5, 7, 8, 9], "events": [1, 1, 0, 0, 0], "censored": [0, 0, 1, 1, 1]})
    curve = S.kaplan_meier(counts)
    assert S.survival_at(curve, 5) == pytest.approx(0.6)
    assert S.survival_at(curve, 30) is None
    assert S.survival_at(curve, 30, carry_forward=True) == pytest.approx(0.6)
    lower = S.survival_at(curve, 5, column="lower")
    assert lower == pytest.approx(float(curve.loc[curve["t"] == 5, "lower"].iloc[0]))
    assert 0 < lower < 0.6


def test_at_risk_table_reads_the_pairs_still_followed_at_each_day():
    # 5 pairs: at day 0 all 5 at risk; at day 3 (first row with t >= 3 is t = 5) 4 remain;
    # past the last follow-up (day 9) nobody is at risk.
    counts = pd.DataFrame({"t": [2, 5, 7, 8, 9], "events": [1, 1, 0, 0, 0], "censored": [0, 0, 1, 1, 1]})
    curve = S.kaplan_meier(counts).assign(grp="all")
    table = S.at_risk_table(curve, days=[0, 3, 9, 10])
    assert table["at_risk"].tolist() == [5, 4, 1, 0]
    assert S.at_risk_days(150)[:3] == [0, 30, 60]


def test_pooled_rate_is_the_rate_over_all_groups():
    # (30 + 10) / (40 + 20) = 40 / 60
    assert S.pooled_rate([30, 10], [40, 20]) == pytest.approx(40 / 60)
    assert S.pooled_rate([0], [0]) == 0.0
