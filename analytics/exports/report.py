"""The grant report's content: built once, written as DOCX (report_docx) or PDF (report_pdf).

Every number printed comes from the suppressed summary (``summary.build_summary`` with the
report's filters and k), so it equals what ``python -m analytics summary`` prints for the same
selection. A suppressed count prints as "<11", a suppressed rate or mean as "not reported (fewer
than 11)". The two additions, the 95% confidence intervals of retention at 90 and 180 days, are
printed only beside a retention figure the summary shows (they rest on the same pairs).

Charts are drawn from suppressed frames (``exports.tables.chart_frame``, or the summary itself)
and rendered as PNG; without a browser the report says so where the charts would be.

A selection of fewer than k pairs is refused (``privacy.ExportRefused``): most cells would be
blank, and the filters alone could point at the few people in it.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import duckdb
import pandas as pd

import analytics
from analytics import privacy, store
from analytics import summary as summary_mod
from analytics.domain.contract import CODEBOOKS
from analytics.domain.instruments import ALWAYS_REPORTED, Instrument
from analytics.domain.numbers import MINUS, fixed, percent
from analytics.domain.scope import Scope
from analytics.exports import fingerprint, images
from analytics.exports.context import ExportContext, long_date, suppression_rule
from analytics.metrics import engagement, followup, outcomes, retention
from analytics.metrics.scope import resolve_scope
from analytics.present import charts, theme
from analytics.present import followup_sentences as followup_text
from analytics.present import sentences as narrative
from analytics.privacy import frames
from analytics.store import instruments as stored_instruments

REPORT_TITLE = "Peer Recovery Mentoring Outcomes Report"
DEFAULT_PROGRAM = "Peer recovery mentoring program"
DEMO_NOTE = "Demo data: these figures describe a synthetic program, not real people."
UNDEFINED = "\u2013"  # a rate with nothing to divide by (no pairs, no goals): not zero, not hidden


# ------------------------------------------------------------------------------- content model


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str = "body"  # body | lead | note | warning


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths
    align: tuple[str, ...]  # "left" | "right" per column
    note: str | None = None
    mono: bool = False  # hashes and commands read better in a fixed-width font


@dataclass(frozen=True)
class Figure:
    number: int
    title: str
    caption: str
    png: bytes | None  # None: images unavailable (the writers print ``missing`` instead)
    missing: str = ""
    width_px: int = images.DEFAULT_WIDTH
    height_px: int = 480


Block = Paragraph | Table | Figure


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]
    appendix: bool = False


@dataclass(frozen=True)
class Report:
    title: str
    facts: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    summary: dict  # the suppressed summary every number comes from
    k: int
    data_hash: str
    filters_hash: str
    is_demo: bool
    images_note: str | None
    file_stem: str
    footer: str = ""
    figures: tuple[Figure, ...] = field(default=())


# ------------------------------------------------------------------------------- formatting


class _Numbers:
    """Reads values from the suppressed summary and prints them the one way the report does."""

    def __init__(self, doc: Mapping[str, Any], k: int):
        self.doc = doc
        self.k = k
        self.hidden = set(doc.get("suppressed", ()))

    def value(self, path: str) -> Any:
        node: Any = self.doc
        for key in path.split("."):
            node = node[key]
        return node

    def is_hidden(self, path: str) -> bool:
        return path in self.hidden

    def shown(self, *paths: str) -> bool:
        """Every path is printed as a number (not suppressed, not undefined)."""
        return all(not self.is_hidden(p) and _finite(self.value(p)) for p in paths)

    def count(self, path: str) -> str:
        if self.is_hidden(path):
            return privacy.suppressed_label(self.k)
        v = self.value(path)
        return "0" if v is None else f"{int(v):,}"

    @property
    def not_reported(self) -> str:
        return f"not reported (fewer than {self.k})"

    def rate(self, path: str) -> str:
        if self.is_hidden(path):
            return self.not_reported
        v = self.value(path)
        return UNDEFINED if not _finite(v) else percent(v)

    def mean(self, path: str, *, signed: bool = False) -> str:
        if self.is_hidden(path):
            return self.not_reported
        v = self.value(path)
        return UNDEFINED if not _finite(v) else fixed(v, 1, signed=signed, minus=MINUS)


def _finite(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


# ------------------------------------------------------------------------------- building


def build_report(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date | str | None,
    start: date | str | None,
    end: date | str | None,
    sites: Iterable[str] = (),
    funding_streams: Iterable[str] = (),
    k: int = privacy.DEFAULT_K,
    program: str | None = None,
    charts_wanted: bool = True,
    followup_rule: str = followup.DEFAULT_RULE,
    followup_target: float = followup.DEFAULT_TARGET,
) -> Report:
    """The report for a period and selection. ``con``: an analysis connection (views built).

    Raises ``ScopeError`` for an impossible period and ``privacy.ExportRefused`` when the
    selection covers fewer than k pairs. Without a browser the report is built without chart
    images and says so (``Report.images_note``).
    """
    if charts_wanted:
        images.warm_up()
    sites, funding_streams = tuple(sites), tuple(funding_streams)
    filters = {"site": sites, "funding_stream": funding_streams}
    scope = resolve_scope(con, as_of=as_of, start=start, end=end,
                          filters={name: v for name, v in filters.items() if v})
    counts = engagement.pair_counts(con, scope)
    privacy.check_export_allowed(int(counts["pairs_in_scope"].sum()), k)

    doc = summary_mod.build_summary(con, scope, min_cell=k, followup_rule=followup_rule,
                                    followup_target=followup_target)
    nums = _Numbers(doc, k)
    instruments = report_instruments(con)
    context = ExportContext.from_scope(scope, int(doc["pairs"]["in_scope"]), k)
    data_hash, _ = fingerprint.data_digest(con, scope)
    filters_hash = fingerprint.filters_digest(scope, k)
    is_demo = store.get_meta(con, "is_demo") == "true"

    figures = _Figures(context, charts_wanted)
    curve = retention.retention_curve(con, scope)
    sections = [
        _summary_section(con, scope, nums, is_demo, instruments),
        _engagement_section(con, scope, nums, figures),
        _retention_section(scope, nums, figures, curve),
        _outcomes_section(con, scope, nums, figures, instruments),
        _goals_section(scope, nums, figures),
        _methods_section(scope, k, data_hash, filters_hash, sites, funding_streams, instruments, nums),
    ]
    final = figures.finish()
    sections = [
        replace(sec, blocks=tuple(final.get(b.number, b) if isinstance(b, Figure) else b for b in sec.blocks))
        for sec in sections
    ]
    if figures.note:
        # said once where the reader starts, and again under each missing figure
        first = sections[0]
        sections[0] = Section(first.heading, (Paragraph(figures.note, "warning"), *first.blocks))

    facts = (
        ("Program", (program or DEFAULT_PROGRAM) + (" (synthetic demo data)" if is_demo else "")),
        ("Reporting period", f"{long_date(scope.start)} to {long_date(scope.end)}"),
        ("Funding stream", ", ".join(funding_streams) if funding_streams else "All funding streams"),
        ("Sites", ", ".join(sites) if sites else "All sites"),
        ("Data as of", long_date(scope.as_of)),
        ("Prepared", long_date(date.today())),
    )
    return Report(
        title=REPORT_TITLE,
        facts=facts,
        sections=tuple(sections),
        summary=doc,
        k=k,
        data_hash=data_hash,
        filters_hash=filters_hash,
        is_demo=is_demo,
        images_note=figures.note,
        file_stem=f"outcomes-report_{scope.start.isoformat()}_{scope.end.isoformat()}",
        footer=f"{REPORT_TITLE} · {long_date(scope.start)} to {long_date(scope.end)} · data as of {long_date(scope.as_of)}",
        figures=tuple(figures.made),
    )


class _Figures:
    """Numbers figures and renders them; on the first failure to render, stops trying."""

    def __init__(self, context: ExportContext, wanted: bool):
        self.context = context
        self.wanted = wanted
        self.note: str | None = None if wanted else "Charts were left out of this report on request."
        self.made: list[Figure] = []
        self._pending: list[Callable[[], bytes] | None] = []

    def add(self, fig, title: str, caption: str, *, chart_title: str | None = None) -> Figure:
        """The numbered figure. Its image is drawn by the browser while the report goes on
        (``finish`` collects it): a placeholder without an image is returned until then."""
        pending = None
        if self.wanted and self.note is None:
            try:
                pending = images.export_chart_later(fig, "png", context=self.context, title=chart_title)
            except images.ImageExportUnavailable as exc:
                self._failed(exc)
        height = int(fig.layout.height or theme.DEFAULT_HEIGHT)
        figure = Figure(number=len(self.made) + 1, title=title, caption=caption, png=None,
                        missing=self._missing(), height_px=height)
        self.made.append(figure)
        self._pending.append(pending)
        return figure

    def finish(self) -> dict[int, Figure]:
        """Wait for the images, in order; from the first that cannot be made on, every figure is
        left without one (as when a browser fails between two charts). Returns the final
        figures by number."""
        done: dict[int, Figure] = {}
        for i, (figure, pending) in enumerate(zip(self.made, self._pending, strict=True)):
            png = None
            if pending is not None and self.note is None:
                try:
                    png = pending()
                except images.ImageExportUnavailable as exc:
                    self._failed(exc)
            self.made[i] = done[figure.number] = replace(figure, png=png, missing="" if png else self._missing())
        self._pending = [None] * len(self.made)
        return done

    def _failed(self, exc: Exception) -> None:
        self.note = f"Charts are not included in this report: {exc} The tables and sentences carry every number."

    def _missing(self) -> str:
        if self.wanted:
            return "Chart not included: chart images are unavailable on this server."
        return "Chart left out: this report was made without charts."


def report_instruments(con) -> dict[str, Instrument]:
    """The instruments the report covers: every instrument reported (analytics.store.instruments.reported) that has
    at least one assessment in the store, with the store's definitions."""
    with_data = stored_instruments.with_data(con)
    return {c: i for c, i in stored_instruments.reported(con).items() if c in with_data}


