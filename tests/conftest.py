"""Shared fixtures. The tiny program's store is built once per session from tests/tiny_program.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import tiny_followup  # noqa: E402
import tiny_program  # noqa: E402
from _analysis import analysis_cursor  # noqa: E402

from analytics import store  # noqa: E402
from analytics.store import views  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _private_audit_and_roles(tmp_path_factory):
    """Tests write their audit trail to a temporary file, never the repository's data/, and
    see no roles file unless they write one (a developer's own config stays out of them).
    Set for the whole session, so servers started by the browser tests inherit it."""
    from analytics.domain import access as auth
    from analytics.store import audit

    folder = tmp_path_factory.mktemp("audit")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(audit.AUDIT_ENV, str(folder / "audit.jsonl"))
        mp.setenv(auth.ROLES_ENV, str(folder / "no-roles.toml"))
        yield


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    """A store holding the tiny hand-made program (see tests/tiny_program.py)."""
    return tiny_program.build(tmp_path_factory.mktemp("tiny") / "tiny.duckdb")


@pytest.fixture()
def tiny_con(tiny_store):
    """A read-only analysis cursor (views built) on the tiny store."""
    with analysis_cursor(tiny_store) as cur:
        yield cur


@pytest.fixture(scope="session")
def tiny_followup_store(tmp_path_factory) -> Path:
    """A store holding the follow-up windows program (see tests/tiny_followup.py)."""
    return tiny_followup.build(tmp_path_factory.mktemp("tiny_followup") / "followup.duckdb")


@pytest.fixture()
def tiny_followup_con(tiny_followup_store):
    """A read-only analysis cursor (views built) on the follow-up store."""
    with analysis_cursor(tiny_followup_store) as cur:
        yield cur


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """A seeded synthetic program (600 participants) loaded through the real load path."""
    from analytics.demo import build_demo_store

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_store(path, participants=600, seed=11)
    return path


@pytest.fixture()
def demo_con(demo_store):
    con = store.connect_read(demo_store)
    cur = views.analysis_connection(con)
    yield cur
    cur.close()
    con.close()
