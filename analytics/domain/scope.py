"""The time frame and filters every metric is computed over (METRICS.md "Time frame"): names
and types only. The SQL that applies them is in ``analytics.metrics.scope``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta

# Dimensions a comparison may group by, and filters may narrow (METRICS.md "Cohort comparison").
DIMENSIONS = (
    "site",
    "supervisor",
    "mentor",
    "funding_stream",
    "match_quarter",
    "age_band",
    "gender",
    "race_ethnicity",
)
DIMENSION_LABELS = {
    "site": "Site",
    "supervisor": "Supervisor",
    "mentor": "Mentor",
    "funding_stream": "Funding stream",
    "match_quarter": "Match quarter",
    "age_band": "Age band",
    "gender": "Gender",
    "race_ethnicity": "Race/ethnicity",
}
# The label a missing dimension value gets, so such pairs are counted, not dropped.
MISSING_LABEL = "(not recorded)"
ALL_GROUP = "all"


class ScopeError(ValueError):
    """A period or filter that cannot be computed (e.g. end after as-of)."""


@dataclass(frozen=True)
class Filters:
    """Each field: the values kept (empty = no filter). Hashable, so it can key caches."""

    site: tuple[str, ...] = ()
    funding_stream: tuple[str, ...] = ()
    supervisor: tuple[str, ...] = ()
    mentor: tuple[str, ...] = ()
    match_quarter: tuple[str, ...] = ()
    age_band: tuple[str, ...] = ()
    gender: tuple[str, ...] = ()
    race_ethnicity: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, mapping: dict | None) -> Filters:
        if not mapping:
            return cls()
        unknown = set(mapping) - set(DIMENSIONS)
        if unknown:
            raise ScopeError(f"unknown filter: {', '.join(sorted(unknown))}")
        values = {}
        for key, val in mapping.items():
            if val is None:
                continue
            if isinstance(val, str):
                val = (val,)
            values[key] = tuple(sorted(str(v) for v in val))
        return cls(**values)

    def active(self) -> dict[str, tuple[str, ...]]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}

    def describe(self) -> str:
        parts = [f"{DIMENSION_LABELS[k]}: {', '.join(v)}" for k, v in self.active().items()]
        return "; ".join(parts) if parts else "all pairs"


@dataclass(frozen=True)
class Scope:
    as_of: date
    start: date
    end: date
    filters: Filters = field(default_factory=Filters)
    by: str | None = None

    def grouped(self, by: str | None) -> Scope:
        if by is not None and by not in DIMENSIONS:
            raise ScopeError(f"unknown dimension {by!r}; choose one of {', '.join(DIMENSIONS)}")
        return dataclasses.replace(self, by=by)

    def shifted_back(self) -> Scope:
        """The previous period of the same length, ending the day before this one starts."""
        length = (self.end - self.start).days + 1
        end = self.start - timedelta(days=1)
        return dataclasses.replace(self, start=end - timedelta(days=length - 1), end=end)

    def params(self) -> dict:
        f = self.filters
        return {
            "as_of": self.as_of,
            "start": self.start,
            "end": self.end,
            "by": self.by,
            "f_site": list(f.site) or None,
            "f_funding_stream": list(f.funding_stream) or None,
            "f_supervisor": list(f.supervisor) or None,
            "f_mentor": list(f.mentor) or None,
            "f_match_quarter": list(f.match_quarter) or None,
            "f_age_band": list(f.age_band) or None,
            "f_gender": list(f.gender) or None,
            "f_race_ethnicity": list(f.race_ethnicity) or None,
        }
