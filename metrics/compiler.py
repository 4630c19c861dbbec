"""Compile metric requests into one SQLAlchemy Core aggregate statement, run by the database.

The statement has three layers:
  base   the cases (filtered, within the region subtree) with their derived dates — the effective
         due date and the two working-day deadlines, stored in `cases` at load time or, for a table
         or view without them, looked up in the calendar table — and group key (county or bucket);
  flags  one boolean column per predicate of metrics.registry, each evaluated once per row;
  agg    COUNT(*) FILTER (WHERE <the metric's predicates AND-ed>) per count metric, grouped.
Counts by county are summed up to cities and the province through the region map. Rates and
averages are formed from those counts in double precision with the denominator guarded by NULLIF.
Period bounds enter as SQL expressions, so the same predicates serve a single period (bound
parameters) and a time series (columns of a bucket table).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from data_access.enums import Category, Level, Satisfaction
from data_access.schema import cases, regions, workday_calendar
from data_access.scope import Scope, case_in_scope, counties_at_or_under

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
    # W = [from, min(to, A)]: a case received after A did not exist at A
    "received_in_period": lambda x: _between(x.c.received_date, x.bounds.start, x.bounds.window_end),
    "accepted_in_period": lambda x: sa.and_(_accusation(x), _between(x.c.received_date, x.bounds.start,
                                                                      x.bounds.window_end)),
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
    """The FROM clause over the cases: the case table, joined to the calendar only when the deadlines
    are not stored in it (an external table or view with the contract's columns alone)."""

    from_clause: sa.FromClause
    notice_deadline: sa.ColumnElement
    feedback_deadline: sa.ColumnElement


def case_source(predicates: set[str], stored_deadlines: bool = True) -> CaseSource:
    """Read D1/D2 from cases' stored columns, or join only the calendar lookups the predicates need."""
    if stored_deadlines:
        return CaseSource(cases, cases.c.notice_deadline, cases.c.feedback_deadline)
    source: sa.FromClause = cases
    notice = feedback = sa.null()
    if _NOTICE_PREDICATES & predicates:
        cal1 = workday_calendar.alias("cal_received")
        source = source.outerjoin(cal1, cal1.c.day == cases.c.received_date)
        notice = cal1.c.deadline_15
    if _FEEDBACK_PREDICATES & predicates:
        cal2 = workday_calendar.alias("cal_closed")
        source = source.outerjoin(cal2, cal2.c.day == cases.c.closed_date)
        feedback = cal2.c.deadline_15
    return CaseSource(source, notice, feedback)


def within_scope(scope: Scope) -> sa.ColumnElement:
    """Cases the viewer of `scope` may see (a Scope is required; WHOLE_PROVINCE: every case)."""
    return case_in_scope(cases.c.county_code, scope)


def within(code: str | None) -> sa.ColumnElement:
    """Cases whose county lies at or under region `code` (always true for None): a semi-join on the
    small region table, so the case rows are never joined to it."""
    if code is None:
        return sa.true()
    return cases.c.county_code.in_(counties_at_or_under(code))


class count_where(sa.sql.functions.FunctionElement):
    """COUNT of the rows where a condition holds: count_if() on DuckDB (its fast path), the standard
    COUNT(*) FILTER (WHERE ...) elsewhere."""

    type = sa.BigInteger()
    name = "count_where"
    inherit_cache = True


@compiles(count_where)
def _count_where_standard(element: count_where, compiler, **kw) -> str:
    (condition,) = element.clauses
    return f"count(*) FILTER (WHERE {compiler.process(condition, **kw)})"


@compiles(count_where, "duckdb")
def _count_where_duckdb(element: count_where, compiler, **kw) -> str:
    (condition,) = element.clauses
    return f"count_if({compiler.process(condition, **kw)})"


def effective_due(c: sa.ColumnCollection, settings: Settings) -> sa.ColumnElement:
    """due_date, or received_date + the default number of days when it is empty."""
    return sa.func.coalesce(c.due_date, c.received_date + sa.literal(settings.default_due_days, sa.Integer))


# Working-day deadlines fall at most this many calendar days after the date they follow (15 working
# days plus the longest holiday run), so a case whose dates all lie further back cannot count.
DEADLINE_REACH_DAYS = 40


def relevant_cases(first_day: dt.date, earliest_as_of: dt.date, latest_as_of: dt.date,
                   settings: Settings) -> list[sa.ColumnElement]:
    """WHERE clauses keeping a superset of the cases that can count in a period (or the buckets of a
    series) starting on `first_day`, read as of dates between `earliest_as_of` and `latest_as_of`.
    Cheap, and it spares the per-row predicates most of a long history.

    Why nothing that counts is dropped, anchor by anchor (F = first_day, reach = F - 40 days):
      - no case received after its as-of date counts anywhere (received_date <= latest_as_of);
      - received / accepted: received_date >= F; due: due >= F; closed: closed_date >= F;
      - notice: D1 >= F and D1 <= received_date + 40 days, so received_date >= reach;
      - feedback: D2 >= F and D2 <= closed_date + 40 days, so closed_date >= reach;
      - overdue (a stock at A, however far A lies from the period): open at A, i.e. closed_date is
        empty or later than A >= earliest_as_of.
    """
    reach = first_day - dt.timedelta(days=DEADLINE_REACH_DAYS)
    closed_since = min(reach, earliest_as_of + dt.timedelta(days=1))
    return [
        cases.c.received_date <= latest_as_of,
        sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date >= closed_since, cases.c.received_date >= reach,
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
    """What to aggregate: grouping, row filters, how to read the bounds off the base rows.

    Rows are grouped by county (and bucket) over the cases alone; a coarser `level` is then summed up
    from the ~100 county rows through the region map, never by joining the case rows to it."""

    level: Level | None  # one row per region of this level; None: one row per bucket (the whole selection)
    where: tuple[sa.ColumnElement, ...]  # conditions on the cases (filters, subtree, relevance)
    bounds: Callable[[sa.ColumnCollection], Bounds]  # the period, from the base subquery's columns
    bucket: sa.FromClause | None = None  # e.g. the bucket table of a series (its columns named as Bounds reads them)
    bucket_key: sa.ColumnElement | None = None  # the bucket column rows are grouped by
    bucket_columns: tuple[sa.ColumnElement, ...] = ()  # carried into base (e.g. bucket bounds)
    # The number (bucket.c.bucket_no) of the bucket holding a date, as an SQL expression; lets a case
    # reach its buckets by an equi-join instead of a comparison with every bucket.
    bucket_no: Callable[[sa.ColumnElement], sa.ColumnElement] | None = None


# The date a flow anchor is about: for that anchor a case can count in a bucket only if the date
# lies in it. (overdue_at_as_of is a stock, true over a run of buckets: it has no such date.)
ANCHOR_DATES: dict[str, str] = {
    "received_in_period": "received", "accepted_in_period": "received", "due_in_window": "due",
    "closed_in_period": "closed", "notice_due_in_window": "notice", "feedback_due_in_window": "feedback",
}
_DATES: dict[str, Callable[[CaseContext], sa.ColumnElement]] = {
    "received": lambda x: x.c.received_date, "due": lambda x: x.due, "closed": lambda x: x.c.closed_date,
    "notice": lambda x: x.notice_deadline, "feedback": lambda x: x.feedback_deadline,
}


def _join_buckets(from_clause: sa.FromClause, anchors: list[str], spec: AggregateSpec, ctx: CaseContext
                  ) -> tuple[sa.FromClause, list[sa.ColumnElement]]:
    """Join the cases to the buckets where one of the anchor predicates can hold (and the extra WHERE
    conditions that go with the join). A row that meets no anchor counts nowhere, so the join is exact.

    Flow anchors only: each case is paired with the buckets of its anchor dates (receipt, due date,
    closure, deadlines) — an equi-join on the bucket number, each bucket once. With a stock anchor
    (overdue at the bucket's end), a comparison with every bucket."""
    if spec.bucket_no is None or any(a not in ANCHOR_DATES for a in anchors):
        on = sa.or_(*(PREDICATES[a](CaseContext(spec.bounds(spec.bucket.c), ctx.c, ctx.due, ctx.notice_deadline,
                                                ctx.feedback_deadline)) for a in anchors))
        return from_clause.join(spec.bucket, on), []
    dates = list(dict.fromkeys(ANCHOR_DATES[a] for a in anchors))
    numbers = [spec.bucket_no(_DATES[d](ctx)) for d in dates]
    k = sa.values(sa.column("k", sa.Integer), name="anchor_dates").data([(i,) for i in range(len(numbers))])
    number = sa.case(*((k.c.k == i, n) for i, n in enumerate(numbers)))
    # the i-th date's bucket only where no earlier date has the same: each (case, bucket) pair once
    first_time = sa.or_(*(sa.and_(k.c.k == i, *(n.is_distinct_from(numbers[j]) for j in range(i)))
                          for i, n in enumerate(numbers)))
    joined = from_clause.join(k, sa.true()).join(spec.bucket, spec.bucket.c.bucket_no == number)
    return joined, [first_time]


def aggregate_subquery(metric_ids: tuple[str, ...], count_ids: tuple[str, ...], spec: AggregateSpec,
                       settings: Settings, stored_deadlines: bool = True, name: str = "agg") -> sa.Subquery:
    """base -> flags -> agg: one row per group key, a column per count (and per average's sum)."""
    averages = [METRICS_BY_ID[m] for m in metric_ids if METRICS_BY_ID[m].kind is MetricKind.AVERAGE]
    chains = {i: predicate_chain(i) for i in {*count_ids, *(m.denominator for m in averages)}}
    needed = {p for chain in chains.values() for p in chain}
    src = case_source(needed, stored_deadlines)
    from_clause = src.from_clause
    where = list(spec.where)
    if spec.bucket is not None:
        raw = CaseContext(spec.bounds(spec.bucket.c), cases.c, effective_due(cases.c, settings), src.notice_deadline,
                          src.feedback_deadline)
        from_clause, extra = _join_buckets(from_clause, sorted({chain[0] for chain in chains.values()}), spec, raw)
        where += extra
    key = cases.c.county_code if spec.level is not None else spec.bucket_key
    base = (
        sa.select(*(cases.c[c] for c in _BASE_COLUMNS), effective_due(cases.c, settings).label("due"),
                  src.notice_deadline.label("notice_deadline"), src.feedback_deadline.label("feedback_deadline"),
                  key.label("group_key"), *spec.bucket_columns)
        .select_from(from_clause)
        .where(*where)
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

    columns = [count_where(holds(i)).label(i) for i in count_ids]
    columns += [sa.func.sum(flags.c[f"q_{m.quantity}"]).filter(holds(m.denominator)).label(f"{m.id}__sum")
                for m in averages]
    by_key = sa.select(flags.c.group_key.label("code"), *columns).group_by(flags.c.group_key)
    if spec.level in (None, Level.COUNTY):
        return by_key.subquery(name)
    return _rolled_up(by_key.subquery(f"{name}_county"), spec.level, name)


def _rolled_up(by_county: sa.Subquery, level: Level, name: str) -> sa.Subquery:
    """Sum county rows up to `level` through the region map (counts stay integers)."""
    rmap = region_map()
    code = group_key(rmap, level)
    sums = [sa.cast(sa.func.sum(c), sa.BigInteger if c.name in METRICS_BY_ID else sa.Double).label(c.name)
            for c in by_county.c if c.name != "code"]
    return (
        sa.select(code.label("code"), *sums)
        .select_from(by_county.join(rmap, rmap.c.county_code == by_county.c.code))
        .group_by(code)
        .subquery(name)
    )


# The case columns the predicates read (everything but the identifier and the stored deadlines,
# which enter base under their own labels, from the table or from the calendar).
_BASE_COLUMNS = ("county_code", "received_date", "channel", "category", "domain", "is_first_report", "is_leapfrog",
                 "is_repeat", "is_real_name", "due_date", "closed_date", "satisfaction", "disputed",
                 "accepted_notice_date", "result_notice_date")


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
