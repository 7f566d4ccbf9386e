"""Small-cell suppression for everything that leaves the store.

The summary command, table exports (CSV/XLSX), chart data and the grant report all pass
through this module. The people described are in substance-use recovery, so we follow the
CMS cell-size suppression policy: no published figure may describe 1 to 10 people.

Policy (k = DEFAULT_K = 11, configurable; k = 1 turns suppression off for internal analysis)

- A count n with 0 < n < k is suppressed (``null`` in JSON, ``"<11"`` in tables). Zero is
  shown: it reveals no one.
- A rate, mean, percentage, confidence interval or effect size is suppressed when its
  denominator (the number of people/pairs/sessions/goals it is computed over) is 1..k-1, or
  when any count it is computed from is itself suppressed. The second clause matters because
  the numbers are unrounded: an attendance rate next to a shown no-show count gives a hidden
  attended count straight back.
- Complementary suppression: within a breakdown (the groups of ``--by``; the goal domains),
  when exactly one member is suppressed for a count, the smallest remaining non-zero member is
  suppressed too, so "total minus the others" does not reveal the hidden one. A zero member is
  never suppressed and never used as the complement. When no such member exists (every other
  member is zero), the total itself is suppressed instead. Values derived from a complement
  are suppressed with it. This repeats until nothing changes, because the group x domain
  counts form a two-way table: a complement in one direction can leave a lone suppressed cell
  in the other (a domain complement inside one group can be the only non-zero cell across
  the groups, and the top-level figure would then give it, and through it the small cell,
  back).

Summary rules (data below: COUNT_PATHS, DERIVED_RULES, BREAKDOWNS). Paths are relative to a
block: the top-level summary, and each member of ``groups``. ``*`` stands for every key of
that mapping (each instrument, each goal domain).

Counts (suppressed when 1..k-1)::

    pairs.in_scope  pairs.matched_in_period  pairs.active_at_end  participants.in_scope
    engagement.attended  engagement.no_show  engagement.cancelled
    retention.pairs  retention.events  retention.eligible_90
    outcomes.*.n_paired  outcomes.*.dose.n  outcomes.*.dose.bands.*.n  goals.set  goals.achieved
    goals.by_domain.*.set  goals.by_domain.*.achieved
    followup.cohort  followup.due  followup.excused  followup.done  followup.missed
    followup.open_now  followup.opening_next_30
    followup.attrition.*.n_followed  followup.attrition.*.n_missed

Derived values (suppressed when the SUM of the denominator counts is 1..k-1, or when a
denominator or input count is suppressed)::

    derived value                          denominator                          also hidden with
    engagement.attendance_rate             engagement.attended + engagement.no_show
    engagement.contact_hours               pairs.in_scope                       engagement.attended
    engagement.pair_days                   pairs.in_scope
    engagement.sessions_per_pair_month     pairs.in_scope                       engagement.attended
    engagement.median_days_to_first_session pairs.matched_in_period
    retention.km_30                        retention.pairs                      retention.events  (share)
    retention.km_90                        retention.pairs                      retention.events  (share)
    retention.km_180                       retention.pairs                      retention.events  (share)
    retention.median_days                  retention.pairs                      retention.events
    retention.retained_90                  retention.eligible_90   (share: see below)
    outcomes.*.baseline_mean               outcomes.*.n_paired
    outcomes.*.followup_mean               outcomes.*.n_paired
    outcomes.*.mean_change                 outcomes.*.n_paired
    outcomes.*.sd_change                   outcomes.*.n_paired
    outcomes.*.ci95                        outcomes.*.n_paired   (the whole [lo, hi] becomes null)
    outcomes.*.cohens_dz                   outcomes.*.n_paired
    outcomes.*.reliable_improvement_rate   outcomes.*.n_paired   (share: see below)
    outcomes.*.reliable_decline_rate       outcomes.*.n_paired   (share: see below)
    outcomes.*.meaningful_improvement_rate outcomes.*.n_paired   (share: see below)
    outcomes.*.meaningful_decline_rate     outcomes.*.n_paired   (share: see below)
    outcomes.*.threshold.baseline_share    outcomes.*.n_paired   (share: see below)
    outcomes.*.threshold.followup_share    outcomes.*.n_paired   (share: see below)
    outcomes.*.dose.slope_per_4_sessions   outcomes.*.dose.n
    outcomes.*.dose.ci95                   outcomes.*.dose.n     (the whole [lo, hi] becomes null)
    outcomes.*.dose.bands.*.mean_change    outcomes.*.dose.bands.*.n
    goals.achievement_rate                 goals.set                            goals.achieved
    goals.median_days_to_achieve           goals.achieved
    goals.by_domain.*.achievement_rate     goals.by_domain.*.set                goals.by_domain.*.achieved
    followup.rate                          followup.due                         followup.done, followup.missed
    followup.meets_target                  followup.due                         followup.done, followup.missed
    followup.attrition.*.baseline_mean_followed  followup.attrition.*.n_followed
    followup.attrition.*.baseline_mean_missed    followup.attrition.*.n_missed
    followup.attrition.*.smd               followup.attrition.*.n_followed      followup.attrition.*.n_missed

The follow-up attrition's intake means and SMD are statistics of scores, not of counts: they
are suppressed when their own counts (n_followed, n_missed) are 1..k-1, not when those counts
are hidden only as nested counts or complements (``Derived.scores``). A mean of the intake
scores of 1,158 people gives no count back, and hiding it with its count made the attrition
check empty wherever a few people due lacked an intake score (the nested difference).

``followup.rule`` and ``followup.target`` are settings, never suppressed; so is everything
under the top-level ``tests`` (test statistics across all groups, no count of people).

Shares of people whose count the summary does not carry (retained_90, the reliable
improvement and decline rates) are also suppressed when share x n, or n minus it, is 1..k-1:
"4.5% of 22" would otherwise name one person. The two reliable-change shares split n_paired
into three classes: when both are shown and n minus the two implied counts (no reliable
change) is 1..k-1, the share of the smaller class is suppressed as well; the two meaningful-
change shares likewise. The dose bands split dose.n three ways and take complementary
suppression like the goal domains.

Why these denominators:

- contact_hours, pair_days and sessions_per_pair_month are sums/rates over the pairs in scope,
  so they describe pairs.in_scope pairs. contact_hours and sessions_per_pair_month also go
  with a hidden attended count: hours divided by a usual session length, or the rate times
  the shown pair-days, would give it back.
- median_days_to_first_session is a median over the pairs matched in the period that had an
  attended session; the summary does not carry that n, so the nearest carried count,
  pairs.matched_in_period, is used (it is an upper bound, so this can under-suppress when
  few of those pairs have met; the metric layer may tighten it by carrying the n).
- The Kaplan-Meier estimates describe retention.pairs pairs, and with the pair count shown
  they pin down a hidden number of disengagement events, so they go with retention.events.
- median_days_to_achieve is a median over the achieved goals, not over all goals set: a
  median of three achieved goals is one person's timeline. Using goals.achieved is stricter
  than goals.set (achieved <= set).
- A denominator of zero does not suppress: the value is then undefined (null) or a plain 0.
- A denominator that is missing or null cannot be checked, so its values are suppressed
  (unless k = 1).

Breakdowns (complementary suppression)::

    members of            compared for                              total
    groups                every count path above                    the same path at the top level
    goals.by_domain       set, achieved (top level and every group) goals.set, goals.achieved beside it

Partitions inside a block (complementary suppression the same way, within the block)::

    parts                                                        total
    followup.done, followup.missed                               followup.due
    followup.attrition.*.n_followed, followup.attrition.*.n_missed  (none shown)

and when followup.done or followup.missed is suppressed, the block's attrition counts are
suppressed too: with everyone due holding a baseline, n_followed is the done count again.

The total of a breakdown sits next to the mapping of its members under the same key, so it
is found structurally: for members at ``X.by_domain`` and count ``set`` it is ``X.set``.

Ties for the complement go to the first member name in sort order. Every suppressed value is
set to ``None`` and its dotted path (keys joined with ".", group names as they are, dots
included) is listed in the top-level ``"suppressed"`` array. The summary is walked key by key,
never by splitting those strings.

Nested counts (NESTED_COUNTS): one count contains another (pairs.in_scope >= active_at_end,
retention.pairs >= eligible_90, goals.set >= goals.achieved, ...). Shown side by side, their
difference is a count too (89 in scope - 84 active = 5 closures), so when it is 1..k-1 the
inner count is suppressed (the outer one when the inner is zero), and the complements above
are completed again. The Kaplan-Meier estimates are shares as well (km_90 x pairs is the pairs
still retained when no one was censored before day 90: 0.958333 of 24 is 23, so one event), and
are screened like retained_90.

Tables apply the same two rules by column name (NESTED_COLUMNS, SHARE_COLUMNS), to every table
that has both columns: a share beside its denominator, and two nested counts in one row.

Tables (``suppress_table``): see its docstring. Exports of a narrowed view are refused below
k (``check_export_allowed``). Text cells are escaped against spreadsheet formula injection
(``safe_cell``/``safe_frame``).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.domain.numbers import DEFAULT_K, is_small

# Wildcard in the rule tables: every key of the mapping at that level.
EACH = "*"

Path = tuple[Hashable, ...]


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"the privacy threshold k must be an integer >= 1, got {k!r}")


def suppressed_label(k: int = DEFAULT_K) -> str:
    """Text shown in tables and charts in place of a suppressed count: "<11"."""
    _check_k(k)
    return f"<{k}"


def derived_label(k: int = DEFAULT_K) -> str:
    """Text shown in place of a suppressed rate or mean: "n<11".

    Distinct from the count label so a hidden percentage does not read as "below 11 %".
    """
    _check_k(k)
    return f"n<{k}"


# --------------------------------------------------------------------------------------
# Rule tables for the summary document (see the module docstring).

FOLLOWUP_COUNTS = ("cohort", "due", "excused", "done", "missed", "open_now", "opening_next_30")

COUNT_PATHS: tuple[Path, ...] = (
    ("pairs", "in_scope"),
    ("pairs", "matched_in_period"),
    ("pairs", "active_at_end"),
    ("participants", "in_scope"),
    ("engagement", "attended"),
    ("engagement", "no_show"),
    ("engagement", "cancelled"),
    ("retention", "pairs"),
    ("retention", "events"),
    ("retention", "eligible_90"),
    ("outcomes", EACH, "n_paired"),
    ("outcomes", EACH, "dose", "n"),
    ("outcomes", EACH, "dose", "bands", EACH, "n"),
    ("goals", "set"),
    ("goals", "achieved"),
    ("goals", "by_domain", EACH, "set"),
    ("goals", "by_domain", EACH, "achieved"),
    *(("followup", name) for name in FOLLOWUP_COUNTS),
    ("followup", "attrition", EACH, "n_followed"),
    ("followup", "attrition", EACH, "n_missed"),
)


@dataclass(frozen=True)
class Derived:
    """A value computed from counts.

    Suppressed when the sum of the ``denominator`` counts is 1..k-1, or when any
    ``denominator`` or ``inputs`` count is suppressed. Wildcards bind in order: the ``*`` of
    ``outcomes.*.mean_change`` is the same instrument in ``outcomes.*.n_paired``.
    """

    value: Path
    denominator: tuple[Path, ...]
    inputs: tuple[Path, ...] = ()
    # A share of people whose count the summary does not carry (reliable improvement, retained
    # at 90 days): also suppressed when share x denominator, or its complement, is 1..k-1,
    # since rate times the shown n would otherwise give a small count back.
    share: bool = False
    # A statistic of scores, not of counts (the follow-up attrition's intake means and SMD):
    # suppressed when a denominator or input count is itself 1..k-1 (``_scores_hide``), not when
    # one is hidden only as a complement or a nested count.
    scores: bool = False


OUTCOME_STATISTICS = (
    "baseline_mean", "followup_mean", "mean_change", "sd_change", "ci95", "cohens_dz",
    "reliable_improvement_rate", "reliable_decline_rate",
)

SHARE_STATISTICS = ("reliable_improvement_rate", "reliable_decline_rate")
MEANINGFUL_SHARES = ("meaningful_improvement_rate", "meaningful_decline_rate")
THRESHOLD_SHARES = ("baseline_share", "followup_share")
# (block pattern, denominator, shares of classes of it): the classes not given as shares make
# up the rest, which must not be a count of 1..k-1 either.
SHARE_PARTITIONS: tuple[tuple[Path, str, tuple[str, ...]], ...] = (
    (("outcomes", EACH), "n_paired", SHARE_STATISTICS),
    (("outcomes", EACH), "n_paired", MEANINGFUL_SHARES),
)
_N_PAIRED = ("outcomes", EACH, "n_paired")
_DOSE_N = ("outcomes", EACH, "dose", "n")

_IN_SCOPE = ("pairs", "in_scope")
_ATTENDED = ("engagement", "attended")

# (outer, inner): the inner count is a subset of the outer one, of the same unit, so outer -
# inner is a count of pairs or goals too (closures, pairs not yet followed for 90 days, goals
# not achieved...). Pairs and participants are different units (a participant may have two
# pairs), so their difference is not a set of people and is not listed.
NESTED_COUNTS: tuple[tuple[Path, Path], ...] = (
    (_IN_SCOPE, ("pairs", "active_at_end")),
    (_IN_SCOPE, ("pairs", "matched_in_period")),
    (_IN_SCOPE, ("retention", "pairs")),
    (("retention", "pairs"), ("retention", "eligible_90")),
    (("retention", "pairs"), ("retention", "events")),
    (("goals", "set"), ("goals", "achieved")),
    (("goals", "by_domain", EACH, "set"), ("goals", "by_domain", EACH, "achieved")),
    # the follow-up cohort holds those due and those excused; done and missed hold the
    # attrition table's reassessed and missed with an intake score of each instrument
    (("followup", "cohort"), ("followup", "due")),
    (("followup", "cohort"), ("followup", "excused")),
    (("followup", "done"), ("followup", "attrition", EACH, "n_followed")),
    (("followup", "missed"), ("followup", "attrition", EACH, "n_missed")),
)

# The same relations in table columns (applied to any table holding both as counts), and the
# derived columns that are shares of their denominator (with the columns of their confidence
# interval, hidden with them).
NESTED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pairs_in_scope", "active_at_end"),
    ("pairs_in_scope", "caseload_at_end"),
    ("pairs_in_scope", "matched_in_period"),
    ("pairs_in_scope", "disengaged_in_period"),
    ("pairs_in_scope", "pairs"),
    ("pairs", "eligible_90"),
    ("pairs", "events"),
    ("pairs", "pairs_attending"),
    ("goals_set", "achieved"),
    ("n_paired", "improved"),
    ("n_paired", "declined"),
    ("n_paired", "no_reliable_change"),
    # the follow-up attrition frame carries its group's done and missed beside the counts of
    # those with an intake score of each instrument (as the summary's NESTED_COUNTS)
    ("done", "n_followed"),
    ("missed", "n_missed"),
)
SHARE_COLUMNS: tuple[str, ...] = ("retained_90", "km_30", "km_90", "km_180")
_INTERVAL_SUFFIXES = ("_lower", "_upper", "_low", "_high")


def nested_columns(count_cols: Collection[str]) -> list[tuple[str, str]]:
    """The declared nested pairs a table has, both as counts."""
    cols = set(count_cols)
    return [(o, i) for o, i in NESTED_COLUMNS if o in cols and i in cols]


def share_columns(derived: Collection[str]) -> dict[str, list[str]]:
    """Share column -> the columns of its interval, for the shares among a table's derived columns."""
    cols = set(derived)
    return {s: [s + x for x in _INTERVAL_SUFFIXES if s + x in cols] for s in SHARE_COLUMNS if s in cols}

