"""Compile metric requests into one SQLAlchemy Core aggregate statement, run by the database.

The statement has three layers:
  base   the cases (filtered, within the region subtree) with their derived dates — the effective
         due date and the two working-day deadlines looked up in the calendar table — and group key;
  flags  one boolean column per predicate of metrics.registry, each evaluated once per row;
  agg    COUNT(*) FILTER (WHERE <the metric's predicates AND-ed>) per count metric, grouped.
Rates and averages are formed from those counts in double precision with the denominator guarded
by NULLIF. Period bounds enter as SQL expressions, so the same predicates serve a single period
(bound parameters) and a time series (columns of a bucket table).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from data_access.enums import Category, Level, Satisfaction
from data_access.schema import cases, regions, workday_calendar

from .registry import ALL_IDS, METRICS_BY_ID, MetricKind
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
        def lit(day: dt.date, name: str) -> sa.BindParameter:
            return sa.bindparam(name, day, type_=sa.Date)

        return cls(lit(start, "p_start"), lit(end, "p_end"), lit(as_of, "p_as_of"), lit(min(end, as_of), "p_window_end"))


@dataclass(frozen=True)
class CaseContext:
    """What a predicate can refer to: case columns `c`, the period, and the derived dates."""

    bounds: Bounds
    c: sa.ColumnCollection  # the case columns (of `cases` or of a subquery selecting them)
    due: sa.ColumnElement  # due_date, or received_date + the default number of days
    notice_deadline: sa.ColumnElement  # D1: 15th working day after received_date
    feedback_deadline: sa.ColumnElement  # D2: 15th working day after closed_date


def _is(column: sa.ColumnElement) -> sa.ColumnElement:
    return column.is_(sa.true())


def _between(value: sa.ColumnElement, lo: sa.ColumnElement, hi: sa.ColumnElement) -> sa.ColumnElement:
    return sa.and_(value >= lo, value <= hi)


def _accusation(x: CaseContext) -> sa.ColumnElement:
    return x.c.category == Category.ACCUSATION.value


def _closed_at(x: CaseContext) -> sa.ColumnElement:
    return x.c.closed_date <= x.bounds.as_of


def _open_at(x: CaseContext) -> sa.ColumnElement:
    return sa.or_(x.c.closed_date.is_(None), x.c.closed_date > x.bounds.as_of)


Predicate = Callable[[CaseContext], sa.ColumnElement]

PREDICATES: dict[str, Predicate] = {
    "received_in_period": lambda x: _between(x.c.received_date, x.bounds.start, x.bounds.end),
    "accepted_in_period": lambda x: sa.and_(_accusation(x), _between(x.c.received_date, x.bounds.start, x.bounds.end)),
    "due_in_window": lambda x: sa.and_(_accusation(x), _between(x.due, x.bounds.start, x.bounds.window_end)),
    "closed_by_due": lambda x: sa.and_(x.c.closed_date <= x.due, _closed_at(x)),
    "first_report": lambda x: _is(x.c.is_first_report),
    "overdue_at_as_of": lambda x: sa.and_(_accusation(x), x.due < x.bounds.as_of, _open_at(x)),
    "closed_in_period": lambda x: sa.and_(_accusation(x), _between(x.c.closed_date, x.bounds.start, x.bounds.end),
                                          _closed_at(x)),
    "rated": lambda x: x.c.satisfaction.is_not(None),
    "satisfied": lambda x: x.c.satisfaction.in_([Satisfaction.SATISFIED.value, Satisfaction.BASIC.value]),
    "disputed": lambda x: _is(x.c.disputed),
    "leapfrog": lambda x: _is(x.c.is_leapfrog),
    "repeat": lambda x: _is(x.c.is_repeat),
    "notice_due_in_window": lambda x: sa.and_(
        _accusation(x), _is(x.c.is_real_name), _between(x.notice_deadline, x.bounds.start, x.bounds.window_end)),
    "notice_on_time": lambda x: x.c.accepted_notice_date <= x.notice_deadline,
    "feedback_due_in_window": lambda x: sa.and_(
        _accusation(x), _is(x.c.is_real_name), _closed_at(x),
        _between(x.feedback_deadline, x.bounds.start, x.bounds.window_end)),
    "feedback_on_time": lambda x: x.c.result_notice_date <= x.feedback_deadline,
}

QUANTITIES: dict[str, Callable[[CaseContext], sa.ColumnElement]] = {
    "handling_days": lambda x: x.c.closed_date - x.c.received_date,
}

_NOTICE_PREDICATES = {"notice_due_in_window", "notice_on_time"}
_FEEDBACK_PREDICATES = {"feedback_due_in_window", "feedback_on_time"}


def predicate_chain(metric_id: str) -> tuple[str, ...]:
    """The predicates a count metric's cases satisfy: its own and all its parents'."""
    m = METRICS_BY_ID[metric_id]
    own = (m.predicate,)
    return predicate_chain(m.parent) + own if m.parent else own


def count_condition(metric_id: str, ctx: CaseContext) -> sa.ColumnElement:
    """The full condition of a count metric as one SQL expression (for single-metric queries)."""
    return sa.and_(*(PREDICATES[p](ctx) for p in predicate_chain(metric_id)))


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


def filter_conditions(f: CaseFilter, c: sa.ColumnCollection = cases.c) -> list[sa.ColumnElement]:
    """WHERE clauses for the case filters, applied clause by clause."""
    clauses: list[sa.ColumnElement] = []
    if f.channels:
        clauses.append(c.channel.in_(f.channels))
    if f.domains:
        clauses.append(c.domain.in_(f.domains))
    if f.categories:
        clauses.append(c.category.in_(f.categories))
    if f.first_report_only:
        clauses.append(_is(c.is_first_report))
    if f.real_name_only:
        clauses.append(_is(c.is_real_name))
    return clauses


@dataclass(frozen=True)
class CaseSource:
    """The FROM clause of an aggregate: cases joined to the region map and, when needed, the calendar."""

    from_clause: sa.FromClause
    rmap: sa.Subquery
    notice_deadline: sa.ColumnElement
    feedback_deadline: sa.ColumnElement


def case_source(predicates: set[str]) -> CaseSource:
    """Join only what the predicates need (each calendar join costs a pass over the cases)."""
    rmap = region_map()
    source: sa.FromClause = cases.join(rmap, rmap.c.county_code == cases.c.county_code)
    notice = feedback = sa.null()
    if _NOTICE_PREDICATES & predicates:
        cal1 = workday_calendar.alias("cal_received")
        source = source.outerjoin(cal1, cal1.c.day == cases.c.received_date)
        notice = cal1.c.deadline_15
    if _FEEDBACK_PREDICATES & predicates:
        cal2 = workday_calendar.alias("cal_closed")
        source = source.outerjoin(cal2, cal2.c.day == cases.c.closed_date)
        feedback = cal2.c.deadline_15
    return CaseSource(source, rmap, notice, feedback)


def effective_due(c: sa.ColumnCollection, settings: Settings) -> sa.ColumnElement:
    """due_date, or received_date + the default number of days when it is empty."""
    return sa.func.coalesce(c.due_date, c.received_date + sa.literal(settings.default_due_days, sa.Integer))


# Working-day deadlines fall at most this many calendar days after the date they follow (15 working
# days plus the longest holiday run), so a case whose dates all lie further back cannot count.
DEADLINE_REACH_DAYS = 40


def relevant_cases(first_day: dt.date, last_day: dt.date, settings: Settings) -> list[sa.ColumnElement]:
    """WHERE clauses keeping a superset of the cases that can count in a period (or series) running
    from `first_day`, read no later than `last_day`: received by then, and still open, or with a
    receipt, closure or deadline no earlier than shortly before the start. Cheap, and it spares the
    per-row predicates most of a long history."""
    reach = first_day - dt.timedelta(days=DEADLINE_REACH_DAYS)
    return [
        cases.c.received_date <= last_day,
        sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date >= reach, cases.c.received_date >= reach,
               effective_due(cases.c, settings) >= first_day),
    ]


def context(src: CaseSource, bounds: Bounds, settings: Settings) -> CaseContext:
    """The predicate context over the raw case table (single-expression queries)."""
    return CaseContext(bounds, cases.c, effective_due(cases.c, settings), src.notice_deadline, src.feedback_deadline)


def resolve_metrics(metric_ids: tuple[str, ...] | None) -> tuple[str, ...]:
    """The requested metric ids in registry order (all when None); KeyError for an unknown id."""
    if metric_ids is None:
        return ALL_IDS
    unknown = [m for m in metric_ids if m not in METRICS_BY_ID]
    if unknown:
        raise KeyError(f"unknown metric(s): {', '.join(unknown)}")
    return tuple(i for i in ALL_IDS if i in metric_ids)


@dataclass(frozen=True)
class AggregateSpec:
    """What to aggregate: grouping, extra row filters, how to read the bounds off the base rows."""

    key: Callable[[sa.Subquery], sa.ColumnElement]  # group key, from the region map
    where: Callable[[sa.Subquery], list[sa.ColumnElement]]  # conditions on cases / region map
    bounds: Callable[[sa.ColumnCollection], Bounds]  # the period, from the base subquery's columns
    extra_from: sa.FromClause | None = None  # e.g. the bucket table of a series
    extra_on: sa.ColumnElement | None = None  # how cases join extra_from (default: every pair)
    extra_columns: tuple[sa.ColumnElement, ...] = ()  # carried into base (e.g. bucket bounds)


def aggregate_subquery(metric_ids: tuple[str, ...], count_ids: tuple[str, ...], spec: AggregateSpec,
                       settings: Settings, name: str = "agg") -> sa.Subquery:
    """base -> flags -> agg: one row per group key, a column per count (and per average's sum)."""
    averages = [METRICS_BY_ID[m] for m in metric_ids if METRICS_BY_ID[m].kind is MetricKind.AVERAGE]
    chains = {i: predicate_chain(i) for i in {*count_ids, *(m.denominator for m in averages)}}
    needed = {p for chain in chains.values() for p in chain}
    src = case_source(needed)
    from_clause = src.from_clause
    if spec.extra_from is not None:
        from_clause = from_clause.join(spec.extra_from, sa.true() if spec.extra_on is None else spec.extra_on)
    base = (
        sa.select(*cases.c, effective_due(cases.c, settings).label("due"), src.notice_deadline.label("notice_deadline"),
                  src.feedback_deadline.label("feedback_deadline"), spec.key(src.rmap).label("group_key"),
                  *spec.extra_columns)
        .select_from(from_clause)
        .where(*spec.where(src.rmap))
        .subquery("base")
    )
    ctx = CaseContext(spec.bounds(base.c), base.c, base.c.due, base.c.notice_deadline, base.c.feedback_deadline)
    flags = sa.select(
        base.c.group_key,
        *(PREDICATES[p](ctx).label(f"p_{p}") for p in sorted(needed)),
        *(QUANTITIES[m.quantity](ctx).label(f"q_{m.quantity}") for m in averages),
    ).subquery("flags")

    def holds(metric_id: str) -> sa.ColumnElement:
        return sa.and_(*(flags.c[f"p_{p}"] for p in chains[metric_id]))

    columns = [sa.func.count().filter(holds(i)).label(i) for i in count_ids]
    columns += [sa.func.sum(flags.c[f"q_{m.quantity}"]).filter(holds(m.denominator)).label(f"{m.id}__sum")
                for m in averages]
    return sa.select(flags.c.group_key.label("code"), *columns).group_by(flags.c.group_key).subquery(name)


def derived_columns(agg: sa.FromClause, metric_ids: tuple[str, ...]) -> list[sa.ColumnElement]:
    """Counts (0 when absent), rates and averages (NULL when the denominator is 0), in double precision."""
    out: list[sa.ColumnElement] = []

    def count(metric_id: str) -> sa.ColumnElement:
        return sa.func.coalesce(agg.c[metric_id], 0)

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
