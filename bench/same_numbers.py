"""Check that a code change leaves every metric function's result identical: run the page
metrics, the comparison and the summary over one store under several scopes, and either save
the results or compare them with saved ones, exactly (frames: same columns, dtypes, index and
values; dicts and lists element by element; floats bit for bit, NaN equal to NaN).

    python bench/same_numbers.py save  STORE OUT.pickle   # with the code before a change
    python bench/same_numbers.py check STORE OUT.pickle   # with the code after it

DuckDB runs on one thread here: its parallel float aggregation can change the last digits of a
standard deviation from one run to the next on the same code, which is not what is checked.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analytics import store, summary  # noqa: E402
from analytics.domain.scope import DIMENSIONS  # noqa: E402
from analytics.metrics import compare  # noqa: E402
from analytics.metrics.scope import resolve_scope  # noqa: E402
from analytics.panels import METRICS  # noqa: E402
from analytics.store import views  # noqa: E402


def scopes(con) -> dict:
    """Named scopes: the default view, grouped by each dimension, a one-site filter, a later
    period, an earlier as-of date."""
    base = resolve_scope(con)
    sites = [r[0] for r in con.execute("select distinct site from mart_participants order by site").fetchall()]
    out = {"default": base}
    for dim in DIMENSIONS:
        out[f"by_{dim}"] = base.grouped(dim)
    out["one_site"] = resolve_scope(con, filters={"site": [sites[0]]})
    out["two_sites_by_site"] = resolve_scope(con, filters={"site": sites[:2]}, by="site")
    out["last_year"] = resolve_scope(con, start=base.end.replace(year=base.end.year - 1))
    out["earlier_as_of"] = resolve_scope(con, as_of=base.as_of.replace(year=base.as_of.year - 1), by="site")
    return out


def results(db: Path) -> dict:
    con = views.analysis_connection(store.connect_read(db))
    con.execute("set threads = 1")
    out = {}
    for sname, scope in scopes(con).items():
        for name, fn in METRICS.items():
            if name == "compare_groups":
                continue  # needs its dimension: run below for every one
            t = time.perf_counter()
            out[(sname, name)] = fn(con, scope)
            print(f"{sname:<22}{name:<26}{time.perf_counter() - t:7.3f} s", flush=True)
        if scope.by != "mentor":  # by mentor: minutes per run, and the per-group path is the same as by site
            t = time.perf_counter()
            out[(sname, "summary")] = summary.raw_summary(con, scope)
            print(f"{sname:<22}{'summary':<26}{time.perf_counter() - t:7.3f} s", flush=True)
        if scope.by is None:
            for dim in DIMENSIONS:
                t = time.perf_counter()
                out[(sname, f"compare_{dim}")] = compare.compare_groups(con, scope, dim)
                print(f"{sname:<22}{'compare_' + dim:<26}{time.perf_counter() - t:7.3f} s", flush=True)
    return out


def differences(a, b, where: str = "") -> list[str]:
    """Where `a` and `b` differ (empty when identical)."""
    if type(a) is not type(b):
        return [f"{where}: type {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=True, check_index_type=True,
                                          check_column_type=True, check_freq=True, check_flags=True)
        except AssertionError as exc:
            return [f"{where}: {exc}"]
        # object columns: assert_frame_equal compares them by ==; check the types of the values too
        for col in a.columns:
            if a[col].dtype == object:
                ta = [type(v).__name__ for v in a[col]]
                tb = [type(v).__name__ for v in b[col]]
                if ta != tb:
                    return [f"{where}[{col}]: value types differ"]
        return []
    if isinstance(a, pd.Series):
        try:
            pd.testing.assert_series_equal(a, b, check_exact=True)
        except AssertionError as exc:
            return [f"{where}: {exc}"]
        return []
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{where}[{i}]")]
    if isinstance(a, np.ndarray):
        return [] if np.array_equal(a, b, equal_nan=a.dtype.kind == "f") else [f"{where}: arrays differ"]
    if _is_float(a):
        if (_nan(a) and _nan(b)) or a == b:
            return []
        return [f"{where}: {a!r} != {b!r}"]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def _is_float(x) -> bool:
    return isinstance(x, float | np.floating)


def _nan(x) -> bool:
    return _is_float(x) and math.isnan(x)


def save_or_check(description: str, compute, argv: list[str] | None = None, what: str = "results") -> int:
    """The command line of a save/check script: ``mode db saved``; `compute(db)` gives a dict
    of results under string or tuple keys, saved (pickled) or compared with the saved ones
    exactly (``differences``). Shared with bench/same_figures.py."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("mode", choices=["save", "check"])
    ap.add_argument("db", type=Path)
    ap.add_argument("saved", type=Path)
    args = ap.parse_args(argv)
    now = compute(args.db)
    if args.mode == "save":
        args.saved.write_bytes(pickle.dumps(now))
        print(f"saved {len(now)} {what} to {args.saved}")
        return 0
    before = pickle.loads(args.saved.read_bytes())
    if list(before) != list(now):
        print(f"different {what} computed: {sorted(set(before) ^ set(now))}")
        return 1
    found = [d for key in now
             for d in differences(before[key], now[key], key if isinstance(key, str) else "/".join(key))]
    for d in found:
        print(d[:2000])
    print(f"{len(now)} {what} compared: {'identical' if not found else f'{len(found)} differences'}")
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    return save_or_check(__doc__.splitlines()[0], results, argv)

if __name__ == "__main__":
    sys.exit(main())
