"""Benchmark: how fast each dashboard page renders in a real browser over an M-tier store.

    python bench/bench_pages.py [--participants 20000] [--db PATH] [--rounds 2] [--first-loads 3] [--no-warm]
    python bench/bench_pages.py --tier L [--filter-changes 3] [--filter-pages overview compare]

Builds the demo store (20,000 participants, ~0.6M sessions) once at --db (default
data/bench_pages_m.duckdb, git-ignored) unless it is there; `--tier S|M|L|XL` uses the tier's
store of bench_summary.py instead (bench/.stores/<tier>.duckdb, built by the demo generator with
the tier's participants when missing). It starts the app on a free port the
way `make run` does (`python -m ui.serve`, which warms the default view before it listens; the
warm-up time is printed and recorded), and drives headless Debian chromium through Playwright:

- first load: a new browser context (empty cache, new session) opening the app's root until
  every chart is drawn and the run is over; --first-loads times (default 3, the first one is
  the first visitor of the just-started server), the median reported;
- each page after navigation: a click in the sidebar until the page is settled, first on the
  page's first visit in the session (round 1: its figures not yet built, its elements never
  drawn in this tab), then on later visits (later rounds, the fastest reported);
- a filter change (--filter-changes times on each of --filter-pages, default the Overview and
  Compare): on the settled page a site is chosen in the sidebar's Site filter, each time
  another site (so its view is not cached yet, as after a real user's change), and the time
  from the choice until the page is settled again is taken, with every chart redrawn. The
  filters are reset (untimed) before each change.

"Settled" is the moment (after the page's own heading is up) after which neither the number of
drawn charts changes nor the app reports running for 1 s. For a filter change the
page itself records, from the moment the site is chosen, the last change inside any chart and
the end of the last rerun, and the result is the later of the two once both have been quiet for
1 s; it also counts the charts that changed, to show that each one was redrawn. Prints a table
and appends one JSON line to bench/results/pages.jsonl.
Targets: <= 1.5 s per page after navigation and per filter change (at L), <= 2 s for the first
load (at M).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_summary import STORES, TIERS  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

# The sidebar's pages (ui/setup.py PAGES), listed here so this script does not import the app.
PAGES = (
    ("overview", "Overview"),
    ("engagement", "Engagement"),
    ("retention", "Retention"),
    ("outcomes", "Outcomes"),
    ("goals", "Goals"),
    ("compare", "Compare"),
    ("mentors", "Mentors"),
    ("data", "Data"),
)

RESULTS = ROOT / "bench" / "results" / "pages.jsonl"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE_TARGET_S = 1.5
FIRST_LOAD_TARGET_S = 2.0
FILTER_TARGET_S = 1.5
STABLE_S = 1.0
# A chart counts once it is drawn (plotly adds its .main-svg layers); not the empty chart a
# session's first run sends to start loading the chart library (ui.setup._prime_chart_library).
CHART = '.stElementContainer:not(.st-key-setup__prime) [data-testid="stPlotlyChart"]:has(.main-svg)'
# The app root carries the script's state; "running" while a rerun is under way.
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'
EXCEPTION = '[data-testid="stException"]'
SITE_FILTER = '[data-testid="stSidebar"] [data-testid="stMultiSelect"]'

# Installed in the page before a filter change: records (performance.now() ms) the last DOM
# change inside a chart other than the primer, which charts changed, and when the last rerun
# ended (the app root's script state leaving "running").
_WATCH_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const b = window.__bench = {lastChart: 0, lastRunEnd: 0, running: false, sawRun: false,
                              touched: new Set()};
  const chartOf = (node) => {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    const c = el && el.closest && el.closest('[data-testid="stPlotlyChart"]');
    return c && !c.closest('.st-key-setup__prime') ? c : null;
  };
  const mark = (c, now) => { b.lastChart = now; b.touched.add(c); };
  if (b.observer) b.observer.disconnect();
  b.observer = new MutationObserver((muts) => {
    const now = performance.now();
    for (const m of muts) {
      if (m.type === 'attributes' && m.target === app && m.attributeName === 'data-test-script-state') {
        const r = app.getAttribute('data-test-script-state') === 'running';
        if (r) b.sawRun = true; else if (b.running) b.lastRunEnd = now;
        b.running = r;
        continue;
      }
      const c = chartOf(m.target);
      if (c) { mark(c, now); continue; }
      for (const n of m.addedNodes) {
        if (n.nodeType !== 1) continue;
        const inner = n.matches('[data-testid="stPlotlyChart"]') ? [n]
          : Array.from(n.querySelectorAll('[data-testid="stPlotlyChart"]'));
        for (const x of inner) if (!x.closest('.st-key-setup__prime')) mark(x, now);
      }
    }
  });
  b.observer.observe(document.body, {subtree: true, childList: true, attributes: true});
  b.running = app.getAttribute('data-test-script-state') === 'running';
  return performance.now();
}"""
_WATCH_STATE_JS = """() => {
  const b = window.__bench;
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    .filter((c) => !c.closest('.st-key-setup__prime') && c.querySelector('.main-svg'));
  return {now: performance.now(), lastChart: b.lastChart, lastRunEnd: b.lastRunEnd, sawRun: b.sawRun,
          running: app.getAttribute('data-test-script-state') === 'running',
          charts: charts.length, redrawn: charts.filter((c) => b.touched.has(c)).length};
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_store(db: Path, participants: int) -> dict:
    from analytics.demo import build_demo_store, store_is_demo

    if store_is_demo(db) is None:
        t = time.perf_counter()
        report = build_demo_store(db, participants=participants)
        print(f"built the demo store ({participants:,} participants) in {time.perf_counter() - t:.1f} s")
        return {t.table: t.inserted for t in report.tables}
    return {}


def start_server(db: Path, warm: bool = True) -> tuple[subprocess.Popen, str, float]:
    """The app as `make run` serves it; returns the process, its URL and seconds until it answered."""
    port = free_port()
    env = {**os.environ, "OUTCOMES_DB": str(db), "OUTCOMES_WARM": "1" if warm else "0"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serve", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base, time.perf_counter() - t0
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not start within 120 s")


def settled(page, t0: float, timeout_s: float = 120.0) -> tuple[float, int]:
    """Seconds from t0 until the page settled, and how many charts it shows."""
    last_change, last_state = time.perf_counter(), None
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline:
        state = (page.locator(CHART).count(), page.locator(RUNNING).count() > 0)
        now = time.perf_counter()
        if state != last_state or state[1]:
            last_change, last_state = now, state
        elif now - last_change >= STABLE_S and state[0] > 0:
            if page.locator(EXCEPTION).count():
                raise RuntimeError(f"the page shows an error: {page.locator(EXCEPTION).first.inner_text()[:300]}")
            return last_change - t0, state[0]
        page.wait_for_timeout(40)
    raise RuntimeError("the page did not settle")


def choose_site(page, site: str) -> float:
    """Pick `site` in the sidebar's Site filter; returns the page's clock (ms) at the choice."""
    box = page.locator(SITE_FILTER).filter(has_text="Site")
    field = box.locator("input")
    option = page.get_by_role("option", name=site, exact=True).first
    # Typed, as a keyboard user does: the list narrows to the site and Enter chooses it. (A
    # click on the option could miss: on a long page the open list is moved and drawn again
    # while the pointer reaches it, and the click waited on an option that kept being replaced.)
    for wait_ms in (2_000, 5_000, 10_000):
        field.click()
        field.fill(site)
        try:
            option.wait_for(timeout=wait_ms)
            break
        except Exception:  # noqa: BLE001  (the box only took the focus: type again)
            field.fill("")
            continue
    t0 = page.evaluate(_WATCH_JS)
    field.press("Enter")
    page.keyboard.press("Escape")
    return t0


def filter_settled(page, t0_ms: float, timeout_s: float = 180.0) -> dict:
    """Wait until the rerun the choice started is over and no chart has changed for 1 s."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        st = page.evaluate(_WATCH_STATE_JS)
        done_at = max(st["lastChart"], st["lastRunEnd"])
        if (st["sawRun"] and not st["running"] and st["lastRunEnd"] > 0 and st["charts"] > 0
                and st["now"] - done_at >= STABLE_S * 1000):
            if page.locator(EXCEPTION).count():
                raise RuntimeError(f"the page shows an error: {page.locator(EXCEPTION).first.inner_text()[:300]}")
            return {"seconds": (done_at - t0_ms) / 1000, "charts": st["charts"], "redrawn": st["redrawn"],
                    "run_end_s": (st["lastRunEnd"] - t0_ms) / 1000}
        page.wait_for_timeout(40)
    raise RuntimeError("the page did not settle after the filter change")


