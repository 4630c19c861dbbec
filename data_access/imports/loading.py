"""Move validated cases into the case table, all-or-nothing: append, replace or upsert through the engine's
bulk path, refusing ids that clash, in one transaction with the import-log row and the case-write hooks."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from data_access.identity.scope import counties_at_or_under
from data_access.imports.orphans import Orphans
from data_access.imports.validate import ValidatedCases
from data_access.reference.problems import DatabaseProblems, DataRejected, Problem
from data_access.store import bulk
from data_access.store.database import analyze, case_writes_done, stored_deadlines
from data_access.store.schema import CASE_COLUMNS, DEADLINE_COLUMNS, LATER_CASE_COLUMNS, cases, import_log, workday_calendar


class ImportMode(str):
    """How an import treats the table: append (default), replace, upsert."""

    APPEND = "append"
    REPLACE = "replace"
    UPSERT = "upsert"


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
        case_writes_done(conn)
    analyze(engine, (cases,))
    return LoadReport(table.num_rows, mode, source, tuple(validated.dropped_columns), replaced)


def _with_every_case_column(table: pa.Table) -> pa.Table:
    """The table with the contract's optional later columns (empty) where it lacks them (the demo's cases)."""
    for column in LATER_CASE_COLUMNS:
        if column not in table.column_names:
            table = table.append_column(column, pa.nulls(table.num_rows, pa.string()))
    return table


def _with_deadlines(staged: sa.TableClause) -> sa.Select[Any]:
    """The staged rows with D1 and D2 from the calendar, in cases' column order."""
    cal_r, cal_c = workday_calendar.alias("cal_received"), workday_calendar.alias("cal_closed")
    return (
        sa.select(*(staged.c[c] for c in CASE_COLUMNS), cal_r.c.deadline_15, cal_c.c.deadline_15)
        .select_from(staged.outerjoin(cal_r, cal_r.c.day == staged.c.received_date)
                     .outerjoin(cal_c, cal_c.c.day == staged.c.closed_date))
    )


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
