"""Start the dashboard: ``python -m ui.serve [streamlit options]`` (what ``make run`` does).

The same server as ``streamlit run dashboard.py``, warmed first (``ui.warmup``): the heavy
imports, the store (the demo program is built when there is none) and every page's default
view are ready before the server takes its first visitor. Options after the command go to
``streamlit run`` unchanged, e.g. ``python -m ui.serve --server.port 8600``.

``--no-warm`` (or OUTCOMES_WARM=0) skips the warm-up: the server then listens at once and the
first visits compute what they need.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    warm = "--no-warm" not in args and os.environ.get("OUTCOMES_WARM", "1") != "0"
    args = [a for a in args if a != "--no-warm"]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)  # .streamlit/config.toml is read from the working folder
    if warm:
        from analytics import store
        from ui import warmup

        t = time.perf_counter()
        if store.stamp() is None:
            print(f"No store at {store.db_path()}: building the synthetic demo program (every page will say "
                  "so; load your program's exports on the Data page or with `python -m analytics ingest`).",
                  flush=True)
        print("Getting the dashboard ready (imports, store, default views)…", flush=True)
        try:
            steps = warmup.warm()
        except Exception as exc:  # the pages will meet (and explain) the same problem
            print(f"Warm-up skipped: {type(exc).__name__}: {exc}", flush=True)
        else:
            detail = ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
            print(f"Ready in {time.perf_counter() - t:.1f} s ({detail}).", flush=True)
        # What is loaded now lives as long as the server: keep it out of later collections.
        gc.freeze()

    from streamlit.web import cli

    cli.main(args=["run", str(ROOT / "dashboard.py"), *args], prog_name="streamlit")


if __name__ == "__main__":
    main()
