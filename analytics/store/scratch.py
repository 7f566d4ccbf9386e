"""Private scratch folders for loads and uploads, removed on every path.

An upload that was checked but never confirmed, or a UTF-16 export's converted copy, holds raw
names and source IDs: it must not outlive its use. So each folder is

- made private (0700, inside the system's temporary folder) and named with the process that
  owns it (``outcomes-load-<pid>-...``, ``outcomes-upload-<pid>-...``);
- removed by its owner when done (a ``finally``), when the object holding it is collected (an
  upload left in a Streamlit session that ended), and when the process exits normally;
- swept by ``sweep()`` when its owner is gone (killed with -9, or a crash): the server runs it
  at start, and every load runs it first.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path

KINDS = ("load", "upload", "map", "suggest")
_NAME = re.compile(r"^outcomes-(?:load|upload|map|suggest)-(\d+)-")


def make(kind: str) -> Path:
    """A new private folder for `kind` ("load", "upload", or "map"/"suggest": a mapping
    profile's contract-shaped copies and a suggestion's reading of an export)."""
    if kind not in KINDS:
        raise ValueError(f"unknown scratch kind {kind!r}")
    folder = Path(tempfile.mkdtemp(prefix=f"outcomes-{kind}-{os.getpid()}-"))
    os.chmod(folder, 0o700)  # mkdtemp makes it so; said again so it never depends on that
    return folder


def remove(folder: Path | str | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def remove_with(owner: object, folder: Path) -> weakref.finalize:
    """Remove `folder` when `owner` is garbage-collected, or at the latest when the process exits."""
    return weakref.finalize(owner, remove, folder)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def sweep(root: Path | str | None = None) -> int:
    """Remove this user's scratch folders whose owning process has ended; the number removed.
    Folders named the old way (no process number) are removed too: none can be in use."""
    root = Path(root or tempfile.gettempdir())
    removed = 0
    try:
        candidates = list(root.glob("outcomes-*-*"))
    except OSError:
        return 0
    for folder in candidates:
        name = folder.name
        if not name.startswith(tuple(f"outcomes-{k}-" for k in KINDS)):
            continue
        try:
            info = folder.lstat()
        except OSError:
            continue
        if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid():
            continue
        m = _NAME.match(name)
        if m and _alive(int(m.group(1))):
            continue
        remove(folder)
        removed += 1
    return removed
