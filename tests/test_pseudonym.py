"""Keyed pseudonyms: the SQL HMAC equals Python's, keys come from the right place, and a store
refuses a load made with another key."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest
from fixtures.load_helpers import KEY, load, write_program
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.load import LoadError
from analytics.load.sqltext import Frag, Params
from analytics.load.validate import hmac_sql
from analytics.store import pseudonym


def _sql_pseudonyms(entity: str, ids: list[str], key: bytes) -> list[str]:
    ipad, opad = pseudonym.hmac_pads(key)
    params = Params(ipad=ipad, opad=opad, hexn=pseudonym.HEX_DIGITS)
    expr = hmac_sql(Frag("trim(v, $ws)"), entity, params)
    params.values["ws"] = pseudonym.ID_TRIM
    con = duckdb.connect()
    con.execute("create table ids (i integer, v varchar)")
    con.executemany("insert into ids values (?, ?)", list(enumerate(ids)))
    sql = "select " + expr + " from ids order by i"
    return [r[0] for r in con.execute(sql, params.used_in(sql)).fetchall()]


def test_reference_is_hmac_sha256_truncated():
    expected = hmac.new(KEY, b"participant:P001", hashlib.sha256).hexdigest()[:20]
    assert pseudonym.pseudonym("participant", "  P001\t", KEY) == "pt_" + expected


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(st.text(min_size=1, max_size=40).filter(lambda s: s.strip(pseudonym.ID_TRIM)), min_size=1, max_size=30),
    key=st.binary(min_size=1, max_size=130),  # keys longer than a block are hashed first
    entity=st.sampled_from(sorted(pseudonym.ENTITY_PREFIX)),
)
def test_sql_equals_python(ids, key, entity):
    ids = [i.replace("\x00", "") or "x" for i in ids]
    assert _sql_pseudonyms(entity, ids, key) == [pseudonym.pseudonym(entity, i, key) for i in ids]


def test_same_id_other_entity_or_key_differs():
    a = pseudonym.pseudonym("participant", "1001", KEY)
    assert a == pseudonym.pseudonym("participant", "1001", KEY)
    assert a[3:] != pseudonym.pseudonym("mentor", "1001", KEY)[3:]
    assert a != pseudonym.pseudonym("participant", "1001", KEY + b"x")


def test_load_key_precedence(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('OUTCOMES_PSEUDONYM_KEY = "from-secrets"\n')
    monkeypatch.setattr(pseudonym, "SECRETS_PATH", secrets)
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    assert pseudonym.load_key() == b"from-secrets"
    monkeypatch.setenv(pseudonym.KEY_ENV, "from-env")
    assert pseudonym.load_key() == b"from-env"
    assert pseudonym.load_key("explicit") == b"explicit"
    assert pseudonym.load_key(b"raw") == b"raw"


def test_missing_key_says_how_to_set_it(monkeypatch, tmp_path):
    monkeypatch.setattr(pseudonym, "SECRETS_PATH", tmp_path / "none.toml")
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    with pytest.raises(pseudonym.MissingKey) as info:
        pseudonym.load_key()
    assert pseudonym.KEY_ENV in str(info.value) and "secrets.toml" in str(info.value)


def test_fingerprint_is_one_way_and_key_specific():
    fp = pseudonym.key_fingerprint(KEY)
    assert fp == pseudonym.key_fingerprint(KEY) != pseudonym.key_fingerprint(b"other")
    assert KEY.decode() not in fp


def test_demo_key_is_fixed():
    assert pseudonym.DEMO_KEY == b"peer-outcomes-demo-key:not-a-secret:synthetic-data-only"


def test_load_with_another_key_is_refused(tmp_path):
    db = tmp_path / "s.duckdb"
    load(write_program(tmp_path / "a"), db)
    with pytest.raises(LoadError, match="different key"):
        load(write_program(tmp_path / "a"), db, key=b"another-key-another-key-another-key")


def test_demo_store_refuses_real_key(tmp_path):
    db = tmp_path / "s.duckdb"
    load(write_program(tmp_path / "a"), db, key=pseudonym.DEMO_KEY, meta={"is_demo": "true"})
    with pytest.raises(LoadError, match="demo"):
        load(write_program(tmp_path / "a"), db)
