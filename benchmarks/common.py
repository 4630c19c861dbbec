"""Helpers shared by the benchmark scripts: timing, fresh databases, the 1M-case demo set."""
from __future__ import annotations

import datetime as dt
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from data_access.database import init_database, load_demo
from data_access.engine import REPO_ROOT, make_engine

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
