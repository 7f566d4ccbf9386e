"""Arguments more than one command takes, checked without loading pandas or the store (a
command's start-up time counts for scripted use, and `report` starts its browser first)."""

from __future__ import annotations

from analytics.cli import UsageError
from analytics.domain.followup_rules import DEFAULT_RULE, DEFAULT_TARGET, RULES, check_rule, check_target
from analytics.domain.scope import ScopeError


def add_followup_arguments(p) -> None:
    """--followup-rule and --followup-target (shared with `report`); checked in `followup_settings`."""
    p.add_argument("--followup-rule", dest="followup_rule", default=DEFAULT_RULE,
                   help=f"reassessment window rule: {' or '.join(RULES)} (default {DEFAULT_RULE})")
    p.add_argument("--followup-target", dest="followup_target", default=str(DEFAULT_TARGET),
                   help=f"follow-up rate target, above 0 and at most 1 (default {DEFAULT_TARGET})")


def followup_settings(args) -> tuple[str, float]:
    """The checked (rule, target) of the command line; a bad value is a one-line UsageError."""
    try:
        return check_rule(args.followup_rule), check_target(args.followup_target)
    except ScopeError as exc:
        raise UsageError(str(exc)) from None
