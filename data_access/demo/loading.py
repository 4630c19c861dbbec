"""Fill the database with the demo's cases and 12388 complaints, and take them out again."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np
import sqlalchemy as sa

from data_access.demo import cases as demo
from data_access.demo import hotline as demo_hotline
from data_access.identity import audit
from data_access.identity.auth import Identity, require_whole_province
from data_access.imports.loading import ImportMode, LoadReport, load_cases
from data_access.imports.orphans import Orphans, left_by
from data_access.imports.validate import ValidatedCases
from data_access.store.database import analyze, case_writes_done, county_frame, is_demo_case
from data_access.store.schema import cases, import_log


def load_demo(engine: sa.Engine, n_cases: int | None, seed: int, end_date: dt.date,
              progress: Callable[[float], None] | None = None, *, actor: str = audit.PROGRAM_ACTOR,
              accept_orphans: bool = False) -> LoadReport:
    """Generate demo cases for the database's counties and replace the case table with them, and the demo's
    12388 complaints (with their cycle) those of the previous demo; the audit row (by `actor`) is written in
    the loading transaction. Like any 整表替换, refused (DataRejected) when it would leave 督办 items or 12388
    complaints without their case, unless `accept_orphans` (they are kept either way: report.orphans)."""
    counties = county_frame(engine)
    n = n_cases if n_cases is not None else demo.default_case_count(len(counties))
    table = demo.generate_cases(counties, n, seed, end_date, progress=progress)
    complaints = demo_hotline.generate_hotline(counties, table, seed, end_date)
    validated = ValidatedCases(table=table, rows=np.arange(table.num_rows) + 2)
    left = Orphans()

    def guard(conn: sa.Connection, staged: sa.TableClause) -> None:
        # counted in the load's transaction, before the old cases go, as an import's replacement counts them
        nonlocal left
        left = left_by(conn, staged)
        if left.total and not accept_orphans:
            raise left.refusal(source=("演示数据", "the demo data"))

    def entry(conn: sa.Connection, replaced: int) -> None:
        demo_hotline.replace_demo_rows(conn, complaints)  # with the cases, in their transaction
        kept = f"，经确认保留无对应案件的{left.counted()}" if left.total else ""
        audit.record_in(conn, actor, audit.AuditAction.IMPORT, f"生成演示数据 {n} 件（替换全部案件）{kept}")

    report = load_cases(engine, validated, ImportMode.REPLACE, source=f"demo seed={seed} end={end_date}", kind="demo",
                        audit_entry=entry, guard=guard)
    return dataclasses.replace(report, orphans=left)


def remove_demo_cases(engine: sa.Engine, *, actor: Identity | str = audit.PROGRAM_ACTOR) -> int:
    """Delete every demo case, and the demo's 12388 complaints with the items and draws they brought, in
    one transaction with its import-log and audit rows; real cases and complaints stay. Only a province
    user (or the command line) may; returns how many cases were deleted (0: none left)."""
    require_whole_province(actor, "删除演示数据")
    with engine.begin() as conn:
        demo_hotline.replace_demo_rows(conn, None)
        removed = conn.execute(cases.delete().where(is_demo_case())).rowcount
        if removed:
            conn.execute(import_log.insert().values(
                imported_at=dt.datetime.now().replace(microsecond=0), kind="remove_demo", source="删除演示数据",
                mode="delete", rows=removed, dropped_columns=None))
            audit.record_in(conn, actor, audit.AuditAction.IMPORT, f"删除演示数据 {removed} 件（真实案件不受影响）")
            case_writes_done(conn)
    if removed:
        analyze(engine, (cases,))
    return removed
