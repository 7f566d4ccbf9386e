"""Keyed pseudonyms for source identifiers.

Every `*_id` value of an export is replaced at load by HMAC-SHA256(key, "entity:source id"),
shown as a short entity prefix and the first 20 hex digits. The same source ID with the same key
always gives the same pseudonym, so later loads line up with earlier ones; without the key a
pseudonym cannot be traced back to the source ID by trying likely IDs.

The load computes the HMAC in SQL (see `hmac_pads`), because a Python loop over millions of IDs
would dominate the load; `pseudonym` here is the reference the SQL is tested against.

Nothing in the store or the app maps a pseudonym back to its source ID. The only way back is
`python -m analytics relink` (analytics/cli/relink.py): the program computes the pseudonyms of
its own roster's IDs with its key, on its own machine.

This is pseudonymization, not HIPAA Safe Harbor de-identification: dates and small groups can
still single people out, which is why exports go through small-cell suppression.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tomllib
from pathlib import Path

from analytics.domain.paths import PROJECT_ROOT

KEY_ENV = "OUTCOMES_PSEUDONYM_KEY"
# Streamlit's secrets file, read with tomllib so the analytics core never imports Streamlit.
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"

# The synthetic demo store's key. It is published here on purpose and protects nothing: the demo
# holds no real people. Real programs must set their own key (see MissingKey).
DEMO_KEY = b"peer-outcomes-demo-key:not-a-secret:synthetic-data-only"

# Characters trimmed from a source ID before hashing (the SQL trims the same set).
ID_TRIM = " \t\r\n"

HEX_DIGITS = 20  # 80 bits: collisions are negligible even at tens of millions of IDs

ENTITY_PREFIX = {
    "participant": "pt",
    "mentor": "mn",
    "pair": "pr",
    "session": "ss",
    "goal": "gl",
    "assessment": "as",
}

# Below this length a key is easy to guess; loads say so in their report.
RECOMMENDED_KEY_BYTES = 32

_HOW_TO_SET = (
    f"set the environment variable {KEY_ENV} to a long random secret "
    f"(for example the output of: python -c \"import secrets; print(secrets.token_urlsafe(32))\"), "
    f"or put {KEY_ENV} = \"...\" in .streamlit/secrets.toml; keep it safe: "
    "the same key must be used for every load into a store"
)


class MissingKey(Exception):
    """No pseudonym key is configured; loads refuse to run without one."""


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _from_secrets(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MissingKey(f"cannot read {path.name} ({type(exc).__name__}): {_HOW_TO_SET}") from None
    value = data.get(KEY_ENV)
    return value if isinstance(value, str) else None


def load_key(explicit: bytes | str | None = None) -> bytes:
    """The pseudonym key: explicit, else the environment, else Streamlit's secrets file."""
    for candidate in (explicit, os.environ.get(KEY_ENV), _from_secrets(SECRETS_PATH)):
        if candidate is not None and len(candidate) > 0:
            return _as_bytes(candidate)
    raise MissingKey(f"no pseudonym key: {_HOW_TO_SET}")


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(ipad, opad) of HMAC-SHA256 (RFC 2104) for key, to bind as BLOB parameters in SQL."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    k = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def prefix(entity: str) -> str:
    try:
        return ENTITY_PREFIX[entity] + "_"
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}; known: {', '.join(ENTITY_PREFIX)}") from None


def pseudonym(entity: str, source_id: str, key: bytes) -> str:
    """Reference implementation of the pseudonym the load computes in SQL."""
    message = f"{entity}:{source_id.strip(ID_TRIM)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    return prefix(entity) + digest[:HEX_DIGITS]


def key_fingerprint(key: bytes) -> str:
    """A one-way check value kept in the store, so a load with another key can be refused."""
    return "hmac-sha256:" + hmac.new(key, b"outcomes key check", hashlib.sha256).hexdigest()[:16]
