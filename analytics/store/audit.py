"""The audit trail: who signed in, loaded and exported what, and when. No Streamlit.

One JSON object per line, appended to the file in OUTCOMES_AUDIT_LOG (default
data/audit.jsonl, git-ignored). Several server processes (and the command line) may append at
once: each record is one write under an exclusive `flock` on the file, so lines never
interleave. Nothing here rewrites or truncates the file.

A record says who, when, the action, what it was about (page, file kind, filters, period),
and where relevant a content hash and row counts. Never a data value: `what` takes only the
keys in WHAT_KEYS with short plain values, so a DataFrame or a cell cannot slip in.

    {"at": "2026-04-02T09:14:03.512Z", "action": "export", "who": "grants@example.org",
     "role": "grant_writer", "what": {"file_kind": "csv", "name": "goals_by_domain",
     "filters": {"site": ["North"]}, "period": "2026-01-01/2026-03-31", "k": 11},
     "sha256": "9f2c…", "bytes": 2048}

The load's own rows in the store (load_audit, load_audit_tables) are kept as before; this file
adds the loads made from the app and the command line to one trail with sign-ins and exports.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analytics.domain.paths import PROJECT_ROOT

AUDIT_ENV = "OUTCOMES_AUDIT_LOG"
DEFAULT_LOG = PROJECT_ROOT / "data" / "audit.jsonl"

ACTIONS = ("sign_in", "sign_out", "denied", "view", "load", "export", "relink")
WHAT_KEYS = frozenset({
    "page", "file_kind", "name", "filters", "period", "as_of", "k", "sites", "source", "load_id",
    "tables", "outcome", "reason", "files", "file_sha256", "provider", "changed", "mapping_profile",
    "mapping_sha256",
})
_MAX_TEXT = 200
_MAX_ITEMS = 64

# flock excludes other processes and other open files of this one; the thread lock keeps the
# threads of one server (each session runs on its own) from contending for it needlessly.
_thread_lock = threading.Lock()


class AuditError(ValueError):
    """A record that would carry something other than plain, short metadata."""


def log_path(path: str | os.PathLike | None = None) -> Path:
    """The audit file: the argument, else OUTCOMES_AUDIT_LOG, else data/audit.jsonl."""
    if path:
        return Path(path)
    env = os.environ.get(AUDIT_ENV)
    return Path(env) if env else DEFAULT_LOG


def _plain(value: Any, where: str, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        raise AuditError(f"{where}: measured values do not belong in the audit trail")
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            raise AuditError(f"{where}: text longer than {_MAX_TEXT} characters")
        return value
    if depth < 3 and isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        if len(items) > _MAX_ITEMS:
            raise AuditError(f"{where}: more than {_MAX_ITEMS} items")
        return [_plain(v, where, depth + 1) for v in items]
    if depth < 3 and isinstance(value, Mapping):
        if len(value) > _MAX_ITEMS:
            raise AuditError(f"{where}: more than {_MAX_ITEMS} items")
        return {str(k): _plain(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    raise AuditError(f"{where}: a {type(value).__name__} does not belong in the audit trail")


def record(
    action: str,
    *,
    who: str,
    role: str | None = None,
    what: Mapping[str, Any] | None = None,
    content: bytes | None = None,
    sha256: str | None = None,
    rows: Mapping[str, int] | None = None,
    path: str | os.PathLike | None = None,
    now: datetime | None = None,
) -> dict:
    """Append one record and return it. `content`: the bytes handed out (an export), hashed
    here and never stored; `sha256`: a hash computed elsewhere (a load's files)."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}; known: {', '.join(ACTIONS)}")
    if not isinstance(who, str) or not who:
        raise AuditError("an audit record needs who")
    what = dict(what or {})
    unknown = set(what) - WHAT_KEYS
    if unknown:
        raise AuditError(f"not audit metadata: {', '.join(sorted(unknown))}")
    entry: dict[str, Any] = {
        "at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "action": action,
        "who": _plain(who, "who"),
        "role": _plain(role, "role"),
        "what": _plain(what, "what"),
    }
    if content is not None:
        entry["sha256"] = hashlib.sha256(content).hexdigest()
        entry["bytes"] = len(content)
    elif sha256 is not None:
        entry["sha256"] = _plain(sha256, "sha256")
    if rows is not None:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in rows.values()):
            raise AuditError("rows: counts must be whole numbers")
        entry["rows"] = {str(k): int(v) for k, v in rows.items()}
    _append(log_path(path), json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
    return entry


def check_writable(path: str | os.PathLike | None = None) -> None:
    """Raise OSError unless the trail can be appended to (created 0600 if absent). A load checks
    this before it writes anything, so no load can commit without its audit record."""
    target = log_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.close(fd)


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = line.encode("utf-8")
    with _thread_lock:
        # O_APPEND: every write lands at the end, whoever else has the file open. 0600: the
        # trail names people.
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # a line torn by a crash or a full disk ends here: start on a new line
                    data = b"\n" + data
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def entries(
    *, action: str | None = None, limit: int | None = None, path: str | os.PathLike | None = None
) -> list[dict]:
    """Records newest first, optionally of one action and at most `limit` of them.

    A line that is not a whole JSON object (a disk filled mid-write) is skipped, not fatal.
    """
    p = log_path(path)
    try:
        f = p.open("rb")
    except FileNotFoundError:
        return []
    kept: collections.deque[dict] = collections.deque(maxlen=limit)
    with f:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH)
        try:
            for raw in f:
                try:
                    item = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(item, dict) and (action is None or item.get("action") == action):
                    kept.append(item)
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return list(reversed(kept))


def load_digest(file_hashes: Mapping[str, str]) -> str:
    """One hash for a load's files: SHA-256 over "table:file hash" lines in table order."""
    text = "\n".join(f"{t}:{h}" for t, h in sorted(file_hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def record_load(report: Any, *, who: str, role: str | None, source: str, path: str | os.PathLike | None = None) -> dict:
    """The audit record of a finished load (an analytics.load.LoadReport): tables, file
    hashes and row counts, never a row."""
    hashes = {t.table: t.file_sha256 for t in report.tables}
    what = {
        "source": source,
        "load_id": report.load_id,
        "tables": sorted(hashes),
        "file_sha256": hashes,
        "changed": bool(report.changed),
        "outcome": "loaded" if report.changed else "unchanged",
    }
    if getattr(report, "profile", None):
        what.update(mapping_profile=report.profile, mapping_sha256=report.profile_sha256)
    return record(
        "load",
        who=who,
        role=role,
        what=what,
        sha256=load_digest(hashes),
        rows={t.table: int(t.rows_read) for t in report.tables},
        path=path,
    )


__all__ = [
    "ACTIONS",
    "AUDIT_ENV",
    "AuditError",
    "DEFAULT_LOG",
    "WHAT_KEYS",
    "as_frame",
    "entries",
    "load_digest",
    "log_path",
    "record",
    "record_load",
]


def as_frame(records: list[dict]):
    """Records as a table for people: one row each, metadata as compact text."""
    import pandas as pd

    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True) if value else ""

    return pd.DataFrame(
        [
            {
                "When (UTC)": r.get("at", ""),
                "Action": str(r.get("action", "")).replace("_", " "),
                "Who": r.get("who", ""),
                "Role": (r.get("role") or "").replace("_", " "),
                "What": compact(r.get("what")),
                "Rows": compact(r.get("rows")),
                "SHA-256": r.get("sha256", ""),
            }
            for r in records
        ],
        columns=["When (UTC)", "Action", "Who", "Role", "What", "Rows", "SHA-256"],
    )
