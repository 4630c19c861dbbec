"""Create the tables, load the reference data, and move validated cases in, all-or-nothing."""
from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from . import audit, bulk
from .auth import Identity, require_whole_province
from .enums import Level
from .orphans import Orphans
from .problems import DatabaseProblems, DataRejected, Problem
from .regions import default_regions_file, read_regions_file
from .schema import (
    CASE_COLUMNS,
    DEADLINE_COLUMNS,
    LATER_CASE_COLUMNS,
    cases,
    import_log,
    metadata,
    regions,
    workday_calendar,
)
from .scope import counties_at_or_under
from .validate import DEMO_ID_PREFIX, ValidatedCases
from .workdays import calendar_frame


class ImportMode(str):
    """How an import treats the table: append (default), replace, upsert."""

    APPEND = "append"
    REPLACE = "replace"
    UPSERT = "upsert"


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


def _case_writes_done(conn: sa.Connection) -> None:
    for hook in _CASE_WRITE_HOOKS:
        hook(conn)


def cases_version(conn: sa.Connection) -> str:
    """Changes with every load of the case table through this module (its import-log rows)."""
    n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(import_log.c.imported_at))
                           .where(import_log.c.kind.in_(CASE_LOG_KINDS))).one()
    return f"{n}:{last}"


@dataclass(frozen=True)
class LoadReport:
    """What a successful load did."""

    rows: int
    mode: str
    source: str
    dropped_columns: tuple[str, ...]
    replaced: int  # rows removed first (replace: the whole table; upsert: the case_ids updated)
    header_row: int = 1  # the file's header row (titles above it were skipped)
    skipped_rows: tuple[int, ...] = ()  # non-blank rows above the header
    sheet: str | None = None  # the sheet read, for a workbook of several
    written: bool = True  # False for a check (python -m data_access import --check): nothing was written
    orphans: Orphans = Orphans()  # a confirmed replacement: the ledger items and complaints it left without their case


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
    _analyze(engine, (regions, workday_calendar, cases))
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
    _analyze(engine, (regions, workday_calendar))


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
        _case_writes_done(conn)
    _STORED_DEADLINES.pop(engine, None)


def refresh_deadlines_statement() -> sa.Update:
    """UPDATE cases: D1 and D2 looked up in workday_calendar (NULL where closed_date is NULL)."""
    def deadline_of(day: sa.ColumnElement[dt.date]) -> sa.ScalarSelect[dt.date]:
        return sa.select(workday_calendar.c.deadline_15).where(workday_calendar.c.day == day).scalar_subquery()

    return cases.update().values(notice_deadline=deadline_of(cases.c.received_date),
                                 feedback_deadline=deadline_of(cases.c.closed_date))


def _with_deadlines(staged: sa.TableClause) -> sa.Select[Any]:
    """The staged rows with D1 and D2 from the calendar, in cases' column order."""
    cal_r, cal_c = workday_calendar.alias("cal_received"), workday_calendar.alias("cal_closed")
    return (
        sa.select(*(staged.c[c] for c in CASE_COLUMNS), cal_r.c.deadline_15, cal_c.c.deadline_15)
        .select_from(staged.outerjoin(cal_r, cal_r.c.day == staged.c.received_date)
                     .outerjoin(cal_c, cal_c.c.day == staged.c.closed_date))
    )


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
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def county_frame(engine: sa.Engine) -> pd.DataFrame:
    """The county-level units: code, name, parent_code, sorted by code."""
    stmt = sa.select(regions.c.code, regions.c.name, regions.c.parent_code).where(
        regions.c.level == Level.COUNTY.value).order_by(regions.c.code)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).fetchall(), columns=["code", "name", "parent_code"])


def load_cases(engine: sa.Engine, validated: ValidatedCases, mode: str, source: str, kind: str = "import",
               audit_entry: Callable[[sa.Connection, int], None] | None = None, region: str | None = None,
               guard: Callable[[sa.Connection, sa.TableClause], None] | None = None) -> LoadReport:
    """Load validated cases in one transaction via the engine's bulk path; raise DataRejected on a conflict.
    `audit_entry(conn, replaced)`, when given, writes the load's audit row in that same transaction.
    With `region` (a city's or county's upload), a case_id already held by a case of another region is
    a conflict: an upsert may not overwrite it. `guard(conn, staged)`, when given, runs in the transaction
    after the rows are staged and before any case is removed, and may refuse the load by raising.
    Only the case table is written (and the import log): what the app wrote itself is never deleted."""
    table = _with_every_case_column(validated.table)
    with engine.begin() as conn:
        staged = bulk.stage_table(conn, table, key="case_id")
        if mode == ImportMode.APPEND:
            _refuse_existing_ids(conn, staged, validated)
        if region is not None:
            _refuse_ids_of_other_regions(conn, staged, validated, region)
        if guard is not None:
            guard(conn, staged)
        replaced = _remove_replaced(conn, staged, mode)
        cols = [cases.c[c] for c in CASE_COLUMNS]
        if stored_deadlines(conn):
            conn.execute(cases.insert().from_select([*cols, *(cases.c[c] for c in DEADLINE_COLUMNS)],
                                                    _with_deadlines(staged)))
        else:
            conn.execute(cases.insert().from_select(cols, sa.select(*(staged.c[c] for c in CASE_COLUMNS))))
        conn.execute(import_log.insert().values(
            imported_at=dt.datetime.now().replace(microsecond=0), kind=kind, source=source[:255], mode=mode,
            rows=table.num_rows, dropped_columns=",".join(validated.dropped_columns)[:1000] or None))
        if audit_entry is not None:
            audit_entry(conn, replaced)
        bulk.drop_staged(conn)
        _case_writes_done(conn)
    _analyze(engine, (cases,))
    return LoadReport(table.num_rows, mode, source, tuple(validated.dropped_columns), replaced)


