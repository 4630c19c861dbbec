"""Region tables and time series: the compiled aggregate, executed, as DataFrames of ~100 rows."""
from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import counties_at_or_under
from data_access.reference.enums import Level
from data_access.store.database import stored_deadlines
from data_access.store.engine import connect, result_frame
from data_access.store.schema import regions

from . import summary
from .compiler import (
    AggregateSpec,
    aggregate_subquery,
    derived_columns,
    filter_conditions,
    group_key,
    in_subtree,
    region_map,
    resolve_metrics,
    rolled_up,
    within,
    within_scope,
)
from .registry import METRICS_BY_ID, MetricKind, required_counts
from .request import CaseFilter, TableRequest
from .rules import Bounds, relevant_cases
from .settings import DEFAULT_SETTINGS, Settings

REGION_COLUMNS = ("code", "name", "level", "parent_code")


def table_query(request: TableRequest, settings: Settings = DEFAULT_SETTINGS,
                stored_deadlines: bool = True, from_summary: bool = False) -> sa.Select[Any]:
    """One statement: every region of the level under the parent (within scope), with its metrics;
    summed from the per-county daily summary with `from_summary` (metrics/summary.py: the caller checks
    that it applies: `reads_from_summary`), else aggregated over the cases."""
    metric_ids = resolve_metrics(request.metrics)
    p = request.period
    if from_summary:
        agg = _summary_aggregate(request, metric_ids)
    else:
        bounds = Bounds.of_dates(p.start, p.end, p.as_of_date)
        spec = AggregateSpec(
            group=request.level,
            where=(within(request.parent), within_scope(request.scope), *filter_conditions(request.filters),
                   *relevant_cases(p.start, p.as_of_date, p.as_of_date, settings)),
            bounds=lambda columns: bounds,
        )
        agg = aggregate_subquery(metric_ids, required_counts(metric_ids), spec, settings, stored_deadlines)
    keys = _region_keys(request)
    return (
        sa.select(*(regions.c[c] for c in REGION_COLUMNS), *derived_columns(agg, metric_ids))
        .select_from(keys.join(regions, regions.c.code == keys.c.code).outerjoin(agg, agg.c.code == keys.c.code))
        .order_by(regions.c.code)
    )


def _summary_aggregate(request: TableRequest, metric_ids: tuple[str, ...]) -> sa.Subquery:
    """The counts by region of the request's level, summed from the summary's county rows."""
    p = request.period
    by_county = summary.summed_by_county(required_counts(metric_ids), averaged(metric_ids), p.start, p.window_end, p.as_of_date,
                                         (summary.in_region(request.parent), summary.in_scope(request.scope)))
    if request.level is Level.COUNTY:
        return by_county.subquery("agg")
    return rolled_up(by_county.subquery("agg_county"), request.level, "agg")


def averaged(metric_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The average metrics among `metric_ids`."""
    return tuple(m for m in metric_ids if METRICS_BY_ID[m].kind is MetricKind.AVERAGE)


def summary_applies(conn: sa.Connection, filters: CaseFilter, metric_ids: tuple[str, ...], settings: Settings,
                    from_summary: bool | None = None) -> bool:
    """Whether a reading of these metrics with these filters is summed from the per-county daily summary:
    `from_summary` None where the engine reads it (summary.reads_summary), True on any engine, False never;
    and in every case only with no case filter, a column for every metric, stored deadlines and a current
    summary."""
    wanted = summary.reads_summary(conn) if from_summary is None else from_summary
    return (wanted and filters == CaseFilter()
            and summary.covers((*required_counts(metric_ids), *averaged(metric_ids)))
            and stored_deadlines(conn) and summary.is_current(conn, settings))


def reads_from_summary(conn: sa.Connection, request: TableRequest, settings: Settings,
                       from_summary: bool | None = None) -> bool:
    """Whether region_table reads this request from the summary (see region_table's `from_summary`)."""
    return summary_applies(conn, request.filters, resolve_metrics(request.metrics), settings, from_summary)


def _region_keys(request: TableRequest) -> sa.Subquery:
    """Codes of the regions the table has a row for, cases or not."""
    rmap = region_map()
    key = group_key(rmap, request.level)
    return (
        sa.select(key.label("code"))
        .where(in_subtree(rmap, request.parent), in_subtree(rmap, request.scope.code))
        .distinct()
        .subquery("region_keys")
    )


def counties_under(conn: sa.Engine | sa.Connection, code: str) -> set[str]:
    """Codes of the county-level units at or under region `code`."""
    with connect(conn) as c:
        return {r[0] for r in c.execute(counties_at_or_under(code))}


class BadParent(ValueError):
    """A parent region that does not exist, or lies below the level whose rows are asked for."""


def check_parent(conn: sa.Connection, level: Level, parent: str | None) -> None:
    """BadParent unless `parent` is None or a region at `level` or above (a city's table under a
    county would be that county's cases labelled as the whole city)."""
    if parent is None:
        return
    found = conn.execute(sa.select(regions.c.level).where(regions.c.code == parent)).scalar()
    if found is None:
        raise BadParent(f"地区代码 {parent} 不存在 / region {parent} does not exist")
    if Level(found).depth > level.depth:
        raise BadParent(f"地区 {parent} 是{Level(found).label}级，低于所求的{level.label}级 / "
                        f"region {parent} is a {found}, below the level {level.value}")


def region_table(conn: sa.Engine | sa.Connection, request: TableRequest, settings: Settings = DEFAULT_SETTINGS,
                 from_summary: bool | None = None) -> pd.DataFrame:
    """Run the table query; counts as int, rates and averages as float (NaN where null).
    BadParent when the request's parent is unknown or below its level. `from_summary`: None reads the
    per-county daily summary where the engine reads it (summary.reads_summary) and it is current and
    serves the request; True does so on any engine (still only when current and serving), False never."""
    with connect(conn) as c:
        check_parent(c, request.level, request.parent)
        stmt = table_query(request, settings, stored_deadlines(c),
                           from_summary=reads_from_summary(c, request, settings, from_summary))
        result = c.execute(stmt)
        frame = result_frame(result)
    return typed_metrics(frame, resolve_metrics(request.metrics))


def typed_metrics(frame: pd.DataFrame, metric_ids: tuple[str, ...]) -> pd.DataFrame:
    """Counts as int64, rates and averages as float64 (NaN where null)."""
    for mid in metric_ids:
        if METRICS_BY_ID[mid].kind is MetricKind.COUNT:
            frame[mid] = frame[mid].astype("int64")
        else:
            frame[mid] = pd.to_numeric(frame[mid], errors="coerce").astype("float64")
    return frame
