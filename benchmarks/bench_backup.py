"""Benchmark: backup and restore of a database of N demo cases (default 100,000) with the demo's 12388 complaints,
draws and ledger items and the per-county daily summary, on DuckDB, PostgreSQL and MariaDB: `take_backup` of the
filled database (python -m data_access backup without the process start), then `restore_backup` into a fresh,
empty database of the same engine; and DuckDB's backup restored into PostgreSQL. Median of --runs.

    python -m benchmarks.bench_backup [--rows 100000] [--runs 3] [--engines duckdb,postgresql,mariadb]
"""
from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

import metrics.summary  # noqa: F401  (registers the loader's hook that keeps the summary, as the dashboard does)
from data_access.records.backup import BackupReport, restore_backup, take_backup

from .common import fmt_runs, fresh_duckdb, fresh_mariadb, fresh_postgres, load_demo_million, timed

Fresh = Callable[[str, bool], tuple[sa.Engine, Callable[[], None]]]


def fresh_of(engine_name: str) -> Fresh:
    """A function making a database of that engine (initialised, or with no tables) and its drop function."""
    if engine_name == "duckdb":
        def duck(name: str, initialise: bool) -> tuple[sa.Engine, Callable[[], None]]:
            engine = fresh_duckdb(name, initialise)
            return engine, engine.dispose
        return duck
    server = {"postgresql": fresh_postgres, "mariadb": fresh_mariadb}[engine_name]
    return lambda name, initialise: server(None, initialise)


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="duckdb,postgresql,mariadb", help="comma-separated: duckdb, postgresql, mariadb")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench_backup_"))
    kept: dict[str, BackupReport] = {}
    try:
        for engine_name in args.engines.split(","):
            fresh = fresh_of(engine_name)
            source, drop_source = fresh("backup_source", True)
            load_demo_million(source, args.rows)
            med, runs, report = timed(functools.partial(take_backup, source, out / engine_name, "bench"), args.runs)
            assert isinstance(report, BackupReport)
            kept[engine_name] = report
            print(f"backup {engine_name}: {args.rows:,} cases, {len(report.manifest.tables)} tables, "
                  f"{report.manifest.rows:,} rows, {size_mb(report.folder):.1f} MB; median {med:.2f} s (runs {fmt_runs(runs)})",
                  flush=True)
            drop_source()
            print(f"restore {engine_name} -> {engine_name}: median {restore_median(report, fresh, args.runs)}", flush=True)
        if "duckdb" in kept:
            print(f"restore duckdb -> postgresql: median {restore_median(kept['duckdb'], fresh_of('postgresql'), args.runs)}")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def restore_median(report: BackupReport, fresh: Fresh, runs: int) -> str:
    """Restores into a fresh empty database each run (its creation and drop not timed)."""
    times = []
    for i in range(runs):
        target, drop = fresh(f"backup_target_{i}", False)
        try:
            times.append(restore_backup(target, report.folder, "bench").seconds)
        finally:
            drop()
    return f"{statistics.median(times):.2f} s (runs {fmt_runs(times)})"


if __name__ == "__main__":
    main()
