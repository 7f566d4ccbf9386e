"""Check that a change to the chart builders leaves every chart the same: draw every panel's
figure over one store (on screen with the threshold k = 11 and k = 1, and as an export draws it
from suppressed frames; per instrument, per grouping of the comparisons, per follow-up rule),
and either save the figures' plotly JSON or compare it with saved JSON, byte for byte (the
command line of bench/same_numbers.py). The JSON is written with its keys sorted: the order
plotly lists an object's properties in depends on how they were set and means nothing.

    python bench/same_figures.py save  STORE OUT.pickle   # with the code before a change
    python bench/same_figures.py check STORE OUT.pickle   # with the code after it
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from same_numbers import save_or_check  # noqa: E402 - bench/, beside this script

from analytics import store  # noqa: E402
from analytics.metrics.followup import RULES  # noqa: E402
from analytics.metrics.scope import resolve_scope  # noqa: E402
from analytics.panels import METRICS, PANELS, ExportView, ScreenView, panels_for, registry_of  # noqa: E402
from analytics.store import views  # noqa: E402

COMPARE_BY = ("site", "supervisor", "funding_stream")


def _getter(cur, base):
    cache: dict = {}

    def get(metric, scope=None, settings=()):
        scope = scope or base
        key = (metric, repr(scope), tuple(settings))
        if key not in cache:
            cache[key] = METRICS[metric](cur, scope, **dict(settings))
        return cache[key]

    return get


def _params(name: str, panel, registry) -> list[dict]:
    codes = panels_for(registry, name) if panel.per_instrument else [None]
    out = [{"code": c} if c else {} for c in codes]
    if panel.metric == "compare_groups":
        out = [{**p, "by": by} for p in out for by in COMPARE_BY]
    if panel.metric.startswith("followup"):
        out = [{**p, "rule": rule} for p in out for rule in RULES]
    return out


def figures(db: Path) -> dict[str, str]:
    con = store.connect_read(db)
    try:
        cur = views.analysis_connection(con)
        cur.execute("set threads = 1")  # the same last digits of every aggregate on every run
        base = resolve_scope(cur)
        get = _getter(cur, base)
        out: dict[str, str] = {}
        for k in (11, 1):
            screen = ScreenView(get=get, scope=base, k=k)
            registry = registry_of(screen)
            for name, panel in PANELS.items():
                for params in _params(name, panel, registry):
                    for kind, view in (("screen", screen), ("export", ExportView(get=get, scope=base, k=k))):
                        label = f"{name} {kind} k={k} {json.dumps(params, sort_keys=True)}"
                        started = time.perf_counter()
                        if kind == "screen":
                            args, kwargs = panel.call(view, panel.params(**params), screen=True)
                            fig = panel.chart(*args, **kwargs)
                        else:
                            fig = panel.figure(view, **params)
                        out[label] = json.dumps(json.loads(fig.to_json()), sort_keys=True)
                        print(f"{label:70s} {time.perf_counter() - started:.3f} s")
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    return save_or_check(__doc__.splitlines()[0], figures, argv, what="figures")

if __name__ == "__main__":
    sys.exit(main())
