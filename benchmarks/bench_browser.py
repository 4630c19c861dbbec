"""Benchmark: the overview fully rendered in Debian's Chromium (KPI cards, both charts, the county
map drawn) over 1,000,000 demo cases on DuckDB.

A load is what a supervisor does: a navigation of an open browser tab to the dashboard (a bookmark,
a link from the intranet portal, F5). Its time runs from the navigation's start until the page's
last change has been painted: the last DOM mutation or canvas draw call (the map is WebGL and the
charts may be canvas, neither of which mutates the DOM), then two animation frames, so that the
frame holding it has been committed. It is read in the page (PAINT_PROBE). A load counts only once
the script run has ended, the KPI cards, both charts and the map are drawn, and nothing has changed
for a quiet window of QUIET_MS afterwards. The tab is idle on about:blank before each navigation.

Cases:
- the server's first load (cold server caches, fresh browser profile);
- first visit: a fresh browser profile each time (downloads, parses and compiles all the page's
  JavaScript again; the server's caches are warm);
- daily use: the same profile and tab each time (the browser's caches are warm);
- a new tab each time, navigated at once: the same, plus the headless browser's own work for a new
  tab (it preloads the WebUI of its omnibox popup, about 1.3 s of CPU) on the same two cores.

    python -m benchmarks.bench_browser [--rows 1000000] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from data_access.store.database import case_count
from data_access.store.engine import REPO_ROOT, make_engine

from .common import BENCH_DIR, fmt_runs, fresh_duckdb, load_demo_million

sys.path.insert(0, str(REPO_ROOT / "tests"))
from browser_support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, StreamlitServer, view_url

QUIET_MS = 1000
SETTLE_S = 3.0  # an idle tab before the navigation (a new browser profile starts background work)
TIMEOUT_MS = 120_000

# Installed before any page script. `last`: the time of the page's last change (DOM mutation, WebGL
# or 2D canvas draw call), in ms from the navigation's start. `painted`: when the second animation
# frame after that change began, so the frame holding the change has been committed (a software
# compositor reads the WebGL canvas back then, which waits for its drawing to finish). `gl`: the
# last WebGL draw.
PAINT_PROBE = """
(() => {
  const seen = {last: 0, painted: 0, gl: 0};
  let pending = false;
  const settle = () => {
    if (pending) return;
    pending = true;
    const since = performance.now();
    requestAnimationFrame(() => requestAnimationFrame(() => {
      pending = false;
      if (seen.last >= since) settle(); else seen.painted = performance.now();
    }));
  };
  const touch = () => { seen.last = performance.now(); settle(); };
  new MutationObserver(touch).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  const wrap = (proto, names, after) => {
    for (const name of names) {
      const original = proto && proto[name];
      if (typeof original !== 'function') continue;
      proto[name] = function (...args) { after(); return original.apply(this, args); };
    }
  };
  const gl = ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced', 'clear'];
  const glTouch = () => { touch(); seen.gl = seen.last; };
  wrap(window.WebGLRenderingContext && WebGLRenderingContext.prototype, gl, glTouch);
  wrap(window.WebGL2RenderingContext && WebGL2RenderingContext.prototype, gl, glTouch);
  wrap(window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype,
       ['fillRect', 'strokeRect', 'clearRect', 'fillText', 'strokeText', 'drawImage', 'fill', 'stroke', 'putImageData'], touch);
  window.__paint = seen;
})();
"""

# True once the overview is complete and has not changed for `quietMs`.
OVERVIEW_AT_REST = """(quietMs) => {
  const app = document.querySelector('[data-testid=stApp]');
  const main = document.querySelector('[data-testid=stMain]');
  const seen = window.__paint;
  if (!app || !main || !seen) return false;
  if (app.dataset.testConnectionState !== 'CONNECTED' || app.dataset.testScriptState !== 'notRunning') return false;
  if (document.querySelector('[data-testid=stStatusWidget]')) return false;
  const charts = [...main.querySelectorAll('[data-testid=stVegaLiteChart]')];
  const kpis = main.querySelectorAll('.kpi-card, [data-testid=stMetric]').length;
  const complete = kpis >= 6 && charts.length >= 2 && charts.every(c => c.querySelector('svg, canvas'))
      && main.querySelector('[data-testid=stDeckGlJsonChart] canvas') && seen.gl > 0;
  return Boolean(complete) && seen.painted > seen.last && performance.now() - seen.last >= quietMs;
}"""


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


def new_tab(browser_or_context, fresh_profile: bool):
    """A tab (in a new browser profile if asked) with the paint probe installed."""
    context = browser_or_context.new_context(viewport=VIEWPORT) if fresh_profile else browser_or_context
    if fresh_profile:
        context.add_init_script(PAINT_PROBE)
    return context.new_page()


def overview_load(page, url: str, settle_s: float = SETTLE_S, quiet_ms: int = QUIET_MS) -> tuple[float, float]:
    """(seconds from the navigation's start until the page's last change was painted, seconds until
    confirmed).

    The tab idles on about:blank for `settle_s` first; settle_s=0 navigates at once.
    """
    if settle_s:
        page.goto("about:blank")
        time.sleep(settle_s)
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(OVERVIEW_AT_REST, arg=quiet_ms, timeout=TIMEOUT_MS, polling=100)
    confirmed = time.perf_counter() - start
    return page.evaluate("() => window.__paint.painted") / 1000, confirmed


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = StreamlitServer(_database(args.rows), BENCH_DIR / "bench-browser-server.log").start()
    url = view_url(server.base_url, "/")
    results: dict[str, list[tuple[float, float]]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)

            def fresh_visit() -> tuple[float, float]:
                page = new_tab(browser, fresh_profile=True)
                try:
                    return overview_load(page, url)
                finally:
                    page.context.close()

            results["server's first load (cold server caches, fresh profile)"] = [fresh_visit()]
            results["first visit (fresh browser profile each time)"] = [fresh_visit() for _ in range(args.runs)]
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(PAINT_PROBE)
            page = new_tab(context, fresh_profile=False)
            overview_load(page, url)  # this profile's first visit
            results["daily use (same profile and tab)"] = [overview_load(page, url) for _ in range(args.runs)]
            page.close()
            tabs = []
            for _ in range(args.runs):
                tab = new_tab(context, fresh_profile=False)
                tabs.append(overview_load(tab, url, settle_s=0))
                tab.close()
            results["same profile, a new tab each time, navigated at once"] = tabs
            browser.close()
    finally:
        server.stop()
    print(f"overview in Chromium, {args.rows:,} demo cases on duckdb, median of {args.runs} "
          f"(fully drawn = the page's last change painted, from the navigation's start; "
          f"confirmed = after {QUIET_MS} ms without change):")
    for label, loads in results.items():
        drawn, confirmed = [d for d, _ in loads], [c for _, c in loads]
        print(f"  {label}: fully drawn {statistics.median(drawn):.2f} s (runs {fmt_runs(drawn)}); "
              f"confirmed {statistics.median(confirmed):.2f} s")


if __name__ == "__main__":
    main()
