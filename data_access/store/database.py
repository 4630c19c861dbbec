"""Create the tables and load the reference data; the case table's data version, its write hooks and the
reads every part shares (regions, counts, the demo's share). Loading cases is imports.loading's."""
from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from data_access.reference.enums import Level
from data_access.reference.regions import default_regions_file, read_regions_file
from data_access.reference.workdays import calendar_frame
from data_access.store import bulk
from data_access.store.engine import connect, result_frame
from data_access.store.schema import (
    DEADLINE_COLUMNS,
    LATER_CASE_COLUMNS,
    cases,
    import_log,
    metadata,
    regions,
    workday_calendar,
)

DEMO_ID_PREFIX = "DEMO-"  # reserved for the demo generator's cases (data_access/demo/cases.py), refused on import


# Functions run inside every transaction that changes the case table (a load, a demo removal, a refresh of
# the stored deadlines), after its import-log row: what is kept beside the cases (metrics' per-county daily
# summary) is rebuilt in the same transaction, so readers see both changed together or neither.
CaseWriteHook = Callable[[sa.Connection], None]
_CASE_WRITE_HOOKS: list[CaseWriteHook] = []

# import_log kinds that change the case table (a 12388 import does not)
CASE_LOG_KINDS = ("import", "demo", "remove_demo", "reference")


def after_case_writes(hook: CaseWriteHook) -> CaseWriteHook:
    """Register `hook` to run in every transaction that changes the case table (once per hook)."""
    if hook not in _CASE_WRITE_HOOKS:
        _CASE_WRITE_HOOKS.append(hook)
    return hook


def case_write_hooks() -> tuple[CaseWriteHook, ...]:
    """The registered hooks (none in a program that never imported metrics, e.g. python -m data_access)."""
    return tuple(_CASE_WRITE_HOOKS)


def case_writes_done(conn: sa.Connection) -> None:
    """Run the registered hooks in `conn`'s transaction, which has just changed the case table. On PostgreSQL the
    case table's planner statistics are refreshed first, in the same transaction (its ANALYZE counts the rows the
    transaction wrote): the hooks rebuild the derived tables from the cases, and planned from statistics of an
    emptier table (a database analysed at one case, then loaded with 375,000) the linked cases' grouping ran for
    more than ten minutes where it takes seconds."""
    if _CASE_WRITE_HOOKS:
        analyze_in(conn, (cases,))
    for hook in _CASE_WRITE_HOOKS:
        hook(conn)


def cases_version(conn: sa.Connection) -> str:
    """Changes with every load of the case table through this module (its import-log rows)."""
    n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(import_log.c.imported_at))
                           .where(import_log.c.kind.in_(CASE_LOG_KINDS))).one()
    return f"{n}:{last}"


def init_database(engine: sa.Engine, regions_path: Path | None = None) -> int:
    """Create missing tables, load the region tree (replacing it) and the working-day calendar."""
    frame = read_regions_file(regions_path or default_regions_file())
    metadata.create_all(engine)
    _add_later_case_columns(engine)
    with engine.begin() as conn:
        reloading = conn.execute(sa.select(sa.func.count()).select_from(regions)).scalar_one() > 0
        _load_regions(conn, frame)
        _load_calendar(conn)
        if reloading:  # a new data version: every server process drops what it cached of the old tree and deadlines
            conn.execute(import_log.insert().values(
                imported_at=dt.datetime.now().replace(microsecond=0), kind="reference", source="地区与工作日日历",
                mode="replace", rows=0, dropped_columns=None))
    _migrate_deadlines(engine, refresh=True)  # the calendar may have changed (a newer holiday package)
    analyze(engine, (regions, workday_calendar, cases))
    return len(frame)


def ensure_initialized(engine: sa.Engine) -> None:
    """Create any missing table; load the default regions and the calendar only where they are empty.

    Never replaces data already there (a database set up for another province keeps its regions).
    """
    metadata.create_all(engine)  # checkfirst: only what is missing
    _add_later_case_columns(engine)
    _migrate_deadlines(engine, refresh=False)
    with engine.connect() as conn:
        has_regions = conn.execute(sa.select(sa.func.count()).select_from(regions)).scalar_one() > 0
        has_calendar = conn.execute(sa.select(sa.func.count()).select_from(workday_calendar)).scalar_one() > 0
    if has_regions and has_calendar:
        return
    with engine.begin() as conn:
        if not has_regions:
            _load_regions(conn, read_regions_file(default_regions_file()))
        if not has_calendar:
            _load_calendar(conn)
    analyze(engine, (regions, workday_calendar))


