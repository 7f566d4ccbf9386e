"""The seeded demo store for export tests, built once per test process.

1,500 participants is big enough that most headline values are shown (not suppressed) while a
one-site, one-month slice of it still has small cells, and it builds in a few seconds. Several
test modules ask for it; the first builds it under the session's temporary folder.
"""

from __future__ import annotations

import threading
from pathlib import Path

PARTICIPANTS = 1500
# A slice with a mix of shown and suppressed values (checked in the tests that use it).
NARROW = {"start": "2026-01-01", "end": "2026-01-31", "sites": ("Harbor",), "funding_streams": ("Medicaid",)}

_lock = threading.Lock()
_built: dict[str, Path] = {}


def demo_store(tmp_path_factory) -> Path:
    root = str(tmp_path_factory.getbasetemp())
    with _lock:
        if root not in _built:
            from analytics.demo import build_demo_store

            path = Path(root) / "exports-demo" / "demo.duckdb"
            path.parent.mkdir(parents=True, exist_ok=True)
            build_demo_store(path, participants=PARTICIPANTS)
            _built[root] = path
        return _built[root]
