"""Benchmark: the repeat-matters screening (metrics/matters.py, one statement) over 5,000,000 demo cases, a share of
them repeat reports of earlier ones, on DuckDB (target < 1 s) and PostgreSQL (target < 5 s); MariaDB on request.
Read from the stored linked cases (metrics.matter_links), as the app reads them, and from the case table to compare.

The demo generator leaves matter_id empty, so the cases get matters here, seeded: one case in 25 heads a matter,
about 12 % of the cases report one of those again (keyed by the head's case_id, some written with a space or a
U+3000 at an end, as offices type them), a third of the heads name themselves, and received_level is set on most.
Loaded through the app's own bulk path (data_access.imports.loading.load_cases). Median of --runs.

    python -m benchmarks.bench_matters [--rows 5000000] [--runs 5] [--engines duckdb,postgresql] [--keep | --reuse]

--keep leaves the databases (data/bench/matters.duckdb, bench_matters on the servers) for a run with --reuse.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from data_access.demo import cases as demo
from data_access.imports.loading import ImportMode, load_cases
from data_access.imports.validate import ValidatedCases
from data_access.store.database import case_count, county_frame
from metrics.matter_links import rebuild_links
from metrics.matters import CaseSource, case_source, repeat_matters

from .common import BENCH_END, BENCH_SEED, add_database_arguments, fmt_runs, run_on_engines, timed

HEAD_SHARE, REPEAT_SHARE, DECORATED_SHARE = 1 / 25, 0.12, 0.05
LEVELS = ("central", "province", "city", "county", None)


def with_matters(table: pa.Table, seed: int) -> pa.Table:
    """The demo cases with matter_id and received_level filled as described above (seeded)."""
    rng = np.random.default_rng(seed)
    n = table.num_rows
    heads = rng.choice(n, size=max(1, int(n * HEAD_SHARE)), replace=False)
    is_head = np.zeros(n, dtype=bool)
    is_head[heads] = True
    repeats = ~is_head & (rng.random(n) < REPEAT_SHARE)
    target = np.arange(n)
    target[repeats] = heads[rng.integers(0, len(heads), size=int(repeats.sum()))]
    named = repeats | (is_head & (rng.random(n) < 1 / 3))
    blanks = rng.choice(np.array(["", " ", "\u3000"]), size=n, p=[1 - DECORATED_SHARE, DECORATED_SHARE / 2, DECORATED_SHARE / 2])
    key = pc.binary_join_element_wise(pa.array(blanks), pc.take(table["case_id"], pa.array(target)), "")
    matter_id = pc.if_else(pa.array(named), key, pa.scalar(None, pa.string()))
    levels = pa.array(rng.choice(np.array(LEVELS, dtype=object), size=n, p=[0.05, 0.1, 0.2, 0.45, 0.2]), type=pa.string())
    for name, column in (("matter_id", matter_id), ("received_level", levels)):
        table = (table.set_column(table.schema.get_field_index(name), name, column) if name in table.column_names
                 else table.append_column(name, column))
    return table


def load_matters(engine: sa.Engine, n: int) -> None:
    """Replace the case table with `n` demo cases ending BENCH_END, with matters."""
    table = with_matters(demo.generate_cases(county_frame(engine), n, BENCH_SEED, BENCH_END), BENCH_SEED)
    load_cases(engine, ValidatedCases(table=table, rows=np.arange(n) + 2), ImportMode.REPLACE,
               source=f"bench_matters seed={BENCH_SEED}", kind="demo")


def bench_engine(name: str, engine: sa.Engine, runs: int) -> None:
    """The screening of the whole province and of one city, read at BENCH_END from the linked cases (as the app reads
    it) and, for comparison, from the case table; the first reading in a process (it reads the case table's
    fingerprint); and the rebuild of the linked cases that a load adds."""
    first_start = time.perf_counter()
    found = repeat_matters(engine, BENCH_END)  # also the warm-up: connection, plan, file cache
    first = time.perf_counter() - first_start
    with engine.connect() as conn:
        source = case_source(conn)
    assert source is not None and source.linked, "the linked cases are not current: run python -m metrics summary"
    med, times, again = timed(lambda: repeat_matters(engine, BENCH_END), runs)
    assert again == found
    screened = sum(m.screened for m in found)
    print(f"{name}: repeat matters of the province, {case_count(engine):,} cases, from the linked cases: {len(found):,} "
          f"repeat matters ({screened:,} screened): median {med * 1000:.0f} ms (runs {fmt_runs(times)} s); the first "
          f"reading of the process, the case table's fingerprint included: {first:.3f} s")
    city_med, city_times, city = timed(lambda: repeat_matters(engine, BENCH_END, parent="370800"), runs)
    assert isinstance(city, list)
    print(f"{name}: same, --parent 370800 (济宁市), {len(city):,} matters: median {city_med * 1000:.0f} ms "
          f"(runs {fmt_runs(city_times)} s)")
    scan = CaseSource(has_levels=source.has_levels, linked=False)
    scan_med, scan_times, scanned = timed(lambda: repeat_matters(engine, BENCH_END, source=scan), runs)
    assert scanned == found, "the case table and the linked cases disagree"
    print(f"{name}: same, read from the case table (no linked cases): median {scan_med * 1000:.0f} ms "
          f"(runs {fmt_runs(scan_times)} s), identical rows")
    rebuild_med, rebuild_times, linked = timed(lambda: _rebuild_rolled_back(engine, source.has_levels), min(runs, 3))
    print(f"{name}: rebuilding the {linked:,} linked cases (part of every load): median {rebuild_med:.2f} s "
          f"(runs {fmt_runs(rebuild_times)} s)")


def _rebuild_rolled_back(engine: sa.Engine, has_levels: bool) -> int:
    """rebuild_links in a transaction rolled back (the stored table stays as it was); its rows."""
    with engine.connect() as conn, conn.begin() as transaction:
        rows = rebuild_links(conn, has_levels)
        transaction.rollback()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, engines="duckdb,postgresql")
    args = parser.parse_args()
    print(f"{args.rows:,} demo cases with matters, median of {args.runs}")
    run_on_engines(args, "matters", load_matters, bench_engine)


if __name__ == "__main__":
    main()
