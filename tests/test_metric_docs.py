"""Every public metric function and every summary key is documented in docs/metrics.md."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import analytics.metrics

DOC = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text()


def _public_metric_functions():
    for mod in pkgutil.iter_modules(analytics.metrics.__path__):
        if mod.name == "queries":  # reads the .sql files (analytics.store.sqlfiles): no metric
            continue
        module = importlib.import_module(f"analytics.metrics.{mod.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and name != "run":
                yield mod.name, name


def _keys(doc, prefix=""):
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")
        yield key


def test_every_metric_function_is_documented():
    missing = [f"{m}.{f}" for m, f in _public_metric_functions() if f"`{f}`" not in DOC]
    assert not missing, f"undocumented metric functions: {missing}"


def test_every_summary_key_is_documented(tiny_con):
    from analytics import summary
    from analytics.metrics.scope import resolve_scope

    doc = summary.raw_summary(tiny_con, resolve_scope(tiny_con))
    skip = {"GSE10", "BARC10", "health", "home", "purpose", "community"}
    missing = sorted({k for k in _keys(doc) if k not in skip and f"`{k}`" not in DOC})
    assert not missing, f"undocumented summary keys: {missing}"
