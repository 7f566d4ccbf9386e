"""The Compare page's tables: the groups side by side and the tests across them in words. Its
charts are panels of the catalogue (``analytics.panels``: ``compare_km``,
``compare_hazard_ratios``, ``compare_attendance``, ``compare_change``)."""

from __future__ import annotations

import pandas as pd

from analytics.domain.numbers import estimate_ci, p_value
from ui import components as ui

# As named in the tests table (a sentence names them as analytics.present.sentences.TEST_NAMES).
TEST_LABELS = {"welch": "Welch's t-test", "anova": "One-way ANOVA"}
PERCENT_COLUMNS = ("Attendance rate", "Still meeting at 90 days", "Retained 90 days")


def side_by_side(groups: pd.DataFrame, label: str, k: int) -> None:
    """One row per group, small groups marked in a column of their own."""
    columns = {
        "grp": label, "pairs_in_scope": "Pairs", "participants_in_scope": "Participants",
        "attendance_rate": "Attendance rate", "km_90": "Still meeting at 90 days", "retained_90": "Retained 90 days",
    }
    codes = [c[: -len("_n_paired")] for c in groups.columns if c.endswith("_n_paired")]
    for code in codes:
        columns[f"{code}_n_paired"] = f"{code} paired"
        columns[f"{code}_mean_change"] = f"{code} mean change"
    shown = ui.flag_small(groups[list(columns)], "pairs_in_scope", k).rename(columns=columns)
    changes = {f"{c} mean change": 1 for c in codes}
    ui.table(shown, percent=PERCENT_COLUMNS, decimals=changes)


def tests_table(result: dict) -> pd.DataFrame:
    """Each test across groups: what it asks, its statistic, p-value and effect size with CI."""
    rt, at = result["retention_test"] or {}, result["attendance_test"] or {}
    hr = estimate_ci(rt.get("hr"), rt.get("hr_lower"), rt.get("hr_upper")) if rt.get("hr") is not None else "per group, below"
    rows = [
        {"Question": "Do groups keep meeting equally long?", "Test": "Log-rank",
         "Statistic": f"χ² = {ui.num(rt.get('chi2'), 2)}, df {ui.num(rt.get('df'))}",
         "p-value": p_value(rt.get("p_value"), missing="–"), "Effect size (95% CI)": f"Hazard ratio {hr}"},
        {"Question": "Do groups attend equally often?", "Test": "Chi-square",
         "Statistic": f"χ² = {ui.num(at.get('chi2'), 2)}, df {ui.num(at.get('df'))}",
         "p-value": p_value(at.get("p_value"), missing="–"),
         "Effect size (95% CI)": "Cramér's V " + estimate_ci(at.get("cramers_v"), at.get("cramers_v_lower"),
                                                             at.get("cramers_v_upper"))},
    ]
    for code, t in result["outcome_tests"].items():
        if t.get("test") == "welch":
            stat = f"t = {ui.num(t.get('t'), 2)}, df {ui.num(t.get('df'), 1)}"
            effect = "Hedges' g " + estimate_ci(t.get("hedges_g"), t.get("hedges_g_lower"), t.get("hedges_g_upper"))
        elif t.get("test") == "anova":
            stat = f"F = {ui.num(t.get('F'), 2)}, df {ui.num(t.get('df_between'))}, {ui.num(t.get('df_within'))}"
            effect = "η² " + estimate_ci(t.get("eta_squared"), t.get("eta_squared_lower"), t.get("eta_squared_upper"))
        else:
            stat, effect = "fewer than two groups with 2+ paired participants", "–"
        rows.append({"Question": f"Do groups change equally on {code}?",
                     "Test": TEST_LABELS.get(t.get("test"), "–"),
                     "Statistic": stat, "p-value": p_value(t.get("p_value"), missing="–"), "Effect size (95% CI)": effect})
    return pd.DataFrame(rows)