def _period(scope: Scope) -> str:
    return narrative.period_text(scope.start, scope.end)


# ------------------------------------------------------------------------------- sections


def _summary_section(con, scope: Scope, nums: _Numbers, is_demo: bool, instruments) -> Section:
    blocks: list[Block] = []
    if is_demo:
        blocks.append(Paragraph(DEMO_NOTE, "warning"))
    blocks.append(Paragraph(_served_sentence(scope, nums), "lead"))
    blocks.append(Paragraph(followup_text.rate_sentence(nums.value("followup"), as_of=scope.as_of, k=nums.k)))
    blocks.append(_headline_table(con, scope, nums, instruments))
    return Section("Summary", tuple(blocks))


def _served_sentence(scope: Scope, nums: _Numbers) -> str:
    c = nums.count
    return (
        f"The program served {c('participants.in_scope')} participants in {c('pairs.in_scope')} mentoring "
        f"pairs {_period(scope)}; {c('pairs.matched_in_period')} pairs were newly matched and "
        f"{c('pairs.active_at_end')} were still open at the end of the period."
    )


def _engagement_sentence(scope: Scope, nums: _Numbers) -> str:
    if not nums.shown("engagement.attended", "engagement.no_show", "engagement.attendance_rate"):
        return f"Attendance {_period(scope)}: not reported (fewer than {nums.k} sessions)."
    row = {"attended": nums.value("engagement.attended"), "no_show": nums.value("engagement.no_show")}
    return narrative.engagement_sentence(row, start=scope.start, end=scope.end, k=nums.k)