DERIVED_RULES: tuple[Derived, ...] = (
    Derived(("engagement", "attendance_rate"), (_ATTENDED, ("engagement", "no_show"))),
    Derived(("engagement", "contact_hours"), (_IN_SCOPE,), (_ATTENDED,)),
    Derived(("engagement", "pair_days"), (_IN_SCOPE,)),
    Derived(("engagement", "sessions_per_pair_month"), (_IN_SCOPE,), (_ATTENDED,)),
    Derived(("engagement", "median_days_to_first_session"), (("pairs", "matched_in_period"),)),
    *(
        Derived(("retention", name), (("retention", "pairs"),), (("retention", "events"),),
                share=name != "median_days")
        for name in ("km_30", "km_90", "km_180", "median_days")
    ),
    Derived(("retention", "retained_90"), (("retention", "eligible_90"),), share=True),
    *(
        Derived(("outcomes", EACH, name), (("outcomes", EACH, "n_paired"),), share=name in SHARE_STATISTICS)
        for name in OUTCOME_STATISTICS
    ),
    *(Derived(("outcomes", EACH, name), (_N_PAIRED,), share=True) for name in MEANINGFUL_SHARES),
    *(Derived(("outcomes", EACH, "threshold", name), (_N_PAIRED,), share=True) for name in THRESHOLD_SHARES),
    Derived(("outcomes", EACH, "dose", "slope_per_4_sessions"), (_DOSE_N,)),
    Derived(("outcomes", EACH, "dose", "ci95"), (_DOSE_N,)),
    Derived(
        ("outcomes", EACH, "dose", "bands", EACH, "mean_change"),
        (("outcomes", EACH, "dose", "bands", EACH, "n"),),
    ),
    Derived(("goals", "achievement_rate"), (("goals", "set"),), (("goals", "achieved"),)),
    Derived(("goals", "median_days_to_achieve"), (("goals", "achieved"),)),
    Derived(
        ("goals", "by_domain", EACH, "achievement_rate"),
        (("goals", "by_domain", EACH, "set"),),
        (("goals", "by_domain", EACH, "achieved"),),
    ),
    *(
        Derived(("followup", name), (("followup", "due"),), (("followup", "done"), ("followup", "missed")))
        for name in ("rate", "meets_target")
    ),
    Derived(("followup", "attrition", EACH, "baseline_mean_followed"), (("followup", "attrition", EACH, "n_followed"),),
            scores=True),
    Derived(("followup", "attrition", EACH, "baseline_mean_missed"), (("followup", "attrition", EACH, "n_missed"),),
            scores=True),
    Derived(
        ("followup", "attrition", EACH, "smd"),
        (("followup", "attrition", EACH, "n_followed"),),
        (("followup", "attrition", EACH, "n_missed"),),
        scores=True,
    ),
)

