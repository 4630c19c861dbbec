"""Benchmark: the overview fully rendered in Debian's Chromium (KPI cards, charts, map drawn, DOM at
rest) over 1,000,000 demo cases on DuckDB; first load (cold server cache) and median of --runs warm loads.

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
            times = []
            for _ in range(args.runs + 1):
                page = browser.new_context(viewport=VIEWPORT).new_page()
                start = time.perf_counter()
                page.goto(view_url(server.base_url, "/"), wait_until="commit")
                wait_rendered(page, timeout_ms=120_000)
                times.append(time.perf_counter() - start)
                page.context.close()
            browser.close()
    finally:
        server.stop()
    warm = times[1:]
    print(f"overview in Chromium, {args.rows:,} demo cases on duckdb: first load {times[0]:.2f} s; "
          f"warm median {statistics.median(warm):.2f} s (runs {fmt_runs(warm)})")


if __name__ == "__main__":
    main()
