"""Helpers shared by the benchmark scripts: timing, fresh databases, the 1M-case demo set, the kept-database runs."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa

from data_access.demo.loading import load_demo
from data_access.store.database import init_database
from data_access.store.engine import REPO_ROOT, make_engine

BENCH_DIR = REPO_ROOT / "data" / "bench"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
MARIADB_ADMIN_URL = os.environ.get("BENCH_MARIADB_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
BENCH_END = dt.date(2026, 11, 22)
BENCH_SEED = 7


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float], object]:
    """Median seconds over `runs` calls, every run's seconds, and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def fmt_runs(times: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in times)


def fresh_duckdb(name: str, initialise: bool = True) -> sa.Engine:
    """An empty DuckDB file under data/bench/, initialised (tables, regions, calendar) unless told not to."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"{name}.duckdb"
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    engine = make_engine(f"duckdb:///{path}")
    if initialise:
        init_database(engine)
    return engine


def fresh_postgres(name: str | None = None, initialise: bool = True) -> tuple[sa.Engine, Callable[[], None]]:
    """An empty PostgreSQL database, initialised unless told not to, and a function that drops it."""
    return _fresh_server(PG_ADMIN_URL, name, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', 'CREATE DATABASE "{name}"',
                         initialise)


def fresh_mariadb(name: str | None = None, initialise: bool = True) -> tuple[sa.Engine, Callable[[], None]]:
    """An empty MariaDB (MySQL-family) database in utf8mb4, initialised unless told not to, and a function that drops it."""
    return _fresh_server(MARIADB_ADMIN_URL, name, "DROP DATABASE IF EXISTS `{name}`",
                         "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", initialise)


def _fresh_server(admin_url: str, name: str | None, drop_sql: str, create_sql: str,
                  initialise: bool) -> tuple[sa.Engine, Callable[[], None]]:
    name = name or f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(drop_sql.format(name=name)))
        conn.execute(sa.text(create_sql.format(name=name)))
    engine = make_engine(sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    if initialise:
        init_database(engine)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(drop_sql.format(name=name)))
        admin.dispose()

    return engine, drop


def mariadb_buffer_pool(engine: sa.Engine) -> str:
    """The server's version and InnoDB buffer pool size, printed beside its figures."""
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
        pool = int(conn.execute(sa.text("SELECT @@innodb_buffer_pool_size")).scalar_one())
    return f"{version}, innodb_buffer_pool_size {pool / 2**30:.1f} GiB"


def load_demo_million(engine: sa.Engine, n: int = 1_000_000) -> None:
    """Fill the case table with `n` demo cases ending BENCH_END."""
    load_demo(engine, n, BENCH_SEED, BENCH_END)


def add_database_arguments(parser: argparse.ArgumentParser, engines: str) -> None:
    """The options of a benchmark that loads N cases into a database per engine: --rows, --runs, --engines (default
    `engines`), --keep and --reuse."""
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", default=engines, help="comma-separated: duckdb, postgresql, mariadb")
    parser.add_argument("--keep", action="store_true", help="leave the databases for a run with --reuse")
    parser.add_argument("--reuse", action="store_true", help="use the databases a --keep run left")


def open_bench_database(engine_name: str, name: str, reuse: bool) -> tuple[sa.Engine, Callable[[], None] | None]:
    """The engine's benchmark database (data/bench/<name>.duckdb, or bench_<name> on the server): a fresh, initialised
    one, or with `reuse` the one a --keep run left; and how to drop it (None: nothing to drop)."""
    if engine_name == "duckdb":
        path = BENCH_DIR / f"{name}.duckdb"
        return (make_engine(f"duckdb:///{path}") if reuse else fresh_duckdb(name)), None
    admin_url, fresh = {"postgresql": (PG_ADMIN_URL, fresh_postgres), "mariadb": (MARIADB_ADMIN_URL, fresh_mariadb)}[engine_name]
    if reuse:
        return make_engine(sa.make_url(admin_url).set(database=f"bench_{name}").render_as_string(hide_password=False)), None
    return fresh(f"bench_{name}")


def run_on_engines(args: argparse.Namespace, name: str, load: Callable[[sa.Engine, int], None],
                   bench: Callable[[str, sa.Engine, int], None]) -> None:
    """For each engine of args.engines: open its benchmark database `name`, `load` args.rows cases into it (unless
    --reuse), `bench` it over args.runs, then drop it (unless --keep)."""
    engine_names: Sequence[str] = args.engines.split(",")
    for engine_name in engine_names:
        engine, drop = open_bench_database(engine_name, name, args.reuse)
        try:
            if not args.reuse:
                load(engine, args.rows)
            if engine_name == "mariadb":
                print(f"mariadb: {mariadb_buffer_pool(engine)}")
            bench(engine_name, engine, args.runs)
        finally:
            engine.dispose()
            if drop is not None and not args.keep:
                drop()
