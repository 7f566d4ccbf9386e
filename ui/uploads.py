"""Uploaded exports -> load sources, and the two-step (check, then confirm) load.

Each upload is written under a fresh private folder (analytics.store.scratch: 0700, removed
when discarded, when its session ends, and swept at the next server start if the server was
killed) with a generated name: the user's file
name is only a label (it names the table and appears in messages), never part of a path.

Loads need a role that may load (ui.auth): `check` and `commit` refuse others. Each real load,
done or failed, also goes into the audit trail (analytics.store.audit) with the user, the tables,
the files' hashes and row counts; the store's own load_audit rows are written by the load.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from analytics import store
from analytics.domain.access import Access
from analytics.load import LoadError, LoadReport, Source, load_sources
from analytics.load.mapping import Profile
from analytics.load.sources import check_unique_tables, sources_for_file
from analytics.store import StoreBusy, StoreDamaged, StoreError, audit, scratch
from analytics.store.pseudonym import MissingKey, load_key

# What a check or a load can fail with, each with a plain message that holds no cell value.
LOAD_FAILURES = (LoadError, StoreBusy, StoreError)

__all__ = ["LOAD_FAILURES", "AuditNotWritten", "MissingKey", "Staged", "StoreDamaged", "check", "commit", "discard", "loaded_by", "pseudonym_key", "save",
           "stage"]


@dataclass
class Staged:
    """Uploads saved to a private folder, with the sources found in them."""

    folder: Path
    sources: list[Source] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    items: list[tuple[Path, str]] = field(default_factory=list)  # (saved path, the user's file name)
    profile: Profile | None = None  # the mapping profile the sources were mapped with (ui.mapping_step)


def stage(files) -> Staged:
    """Save uploaded files (objects with .name and .getvalue()) and find their tables.

    Raises LoadError (a plain message naming the file) when a file names no table; the folder
    is removed then.
    """
    folder = scratch.make("upload")
    staged = Staged(folder=folder)
    # An upload checked but never confirmed goes when the session that holds it ends (or the
    # server exits); a server killed outright leaves it for the next start's sweep.
    scratch.remove_with(staged, folder)
    try:
        for f in files:
            path = folder / f"{uuid.uuid4().hex}.upload"
            path.write_bytes(f.getvalue())
            staged.names.append(f.name)
            staged.items.append((path, f.name))
            staged.sources.extend(sources_for_file(path, label=f.name))
        check_unique_tables(staged.sources)
    except BaseException:
        discard(staged)
        raise
    return staged


def save(files) -> Staged:
    """Save uploaded files without finding their tables yet (the mapping step reads them in the
    export's own shape). The folder is removed on failure."""
    staged = Staged(folder=scratch.make("upload"))
    scratch.remove_with(staged, staged.folder)  # as stage(): gone with its session
    try:
        for f in files:
            path = staged.folder / f"{uuid.uuid4().hex}.upload"
            path.write_bytes(f.getvalue())
            staged.names.append(f.name)
            staged.items.append((path, f.name))
    except BaseException:
        discard(staged)
        raise
    return staged


def discard(staged: Staged | None) -> None:
    if staged is not None:
        scratch.remove(staged.folder)


def pseudonym_key() -> bytes:
    """The program's pseudonym key (environment or .streamlit/secrets.toml); raises MissingKey."""
    return load_key()


def loaded_by(access: Access) -> str:
    """Who the store's load_audit names: the signed-in user, or "dashboard" in local mode."""
    return "dashboard" if access.local else access.user


def _may_load(access: Access) -> None:
    if not access.can_load:
        raise PermissionError("loading is not part of this role")


def check(staged: Staged, key: bytes, access: Access, *, replace_damaged: bool = False) -> LoadReport:
    """Validate everything without writing (a dry run); raises LoadError with a plain message.
    `replace_damaged`: the store cannot be read, and the load is to build a fresh one."""
    _may_load(access)
    return load_sources(staged.sources, store.db_path(), key=key, loaded_by=loaded_by(access), dry_run=True,
                        profile=staged.profile, replace_damaged=replace_damaged)


def commit(staged: Staged, key: bytes, access: Access, *, replace_damaged: bool = False) -> LoadReport:
    """The real load: a new store file is built and swapped in, so readers never see a mix.
    `replace_damaged`: a store that cannot be read is kept aside as `<name>.damaged` and a
    fresh one built from these files."""
    _may_load(access)
    try:
        audit.check_writable()
    except OSError as exc:
        raise StoreError(f"nothing was loaded: the audit trail cannot be written ({type(exc).__name__}); "
                         f"check that {audit.AUDIT_ENV} names a writable file") from None
    try:
        report = load_sources(staged.sources, store.db_path(), key=key, loaded_by=loaded_by(access), wait_s=10.0,
                              profile=staged.profile, replace_damaged=replace_damaged)
    except LOAD_FAILURES as exc:
        # The reason's kind only: a load message names files by the uploader's labels.
        audit.record("load", who=access.user, role=access.role,
                     what={"source": "dashboard upload", "outcome": "failed", "reason": type(exc).__name__,
                           "files": len(staged.names)})
        raise
    try:
        audit.record_load(report, who=access.user, role=access.role, source="dashboard upload")
    except OSError as exc:
        raise AuditNotWritten(report, exc) from None
    return report


class AuditNotWritten(Exception):
    """The load is done, but its audit record could not be written: say so, loudly."""

    def __init__(self, report: LoadReport, cause: OSError) -> None:
        super().__init__(f"the audit trail could not be written ({type(cause).__name__}); "
                         f"check that {audit.AUDIT_ENV} names a writable file")
        self.report = report