# Engines whose `cases` table carries the stored deadline columns (checked once per engine).
_STORED_DEADLINES: weakref.WeakKeyDictionary[sa.Engine, bool] = weakref.WeakKeyDictionary()


def stored_deadlines(bind: sa.Engine | sa.Connection) -> bool:
    """True when `cases` has notice_deadline and feedback_deadline (filled at load time); False for an
    external table or view with only the contract's columns, whose deadlines come from the calendar."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    known = _STORED_DEADLINES.get(engine)
    if known is None:
        known = _STORED_DEADLINES[engine] = set(DEADLINE_COLUMNS) <= _case_columns(engine)
    return known


def _case_columns(engine: sa.Engine) -> set[str]:
    """Column names of `cases` as the database has it (a zero-row SELECT: works for tables and views
    on every engine, where reflection does not)."""
    with engine.connect() as conn:
        return set(conn.execute(sa.select(sa.text("*")).select_from(sa.table(cases.name)).limit(0)).keys())


def _add_later_case_columns(engine: sa.Engine) -> None:
    """Give a `cases` base table made before the contract's later optional columns (matter_id,
    received_level) those columns, empty. Views are left alone: nothing reads those columns yet."""
    if cases.name not in sa.inspect(engine).get_table_names():
        return
    missing = [c for c in LATER_CASE_COLUMNS if c not in _case_columns(engine)]
    if not missing:
        return
    with engine.begin() as conn:
        for column in missing:
            sql_type = cases.c[column].type.compile(dialect=engine.dialect)
            conn.execute(sa.text(f"ALTER TABLE {cases.name} ADD COLUMN {column} {sql_type}"))


def _migrate_deadlines(engine: sa.Engine, refresh: bool) -> None:
    """Give a `cases` base table made before the deadline columns existed those columns, filled from the
    calendar; with `refresh`, recompute them anyway (after the calendar was reloaded). Views are left alone."""
    _STORED_DEADLINES.pop(engine, None)
    inspector = sa.inspect(engine)
    if cases.name not in inspector.get_table_names():
        return
    present = _case_columns(engine)
    missing = [c for c in DEADLINE_COLUMNS if c not in present]
    if not missing and not refresh:
        return
    with engine.begin() as conn:
        for column in missing:
            conn.execute(sa.text(f"ALTER TABLE {cases.name} ADD COLUMN {column} DATE"))
        conn.execute(refresh_deadlines_statement())
        case_writes_done(conn)
    _STORED_DEADLINES.pop(engine, None)


def refresh_deadlines_statement() -> sa.Update:
    """UPDATE cases: D1 and D2 looked up in workday_calendar (NULL where closed_date is NULL)."""
    def deadline_of(day: sa.ColumnElement[dt.date]) -> sa.ScalarSelect[dt.date]:
        return sa.select(workday_calendar.c.deadline_15).where(workday_calendar.c.day == day).scalar_subquery()

    return cases.update().values(notice_deadline=deadline_of(cases.c.received_date),
                                 feedback_deadline=deadline_of(cases.c.closed_date))


def _load_regions(conn: sa.Connection, frame: pd.DataFrame) -> None:
    conn.execute(regions.delete())
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")  # NaN -> NULL
    conn.execute(regions.insert(), records)


def _load_calendar(conn: sa.Connection) -> None:
    conn.execute(workday_calendar.delete())
    frame = calendar_frame()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(0, "day", table["day"].cast(pa.date32()))
    table = table.set_column(3, "deadline_15", table["deadline_15"].cast(pa.date32()))
    staged = bulk.stage_table(conn, table, "staged_calendar")
    cols = [workday_calendar.c[c] for c in table.column_names]
    conn.execute(workday_calendar.insert().from_select(cols, sa.select(*(staged.c[c.name] for c in cols))))
    bulk.drop_staged(conn, "staged_calendar")


def county_codes(engine: sa.Engine) -> set[str]:
    """Codes of every county-level unit in the regions table."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(regions.c.code).where(regions.c.level == Level.COUNTY.value))
        return {r[0] for r in rows}