def _retention_sentence(scope: Scope, nums: _Numbers, day: int, curve: pd.DataFrame) -> str:
    if nums.value("retention.pairs") == 0 and not nums.is_hidden("retention.pairs"):
        return f"No pairs were matched {_period(scope)}."
    if not nums.shown("retention.pairs", f"retention.km_{day}"):
        why = (f"fewer than {nums.k} pairs stopped meeting" if nums.shown("retention.pairs")
               else f"fewer than {nums.k} pairs")
        return f"Retention at {day} days of pairs matched {_period(scope)}: not reported ({why})."
    row = {"pairs": nums.value("retention.pairs"), f"km_{day}": nums.value(f"retention.km_{day}")}
    return narrative.retention_sentence(row, start=scope.start, end=scope.end, day=day, k=nums.k, curve=curve)


def _outcome_sentence(code: str, nums: _Numbers, inst: Instrument) -> str:
    base = f"outcomes.{code}"
    name = inst.name
    if nums.is_hidden(f"{base}.n_paired") or not nums.shown(f"{base}.mean_change"):
        if nums.value(f"{base}.n_paired") == 0:
            return f"No participant has both an intake and a follow-up {name} yet."
        return f"Change on the {name}: not reported (fewer than {nums.k} participants with an intake and a follow-up)."
    ci = nums.value(f"{base}.ci95")
    row = {
        "n_paired": nums.value(f"{base}.n_paired"),
        "mean_change": nums.value(f"{base}.mean_change"),
        "ci95_low": ci[0] if ci else None,
        "ci95_high": ci[1] if ci else None,
        "reliable_improvement_rate": nums.value(f"{base}.reliable_improvement_rate")
        if nums.shown(f"{base}.reliable_improvement_rate") else None,
        "meaningful_improvement_rate": nums.value(f"{base}.meaningful_improvement_rate")
        if nums.shown(f"{base}.meaningful_improvement_rate") else None,
    }
    return narrative.outcome_sentence(code, row, k=nums.k, inst=inst)


