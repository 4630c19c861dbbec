"""Benchmark: the county table (every metric) for a 12-month period over 1,000,000 demo cases, the
weekly series, the 三色预警 counts and list at the period's end, the 形势分析 trends and the 变差 signals.

Database path (SQLAlchemy Core, pushed down) on DuckDB and PostgreSQL, beside the naive peer: the
same table computed in pandas over the whole case table read into memory. On MariaDB (the MySQL
family): the county table as the pages read it (summed from the per-county daily summary), the same
table scanning the cases, and a hand-written SUM(CASE …) aggregate of 8 counts over the same rows in
the same run, the reference of a row store's scan speed. Median of --runs.

    python -m benchmarks.bench_metrics [--rows 1000000] [--runs 5] [--engines duckdb,postgresql,mariadb]
"""
from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from data_access.store.database import case_count, county_frame
from metrics.request import Period, TableRequest
from metrics.series import Grain, SeriesRequest, metric_series
from metrics.signals import deterioration_signals
from metrics.table import region_table
from metrics.trends import TrendBy, trends
from metrics.warnings import deadline_warnings, warning_counts

from .common import (
    BENCH_END,
    fmt_runs,
    fresh_duckdb,
    fresh_mariadb,
    fresh_postgres,
    load_demo_million,
    mariadb_buffer_pool,
    timed,
)
from .pandas_peer import county_table_pandas, read_all_cases

PERIOD = Period(BENCH_END - dt.timedelta(days=364), BENCH_END)


SERIES = SeriesRequest(PERIOD, Grain.WEEK, metrics=("on_time_rate", "satisfaction_rate", "received", "overdue"),
                       scope=WHOLE_PROVINCE)


def bench_series(name: str, engine: sa.Engine, runs: int) -> None:
    """The province's weekly series (the overdue stock read at each week's end) from the summary and scanning."""
    for from_summary, how in ((None, "from the per-county daily summary"), (False, "scanning the cases")):
        med, times, _ = timed(lambda fs=from_summary: metric_series(engine, SERIES, from_summary=fs), runs)
        print(f"{name}: province weekly series, 53 weeks x 4 metrics, {how}: median {med * 1000:.0f} ms "
              f"(runs {fmt_runs(times)} s)")


def bench_engine(name: str, engine: sa.Engine, runs: int) -> tuple[float, object]:
    request = TableRequest(Level.COUNTY, PERIOD, scope=WHOLE_PROVINCE)
    region_table(engine, request)  # warm-up: connection, plan, file cache
    med, times, result = timed(lambda: region_table(engine, request), runs)
    print(f"{name}: county table, {len(result)} counties x {result.shape[1] - 4} metrics, "
          f"{case_count(engine):,} cases, from the per-county daily summary: median {med * 1000:.0f} ms "
          f"(runs {fmt_runs(times)} s)")
    scan_med, scan_times, _ = timed(lambda: region_table(engine, request, from_summary=False), runs)
    print(f"{name}: same table scanning the cases: median {scan_med * 1000:.0f} ms (runs {fmt_runs(scan_times)} s)")
    bench_series(name, engine, runs)
    wmed, wtimes, counts = timed(lambda: warning_counts(engine, PERIOD.end, Level.COUNTY, scope=WHOLE_PROVINCE), runs)
    print(f"{name}: 三色预警 counts per county ({int(counts['open'].sum()):,} open cases): median {wmed * 1000:.0f} ms "
          f"(runs {fmt_runs(wtimes)} s)")
    lmed, ltimes, listed = timed(lambda: deadline_warnings(engine, PERIOD.end, scope=WHOLE_PROVINCE,
                                                           colours=("yellow",)), runs)
    print(f"{name}: 临期 (yellow) list of the province, {len(listed):,} cases: median {lmed * 1000:.0f} ms "
          f"(runs {fmt_runs(ltimes)} s)")
    half = Period(PERIOD.end - dt.timedelta(days=181), PERIOD.end)
    tmed, ttimes, rows = timed(lambda: trends(engine, Level.COUNTY, TrendBy.DOMAIN, half, scope=WHOLE_PROVINCE), runs)
    print(f"{name}: 形势分析 trends, every county x domain, 6 months ({len(rows):,} rows): median {tmed * 1000:.0f} ms "
          f"(runs {fmt_runs(ttimes)} s)")
    gmed, gtimes, read = timed(lambda: deterioration_signals(engine, PERIOD.end, scope=WHOLE_PROVINCE), runs)
    print(f"{name}: 变差信号 signals, {len(read)} counties x 34 weeks ({int((read['signals'] != '').sum())} with a signal): "
          f"median {gmed * 1000:.0f} ms (runs {fmt_runs(gtimes)} s)")
    return med, result