def regions_frame(engine: sa.Engine) -> pd.DataFrame:
    """The whole region tree: code, name, level, parent_code, lon, lat, sorted by code."""
    with engine.connect() as conn:
        result = conn.execute(sa.select(regions).order_by(regions.c.code))
        return result_frame(result)


def county_frame(engine: sa.Engine) -> pd.DataFrame:
    """The county-level units: code, name, parent_code, sorted by code."""
    stmt = sa.select(regions.c.code, regions.c.name, regions.c.parent_code).where(
        regions.c.level == Level.COUNTY.value).order_by(regions.c.code)
    with engine.connect() as conn:
        return result_frame(conn.execute(stmt), ["code", "name", "parent_code"])


def analyze(engine: sa.Engine, tables: tuple[sa.Table, ...]) -> None:
    """Refresh PostgreSQL's planner statistics: without them it joins the aggregate row by row."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(sa.text(f"ANALYZE {table.name}"))


# analyze_in refreshes a table's statistics once this many rows (and more than STALE_SHARE of those the statistics
# count) were written since they were taken: below it a plan from stale statistics costs little, and an ANALYZE in
# the writing transaction waits up to a second for an autovacuum of the same table to give way.
ANALYZE_MIN_CHANGED = 5_000
STALE_SHARE = 0.1


def analyze_in(conn: sa.Connection, tables: tuple[sa.Table, ...]) -> None:
    """analyze, inside `conn`'s transaction (PostgreSQL's ANALYZE counts the rows the transaction itself wrote), for a
    statement about to read a table just written or synced, where its statistics are stale enough to mislead the
    planner: ANALYZE_MIN_CHANGED rows or more written since they were taken, by this transaction or committed before
    it, and more than STALE_SHARE of the rows they count. A user who does not own the table gets PostgreSQL's
    warning, not an error."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        found = conn.execute(sa.text(
            "SELECT COALESCE(x.n_tup_ins + x.n_tup_upd + x.n_tup_del, 0) + COALESCE(s.n_mod_since_analyze, 0),"
            " GREATEST(c.reltuples, 0) FROM pg_class c"
            " LEFT JOIN pg_stat_xact_user_tables x ON x.relid = c.oid"
            " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.oid = to_regclass(:name)"), {"name": table.name}).first()
        if found is not None and found[0] >= ANALYZE_MIN_CHANGED and found[0] > STALE_SHARE * found[1]:
            conn.execute(sa.text(f"ANALYZE {table.name}"))


def last_received(bind: sa.Engine | sa.Connection) -> dt.date | None:
    """The last received_date in the whole case table: the data's date (None without cases). The dashboard's default
    截止日期, and the day from which the campaign is read as it is now (metrics.campaign.steps_cutoff)."""
    query = sa.select(sa.func.max(cases.c.received_date))
    with connect(bind) as conn:
        day: dt.date | None = conn.execute(query).scalar_one()
    return day


def case_count(engine: sa.Engine) -> int:
    """Number of rows in the cases table."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()


def latest_load(engine: sa.Engine) -> dict[str, Any] | None:
    """The most recent row of the import log, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(import_log).order_by(import_log.c.imported_at.desc()).limit(1)).mappings().first()
        return dict(row) if row else None


def is_demo_case() -> sa.ColumnElement[bool]:
    """True for a case the demo generator made: its case_id carries the prefix the importer refuses."""
    return cases.c.case_id.like(f"{DEMO_ID_PREFIX}%")


@dataclass(frozen=True)
class DemoShare:
    """How many of the cases are the demo generator's."""

    demo: int
    total: int

    @property
    def all_demo(self) -> bool:
        """Only demo cases (and at least one)."""
        return self.demo > 0 and self.demo == self.total


def demo_share(engine: sa.Engine) -> DemoShare:
    """Demo cases and all cases, counted by the database."""
    with engine.connect() as conn:
        demo_count = sa.func.sum(sa.case((is_demo_case(), 1), else_=0))  # no FILTER clause: MySQL has none
        demo, total = conn.execute(sa.select(demo_count, sa.func.count()).select_from(cases)).one()
    return DemoShare(int(demo or 0), int(total))


