"""Plain sentences about the funder follow-up rate and its attrition table, shared by the
Follow-up page and the grant report (so both say it the same way).

Inputs are the `followup` block of the summary (or one row of `followup_counts` /
`followup_attrition`): a hidden value is None/NaN and the sentence then says so instead of
guessing. Numbers print by the one format rule (analytics.domain.numbers: percentages with one
decimal, rounded half up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.domain.numbers import DEFAULT_K, MINUS, count, fixed, percent
from analytics.domain.numbers import finite_or_none as _num
from analytics.metrics.followup import RULE_LABELS, RULE_WINDOWS
from analytics.present import sentences as narrative

# Cohen's conventions for a standardized mean difference (|d| < 0.2 small, 0.5 medium).
SMD_LITTLE = 0.2
SMD_LARGE = 0.5


def rule_text(rule: str) -> str:
    """"SUPRT window, days 150-210 after intake, 180 ± 30"."""
    return f"{RULE_LABELS[rule]} window, {RULE_WINDOWS[rule]}"


def rate_sentence(block: Mapping[str, Any], *, as_of: Any, k: int = DEFAULT_K) -> str:
    """The follow-up rate against the target, with the counts it rests on, in one sentence."""
    rule, target = block["rule"], block["target"]
    window = f"{RULE_LABELS[rule]} follow-up window ({RULE_WINDOWS[rule]})"
    due, done, rate = _num(block.get("due")), _num(block.get("done")), _num(block.get("rate"))
    day = narrative.period_text(None, as_of).removeprefix("up to ")
    if due == 0:
        return f"No participant's {window} had closed by {day}, so there is no follow-up rate yet."
    if due is None or done is None or rate is None:
        return (f"Follow-up rate, {window}: too few to report (fewer than {k} participants due or reassessed "
                f"by {day}).")
    verdict = "meeting" if rate >= target else "below"
    text = (
        f"Of {count(due)} participants whose {window} closed by {day}, "
        f"{count(done)} were reassessed inside it: a follow-up rate of {percent(rate)}, "
        f"{verdict} the {percent(target)} target."
    )
    excused = _num(block.get("excused"))
    if excused:
        text += f" {count(excused)} more left the program before or during their window and are not counted."
    return text


def smd_meaning(smd: Any) -> str:
    """What an SMD of reassessed minus missed intake scores says, in words."""
    v = _num(smd)
    if v is None:
        return "not computed (fewer than two participants on one side)"
    size = abs(v)
    if size < SMD_LITTLE:
        return "little difference at intake"
    side = "higher" if v > 0 else "lower"
    amount = "a large difference" if size >= SMD_LARGE else "some difference"
    return f"{amount}: those reassessed scored {side} at intake"


def attrition_sentence(
    rows: list[Mapping[str, Any]], *, k: int = DEFAULT_K, registry: Mapping[str, Any] | None = None
) -> str:
    """One sentence over the attrition rows (instrument, smd, ...): are completers different?
    ``registry``: the store's instrument definitions, for the instrument's name."""
    readable = [(r["instrument"], _num(r.get("smd"))) for r in rows]
    known = [(code, v) for code, v in readable if v is not None]
    if not known:
        return ("Whether participants reassessed differed at intake from those missed cannot be told yet "
                f"(each side needs at least two participants with an intake score, and {k} or more to be shown).")
    worst_code, worst = max(known, key=lambda cv: abs(cv[1]))
    if abs(worst) < SMD_LITTLE:
        return ("Participants reassessed and those missed started out alike (every standardized difference in "
                f"intake scores is below {SMD_LITTLE}), so the change measured on those reassessed is unlikely to "
                "be biased by who was missed.")
    name = narrative.instrument_name(worst_code, (registry or {}).get(worst_code))
    return (f"On {name}, participants reassessed and those missed differed at intake (standardized difference "
            f"{fixed(worst, 2, minus=MINUS, grouping=False)}): {smd_meaning(worst)}, so change measured only "
            "on those reassessed may not hold for everyone.")