def _threshold_sentence(code: str, nums: _Numbers, inst: Instrument) -> str | None:
    """The cut-off shares from the summary, or None for an instrument without a cut-off."""
    if inst.threshold is None or nums.value(f"outcomes.{code}.threshold") is None:
        return None
    base = f"outcomes.{code}"
    row = {
        "n_paired": None if nums.is_hidden(f"{base}.n_paired") else nums.value(f"{base}.n_paired"),
        "threshold_baseline_share": nums.value(f"{base}.threshold.baseline_share")
        if nums.shown(f"{base}.threshold.baseline_share") else None,
        "threshold_followup_share": nums.value(f"{base}.threshold.followup_share")
        if nums.shown(f"{base}.threshold.followup_share") else None,
    }
    return narrative.threshold_sentence(code, row, k=nums.k, inst=inst)


def _goals_frame(nums: _Numbers) -> pd.DataFrame:
    """goals_by_domain's shape, from the suppressed summary: hidden values are NaN."""

    def num(path: str) -> float:
        return float("nan") if nums.is_hidden(path) or not _finite(nums.value(path)) else float(nums.value(path))

    rows = [{"grp": "all", "domain": "*", "goals_set": num("goals.set"), "achieved": num("goals.achieved"),
             "achievement_rate": num("goals.achievement_rate")}]
    for d in CODEBOOKS["goal_domain"]:
        base = f"goals.by_domain.{d}"
        rows.append({"grp": "all", "domain": d, "goals_set": num(f"{base}.set"), "achieved": num(f"{base}.achieved"),
                     "achievement_rate": num(f"{base}.achievement_rate")})
    return pd.DataFrame(rows)


def _goals_sentence(scope: Scope, nums: _Numbers) -> str:
    if nums.value("goals.set") == 0 and not nums.is_hidden("goals.set"):
        return f"No goals were set {_period(scope)}."
    if not nums.shown("goals.set"):
        return f"Goals set {_period(scope)}: not reported (fewer than {nums.k})."
    if not nums.shown("goals.achieved", "goals.achievement_rate"):
        return (f"{nums.count('goals.set')} goals were set {_period(scope)}; how many were achieved is not "
                f"reported (fewer than {nums.k}).")
    frame = _goals_frame(nums)
    # narrative names the best domain only among domains it can read in full
    frame = frame[(frame["domain"] == "*") | (frame["goals_set"].notna() & frame["achieved"].notna())]
    return narrative.goals_sentence(frame, start=scope.start, end=scope.end, as_of=scope.as_of, k=nums.k)


def _km_ci(con, scope: Scope, nums: _Numbers) -> dict[int, tuple[float, float] | None]:
    """95% CIs of retention at 90 and 180 days, only where the summary prints the estimate."""
    out: dict[int, tuple[float, float] | None] = {90: None, 180: None}
    if not any(nums.shown(f"retention.km_{d}") for d in out):
        return out
    row = retention.retention_summary(con, scope)
    row = row[row["grp"] == "all"]
    for d in out:
        if nums.shown(f"retention.km_{d}") and not row.empty:
            lo, hi = row[f"km_{d}_lower"].iloc[0], row[f"km_{d}_upper"].iloc[0]
            if _finite(lo) and _finite(hi):
                out[d] = (float(lo), float(hi))
    return out


