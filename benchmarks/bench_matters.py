"""Benchmark: the repeat-matters screening (metrics/matters.py, one statement) over 5,000,000 demo cases, a share of
them repeat reports of earlier ones, on DuckDB (target < 1 s) and PostgreSQL (target < 5 s); MariaDB on request.

The demo generator leaves matter_id empty, so the cases get matters here, seeded: one case in 25 heads a matter,
about 12 % of the cases report one of those again (keyed by the head's case_id, some written with a space or a
U+3000 at an end, as offices type them), a third of the heads name themselves, and received_level is set on most.
Loaded through the app's own bulk path (data_access.imports.loading.load_cases). Median of --runs.

    python -m benchmarks.bench_matters [--rows 5000000] [--runs 5] [--engines duckdb,postgresql] [--keep | --reuse]

--keep leaves the databases (data/bench/matters.duckdb, bench_matters on the servers) for a run with --reuse.
"""
from __future__ import annotations

import argparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from data_access.demo import cases as demo
from data_access.imports.loading import ImportMode, load_cases
from data_access.imports.validate import ValidatedCases
from data_access.store.database import case_count, county_frame
from metrics.matters import repeat_matters

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
    """The screening of the whole province and of one city, read at BENCH_END."""
    repeat_matters(engine, BENCH_END)  # warm-up: connection, plan, file cache
    med, times, found = timed(lambda: repeat_matters(engine, BENCH_END), runs)
    assert isinstance(found, list)
    screened = sum(m.screened for m in found)
    print(f"{name}: repeat matters of the province, {case_count(engine):,} cases: {len(found):,} repeat matters "
          f"({screened:,} screened): median {med * 1000:.0f} ms (runs {fmt_runs(times)} s)")
    city_med, city_times, city = timed(lambda: repeat_matters(engine, BENCH_END, parent="370800"), runs)
    assert isinstance(city, list)
    print(f"{name}: same, --parent 370800 (济宁市), {len(city):,} matters: median {city_med * 1000:.0f} ms "
          f"(runs {fmt_runs(city_times)} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, engines="duckdb,postgresql")
    args = parser.parse_args()
    print(f"{args.rows:,} demo cases with matters, median of {args.runs}")
    run_on_engines(args, "matters", load_matters, bench_engine)


if __name__ == "__main__":
    main()