def go_to(page, base: str, name: str, title: str) -> tuple[float, int]:
    """Click the page in the sidebar; seconds until it settled, and its charts."""
    link = page.locator('[data-testid="stSidebarNav"] a', has_text=title).first
    t0 = time.perf_counter()
    link.click()
    page.wait_for_url(f"**/{name}*" if name != "overview" else f"{base}/**")
    # the new page's own heading, so the previous page's charts are not counted
    page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
    try:
        return settled(page, t0)
    except RuntimeError as exc:
        page.screenshot(path=str(ROOT / "bench" / "results" / f"unsettled_{name}.png"))
        raise RuntimeError(f"{name}: {exc}") from None


def filter_changes(page, base: str, pages: list[str], n: int, sites: list[str]) -> dict[str, list[dict]]:
    """On each page, `n` times: reset the filters, choose the next unused site, time it."""
    titles = dict(PAGES)
    out: dict[str, list[dict]] = {}
    unused = list(sites)
    for name in pages:
        go_to(page, base, name, titles[name])
        out[name] = []
        for _ in range(n):
            if not unused:
                unused = list(sites)  # more changes than sites: these ones may be cached
            site = unused.pop(0)
            # Reset every time (untimed): a selection is not always visible as tags to count,
            # and a site added to the last one's would time a two-site view.
            t = time.perf_counter()
            page.get_by_role("button", name="Reset filters").click()
            settled(page, t)
            t0 = choose_site(page, site)
            try:
                res = filter_settled(page, t0)
            except RuntimeError as exc:
                page.screenshot(path=str(ROOT / "bench" / "results" / f"unsettled_filter_{name}.png"))
                raise RuntimeError(f"{name}, site {site}: {exc}") from None
            out[name].append({"site": site, **res})
            print(f"filter change on {name} ({site}): {res['seconds']:.2f} s, "
                  f"{res['redrawn']}/{res['charts']} charts redrawn", flush=True)
    return out