def _headline_table(con, scope: Scope, nums: _Numbers, instruments: Mapping[str, Instrument]) -> Table:
    c, r, m = nums.count, nums.rate, nums.mean
    rows: list[tuple[str, str, str]] = [
        ("Participants served", c("participants.in_scope"), "Participants with a mentoring pair active in the period"),
        ("Mentoring pairs", c("pairs.in_scope"), "Pairs active at any time in the period"),
        ("New pairs matched", c("pairs.matched_in_period"), "Pairs matched during the period"),
        ("Pairs open at period end", c("pairs.active_at_end"), "Not closed by the last day of the period"),
        ("Sessions attended", c("engagement.attended"),
         f"Also {c('engagement.no_show')} missed (no-show) and {c('engagement.cancelled')} cancelled"),
        ("Attendance rate", r("engagement.attendance_rate"),
         "Attended ÷ (attended + missed); cancellations not counted"),
        ("Contact hours", _hours(nums), "Hours of attended sessions"),
    ]
    rows.append(_followup_row(scope, nums))
    ci = _km_ci(con, scope, nums)
    for day in (90, 180):
        value = r(f"retention.km_{day}")
        if ci[day]:
            value += f" (95% CI {percent(ci[day][0])} to {percent(ci[day][1])})"
        rows.append((f"Still meeting at {day} days", value,
                     f"Kaplan-Meier estimate, {c('retention.pairs')} pairs matched in the period, "
                     f"{c('retention.events')} of them stopped meeting"))
    for code, inst in instruments.items():
        base = f"outcomes.{code}"
        change = m(f"{base}.mean_change", signed=True)
        if nums.shown(f"{base}.mean_change"):
            change += " points"
            ci95 = nums.value(f"{base}.ci95")
            if ci95 and not nums.is_hidden(f"{base}.ci95"):
                change += f" (95% CI {fixed(ci95[0], 1, signed=True, minus=MINUS)} to {fixed(ci95[1], 1, signed=True, minus=MINUS)})"
            if nums.shown(f"{base}.cohens_dz"):
                change += f"; effect size d_z = {fixed(nums.value(f'{base}.cohens_dz'), 2, minus=MINUS, grouping=False)}"
        basis = f"{c(f'{base}.n_paired')} participants with an intake and a follow-up"
        if nums.shown(f"{base}.baseline_mean", f"{base}.followup_mean"):
            basis += f"; mean {m(f'{base}.baseline_mean')} at intake, {m(f'{base}.followup_mean')} at follow-up"
        rows.append((f"{inst.name} ({code}): mean change", change, basis + f"; {inst.better} scores are better"))
        rows.append((f"{code}: reliable improvement", r(f"{base}.reliable_improvement_rate"),
                     f"Reliable decline: {r(f'{base}.reliable_decline_rate')}"))
        if inst.mcid is not None:
            rows.append((f"{code}: meaningful improvement", r(f"{base}.meaningful_improvement_rate"),
                         f"Changed by at least {inst.mcid:g} points ({inst.better} is better; minimal important "
                         f"change); meaningful decline: {r(f'{base}.meaningful_decline_rate')}"))
        if inst.threshold is not None and nums.value(f"{base}.threshold") is not None:
            rows.append((f"{code}: at the cut-off ({inst.threshold_text()})",
                         f"{r(f'{base}.threshold.baseline_share')} at intake, "
                         f"{r(f'{base}.threshold.followup_share')} at follow-up",
                         "Participants with an intake and a follow-up whose score meets the published cut-off"))
    goals_value = f"{c('goals.achieved')} of {c('goals.set')}"
    if nums.shown("goals.achievement_rate"):
        goals_value += f" ({r('goals.achievement_rate')})"
    elif nums.is_hidden("goals.achievement_rate"):
        goals_value += "; rate not reported"
    rows.append(("Goals achieved", goals_value, f"Goals set in the period, achieved by {long_date(scope.as_of)}"))
    return Table(
        caption="Table 1. Headline outcomes",
        header=("Measure", "Result", "Based on"),
        rows=tuple(rows),
        widths=(0.30, 0.32, 0.38),
        align=("left", "left", "left"),
        note=suppression_rule(nums.k),
    )


def _followup_row(scope: Scope, nums: _Numbers) -> tuple[str, str, str]:
    """The funder's follow-up rate, with its rule, window and target."""
    fu = nums.value("followup")
    rule, target = fu["rule"], fu["target"]
    value = nums.rate("followup.rate")
    if nums.shown("followup.rate"):
        value += f" (target {percent(target)}: {'met' if fu['meets_target'] else 'not met'})"
    else:
        value += f" (target {percent(target)})"
    basis = (
        f"{nums.count('followup.done')} of {nums.count('followup.due')} participants due were reassessed inside "
        f"the {followup_text.rule_text(rule)}, windows closed by {long_date(scope.as_of)}"
    )
    if rule == "suprt":
        basis += f"; {nums.count('followup.excused')} excused (left the program first)"
    return (f"Follow-up rate ({followup.RULE_LABELS[rule]})", value, basis)


