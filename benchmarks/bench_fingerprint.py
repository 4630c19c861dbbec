"""Benchmark: what it costs to know that the per-county daily summary is current (metrics/summary.py).

For each engine, over N demo cases loaded with the summary kept: the case table's fingerprint (count and the sum
of a hash of the columns the summary reads: a scan), the whole check with the fingerprint read now (what
`python -m metrics summary --check` does, and a process every summary_check_seconds), the check with the
fingerprint kept by the process (what every other table read pays), and beside them the county table from the
summary and scanning the cases. Then the check's answer after an update in place (44 open cases closed by SQL).
Median of --runs.

    python -m benchmarks.bench_fingerprint [--rows 5000000] [--runs 5] [--engines duckdb,postgresql,mariadb] [--keep]

--keep leaves the databases (data/bench/fingerprint.duckdb, bench_fingerprint on the servers) for a second run
with --reuse, which skips the load.
"""
from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from data_access.database import case_count
from data_access.engine import make_engine
from data_access.enums import Level
from data_access.scope import WHOLE_PROVINCE
from metrics import summary
from metrics.request import Period, TableRequest
from metrics.settings import Settings
from metrics.table import region_table

from .common import (
    BENCH_DIR,
    BENCH_END,
    MARIADB_ADMIN_URL,
    PG_ADMIN_URL,
    fmt_runs,
    fresh_duckdb,
    fresh_mariadb,
    fresh_postgres,
    load_demo_million,
    mariadb_buffer_pool,
    timed,
)

PERIOD = Period(BENCH_END - dt.timedelta(days=364), BENCH_END)
NAME = "bench_fingerprint"
KEPT = Settings(summary_check_seconds=3600)


def bench_engine(name: str, engine: sa.Engine, runs: int) -> None:
    """The fingerprint, the check both ways, the county table both ways; then an update in place and the check."""
    request = TableRequest(Level.COUNTY, PERIOD, scope=WHOLE_PROVINCE)

    def checked(max_age: float) -> Callable[[], object]:
        def check() -> object:
            with engine.connect() as conn:
                return summary.currency(conn, KEPT, max_age=max_age)
        return check

    def fingerprint() -> str:
        with engine.connect() as conn:
            return summary.case_fingerprint(conn)

    def report(what: str, fn: Callable[[], object]) -> object:
        fn()  # warm-up: connection, plan, file cache
        med, times, result = timed(fn, runs)
        print(f"{name}: {what}: median {med * 1000:.1f} ms (runs {fmt_runs(times)} s)")
        return result

    print(f"{name}: {case_count(engine):,} cases")
    report("case table fingerprint (count + sum of row hashes, a scan)", fingerprint)
    assert report("summary check, fingerprint read now (--check)", checked(0.0)).current  # type: ignore[attr-defined]
    report("summary check, fingerprint kept by the process (every table read)", checked(3600.0))
    report("county table, 28 metrics, 12 months, from the summary", lambda: region_table(engine, request, KEPT))
    report("same, scanning the cases", lambda: region_table(engine, request, KEPT, from_summary=False))
    with engine.begin() as conn:
        open_ids = [r[0] for r in conn.execute(sa.text(
            "SELECT case_id FROM cases WHERE closed_date IS NULL ORDER BY case_id LIMIT 44"))]
        conn.execute(sa.text("UPDATE cases SET closed_date = :day WHERE case_id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"day": BENCH_END, "ids": open_ids})
    with engine.connect() as conn:
        after = summary.currency(conn, KEPT, max_age=0.0)
    print(f"{name}: after 44 cases closed by SQL: {after.staleness.value if after.staleness else 'current (WRONG)'}")
    with engine.begin() as conn:
        summary.rebuild(conn, KEPT)


def server_engine(admin_url: str) -> sa.Engine:
    return make_engine(sa.make_url(admin_url).set(database=NAME).render_as_string(hide_password=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", default="duckdb,postgresql,mariadb", help="comma-separated: duckdb, postgresql, mariadb")
    parser.add_argument("--keep", action="store_true", help="leave the databases for a run with --reuse")
    parser.add_argument("--reuse", action="store_true", help="use the databases a --keep run left")
    args = parser.parse_args()
    engines = args.engines.split(",")
    print(f"{args.rows:,} demo cases, median of {args.runs}")
    if "duckdb" in engines:
        duck = make_engine(f"duckdb:///{BENCH_DIR / 'fingerprint.duckdb'}") if args.reuse else fresh_duckdb("fingerprint")
        if not args.reuse:
            load_demo_million(duck, args.rows)
        bench_engine("duckdb", duck, args.runs)
        duck.dispose()
    for engine_name, admin_url, fresh in (("postgresql", PG_ADMIN_URL, fresh_postgres),
                                          ("mariadb", MARIADB_ADMIN_URL, fresh_mariadb)):
        if engine_name not in engines:
            continue
        if args.reuse:
            engine, drop = server_engine(admin_url), None
        else:
            engine, drop = fresh(NAME)
            load_demo_million(engine, args.rows)
        try:
            if engine_name == "mariadb":
                print(f"mariadb: {mariadb_buffer_pool(engine)}")
            bench_engine(engine_name, engine, args.runs)
        finally:
            engine.dispose()
            if drop is not None and not args.keep:
                drop()


if __name__ == "__main__":
    main()
