"""The panel catalogue: every chart a page shows, by name, with everything that goes with it.

A panel says which metric frame it is drawn from, how the chart builder is called on it, the
sentence that carries its main number, its title, its file names and its suppression rules.
The screen (``ui.panel.show``), the image downloads, the Reports page and the server's warm-up
all read it from here, so one chart is written once.

A panel is drawn from a *view*: where its frames come from.

- ``ScreenView``: the frames as the page's user may see them (``ui.data_access.metric``:
  unsuppressed and flagged, or suppressed for roles with suppressed screens);
- ``ExportView``: the same frames suppressed by their export rules (``privacy.frames``), for
  chart images. It records what it hid, so an image drawn from a frame with hidden cells states
  no total in its title.

Parameters: ``code`` (an instrument reported in the store, for per-instrument panels; None draws
every instrument where the chart allows it) and ``by`` (the grouping of the metric, when it
differs from the panel's own; on the Compare page's panels, the dimension compared, the first
of ``DIMENSIONS`` by default); the follow-up panels also take ``rule`` and ``target`` (the
metric's settings, ``analytics.metrics.followup``). Per-instrument charts and sentences take
the instrument's definition from the store (the ``instrument_registry`` frame), so names,
ranges and the direction of improvement are the registry's in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics import stats, summary
from analytics.domain.contract import INSTRUMENTS, Instrument
from analytics.domain.instruments import ALWAYS_REPORTED
from analytics.domain.numbers import finite_or_none
from analytics.domain.scope import DIMENSION_LABELS, DIMENSIONS, Scope
from analytics.metrics import (
    admin,
    attention,
    compare,
    dose,
    engagement,
    followup,
    goals,
    instruments,
    mentors,
    outcomes,
    quality,
    retention,
)
from analytics.present import charts
from analytics.present import sentences as say
from analytics.present.charts import compare as forest
from analytics.present.charts.compare import ForestSpec
from analytics.present.theme import MAX_GROUPS_DRAWN, groups_word
from analytics.privacy import frames

# The metric functions pages may ask for, by name: f(con, scope) -> DataFrame (or dict).
METRICS: dict[str, Callable[..., Any]] = {
    "pair_counts": engagement.pair_counts,
    "engagement_totals": engagement.engagement_totals,
    "engagement_by_month": engagement.engagement_by_month,
    "attended_by_modality": engagement.attended_by_modality,
    "retention_summary": retention.retention_summary,
    "retention_curve": retention.retention_curve,
    "cohort_triangle": retention.cohort_triangle,
    "closure_reasons": retention.closure_reasons,
    "outcome_change": outcomes.outcome_change,
    "outcome_trend": outcomes.outcome_trend,
    "reliable_change_counts": outcomes.reliable_change_counts,
    "change_distribution": outcomes.change_distribution,
    "dose_change": dose.dose_change,
    "instrument_registry": instruments.instrument_registry,
    "goals_by_domain": goals.goals_by_domain,
    "mentor_caseloads": mentors.mentor_caseloads,
    # row-level: ui.data_access gives it only to the roles of the Needs attention page
    "needs_attention": attention.needs_attention,
    "quality_findings": quality.quality_findings,
    # the summary's sections without its dose and follow-up parts: the Overview's tiles (the
    # whole summary is the command's and the report's, not a page's)
    "headline": summary.headline,
    # with settings beside the scope: ask with params (("rule", ...), ("target", ...))
    "followup_counts": followup.followup_counts,
    "followup_attrition": followup.followup_attrition,
    "followup_by_close_month": followup.followup_by_close_month,
    # the Compare page's groups and tests (a dict): ask with compare_settings(by, k); refused to
    # roles with suppressed screens, since a comparison shows its small groups
    "compare_groups": compare.compare_groups,
}
# Metrics asked only with their settings (no default view of their own).
WITH_SETTINGS_ONLY = frozenset({"compare_groups"})
# Rows that several metrics of one scope read, computed once for them: the keyword the metrics
# take them as, the metrics that can, and the function computing them over a scope (with the
# metric's follow-up rule when `by_rule`). The Outcomes page reads four metrics of the paired
# participants, the Follow-up page three of the windows, the Engagement page two of the cells.
# `regrouped`: the metrics that, over a grouped scope, read the rows of the same scope ungrouped
# (the follow-up counts by site and by mentor read the page's own windows, the intake and
# follow-up chart by site the page's own paired rows).
@dataclass(frozen=True)
class SharedRows:
    metrics: frozenset[str]
    compute: Callable[..., Any]
    by_rule: bool = False
    regrouped: frozenset[str] = frozenset()


SHARED_ROWS: dict[str, SharedRows] = {
    "paired": SharedRows(frozenset({"outcome_change", "reliable_change_counts", "change_distribution", "dose_change"}),
                         outcomes.paired_rows, regrouped=frozenset({"outcome_change"})),
    "windows": SharedRows(frozenset({"followup_counts", "followup_attrition", "followup_by_close_month"}),
                          followup.window_rows, by_rule=True, regrouped=frozenset({"followup_counts"})),
    "cells": SharedRows(frozenset({"engagement_by_month", "attended_by_modality"}), engagement.session_cells),
}


def compare_settings(by: str, k: int) -> tuple:
    """The settings ``compare_groups`` is asked with, as (name, value) pairs."""
    return (("by", by), ("k", int(k)))

# Metrics of the store alone, the same for every scope and user (no counts, no people): cached
# once per version of the store, not once per filter (ui.data_access.metric).
STORE_WIDE_METRICS = frozenset({"instrument_registry"})

# Store facts pages read beside the metrics (not per scope).
STORE_FACTS = {"store_info": admin.store_info}

# get(metric, scope or None for the view's own, settings as (name, value) pairs)
Getter = Callable[..., Any]
Params = Mapping[str, Any]


# ------------------------------------------------------------------------------------ views


@dataclass
class ScreenView:
    """Frames as the page shows them: ``get(metric, scope)`` is the page's cached metric call."""

    get: Getter
    scope: Scope
    k: int
    suppressed: bool = False  # the user's screens are suppressed as exports are
    # the frames read so far that had cells hidden (suppressed screens and exports): a chart
    # drawn from them states no total in its title (exports.images.title_without_total)
    hidden: list[str] = field(default_factory=list)
    for_export: ClassVar[bool] = False

    def _frame(self, metric: str, by: str | None, settings: tuple) -> pd.DataFrame:
        scope = self.scope.grouped(by) if by else None
        return self.get(metric, scope, settings) if settings else self.get(metric, scope)

    def frame(self, metric: str, by: str | None = None, settings: tuple = ()) -> pd.DataFrame:
        """The metric's frame (grouped ``by``; ``settings``: the metric's own (name, value) pairs)."""
        got = self._frame(metric, by, settings)
        if self.suppressed and isinstance(got, pd.DataFrame) and metric in frames.FRAME_SPECS:
            # it came suppressed: whether it hides cells, as an export of it would say
            self.hidden.extend(frames.chart_frame(got, metric, self.k)[1])
        return got

    def table(self, metric: str) -> pd.DataFrame:
        """The frame a number beside the chart is read from (exports: its suppressed table)."""
        return self._frame(metric, None, ())

    def curve_frames(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The Kaplan-Meier curve and its numbers at risk at the chart's tick days."""
        curve = self.frame("retention_curve")
        return curve, stats.at_risk_table(curve)

    def curve_data(self) -> pd.DataFrame | None:
        """The data behind the Kaplan-Meier chart. Suppressed screens show the numbers at risk
        at the tick days, not the day-level curve: its steps would give back closures of 1-10."""
        curve = self.frame("retention_curve")
        return frames.km_chart_frames(curve, self.k)[1] if self.suppressed else curve

    def comparison(self, by: str) -> dict:
        """The groups compared ``by`` a dimension and the tests across them, as the Compare page
        shows them (``compare.compare_groups``: small groups in, flagged)."""
        return self.get("compare_groups", self.scope.grouped(None), compare_settings(by, self.k))

    def compare_frame(self, groups: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        """The compared groups a chart is drawn from (``columns``: the ones it draws, with the
        counts they rest on): on screen the whole frame."""
        return groups

    def compare_curve(self, result: dict) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The Kaplan-Meier curves of the groups compared, and their numbers at risk (None:
        the chart's own)."""
        return result["curve"], None


@dataclass
class ExportView(ScreenView):
    """Frames as exports see them: suppressed cells blank; ``hidden`` names the frames that had
    cells hidden (or a group's curve left out) so far."""

    for_export: ClassVar[bool] = True

    def frame(self, metric: str, by: str | None = None, settings: tuple = ()) -> pd.DataFrame:
        shown, hidden = frames.chart_frame(self._frame(metric, by, settings), metric, self.k)
        self.hidden.extend(hidden)
        return shown

    def table(self, metric: str) -> pd.DataFrame:
        return frames.suppressed_table(self._frame(metric, None, ()), metric, self.k)

    def curve_frames(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        shown, at_risk, hidden = frames.km_chart_frames(self._frame("retention_curve", None, ()), self.k)
        self.hidden.extend(hidden)
        return shown, at_risk

    def compare_frame(self, groups: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        # Only the columns drawn: each count column is suppressed on its own and a value goes
        # with its own counts, so the cells are as in the whole frame, and only hidden cells
        # the chart draws take the total out of its title.
        shown, hidden = frames.chart_frame(groups[[c for c in columns if c in groups]], "compare_groups", self.k)
        self.hidden.extend(hidden)
        return shown

    def compare_curve(self, result: dict) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        # each group's curve while at least k of its pairs remain at risk; a group with fewer
        # than k pairs matched is left out
        shown, at_risk, hidden = frames.km_chart_frames(result["curve"], self.k)
        self.hidden.extend(hidden)
        return shown, at_risk


# ----------------------------------------------------------------------------------- panels

Inputs = Callable[[ScreenView, Params], tuple[tuple, dict]]


def _rows(frame: pd.DataFrame | None, code: str | None) -> pd.DataFrame | None:
    """An instrument's rows of a per-instrument frame (all rows for None)."""
    if frame is None or code is None or frame.empty:
        return frame
    return frame[frame["instrument"] == code]


def _one(frame: pd.DataFrame, code: str) -> Any:
    return frame[frame["instrument"] == code].iloc[0]


def registry_of(view: ScreenView) -> dict[str, Instrument]:
    """The instruments reported, with the store's definitions (never suppressed: no counts)."""
    return instruments.from_frame(view._frame("instrument_registry", None, ()))


def _inst(view: ScreenView, params: Params) -> Instrument | None:
    return registry_of(view).get(params["code"]) if params.get("code") else None


def reliable_threshold(frame: pd.DataFrame, code: str) -> float | None:
    """The reliable-change size in points of an instrument (``stats.RC_CRITERION`` x its
    s_diff), or None when s_diff is undefined or (in a suppressed frame) hidden."""
    s_diff = frame.loc[frame["instrument"] == code, "s_diff"].iloc[0]
    if isinstance(s_diff, str) or finite_or_none(s_diff) is None:
        return None
    return stats.RC_CRITERION * float(s_diff)


@dataclass(frozen=True)
class Panel:
    """One chart: the metric frame it is drawn from and everything said and saved with it.

    ``inputs(view, params) -> (args, kwargs)``: the builder's arguments from the view's frames
    (``k`` is added when the builder takes it). ``sentence(view, params)``: the line under it.
    ``data(view, params, args)``: the frame behind it, in its "Data behind this chart" expander
    and its CSV/XLSX (default: the builder's first argument; None: no expander).
    """

    title: str  # what the chart shows; "{instrument}" is the instrument's name, "{by}" the grouping
    metric: str  # the metric frame it is drawn from (METRICS), whose rules suppress its data
    chart: Callable[..., go.Figure]
    inputs: Inputs
    key: str  # the widget key on its page: "{page}__{key}[_{code}]"
    sentence: Callable[[ScreenView, Params], str | None] | None = None
    data: Callable[[ScreenView, Params, tuple], pd.DataFrame | None] | None = None
    # image file stem (default: the metric's name), "_{code}" added; a pattern with "{code}" and
    # "{by}" places them itself ("compare_{code}_change_by_{by}")
    stem: str | None = None
    data_stem: str | None = None  # table file stem (default: the metric's name; "_by_{by}" added), or a pattern
    by: str | None = None  # the metric's grouping
    per_instrument: bool = False
    takes_k: bool = True
    screen: Mapping[str, Any] = field(default_factory=dict)  # builder keywords on screen only
    has_data: bool = True  # False: the page shows the data as a table of its own
    mentor_level: bool = False  # only for roles with mentor-level views
    report: Mapping[str, Any] | None = None  # on the Reports page, with these parameters
    # per-instrument panels: whether the instrument (its stored entry) has this chart at all
    applies: Callable[[Instrument | None], bool] | None = None
    unsuppressed_only: bool = False  # refused to roles with suppressed screens (comparisons)

    def params(self, **params: Any) -> dict:
        out = {"code": None, "by": self.by}
        out.update(params)
        if out["code"] is not None and (not isinstance(out["code"], str) or not out["code"]):
            raise KeyError(f"not an instrument code: {out['code']!r}")
        return out

    def call(self, view: ScreenView, params: Params, *, screen: bool = False) -> tuple[tuple, dict]:
        args, kwargs = self.inputs(view, params)
        if self.takes_k:
            kwargs = {**kwargs, "k": view.k}
        if screen:
            kwargs = {**kwargs, **self.screen}
        return args, kwargs

    def figure(self, view: ScreenView, **params: Any) -> go.Figure:
        """The chart from ``view`` (an ``ExportView`` for images)."""
        args, kwargs = self.call(view, self.params(**params))
        return self.chart(*args, **kwargs)

    def data_frame(self, view: ScreenView, params: Params, args: tuple) -> pd.DataFrame | None:
        if not self.has_data:
            return None
        return self.data(view, params, args) if self.data else args[0]

    def say(self, view: ScreenView, params: Params) -> str | None:
        return self.sentence(view, params) if self.sentence else None

    def _suffix(self, params: Params) -> str:
        return f"_{params['code']}" if params.get("code") else ""

    def file_stem(self, **params: Any) -> str:
        p = self.params(**params)
        if self.stem and "{" in self.stem:  # the names say where the code and grouping go
            return self.stem.format(**p)
        return (self.stem or self.metric) + self._suffix(p)

    def data_file_stem(self, **params: Any) -> str:
        p = self.params(**params)
        if self.data_stem and "{" in self.data_stem:
            return self.data_stem.format(**p)
        by = f"_by_{p['by']}" if p.get("by") else ""
        return (self.data_stem or self.metric) + self._suffix(p) + by

    def widget_key(self, page: str, **params: Any) -> str:
        return f"{page}__{self.key}{self._suffix(self.params(**params))}"

    def chart_title(self, registry: Mapping[str, Instrument] | None = None, **params: Any) -> str:
        """The title; an instrument's name from ``registry`` (the store's), else the built-in one."""
        p = self.params(**params)
        code, by = p["code"], p["by"]
        entry = (registry or {}).get(code) or INSTRUMENTS.get(code) if code else None
        return self.title.format(instrument=entry.name if entry else (code or ""),
                                 by=DIMENSION_LABELS.get(by, by or "").lower())


def _frame(metric: str) -> Inputs:
    return lambda v, p: ((v.frame(metric, p.get("by")),), {})


def _instrument_frame(metric: str, *, code_arg: bool = True) -> Inputs:
    def inputs(v: ScreenView, p: Params) -> tuple[tuple, dict]:
        rows = _rows(v.frame(metric, p.get("by")), p["code"])
        if code_arg:
            return (rows, p["code"]), {"inst": _inst(v, p)}
        return (rows,), {"instruments": registry_of(v)}

    return inputs


def _distribution(v: ScreenView, p: Params) -> tuple[tuple, dict]:
    # the threshold line shows s_diff, which rests on the paired participants: from the
    # outcome table (suppressed for images)
    code = p["code"]
    rows = _rows(v.frame("change_distribution"), code)
    return (rows, code), {"threshold": reliable_threshold(v.table("outcome_change"), code), "inst": _inst(v, p)}


def _period(v: ScreenView) -> dict:
    return {"start": v.scope.start, "end": v.scope.end}


PANELS: dict[str, Panel] = {
    "engagement_by_month": Panel(
        title="Sessions attended and attendance rate by month",
        metric="engagement_by_month",
        chart=charts.engagement_monthly_chart,
        inputs=_frame("engagement_by_month"),
        key="monthly",
        sentence=lambda v, p: say.engagement_sentence(v.frame("engagement_totals"), **_period(v), k=v.k),
        report={},
    ),
    "retention_km": Panel(
        title="Pairs still meeting, by days since match",
        metric="retention_curve",
        chart=charts.km_chart,
        inputs=lambda v, p: (v.curve_frames(), {}),
        key="km",
        stem="retention_km",
        sentence=lambda v, p: say.retention_sentence(
            v.frame("retention_summary"), **_period(v), k=v.k, curve=v.frame("retention_curve")
        ),
        data=lambda v, p, args: v.curve_data(),
        report={},
    ),
    "cohort_triangle": Panel(
        title="Share of pairs attending, by month of match",
        metric="cohort_triangle",
        chart=charts.cohort_heatmap,
        inputs=_frame("cohort_triangle"),
        key="cohorts",
        sentence=lambda v, p: say.cohort_sentence(v.frame("cohort_triangle"), k=v.k),
        screen={"cell_text": None},  # screens drop the labels of large grids
        report={},
    ),
    "closure_reasons": Panel(
        title="Why pairs closed",
        metric="closure_reasons",
        chart=charts.closure_reasons_chart,
        inputs=_frame("closure_reasons"),
        key="closures",
        sentence=lambda v, p: say.closure_sentence(v.frame("closure_reasons"), **_period(v), k=v.k),
        report={},
    ),
    "intake_followup": Panel(
        title="{instrument}: intake and follow-up",
        metric="outcome_change",
        chart=charts.intake_followup_chart,
        inputs=_instrument_frame("outcome_change"),
        key="dumbbell",
        stem="intake_followup",
        by="site",
        per_instrument=True,
        sentence=lambda v, p: say.outcome_sentence(
            p["code"], _one(v.frame("outcome_change"), p["code"]), k=v.k, inst=_inst(v, p)
        ),
        report={"by": None},
    ),
    "trend": Panel(
        title="{instrument}: mean score by months since enrollment",
        metric="outcome_trend",
        chart=charts.trend_chart,
        inputs=_instrument_frame("outcome_trend"),
        key="trend",
        stem="trend",
        per_instrument=True,
        sentence=lambda v, p: say.trend_sentence(
            p["code"], _rows(v.frame("outcome_trend"), p["code"]), k=v.k, inst=_inst(v, p)
        ),
        report={},
    ),
    "reliable_change": Panel(
        title="Reliable change from intake to follow-up",
        metric="outcome_change",
        chart=charts.reliable_change_chart,
        inputs=_instrument_frame("outcome_change", code_arg=False),
        key="reliable",
        stem="reliable_change",
        per_instrument=True,
        sentence=lambda v, p: say.reliable_change_sentence(
            p["code"], _one(v.frame("outcome_change"), p["code"]), k=v.k, inst=_inst(v, p)
        ),
        report={"code": None},
    ),
    "change_distribution": Panel(
        title="{instrument}: distribution of changes",
        metric="change_distribution",
        chart=charts.change_distribution_chart,
        inputs=_distribution,
        key="distribution",
        per_instrument=True,
    ),
    # An instrument's published cut-off: the share meeting it at intake and at follow-up (an
    # instrument without a cut-off in the registry shows no such panel: ``applies``).
    "threshold": Panel(
        title="{instrument}: at the cut-off",
        metric="outcome_change",
        chart=charts.threshold_chart,
        inputs=_instrument_frame("outcome_change"),
        key="threshold",
        stem="threshold",
        data_stem="outcome_change",
        per_instrument=True,
        sentence=lambda v, p: say.threshold_sentence(
            p["code"], _one(v.frame("outcome_change"), p["code"]), k=v.k, inst=_inst(v, p)
        ),
        applies=lambda inst: inst is not None and inst.threshold is not None,
    ),
    # Dose and change: mean change by attended sessions, the slope in the sentence; an association.
    "dose_change": Panel(
        title="{instrument}: change by sessions attended",
        metric="dose_change",
        chart=charts.dose_change_chart,
        inputs=_instrument_frame("dose_change"),
        key="dose",
        stem="dose_change",
        per_instrument=True,
        sentence=lambda v, p: say.dose_sentence(
            p["code"], _rows(v.frame("dose_change"), p["code"]), k=v.k, inst=_inst(v, p)
        ),
        report={},
    ),
    "goals_by_domain": Panel(
        title="Goals set and achieved by recovery domain",
        metric="goals_by_domain",
        chart=charts.goals_chart,
        inputs=_frame("goals_by_domain"),
        key="domains",
        sentence=lambda v, p: say.goals_sentence(
            v.frame("goals_by_domain"), **_period(v), as_of=v.scope.as_of, k=v.k
        ),
        report={},
    ),
    "mentor_caseloads": Panel(
        title="Mentor caseloads",
        metric="mentor_caseloads",
        chart=charts.mentor_chart,
        inputs=_frame("mentor_caseloads"),
        key="chart",
        sentence=lambda v, p: say.mentor_sentence(v.frame("mentor_caseloads"), k=v.k),
        has_data=False,  # the Mentors page's caseload table is the chart's data
        mentor_level=True,
    ),
    "quality_findings": Panel(
        title="Data-quality findings",
        metric="quality_findings",
        chart=charts.quality_chart,
        inputs=_frame("quality_findings"),
        key="quality",
        stem="data_quality_findings",
        takes_k=False,
    ),
}


def followup_settings(p: Params, metric: str) -> tuple:
    """The follow-up metric's settings from a panel's parameters, as (name, value) pairs; empty
    for the defaults, so a page at the defaults shares the warmed cache entries. The target
    only changes ``followup_counts`` (``meets_target``)."""
    rule = p.get("rule") or followup.DEFAULT_RULE
    target = followup.DEFAULT_TARGET if p.get("target") is None else p["target"]
    out = []
    if rule != followup.DEFAULT_RULE:
        out.append(("rule", rule))
    if metric == "followup_counts" and target != followup.DEFAULT_TARGET:
        out.append(("target", target))
    return tuple(out)


def _followup_rate(metric: str) -> Inputs:
    def inputs(v: ScreenView, p: Params) -> tuple[tuple, dict]:
        frame = v.frame(metric, p.get("by"), followup_settings(p, metric))
        target = followup.DEFAULT_TARGET if p.get("target") is None else p["target"]
        return (frame,), {"by": p.get("by") or "month", "target": target,
                          "rule": p.get("rule") or followup.DEFAULT_RULE}

    return inputs


PANELS.update({
    # The Follow-up page: the rate against the target by month of window close, site and mentor.
    "followup_by_month": Panel(
        title="Follow-up rate by month of window close",
        metric="followup_by_close_month",
        chart=charts.followup_rate_chart,
        inputs=_followup_rate("followup_by_close_month"),
        key="by_month",
        stem="followup_rate_by_month",
    ),
    "followup_by_site": Panel(
        title="Follow-up rate by site",
        metric="followup_counts",
        chart=charts.followup_rate_chart,
        inputs=_followup_rate("followup_counts"),
        key="by_site",
        stem="followup_rate_by_site",
        by="site",
    ),
    "followup_by_mentor": Panel(
        title="Follow-up rate by mentor",
        metric="followup_counts",
        chart=charts.followup_rate_chart,
        inputs=_followup_rate("followup_counts"),
        key="by_mentor",
        stem="followup_rate_by_mentor",
        by="mentor",
        sentence=lambda v, p: "A participant rematched to another mentor counts for each of their mentors.",
        mentor_level=True,
    ),
})


# ---------------------------------------------------------------------------- the Compare page
# Pairs in scope grouped by one dimension (``compare.compare_groups``, the one result the page's
# tables and the summary's `tests` block read too); ``by`` is the page's choice.

# The columns of the groups behind the hazard-ratio and attendance charts.
HR_COLUMNS = ["grp", "pairs", "events", "hr", "hr_lower", "hr_upper"]
ATTENDANCE_COLUMNS = ["grp", "attended", "no_show", "attendance_rate", "attendance_low", "attendance_high"]


def forest_columns(spec: ForestSpec) -> list[str]:
    """The columns a forest plot of the groups draws, with the counts its values rest on."""
    rules = frames.spec_for("compare_groups", [spec.n])
    cols = list(spec.columns)
    for col in list(cols):
        dens = rules.derived.get(col, ())
        cols += [*((dens,) if isinstance(dens, str) else dens), *rules.inputs.get(col, ())]
    return ["grp", *dict.fromkeys(cols)]


def _compared(v: ScreenView, p: Params) -> tuple[dict, pd.DataFrame]:
    result = v.comparison(p["by"])
    return result, compare.with_sessions(result["groups"])


def drawn_groups(result: dict, k: int) -> tuple[list[int] | None, tuple[str, ...]]:
    """Which of the compared groups a comparison's charts draw (their positions in the table,
    in its order), and the footnote saying so: every group up to ``theme.MAX_GROUPS_DRAWN``
    (None, no note); past it the MAX_GROUPS_DRAWN with the most pairs. A group with fewer than k
    pairs ranks after every other (its count is hidden in exports, so it never decides the
    order); ties keep the table's order. Where fewer than MAX_GROUPS_DRAWN have k or more pairs,
    the note says the rest are drawn in the table's order. The same groups on screen and in
    every export of the page's charts; the table, the tests and the data behind each chart keep
    every group."""
    groups = result["groups"]
    if len(groups) <= MAX_GROUPS_DRAWN:
        return None, ()
    pairs = pd.to_numeric(groups["pairs"], errors="coerce")
    size = pairs.where(pairs >= k, -1).fillna(-1).to_numpy()
    chosen = np.sort(np.argsort(-size, kind="stable")[:MAX_GROUPS_DRAWN])
    n, word, big = len(groups), groups_word(result["by"]), int((size >= 0).sum())
    end = "; the table and the tests above cover every one."
    if big >= MAX_GROUPS_DRAWN:
        note = f"Drawn: the {MAX_GROUPS_DRAWN} of {n:,} {word} with the most pairs{end}"
    elif big:
        note = (f"Drawn: the {big} of {n:,} {word} with {k} or more pairs, then"
                f" {MAX_GROUPS_DRAWN - big} of the {n - big:,} with fewer, in the table's order{end}")
    else:
        note = (f"Drawn: {MAX_GROUPS_DRAWN} of the {n:,} {word}, in the table's order (none has {k} or more"
                f" pairs){end}")
    return chosen.tolist(), (note,)


def _compare_km(v: ScreenView, p: Params) -> tuple[tuple, dict]:
    # An export draws each group's curve while at least k of its pairs remain at risk and
    # names the groups it leaves out (fewer than k pairs matched).
    result = v.comparison(p["by"])
    rows, notes = drawn_groups(result, v.k)
    names = None if rows is None else set(result["groups"]["grp"].iloc[rows])
    curve, at_risk = v.compare_curve(result)
    drawn = set() if curve.empty else set(curve["grp"])
    left_out = [g for g in dict.fromkeys(result["curve"]["grp"]) if g not in drawn and (names is None or g in names)]
    notes += (forest.not_drawn_note(left_out, v.k),) if left_out else ()
    if names is not None:
        curve = curve[curve["grp"].isin(names)]
        at_risk = at_risk[at_risk["grp"].isin(names)] if at_risk is not None else None
    return (curve, at_risk), {"small_groups": result["small_groups"], "notes": notes}


def pooled_attendance(v: ScreenView, raw: pd.DataFrame, shown: pd.DataFrame) -> tuple[float, tuple[str, ...]]:
    """The attendance chart's reference line, attended / (attended + no-show) over the groups,
    and the note it needs. An export pools every group only when that total may be stated
    beside the suppressed groups (``frames.total_publishable``), else the groups whose counts
    are shown, and says so."""
    columns = forest_columns(forest.ATTENDANCE)
    whole = not v.for_export or all(
        frames.total_publishable(raw[columns], "compare_groups", v.k, c) for c in ("attended", "no_show")
    )
    if whole:
        return stats.pooled_rate(raw["attended"], raw["sessions"]), ()
    counted = shown[shown[["attended", "no_show"]].notna().all(axis=1)]
    return stats.pooled_rate(counted["attended"], counted["sessions"]), (forest.SHOWN_ATTENDANCE_NOTE,)


def _compare_forest(spec_of: Callable[[ScreenView, Params], ForestSpec], *, pooled: bool = False) -> Inputs:
    """A forest plot of the groups (``spec_of``: its columns and axis); ``pooled``: its reference
    line is the pooled attendance. A row whose estimate an export hides gets a footnote."""

    def inputs(v: ScreenView, p: Params) -> tuple[tuple, dict]:
        result, raw = _compared(v, p)
        spec = spec_of(v, p)
        groups = v.compare_frame(raw, forest_columns(spec))
        notes: tuple[str, ...] = ()
        if pooled:
            line, notes = pooled_attendance(v, raw, groups)
            spec = replace(spec, null_value=line)
        est = spec.estimate  # absent: an instrument the comparison has no columns for (no data)
        if est in raw and (groups[est].isna().to_numpy() & raw[est].notna().to_numpy()).any():
            notes += (forest.blanked_note(v.k),)
        rows, drawn_note = drawn_groups(result, v.k)  # the rows of `groups` (result["groups"]'s, in order)
        notes += drawn_note
        return (groups, spec), {"by": result["by"], "small_groups": result["small_groups"], "notes": notes,
                                "rows": rows}

    return inputs


def _higher_is_better(v: ScreenView, p: Params) -> bool:
    inst = _inst(v, p)
    return inst.higher_is_better if inst is not None else True


def _change_spec(v: ScreenView, p: Params) -> ForestSpec:
    if not p["code"]:
        raise TypeError("the mean change by group is drawn for one instrument: give its code")
    return forest.mean_change(p["code"], _higher_is_better(v, p))


def _compare_sentence(v: ScreenView, p: Params, result: dict, **what: Any) -> str:
    return say.compare_sentence(compare.with_sessions(result["groups"]), label="grp", dimension=result["by"],
                                k=v.k, **what)


def _km_sentence(v: ScreenView, p: Params) -> str:
    result = v.comparison(p["by"])
    return _compare_sentence(v, p, result, metric="the share still meeting at 90 days", estimate="km_90",
                             n="pairs", percent=True, p_value=(result["retention_test"] or {}).get("p_value"),
                             test="log-rank test")


def _attendance_sentence(v: ScreenView, p: Params) -> str:
    result = v.comparison(p["by"])
    return _compare_sentence(v, p, result, metric="attendance rate", estimate="attendance_rate", n="sessions",
                             percent=True, p_value=(result["attendance_test"] or {}).get("p_value"),
                             test="chi-square test")


def _change_sentence(v: ScreenView, p: Params) -> str:
    code, spec, result = p["code"], _change_spec(v, p), v.comparison(p["by"])
    test = result["outcome_tests"].get(code) or {}
    better = "" if _higher_is_better(v, p) else " (lower is better)"
    return _compare_sentence(v, p, result, metric=f"the mean {code} change{better}", estimate=spec.estimate,
                             n=spec.n, unit=" points", p_value=test.get("p_value"),
                             test=say.TEST_NAMES.get(test.get("test")))


def _columns(columns: Callable[[Params], list[str]]) -> Callable[[ScreenView, Params, tuple], pd.DataFrame]:
    return lambda v, p, args: args[0][columns(p)]


_COMPARE = {"metric": "compare_groups", "by": DIMENSIONS[0], "unsuppressed_only": True, "report": None}

PANELS.update({
    "compare_km": Panel(
        title="Pairs still meeting, by days since match, by {by}",
        chart=forest.km_by_group_chart,
        inputs=_compare_km,
        key="km",
        stem="compare_km_by_{by}",
        sentence=_km_sentence,
        has_data=False,  # the curves' steps would give back small daily counts (as retention_km)
        **_COMPARE,
    ),
    "compare_hazard_ratios": Panel(
        title="Hazard of disengaging vs all other groups, by {by}",
        chart=charts.forest_plot,
        inputs=_compare_forest(lambda v, p: forest.HAZARD_RATIOS),
        key="hr",
        stem="compare_hazard_ratios_by_{by}",
        data_stem="compare_hazard_ratios_by_{by}",
        data=_columns(lambda p: HR_COLUMNS),
        **_COMPARE,
    ),
    "compare_attendance": Panel(
        title="Attendance rate, by {by}",
        chart=charts.forest_plot,
        inputs=_compare_forest(lambda v, p: forest.ATTENDANCE, pooled=True),
        key="attendance",
        stem="compare_attendance_by_{by}",
        data_stem="compare_attendance_by_{by}",
        sentence=_attendance_sentence,
        data=_columns(lambda p: ATTENDANCE_COLUMNS),
        **_COMPARE,
    ),
    "compare_change": Panel(
        title="{instrument}: mean change, by {by}",
        chart=charts.forest_plot,
        inputs=_compare_forest(_change_spec),
        key="change",
        stem="compare_{code}_change_by_{by}",
        data_stem="compare_{code}_change_by_{by}",
        per_instrument=True,
        sentence=_change_sentence,
        data=_columns(lambda p: ["grp", *forest.mean_change(p["code"]).columns]),
        **_COMPARE,
    ),
})


def panels_for(registry: Mapping[str, Instrument], name: str) -> list[str]:
    """The instruments of ``registry`` (the store's, in order) a per-instrument panel draws."""
    panel = PANELS[name]
    return [c for c, inst in registry.items() if panel.applies is None or panel.applies(inst)]


def report_charts(registry: Mapping[str, Instrument] | None = None) -> Iterator[tuple[str, dict]]:
    """(panel name, parameters) of every chart the Reports page offers as an image, in order:
    per-instrument panels once per instrument reported (``registry``, the store's; GSE10 and
    BARC10 without one) unless their report parameters fix ``code``. (The Reports page shows
    no numbers, only files drawn from suppressed frames, so every role that opens it may have
    the comparisons' images too: ``ui.setup.EXPORT_ONLY_PAGES``.)"""
    registry = registry if registry is not None else {c: INSTRUMENTS[c] for c in ALWAYS_REPORTED}
    for name, panel in PANELS.items():
        if panel.report is None:
            continue
        if panel.per_instrument and "code" not in panel.report:
            for code in panels_for(registry, name):
                yield name, {**panel.report, "code": code}
        else:
            yield name, dict(panel.report)


def export_figure(name: str, get: Getter, scope: Scope, k: int, **params: Any) -> tuple[go.Figure, tuple[str, ...]]:
    """A panel's chart drawn from suppressed frames (for images), and the frames that had cells
    hidden (``images.build_for_export``)."""
    view = ExportView(get=get, scope=scope, k=k)
    return PANELS[name].figure(view, **params), tuple(view.hidden)
