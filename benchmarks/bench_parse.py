"""Benchmark: what the capped parse worker costs, and how fast a file built to cost is refused.

Reads the same CSV of demo cases through data_access.imports.reader.read_source with the parse in the worker process
(the default) and in the calling process, alternately, median of the runs; then the workbook of ten million
rows in 0.6 MB (tests/test_attacks.py), with and without a <dimension> declaring them.

    python -m benchmarks.bench_parse [--rows 1000000] [--runs 3]
"""
from __future__ import annotations

import argparse
import logging
import resource
import statistics
import time

import pyarrow.csv as pacsv

from data_access.demo import cases as demo
from data_access.imports.limits import ImportLimits
from data_access.imports.reader import read_source
from data_access.reference.problems import DataRejected

from .common import BENCH_DIR, BENCH_END, BENCH_SEED, fmt_runs, fresh_duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    csv_path = BENCH_DIR / f"cases_{args.rows}.csv"
    if not csv_path.exists():
        from data_access.store.database import county_frame

        counties = county_frame(fresh_duckdb("counties"))
        pacsv.write_csv(demo.generate_cases(counties, args.rows, BENCH_SEED, BENCH_END, id_prefix="BENCH"), csv_path)
    data = csv_path.read_bytes()
    print(f"CSV: {csv_path} ({len(data) / 1e6:.0f} MB)")

    times: dict[int, list[float]] = {1: [], 0: []}
    for _ in range(args.runs):
        for worker in (1, 0):
            start = time.perf_counter()
            source = read_source(data, csv_path.name, limits=ImportLimits(worker=worker))
            times[worker].append(time.perf_counter() - start)
            rows = len(source.frame)
            del source
    for worker, label in ((1, "worker process (default)"), (0, "in the calling process")):
        print(f"read {rows:,} rows, {label}: median {statistics.median(times[worker]):.2f} s "
              f"(runs {fmt_runs(times[worker])})")
    print(f"calling process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # the test module imports pages: no runtime here
    from tests.test_attacks import workbook_of_rows

    for declared in (True, False):
        bomb = workbook_of_rows(10_000_000, dimension=declared)
        start = time.perf_counter()
        try:
            read_source(bomb, "bomb.xlsx")
        except DataRejected as refused:
            said = refused.problems[0].reason_zh
        print(f"workbook of 10,000,000 rows in {len(bomb) / 1e6:.1f} MB, <dimension> "
              f"{'declared' if declared else 'absent'}: refused in {time.perf_counter() - start:.2f} s ({said})")


if __name__ == "__main__":
    main()
