"""The DuckDB store: schema, migrations, connections and the build-and-swap writer.

Writes never touch the live file. A writer copies the store to a temporary file beside it,
changes the copy inside one transaction, checkpoints, and `os.replace`s it over the live file.
Readers holding the old file keep a consistent snapshot; a killed or failed
write leaves the live file exactly as it was (27, 28); a file lock serializes writers (30).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analytics.domain.paths import PROJECT_ROOT
from analytics.store.sqlfiles import store_query, store_sql

DEFAULT_DB = PROJECT_ROOT / "data" / "outcomes.duckdb"

SCHEMA_VERSION = 3
STORE_MODE = 0o600  # the store file: read and written by its owner only


class StoreBusy(RuntimeError):
    """Another load holds the write lock."""


class StoreError(RuntimeError):
    """The store could not be written; it is unchanged."""


class StoreDamaged(StoreError):
    """The store file cannot be read: truncated, corrupted, or not a DuckDB store at all."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(
            f"the store {Path(path).name} cannot be read: it is damaged or not a store of this dashboard "
            "(truncated, corrupted, or another kind of file). Restore it from a backup, or load the "
            "program's exports into a new store"
        )
        self.path = Path(path)


# How DuckDB reports a file it cannot read as a database (as opposed to a mistake in a query).
_DAMAGE_SIGNS = ("not a valid duckdb database", "could not read enough bytes", "corrupt", "checksum",
                 "the database file", "serialization", "invalid block", "failed to read")


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says the file itself is unreadable."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and (
        isinstance(exc, duckdb.IOException | duckdb.SerializationException)
        or any(sign in text for sign in _DAMAGE_SIGNS)
    )


@contextlib.contextmanager
def reading(path: str | os.PathLike | None = None) -> Iterator[None]:
    """Turn DuckDB's errors about an unreadable file into one StoreDamaged (other errors pass)."""
    try:
        yield
    except duckdb.Error as exc:
        if is_damage(exc):
            raise StoreDamaged(db_path(path)) from None
        raise


# The tables every store of this dashboard has (the marts are rebuilt from them on each write).
CORE_TABLES = ("schema_meta", "participants", "mentors", "pairs", "sessions", "goals", "assessments",
               "load_audit", "load_audit_tables", "dq_findings")


def probe(con: duckdb.DuckDBPyConnection, thorough: bool = False) -> None:
    """Read the schema and count every core table: a damaged file fails here, not halfway through
    a page. `thorough` reads every value too (a checksum error in a data block shows only then)."""
    present = {t for (t,) in con.execute(store_query("main_tables")).fetchall()}
    if "schema_meta" not in present:
        raise duckdb.IOException("not a valid DuckDB database of this dashboard: no schema_meta")
    for table in CORE_TABLES:
        if table in present:
            rel = con.table(table)
            rel.aggregate("sum(hash(COLUMNS(*)))" if thorough else "count(*)").fetchall()


def is_damaged(path: str | os.PathLike | None = None, *, thorough: bool = False) -> bool:
    """Whether the store file exists and cannot be read (`thorough`: every value read)."""
    p = db_path(path)
    if not p.exists():
        return False
    try:
        con = connect_read(p)
        try:
            if thorough:
                with reading(p):
                    probe(con, thorough=True)
        finally:
            con.close()
    except StoreDamaged:
        return True
    return False


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The store path: the argument, else `OUTCOMES_DB`, else data/outcomes.duckdb."""
    if path:
        return Path(path)
    env = os.environ.get("OUTCOMES_DB")
    return Path(env) if env else DEFAULT_DB


def _instrument_definitions(con: duckdb.DuckDBPyConnection) -> None:
    from analytics.store import instruments

    instruments.seed_builtin(con)


# Each migration is (version it produces, statements). A statement is the SQL text of a file of
# sql/schema/, or a function of the connection for a step that needs data from Python. Version 1
# is the initial schema; version 2 keeps the instrument definitions each load used
# (analytics.store.instruments); version 3 records a load's mapping profile.
MIGRATIONS: list[tuple[int, list[str | Callable[[duckdb.DuckDBPyConnection], None]]]] = [
    (1, [store_sql("schema", "v1")]),
    (2, [_instrument_definitions]),
    (3, [store_sql("schema", "v3")]),
]


def one_row(result: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of an executed statement's result (None: it has none), the result read to
    its end. DuckDB 2.0 keeps a result that a fetchone has not read past open on its connection
    or cursor, and a register() on it then fails ("connection has an unfinished result"); the
    dashboard hands its cursors on from call to call, so no code here calls fetchone."""
    rows = result.fetchall()
    return rows[0] if rows else None


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = one_row(con.execute(store_query("has_schema_meta")))[0]
    if not exists:
        return 0
    row = one_row(con.execute(store_query("schema_version")))
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema up to SCHEMA_VERSION; returns the version reached."""
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store was not changed: it has schema version {version}, newer than version "
            f"{SCHEMA_VERSION} that this version of the dashboard knows; update the dashboard before "
            "loading into it"
        )
    for target, statements in MIGRATIONS:
        if target <= version:
            continue
        for sql in statements:
            if callable(sql):
                sql(con)
            else:
                con.execute(sql)
        set_meta(con, "schema_version", str(target))
        version = target
    return version


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = one_row(con.execute(store_query("meta_get"), [key]))
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(store_query("meta_set"), [key, value])


@dataclass(frozen=True)
class StoreStamp:
    """Identifies one version of the store file; changes whenever a load swaps it."""

    path: str
    inode: int
    mtime_ns: int
    size: int


def stamp(path: str | os.PathLike | None = None) -> StoreStamp | None:
    p = db_path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return None
    return StoreStamp(str(p.resolve()), st.st_ino, st.st_mtime_ns, st.st_size)


STORE_ALIAS = "store"


def connect_read(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the store file as it is now.

    DuckDB shares one database instance per file path inside a process, so a plain
    `duckdb.connect(path)` made while an older connection is open would return the file that a
    load has since replaced. Attaching the file to a fresh in-memory database opens the current
    file every time. Callers keep a connection only while `stamp()` is unchanged.
    """
    p = db_path(path)
    if not p.exists():
        raise FileNotFoundError(f"no store at {p.name}: load exports or build the demo first")
    con = duckdb.connect(":memory:")
    try:
        with reading(p):
            con.execute(store_query("attach_store"), [str(p)])
            use_store(con)
            probe(con)
    except BaseException:
        con.close()
        raise
    return con


