"""One load from files to store: check files, stage, validate whole, then write in one transaction.

Everything that needs no database (sizes, file types, encodings, headers) is checked first, so a
bad file is refused before the store is copied. Then, under the store's write lock, every file is
staged and the whole load is validated against itself and the store before any row is written:
file order never matters, and a refused, failed or killed load leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analytics import store
from analytics.domain import contract
from analytics.domain import instruments as registry
from analytics.load import limits, readers, upsert, validate
from analytics.load.errors import LoadError
from analytics.load.readers import Staged
from analytics.load.report import LoadReport, TableReport
from analytics.load.sources import Source, check_unique_tables, discover
from analytics.load.sqltext import render, statement
from analytics.store import instruments as stored_instruments
from analytics.store import pseudonym, scratch

if TYPE_CHECKING:
    from analytics.load.mapping import Profile

Progress = Callable[[str, float | None], None]

# Test hook: seconds to sleep inside the write transaction, so a test can kill -9 a load midway.
PAUSE_ENV = "OUTCOMES_TEST_PAUSE_MID_LOAD"


class _Say:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def __call__(self, message: str, fraction: float | None = None) -> None:
        if self.progress is not None:
            self.progress(message, fraction)


def load_paths(
    paths: list[Path], db: str | os.PathLike | None = None, *, key: bytes | str | None = None,
    loaded_by: str = "cli", dry_run: bool = False, progress: Progress | None = None,
    today: date | None = None, wait_s: float = 0.0, meta: dict[str, str] | None = None,
    mapping: Profile | None = None,
    instruments: str | os.PathLike | None = None,
    replace_damaged: bool = False,
) -> LoadReport:
    """Load CSV files, folders of them, or .xlsx workbooks into the store.

    With a mapping profile (load.mapping), the files and sheets it names are read in the
    export's own shape and mapped onto the contract first.
    """
    kw = dict(key=key, loaded_by=loaded_by, dry_run=dry_run, progress=progress, today=today,
              wait_s=wait_s, meta=meta, instruments=instruments, replace_damaged=replace_damaged)
    if mapping is not None:
        from analytics.load.mapping import applied

        with applied([Path(p) for p in paths], mapping) as sources:
            return load_sources(sources, db, profile=mapping, **kw)
    return load_sources(discover([Path(p) for p in paths]), db, **kw)


def load_sources(
    sources: list[Source], db: str | os.PathLike | None = None, *, key: bytes | str | None = None,
    loaded_by: str = "cli", dry_run: bool = False, progress: Progress | None = None,
    today: date | None = None, wait_s: float = 0.0, meta: dict[str, str] | None = None,
    profile: Profile | None = None,
    instruments: str | os.PathLike | None = None,
    replace_damaged: bool = False,
) -> LoadReport:
    """Validate the sources as one load and upsert them; with dry_run, validate and report only.

    `profile` is the mapping profile the sources were mapped with (load.mapping.mapped_sources):
    the report names it and the audit row records its name and hash.
    `instruments`: a program's registry file laid over the built-in one (default:
    OUTCOMES_INSTRUMENTS, else the built-in registry alone); the load keeps the definitions.
    A store that cannot be read is refused (store.StoreDamaged), unless `replace_damaged`: then
    the load builds a new store and the damaged file is kept beside it as `<name>.damaged`.

    Raises LoadError (bad input), pseudonym.MissingKey (no key), store.StoreBusy (another load
    is writing) or store.StoreError (disk full, out of memory); the store is unchanged then.
    """
    key_bytes = pseudonym.load_key(key)
    try:
        reg = registry.in_force(instruments)
    except registry.RegistryError as exc:
        raise LoadError(str(exc)) from None
    today = today or date.today()
    say = _Say(progress)
    check_unique_tables(sources)
    order = {t: i for i, t in enumerate(contract.TABLE_ORDER)}
    sources = sorted(sources, key=lambda s: order[s.table])
    scratch.sweep()  # what a killed load left behind
    workdir = scratch.make("load")
    try:
        prepared: list[Staged] = []
        for i, source in enumerate(sources):
            say(f"checking {source.label}", 0.15 * i / len(sources))
            prepared.append(readers.prepare(source, workdir))
        with _plain_failures(db), _connection(db, dry_run, wait_s, workdir, replace_damaged) as con:
            report = _run(con, prepared, key_bytes, today, say, dry_run, loaded_by, meta or {}, reg, profile, workdir)
    finally:
        scratch.remove(workdir)
    return report


@contextlib.contextmanager
def _plain_failures(db: str | os.PathLike | None = None) -> Iterator[None]:
    """Resource failures said plainly; unexpected engine errors never echo a value they hold."""
    try:
        yield
    except (LoadError, store.StoreError, store.StoreBusy):
        raise
    except (MemoryError, duckdb.OutOfMemoryException):
        raise store.StoreError("the store was not changed: the machine ran out of memory") from None
    except (OSError, duckdb.IOException) as exc:
        full = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc)
        if not full and store.is_damage(exc):
            raise store.StoreDamaged(store.db_path(db)) from None
        cause = "the disk is full" if full else f"a file could not be read or written ({type(exc).__name__})"
        raise store.StoreError(f"the store was not changed: {cause}") from None
    except duckdb.Error as exc:
        if store.is_damage(exc):
            raise store.StoreDamaged(store.db_path(db)) from None
        raise store.StoreError(
            f"the store was not changed: the load failed inside the database ({type(exc).__name__})"
        ) from None


@contextlib.contextmanager
def _connection(
    db: str | os.PathLike | None, dry_run: bool, wait_s: float, workdir: Path, replace_damaged: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    if not dry_run:
        with store.swap_writer(db, wait_s=wait_s, replace_damaged=replace_damaged) as con:
            yield con
        return
    # A dry run reads the live store read-only and writes nothing, not even a lock file.
    path = store.db_path(db)
    # Every value read: a check that passed must not be followed by a load that finds damage.
    damaged = store.is_damaged(path, thorough=True)
    if damaged and not replace_damaged:
        raise store.StoreDamaged(path)
    con = duckdb.connect(config={"temp_directory": str(workdir / "spill")})
    try:
        if path.exists() and not damaged:
            con.execute(statement("attach_live"), [str(path)])
            con.execute("use live")
        else:
            store.migrate(con)
        yield con
    finally:
        con.close()


def _check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> bool:
    """True when the store has no key check yet. A store built with another key is refused."""
    stored = store.get_meta(con, "key_check")
    if stored is None:
        return True
    if stored != pseudonym.key_fingerprint(key):
        if store.get_meta(con, "is_demo") == "true":
            raise LoadError(
                "this store holds the synthetic demo, made with the demo key: load real exports into "
                "a new store (set OUTCOMES_DB to a new path, or use --db)"
            )
        raise LoadError(
            f"this store's pseudonyms were made with a different key: set {pseudonym.KEY_ENV} to the "
            "key the store was built with (or load into a new store)"
        )
    return False


def _run(
    con: duckdb.DuckDBPyConnection, staged: list[Staged], key: bytes, today: date, say: _Say,
    dry_run: bool, loaded_by: str, meta: dict[str, str], reg: registry.InForce,
    profile: Profile | None = None, workdir: Path | None = None,
) -> LoadReport:
    con.execute("set preserve_insertion_order = true")  # staging rowids follow file order
    # Beyond the limit, tables spill to the load's private scratch folder (swept when a load is
    # killed), never beside the store: staging tables hold source IDs.
    con.execute(statement("memory_limit"), {"limit": f"{_memory_limit()}B"})
    if workdir is not None:
        con.execute(statement("temp_directory"), {"dir": str(workdir / "spill")})
    new_key = _check_key(con, key)
    try:
        stored_instruments.check_fits_store(con, reg)
    except registry.RegistryError as exc:
        raise LoadError(str(exc)) from None
    for i, st in enumerate(staged):
        say(f"reading {st.label}", 0.15 + 0.25 * i / len(staged))
        readers.stage(con, st)
        validate.check_text(con, st, today, limits.MAX_ROWS, reg)

    say("validating the whole load", 0.45)
    ipad, opad = pseudonym.hmac_pads(key)
    params = validate.base_params(today, reg)
    params.values.update(ipad=ipad, opad=opad)
    validate.build_pseudonym_maps(con, staged, params)
    for i, st in enumerate(staged):
        say(f"typing and pseudonymizing {st.label}", 0.5 + 0.2 * i / len(staged))
        new = validate.build_typed(con, st, params)
        con.execute(render(statement("drop_table"), t=st.raw))  # source IDs leave with it
        validate.check_typed(con, st, new, params, today)
        validate.dedupe(con, st, new)
    for entity in validate.foreign_entities(staged):
        con.execute(render(statement("drop_table"), t="pmap_" + entity))  # the last source IDs
    loaded = {st.table.name for st in staged}
    for st in staged:
        validate.check_references(con, st, loaded)
        if st.table.name == "assessments":
            validate.check_one_assessment_a_day(con, st)

    say("comparing with the store", 0.75)
    flagged = upsert.flagged_sessions(con, loaded)
    changes = {st.table.name: upsert.classify(con, st.table) for st in staged}
    reports = [
        TableReport(
            table=st.table.name, label=st.label, file_sha256=st.sha256, rows_read=st.rows_read,
            inserted=changes[st.table.name].inserted, updated=changes[st.table.name].updated,
            unchanged=changes[st.table.name].unchanged, duplicates_removed=st.duplicates_removed,
            flagged=flagged if st.table.name == "sessions" else 0, dropped_columns=list(st.source.dropped) + list(st.plan.dropped),
        )
        for st in staged
    ]
    registry_note = _registry_change(stored_instruments.stored(con), reg)
    changed = any(c.changed for c in changes.values()) or registry_note is not None
    notes = _notes(staged, key)
    if registry_note:
        notes.append(registry_note)
    mapped = (profile.name, profile.sha256) if profile is not None else (None, None)
    if dry_run:
        if flagged:
            notes.append(_flag_note(flagged, "of this load"))
        return LoadReport(None, reports, changed, None, notes, True, *mapped)

    say("writing", 0.8)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    previous = None if changed else upsert.previous_load_of(con, {r.table: r.file_sha256 for r in reports})
    con.execute("begin transaction")
    load_id = upsert.next_load_id(con)
    for i, st in enumerate(staged):
        say(f"writing {st.table.name}", 0.8 + 0.15 * i / len(staged))
        upsert.write(con, st.table, changes[st.table.name])
    stored_instruments.write(con, load_id, reg.instruments)
    _test_pause()
    if changes.get("sessions", upsert.Changes()).changed or changes.get("pairs", upsert.Changes()).changed:
        say("recording data-quality findings", 0.95)
        total = upsert.refresh_findings(con, load_id)
        if total:
            notes.append(_flag_note(total, "in the store"))
    kinds = "+".join(sorted({st.kind for st in staged}))
    upsert.write_audit(
        con, load_id, loaded_at, loaded_by, kinds, "loaded" if changed else "unchanged",
        "" if changed else "nothing changed", reports, *mapped,
    )
    if new_key:
        store.set_meta(con, "key_check", pseudonym.key_fingerprint(key))
    for k, v in meta.items():
        store.set_meta(con, k, v)
    con.execute("commit")
    say("saving the store", 0.98)
    already = previous.strftime("%Y-%m-%d %H:%M UTC") if previous else None
    return LoadReport(load_id, reports, changed, already, notes, False, *mapped)


def _memory_limit() -> int:
    """limits.LOAD_MEMORY, or the database's own default (80% of the machine's memory) when lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not reported (e.g. Windows): keep the cap
        return limits.LOAD_MEMORY
    return min(limits.LOAD_MEMORY, int(total * 0.8))


