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

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from data_access.store.database import case_count
from metrics import summary
from metrics.request import Period, TableRequest
from metrics.settings import Settings
from metrics.table import region_table

from .common import BENCH_END, add_database_arguments, fmt_runs, load_demo_million, run_on_engines, timed

PERIOD = Period(BENCH_END - dt.timedelta(days=364), BENCH_END)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_database_arguments(parser, engines="duckdb,postgresql,mariadb")
    args = parser.parse_args()
    print(f"{args.rows:,} demo cases, median of {args.runs}")
    run_on_engines(args, "fingerprint", load_demo_million, bench_engine)


if __name__ == "__main__":
    main()
