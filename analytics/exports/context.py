"""What an export says about itself: filters, period, as-of date, n and the privacy threshold.

Every chart image, table file and report carries this, so a figure pasted into a funding
application still states which pairs it describes and how small numbers were treated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from analytics import privacy
from analytics.domain.scope import Scope


def suppression_rule(k: int = privacy.DEFAULT_K) -> str:
    """The footnote every export carries (METRICS.md "Privacy threshold")."""
    if k <= 1:
        return "Small-number suppression is off (internal analysis only; not for publication)."
    return (
        f"Counts of 1-{k - 1}, and counts that would give one back, are suppressed (shown as <{k});"
        f" rates on fewer than {k} are not shown."
    )


def long_date(d: date) -> str:
    """"31 Mar 2026": unambiguous in every locale a funder may read it in."""
    return f"{d.day} {d:%b %Y}"


@dataclass(frozen=True)
class ExportContext:
    """The view an export describes.

    ``filters``: ``Filters.describe()`` ("all pairs", "Site: North; Funding stream: SOR").
    ``n``: pairs in scope of the view; below ``k`` every export of it is refused.
    """

    filters: str
    start: date
    end: date
    as_of: date
    n: int
    k: int = privacy.DEFAULT_K
    unit: str = "pairs"
    scope: Scope | None = field(default=None, compare=False, repr=False)  # for the audit trail

    @classmethod
    def from_scope(cls, scope: Scope, n: int, k: int = privacy.DEFAULT_K) -> ExportContext:
        return cls(filters=scope.filters.describe(), start=scope.start, end=scope.end,
                   as_of=scope.as_of, n=int(n), k=k, scope=scope)

    def check_allowed(self) -> None:
        """Raise privacy.ExportRefused when the view covers fewer than k pairs."""
        privacy.check_export_allowed(self.n, self.k, unit=self.unit)

    @property
    def period(self) -> str:
        return f"{long_date(self.start)} to {long_date(self.end)}"

    @property
    def n_text(self) -> str:
        # n >= k whenever an export goes ahead, so the exact figure is safe to print
        return f"{self.n:,} {self.unit} in scope"

    @property
    def footnote(self) -> str:
        return suppression_rule(self.k)

    def describe(self) -> str:
        """One line: "All pairs · 1 Jan 2026 to 31 Mar 2026 · 1,597 pairs in scope · data as of 31 Mar 2026"."""
        filters = self.filters[:1].upper() + self.filters[1:]
        return f"{filters} · {self.period} · {self.n_text} · data as of {long_date(self.as_of)}"

    def header_lines(self, title: str) -> list[tuple[str, str]]:
        """The header block of a table file, as (label, value) pairs."""
        return [
            ("Table", title),
            ("Filters", self.filters),
            ("Period", self.period),
            ("Pairs in scope", f"{self.n:,}"),
            ("Data as of", long_date(self.as_of)),
            ("Small numbers", self.footnote),
        ]