def _attrition_table(nums: _Numbers, number: int, registry_in_force: Mapping[str, Instrument]) -> Table:
    rows = []
    for code in nums.value("followup.attrition"):
        base = f"followup.attrition.{code}"
        smd_path = f"{base}.smd"
        if nums.is_hidden(smd_path):
            smd, meaning = nums.not_reported, ""
        elif nums.shown(smd_path):
            smd, meaning = fixed(nums.value(smd_path), 2, minus=MINUS, grouping=False), followup_text.smd_meaning(nums.value(smd_path))
        else:
            smd, meaning = UNDEFINED, followup_text.smd_meaning(None)
        rows.append((
            f"{registry_in_force[code].name} ({code})" if code in registry_in_force else code,
            nums.count(f"{base}.n_followed"), nums.mean(f"{base}.baseline_mean_followed"),
            nums.count(f"{base}.n_missed"), nums.mean(f"{base}.baseline_mean_missed"), smd, meaning,
        ))
    return Table(
        caption=f"Table {number}. Intake scores of participants reassessed and missed (attrition)",
        header=("Instrument", "Reassessed", "Mean at intake", "Missed", "Mean at intake", "SMD", "Meaning"),
        rows=tuple(rows),
        widths=(0.2, 0.13, 0.1, 0.09, 0.1, 0.08, 0.3),
        align=("left", "right", "right", "right", "right", "right", "left"),
        note=(
            "Participants due a follow-up with an intake score of the instrument. SMD: standardized mean "
            "difference, (mean reassessed - mean missed) / pooled SD; below 0.2 is little difference. "
            + suppression_rule(nums.k)
        ),
    )


def _hours(nums: _Numbers) -> str:
    if nums.is_hidden("engagement.contact_hours"):
        return nums.not_reported
    v = nums.value("engagement.contact_hours")
    return UNDEFINED if not _finite(v) else fixed(v, 0)


def _engagement_section(con, scope: Scope, nums: _Numbers, figures: _Figures) -> Section:
    sentence = Paragraph(_engagement_sentence(scope, nums))
    monthly = engagement.engagement_by_month(con, scope)
    if monthly["month"].nunique() < 2:
        return Section("Engagement", (sentence,))  # a one-month chart says nothing the sentence does not
    frame, _hidden = frames.chart_frame(monthly, "engagement_by_month", nums.k)
    if frame["attended"].notna().sum() < 2:
        note = f"The monthly chart is not shown: fewer than two months have {nums.k} or more sessions."
        return Section("Engagement", (sentence, Paragraph(note, "note")))
    fig = charts.engagement_monthly_chart(frame, k=nums.k)
    # The chart sums the months it can show; the title states the period's total instead.
    title = "Sessions attended and attendance rate by month"
    if nums.shown("engagement.attended", "engagement.no_show"):
        n = nums.value("engagement.attended") + nums.value("engagement.no_show")
        title += f" (n = {n:,} sessions attended or missed)"
    figure = figures.add(
        fig, "Sessions attended and attendance rate by month",
        "Bars: sessions attended each month; dotted line: pairs active in the month; orange line: "
        "attendance rate (right axis). Months resting on fewer than "
        f"{nums.k} sessions are marked, not drawn to scale.",
        chart_title=title,
    )
    return Section("Engagement", (sentence, figure))


def _retention_section(scope: Scope, nums: _Numbers, figures: _Figures, curve: pd.DataFrame) -> Section:
    blocks: list[Block] = [
        Paragraph(_retention_sentence(scope, nums, 90, curve)),
        Paragraph(_retention_sentence(scope, nums, 180, curve)),
    ]
    if nums.shown("retention.pairs", "retention.km_30") and not curve.empty:
        shown, at_risk, _hidden = frames.km_chart_frames(curve, nums.k)
        fig = charts.km_chart(shown, at_risk, k=nums.k)
        blocks.append(figures.add(
            fig, "Pairs still meeting, by days since match",
            "Kaplan-Meier estimate with 95% confidence band for pairs matched in the period. A pair stops "
            "when it closes because the participant withdrew or lost contact. The curve is shown while "
            f"at least {nums.k} pairs remain followed.",
        ))
    else:
        blocks.append(Paragraph(f"The retention chart is not shown: it needs {nums.k} or more pairs matched in the "
                                f"period and {nums.k} or more of them stopping.", "note"))
    return Section("Retention", tuple(blocks))


def _change_frame(nums: _Numbers, code: str) -> pd.DataFrame:
    base = f"outcomes.{code}"

    def num(path: str) -> float:
        return float("nan") if nums.is_hidden(path) or not _finite(nums.value(path)) else float(nums.value(path))

    return pd.DataFrame([{
        "grp": "all", "instrument": code, "n_paired": num(f"{base}.n_paired"),
        "baseline_mean": num(f"{base}.baseline_mean"), "followup_mean": num(f"{base}.followup_mean"),
    }])


