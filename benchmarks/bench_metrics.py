"""Benchmark: the county table (every metric) for a 12-month period over 1,000,000 demo cases, the
weekly series, the 三色预警 counts and list at the period's end, the 形势分析 trends and the 变差 signals.

Database path (SQLAlchemy Core, pushed down) on DuckDB and PostgreSQL, beside the naive peer: the
same table computed in pandas over the whole case table read into memory. Median of --runs.

    python -m benchmarks.bench_metrics [--rows 1000000] [--runs 5]
"""
from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import sqlalchemy as sa

from data_access.database import case_count, county_frame
from data_access.enums import Level
from data_access.scope import WHOLE_PROVINCE
from metrics.request import Period, TableRequest
from metrics.series import Grain, SeriesRequest, metric_series
from metrics.signals import deterioration_signals
from metrics.table import region_table
from metrics.trends import TrendBy, trends
from metrics.warnings import deadline_warnings, warning_counts

from .common import BENCH_END, fmt_runs, fresh_duckdb, fresh_postgres, load_demo_million, timed
from .pandas_peer import county_table_pandas, read_all_cases

PERIOD = Period(BENCH_END - dt.timedelta(days=364), BENCH_END)


def bench_engine(name: str, engine: sa.Engine, runs: int) -> tuple[float, object]:
    request = TableRequest(Level.COUNTY, PERIOD, scope=WHOLE_PROVINCE)
    region_table(engine, request)  # warm-up: connection, plan, file cache
    med, times, result = timed(lambda: region_table(engine, request), runs)
    print(f"{name}: county table, {len(result)} counties x {result.shape[1] - 4} metrics, "
          f"{case_count(engine):,} cases: median {med * 1000:.0f} ms (runs {fmt_runs(times)} s)")
    series = SeriesRequest(PERIOD, Grain.WEEK, metrics=("on_time_rate", "satisfaction_rate", "received"),
                           scope=WHOLE_PROVINCE)
    smed, stimes, _ = timed(lambda: metric_series(engine, series), runs)
    print(f"{name}: province weekly series, 53 weeks: median {smed * 1000:.0f} ms (runs {fmt_runs(stimes)} s)")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"period {PERIOD.start}..{PERIOD.end}, {args.rows:,} demo cases, median of {args.runs}")

    duck = fresh_duckdb("metrics")
    load_demo_million(duck, args.rows)
    duck_med, duck_table = bench_engine("duckdb", duck, args.runs)

    pg, drop = fresh_postgres("bench_metrics")
    try:
        load_demo_million(pg, args.rows)
        pg_med, pg_table = bench_engine("postgresql", pg, args.runs)
    finally:
        drop()

    load_med, load_times, cases = timed(lambda: read_all_cases(duck), 1)
    codes = list(county_frame(duck)["code"])
    peer_med, peer_times, peer = timed(lambda: county_table_pandas(cases, codes, PERIOD), args.runs)
    print(f"pandas peer: reading the whole case table into memory {load_med:.2f} s, "
          f"then the county table: median {peer_med * 1000:.0f} ms (runs {fmt_runs(peer_times)} s)")
    print(f"ratio peer/duckdb (compute only): {peer_med / duck_med:.1f}x; "
          f"including the peer's load: {(peer_med + load_med) / duck_med:.0f}x")
    same = all(np.allclose(peer[c].to_numpy(float), duck_table[c].to_numpy(float), equal_nan=True, atol=1e-9)
               and np.allclose(pg_table[c].to_numpy(float), duck_table[c].to_numpy(float), equal_nan=True, atol=1e-9)
               for c in peer.columns if c != "code")
    print(f"results identical across duckdb, postgresql and the pandas peer: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
