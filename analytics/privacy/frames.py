"""The suppression rules of every metric frame (``FRAME_SPECS``) and the suppressed frames
tables and charts are exported from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics import privacy
from analytics.domain.instruments import ALWAYS_REPORTED

# Ids of people, pairs and events: a frame holding one is row-level data.
ROW_LEVEL_IDS = ("participant_id", "pair_id", "session_id", "goal_id", "assessment_id")


@dataclass(frozen=True)
class FrameSpec:
    """How to suppress one kind of aggregate frame.

    ``derived``: column -> the count column(s) whose sum is its denominator.
    ``inputs``: derived column -> other counts it is computed from (hidden with them).
    ``labels``: numeric columns that label rows (month number, day) rather than count people.
    ``label``: the id column naming each row, when rows are mentors (the only id allowed).
    ``partition``: columns splitting the frame into separate breakdowns (instruments measure
    different things, so a complement is looked for within the same instrument).
    ``total``: (column, value) marking the totals row of each breakdown (goals' domain "*").
    ``row_totals``: count column -> the count columns adding up to it within a row, so one
    hidden part is never given back by the total minus the others (``privacy.suppress_table``).
    ``linked``: (triggers, targets): a hidden trigger hides the targets of its row.
    ``scores``: derived columns that are statistics of scores, hidden only when a count they
    rest on is itself small (``privacy.suppress_table``).
    """

    title: str
    count_cols: tuple[str, ...]
    derived: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    label: str | None = None
    partition: tuple[str, ...] = ()
    total: tuple[str, object] | None = None
    row_totals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    linked: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    scores: tuple[str, ...] = ()


_OUTCOME_STATS = ("baseline_mean", "followup_mean", "mean_change", "sd_change", "sd_baseline", "s_diff",
                  "ci95_low", "ci95_high", "cohens_dz")
_KM = ("km_30", "km_90", "km_180", "median_days", *(f"km_{d}_{b}" for d in (30, 90, 180) for b in ("lower", "upper")))

FRAME_SPECS: dict[str, FrameSpec] = {
    "pair_counts": FrameSpec(
        "Pairs and participants",
        ("pairs_in_scope", "participants_in_scope", "matched_in_period", "active_at_end"),
    ),
    "engagement_by_month": FrameSpec(
        "Sessions and attendance by month",
        ("active_pairs", "attended", "no_show", "cancelled"),
        {"attendance_rate": ("attended", "no_show")},
        partition=("grp",),
    ),
    "attended_by_modality": FrameSpec("Sessions attended by modality", ("attended",), partition=("grp",)),
    "retention_summary": FrameSpec(
        "Retention (Kaplan-Meier)",
        ("pairs", "events", "eligible_90"),
        {**{c: "pairs" for c in _KM}, "retained_90": "eligible_90"},
        {c: ("events",) for c in _KM},
    ),
    "retention_curve": FrameSpec(
        "Kaplan-Meier retention curve",
        ("at_risk", "events", "censored"),
        {c: "at_risk" for c in ("survival", "std_err", "lower", "upper")},
        {c: ("events",) for c in ("survival", "std_err", "lower", "upper")},
        labels=("t",),
        partition=("grp",),
    ),
    "cohort_triangle": FrameSpec(
        "Share of pairs attending by match month",
        ("pairs", "pairs_attending"),
        {"share": "pairs"},
        {"share": ("pairs_attending",)},
        labels=("k",),
        partition=("grp", "k"),
    ),
    "closure_reasons": FrameSpec("Why pairs closed", ("pairs",), partition=("grp",)),
    "outcome_change": FrameSpec(
        "Intake and follow-up scores",
        ("n_paired", "improved", "no_reliable_change", "declined", "meaningful_improved", "meaningful_declined",
         "baseline_meets", "followup_meets"),
        {**{c: "n_paired" for c in _OUTCOME_STATS},
         "reliable_improvement_rate": "n_paired", "reliable_decline_rate": "n_paired",
         "meaningful_improvement_rate": "n_paired", "meaningful_decline_rate": "n_paired",
         "threshold_baseline_share": "n_paired", "threshold_followup_share": "n_paired"},
        # a rate shown beside a hidden class count would give it back (rate x n)
        {"reliable_improvement_rate": ("improved",), "reliable_decline_rate": ("declined",),
         "meaningful_improvement_rate": ("meaningful_improved",), "meaningful_decline_rate": ("meaningful_declined",),
         "threshold_baseline_share": ("baseline_meets",), "threshold_followup_share": ("followup_meets",)},
        # the registry's mcid and cut-off are scale points, not people
        labels=("mcid", "threshold"),
        partition=("instrument",),
        # the three classes add up to the paired participants
        row_totals={"n_paired": ("improved", "no_reliable_change", "declined")},
    ),
    "outcome_trend": FrameSpec(
        "Scores by months since enrollment",
        ("n",),
        {c: "n" for c in ("mean", "sd", "ci95_low", "ci95_high")},
        labels=("month",),
        partition=("grp", "instrument"),
    ),
    "change_distribution": FrameSpec(
        "Score change from intake to follow-up", ("participants",), labels=("change",),
        partition=("grp", "instrument"),
    ),
    # analytics.metrics.instruments: the registry's definitions (scale points and r, no people)
    "instrument_registry": FrameSpec(
        "Instrument registry", (), labels=("min_score", "max_score", "reliability", "mcid", "threshold"),
    ),
    # analytics.metrics.dose: per group, instrument and dose band (band "*" carries the model)
    "dose_change": FrameSpec(
        "Dose and change",
        ("n",),
        {c: "n" for c in ("mean_change", "ci95_low", "ci95_high", "slope_per_4_sessions", "slope_ci95_low",
                          "slope_ci95_high")},
        partition=("grp", "instrument"),
        total=("band", "*"),
    ),
    "reliable_change_counts": FrameSpec(
        "Reliable change", ("participants",), partition=("grp", "instrument"),
    ),
    "goals_by_domain": FrameSpec(
        "Goals by recovery domain",
        ("goals_set", "achieved"),
        {"achievement_rate": "goals_set", "median_days_to_achieve": "achieved"},
        {"achievement_rate": ("achieved",)},
        partition=("grp",),
        total=("domain", "*"),
    ),
    "mentor_caseloads": FrameSpec(
        "Mentor caseloads",
        ("pairs_in_scope", "caseload_at_end", "matched_in_period", "disengaged_in_period", "attended", "no_show"),
        {"attendance_rate": ("attended", "no_show"), "contact_hours": "pairs_in_scope"},
        {"contact_hours": ("attended",)},
        label="mentor_id",
    ),
    "quality_findings": FrameSpec("Data-quality findings", ("n",)),
    # Funder follow-up (analytics.metrics.followup): due = done + missed in every row, so one
    # hidden part is never given back by the other; the rate rests on the due members.
    "followup_counts": FrameSpec(
        "Follow-up rate",
        ("cohort", "due", "excused", "done", "missed", "open_now", "opening_next_30"),
        {"rate": "due", "meets_target": "due"},
        {"rate": ("done", "missed"), "meets_target": ("done", "missed")},
        row_totals={"due": ("done", "missed")},
    ),
    "followup_by_close_month": FrameSpec(
        "Follow-up rate by month of window close",
        ("due", "done", "missed", "excused"),
        {"rate": "due"},
        {"rate": ("done", "missed")},
        partition=("grp",),
        row_totals={"due": ("done", "missed")},
    ),
    # Beside each instrument's counts, its group's due, done and missed (as in followup_counts,
    # suppressed the same way): those with an intake score are part of done and missed, so a
    # difference of 1-10 hides them (privacy.NESTED_COLUMNS), they go with a hidden done or
    # missed and with each other (the summary's LINKED and PARTITIONS), and the intake means,
    # pooled SD and SMD rest only on counts that are themselves small.
    "followup_attrition": FrameSpec(
        "Intake scores of participants reassessed and missed",
        ("n_followed", "n_missed", "due", "done", "missed"),
        {"baseline_mean_followed": "n_followed", "baseline_mean_missed": "n_missed",
         "pooled_sd": ("n_followed", "n_missed"), "smd": "n_followed"},
        {"smd": ("n_missed",), "pooled_sd": ("n_followed", "n_missed")},
        partition=("instrument",),
        row_totals={"due": ("done", "missed")},
        linked=((("done", "missed"), ("n_followed", "n_missed")), (("n_followed",), ("n_missed",)),
                (("n_missed",), ("n_followed",))),
        scores=("baseline_mean_followed", "baseline_mean_missed", "pooled_sd", "smd"),
    ),
    # The Compare page's groups (analytics.metrics.compare, with `sessions` added): one row per
    # group, the rows one breakdown. `sessions` is attended + no-show, so it goes with either.
    # A hazard ratio, like the Kaplan-Meier estimates, rests on the group's pairs and goes with
    # its events (stops); an instrument's mean change and CI rest on its paired participants.
}


def compare_groups_spec(codes: Iterable[str]) -> FrameSpec:
    """The Compare page's groups (analytics.metrics.compare, with `sessions` added): one row per
    group, the rows one breakdown. `sessions` is attended + no-show, so it goes with either.
    A hazard ratio, like the Kaplan-Meier estimates, rests on the group's pairs and goes with
    its events (stops); an instrument's mean change and CI rest on its paired participants.
    The instrument columns are those of the instruments reported (`<CODE>_n_paired`, ...)."""
    codes = tuple(dict.fromkeys(codes))
    return FrameSpec(
        "Groups compared",
        ("pairs_in_scope", "participants_in_scope", "matched_in_period", "active_at_end", "attended", "no_show",
         "pairs", "events", "eligible_90", *(f"{c}_n_paired" for c in codes)),
        {
            **{c: ("attended", "no_show") for c in ("sessions", "attendance_rate", "attendance_low", "attendance_high")},
            "contact_hours": "pairs_in_scope", "sessions_per_pair_month": "pairs_in_scope",
            **{c: "pairs" for c in ("km_90", "km_90_lower", "km_90_upper", "hr", "hr_lower", "hr_upper")},
            "retained_90": "eligible_90",
            **{f"{c}_{s}": f"{c}_n_paired" for c in codes for s in ("mean_change", "ci95_low", "ci95_high")},
        },
        {
            "contact_hours": ("attended",), "sessions_per_pair_month": ("attended",),
            **{c: ("events",) for c in ("km_90", "km_90_lower", "km_90_upper", "hr", "hr_lower", "hr_upper")},
        },
    )


_PAIRED_SUFFIX = "_n_paired"
# Specs that depend on the frame's columns (one set of columns per instrument reported).
FRAME_SPECS["compare_groups"] = compare_groups_spec(ALWAYS_REPORTED)


def spec_for(name: str, columns: Iterable[str] | None = None) -> FrameSpec:
    """The rules of a named frame; `columns` (the frame's) settles the instrument columns of
    the Compare page's groups."""
    if name == "compare_groups" and columns is not None:
        return compare_groups_spec(
            [*ALWAYS_REPORTED, *(str(c)[: -len(_PAIRED_SUFFIX)] for c in columns if str(c).endswith(_PAIRED_SUFFIX))]
        )
    try:
        return FRAME_SPECS[name]
    except KeyError:
        raise KeyError(f"no suppression rules for a frame named {name!r}; pass count_cols and derived") from None


def make_spec(
    *,
    title: str,
    count_cols: Sequence[str],
    derived: Mapping[str, str | Sequence[str]],
    inputs: Mapping[str, Sequence[str]] | None = None,
    labels: Sequence[str] = (),
    label: str | None = None,
) -> FrameSpec:
    return FrameSpec(
        title,
        tuple(count_cols),
        {c: (d if isinstance(d, str) else tuple(d)) for c, d in derived.items()},
        {c: tuple(v) for c, v in (inputs or {}).items()},
        labels=tuple(labels),
        label=label,
    )


# ------------------------------------------------------------------------------- checks


def refuse_row_level(df: pd.DataFrame, label: str | None = None) -> None:
    """Refuse a frame holding ids of people, pairs or events.

    Only aggregates leave the store; the one id allowed is ``label``, the column naming each
    row of an aggregate (a mentor's pseudonym in the caseload table).
    """
    for col in df.columns:
        name = str(col).lower()
        if name in ROW_LEVEL_IDS or (name.endswith("_id") and col != label):
            raise privacy.ExportRefused(
                f"row-level exports are off: the table has an id column ({col}); export aggregates only"
            )


def _is_numeric_column(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _check_declared(df: pd.DataFrame, spec: FrameSpec) -> None:
    declared = {*spec.count_cols, *spec.derived, *spec.labels, *spec.partition}
    undeclared = [str(c) for c in df.columns if c not in declared and _is_numeric_column(df[c])]
    if undeclared:
        raise ValueError(
            f"numeric column(s) neither a count, a derived value nor a label: {', '.join(undeclared)}"
        )


# ------------------------------------------------------------------------------- suppression


def suppress(df: pd.DataFrame, spec: FrameSpec, k: int) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The frame with "<k" / "n<k" in suppressed cells, and those cells as (row position, column).

    Columns of the spec that the frame lacks are left out of the rules (a page may export a
    subset); columns it has are all checked.
    """
    refuse_row_level(df, spec.label)
    _check_declared(df, spec)
    cols = set(df.columns)
    count_cols = [c for c in spec.count_cols if c in cols]
    derived = {
        c: d for c, d in spec.derived.items()
        if c in cols and all(x in cols for x in ((d,) if isinstance(d, str) else d))
    }
    missing_dens = [c for c in spec.derived if c in cols and c not in derived]
    if missing_dens:
        raise ValueError(f"derived column(s) without their denominator: {', '.join(missing_dens)}")
    inputs = {c: tuple(x for x in v if x in cols) for c, v in spec.inputs.items() if c in derived}

    frame = df.reset_index(drop=True)
    keys = [c for c in spec.partition if c in cols]
    parts = [frame] if not keys else [g for _, g in frame.groupby(keys, sort=False, dropna=False)]
    out_parts, cells = [], []
    for part in parts:
        totals = ()
        if spec.total is not None and spec.total[0] in cols:
            totals = tuple(part.index[part[spec.total[0]] == spec.total[1]])
        table, hidden = privacy.suppress_table(
            part, count_cols=count_cols, derived=derived, inputs=inputs, k=k, total_labels=totals,
            row_totals={t: parts for t, parts in spec.row_totals.items() if {t, *parts} <= set(count_cols)},
            linked=[(t, x) for t, x in spec.linked if {*t, *x} <= set(count_cols)],
            scores=[c for c in spec.scores if c in derived],
        )
        out_parts.append(table)
        cells.extend(hidden)
    out = pd.concat(out_parts).sort_index() if len(out_parts) > 1 else out_parts[0]
    cells.extend(_already_hidden(frame, out, count_cols, derived, inputs, k))
    return out, sorted(set(cells), key=lambda c: (c[0], str(c[1])))


def _already_hidden(frame, out, count_cols, derived, inputs, k) -> list[tuple[int, str]]:
    """Label cells a frame arrives with already blanked (``chart_frame``, a suppressed screen).

    A count is never undefined (the metrics count zero), so a blank count was suppressed; a
    blank rate or mean was suppressed when one of its counts is blank too (else it is simply
    undefined, e.g. no sessions, and stays blank). Labels are written into ``out`` in place.
    """
    if k <= 1:
        return []
    marked: list[tuple[int, str]] = []
    blank = frame.isna()
    for col in count_cols:
        for i in frame.index[blank[col]]:
            marked.append((i, col))
    for col, dens in derived.items():
        deps = [*((dens,) if isinstance(dens, str) else dens), *inputs.get(col, ())]
        for i in frame.index[blank[col] & blank[deps].any(axis=1)]:
            marked.append((i, col))
    # each column made able to hold a label once (not once per cell: 25,000 cells of 4,785
    # mentors took 2 s that way), then the labels written where none is yet
    for col in dict.fromkeys(col for _, col in marked):
        rows = [i for i, c in marked if c == col and not isinstance(out.at[i, c], str)]
        if not rows:
            continue
        if out[col].dtype != object:
            out[col] = out[col].astype(object)
        out.loc[rows, col] = privacy.suppressed_label(k) if col in count_cols else privacy.derived_label(k)
    return marked


# ------------------------------------------------------------------------------- what an export leaves out

def total_publishable(df: pd.DataFrame, spec: FrameSpec | str, k: int, column: str) -> bool:
    """Whether the total of a count column may be stated beside the frame's suppressed export.

    A total minus the cells shown gives back the sum of the hidden cells, so it may be stated
    only when that sum is 0 or at least k (and the total itself is 0 or at least k).
    """
    spec = spec_for(spec, df.columns) if isinstance(spec, str) else spec
    if k <= 1:
        return True
    values = pd.to_numeric(df[column], errors="coerce").reset_index(drop=True)
    if values.isna().any():
        return False  # blank counts (a suppressed screen's frame): the total is not known here
    hidden_rows = [row for row, col in suppress(df, spec, k)[1] if col == column]
    hidden = float(values.iloc[hidden_rows].sum()) if hidden_rows else 0.0
    total = float(values.sum())
    return all(v == 0 or v >= k for v in (hidden, total))


def suppressed_table(df: pd.DataFrame, spec: FrameSpec | str, k: int) -> pd.DataFrame:
    """The frame as an export shows it: suppressed cells read "<11" or "n<11"."""
    spec = spec_for(spec, df.columns) if isinstance(spec, str) else spec
    return suppress(df, spec, k)[0]


# Each function below returns, beside the frame, ``hidden``: the frames it drew from that lost
# cells to suppression (or a group's whole curve). A chart sums the cells it is given for its
# title's n, so a figure drawn from a frame with hidden cells cannot state a total
# (``images.build_for_export``).
Hidden = tuple[str, ...]


def chart_frame(df: pd.DataFrame | None, spec: FrameSpec | str, k: int) -> tuple[pd.DataFrame | None, Hidden]:
    """The frame a chart is exported from, and what it hid: suppressed cells are NaN (charts
    draw those as "<11"/"n<11"), every other value as it was.

    A Kaplan-Meier curve is cut where fewer than k pairs remain at risk (its day-level event
    counts are what suppression protects); the other columns follow ``FRAME_SPECS``.
    """
    if df is None or df.empty:
        return df, ()
    name = spec if isinstance(spec, str) else None
    spec = spec_for(spec, df.columns) if isinstance(spec, str) else spec
    if name == "retention_curve":
        return km_chart_frame(df, k)
    table, cells = suppress(df, spec, k)
    hidden = (name or spec.title,) if cells else ()
    out = df.reset_index(drop=True).copy()
    for col in {c for _, c in cells}:
        out[col] = out[col].astype(float)
    for row, col in cells:
        out.loc[row, col] = np.nan
    if name == "outcome_change":
        # Shares of a row are read against the sum of its three classes; with one class hidden
        # the others would be shares of the wrong total, so the row's classes go together.
        classes = ["improved", "no_reliable_change", "declined"]
        if set(classes) <= set(out.columns):
            gone = out[classes].isna().any(axis=1)
            out.loc[gone, classes] = np.nan
    return out, hidden


def km_chart_frames(curve: pd.DataFrame, k: int) -> tuple[pd.DataFrame, pd.DataFrame | None, Hidden]:
    """``km_chart``'s two inputs for export, and what they hid: the curve while at least k
    pairs remain at risk, and the numbers at risk at the chart's own tick days up to where that
    curve ends, read from the whole curve (counts below k are NaN, printed "<11")."""
    from analytics.stats import at_risk_days, at_risk_table

    shown, hidden = km_chart_frame(curve, k)
    if shown.empty:
        return shown, None, hidden
    if curve["at_risk"].isna().any():
        curve = shown  # already cut (a suppressed screen's frame): read the numbers from what is left
    # the tick days km_chart itself picks for this curve, so the numbers sit under its ticks
    at_risk = at_risk_table(curve, days=at_risk_days(float(shown["t"].max())))
    if k > 1:
        at_risk["at_risk"] = at_risk["at_risk"].where((at_risk["at_risk"] >= k) | (at_risk["at_risk"] == 0))
    return shown, at_risk, hidden


def km_chart_frame(curve: pd.DataFrame, k: int) -> tuple[pd.DataFrame, Hidden]:
    """The Kaplan-Meier curve while at least k pairs remain at risk, event counts dropped; and
    what it hid (a group's whole curve resting on fewer than k pairs)."""
    if k <= 1 or curve.empty:
        return curve.copy(), ()
    out = curve[(curve["at_risk"] >= k) & curve["survival"].notna()].copy()
    hidden = ("retention_curve",) if "grp" in curve.columns and set(curve["grp"]) - set(out["grp"]) else ()
    for col in ("events", "censored"):
        if col in out.columns:
            out[col] = np.nan
    return out.reset_index(drop=True), hidden
