"""Benchmark: each page's script run (AppTest) with a cold and a warm cache over 1,000,000 demo cases
on DuckDB, median of --runs. (The browser render time of the overview comes from bench_browser.)

    python -m benchmarks.bench_pages [--rows 1000000] [--runs 5] [--reuse] [--pages weekly,data]

--reuse times the database the last run left (data/bench/pages.duckdb) instead of loading a new one;
--pages times only the pages named.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import metrics.summary  # noqa: F401  (registers the loader's hook that keeps the summary, as the dashboard does)

from .common import BENCH_DIR, fmt_runs, fresh_duckdb, load_demo_million

# every page of a province user (数据上报 is the city and county users' page)
PAGES = ("overview", "drilldown", "priority", "overdue", "satisfaction", "analysis", "weekly", "ledger", "matters", "hotline",
         "definitions", "data", "audit")
DRILL_REGION = "370800"  # 济宁市


def _prepare(rows: int, reuse: bool) -> str:
    path = BENCH_DIR / "pages.duckdb"
    url = f"duckdb:///{path}"
    if reuse and path.exists():
        return url
    engine = fresh_duckdb("pages")
    load_demo_million(engine, rows)
    engine.dispose()
    return url


def _app_test(page: str):
    from streamlit.testing.v1 import AppTest

    from tests.apptest_support import switch_to

    at = AppTest.from_file(str(BENCH_DIR.parent.parent / "app.py"), default_timeout=120)
    at.run()  # app.py lands on the default page (overview)
    if page != "overview":
        if page == "drilldown":
            at.query_params["region"] = DRILL_REGION
        switch_to(at, page)
    return at


def time_page(page: str, runs: int) -> tuple[float, list[float], float, list[float]]:
    """Cold (caches cleared before the run) and warm (same run again) script times."""
    import streamlit as st

    cold, warm = [], []
    for _ in range(runs):
        at = _app_test(page)
        st.cache_data.clear()
        start = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - start)
        assert not at.exception, [e.message for e in at.exception]
        start = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - start)
    return statistics.median(cold), cold, statistics.median(warm), warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the database of the last run (its rows, whatever --rows says)")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated pages to time (default: every page)")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    if unknown := sorted(set(pages) - set(PAGES)):
        parser.error(f"unknown pages: {', '.join(unknown)} (known: {', '.join(PAGES)})")
    os.environ["DATABASE_URL"] = _prepare(args.rows, args.reuse)
    rows = "the last run's" if args.reuse else f"{args.rows:,}"
    print(f"{rows} demo cases on duckdb; AppTest script time, median of {args.runs}")
    for page in pages:
        cmed, cruns, wmed, wruns = time_page(page, args.runs)
        print(f"{page:13s} cold {cmed:.2f} s (runs {fmt_runs(cruns)}) | warm {wmed:.2f} s (runs {fmt_runs(wruns)})")


if __name__ == "__main__":
    main()
