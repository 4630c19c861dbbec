"""Benchmark: the overview fully rendered in Debian's Chromium (KPI cards, charts, map drawn, DOM at
rest) over 1,000,000 demo cases on DuckDB.

Two times per load: when the page was confirmed at rest (charts and map present, then no change
for three polls 150 ms apart: wait_rendered), and when it last changed before that — the moment it
was in fact fully drawn — read in the page from a MutationObserver, from the navigation's start.

Three figures: the very first load (cold server cache, empty browser cache); loads in a fresh
browser profile each time (warm server cache, the browser downloads and parses the chart and map
JavaScript again); and reloads in one browser profile (what a supervisor's browser does every day).

    python -m benchmarks.bench_browser [--rows 1000000] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from data_access.database import case_count
from data_access.engine import REPO_ROOT, make_engine

from .common import BENCH_DIR, fmt_runs, fresh_duckdb, load_demo_million

sys.path.insert(0, str(REPO_ROOT / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, StreamlitServer, view_url, wait_rendered  # noqa: E402


def _database(rows: int) -> str:
    path = BENCH_DIR / "browser.duckdb"
    url = f"duckdb:///{path}"
    if path.exists():
        engine = make_engine(url)
        ready = case_count(engine) == rows
        engine.dispose()
        if ready:
            return url
    engine = fresh_duckdb("browser")
    load_demo_million(engine, rows)
    engine.dispose()
    return url


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = StreamlitServer(_database(args.rows), BENCH_DIR / "bench-browser-server.log").start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            fresh = [_load(_context(browser), server) for _ in range(args.runs + 1)]
            context = _context(browser)
            _load(context, server, close=False)
            cached = [_load(context, server, close=False) for _ in range(args.runs)]
            browser.close()
    finally:
        server.stop()
    print(f"overview in Chromium, {args.rows:,} demo cases on duckdb (median of {args.runs}; "
          "drawn = last change of the page / confirmed at rest):")
    print(f"  first load of the server: {fresh[0][0]:.2f} s / {fresh[0][1]:.2f} s")
    for label, loads in (("fresh browser profile each time", fresh[1:]),
                         ("same browser profile (JavaScript cached)", cached)):
        drawn, rest = [d for d, _ in loads], [r for _, r in loads]
        print(f"  {label}: drawn {statistics.median(drawn):.2f} s (runs {fmt_runs(drawn)}); "
              f"at rest {statistics.median(rest):.2f} s (runs {fmt_runs(rest)})")


# Time of the last change under the app's main area, in ms from the navigation's start.
_LAST_CHANGE = """
new MutationObserver(() => { window.__lastChange = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def _context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(_LAST_CHANGE)
    return context


def _load(context, server: StreamlitServer, close: bool = True) -> tuple[float, float]:
    """(seconds to the last change, seconds to confirmed at rest) of the overview, in a new tab."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(view_url(server.base_url, "/"), wait_until="commit")
    wait_rendered(page, timeout_ms=120_000)
    at_rest = time.perf_counter() - start
    drawn = page.evaluate("() => window.__lastChange") / 1000
    page.close()
    if close:
        context.close()
    return drawn, at_rest


if __name__ == "__main__":
    main()
