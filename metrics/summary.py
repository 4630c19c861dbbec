"""The per-county daily summary: counts of cases by county and day, kept beside the case table, from
which region tables, series and the signals' weekly counts are summed instead of scanning the cases.

A row store (MySQL, MariaDB and the engines of their protocol) reads every case row to aggregate, at
millions of cases for seconds per table, and even a column store spends a scan of the whole table on
each of the dozen tables a page may read; the summary has one row per county and day, about 136 x 1,000
rows for a province's three years whatever the number of cases. Its columns are derived from the
registry and the rules, never written out a second time:

  flow metric m (a chain whose first rule has an anchor date X: received, due, closed, D1, D2)
      column m: per (county, day d), the cases with X = d for which the metric's whole chain holds
      when every bound of the period is d (from = to = as_of = d), and received_date <= d.
      m over a period [F, T] read as of A is the sum of column m over d in W = [F, min(T, A)]: each
      rule of a flow chain reads the as-of date only in a way that is settled by the anchor date
      (closed_date <= due <= A, closed_date < D2 <= A, ...), so the chain holds at A exactly when it
      holds at d = X <= A. tests/test_summary.py proves the sums equal to the case scan on every engine.
  stock metric (overdue at A, and its restrictions): a case is overdue at A from its first possible
      day i = max(due + 1, received_date) until it is closed. Column m__in counts the cases overdue at
      i, by i; m__out counts those same cases by closed_date (later than i, since open at i). overdue
      at A = sum over d <= A of (m__in - m__out).
  average: m__sum, the sum of the per-case quantity over the averaged metric's cases, by its anchor.

The summary is used only when it is current: summary_state records the version of the case table it
was built from (data_access.database.cases_version), the default due days it was built with (the
effective due date depends on it), and whether every case's due and closing dates lie on or after its
receipt (the loader's validation refuses others; a table that has some is read from the cases). A
request with case filters (channel, domain, ...) or a metric the summary has no column for is read
from the cases. The loader rebuilds it in the loading transaction where it is read (data_access.
database.after_case_writes); `python -m metrics summary` rebuilds it by hand.
"""
from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_access.database import after_case_writes, cases_version, stored_deadlines
from data_access.dialects import add_days, count_where, is_mysql_family, sum_where
from data_access.schema import cases
from data_access.scope import Scope, case_in_scope, counties_at_or_under

from .compiler import rule_chain
from .registry import METRICS, METRICS_BY_ID, MetricKind
from .rules import OVERDUE_AT_AS_OF, AnchorDate, Bounds, CaseContext, effective_due
from .settings import Settings, load_settings

summary_metadata = sa.MetaData()

IN, OUT, SUM = "__in", "__out", "__sum"


@dataclass(frozen=True)
class SummaryColumn:
    """One count column of the summary: the metric it serves, and how (flow, stock entry/exit, sum)."""

    name: str
    metric_id: str
    role: str  # "flow", "in", "out", "sum"


def _columns() -> tuple[SummaryColumn, ...]:
    """The columns the declared metrics need; a metric of another shape gets none (read from the cases)."""
    out: list[SummaryColumn] = []
    for m in METRICS:
        if m.kind is MetricKind.COUNT:
            head = rule_chain(m.id)[0]
            if head.anchor is not None:
                out.append(SummaryColumn(m.id, m.id, "flow"))
            elif head == OVERDUE_AT_AS_OF:
                out += [SummaryColumn(m.id + IN, m.id, "in"), SummaryColumn(m.id + OUT, m.id, "out")]
        elif m.kind is MetricKind.AVERAGE:
            _, over = m.averaged
            if rule_chain(over)[0].anchor is not None:
                out.append(SummaryColumn(m.id + SUM, m.id, "sum"))
    return tuple(out)


COLUMNS = _columns()
COVERED = frozenset(c.metric_id for c in COLUMNS)

