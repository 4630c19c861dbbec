"""Benchmark: demo generation and CSV import of 1,000,000 cases (DuckDB and PostgreSQL), median of 3.

    python -m benchmarks.bench_data [--rows 1000000] [--runs 3]
"""
from __future__ import annotations

import argparse

import pyarrow.csv as pacsv

from data_access import demo
from data_access.database import case_count, county_frame
from data_access.importer import import_file

from .common import BENCH_DIR, BENCH_END, BENCH_SEED, fmt_runs, fresh_duckdb, fresh_postgres, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

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

    med, runs, n = timed(duck_once, args.runs)
    print(f"import CSV -> duckdb: {n:,} rows, median {med:.2f} s (runs {fmt_runs(runs)})")

    def pg_once() -> int:
        engine, drop = fresh_postgres()
        try:
            import_file(engine, csv_path)
            return case_count(engine)
        finally:
            drop()

    med, runs, n = timed(pg_once, args.runs)
    print(f"import CSV -> postgresql: {n:,} rows, median {med:.2f} s (runs {fmt_runs(runs)}; includes fresh database + ANALYZE)")


if __name__ == "__main__":
    main()
