"""Compile metric requests into one SQLAlchemy Core aggregate statement, run by the database.

This is the SQL shape; what a case must satisfy is in rules.py, and which rules a metric uses is in
the registry: every lookup here (rule chains, the case columns read, the calendar joins, the anchor
dates of a series) is derived from those entries. The statement has three layers:
  base   the cases (filtered, within the region subtree) with the columns the needed rules read,
         their derived dates — the effective due date and the two working-day deadlines, stored in
         `cases` at load time or, for a table or view without them, looked up in the calendar table —
         and group key (county or bucket);
  flags  one boolean column per rule of the requested metrics, each evaluated once per row;
  agg    COUNT(*) FILTER (WHERE <the metric's rule chain AND-ed>) per count metric, grouped (spelled per
         engine by data_access/store/dialects.py, with the date arithmetic the rules use).
Counts by county are summed up to cities and the province through the region map. Rates and
averages are formed from those counts in double precision with the denominator guarded by NULLIF.
Period bounds enter as SQL expressions, so the same rules serve a single period (bound parameters)
and a time series (columns of a bucket table).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from data_access.identity.scope import Scope, case_in_scope, counties_at_or_under
from data_access.reference.enums import Level
from data_access.store.dialects import count_where, sum_where
from data_access.store.schema import cases, regions, workday_calendar

from .registry import ALL_IDS, METRICS_BY_ID, MetricKind
from .request import CaseFilter
from .rules import Bounds, CaseColumns, CaseContext, Deadline, Quantity, Rule, effective_due, is_true
from .settings import Settings

Term = TypeVar("Term", Rule, Quantity)


def rule_chain(metric_id: str) -> tuple[Rule, ...]:
    """The rules a count metric's cases satisfy: all its parents' (outermost first), then its own."""
    m = METRICS_BY_ID[metric_id]
    own = (m.count_rule,)
    return rule_chain(m.parent) + own if m.parent else own


def count_condition(metric_id: str, ctx: CaseContext) -> sa.ColumnElement[bool]:
    """The full condition of a count metric as one SQL expression (for single-metric queries)."""
    return sa.and_(*(rule.sql(ctx) for rule in rule_chain(metric_id)))


def deadlines_read(terms: Iterable[Rule]) -> set[Deadline]:
    """The working-day deadlines the rules read."""
    return {rule.deadline for rule in terms if rule.deadline is not None}


def base_columns(terms: Iterable[Rule | Quantity]) -> tuple[str, ...]:
    """The case columns the rules and quantities read, in the case table's order."""
    read = {column for term in terms for column in term.columns}
    return tuple(c.name for c in cases.c if c.name in read)


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


def group_key(rmap: sa.Subquery, level: Level) -> sa.ColumnElement[str]:
    """The region_map column that names a case's region at `level`."""
    match level:
        case Level.COUNTY:
            return rmap.c.county_code
        case Level.CITY:
            return rmap.c.city_code
        case Level.PROVINCE:
            return rmap.c.province_code
    raise AssertionError(level)


def in_subtree(rmap: sa.Subquery, code: str | None) -> sa.ColumnElement[bool]:
    """region_map rows at or under region `code` (everything when None)."""
    if code is None:
        return sa.true()
    return sa.or_(rmap.c.county_code == code, rmap.c.city_code == code, rmap.c.province_code == code)


