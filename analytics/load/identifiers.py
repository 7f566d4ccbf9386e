"""Identifier-looking text: normalised first, then matched (FAULTS.md 16).

A value is read the way a person would read it: Unicode NFKC (fullwidth digits and at-signs,
ligatures and other compatibility forms become their plain forms), with invisible format
characters (zero-width spaces and joiners, bidirectional controls, soft hyphens, byte-order
marks) removed. The patterns in
contract.IDENTIFIER_VALUE_PATTERNS are then matched with Unicode classes, so an e-mail address
whose letters are Cyrillic look-alikes, an SSN written with dots, slashes or spaces, and an
international phone number are all caught.

The same normal form is what a load stores for free text (`clean`), so two site names that
differ only by invisible characters or compatibility forms are one site.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from analytics.domain import contract

# Invisible characters that are not of category Cf but draw nothing either.
_BLANKS = "\u115f\u1160\u3164\uffa0\u2800\u180e"


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) != "Cf" and ch not in _BLANKS


def clean(text: str) -> str:
    """NFKC, invisible characters removed, trimmed (line breaks inside a quoted value stay)."""
    if text.isascii():
        return text.strip()
    out = unicodedata.normalize("NFKC", text)
    out = "".join(ch for ch in out if _visible(ch))
    out = unicodedata.normalize("NFKC", out)  # removing a joiner can leave a new composable pair
    return out.strip()


# Letters of other scripts drawn like Latin ones (Unicode's confusables, the common part), read
# as their Latin look-alike for matching only: "jаne@exаmple.org" with Cyrillic a is an address.
_LOOK_ALIKES = str.maketrans({
    **dict(zip("аеорсухіјѕԁһԛԝкмнтвгл", "aeopcyxijsdhqwkmhtbrn", strict=True)),
    **dict(zip("АЕОРСУХІЈЅКМНТВ", "AEOPCYXIJSKMHTB", strict=True)),
    **dict(zip("αορειкντυχηβ", "aopeiknvuxnb", strict=True)),
    **dict(zip("ΑΒΕΗΙΚΜΝΟΡΤΥΧΖ", "ABEHIKMNOPTYXZ", strict=True)),
})


def skeleton(text: str) -> str:
    """The normal form with look-alike letters read as Latin ones (for matching, never stored)."""
    return clean(text).translate(_LOOK_ALIKES)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in contract.IDENTIFIER_VALUE_PATTERNS.items())


def kind_of(text: str | None) -> str | None:
    """What direct identifier the text looks like ("an email address", ...), or None."""
    if not text:
        return None
    normal = skeleton(text)
    for kind, pattern in _compiled():
        if pattern.search(normal):
            return kind
    return None


def looks_like_identifier(text: str | None) -> bool:
    return kind_of(text) is not None