def run(db: Path, rounds: int, warm: bool = True, first_loads_n: int = 3,
        filter_pages: tuple[str, ...] = (), filter_n: int = 0, sites: list[str] | None = None) -> dict:
    proc, base, startup = start_server(db, warm)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            first_loads = []
            for _ in range(first_loads_n):
                # a new browser context each time: empty HTTP cache, new session
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(base)
                first_loads.append(settled(page, t0)[0])
                if len(first_loads) < first_loads_n:
                    context.close()
            timings: dict[str, list[float]] = {name: [] for name, _ in PAGES}
            charts: dict[str, int] = {}
            order = [*PAGES[1:], PAGES[0]]  # the overview last: it is open after the first load
            for _ in range(rounds):
                for name, title in order:
                    seconds, charts[name] = go_to(page, base, name, title)
                    timings[name].append(seconds)
            changes = filter_changes(page, base, list(filter_pages), filter_n, sites or []) if filter_n else {}
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"first_loads_s": first_loads, "startup_s": startup, "pages": timings, "charts": charts,
            "filter_changes": changes}


def site_choices(db: Path) -> list[str]:
    """The sites the Site filter offers over this store (read before the server starts)."""
    from analytics import store
    from analytics.metrics import admin

    con = store.connect_read(db)
    try:
        return admin.filter_choices(con)["site"]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=20_000)
    ap.add_argument("--db", type=Path, default=ROOT / "data" / "bench_pages_m.duckdb")
    ap.add_argument("--tier", choices=list(TIERS), help="the tier's store (bench/.stores), instead of --db")
    ap.add_argument("--rounds", type=int, default=2, help="passes over all pages (the first is cold)")
    ap.add_argument("--no-warm", action="store_true", help="start the server without its warm-up")
    ap.add_argument("--first-loads", type=int, default=3, help="first loads measured, each in a new browser context")
    ap.add_argument("--filter-changes", type=int, default=2, help="site filter changes timed on each filter page (0: none)")
    ap.add_argument("--filter-pages", nargs="+", default=["overview", "compare"], choices=[n for n, _ in PAGES])
    args = ap.parse_args(argv)
    if args.tier:
        args.db, args.participants = STORES / f"{args.tier}.duckdb", TIERS[args.tier]

    load_at_start = os.getloadavg()[0]
    built = ensure_store(args.db, args.participants)
    sites = site_choices(args.db) if args.filter_changes else []
    result = run(args.db, max(1, args.rounds), warm=not args.no_warm, first_loads_n=max(1, args.first_loads),
                 filter_pages=tuple(args.filter_pages), filter_n=max(0, args.filter_changes), sites=sites)
    loads = result["first_loads_s"]
    first_load = sorted(loads)[len(loads) // 2]

    print(f"\nserver start (warm-up {'off' if args.no_warm else 'on'}): {result['startup_s']:.2f} s")
    print(f"first load, median of {len(loads)}: {first_load:.2f} s (target <= {FIRST_LOAD_TARGET_S} s); "
          f"each: {', '.join(f'{x:.2f}' for x in loads)}")
    print(f"{'page':<12}{'charts':>7}{'cold s':>9}{'warm s':>9}   target <= {PAGE_TARGET_S} s")
    pages = {}
    for name, times in result["pages"].items():
        cold = times[0]
        warm = min(times[1:]) if len(times) > 1 else None
        pages[name] = {"cold_s": round(cold, 3), "warm_s": round(warm, 3) if warm is not None else None,
                       "charts": result["charts"].get(name)}
        warm_text = f"{warm:9.2f}" if warm is not None else f"{'-':>9}"
        print(f"{name:<12}{result['charts'].get(name, 0):>7}{cold:9.2f}{warm_text}")

    changes = {}
    for name, runs in result["filter_changes"].items():
        secs = sorted(r["seconds"] for r in runs)
        changes[name] = {"median_s": round(secs[len(secs) // 2], 3), "runs": [
            {**r, "seconds": round(r["seconds"], 3), "run_end_s": round(r["run_end_s"], 3)} for r in runs]}
        print(f"filter change on {name}: median {secs[len(secs) // 2]:.2f} s over {len(secs)} "
              f"(target <= {FILTER_TARGET_S} s); each: {', '.join(f'{x:.2f}' for x in secs)}")

    record = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "tier": args.tier,
        "participants": args.participants,
        "store_rows": built or None,
        "warm_up": not args.no_warm,
        "startup_s": round(result["startup_s"], 3),
        "first_load_s": round(first_load, 3),
        "first_loads_s": [round(x, 3) for x in loads],
        "pages": pages,
        "filter_changes": changes,
        "targets": {"page_s": PAGE_TARGET_S, "first_load_s": FIRST_LOAD_TARGET_S, "filter_change_s": FILTER_TARGET_S},
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_start": round(load_at_start, 2),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                    "python": platform.python_version()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(f"\nappended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
