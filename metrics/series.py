"""Time series by ISO week (Monday-Sunday) or month, from the same rules as the tables.

Each bucket is its own period, read as of its own last day (or the overall as-of date if earlier),
so a weekly point is exactly what the table would say for that week. The buckets are a VALUES
table joined to the cases in one statement, each case to the buckets where it can count (see
compiler.aggregate_subquery); a bucket-independent pre-filter keeps the join to the cases that can
count in some bucket.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import LabelledEnum
from data_access.store.database import stored_deadlines
from data_access.store.dialects import days_between
from data_access.store.engine import connect, result_frame

from . import summary
from .compiler import (
    AggregateSpec,
    Buckets,
    aggregate_subquery,
    derived_columns,
    filter_conditions,
    resolve_metrics,
    within,
    within_scope,
)
from .registry import required_counts
from .request import CaseFilter, Period
from .rules import Bounds, relevant_cases
from .settings import DEFAULT_SETTINGS, Settings
from .table import averaged, summary_applies, typed_metrics


class Grain(LabelledEnum):
    """Bucket size of a time series."""

    WEEK = ("week", "周")
    MONTH = ("month", "月")


@dataclass(frozen=True)
class SeriesRequest:
    """Metrics of one region (None: the whole province) per bucket of `grain` covering `period`,
    within the viewer's `scope` (required)."""

    period: Period
    grain: Grain = Grain.WEEK
    region: str | None = None
    filters: CaseFilter = field(default_factory=CaseFilter)
    metrics: tuple[str, ...] | None = None
    scope: Scope = field(kw_only=True)

    def __post_init__(self) -> None:
        require_scope(self.scope)


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def buckets(period: Period, grain: Grain) -> list[Period]:
    """Whole weeks or months overlapping the period, each as of min(its end, the period's as-of)."""
    as_of = period.as_of_date
    out: list[Period] = []
    start = week_start(period.start) if grain is Grain.WEEK else period.start.replace(day=1)
    while start <= min(period.end, as_of):
        nxt = start + dt.timedelta(days=7) if grain is Grain.WEEK else _next_month(start)
        end = nxt - dt.timedelta(days=1)
        out.append(Period(start, end, min(end, as_of)))
        start = nxt
    return out


def bucket_number(day: sa.ColumnElement[Any], grain: Grain, first: dt.date) -> sa.ColumnElement[int]:
    """The index of the bucket holding `day` (0 for the bucket starting `first`; outside: out of range)."""
    if grain is Grain.WEEK:
        days = sa.cast(days_between(day, sa.literal(first, sa.Date)), sa.Double)
        return sa.cast(sa.func.floor(days / 7), sa.Integer)
    months = (sa.extract("year", day) - first.year) * 12 + sa.extract("month", day) - first.month
    return sa.cast(months, sa.Integer)


def series_query(request: SeriesRequest, settings: Settings = DEFAULT_SETTINGS,
                 stored_deadlines: bool = True, from_summary: bool = False) -> sa.Select[Any]:
    """One statement: a row per bucket with every requested metric; summed from the per-county daily
    summary with `from_summary` (the caller checks it is current and holds the request), else aggregated
    over the cases."""
    metric_ids = resolve_metrics(request.metrics)
    periods = buckets(request.period, request.grain)
    table = sa.values(
        sa.column("bucket_no", sa.Integer), sa.column("bucket_start", sa.Date), sa.column("bucket_end", sa.Date),
        sa.column("bucket_as_of", sa.Date), sa.column("bucket_window_end", sa.Date), name="buckets",
    ).data([(i, p.start, p.end, p.as_of_date, p.window_end) for i, p in enumerate(periods)])
    if from_summary:
        agg = summary.summed_by_bucket(required_counts(metric_ids), averaged(metric_ids), table,
                                       (summary.in_region(request.region), summary.in_scope(request.scope))).subquery("agg")
    else:
        agg = _scanned(request, metric_ids, periods, table, settings, stored_deadlines)
    return (
        sa.select(table.c.bucket_start, table.c.bucket_end, table.c.bucket_as_of, *derived_columns(agg, metric_ids))
        .select_from(table.outerjoin(agg, agg.c.code == table.c.bucket_start))
        .order_by(table.c.bucket_start)
    )


def _scanned(request: SeriesRequest, metric_ids: tuple[str, ...], periods: list[Period], table: sa.Values,
             settings: Settings, stored_deadlines: bool) -> sa.Subquery:
    """The counts per bucket aggregated over the cases joined to the buckets."""
    spec = AggregateSpec(
        group=Buckets(
            table,
            key=table.c.bucket_start,
            columns=(table.c.bucket_start, table.c.bucket_end, table.c.bucket_as_of, table.c.bucket_window_end),
            number=lambda day: bucket_number(day, request.grain, periods[0].start),
        ),
        where=(within(request.region), within_scope(request.scope), *filter_conditions(request.filters),
               *relevant_cases(periods[0].start, min(p.as_of_date for p in periods),
                               max(p.as_of_date for p in periods), settings)),
        bounds=lambda c: Bounds(c.bucket_start, c.bucket_end, c.bucket_as_of, c.bucket_window_end),
    )
    return aggregate_subquery(metric_ids, required_counts(metric_ids), spec, settings, stored_deadlines)


def metric_series(conn: sa.Engine | sa.Connection, request: SeriesRequest,
                  settings: Settings = DEFAULT_SETTINGS, from_summary: bool | None = None) -> pd.DataFrame:
    """Run the series query: one row per bucket (bucket_start, bucket_end, bucket_as_of, metrics...).
    `from_summary` as for metrics.table.region_table."""
    if not buckets(request.period, request.grain):
        return pd.DataFrame(columns=["bucket_start", "bucket_end", "bucket_as_of", *resolve_metrics(request.metrics)])
    with connect(conn) as c:
        use = summary_applies(c, request.filters, resolve_metrics(request.metrics), settings, from_summary)
        result = c.execute(series_query(request, settings, stored_deadlines(c), from_summary=use))
        frame = result_frame(result)
    return typed_metrics(frame, resolve_metrics(request.metrics))