def _registry_change(before: registry.Registry, reg: registry.InForce) -> str | None:
    """A note when this load's registry differs from the one the store kept (None when equal)."""
    now = reg.instruments

    def same(a: registry.Instrument, b: registry.Instrument) -> bool:  # the file it came from aside
        return dataclasses.replace(a, origin="") == dataclasses.replace(b, origin="")

    if not before or (before.keys() == now.keys() and all(same(before[c], now[c]) for c in now)):
        return None
    added = [c for c in now if c not in before]
    changed = [c for c in now if c in before and not same(before[c], now[c])]
    dropped = [c for c in before if c not in now]
    parts = [f"{what} {', '.join(codes)}" for what, codes in
             (("added", added), ("changed", changed), ("dropped", dropped)) if codes]
    return f"instrument registry from {reg.label}: {'; '.join(parts)}"


def _flag_note(n: int, where: str) -> str:
    many = n != 1
    return (
        f"{n:,} session{'s' if many else ''} {where} {'are' if many else 'is'} dated outside "
        f"{'their' if many else 'its'} pair's match: kept, flagged as data-quality findings and left "
        "out of metrics"
    )


def _notes(staged: list[Staged], key: bytes) -> list[str]:
    notes = []
    for st in staged:
        if st.empty_rows:
            notes.append(f"{st.label}: {st.empty_rows:,} empty rows skipped")
        if st.plan.age_source:
            notes.append(
                f"{st.label}: age_band derived from {st.plan.age_source_name} at enrolled_on; "
                f"{st.plan.age_source_name} itself is not stored"
            )
    if len(key) < pseudonym.RECOMMENDED_KEY_BYTES and key != pseudonym.DEMO_KEY:
        notes.append(
            f"the pseudonym key is shorter than {pseudonym.RECOMMENDED_KEY_BYTES} characters; "
            "a long random key is much harder to guess"
        )
    return notes


def _test_pause() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        print("load paused mid-transaction (test hook)", file=sys.stderr, flush=True)
        time.sleep(float(seconds))
