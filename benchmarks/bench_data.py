"""Benchmark: demo generation and CSV import of 1,000,000 cases (DuckDB, PostgreSQL, MariaDB), median of 3.
Each import is the whole of `python -m data_access import` into a fresh database: read, validate, load in
one transaction (on MariaDB with the per-county daily summary rebuilt in it, as the dashboard's import does).

    python -m benchmarks.bench_data [--rows 1000000] [--runs 3] [--engines duckdb,postgresql,mariadb]
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import pyarrow.csv as pacsv
import sqlalchemy as sa

import metrics.summary  # noqa: F401  (registers the loader's hook that keeps the summary, as the dashboard does)
from data_access.demo import cases as demo
from data_access.imports.importer import import_file
from data_access.store.database import case_count, county_frame

from .common import BENCH_DIR, BENCH_END, BENCH_SEED, fmt_runs, fresh_duckdb, fresh_mariadb, fresh_postgres, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="duckdb,postgresql,mariadb", help="comma-separated: duckdb, postgresql, mariadb")
    args = parser.parse_args()
    engines = args.engines.split(",")

    counties = county_frame(fresh_duckdb("counties"))
    # ids as a real file's: the importer refuses the demo generator's DEMO- prefix
    med, runs, table = timed(lambda: demo.generate_cases(counties, args.rows, BENCH_SEED, BENCH_END, id_prefix="BENCH"),
                             args.runs)
    print(f"demo generation: {args.rows:,} rows, median {med:.2f} s (runs {fmt_runs(runs)})")

    csv_path = BENCH_DIR / f"cases_{args.rows}.csv"
    pacsv.write_csv(table, csv_path)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"CSV written: {csv_path} ({size_mb:.0f} MB)")

    def duck_once() -> int:
        engine = fresh_duckdb("import")
        import_file(engine, csv_path)
        n = case_count(engine)
        engine.dispose()
        return n

    if "duckdb" in engines:
        med, runs, n = timed(duck_once, args.runs)
        print(f"import CSV -> duckdb: {n:,} rows, median {med:.2f} s (runs {fmt_runs(runs)})")

    def server_once(fresh: Callable[[], tuple[sa.Engine, Callable[[], None]]]) -> int:
        engine, drop = fresh()
        try:
            start = time.perf_counter()
            import_file(engine, csv_path)
            print(f"  import {time.perf_counter() - start:.2f} s", flush=True)
            return case_count(engine)
        finally:
            drop()

    if "postgresql" in engines:
        med, runs, n = timed(lambda: server_once(fresh_postgres), args.runs)
        print(f"import CSV -> postgresql: {n:,} rows, median {med:.2f} s (runs {fmt_runs(runs)}; includes fresh database + ANALYZE)")
    if "mariadb" in engines:
        med, runs, n = timed(lambda: server_once(fresh_mariadb), args.runs)
        print(f"import CSV -> mariadb: {n:,} rows, median {med:.2f} s (runs {fmt_runs(runs)}; includes fresh database "
              f"and the summary's rebuild)")


if __name__ == "__main__":
    main()