# Counts of a block that add up to another count beside them (or to a total not shown, None):
# one hidden part is joined by the next-smallest, as in a breakdown.
PARTITIONS: tuple[tuple[Path | None, tuple[Path, ...]], ...] = (
    (("followup", "due"), (("followup", "done"), ("followup", "missed"))),
    (None, (("followup", "attrition", EACH, "n_followed"), ("followup", "attrition", EACH, "n_missed"))),
)
# When a count of the first tuple is hidden, those matching the second go with it (same block).
LINKED: tuple[tuple[tuple[Path, ...], tuple[Path, ...]], ...] = (
    (
        (("followup", "done"), ("followup", "missed")),
        (("followup", "attrition", EACH, "n_followed"), ("followup", "attrition", EACH, "n_missed")),
    ),
)


@dataclass(frozen=True)
class Breakdown:
    """Members of the mapping(s) at ``containers`` (paths from the top of the summary) are
    compared, for each of the ``cells`` (count paths relative to a member), for
    complementary suppression. The total of a cell is at ``container[:-1] + cell``."""

    containers: tuple[Path, ...]
    cells: tuple[Path, ...]


BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown(containers=(("groups",),), cells=COUNT_PATHS),
    Breakdown(
        containers=(("goals", "by_domain"), ("groups", EACH, "goals", "by_domain")),
        cells=(("set",), ("achieved",)),
    ),
    # the dose bands split dose.n (the paired participants) three ways
    Breakdown(
        containers=(("outcomes", EACH, "dose", "bands"), ("groups", EACH, "outcomes", EACH, "dose", "bands")),
        cells=(("n",),),
    ),
)