def _outcomes_section(con, scope: Scope, nums: _Numbers, figures: _Figures, instruments) -> Section:
    blocks: list[Block] = []
    for code, inst in instruments.items():
        blocks.append(Paragraph(_outcome_sentence(code, nums, inst)))
        cut_off = _threshold_sentence(code, nums, inst)
        if cut_off:
            blocks.append(Paragraph(cut_off))
        if nums.shown(f"outcomes.{code}.n_paired", f"outcomes.{code}.baseline_mean") and nums.value(
            f"outcomes.{code}.n_paired"
        ):
            fig = charts.intake_followup_chart(_change_frame(nums, code), code, k=nums.k, inst=inst)
            blocks.append(figures.add(
                fig, f"{inst.name}: intake and follow-up",
                f"Mean {inst.name} ({inst.construct}) score at intake and at the latest follow-up at least "
                f"28 days later, for participants with both (possible range {inst.min_score:g}-{inst.max_score:g}; "
                f"{'higher' if inst.higher_is_better else 'lower'} is better).",
            ))
    change = outcomes.outcome_change(con, scope)
    change = change[change["instrument"].isin(list(instruments))]
    frame, _hidden = frames.chart_frame(change, "outcome_change", nums.k)
    classes = ["improved", "no_reliable_change", "declined"]
    usable = frame[frame[classes].notna().all(axis=1) & (frame[classes].sum(axis=1) > 0)]
    left_out = [c for c in frame["instrument"] if c not in set(usable["instrument"])]
    if not usable.empty:
        caption = (
            "Share of participants with an intake and a follow-up whose change was larger than measurement "
            "error alone would give (Jacobson & Truax reliable change, |RC| ≥ 1.96)."
        )
        if left_out:
            caption += f" Not shown: {', '.join(left_out)} (a category has fewer than {nums.k} participants)."
        blocks.append(figures.add(charts.reliable_change_chart(usable, k=nums.k, instruments=instruments),
                                  "Reliable change from intake to follow-up", caption))
    others = [c for c in instruments if c not in ALWAYS_REPORTED]
    heading = "Self-efficacy and recovery capital" if not others else "Outcomes by instrument"
    return Section(heading, tuple(blocks))


def _goals_section(scope: Scope, nums: _Numbers, figures: _Figures) -> Section:
    rows = []
    for d in CODEBOOKS["goal_domain"]:
        base = f"goals.by_domain.{d}"
        rows.append((theme.GOAL_DOMAIN_LABELS.get(d, d.capitalize()), nums.count(f"{base}.set"),
                     nums.count(f"{base}.achieved"), nums.rate(f"{base}.achievement_rate")))
    rows.append(("All domains", nums.count("goals.set"), nums.count("goals.achieved"), nums.rate("goals.achievement_rate")))
    table = Table(
        caption="Table 2. Goals set in the period and achieved, by recovery domain",
        header=("Domain", "Goals set", "Achieved", "Achievement rate"),
        rows=tuple(rows),
        widths=(0.34, 0.2, 0.2, 0.26),
        align=("left", "right", "right", "right"),
        note=f"Achieved: marked achieved on or before {long_date(scope.as_of)}. " + suppression_rule(nums.k),
    )
    blocks: list[Block] = [Paragraph(_goals_sentence(scope, nums)), table]
    frame = _goals_frame(nums)
    # goals_chart divides achieved by set for its labels: a domain whose achieved count is hidden
    # beside a shown number set would read "nan%", so it is left to the table.
    partial = (frame["domain"] != "*") & frame["goals_set"].notna() & frame["achieved"].isna()
    left_out = [theme.GOAL_DOMAIN_LABELS.get(d, d) for d in frame.loc[partial, "domain"]]
    frame = frame[~partial]
    drawable = (frame["domain"] != "*") & frame["goals_set"].notna()
    if nums.shown("goals.set") and nums.value("goals.set") and drawable.any():
        caption = ("Goals set during the period and, of those, goals achieved by the as-of date, with the "
                   "achievement rate above each domain.")
        if left_out:
            caption += (f" Not shown: {', '.join(left_out)} (fewer than {nums.k} goals achieved; see "
                        "Table 2).")
        blocks.append(figures.add(charts.goals_chart(frame, k=nums.k), "Goals set and achieved by recovery domain",
                                  caption))
    return Section("Recovery goals", tuple(blocks))