def _with_every_case_column(table: pa.Table) -> pa.Table:
    """The table with the contract's optional later columns (empty) where it lacks them (the demo's cases)."""
    for column in LATER_CASE_COLUMNS:
        if column not in table.column_names:
            table = table.append_column(column, pa.nulls(table.num_rows, pa.string()))
    return table


def _analyze(engine: sa.Engine, tables: tuple[sa.Table, ...]) -> None:
    """Refresh PostgreSQL's planner statistics: without them it joins the aggregate row by row."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(sa.text(f"ANALYZE {table.name}"))


def load_conflicts(engine: sa.Engine, validated: ValidatedCases, mode: str, region: str | None = None) -> DataRejected | None:
    """What load_cases would refuse in the database (case ids already there for an append; for a city's
    or county's upload, ids held by another region), found in a transaction that is rolled back."""
    with engine.connect() as conn, conn.begin() as transaction:
        staged = bulk.stage_table(conn, validated.table, key="case_id")
        try:
            if mode == ImportMode.APPEND:
                _refuse_existing_ids(conn, staged, validated)
            if region is not None:
                _refuse_ids_of_other_regions(conn, staged, validated, region)
        except DataRejected as refused:
            return refused
        finally:
            bulk.drop_staged(conn)
            transaction.rollback()
    return None


def _refuse_ids_of_other_regions(conn: sa.Connection, staged: sa.TableClause, validated: ValidatedCases, region: str) -> None:
    found = DatabaseProblems(validated.table["case_id"].to_pylist(), validated.rows)
    outside = sa.select(staged.c.case_id).where(staged.c.case_id.in_(
        sa.select(cases.c.case_id).where(cases.c.county_code.not_in(counties_at_or_under(region)))))
    found.check(conn, outside, lambda row, hit: Problem(row, validated.shown("case_id"), hit.case_id,
                                                        "件号已属于其他地区的案件，本级不能覆盖",
                                                        "case_id belongs to a case of another region"))
    found.raise_if_any()


def _refuse_existing_ids(conn: sa.Connection, staged: sa.TableClause, validated: ValidatedCases) -> None:
    found = DatabaseProblems(validated.table["case_id"].to_pylist(), validated.rows)
    clash = sa.select(staged.c.case_id).where(staged.c.case_id.in_(sa.select(cases.c.case_id)))
    found.check(conn, clash, lambda row, hit: Problem(
        row, validated.shown("case_id"), hit.case_id, "件号已存在于数据库中（更新已有的件请选“按件号更新”，命令行 --upsert）",
        "case_id already in the database (to update existing cases: upsert)"))
    found.raise_if_any()


def _remove_replaced(conn: sa.Connection, staged: sa.TableClause, mode: str) -> int:
    if mode == ImportMode.REPLACE:
        return conn.execute(cases.delete()).rowcount
    if mode == ImportMode.UPSERT:
        return conn.execute(cases.delete().where(cases.c.case_id.in_(sa.select(staged.c.case_id)))).rowcount
    return 0


def load_demo(engine: sa.Engine, n_cases: int | None, seed: int, end_date: dt.date,
              progress: Callable[[float], None] | None = None, *, actor: str = audit.PROGRAM_ACTOR) -> LoadReport:
    """Generate demo cases for the database's counties and replace the case table with them, and the demo's
    12388 complaints (with their cycle) those of the previous demo; the audit row (by `actor`) is written in
    the loading transaction."""
    from . import demo, demo_hotline  # the generators are only needed here

    counties = county_frame(engine)
    n = n_cases if n_cases is not None else demo.default_case_count(len(counties))
    table = demo.generate_cases(counties, n, seed, end_date, progress=progress)
    complaints = demo_hotline.generate_hotline(counties, table, seed, end_date)
    validated = ValidatedCases(table=table, rows=np.arange(table.num_rows) + 2)
    def entry(conn: sa.Connection, replaced: int) -> None:
        demo_hotline.replace_demo_rows(conn, complaints)  # with the cases, in their transaction
        audit.record_in(conn, actor, audit.AuditAction.IMPORT, f"生成演示数据 {n} 件（替换全部案件）")

    return load_cases(engine, validated, ImportMode.REPLACE, source=f"demo seed={seed} end={end_date}", kind="demo",
                      audit_entry=entry)


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


def remove_demo_cases(engine: sa.Engine, *, actor: Identity | str = audit.PROGRAM_ACTOR) -> int:
    """Delete every demo case, and the demo's 12388 complaints with the items and draws they brought, in
    one transaction with its import-log and audit rows; real cases and complaints stay. Only a province
    user (or the command line) may; returns how many cases were deleted (0: none left)."""
    from .demo_hotline import replace_demo_rows

    require_whole_province(actor, "删除演示数据")
    with engine.begin() as conn:
        replace_demo_rows(conn, None)
        removed = conn.execute(cases.delete().where(is_demo_case())).rowcount
        if removed:
            conn.execute(import_log.insert().values(
                imported_at=dt.datetime.now().replace(microsecond=0), kind="remove_demo", source="删除演示数据",
                mode="delete", rows=removed, dropped_columns=None))
            audit.record_in(conn, actor, audit.AuditAction.IMPORT, f"删除演示数据 {removed} 件（真实案件不受影响）")
            _case_writes_done(conn)
    if removed:
        _analyze(engine, (cases,))
    return removed
