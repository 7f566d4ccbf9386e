"""Identifier-looking values (FAULTS.md 16) as properties: generated SSNs, e-mail addresses and
phone numbers in the spellings people and attackers use (dots, slashes, fullwidth digits, a
fullwidth at-sign, look-alike letters, zero-width and bidirectional characters) are all caught;
ordinary site and group names are not. Then at load level: refused, and never published."""

from __future__ import annotations

import pytest
from fixtures import load_helpers
from fixtures.load_helpers import load, refused, rows, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.load import identifiers

base_store, loaded = load_helpers.base_store, load_helpers.loaded

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202a", "\u202b", "\u202c",
             "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"]
SEPARATORS = ["-", ".", "/", " ", "", "\u2010", "\u2011", "\u2013", "\u2014", "\u2212", "\u2043", "_", " - ", ". ",
              "\\", ":", "~", "\u00a0", "\u30fb"]
DOTS = [".", "\u3002", "\uff0e", "\uff61", " (dot) ", "[dot]"]
# Cyrillic and Greek letters that look like Latin ones
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "x": "\u0445",
              "i": "\u0456", "j": "\u0458", "s": "\u0455", "y": "\u0443", "n": "\u03b7", "k": "\u03ba"}
AT_SIGNS = ["@", "\uff20", "\ufe6b", " (at) ", "[at]"]  # plain, fullwidth, small commercial at, spelt


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@st.composite
def disguised(draw, text: str) -> str:
    """`text` possibly in fullwidth forms, with invisible characters slipped in anywhere."""
    if draw(st.booleans()):
        text = fullwidth(text)
    chars = list(text)
    for _ in range(draw(st.integers(0, 4))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(INVISIBLE)))
    return "".join(chars)


@st.composite
def in_context(draw, value: str) -> str:
    before = draw(st.sampled_from(["", "SSN ", "contact: ", "call ", "(", "x "]))
    after = draw(st.sampled_from(["", " ", " (home)", ")", "."]))
    return before + value + after


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def ssns(draw) -> str:
    d = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    a, b = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(SEPARATORS))
    if draw(st.booleans()):
        b = a  # mostly written with one separator
    return draw(in_context(draw(disguised(f"{d[:3]}{a}{d[3:5]}{b}{d[5:]}"))))


@st.composite
def emails(draw) -> str:
    word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
    local = draw(word) + draw(st.sampled_from(["", ".", "_", "+", "-"])) + draw(word)
    domain = ".".join(draw(st.lists(word, min_size=1, max_size=3)))
    tld = draw(st.sampled_from(["org", "com", "net", "uk", "io", "info"]))
    if draw(st.integers(0, 5)) == 0:  # written out in words
        return draw(in_context(draw(disguised(f"{local} at {domain.replace('.', ' dot ')} dot {tld}"))))
    text = f"{local}{draw(st.sampled_from(AT_SIGNS))}{domain}{draw(st.sampled_from(DOTS))}{tld}"
    swaps = draw(st.sets(st.sampled_from(sorted(HOMOGLYPHS))))
    text = "".join(HOMOGLYPHS[ch] if ch in swaps else ch for ch in text)
    if draw(st.booleans()):
        text = text.upper()
    return draw(in_context(draw(disguised(text))))


@st.composite
def phones(draw) -> str:
    sep = st.sampled_from([" ", "-", ".", "", "\u2013", "/"])
    if draw(st.booleans()):  # international, E.164: + or 00, country code, 6-12 more digits
        code = draw(st.text(alphabet="123456789", min_size=1, max_size=3))
        rest = draw(st.text(alphabet="0123456789", min_size=6, max_size=12))
        groups, i = [], 0
        while i < len(rest):
            n = draw(st.integers(2, 4))
            groups.append(rest[i:i + n])
            i += n
        s = draw(sep)
        text = draw(st.sampled_from(["+", "00", "+ "])) + code + s + s.join(groups)
    else:  # North American: (555) 867-5309, 555.867.5309, 1-555-867-5309
        d = draw(st.text(alphabet="0123456789", min_size=10, max_size=10))
        area = f"({d[:3]}) " if draw(st.booleans()) else d[:3] + draw(sep)
        text = draw(st.sampled_from(["", "1-", "+1 "])) + area + d[3:6] + draw(sep) + d[6:]
    return draw(in_context(draw(disguised(text))))


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(ssns())
def test_every_spelling_of_an_ssn_is_caught(value):
    assert identifiers.kind_of(value) == "a social security number", ascii(value)