def _methods_section(
    scope: Scope, k: int, data_hash: str, filters_hash: str,
    sites: tuple[str, ...], funding_streams: tuple[str, ...], registry_in_force: Mapping[str, Instrument],
    nums: _Numbers,
) -> Section:
    a = long_date(scope.as_of)
    fu = nums.value("followup")
    instruments = "; ".join(
        f"{i.name} ({i.code}: {i.items + ', ' if i.items else ''}range {i.min_score:g}-{i.max_score:g}, "
        f"{i.better} is better, reliability r = {i.reliability:g}"
        + (f", minimal important change {i.mcid:g} points" if i.mcid is not None else "")
        + (f", cut-off {i.threshold_text()}" if i.threshold is not None else "") + ")"
        for i in registry_in_force.values()
    )
    defs = [
        ("Data as of", f"{a}. Records dated after this day are treated as not yet happened: later sessions "
         "and assessments are left out, and a pair or goal closed later counts as open."),
        ("Pairs and participants", "A pair is one participant matched with one peer mentor. Pairs in the period: "
         "matched on or before the last day and not closed before the first day. Participants served: people "
         "with such a pair."),
        ("Attendance", "Sessions attended ÷ (attended + missed). Cancelled sessions are not counted either way. "
         "Sessions dated outside their pair's match dates are data errors and are left out."),
        ("Retention", "Pairs matched in the period, followed to the as-of date. A pair stops when it closes because "
         "the participant withdrew or lost contact; pairs closing for other reasons (goals met, moving on) or "
         "still open are followed for as long as they were observed. Kaplan-Meier estimates with 95% confidence "
         "intervals (Greenwood's variance, log-log transform)."),
        ("Self-efficacy and recovery capital", f"{instruments}. Intake: a participant's first assessment; follow-up: "
         "the latest at least 28 days later. Mean change with a 95% t confidence interval; effect size d_z = mean "
         "change ÷ standard deviation of change. Reliable change (Jacobson & Truax, 1991): a change larger than "
         "1.96 standard errors of the difference, using each instrument's published reliability."),
        ("Goals", "Goals set during the period; achieved when marked achieved on or before the as-of date."),
        ("Follow-up rate", f"Participants enrolled in the period, each with one reassessment window from intake: "
         f"{followup_text.rule_text(fu['rule'])}, both ends included"
         + (" (months clamp to the month's last day)" if fu["rule"] == "gpra" else "")
         + ". Reassessed: any assessment inside the window on or before the as-of date. "
         + ("A participant who left the program before or during the window without a reassessment is excused. "
            if fu["rule"] == "suprt" else "")
         + f"Rate = reassessed ÷ due (windows closed by {a}, excused not counted); target {percent(fu['target'])}."),
        ("Small numbers", f"{suppression_rule(k)} Where exactly one group of a breakdown is hidden, the next "
         "smallest is hidden too, so totals cannot reveal it. Zero is shown. Reports are not produced for a "
         f"selection of fewer than {k} pairs."),
    ]
    attrition_rows = [
        {"instrument": code,
         "smd": None if nums.is_hidden(f"followup.attrition.{code}.smd") else v["smd"]}
        for code, v in fu["attrition"].items()
    ]
    blocks: list[Block] = [
        Table(caption="Table 3. Definitions", header=("Term", "Meaning"),
              rows=tuple(defs), widths=(0.24, 0.76), align=("left", "left")),
        Paragraph(followup_text.attrition_sentence(attrition_rows, k=k, registry=registry_in_force)),
        _attrition_table(nums, 4, registry_in_force),
        Paragraph(
            "To reproduce this report, run the command below on the same store: the data hash covers every "
            "record the report reads (pairs in the selection, their sessions, goals and assessments up to the "
            "as-of date), so equal hashes mean the same data. It is the SHA-256 of, for each of those four "
            "tables, the row count and the sums of the two halves of each row's MD5, computed in one pass in "
            "SQL; row order does not matter, and newer records loaded later do not change it."
        ),
    ]
    command = (
        f"python -m analytics report --db STORE --as-of {scope.as_of.isoformat()} "
        f"--start {scope.start.isoformat()} --end {scope.end.isoformat()}"
        + "".join(f" --site {shlex.quote(s)}" for s in sites)
        + "".join(f" --funding-stream {shlex.quote(f)}" for f in funding_streams)
        + f" --followup-rule {fu['rule']} --followup-target {fu['target']:g}"
        + f" --min-cell {k} --out report.pdf"
    )
    rows = [
        ("Data hash (SHA-256)", data_hash),
        ("Filters hash (SHA-256)", filters_hash),
        ("Software", f"peer-outcomes {analytics.__version__}, DuckDB {duckdb.__version__}"),
        ("Command", command),
    ]
    blocks.append(Table(caption="Table 5. Reproducibility", header=("Item", "Value"), rows=tuple(rows),
                        widths=(0.24, 0.76), align=("left", "left"), mono=True))
    return Section("Methods", tuple(blocks), appendix=True)