# Eight counts of the county table written by hand as a row store's plain aggregate: the same rows (the
# compiled statement's WHERE), SUM(CASE WHEN … THEN 1 ELSE 0 END) per count, grouped by county.
HAND_WRITTEN = sa.text("""
SELECT county_code,
  SUM(CASE WHEN received_date >= :start THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND received_date >= :start THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND COALESCE(due_date, DATE_ADD(received_date, INTERVAL 60 DAY))
           BETWEEN :start AND :end THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND COALESCE(due_date, DATE_ADD(received_date, INTERVAL 60 DAY))
           BETWEEN :start AND :end AND closed_date <= COALESCE(due_date, DATE_ADD(received_date, INTERVAL 60 DAY))
           THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND COALESCE(due_date, DATE_ADD(received_date, INTERVAL 60 DAY)) < :end
           AND (closed_date IS NULL OR closed_date > :end) THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND closed_date BETWEEN :start AND :end THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND closed_date BETWEEN :start AND :end
           AND satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END),
  SUM(CASE WHEN category = 'accusation' AND received_date >= :start AND is_leapfrog THEN 1 ELSE 0 END)
FROM cases
WHERE received_date <= :end AND (closed_date IS NULL OR closed_date >= :reach OR received_date >= :reach
      OR COALESCE(due_date, DATE_ADD(received_date, INTERVAL 60 DAY)) >= :start)
GROUP BY county_code
""")


def bench_mariadb(engine: sa.Engine, runs: int) -> object:
    """The county table from the summary and from the cases, against the hand-written aggregate."""
    print(f"mariadb: {mariadb_buffer_pool(engine)}")
    request = TableRequest(Level.COUNTY, PERIOD, scope=WHOLE_PROVINCE)
    params = {"start": PERIOD.start, "end": PERIOD.end, "reach": PERIOD.start - dt.timedelta(days=40)}

    def hand_written() -> int:
        with engine.connect() as conn:
            return len(conn.execute(HAND_WRITTEN, params).fetchall())

    hand_written()  # warm-up: the buffer pool
    hmed, htimes, groups = timed(hand_written, runs)
    print(f"mariadb: hand-written SUM(CASE …) of 8 counts, {groups} counties: median {hmed * 1000:.0f} ms "
          f"(runs {fmt_runs(htimes)} s)")
    smed, stimes, table = timed(lambda: region_table(engine, request), runs)
    print(f"mariadb: county table, {len(table)} counties x {table.shape[1] - 4} metrics, from the per-county daily summary: "
          f"median {smed * 1000:.0f} ms (runs {fmt_runs(stimes)} s) = {smed / hmed:.2f}x the hand-written aggregate")
    cmed, ctimes, scanned = timed(lambda: region_table(engine, request, from_summary=False), runs)
    print(f"mariadb: same table scanning the cases: median {cmed * 1000:.0f} ms (runs {fmt_runs(ctimes)} s) "
          f"= {cmed / hmed:.2f}x the hand-written aggregate")
    same = all(np.allclose(scanned[c].to_numpy(float), table[c].to_numpy(float), equal_nan=True, atol=1e-9)
               for c in table.columns if c not in ("code", "name", "level", "parent_code"))
    print(f"mariadb: summary and case scan identical: {'yes' if same else 'NO'}")
    bench_series("mariadb", engine, runs)
    gmed, gtimes, read = timed(lambda: deterioration_signals(engine, PERIOD.end, scope=WHOLE_PROVINCE), runs)
    print(f"mariadb: 变差信号 signals, {len(read)} counties x 34 weeks: median {gmed * 1000:.0f} ms (runs {fmt_runs(gtimes)} s)")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", default="duckdb,postgresql,mariadb", help="comma-separated: duckdb, postgresql, mariadb")
    args = parser.parse_args()
    engines = args.engines.split(",")
    print(f"period {PERIOD.start}..{PERIOD.end}, {args.rows:,} demo cases, median of {args.runs}")

    duck = fresh_duckdb("metrics")
    load_demo_million(duck, args.rows)
    duck_med, duck_table = bench_engine("duckdb", duck, args.runs)
    tables = {"duckdb": duck_table}

    if "postgresql" in engines:
        pg, drop = fresh_postgres("bench_metrics")
        try:
            load_demo_million(pg, args.rows)
            tables["postgresql"] = bench_engine("postgresql", pg, args.runs)[1]
        finally:
            drop()
    if "mariadb" in engines:
        maria, drop = fresh_mariadb("bench_metrics")
        try:
            load_demo_million(maria, args.rows)
            tables["mariadb"] = bench_mariadb(maria, args.runs)
        finally:
            drop()

    load_med, load_times, cases = timed(lambda: read_all_cases(duck), 1)
    codes = list(county_frame(duck)["code"])
    peer_med, peer_times, peer = timed(lambda: county_table_pandas(cases, codes, PERIOD), args.runs)
    print(f"pandas peer: reading the whole case table into memory {load_med:.2f} s, "
          f"then the county table: median {peer_med * 1000:.0f} ms (runs {fmt_runs(peer_times)} s)")
    print(f"ratio peer/duckdb (compute only): {peer_med / duck_med:.1f}x; "
          f"including the peer's load: {(peer_med + load_med) / duck_med:.0f}x")
    same = all(np.allclose(other[c].to_numpy(float), duck_table[c].to_numpy(float), equal_nan=True, atol=1e-9)
               for other in (peer, *tables.values()) for c in peer.columns if c != "code")
    print(f"results identical across {', '.join(tables)} and the pandas peer: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
