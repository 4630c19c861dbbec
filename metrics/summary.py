"""The per-county daily summary: counts of cases by county and day, kept beside the case table, from
which region tables, series and the signals' weekly counts are summed instead of scanning the cases. Rebuilt
with it, under the same version and fingerprint: the linked cases of the repeat-matters screening
(metrics.matter_links, their own state row).

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
was built from (data_access.store.database.cases_version), a fingerprint of the case table's contents (the case
count and the sum of a hash of each case's columns the summary reads: an update in place that closes a case
or moves a due date changes it, where the version does not), the default due days it was built with (the
effective due date depends on it), and whether every case's due and closing dates lie on or after its
receipt (the loader's validation refuses others; a table that has some is read from the cases). The
fingerprint costs a scan of the case table, so a process keeps its last reading in memory and reads it anew
after each load or rebuild (at once) and every `summary_check_seconds` (settings; in a thread of its own, the kept
reading answering meanwhile, so that no page waits for the scan); the rest is read every time. A
request with case filters (channel, domain, ...) or a metric the summary has no column for is read from
the cases. The loader rebuilds it in the loading transaction where it is read (data_access.store.database.
after_case_writes); the dashboard rebuilds a stale one once per data version and fingerprint; `python -m
metrics summary` rebuilds it by hand, and `--check` tells a cron job whether it is current.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_access.identity.scope import Scope, case_in_scope, counties_at_or_under
from data_access.reference.enums import LabelledEnum
from data_access.store.changes import note_change
from data_access.store.database import after_case_writes, analyze_in, cases_version, stored_deadlines
from data_access.store.dialects import add_days, count_where, is_mysql_family, row_hash, sum_where
from data_access.store.schema import DEADLINE_COLUMNS, cases

from .compiler import rule_chain
from .matter_keys import optional_case_columns
from .matter_links import LINK_CASE_COLUMNS, LINKS_FORMAT, matter_links, rebuild_links
from .registry import METRICS, METRICS_BY_ID, MetricKind
from .rules import OVERDUE_AT_AS_OF, AnchorDate, Bounds, CaseContext, effective_due
from .settings import Settings, load_settings

LOG = logging.getLogger(__name__)

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


def _case_columns_read() -> tuple[str, ...]:
    """The case columns the summary is built from: the county, the dates, the stored deadlines and every column
    a rule or averaged quantity of a summary column reads (a new rule's columns join by themselves)."""
    names = {"county_code", "received_date", "due_date", "closed_date", *DEADLINE_COLUMNS}
    for c in COLUMNS:
        metric = METRICS_BY_ID[c.metric_id]
        if metric.kind is MetricKind.AVERAGE:
            quantity, over = metric.averaged
            names.update(quantity.columns)
            chain = rule_chain(over)
        else:
            chain = rule_chain(c.metric_id)
        for rule in chain:
            names.update(rule.columns)
    return tuple(column.name for column in cases.columns if column.name in names)  # in the table's order


FINGERPRINT_COLUMNS = _case_columns_read()

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
    sa.Column("fingerprint", sa.String(96), nullable=False),  # case_fingerprint() when it was built
    sa.Column("default_due_days", sa.Integer, nullable=False),
    sa.Column("usable", sa.Boolean, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
)
STATE_NAME = county_day_counts.name
# the state row of the linked cases (metrics.matter_links), rebuilt with the summary; its number moves with the table's
# shape, so that a table of an earlier shape is never read as current (rebuild_links makes it anew)
LINKS_STATE = f"{matter_links.name}:{LINKS_FORMAT}"
# every table kept beside the cases and rebuilt here (data_access.records.backup.DERIVED_TABLES names them)
DERIVED_TABLES = (county_day_counts, summary_state, matter_links)


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


def rebuild(conn: sa.Connection, settings: Settings, make_links: bool = True) -> int:
    """Replace the summary with one built from the case table as `conn` sees it, and the linked cases of the
    repeat-matters screening (metrics.matter_links) when the case table has matter_id (and their table exists, or
    `make_links`), and record the version and fingerprint they were built from; in the caller's transaction.
    Returns the summary's number of rows."""
    _migrate_state_table(conn)
    summary_metadata.create_all(conn)
    conn.execute(county_day_counts.delete())
    names = ["county_code", "day", *(c.name for c in COLUMNS), "inconsistent"]
    conn.execute(county_day_counts.insert().from_select(names, build_select(settings)))
    rows, inconsistent = conn.execute(sa.select(sa.func.count(), sa.func.sum(county_day_counts.c.inconsistent))).one()
    present = optional_case_columns(conn)
    build_links = "matter_id" in present and (make_links or sa.inspect(conn).has_table(matter_links.name))
    links = rebuild_links(conn, "received_level" in present) if build_links else None
    version, fingerprint = _version(conn), case_fingerprint(conn)
    conn.execute(summary_state.delete().where(summary_state.c.name.in_((STATE_NAME, LINKS_STATE))))
    states = [dict(name=STATE_NAME, usable=not inconsistent, rows=int(rows))]
    if links is not None:
        states.append(dict(name=LINKS_STATE, usable=True, rows=links))
    conn.execute(summary_state.insert(), [{**state, "cases_version": version, "fingerprint": fingerprint,
                                           "default_due_days": settings.default_due_days} for state in states])
    return int(rows)


def _migrate_state_table(conn: sa.Connection) -> None:
    """A summary_state written before the fingerprint was recorded is dropped (create_all makes it anew): it
    holds one row, rewritten with the summary."""
    if _state_table(conn) is _StateTable.OLD:
        summary_state.drop(conn)


def _rebuild_where_read(conn: sa.Connection) -> None:
    """The loader's hook: rebuild in the loading transaction on the engines that read the summary. Not over a
    summary_state of an older version: replacing that table is DDL, which the MySQL family commits at once (the
    load would no longer be all or nothing); the summary stays stale until the dashboard or `python -m metrics
    summary` rebuilds it in a transaction of its own."""
    state_table = _state_table(conn)
    if reads_summary(conn) and state_table is not _StateTable.OLD:
        # nor, on the MySQL family, a missing table of linked cases beside an existing summary (a database of a version
        # before it): the screening reads the cases until a rebuild of its own makes it
        make_links = not is_mysql_family(conn) or state_table is _StateTable.MISSING
        rebuild(conn, load_settings(), make_links=make_links)


after_case_writes(_rebuild_where_read)


def refresh(engine: sa.Engine, settings: Settings) -> bool:
    """Rebuild the summary if it is not current: the cases were loaded by a program that does not keep it (e.g.
    python -m data_access), or changed in place behind the loader's back. True when it was rebuilt; the rebuild
    moves the data version (every process's caches then read anew). The dashboard calls this once per data
    version and fingerprint."""
    with engine.connect() as conn:
        if not applies(conn) or all_current(conn, settings):
            return False
    with engine.begin() as conn:
        if all_current(conn, settings, max_age=0.0):  # another process rebuilt it meanwhile
            return False
        analyze_in(conn, (cases,))  # the cases changed outside the app: PostgreSQL may not have their statistics yet
        rebuild(conn, settings)
        note_change(conn, "summary")
    return True


def all_current(conn: sa.Connection, settings: Settings, max_age: float | None = None) -> bool:
    """The summary is current, and so are the linked cases where the case table has matter_id."""
    return currency(conn, settings, max_age).current and links_current(conn, settings, max_age)


def links_current(conn: sa.Connection, settings: Settings, max_age: float | None = None) -> bool:
    """The linked cases are current, or not wanted (the case table has no matter_id)."""
    return "matter_id" not in optional_case_columns(conn) or currency(conn, settings, max_age, LINKS_STATE).current


def applies(conn: sa.Connection) -> bool:
    """Whether this database's tables are ever read from the summary (the engine reads it, and the case table
    has the stored deadlines it is built with)."""
    return reads_summary(conn) and stored_deadlines(conn)


class Staleness(LabelledEnum):
    """Why the summary is not read (the tables then scan the cases: same numbers, slower)."""

    MISSING = ("missing", "按县按日汇总表尚未生成")
    OLD_FORMAT = ("old_format", "汇总表由旧版本生成，未记录案件表指纹")
    DUE_DAYS = ("due_days", "汇总表生成时的默认办理期限与当前设置不同")
    INCONSISTENT = ("inconsistent", "案件表中有办理期限或办结日期早于收件日期的案件")
    LOADED = ("loaded", "汇总表生成后案件表又经导入或增删")
    CHANGED = ("changed", "汇总表生成后案件表中已有案件被直接修改")


@dataclass(frozen=True)
class Currency:
    """Whether the summary may be read (`staleness` None) and the case table's fingerprint as read for the
    answer (None when an earlier check decided)."""

    staleness: Staleness | None
    fingerprint: str | None

    @property
    def current(self) -> bool:
        return self.staleness is None


class _StateTable(LabelledEnum):
    """What the database holds of summary_state."""

    MISSING = ("missing", "no summary_state table")
    OLD = ("old", "summary_state without its fingerprint column")
    CURRENT = ("current", "summary_state as declared")


# Engines whose database is known to hold summary_state as declared (once made, it stays): asked once per engine.
_STATE_TABLE_SEEN: weakref.WeakKeyDictionary[sa.Engine, bool] = weakref.WeakKeyDictionary()


def _state_table(conn: sa.Connection) -> _StateTable:
    if _STATE_TABLE_SEEN.get(conn.engine):
        return _StateTable.CURRENT
    if not sa.inspect(conn).has_table(summary_state.name):
        return _StateTable.MISSING
    # a zero-row SELECT names the columns on every engine (duckdb-engine cannot reflect them)
    columns = conn.execute(sa.select(sa.text("*")).select_from(sa.table(summary_state.name)).limit(0)).keys()
    if "fingerprint" not in columns:
        return _StateTable.OLD
    _STATE_TABLE_SEEN[conn.engine] = True
    return _StateTable.CURRENT


def is_current(conn: sa.Connection, settings: Settings) -> bool:
    """True when the summary was built from the case table as it is, with these settings' due days (see currency)."""
    return currency(conn, settings).current


def currency(conn: sa.Connection, settings: Settings, max_age: float | None = None, name: str = STATE_NAME) -> Currency:
    """Whether the summary (`name` LINKS_STATE: the linked cases) was built from the case table as it is, with these
    settings' due days, and if not, why. The loads (import log, case count or highest id) are read every time; the
    fingerprint, a scan, is read anew when this process's last reading of it is `max_age` seconds old (default
    settings.summary_check_seconds; 0: now) or the summary was rebuilt since."""
    table = _state_table(conn)
    if table is not _StateTable.CURRENT:
        return Currency(Staleness.MISSING if table is _StateTable.MISSING else Staleness.OLD_FORMAT, None)
    state = conn.execute(sa.select(summary_state).where(summary_state.c.name == name)).mappings().first()
    if state is None:
        return Currency(Staleness.MISSING, None)
    if name == STATE_NAME and state["default_due_days"] != settings.default_due_days:  # the linked cases read no due date
        return Currency(Staleness.DUE_DAYS, None)
    if not state["usable"]:
        return Currency(Staleness.INCONSISTENT, None)
    version = _version(conn)
    if state["cases_version"] != version:
        return Currency(Staleness.LOADED, None)
    fingerprint = _kept_fingerprint(conn, f"{version}|{state['fingerprint']}",
                                    settings.summary_check_seconds if max_age is None else max_age)
    return Currency(None if fingerprint == state["fingerprint"] else Staleness.CHANGED, fingerprint)


def _version(conn: sa.Connection) -> str:
    """The loads recorded in the import log, and a reading of the case table itself that costs no scan: its
    row count on DuckDB (kept in its metadata), its highest case_id elsewhere (off the primary key's index).
    A table emptied or refilled without the loader reads as changed too. Kept as its SHA-256 (64 hex digits, the
    width of summary_state.cases_version: a case id alone may be 64 characters long)."""
    reading = sa.func.count() if conn.dialect.name == "duckdb" else sa.func.max(cases.c.case_id)
    text = f"{cases_version(conn)}|{conn.execute(sa.select(reading).select_from(cases)).scalar()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_columns(conn: sa.Connection) -> tuple[str, ...]:
    """The case columns the fingerprint covers: those the summary is built from (FINGERPRINT_COLUMNS) and those the
    linked cases are (LINK_CASE_COLUMNS), of the optional ones those the case table has; in the table's order."""
    absent = {"matter_id", "received_level"} - optional_case_columns(conn)
    wanted = {*FINGERPRINT_COLUMNS, *LINK_CASE_COLUMNS} - absent
    return tuple(column.name for column in cases.columns if column.name in wanted)


def case_fingerprint(conn: sa.Connection) -> str:
    """The case table's contents as the summary and the linked cases see them: the number of cases and the sum over
    them of a hash of the columns they are built from (fingerprint_columns). An insert, a delete or an update of any
    of those columns moves it (unless a changed row hashes as before: a chance of about 2^-32 with MySQL's CRC32, the
    narrowest of the hashes). Costs a scan of the case table: benchmarks/README.md has it at 5,000,000 cases."""
    hashed = sa.func.sum(row_hash(*(cases.c[name] for name in fingerprint_columns(conn))))
    count, total = conn.execute(sa.select(sa.func.count(), hashed).select_from(cases)).one()
    return f"{count}:{total or 0}"


@dataclass(frozen=True)
class _Reading:
    """A fingerprint this process read, what it was read for (the loads and the summary's own fingerprint), and
    when (time.monotonic())."""

    key: str
    fingerprint: str
    at: float


_READINGS: weakref.WeakKeyDictionary[sa.Engine, _Reading] = weakref.WeakKeyDictionary()
_READING_NOW: weakref.WeakKeyDictionary[sa.Engine, threading.Thread] = weakref.WeakKeyDictionary()
_READINGS_LOCK = threading.Lock()


def _kept_fingerprint(conn: sa.Connection, key: str, max_age: float) -> str:
    """case_fingerprint as this process last read it for the same `key` (the loads and the summary's own
    fingerprint: a load or a rebuild, by any process, is followed by a reading now). A reading `max_age` seconds
    old or older is read anew in a thread of its own while it still answers, so that no page waits for the scan;
    `max_age` 0 reads it now."""
    kept = _READINGS.get(conn.engine)
    if kept is not None and kept.key == key:
        if time.monotonic() - kept.at < max_age:
            return kept.fingerprint
        if max_age > 0:
            _read_in_background(conn.engine, key)
            return kept.fingerprint
    fingerprint = case_fingerprint(conn)
    with _READINGS_LOCK:
        _READINGS[conn.engine] = _Reading(key, fingerprint, time.monotonic())
    return fingerprint


def _read_in_background(engine: sa.Engine, key: str) -> None:
    """Start reading the fingerprint for `key` in a daemon thread, unless one is reading for this engine."""
    with _READINGS_LOCK:
        running = _READING_NOW.get(engine)
        if running is not None and running.is_alive():
            return
        thread = threading.Thread(target=_read_into_memory, args=(engine, key), name="summary-fingerprint", daemon=True)
        _READING_NOW[engine] = thread
    thread.start()


def _read_into_memory(engine: sa.Engine, key: str) -> None:
    try:
        with engine.connect() as conn:
            fingerprint = case_fingerprint(conn)
    except sa.exc.SQLAlchemyError as exc:  # the kept reading goes on answering; the next check tries again
        LOG.warning("case table fingerprint not read (%s)", exc)
        return
    with _READINGS_LOCK:
        kept = _READINGS.get(engine)
        if kept is None or kept.key == key:  # not if a reading for a newer load or rebuild came meanwhile
            _READINGS[engine] = _Reading(key, fingerprint, time.monotonic())


def background_reading(engine: sa.Engine) -> threading.Thread | None:
    """The thread reading this engine's fingerprint anew, if one was started (tests wait for it)."""
    return _READING_NOW.get(engine)


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
