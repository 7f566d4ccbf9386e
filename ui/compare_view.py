"""The Compare page's tables (groups side by side, the tests across them in words) and its
charts: the arguments the screen and the exports share, and the exports' figures, drawn from
the groups suppressed by ``privacy.frames.FRAME_SPECS["compare_groups"]``."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import stats
from analytics.exports import images
from analytics.present import charts
from analytics.privacy import frames
from ui import components as ui

# As named in a sentence, and in the tests table.
TEST_NAMES = {"welch": "Welch's t-test", "anova": "one-way ANOVA"}
TEST_LABELS = {"welch": "Welch's t-test", "anova": "One-way ANOVA"}
PERCENT_COLUMNS = ("Attendance rate", "Still meeting at 90 days", "Retained 90 days")


def with_sessions(groups: pd.DataFrame) -> pd.DataFrame:
    """Groups with `sessions` = attended + no-show, the attendance rate's denominator."""
    return groups.assign(sessions=groups["attended"] + groups["no_show"])


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


def p_text(p) -> str:
    if ui.is_missing(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _ci(x, lo, hi, digits: int = 2) -> str:
    if ui.is_missing(x):
        return "–"
    return f"{x:.{digits}f} ({ui.num(lo, digits)} to {ui.num(hi, digits)})"


def tests_table(result: dict) -> pd.DataFrame:
    """Each test across groups: what it asks, its statistic, p-value and effect size with CI."""
    rt, at = result["retention_test"] or {}, result["attendance_test"] or {}
    hr = _ci(rt.get("hr"), rt.get("hr_lower"), rt.get("hr_upper")) if rt.get("hr") is not None else "per group, below"
    rows = [
        {"Question": "Do groups keep meeting equally long?", "Test": "Log-rank",
         "Statistic": f"χ² = {ui.num(rt.get('chi2'), 2)}, df {ui.num(rt.get('df'))}",
         "p-value": p_text(rt.get("p_value")), "Effect size (95% CI)": f"Hazard ratio {hr}"},
        {"Question": "Do groups attend equally often?", "Test": "Chi-square",
         "Statistic": f"χ² = {ui.num(at.get('chi2'), 2)}, df {ui.num(at.get('df'))}",
         "p-value": p_text(at.get("p_value")),
         "Effect size (95% CI)": "Cramér's V " + _ci(at.get("cramers_v"), at.get("cramers_v_lower"),
                                                      at.get("cramers_v_upper"))},
    ]
    for code, t in result["outcome_tests"].items():
        if t.get("test") == "welch":
            stat = f"t = {ui.num(t.get('t'), 2)}, df {ui.num(t.get('df'), 1)}"
            effect = "Hedges' g " + _ci(t.get("hedges_g"), t.get("hedges_g_lower"), t.get("hedges_g_upper"))
        elif t.get("test") == "anova":
            stat = f"F = {ui.num(t.get('F'), 2)}, df {ui.num(t.get('df_between'))}, {ui.num(t.get('df_within'))}"
            effect = "η² " + _ci(t.get("eta_squared"), t.get("eta_squared_lower"), t.get("eta_squared_upper"))
        else:
            stat, effect = "fewer than two groups with 2+ paired participants", "–"
        rows.append({"Question": f"Do groups change equally on {code}?",
                     "Test": TEST_LABELS.get(t.get("test"), "–"),
                     "Statistic": stat, "p-value": p_text(t.get("p_value")), "Effect size (95% CI)": effect})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- charts

HAZARD_RATIOS = {
    "estimate": "hr", "low": "hr_lower", "high": "hr_upper", "n": "pairs", "n_unit": "pairs", "null_value": 1.0,
    "log_x": True, "x_title": "Hazard of disengaging vs all other groups",
}
ATTENDANCE = {
    "estimate": "attendance_rate", "low": "attendance_low", "high": "attendance_high", "n": "sessions",
    "n_unit": "sessions", "percent": True, "x_title": "Attendance rate",
}


def mean_change(code: str, higher_is_better: bool = True) -> dict:
    """forest_plot's arguments for an instrument's mean change per group (the axis says which way
    is better when lower scores are)."""
    better = "" if higher_is_better else " (lower is better)"
    return {"estimate": f"{code}_mean_change", "low": f"{code}_ci95_low", "high": f"{code}_ci95_high",
            "n": f"{code}_n_paired", "n_unit": "participants", "null_value": 0.0,
            "x_title": f"{code} mean change{better}"}


def pooled_attendance(groups: pd.DataFrame) -> float:
    """Attended / (attended + no-show) over the groups: the attendance chart's reference line."""
    return stats.pooled_rate(groups["attended"], groups["sessions"])


def chart_columns(args: dict) -> list[str]:
    """The columns a forest plot of the groups draws, with the counts its values rest on."""
    spec = frames.spec_for("compare_groups", [args["n"]])
    cols = [args["n"], args["estimate"], args["low"], args["high"]]
    for col in list(cols):
        dens = spec.derived.get(col, ())
        cols += [*((dens,) if isinstance(dens, str) else dens), *spec.inputs.get(col, ())]
    return ["grp", *dict.fromkeys(cols)]


def exported_groups(result: dict, k: int, columns: list[str] | None = None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The groups as exports see them: suppressed cells blank (a group below k has no estimates),
    and what was hidden (``frames.chart_frame``).

    ``columns``: only these (with ``chart_columns``): each count column is suppressed on its own
    and a value goes with its own counts, so the cells are the same as in the whole frame, and
    only hidden cells the chart draws take the total out of its title."""
    groups = with_sessions(result["groups"])
    return frames.chart_frame(groups if columns is None else groups[columns], "compare_groups", k)


def _names(groups: list) -> str:
    return ", ".join(map(str, groups)) if len(groups) <= 6 else f"{len(groups)} groups"


def km_export(result: dict, k: int) -> tuple[go.Figure, tuple[str, ...]]:
    """The Kaplan-Meier curves by group for export, and what they hid: each group's curve while at
    least k of its pairs remain at risk; a group with fewer than k pairs matched is left out, and
    named."""
    curve = result["curve"]
    shown, at_risk, hidden = frames.km_chart_frames(curve, k)
    fig = charts.km_chart(shown, at_risk, k=k, small_groups=result["small_groups"])
    left_out = [g for g in dict.fromkeys(curve["grp"]) if shown.empty or g not in set(shown["grp"])]
    if left_out:
        fig = images.with_footnote(fig, f"Not drawn (fewer than {k} pairs matched): {_names(left_out)}.")
    return fig, hidden


def forest_export(result: dict, k: int, args: dict) -> tuple[go.Figure, tuple[str, ...]]:
    """A forest plot of the groups for export (``HAZARD_RATIOS``, ``mean_change(code)``), from
    suppressed groups, and what they hid; a footnote says why rows have no estimate."""
    raw, (groups, hidden) = with_sessions(result["groups"]), exported_groups(result, k, chart_columns(args))
    fig = charts.forest_plot(groups, **args, by=result["by"], k=k, small_groups=result["small_groups"])
    return _noted_blanks(fig, raw, groups, args["estimate"], k), hidden


def attendance_export(result: dict, k: int) -> tuple[go.Figure, tuple[str, ...]]:
    """The attendance forest plot for export. Its reference line is the attendance of all groups
    when that total may be stated beside the suppressed groups (``frames.total_publishable``),
    else of the groups whose counts are shown (and the footnote says so)."""
    columns = chart_columns(ATTENDANCE)
    raw, (groups, hidden) = with_sessions(result["groups"]), exported_groups(result, k, columns)
    whole = all(frames.total_publishable(raw[columns], "compare_groups", k, c) for c in ("attended", "no_show"))
    counted = groups[groups[["attended", "no_show"]].notna().all(axis=1)]
    pooled = pooled_attendance(raw if whole else counted)
    fig = charts.forest_plot(groups, **ATTENDANCE, null_value=pooled, by=result["by"], k=k,
                             small_groups=result["small_groups"])
    if not whole:
        fig = images.with_footnote(fig, "Dashed line: attendance of the groups whose session counts are shown.")
    return _noted_blanks(fig, raw, groups, ATTENDANCE["estimate"], k), hidden


def _noted_blanks(fig: go.Figure, raw: pd.DataFrame, groups: pd.DataFrame, estimate: str, k: int) -> go.Figure:
    blanked = groups[estimate].isna().to_numpy() & raw[estimate].notna().to_numpy()
    if not blanked.any():
        return fig
    return images.with_footnote(
        fig, f"No estimate is shown where it rests on a suppressed count (1-{k - 1}, or one hidden with such a "
        "count so that totals cannot give it back).",
    )
