"""Uploaded exports -> load sources, and the two-step (check, then confirm) load.

Each upload is written under a fresh temporary folder with a generated name: the user's file
name is only a label (it names the table and appears in messages), never part of a path
(FAULTS.md 32).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from analytics import store
from analytics.load import LoadError, LoadReport, Source, load_sources
from analytics.load.sources import check_unique_tables, sources_for_file
from analytics.pseudonym import MissingKey, load_key
from analytics.store import StoreBusy, StoreError

# What a check or a load can fail with, each with a plain message that holds no cell value.
LOAD_FAILURES = (LoadError, StoreBusy, StoreError)

__all__ = ["LOAD_FAILURES", "MissingKey", "Staged", "check", "commit", "discard", "pseudonym_key", "stage"]


@dataclass
class Staged:
    """Uploads saved to a private folder, with the sources found in them."""

    folder: Path
    sources: list[Source] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def stage(files) -> Staged:
    """Save uploaded files (objects with .name and .getvalue()) and find their tables.

    Raises LoadError (a plain message naming the file) when a file names no table; the folder
    is removed then.
    """
    folder = Path(tempfile.mkdtemp(prefix="outcomes-upload-"))
    staged = Staged(folder=folder)
    try:
        for f in files:
            path = folder / f"{uuid.uuid4().hex}.upload"
            path.write_bytes(f.getvalue())
            staged.names.append(f.name)
            staged.sources.extend(sources_for_file(path, label=f.name))
        check_unique_tables(staged.sources)
    except BaseException:
        discard(staged)
        raise
    return staged


def discard(staged: Staged | None) -> None:
    if staged is not None:
        shutil.rmtree(staged.folder, ignore_errors=True)


def pseudonym_key() -> bytes:
    """The program's pseudonym key (environment or .streamlit/secrets.toml); raises MissingKey."""
    return load_key()


def check(staged: Staged, key: bytes, loaded_by: str) -> LoadReport:
    """Validate everything without writing (a dry run); raises LoadError with a plain message."""
    return load_sources(staged.sources, store.db_path(), key=key, loaded_by=loaded_by, dry_run=True)


def commit(staged: Staged, key: bytes, loaded_by: str) -> LoadReport:
    """The real load: a new store file is built and swapped in, so readers never see a mix."""
    return load_sources(staged.sources, store.db_path(), key=key, loaded_by=loaded_by, wait_s=10.0)