county_day_counts = sa.Table(
    "county_day_counts",
    summary_metadata,
    sa.Column("county_code", cases.c.county_code.type, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    *(sa.Column(c.name, sa.BigInteger, nullable=False) for c in COLUMNS),
    sa.Column("inconsistent", sa.BigInteger, nullable=False),  # cases due or closed before their receipt
)

summary_state = sa.Table(
    "summary_state",
    summary_metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("cases_version", sa.String(64), nullable=False),
    sa.Column("default_due_days", sa.Integer, nullable=False),
    sa.Column("usable", sa.Boolean, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
)
STATE_NAME = county_day_counts.name


def reads_summary(bind: sa.Engine | sa.Connection | sa.Dialect) -> bool:
    """Whether region tables on this engine are read from the summary when it is current: on every engine
    tested. The row stores of the MySQL family need it (a scan of 5,000,000 cases takes 20 s there); DuckDB
    and PostgreSQL gain too (the 5,000,000-case county table in 33 ms and 59 ms against 176 ms and 1.2 s),
    above all on pages that read a dozen tables, such as the weekly meeting's."""
    dialect = bind if isinstance(bind, sa.Dialect) else bind.dialect
    return dialect.name in ("duckdb", "postgresql") or is_mysql_family(dialect)


def _at(day: sa.ColumnElement[Any], settings: Settings) -> CaseContext:
    """The rule context whose period is the single day `day`, read as of that day."""
    return CaseContext(Bounds(day, day, day, day), cases.c, effective_due(cases.c, settings),
                       cases.c.notice_deadline, cases.c.feedback_deadline)


def _holds(metric_id: str, ctx: CaseContext) -> sa.ColumnElement[bool]:
    return sa.and_(*(rule.sql(ctx) for rule in rule_chain(metric_id)))


def _part(day: sa.ColumnElement[Any], counts: dict[str, sa.ColumnElement[Any]]) -> sa.Select[Any]:
    """One UNION ALL member: cases grouped by (county, day), a column for each summary column (0 where
    this member has none)."""
    zero = sa.cast(sa.literal_column("0"), sa.BigInteger)

    def column(name: str) -> sa.ColumnElement[Any]:
        # DuckDB's count_if is NULL over a group whose conditions are all NULL
        return sa.func.coalesce(counts[name], zero) if name in counts else zero

    return (sa.select(cases.c.county_code.label("county_code"), day.label("day"),
                      *(column(c.name).label(c.name) for c in COLUMNS), column("inconsistent").label("inconsistent"))
            .where(day.is_not(None))
            .group_by(cases.c.county_code, day))


def build_select(settings: Settings) -> sa.Select[Any]:
    """The summary's rows from the case table: one SELECT (a UNION ALL per anchor date, summed)."""
    raw = _at(cases.c.received_date, settings)  # only its dates are read (the anchors, the due date)
    parts: list[sa.Select[Any]] = []
    for anchor in AnchorDate:
        day = anchor.of(raw)
        ctx = _at(day, settings)
        existed = cases.c.received_date <= day
        counts: dict[str, sa.ColumnElement[Any]] = {}
        for c in COLUMNS:
            if c.role == "flow" and rule_chain(c.metric_id)[0].anchor is anchor:
                counts[c.name] = count_where(sa.and_(_holds(c.metric_id, ctx), existed))
            elif c.role == "sum":
                quantity, over = METRICS_BY_ID[c.metric_id].averaged
                if rule_chain(over)[0].anchor is anchor:
                    counts[c.name] = sum_where(quantity.sql(ctx), sa.and_(_holds(over, ctx), existed))
        if anchor is AnchorDate.RECEIVED:
            counts["inconsistent"] = count_where(sa.or_(raw.due < cases.c.received_date,
                                                        cases.c.closed_date < cases.c.received_date))
        if counts:
            parts.append(_part(day, counts))
    # a stock: overdue from its first possible day until closed
    first_day = sa.func.greatest(add_days(raw.due, sa.literal(1, sa.Integer)), cases.c.received_date)
    entered = _at(first_day, settings)
    stocks = [c for c in COLUMNS if c.role == "in"]
    if stocks:
        parts.append(_part(first_day, {c.name: count_where(_holds(c.metric_id, entered)) for c in stocks}))
        parts.append(_part(cases.c.closed_date,
                           {c.metric_id + OUT: count_where(_holds(c.metric_id, entered)) for c in stocks}))
    union = sa.union_all(*parts).subquery("by_anchor")
    return (sa.select(union.c.county_code, union.c.day,
                      *(sa.cast(sa.func.sum(union.c[c.name]), sa.BigInteger).label(c.name) for c in COLUMNS),
                      sa.cast(sa.func.sum(union.c.inconsistent), sa.BigInteger).label("inconsistent"))
            .group_by(union.c.county_code, union.c.day))


def rebuild(conn: sa.Connection, settings: Settings) -> int:
    """Replace the summary with one built from the case table as `conn` sees it, and record the
    version it was built from; in the caller's transaction. Returns its number of rows."""
    summary_metadata.create_all(conn)
    conn.execute(county_day_counts.delete())
    names = ["county_code", "day", *(c.name for c in COLUMNS), "inconsistent"]
    conn.execute(county_day_counts.insert().from_select(names, build_select(settings)))
    rows, inconsistent = conn.execute(sa.select(sa.func.count(), sa.func.sum(county_day_counts.c.inconsistent))).one()
    conn.execute(summary_state.delete().where(summary_state.c.name == STATE_NAME))
    conn.execute(summary_state.insert().values(name=STATE_NAME, cases_version=_version(conn),
                                               default_due_days=settings.default_due_days,
                                               usable=not inconsistent, rows=int(rows)))
    return int(rows)


def _rebuild_where_read(conn: sa.Connection) -> None:
    """The loader's hook: rebuild in the loading transaction on the engines that read the summary."""
    if reads_summary(conn):
        rebuild(conn, load_settings())


after_case_writes(_rebuild_where_read)


def refresh(engine: sa.Engine, settings: Settings) -> bool:
    """Rebuild the summary if it is not current (the cases were loaded by a program that does not keep it,
    e.g. python -m data_access); True when it was rebuilt. The dashboard calls this once per data version."""
    with engine.connect() as conn:
        if not reads_summary(conn) or not stored_deadlines(conn) or is_current(conn, settings):
            return False
    with engine.begin() as conn:
        if is_current(conn, settings):  # another process rebuilt it meanwhile
            return False
        rebuild(conn, settings)
    return True


# Engines whose database is known to hold summary_state (once made, the tables stay): asked once per engine.
_STATE_TABLE_SEEN: weakref.WeakKeyDictionary[sa.Engine, bool] = weakref.WeakKeyDictionary()


def _has_state_table(conn: sa.Connection) -> bool:
    if _STATE_TABLE_SEEN.get(conn.engine):
        return True
    found = sa.inspect(conn).has_table(summary_state.name)
    if found:
        _STATE_TABLE_SEEN[conn.engine] = True
    return found


def is_current(conn: sa.Connection, settings: Settings) -> bool:
    """True when the summary was built from the case table as it is, with these settings' due days."""
    if not _has_state_table(conn):
        return False
    state = conn.execute(sa.select(summary_state).where(summary_state.c.name == STATE_NAME)).mappings().first()
    return (state is not None and state["usable"] and state["default_due_days"] == settings.default_due_days
            and state["cases_version"] == _version(conn))


def _version(conn: sa.Connection) -> str:
    """The loads recorded in the import log, and a reading of the case table itself that costs no scan: its
    row count on DuckDB (kept in its metadata), its highest case_id elsewhere (off the primary key's index).
    A table emptied or refilled without the loader reads as changed too."""
    reading = sa.func.count() if conn.dialect.name == "duckdb" else sa.func.max(cases.c.case_id)
    return f"{cases_version(conn)}|{conn.execute(sa.select(reading).select_from(cases)).scalar()}"


def covers(metric_ids: tuple[str, ...]) -> bool:
    """Whether every one of these count (or average) metrics has its summary column."""
    return all(m in COVERED for m in metric_ids)


def _summed(source: sa.FromClause, count_ids: tuple[str, ...], average_ids: tuple[str, ...],
            in_window: sa.ColumnElement[bool]) -> list[sa.ColumnElement[Any]]:
    """The metrics' columns summed over rows of `source` (columns named as the summary's): a flow or an
    average's sum over the days `in_window`, a stock over every row (the caller keeps the days up to A)."""
    columns: list[sa.ColumnElement[Any]] = []
    for mid in count_ids:
        if rule_chain(mid)[0].anchor is not None:
            columns.append(sa.cast(sum_where(source.c[mid], in_window), sa.BigInteger).label(mid))
        else:
            columns.append(sa.cast(sa.func.sum(source.c[mid + IN] - source.c[mid + OUT]), sa.BigInteger).label(mid))
    columns += [sum_where(source.c[mid + SUM], in_window).label(mid + SUM) for mid in average_ids]
    return columns


def summed_by_county(count_ids: tuple[str, ...], average_ids: tuple[str, ...], start: dt.date,
                     window_end: dt.date, as_of: dt.date, where: tuple[sa.ColumnElement[bool], ...]) -> sa.Select[Any]:
    """One row per county: the counts (and averages' sums) over [start, window_end] read as of `as_of`,
    named as aggregate_subquery names them (code, <count id>..., <average id>__sum)."""
    s = county_day_counts
    in_window = sa.and_(s.c.day >= start, s.c.day <= window_end)
    return (sa.select(s.c.county_code.label("code"), *_summed(s, count_ids, average_ids, in_window))
            .where(s.c.day <= as_of, *where)
            .group_by(s.c.county_code))


def summed_by_bucket(count_ids: tuple[str, ...], average_ids: tuple[str, ...], buckets: sa.FromClause,
                     where: tuple[sa.ColumnElement[bool], ...]) -> sa.Select[Any]:
    """One row per bucket (code = bucket_start): the counts over [bucket_start, bucket_window_end] read as of
    bucket_as_of, named as summed_by_county names them. The selected counties are first summed per day (about
    a thousand rows), then each bucket takes its days."""
    s = county_day_counts
    names = [c.name for c in COLUMNS if c.metric_id in {*count_ids, *average_ids}]
    latest = sa.select(sa.func.max(buckets.c.bucket_as_of)).scalar_subquery()
    daily = (sa.select(s.c.day, *(sa.func.sum(s.c[n]).label(n) for n in names))
             .where(s.c.day <= latest, *where).group_by(s.c.day).subquery("daily"))
    in_window = sa.and_(daily.c.day >= buckets.c.bucket_start, daily.c.day <= buckets.c.bucket_window_end)
    return (sa.select(buckets.c.bucket_start.label("code"), *_summed(daily, count_ids, average_ids, in_window))
            .select_from(buckets.join(daily, daily.c.day <= buckets.c.bucket_as_of))
            .group_by(buckets.c.bucket_start))


def in_region(code: str | None) -> sa.ColumnElement[bool]:
    """Summary rows of counties at or under region `code` (all for None)."""
    if code is None:
        return sa.true()
    return county_day_counts.c.county_code.in_(counties_at_or_under(code))


def in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    """Summary rows the viewer of `scope` may see."""
    return case_in_scope(county_day_counts.c.county_code, scope)