@PROPERTY
@given(emails())
def test_every_spelling_of_an_email_address_is_caught(value):
    assert identifiers.kind_of(value) == "an email address", ascii(value)


@PROPERTY
@given(phones())
def test_every_spelling_of_a_phone_number_is_caught(value):
    # A few international numbers are also SSN-shaped; either way the value is refused.
    assert identifiers.kind_of(value) in ("a phone number", "a social security number"), ascii(value)


names = st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'&", min_size=1, max_size=10),
                 min_size=1, max_size=4).map(" ".join)


@PROPERTY
@given(names, st.one_of(st.just(""), st.integers(0, 9999).map(lambda n: f" {n}"),
                        st.integers(2000, 2030).map(lambda y: f" {y}-{y + 1}"), st.just(" 18-24")))
def test_ordinary_names_and_short_numbers_are_not_identifiers(name, number):
    assert identifiers.kind_of(name + number) is None, name + number


@PROPERTY
@given(names, st.lists(st.sampled_from(INVISIBLE), max_size=4), st.integers(0, 100))
def test_invisible_characters_do_not_make_a_name_new(name, hidden, at):
    at = at % (len(name) + 1)
    disguised_name = name[:at] + "".join(hidden) + name[at:]
    assert identifiers.clean(disguised_name) == identifiers.clean(name)
    assert identifiers.clean(identifiers.clean(disguised_name)) == identifiers.clean(disguised_name)


def test_compatibility_forms_become_plain():
    assert identifiers.clean(fullwidth("North")) == "North"
    assert identifiers.clean("  North\u00a0Clinic ") == "North Clinic"  # a no-break space is a space
    assert identifiers.clean("Team\nC") == "Team\nC"
    assert identifiers.clean("\u200b\u202e") == ""


# ---------------------------------------------------------------------------------------------
# At load level


def _participants(tmp_path, column: str, value: str):
    text = (f"participant_id,site,enrolled_on,{column}\nP9,North,2025-01-01,White\n"
            f"P10,North,2025-01-01,{value}\n")
    return [write(tmp_path / "in", "participants.csv", text.encode("utf-8"))]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("123.45.6789", "a social security number"), ("123/45/6789", "a social security number"),
     (fullwidth("123-45-6789"), "a social security number"), ("1\u200b23-45-67\u200d89", "a social security number"),
     ("+44 20 7946 0958", "a phone number"), ("0033 1 23 45 67 89", "a phone number"),
     ("jane@ex\u0430mple.org", "an email address"), ("jane\uff20example.org", "an email address")],
)
def test_disguised_identifiers_are_refused_before_they_become_group_names(loaded, tmp_path, value, kind):
    # `summary --by race_ethnicity` printed "123.45.6789" as a group.
    refused(_participants(tmp_path, "race_ethnicity", value), loaded,
            "participants.csv row 3, column race_ethnicity", f"looks like {kind}", secrets=(value,))


def test_site_names_differing_only_by_invisible_characters_are_one_site(loaded, tmp_path):
    text = ("participant_id,site,enrolled_on,gender\nP9,North,2025-01-01,woman\n"
            "P10,Nor\u200bth,2025-01-01,woman\nP11,\u202eNorth\u202c,2025-01-01,woman\n"
            f"P12,{fullwidth('North')},2025-01-01,woman\n")
    load([write(tmp_path / "in", "participants.csv", text.encode("utf-8"))], loaded)
    sites = rows(loaded, "select distinct site from participants where participant_id in "
                         "(select participant_id from participants) order by 1")
    assert sites == [("North",), ("South",)]


def test_rows_are_still_named_right_after_text_is_normalised(loaded, tmp_path):
    text = ("participant_id,site,enrolled_on\nP9,Nor\u200bth,2025-01-01\nP10,North,2025-13-01\n")
    refused([write(tmp_path / "in", "participants.csv", text.encode("utf-8"))], loaded,
            "participants.csv row 3, column enrolled_on")