def filter_conditions(f: CaseFilter, c: CaseColumns = cases.c) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for the case filters, applied clause by clause."""
    clauses: list[sa.ColumnElement[bool]] = []
    if f.channels:
        clauses.append(c.channel.in_(f.channels))
    if f.domains:
        clauses.append(c.domain.in_(f.domains))
    if f.categories:
        clauses.append(c.category.in_(f.categories))
    if f.first_report_only:
        clauses.append(is_true(c.is_first_report))
    if f.real_name_only:
        clauses.append(is_true(c.is_real_name))
    return clauses


@dataclass(frozen=True)
class CaseSource:
    """The FROM clause over the cases: the case table, joined to the calendar only when the deadlines
    are not stored in it (an external table or view with the contract's columns alone)."""

    from_clause: sa.FromClause
    notice_deadline: sa.ColumnElement[Any]  # a date column, or NULL (see CaseContext)
    feedback_deadline: sa.ColumnElement[Any]


def case_source(deadlines: set[Deadline], stored_deadlines: bool = True) -> CaseSource:
    """Read D1/D2 from cases' stored columns, or join only the calendar lookups of the deadlines needed."""
    if stored_deadlines:
        return CaseSource(cases, cases.c.notice_deadline, cases.c.feedback_deadline)
    source: sa.FromClause = cases
    looked_up: dict[Deadline, sa.ColumnElement[Any]] = {}
    for deadline in (d for d in Deadline if d in deadlines):
        cal = workday_calendar.alias(f"cal_{deadline.value}")
        source = source.outerjoin(cal, cal.c.day == cases.c[deadline.follows])
        looked_up[deadline] = cal.c.deadline_15
    return CaseSource(source, looked_up.get(Deadline.NOTICE, sa.null()), looked_up.get(Deadline.FEEDBACK, sa.null()))


def within_scope(scope: Scope) -> sa.ColumnElement[bool]:
    """Cases the viewer of `scope` may see (a Scope is required; WHOLE_PROVINCE: every case)."""
    return case_in_scope(cases.c.county_code, scope)


def within(code: str | None) -> sa.ColumnElement[bool]:
    """Cases whose county lies at or under region `code` (always true for None): a semi-join on the
    small region table, so the case rows are never joined to it."""
    if code is None:
        return sa.true()
    return cases.c.county_code.in_(counties_at_or_under(code))


def context(src: CaseSource, bounds: Bounds, settings: Settings) -> CaseContext:
    """The rule context over the raw case table (single-expression queries, the bucket join)."""
    return CaseContext(bounds, cases.c, effective_due(cases.c, settings), src.notice_deadline, src.feedback_deadline)


def resolve_metrics(metric_ids: tuple[str, ...] | None) -> tuple[str, ...]:
    """The requested metric ids in registry order (all when None); KeyError for an unknown id."""
    if metric_ids is None:
        return tuple(ALL_IDS)
    unknown = [m for m in metric_ids if m not in METRICS_BY_ID]
    if unknown:
        raise KeyError(f"unknown metric(s): {', '.join(unknown)}")
    return tuple(i for i in ALL_IDS if i in metric_ids)


@dataclass(frozen=True)
class Buckets:
    """The buckets of a time series: a table joined to the cases, one aggregate row per bucket."""

    table: sa.FromClause  # one row per bucket (its columns named as AggregateSpec.bounds reads them)
    key: sa.ColumnElement[Any]  # the bucket column rows are grouped by
    columns: tuple[sa.ColumnElement[Any], ...] = ()  # carried into base (e.g. bucket bounds)
    # The number (table.c.bucket_no) of the bucket holding a date, as an SQL expression; lets a case
    # reach its buckets by an equi-join instead of a comparison with every bucket.
    number: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[int]] | None = None


@dataclass(frozen=True)
class AggregateSpec:
    """What to aggregate: grouping, row filters, how to read the bounds off the base rows.

    Rows are grouped by county (or bucket) over the cases alone; a coarser level is then summed up
    from the ~100 county rows through the region map, never by joining the case rows to it."""

    group: Level | Buckets  # one row per region of this level, or one row per bucket (the whole selection)
    where: tuple[sa.ColumnElement[bool], ...]  # conditions on the cases (filters, subtree, relevance)
    bounds: Callable[[CaseColumns], Bounds]  # the period, from the base subquery's columns


def _distinct_by_name(terms: Iterable[Term]) -> dict[str, Term]:
    """The rules (or quantities) by name, which labels their SQL column; ValueError for two under one name."""
    out: dict[str, Term] = {}
    for term in terms:
        if out.setdefault(term.name, term) != term:
            raise ValueError(f"two different rules (or quantities) are named {term.name!r}")
    return out


def _join_buckets(from_clause: sa.FromClause, anchors: list[Rule], buckets: Buckets, ctx: CaseContext
                  ) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
    """Join the cases to the buckets where one of the anchor rules can hold (and the extra WHERE
    conditions that go with the join). A row that meets no anchor counts nowhere, so the join is exact.

    Flow anchors only: each case is paired with the buckets of its anchor dates (receipt, due date,
    closure, deadlines) — an equi-join on the bucket number, each bucket once. With a stock anchor
    (overdue at the bucket's end: a rule without an anchor date), a comparison with every bucket."""
    if buckets.number is None or any(rule.anchor is None for rule in anchors):
        return from_clause.join(buckets.table, sa.or_(*(rule.sql(ctx) for rule in anchors))), []
    dates = list(dict.fromkeys(rule.anchor for rule in anchors if rule.anchor is not None))  # here: every one
    numbers = [buckets.number(date.of(ctx)) for date in dates]
    k = sa.values(sa.column("k", sa.Integer), name="anchor_dates").data([(i,) for i in range(len(numbers))])
    number = sa.case(*((k.c.k == i, n) for i, n in enumerate(numbers)))
    # the i-th date's bucket only where no earlier date has the same: each (case, bucket) pair once
    first_time = sa.or_(*(sa.and_(k.c.k == i, *(n.is_distinct_from(numbers[j]) for j in range(i)))
                          for i, n in enumerate(numbers)))
    joined = from_clause.join(k, sa.true()).join(buckets.table, buckets.table.c.bucket_no == number)
    return joined, [first_time]


