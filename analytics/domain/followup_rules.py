"""The funder follow-up's rules, by name (METRICS.md "Funder follow-up"): which reassessment
window rules exist, the default rule and rate target, and their checks.

Kept apart from ``analytics.metrics.followup`` (the queries) so the command line can check its
arguments before pandas and the store load.
"""

from __future__ import annotations

from analytics.domain.scope import ScopeError

RULES = ("suprt", "gpra")
DEFAULT_RULE = "suprt"
DEFAULT_TARGET = 0.80
# What each rule's window is, in words (pages, the report and the docs say it the same way).
RULE_WINDOWS = {
    "suprt": "days 150-210 after intake, 180 \u00b1 30",
    "gpra": "months 5 to 8 after intake",
}
RULE_LABELS = {"suprt": "SUPRT", "gpra": "GPRA"}


def check_rule(rule: str) -> str:
    """The rule itself when it is one of RULES; ScopeError with a one-line reason otherwise."""
    if rule not in RULES:
        raise ScopeError(f"unknown follow-up rule {rule!r}; choose one of {', '.join(RULES)}")
    return rule


def check_target(target) -> float:
    """The target as a float in (0, 1]; ScopeError with a one-line reason otherwise."""
    try:
        value = float(target)
    except (TypeError, ValueError):
        raise ScopeError(f"the follow-up target must be a number between 0 and 1, got {target!r}") from None
    if not 0 < value <= 1:
        raise ScopeError(f"the follow-up target must be above 0 and at most 1, got {target!r}")
    return value
