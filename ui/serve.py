"""Start the dashboard: ``python -m ui.serve [streamlit options]`` (what ``make run`` does).

The same server as ``streamlit run dashboard.py``, warmed first (``ui.warmup``): the heavy
imports, the store (the demo program is built when there is none) and every page's default
view are ready before the server takes its first visitor. Options after the command go to
``streamlit run`` unchanged, e.g. ``python -m ui.serve --server.port 8600``.

Without sign-in the server listens on 127.0.0.1 only (.streamlit/config.toml); another
``--server.address`` is refused unless .streamlit/secrets.toml sets up sign-in ([auth]).

``--no-warm`` (or OUTCOMES_WARM=0) skips the warm-up: the server then listens at once and the
first visits compute what they need.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _option(args: list[str], name: str) -> str | None:
    """The value of `--name value` or `--name=value` among streamlit's options (the last wins)."""
    found = None
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            found = args[i + 1]
        elif a.startswith(name + "="):
            found = a.split("=", 1)[1]
    return found


def listen_address(args: list[str]) -> str | None:
    """The address the server will listen on: the command line, else STREAMLIT_SERVER_ADDRESS,
    else .streamlit/config.toml; None means every interface (Streamlit's own default)."""
    given = _option(args, "--server.address")
    if given is not None:
        return given
    if "STREAMLIT_SERVER_ADDRESS" in os.environ:
        return os.environ["STREAMLIT_SERVER_ADDRESS"]
    try:
        config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = config.get("server", {}).get("address")
    return value if isinstance(value, str) else None


def sign_in_configured(args: list[str]) -> bool:
    """Whether the secrets file (--secrets.files, else .streamlit/secrets.toml) has an [auth]
    section; the app itself checks that it is complete."""
    given = _option(args, "--secrets.files")
    path = Path(given).expanduser() if given else ROOT / ".streamlit" / "secrets.toml"
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # the app refuses an unreadable secrets file itself, on every page
    return "auth" in secrets


def refusal(args: list[str]) -> str | None:
    """Why the server must not start with these options (None: it may)."""
    from analytics.domain.access import listen_problem

    return listen_problem(listen_address(args), sign_in=sign_in_configured(args))


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    warm = "--no-warm" not in args and os.environ.get("OUTCOMES_WARM", "1") != "0"
    args = [a for a in args if a != "--no-warm"]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)  # .streamlit/config.toml is read from the working folder
    refused = refusal(args)
    if refused:
        print(f"Refusing to start: {refused}", file=sys.stderr, flush=True)
        raise SystemExit(2)
    from analytics.store import scratch

    swept = scratch.sweep()  # uploads and loads a killed server left on disk
    if swept:
        print(f"Removed {swept} upload or load folder{'s' if swept != 1 else ''} left by an earlier server.",
              flush=True)
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
