"""Compile metric requests into one SQLAlchemy Core aggregate query, run by the database.

Every count metric is `COUNT(*) FILTER (WHERE <its predicates>)` over the case table; rates and
averages are formed from those counts in the same statement, in double precision, with the
denominator guarded by NULLIF. Period bounds enter as SQL expressions so that the same predicates
serve a single period (bound parameters) and a time series (columns of a bucket table).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from data_access.enums import Category, Level, Satisfaction
from data_access.schema import cases, regions, workday_calendar

from .registry import ALL_IDS, METRICS_BY_ID, MetricKind, required_counts
from .request import CaseFilter
from .settings import Settings


@dataclass(frozen=True)
class Bounds:
    """The period as SQL expressions: start, end, as_of and window_end = min(end, as_of)."""

    start: sa.ColumnElement
    end: sa.ColumnElement
    as_of: sa.ColumnElement
    window_end: sa.ColumnElement

    @classmethod
    def of_dates(cls, start: dt.date, end: dt.date, as_of: dt.date) -> "Bounds":
        """Bounds bound as date parameters."""
        lit = lambda d, name: sa.bindparam(name, d, type_=sa.Date)  # noqa: E731
        return cls(lit(start, "p_start"), lit(end, "p_end"), lit(as_of, "p_as_of"), lit(min(end, as_of), "p_window_end"))


@dataclass(frozen=True)
class CaseContext:
    """What a predicate can refer to: the case columns, the period, deadlines from the calendar."""

    bounds: Bounds
    due: sa.ColumnElement  # due_date, or received_date + the default number of days
    notice_deadline: sa.ColumnElement  # D1: 15th working day after received_date
    feedback_deadline: sa.ColumnElement  # D2: 15th working day after closed_date


def _is(column: sa.ColumnElement) -> sa.ColumnElement:
    return column.is_(sa.true())


def _accusation() -> sa.ColumnElement:
    return cases.c.category == Category.ACCUSATION.value


def _between(value: sa.ColumnElement, lo: sa.ColumnElement, hi: sa.ColumnElement) -> sa.ColumnElement:
    return sa.and_(value >= lo, value <= hi)


def _closed_at(ctx: CaseContext) -> sa.ColumnElement:
    return cases.c.closed_date <= ctx.bounds.as_of


def _open_at(ctx: CaseContext) -> sa.ColumnElement:
    return sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date > ctx.bounds.as_of)


Predicate = Callable[[CaseContext], sa.ColumnElement]

PREDICATES: dict[str, Predicate] = {
    "received_in_period": lambda x: _between(cases.c.received_date, x.bounds.start, x.bounds.end),
    "accepted_in_period": lambda x: sa.and_(_accusation(), _between(cases.c.received_date, x.bounds.start, x.bounds.end)),
    "due_in_window": lambda x: sa.and_(_accusation(), _between(x.due, x.bounds.start, x.bounds.window_end)),
    "closed_by_due": lambda x: sa.and_(cases.c.closed_date <= x.due, _closed_at(x)),
    "first_report": lambda x: _is(cases.c.is_first_report),
    "overdue_at_as_of": lambda x: sa.and_(_accusation(), x.due < x.bounds.as_of, _open_at(x)),
    "closed_in_period": lambda x: sa.and_(_accusation(), _between(cases.c.closed_date, x.bounds.start, x.bounds.end), _closed_at(x)),
    "rated": lambda x: cases.c.satisfaction.is_not(None),
    "satisfied": lambda x: cases.c.satisfaction.in_([Satisfaction.SATISFIED.value, Satisfaction.BASIC.value]),
    "disputed": lambda x: _is(cases.c.disputed),
    "leapfrog": lambda x: _is(cases.c.is_leapfrog),
    "repeat": lambda x: _is(cases.c.is_repeat),
    "notice_due_in_window": lambda x: sa.and_(
        _accusation(), _is(cases.c.is_real_name), _between(x.notice_deadline, x.bounds.start, x.bounds.window_end)),
    "notice_on_time": lambda x: cases.c.accepted_notice_date <= x.notice_deadline,
    "feedback_due_in_window": lambda x: sa.and_(
        _accusation(), _is(cases.c.is_real_name), _closed_at(x),
        _between(x.feedback_deadline, x.bounds.start, x.bounds.window_end)),
    "feedback_on_time": lambda x: cases.c.result_notice_date <= x.feedback_deadline,
}

QUANTITIES: dict[str, Callable[[CaseContext], sa.ColumnElement]] = {
    "handling_days": lambda x: cases.c.closed_date - cases.c.received_date,
}

_NOTICE_METRICS = {"notice_due", "notice_on_time"}
_FEEDBACK_METRICS = {"feedback_due", "feedback_on_time"}


def count_condition(metric_id: str, ctx: CaseContext) -> sa.ColumnElement:
    """The full condition of a count metric: its predicate and those of all its parents."""
    m = METRICS_BY_ID[metric_id]
    own = PREDICATES[m.predicate](ctx)
    return sa.and_(count_condition(m.parent, ctx), own) if m.parent else own


def region_map() -> sa.Subquery:
    """county_code -> city_code, province_code (a directly administered county is its own city)."""
    r, p, g = regions.alias("r"), regions.alias("p"), regions.alias("g")
    city = sa.case((p.c.level == Level.CITY.value, p.c.code), else_=r.c.code)
    province = sa.case((p.c.level == Level.PROVINCE.value, p.c.code), else_=g.c.code)
    return (
        sa.select(r.c.code.label("county_code"), city.label("city_code"), province.label("province_code"))
        .select_from(r.outerjoin(p, p.c.code == r.c.parent_code).outerjoin(g, g.c.code == p.c.parent_code))
        .where(r.c.level == Level.COUNTY.value)
        .subquery("region_map")
    )


def group_key(rmap: sa.Subquery, level: Level) -> sa.ColumnElement:
    """The region_map column that names a case's region at `level`."""
    match level:
        case Level.COUNTY:
            return rmap.c.county_code
        case Level.CITY:
            return rmap.c.city_code
        case Level.PROVINCE:
            return rmap.c.province_code
    raise AssertionError(level)