def _base(spec: AggregateSpec, settings: Settings, src: CaseSource, anchors: list[Rule],
          columns: tuple[str, ...]) -> sa.Subquery:
    """The selected cases with the columns the rules read, their derived dates and group key (for a
    series, one row per bucket a case can count in)."""
    from_clause, where = src.from_clause, list(spec.where)
    key: sa.ColumnElement[Any] = cases.c.county_code
    carried: tuple[sa.ColumnElement[Any], ...] = ()
    if isinstance(spec.group, Buckets):
        raw = context(src, spec.bounds(spec.group.table.c), settings)
        from_clause, extra = _join_buckets(from_clause, anchors, spec.group, raw)
        where += extra
        key, carried = spec.group.key, spec.group.columns
    return (
        sa.select(*(cases.c[c] for c in columns), effective_due(cases.c, settings).label("due"),
                  src.notice_deadline.label("notice_deadline"), src.feedback_deadline.label("feedback_deadline"),
                  key.label("group_key"), *carried)
        .select_from(from_clause)
        .where(*where)
        .subquery("base")
    )


def aggregate_subquery(metric_ids: tuple[str, ...], count_ids: tuple[str, ...], spec: AggregateSpec,
                       settings: Settings, stored_deadlines: bool = True, name: str = "agg") -> sa.Subquery:
    """base -> flags -> agg: one row per group key, a column per count (and per average's sum)."""
    # each average: its per-case quantity and the count metric whose cases it is averaged over
    averages = {m: METRICS_BY_ID[m].averaged for m in metric_ids if METRICS_BY_ID[m].kind is MetricKind.AVERAGE}
    chains = {i: rule_chain(i) for i in {*count_ids, *(over for _, over in averages.values())}}
    rules = _distinct_by_name(rule for chain in chains.values() for rule in chain)
    quantities = _distinct_by_name(quantity for quantity, _ in averages.values())
    anchors = sorted(_distinct_by_name(chain[0] for chain in chains.values()).values(), key=lambda r: r.name)
    src = case_source(deadlines_read(rules.values()), stored_deadlines)
    base = _base(spec, settings, src, anchors, base_columns([*rules.values(), *quantities.values()]))
    ctx = CaseContext(spec.bounds(base.c), base.c, base.c.due, base.c.notice_deadline, base.c.feedback_deadline)
    flags = sa.select(
        base.c.group_key,
        *(rules[n].sql(ctx).label(f"p_{n}") for n in sorted(rules)),
        *(quantities[n].sql(ctx).label(f"q_{n}") for n in sorted(quantities)),
    ).subquery("flags")

    def holds(metric_id: str) -> sa.ColumnElement[bool]:
        return sa.and_(*(flags.c[f"p_{rule.name}"] for rule in chains[metric_id]))

    columns = [count_where(holds(i)).label(i) for i in count_ids]
    columns += [sum_where(flags.c[f"q_{quantity.name}"], holds(over)).label(f"{mid}__sum")
                for mid, (quantity, over) in averages.items()]
    by_key = sa.select(flags.c.group_key.label("code"), *columns).group_by(flags.c.group_key)
    if isinstance(spec.group, Buckets) or spec.group is Level.COUNTY:
        return by_key.subquery(name)
    return rolled_up(by_key.subquery(f"{name}_county"), spec.group, name)


def rolled_up(by_county: sa.Subquery, level: Level, name: str) -> sa.Subquery:
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


def derived_columns(agg: sa.FromClause, metric_ids: tuple[str, ...]) -> list[sa.ColumnElement[Any]]:
    """Counts (0 when absent), rates and averages (NULL when the denominator is 0), in double precision."""
    out: list[sa.ColumnElement[Any]] = []

    def count(metric_id: str) -> sa.ColumnElement[int]:
        return sa.func.coalesce(agg.c[metric_id], 0)

    for mid in metric_ids:
        m = METRICS_BY_ID[mid]
        match m.kind:
            case MetricKind.COUNT:
                out.append(count(mid).label(mid))
            case MetricKind.RATE:
                numerator, denominator = m.rate_terms
                out.append(_ratio(count(numerator), count(denominator)).label(mid))
            case MetricKind.AVERAGE:
                _, over = m.averaged
                out.append(_ratio(agg.c[f"{mid}__sum"], count(over)).label(mid))
    return out


def _ratio(numerator: sa.ColumnElement[Any], denominator: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.cast(numerator, sa.Double) / sa.cast(sa.func.nullif(denominator, 0), sa.Double)