def use_store(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Make the attached store the default catalog of this connection or cursor (cursors do not
    inherit it). A connection opened on the file directly is left as it is."""
    attached = one_row(con.execute(store_query("is_attached"), [STORE_ALIAS]))[0]
    if attached:
        con.execute("use store")
    return con


@contextlib.contextmanager
def write_lock(path: str | os.PathLike | None = None, wait_s: float = 0.0) -> Iterator[None]:
    """Serialize writers of one store: wait up to wait_s, then StoreBusy."""
    p = db_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    lock_path = p.with_name(p.name + ".lock")
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        "busy: another load is writing this store; try again when it finishes"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _plain_cause(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left" in text:
        return "the disk is full"
    if isinstance(exc, MemoryError) or "Out of Memory" in text or "out of memory" in text:
        return "the machine ran out of memory"
    return type(exc).__name__


def bring_up_to_date(path: str | os.PathLike | None = None, wait_s: float = 0.0) -> None:
    """Migrate a store written by an older release and rebuild its marts: one write through
    swap_writer, swapped in like a load; the tables' rows are not changed."""
    with swap_writer(path, wait_s=wait_s):
        pass


@contextlib.contextmanager
def swap_writer(
    path: str | os.PathLike | None = None, wait_s: float = 0.0, *, replace_damaged: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a read-write connection to a copy of the store; swap it in on success.

    The copy is migrated first. On any exception the copy is deleted and the live store is
    untouched; the exception propagates (disk-full and out-of-memory become StoreError with
    the cause said plainly). A store that cannot be read is refused (StoreDamaged); with
    `replace_damaged` (the Data page's load into a damaged store) a new store is built instead,
    and the damaged file is kept beside it as `<name>.damaged` when the new one is swapped in.
    """
    # A store path that is a symbolic link keeps being one: the file it points to is swapped
    # (beside itself, so the rename stays on one file system), never the link.
    p = Path(os.path.realpath(db_path(path)))
    with write_lock(p, wait_s=wait_s):
        tmp = p.with_name(f".{p.name}.tmp{os.getpid()}")
        # Holding the lock, no other writer is alive: any copy left here is from a killed load.
        for leftover in p.parent.glob(f".{p.name}.tmp*"):
            leftover.unlink(missing_ok=True)
        con = None
        fresh = False
        if is_damaged(p, thorough=replace_damaged):
            if not replace_damaged:
                raise StoreDamaged(p)
            fresh = True
        try:
            if p.exists() and not fresh:
                # A new file of mode 0600 first, so the copy is never readable by others.
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, STORE_MODE))
                os.chmod(tmp, STORE_MODE)
                shutil.copyfile(p, tmp)
            con = duckdb.connect(str(tmp))
            # Pseudonymized, still sensitive: owner only, like the audit trail.
            os.chmod(tmp, STORE_MODE)
            migrate(con)
            yield con
            from analytics.store.marts import build_marts

            build_marts(con)
            con.execute("checkpoint")
            con.close()
            con = None
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            if fresh and p.exists():
                kept = p.with_name(p.name + ".damaged")
                os.replace(p, kept)
                os.chmod(kept, STORE_MODE)
            os.replace(tmp, p)
        except (OSError, MemoryError, duckdb.OutOfMemoryException, duckdb.IOException) as exc:
            if is_damage(exc) and _plain_cause(exc) == type(exc).__name__:
                raise StoreDamaged(p) from None
            raise StoreError(
                f"the store was not changed: {_plain_cause(exc)}"
            ) from exc
        finally:
            if con is not None:
                with contextlib.suppress(Exception):
                    con.close()
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)
