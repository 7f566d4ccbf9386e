"""The data contract: the six tables programs export, their codebooks and the instrument registry.

Everything the load enforces is described here as data, so adding a column alias, a codebook
value or an instrument is one entry, not a code path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics.domain.instruments import Instrument, builtin

# Column kinds: how a raw text cell is typed and checked at load.
ID = "id"  # source identifier: replaced by a keyed pseudonym
TEXT = "text"  # free text such as a site name (checked for identifier-looking values)
DATE = "date"
NUMBER = "number"
CODE = "code"  # value from a codebook


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    codebook: str | None = None
    # entity of an ID column (participant, mentor, ...): the pseudonym domain
    entity: str | None = None
    aliases: tuple[str, ...] = ()
    # A planned date (a goal's target) may lie after the load; recorded dates may not.
    may_be_future: bool = False
    # Plausible range of a NUMBER column (inclusive); None means unbounded on that side.
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    key: str
    columns: tuple[Column, ...]
    # (column, referenced table) pairs that must resolve in this load or the store
    references: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _id(name: str, entity: str, required: bool = True, aliases: tuple[str, ...] = ()) -> Column:
    return Column(name, ID, required=required, entity=entity, aliases=aliases)


PARTICIPANTS = Table(
    "participants",
    key="participant_id",
    columns=(
        _id("participant_id", "participant", aliases=("client_id", "participant", "person_id")),
        Column("site", TEXT, required=True, aliases=("program_site", "site_name")),
        Column("enrolled_on", DATE, required=True, aliases=("enrollment_date", "enrolled_date", "intake_date", "enrolled")),
        Column("exited_on", DATE, aliases=("exit_date", "discharge_date")),
        Column("exit_reason", CODE, codebook="exit_reason", aliases=("discharge_reason",)),
        Column("age_band", CODE, codebook="age_band", aliases=("age_group", "age_range")),
        Column("gender", TEXT, aliases=("gender_identity", "sex")),
        Column("race_ethnicity", TEXT, aliases=("race", "ethnicity", "race_and_ethnicity")),
        Column("funding_stream", TEXT, aliases=("funding", "funding_source", "grant", "payer")),
        Column("referral_source", TEXT, aliases=("referred_by", "referral")),
    ),
)

MENTORS = Table(
    "mentors",
    key="mentor_id",
    columns=(
        _id("mentor_id", "mentor", aliases=("crss_id", "specialist_id", "peer_id", "staff_id")),
        Column("site", TEXT, required=True, aliases=("program_site", "site_name")),
        Column("supervisor", TEXT, aliases=("supervisor_name_code", "team")),
        Column("certified_on", DATE, aliases=("certification_date", "certified_date")),
    ),
)

PAIRS = Table(
    "pairs",
    key="pair_id",
    columns=(
        _id("pair_id", "pair", aliases=("match_id", "pairing_id")),
        _id("mentor_id", "mentor", aliases=("crss_id", "specialist_id", "peer_id", "staff_id")),
        _id("participant_id", "participant", aliases=("client_id", "participant", "person_id")),
        Column("matched_on", DATE, required=True, aliases=("match_date", "matched_date", "start_date")),
        Column("closed_on", DATE, aliases=("close_date", "closed_date", "end_date")),
        Column("close_reason", CODE, codebook="close_reason", aliases=("closure_reason", "end_reason")),
    ),
    references=(("mentor_id", "mentors"), ("participant_id", "participants")),
)

SESSIONS = Table(
    "sessions",
    key="session_id",
    columns=(
        _id("session_id", "session", aliases=("contact_id", "encounter_id")),
        _id("pair_id", "pair", aliases=("match_id", "pairing_id")),
        Column("session_date", DATE, required=True, aliases=("date", "contact_date", "service_date")),
        Column("status", CODE, required=True, codebook="session_status", aliases=("session_status", "attendance")),
        Column("duration_min", NUMBER, min_value=0, max_value=600, aliases=("duration", "minutes", "duration_minutes", "length_min")),
        Column("modality", CODE, codebook="modality", aliases=("contact_type", "mode")),
    ),
    references=(("pair_id", "pairs"),),
)

GOALS = Table(
    "goals",
    key="goal_id",
    columns=(
        _id("goal_id", "goal"),
        _id("pair_id", "pair", aliases=("match_id", "pairing_id")),
        Column("domain", CODE, required=True, codebook="goal_domain", aliases=("goal_domain", "dimension")),
        Column("set_on", DATE, required=True, aliases=("set_date", "goal_set_on", "created_on")),
        Column("target_on", DATE, may_be_future=True, aliases=("target_date", "due_on", "due_date")),
        Column("status", CODE, codebook="goal_status", aliases=("goal_status",)),
        Column("achieved_on", DATE, aliases=("achieved_date", "completed_on", "met_on")),
    ),
    references=(("pair_id", "pairs"),),
)

ASSESSMENTS = Table(
    "assessments",
    key="assessment_id",
    columns=(
        _id("assessment_id", "assessment"),
        _id("participant_id", "participant", aliases=("client_id", "participant", "person_id")),
        Column("instrument", CODE, required=True, codebook="instrument", aliases=("measure", "scale", "tool")),
        Column("administered_on", DATE, required=True, aliases=("assessment_date", "administered_date", "date")),
        Column("score", NUMBER, required=True, aliases=("total_score", "total")),
    ),
    references=(("participant_id", "participants"),),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (PARTICIPANTS, MENTORS, PAIRS, SESSIONS, GOALS, ASSESSMENTS)
}
# Parents before children: the order upserts and reference checks run in.
TABLE_ORDER = ["participants", "mentors", "pairs", "sessions", "goals", "assessments"]


# The instrument registry is data (analytics/domain/instruments.toml, read by
# analytics.domain.instruments): these are the built-in entries. Loads use the registry in force
# (a program's file over these) and metrics read the definitions kept in the store: iterate
# analytics.store.instruments.reported(con), not this.
INSTRUMENTS: dict[str, Instrument] = builtin()

# Codebooks: canonical values. Input is matched after normalize_name(), the rule column names follow.
CODEBOOKS: dict[str, tuple[str, ...]] = {
    "exit_reason": ("completed", "disengaged", "transferred", "incarcerated", "deceased", "other"),
    "age_band": ("18-24", "25-34", "35-44", "45-54", "55-64", "65+"),
    "close_reason": (
        "goals_met", "participant_withdrew", "lost_contact", "mentor_unavailable",
        "rematched", "program_exit", "other",
    ),
    "session_status": ("attended", "no_show", "cancelled"),
    "modality": ("in_person", "phone", "video", "text", "group"),
    "goal_domain": ("health", "home", "purpose", "community"),
    "goal_status": ("open", "achieved", "dropped"),
    "instrument": tuple(INSTRUMENTS),  # the built-in codes; a load checks the registry in force
}
# A few spellings real exports use, mapped onto the codebook (after normalize_name()).
CODE_SYNONYMS: dict[str, dict[str, str]] = {
    "session_status": {"noshow": "no_show", "no_showed": "no_show", "canceled": "cancelled", "present": "attended"},
    "modality": {"inperson": "in_person", "face_to_face": "in_person", "telephone": "phone", "sms": "text"},
    "close_reason": {"withdrew": "participant_withdrew", "lost_to_contact": "lost_contact"},
    "goal_status": {"met": "achieved", "complete": "achieved", "completed": "achieved"},
}

# Disengagement: the closure reasons that count as a retention event (METRICS.md).
DISENGAGEMENT_REASONS = ("participant_withdrew", "lost_contact")

NULL_TOKENS = ("", "na", "n/a", "null")  # compared case-insensitively after trimming

EARLIEST_DATE = "2000-01-01"

# (table, earlier, later): the later date may not come before the earlier one.
DATE_ORDER = (
    ("participants", "enrolled_on", "exited_on"),
    ("pairs", "matched_on", "closed_on"),
    ("goals", "set_on", "achieved_on"),
)
# A goal whose status is missing is open; achieved_on is present exactly when it is achieved.
GOAL_DEFAULT_STATUS = "open"
GOAL_ACHIEVED_STATUS = "achieved"

# Columns that carry direct identifiers: dropped at load, named in the report.
IDENTIFIER_COLUMN_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"^(first|last|full|middle|given|family|sur|preferred|legal|participant|client|mentor|"
        r"supervisor|contact|emergency_contact)_?name$",
        r"^name$",
        r"^(first|last|middle)$",
        r"e_?mail",
        r"phone|mobile|^cell",
        r"ssn|social_security",
        r"address|street",
        r"zip|postal|postcode",
        r"^dob$|date_of_birth|birth_?date",
        r"^mrn$|medical_record",
        r"medicaid|medicare|insurance|member_number|policy_number",
        r"^(case_)?notes?$|comments?$|narrative|free_text",
        r"driver|license_number|passport",
    )
)

# Values that look like direct identifiers inside free-text fields (a load refuses them), and in
# column names (such a column is dropped without its name being kept). Python regular
# expressions, matched case-insensitively with Unicode classes on text normalised first (NFKC,
# invisible characters removed: analytics.load.identifiers), so fullwidth digits, a fullwidth
# at-sign or look-alike letters do not hide a value. `_SEP` is what people put between digits.
_SEP = r"[\s._/\\:|~*\-\u2010-\u2015\u2212\u00b7\u2022\u2027\u2043\u2219\u22c5\u30fb\u3002]{0,3}"
_DOT = r"(?:[.\u3002\uff61]|\s*[\[(]\s*dot\s*[\])]\s*)"
IDENTIFIER_VALUE_PATTERNS: dict[str, str] = {
    "an email address": (
        rf"[\w.%+'-]+(?:@|\s*[\[(]\s*at\s*[\])]\s*)[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[^\W\d_]{{2,}}"
        # written out in words: "jane at example dot org"
        r"|[\w.+-]+\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)*\s+dot\s+(?:com|org|net|edu|gov|info|io|us|uk|ca)\b"
    ),
    "a social security number": rf"(?<!\d)\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{4}}(?!\d)",
    # a leading + or 00 and 7-15 digits (E.164), or 10-15 digits in a row with separators
    "a phone number": (
        rf"(?:\+|(?<!\d)00){_SEP}\d(?:{_SEP}[()]?{_SEP}\d){{6,14}}(?!\d)"
        rf"|(?<!\d)[(]?\d(?:{_SEP}[()]?{_SEP}\d){{9,14}}(?!\d)"
    ),
}

# Age columns turned into age_band at load and then dropped.
BIRTH_YEAR_COLUMNS = ("birth_year", "year_of_birth", "yob")
AGE_COLUMNS = ("age", "age_at_intake", "age_at_enrollment")
DOB_COLUMNS = ("dob", "date_of_birth", "birth_date", "birthdate")

_NORMALIZE_RE = re.compile(r"[\s\-]+")


def normalize_name(raw: str) -> str:
    """Column-name matching: case-insensitive, trimmed, spaces/dashes read as `_`."""
    return _NORMALIZE_RE.sub("_", raw.strip().lstrip("\ufeff").strip()).lower()


def is_identifier_column(normalized: str) -> bool:
    if normalized.endswith("_id") or normalized in BIRTH_YEAR_COLUMNS or normalized in AGE_COLUMNS:
        return False
    return any(p.search(normalized) for p in IDENTIFIER_COLUMN_PATTERNS)


def age_band_for(age: int) -> str:
    """Band an age in whole years; 65+ top-codes everything above, so no age over 89 is kept."""
    for lo, hi, band in ((18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"), (55, 64, "55-64")):
        if lo <= age <= hi:
            return band
    if age >= 65:
        return "65+"
    raise ValueError("age below 18")