def in_subtree(rmap: sa.Subquery, code: str | None) -> sa.ColumnElement:
    """region_map rows at or under region `code` (everything when None)."""
    if code is None:
        return sa.true()
    return sa.or_(rmap.c.county_code == code, rmap.c.city_code == code, rmap.c.province_code == code)


def filter_conditions(f: CaseFilter) -> list[sa.ColumnElement]:
    """WHERE clauses for the case filters, applied clause by clause."""
    clauses: list[sa.ColumnElement] = []
    if f.channels:
        clauses.append(cases.c.channel.in_(f.channels))
    if f.domains:
        clauses.append(cases.c.domain.in_(f.domains))
    if f.categories:
        clauses.append(cases.c.category.in_(f.categories))
    if f.first_report_only:
        clauses.append(_is(cases.c.is_first_report))
    if f.real_name_only:
        clauses.append(_is(cases.c.is_real_name))
    return clauses


@dataclass(frozen=True)
class CaseSource:
    """The FROM clause of an aggregate: cases joined to the region map and, when needed, the calendar."""

    from_clause: sa.FromClause
    rmap: sa.Subquery
    notice_deadline: sa.ColumnElement
    feedback_deadline: sa.ColumnElement


def case_source(count_ids: tuple[str, ...]) -> CaseSource:
    """Join only what the requested counts need (the calendar joins cost a scan each)."""
    rmap = region_map()
    source: sa.FromClause = cases.join(rmap, rmap.c.county_code == cases.c.county_code)
    notice = feedback = sa.null()
    if _NOTICE_METRICS & set(count_ids):
        cal1 = workday_calendar.alias("cal_received")
        source = source.outerjoin(cal1, cal1.c.day == cases.c.received_date)
        notice = cal1.c.deadline_15
    if _FEEDBACK_METRICS & set(count_ids):
        cal2 = workday_calendar.alias("cal_closed")
        source = source.outerjoin(cal2, cal2.c.day == cases.c.closed_date)
        feedback = cal2.c.deadline_15
    return CaseSource(source, rmap, notice, feedback)


def context(src: CaseSource, bounds: Bounds, settings: Settings) -> CaseContext:
    """The predicate context for a case source and period bounds."""
    due = sa.func.coalesce(cases.c.due_date, cases.c.received_date + sa.literal(settings.default_due_days, sa.Integer))
    return CaseContext(bounds, due, src.notice_deadline, src.feedback_deadline)


def aggregate_columns(count_ids: tuple[str, ...], metric_ids: tuple[str, ...], ctx: CaseContext) -> list[sa.ColumnElement]:
    """COUNT(*) FILTER columns for the counts, plus the sums that averages need."""
    cols = [sa.func.count().filter(count_condition(i, ctx)).label(i) for i in count_ids]
    for mid in metric_ids:
        m = METRICS_BY_ID[mid]
        if m.kind is MetricKind.AVERAGE:
            total = sa.func.sum(QUANTITIES[m.quantity](ctx)).filter(count_condition(m.denominator, ctx))
            cols.append(total.label(f"{mid}__sum"))
    return cols


def derived_columns(agg: sa.FromClause, metric_ids: tuple[str, ...]) -> list[sa.ColumnElement]:
    """Counts (0 when absent), rates and averages (NULL when the denominator is 0), in double precision."""
    out: list[sa.ColumnElement] = []
    count = lambda i: sa.func.coalesce(agg.c[i], 0)  # noqa: E731
    for mid in metric_ids:
        m = METRICS_BY_ID[mid]
        match m.kind:
            case MetricKind.COUNT:
                out.append(count(mid).label(mid))
            case MetricKind.RATE:
                out.append(_ratio(count(m.numerator), count(m.denominator)).label(mid))
            case MetricKind.AVERAGE:
                out.append(_ratio(agg.c[f"{mid}__sum"], count(m.denominator)).label(mid))
    return out


def _ratio(numerator: sa.ColumnElement, denominator: sa.ColumnElement) -> sa.ColumnElement:
    return sa.cast(numerator, sa.Double) / sa.cast(sa.func.nullif(denominator, 0), sa.Double)


def resolve_metrics(metric_ids: tuple[str, ...] | None) -> tuple[str, ...]:
    """The requested metric ids in registry order (all when None); KeyError for an unknown id."""
    if metric_ids is None:
        return ALL_IDS
    unknown = [m for m in metric_ids if m not in METRICS_BY_ID]
    if unknown:
        raise KeyError(f"unknown metric(s): {', '.join(unknown)}")
    return tuple(i for i in ALL_IDS if i in metric_ids)