# Blocks the count and derived rules apply to: the top-level summary and each group.
BLOCKS: tuple[Path, ...] = ((), ("groups", EACH))


# --------------------------------------------------------------------------------------
# Structural helpers. Paths are tuples of keys; they are joined with "." only for output.

_MISSING = object()


def _expand(node: Any, pattern: Path, prefix: Path = ()) -> Iterator[tuple[Path, Path]]:
    """Every existing path matching ``pattern`` under ``node``, with the keys the wildcards
    took. Data keys are never compared with the wildcard, so a key "*" is an ordinary key."""
    if not pattern:
        yield prefix, ()
        return
    if not isinstance(node, Mapping):
        return
    head, rest = pattern[0], pattern[1:]
    if head == EACH:
        for key, child in node.items():
            for path, bound in _expand(child, rest, (*prefix, key)):
                yield path, (key, *bound)
    elif head in node:
        yield from _expand(node[head], rest, (*prefix, head))


def _bind(pattern: Path, bound: Path) -> Path:
    keys = iter(bound)
    return tuple(next(keys) if part == EACH else part for part in pattern)


def _get(node: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _set_none(node: Any, path: Path) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = None


def _dotted(path: Path) -> str:
    return ".".join(str(key) for key in path)


def _is_undefined(value: Any) -> bool:
    # Python ints and floats first (what a frame's tolist() gives): the same answers as the
    # general test below without its abstract-class checks, which cost most of a large
    # table's suppression.
    kind = type(value)
    if kind is int:
        return False
    if kind is float:
        return math.isnan(value)
    if value is None or value is _MISSING or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and math.isnan(value)


def _is_number(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return True
    if kind is float:
        return not math.isnan(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not _is_undefined(value)


def _is_small(value: Any, k: int) -> bool:
    return _is_number(value) and is_small(value, k)


def _denominator_hides(values: Sequence[Any], k: int) -> bool:
    """Whether a derived value with these denominator counts is suppressed on its own."""
    if k == 1:
        return False
    if not all(_is_number(v) for v in values):
        return True  # cannot be checked, so not shown
    return 0 < sum(values) < k


def _scores_hide(denominators: Sequence[Any], inputs: Sequence[Any], k: int) -> bool:
    """Whether a statistic of scores (a mean, SD or standardized difference of intake scores)
    over these counts is suppressed: when their sum, or any of them, is 1..k-1 (or cannot be
    checked). Not when a count is hidden only as a complement: a mean of scores gives no count
    back, and each group's mean then still rests on k or more people."""
    # each count on its own: a sum of 1..k-1 has a part of 1..k-1 too
    return any(_denominator_hides([v], k) for v in (*denominators, *inputs))


# --------------------------------------------------------------------------------------
# The summary document


def suppress_summary(summary: Mapping[str, Any], k: int = DEFAULT_K) -> dict:
    """Return a suppressed copy of the summary JSON document (the input is not changed).

    ``min_cell`` is set to k; suppressed values become ``None`` and their dotted paths are
    listed, sorted and unique, in ``"suppressed"`` (joined with any paths already there).
    Every key of the input stays, in its order; ``suppressed`` is added after ``min_cell``
    when absent.
    """
    _check_k(k)
    if not isinstance(summary, Mapping):
        raise TypeError("suppress_summary expects the summary mapping")
    doc = copy.deepcopy(dict(summary))

    blocks = [path for pattern in BLOCKS for path, _ in _expand(doc, pattern)]

    counts: dict[Path, Any] = {}
    for block_path in blocks:
        block = _get(doc, block_path)
        for pattern in COUNT_PATHS:
            for rel, _ in _expand(block, pattern):
                counts[(*block_path, *rel)] = _get(block, rel)

    # Primary suppression: counts of 1..k-1.
    hidden: set[Path] = {path for path, value in counts.items() if _is_small(value, k)}

    # Lines of the breakdowns: for each container and each count, the total's path and the
    # members' cells.
    lines: list[tuple[Path, list[tuple[Hashable, Path]]]] = []
    for breakdown in BREAKDOWNS:
        for pattern in breakdown.containers:
            for container_path, _ in _expand(doc, pattern):
                container = _get(doc, container_path)
                if not isinstance(container, Mapping):
                    continue
                by_cell: dict[Path, list[tuple[Hashable, Path]]] = {}
                for member, node in container.items():
                    for cell in breakdown.cells:
                        for rel, _ in _expand(node, cell):
                            by_cell.setdefault(rel, []).append((member, (*container_path, member, *rel)))
                lines.extend(((*container_path[:-1], *rel), cells) for rel, cells in by_cell.items())

    # Partitions inside each block: the parts form a line whose total is the count beside them
    # (a hidden total already protects its parts, so such a line needs no complement).
    partition_lines: list[tuple[Path | None, list[tuple[Hashable, Path]]]] = []
    for block_path in blocks:
        block = _get(doc, block_path)
        for total, parts in PARTITIONS:
            by_bound: dict[Path, list[tuple[Hashable, Path]]] = {}
            for part in parts:
                for rel, bound in _expand(block, part):
                    by_bound.setdefault(bound, []).append((rel[-1], (*block_path, *rel)))
            for line in by_bound.values():
                partition_lines.append(((*block_path, *total) if total is not None else None, line))

    # Nested counts of each block, as absolute paths.
    nested: list[tuple[Path, Path]] = []
    for block_path in blocks:
        block = _get(doc, block_path)
        for outer, inner in NESTED_COUNTS:
            for rel, bound in _expand(block, inner):
                outer_path = (*block_path, *_bind(outer, bound))
                if outer_path in counts:
                    nested.append((outer_path, (*block_path, *rel)))

    # Complementary suppression and nested differences, to a fixed point (see the docstring).
    changed = True
    while changed:
        changed = False
        for outer, inner in nested:
            if k <= 1 or outer in hidden or inner in hidden:
                continue
            o, i = counts.get(outer), counts.get(inner)
            if _is_number(o) and _is_number(i) and 0 < o - i < k:
                hidden.add(inner if i > 0 else outer)
                changed = True
        for block_path in blocks:
            block = _get(doc, block_path)
            for sources, followers in LINKED:
                if not any((*block_path, *src) in hidden for src in sources):
                    continue
                for pattern in followers:
                    for rel, _ in _expand(block, pattern):
                        path = (*block_path, *rel)
                        if path not in hidden and _is_number(counts.get(path)) and counts[path] > 0:
                            hidden.add(path)
                            changed = True
        for total, line in [*lines, *partition_lines]:
            if sum(path in hidden for _, path in line) != 1:
                continue
            if total in hidden and any(line is ln for _, ln in partition_lines):
                continue  # a partition whose total is hidden: the lone hidden part is safe
            candidates = [
                (counts[path], str(member), path)
                for member, path in line
                if path not in hidden and _is_number(counts.get(path)) and counts[path] > 0
            ]
            if candidates:
                hidden.add(min(candidates, key=lambda c: (c[0], c[1]))[2])
                changed = True
            elif total in counts and total not in hidden and _is_number(counts[total]) and counts[total] > 0:
                hidden.add(total)
                changed = True

    # Derived values follow their denominators and inputs.
    hidden_derived: set[Path] = set()
    for block_path in blocks:
        block = _get(doc, block_path)
        for rule in DERIVED_RULES:
            for rel, bound in _expand(block, rule.value):
                if _is_undefined(_get(block, rel)):
                    continue  # undefined stays null; nothing is being hidden
                dens = [(*block_path, *_bind(p, bound)) for p in rule.denominator]
                ins = [(*block_path, *_bind(p, bound)) for p in rule.inputs]
                if rule.scores:
                    hides = _scores_hide([_get(doc, p) for p in dens], [_get(doc, p) for p in ins], k)
                else:
                    hides = (
                        any(p in hidden for p in (*dens, *ins))
                        or _denominator_hides([_get(doc, p) for p in dens], k)
                        or (rule.share and _implied_count_small(_get(block, rel), [_get(doc, p) for p in dens], k))
                    )
                if hides:
                    hidden_derived.add((*block_path, *rel))

    # Shares splitting one denominator into classes: with every share shown, n minus the
    # classes they imply is the remaining class (no reliable change), a count too.
    for block_path in blocks:
        block = _get(doc, block_path)
        for pattern, den, shares in SHARE_PARTITIONS:
            for rel, _ in _expand(block, pattern):
                paths = [(*block_path, *rel, name) for name in shares]
                n_path = (*block_path, *rel, den)
                values = [_get(doc, p) for p in paths]
                n = _get(doc, n_path)
                if k <= 1 or n_path in hidden or any(p in hidden_derived for p in paths):
                    continue
                if not _is_number(n) or not all(_is_number(v) for v in values):
                    continue
                implied = [round(v * n) for v in values]
                if 0 < n - sum(implied) < k:
                    # hide the share of the smaller class (ties: the last), leaving a sum of two
                    smallest = min(range(len(paths)), key=lambda i: (implied[i], -i))
                    hidden_derived.add(paths[smallest])

    for path in hidden | hidden_derived:
        _set_none(doc, path)

    listed = {_dotted(p) for p in hidden | hidden_derived}
    listed.update(str(p) for p in summary.get("suppressed") or ())

    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "suppressed":
            continue
        out[key] = value
        if key == "min_cell":
            out["min_cell"] = k
            out["suppressed"] = sorted(listed)
    if "min_cell" not in out:
        out["min_cell"] = k
        out["suppressed"] = sorted(listed)
    return out


def _implied_count_small(share: Any, denominators: list[Any], k: int) -> bool:
    """Whether share x n, or (1 - share) x n, is a count of 1..k-1 (n = sum of denominators)."""
    if k <= 1 or not _is_number(share) or not all(_is_number(d) for d in denominators):
        return False
    n = sum(denominators)
    implied = round(share * n)
    return any(0 < c < k for c in (implied, n - implied))


# --------------------------------------------------------------------------------------
# Tables


def suppress_table(
    df: pd.DataFrame,
    *,
    count_cols: Sequence[str],
    derived: Mapping[str, str | Sequence[str]],
    k: int = DEFAULT_K,
    group_col: str | None = None,
    inputs: Mapping[str, Sequence[str]] | None = None,
    total_labels: Collection[Hashable] = (),
    row_totals: Mapping[str, Sequence[str]] | None = None,
    nested: Sequence[tuple[str, str]] | None = None,
    shares: Mapping[str, Sequence[str]] | None = None,
    linked: Sequence[tuple[Sequence[str], Sequence[str]]] = (),
    scores: Collection[str] = (),
) -> tuple[pd.DataFrame, list[tuple[Hashable, str]]]:
    """Suppress a table for export. Rows are the members of one breakdown.

    - ``count_cols``: count columns; a value 1..k-1 becomes ``suppressed_label(k)`` ("<11").
    - ``derived``: derived column -> denominator column, or a sequence of columns whose sum is
      the denominator (attendance_rate -> ("attended", "no_show")). The value becomes
      ``derived_label(k)`` ("n<11") when that sum is 1..k-1, when a denominator is missing in
      that row, or when one of those denominator columns is suppressed in that row.
    - ``inputs``: derived column -> other count columns it is computed from (achievement_rate
      -> ["achieved"]); it is suppressed in a row where one of them is.
    - Complementary suppression runs down each count column over the member rows: when
      exactly one is suppressed, the smallest remaining non-zero row is too (ties: the
      earlier row); when there is none, the totals rows' cells are. Zero is never
      suppressed nor used as the complement.
    - ``group_col``: the column naming the rows (site, mentor, domain, month); the returned
      row labels are its values. Without it, the index labels are used. Labels must be unique.
    - ``total_labels``: labels of totals rows (e.g. ``("Total",)``). Their counts and derived
      values are suppressed by the same thresholds, but they are margins, not members: they
      are never counted in, nor chosen as, the complement.
    - ``row_totals``: count column -> the count columns it adds up within a row
      (``n_paired`` -> improved, no change, declined; ``sessions`` -> attended, no-show).
      Complementary suppression also runs across each such row: when exactly one part is
      hidden and the total is shown, the total minus the shown parts would give it back, so
      the smallest remaining non-zero part is hidden too (none: the total). Rows and columns
      are completed in turn until neither gives a hidden cell back.
    - ``nested``: (outer, inner) count columns where inner is part of outer (pairs and
      eligible_90). Within a row, when outer - inner is 1..k-1 the inner cell is hidden, and
      the completions above run again. Default: the declared ``NESTED_COLUMNS`` the table has.
    - ``shares``: derived share columns -> the columns of their interval. A share whose implied
      count (share x denominator), or the denominator minus it, is 1..k-1 is hidden with its
      interval. Default: the declared ``SHARE_COLUMNS`` among ``derived``.
    - ``linked``: (triggers, targets) count columns: within a row, when a trigger is hidden the
      non-zero targets are hidden too (the summary's LINKED and PARTITIONS: a group's attrition
      counts go with its hidden done or missed, and with each other), and the completions
      above run again.
    - ``scores``: derived columns that are statistics of scores (intake means, their pooled SD
      and SMD): hidden when their denominator, or any of its or their ``inputs`` columns, is
      1..k-1 in that row (``_scores_hide``), not when those counts are hidden as complements.

    Returns ``(table, cells)``: a new DataFrame and the suppressed cells as
    ``(row label, column)`` in table order. Columns where nothing was suppressed keep their
    dtype. A column with a suppressed cell becomes ``object`` dtype holding the original
    numbers (not strings) plus the label strings, so ``DataFrame.to_excel`` writes numbers
    as numbers and the label as text; ``cells`` serves as the mask for any other writer.
    """
    _check_k(k)
    inputs = dict(inputs or {})
    dens_of = {col: (den,) if isinstance(den, str) else tuple(den) for col, den in derived.items()}
    wanted = [*count_cols, *derived, *(c for d in dens_of.values() for c in d)]
    wanted += [c for cols in inputs.values() for c in cols]
    if group_col is not None:
        wanted.append(group_col)
    missing = sorted({str(c) for c in wanted if c not in df.columns})
    if missing:
        raise ValueError(f"table has no column(s): {', '.join(missing)}")
    both = sorted(set(count_cols) & set(derived))
    if both:
        raise ValueError(f"column(s) both count and derived: {', '.join(both)}")
    unknown_inputs = sorted(set(inputs) - set(derived))
    if unknown_inputs:
        raise ValueError(f"inputs given for column(s) that are not derived: {', '.join(unknown_inputs)}")

    labels = list(df[group_col]) if group_col is not None else list(df.index)
    if len(set(labels)) != len(labels):
        raise ValueError("row labels must be unique to report suppressed cells")
    totals = set(total_labels)
    members = [i for i, label in enumerate(labels) if label not in totals]

    row_totals = {t: tuple(parts) for t, parts in (row_totals or {}).items()}
    for t, parts in row_totals.items():
        if t not in count_cols or not set(parts) <= set(count_cols):
            raise ValueError(f"row total {t!r} and its parts must all be count columns")

    nested = nested_columns(count_cols) if nested is None else [tuple(p) for p in nested]
    for outer, inner in nested:
        if outer not in count_cols or inner not in count_cols:
            raise ValueError(f"nested counts {outer!r} and {inner!r} must both be count columns")
    shares = share_columns(derived) if shares is None else {c: list(v) for c, v in shares.items()}
    unknown_shares = sorted(set(shares) - set(derived))
    if unknown_shares:
        raise ValueError(f"share column(s) that are not derived: {', '.join(unknown_shares)}")
    unknown_scores = sorted(set(scores) - set(derived))
    if unknown_scores:
        raise ValueError(f"score column(s) that are not derived: {', '.join(unknown_scores)}")

    hidden: set[tuple[int, str]] = set()
    values = {col: df[col].tolist() for col in count_cols}
    for col in count_cols:
        for i, value in enumerate(values[col]):
            if not _is_undefined(value) and not _is_number(value):
                raise TypeError(f"count column {col!r} holds a value that is not a number")
            if _is_small(value, k):
                hidden.add((i, col))

    def complete_column(col: str) -> bool:
        if sum((i, col) in hidden for i in members) != 1:
            return False
        column = values[col]
        candidates = [
            (column[i], i) for i in members if (i, col) not in hidden and _is_number(column[i]) and column[i] > 0
        ]
        if candidates:
            hidden.add((min(candidates)[1], col))
            return True
        # every other row is zero: the total would give the lone row back
        extra = {(i, col) for i, label in enumerate(labels)
                 if label in totals and _is_number(column[i]) and column[i] > 0} - hidden
        hidden.update(extra)
        return bool(extra)

    def complete_row(i: int, total: str, parts: tuple[str, ...]) -> bool:
        if (i, total) in hidden or sum((i, p) in hidden for p in parts) != 1:
            return False
        candidates = [
            (values[p][i], n, p) for n, p in enumerate(parts)
            if (i, p) not in hidden and _is_number(values[p][i]) and values[p][i] > 0
        ]
        if candidates:
            hidden.add((i, min(candidates)[2]))
        elif _is_number(values[total][i]) and values[total][i] > 0:
            hidden.add((i, total))
        else:
            return False
        return True

    links = [(tuple(t), tuple(x)) for t, x in linked]
    for triggers, targets in links:
        if not set(triggers) | set(targets) <= set(count_cols):
            raise ValueError(f"linked counts {triggers!r} and {targets!r} must all be count columns")

    def link(i: int, triggers: tuple[str, ...], targets: tuple[str, ...]) -> bool:
        if not any((i, t) in hidden for t in triggers):
            return False
        extra = {(i, c) for c in targets if _is_number(values[c][i]) and values[c][i] > 0} - hidden
        hidden.update(extra)
        return bool(extra)

    def nested_difference(i: int, outer: str, inner: str) -> bool:
        if k <= 1 or (i, outer) in hidden or (i, inner) in hidden:
            return False
        o, n = values[outer][i], values[inner][i]
        if _is_number(o) and _is_number(n) and 0 < o - n < k:
            hidden.add((i, inner))
            return True
        return False

    changed = True
    while changed:
        changed = False
        for col in count_cols:
            changed |= complete_column(col)
        for total, parts in row_totals.items():
            for i in range(len(labels)):
                changed |= complete_row(i, total, parts)
        for outer, inner in nested:
            for i in range(len(labels)):
                changed |= nested_difference(i, outer, inner)
        for triggers, targets in links:
            for i in range(len(labels)):
                changed |= link(i, triggers, targets)

    hidden_derived: set[tuple[int, str]] = set()
    for col, dens in dens_of.items():
        deps = (*dens, *inputs.get(col, ()))
        column = df[col].tolist()
        den_values = {c: df[c].tolist() for c in dens}
        input_values = {c: df[c].tolist() for c in inputs.get(col, ())}
        for i, value in enumerate(column):
            if _is_undefined(value):
                continue
            if col in scores:
                if _scores_hide([den_values[c][i] for c in dens], [input_values[c][i] for c in input_values], k):
                    hidden_derived.add((i, col))
                continue
            if any((i, c) in hidden for c in deps) or _denominator_hides([den_values[c][i] for c in dens], k):
                hidden_derived.add((i, col))
            elif col in shares and _implied_count_small(value, [den_values[c][i] for c in dens], k):
                hidden_derived.add((i, col))
    for col, interval in shares.items():
        for i, c in {(i, c) for i, hid in hidden_derived if hid == col for c in interval}:
            if not _is_undefined(df[c].iloc[i]):
                hidden_derived.add((i, c))

    out = df.copy()
    count_label, rate_label = suppressed_label(k), derived_label(k)
    touched: dict[str, list[tuple[int, str]]] = {}
    for i, col in sorted(hidden | hidden_derived, key=lambda c: c[0]):
        touched.setdefault(col, []).append((i, count_label if (i, col) in hidden else rate_label))
    for col, cells in touched.items():
        column = out[col].to_numpy(dtype=object, copy=True)
        column[[i for i, _ in cells]] = [text for _, text in cells]
        out[col] = column

    col_order = {c: n for n, c in enumerate(df.columns)}
    ordered = sorted(hidden | hidden_derived, key=lambda c: (c[0], col_order[c[1]]))
    return out, [(labels[i], col) for i, col in ordered]


# --------------------------------------------------------------------------------------
# Narrowed views


class ExportRefused(Exception):
    """An export would describe fewer than k pairs (or people); ``reason`` says so."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_export_allowed(n_total: int, k: int = DEFAULT_K, *, unit: str = "pairs") -> None:
    """Refuse exporting a view (one mentor, one month, one site...) covering fewer than k.

    Cell suppression alone would blank nearly every cell of such a view, and what is left
    (dates, the filter itself) can still point at the few people in it. Raises
    ``ExportRefused``; returns None when the export may go ahead. With k = 1 nothing is
    refused.
    """
    _check_k(k)
    if isinstance(n_total, bool) or not isinstance(n_total, numbers.Integral) or n_total < 0:
        raise ValueError(f"n_total must be a count >= 0, got {n_total!r}")
    if k > 1 and n_total < k:
        raise ExportRefused(
            f"this view covers fewer than {k} {unit}; exports are refused below the privacy threshold"
        )


# --------------------------------------------------------------------------------------
# Spreadsheet formula injection

# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Escape a text cell that a spreadsheet would run as a formula.

    Text starting with =, +, -, @, tab or carriage return gets a leading apostrophe, so it is
    shown as text. Anything that is not a string (int, float, numpy numbers, dates, None)
    is returned unchanged, so numbers stay numbers. A string that looks like a negative
    number ("-3") is escaped too: numbers must reach the exporter as numbers, and a text
    "-3" cannot be told apart from "-3+A1" without parsing formulas.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _safe_label(label: Any) -> Any:
    if isinstance(label, tuple):
        return tuple(safe_cell(part) for part in label)
    return safe_cell(label)


def _index_needs_escape(index: pd.Index) -> bool:
    return any(_safe_label(label) != label for label in index)


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell passed through ``safe_cell``.

    Text columns (object, string, categorical) are escaped cell by cell; numeric columns are
    left as they are. Column and index labels are escaped too, because breakdown values
    (site or mentor names) become headers in pivoted tables. Apply it last, just before
    writing.
    """
    out = df.copy()
    for pos in range(out.shape[1]):
        column = out.iloc[:, pos]
        dtype = column.dtype
        if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype):
            escaped = column.astype(object).map(safe_cell)
            if isinstance(dtype, pd.StringDtype):
                escaped = escaped.astype(dtype)
            out.isetitem(pos, escaped)
    if _index_needs_escape(out.columns):
        out.columns = out.columns.map(_safe_label)
    if _index_needs_escape(out.index):
        out.index = out.index.map(_safe_label)
    return out
