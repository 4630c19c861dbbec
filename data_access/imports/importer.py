"""The importer: read a file, validate every row, load it all-or-nothing, and record it in the audit log.

Every door (the 数据 page, `python -m data_access import`, a script) goes through here, so every
import is recorded: a load with its audit row in the same transaction, a refused file with a row
of its own (nothing else was written). A failure no check foresaw — the database refusing a value the
checks let through, a constraint of its own, a lost connection, a fault of ours — is a refusal too, with a
message and an audit row (unforeseen_refusal), never a traceback.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity, OutOfScope
from data_access.imports.case_checks import inspect_case_file
from data_access.imports.loading import ImportMode, LoadReport, load_cases
from data_access.imports.orphans import Orphans, left_by, orphans_of_file
from data_access.imports.reader import read_source
from data_access.imports.validate import ColumnNote, dropped_column_notes, field_of, identity_columns
from data_access.reference.privacy import shown_value
from data_access.reference.problems import DataRejected, Problem, ProblemKind
from data_access.store.database import ensure_initialized

MODE_LABELS = {ImportMode.APPEND: "追加", ImportMode.REPLACE: "整表替换", ImportMode.UPSERT: "按件号更新"}
ENGINE_WORDS = 200  # characters of the database's own message a refusal keeps
logger = logging.getLogger(__name__)


def unforeseen_refusal(exc: Exception) -> tuple[str, DataRejected]:
    """An import stopped by an error no check foresaw, as the uploader is told it — a refusal saying what happened,
    with the first line of the database's own message — and the short phrase the audit row keeps. Database errors
    are told apart by the DB-API classes (PEP 249) every driver's exceptions derive from, wrapped by SQLAlchemy or
    not (PostgreSQL's COPY raises the driver's own)."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    kinds = {cls.__name__ for cls in (*type(orig).__mro__, *type(exc).__mro__)}  # SQLAlchemy's wrapper names them too
    said = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:ENGINE_WORDS]
    if "DataError" in kinds:
        short = f"文件中有数据库不能保存的值（{said}）"
        zh = (f"文件中有数据库不能保存的值（如超长的文本、数据库不能保存的字符），数据库未作任何更改。数据库的报错：{said}")
        en = f"a value of the file cannot be stored by the database (text too long, a character it cannot hold): {said}"
    elif "DatabaseError" in kinds or isinstance(exc, sa.exc.SQLAlchemyError):
        short = f"数据库未能写入（{said}）"
        zh = f"数据库未能写入本文件，未作任何更改。数据库的报错：{said}"
        en = f"the database could not write the file, nothing written: {said}"
    else:  # a fault of ours: the log has the traceback; the message names only its kind (its text may quote a cell)
        short = f"处理文件时出错（{type(exc).__name__}）"
        zh = f"{short}，数据库未作任何更改。请将文件交信息技术人员检查。"
        en = f"the file could not be processed ({type(exc).__name__}); nothing written"
    return short, DataRejected([Problem(None, None, None, zh, en, ProblemKind.ENGINE)])


@contextmanager
def refusal_recorded(engine: sa.Engine, actor: Identity | str, filename: str, *, check: bool,
                     refused: str = "导入被拒绝") -> Iterator[None]:
    """Pass on the refusal of an import with its audit row ("{refused}：file, why, 未写入"; none when only checking):
    DataRejected as it is, and whatever else stopped the import as unforeseen_refusal makes it."""
    try:
        yield
    except DataRejected as rejected:
        if not check:
            audit.record(engine, actor, audit.AuditAction.IMPORT, f"{refused}：{filename}，{rejected.total} 个问题，未写入")
        raise
    except Exception as exc:
        logger.exception("import of %s stopped", filename)
        short, refusal = unforeseen_refusal(exc)
        if not check:
            audit.record(engine, actor, audit.AuditAction.IMPORT, f"{refused}：{filename}，{short}，未写入")
        raise refusal from exc


def import_bytes(engine: sa.Engine, data: bytes, filename: str, mode: str = ImportMode.APPEND,
                 progress: Callable[[float], None] | None = None, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                 header_row: int | None = None, sheet: str | None = None, check: bool = False,
                 mapping: dict[str, str] | None = None, today: dt.date | None = None,
                 accept_orphans: bool = False) -> LoadReport:
    """Import one file's content as `actor` (its headers read through `mapping` where given); raise
    DataRejected (nothing written but the audit row of the refusal) naming every problem if anything is
    wrong. The header is found among the first rows unless
    `header_row` says where it is; a workbook is read from `sheet` or from its sheet of cases. With
    `check`, the file is read and checked (the database's checks too) and nothing at all is written.
    `today` is the day of the import (default: the machine's date): no event may be dated after it.
    A replacement that would leave ledger items or 12388 complaints without their case (data_access.imports.orphans)
    is refused unless `accept_orphans`; those rows are kept either way."""
    region = actor.region_code if isinstance(actor, Identity) else None  # 分级上报: a city or county uploads its own
    if region is not None and mode == ImportMode.REPLACE:
        raise OutOfScope("只有省级用户可以覆盖全部案件；市、县两级请用“追加”或“按件号更新”上报本地区的案件。")
    step = progress or (lambda fraction: None)
    ensure_initialized(engine)
    step(0.0)
    with refusal_recorded(engine, actor, filename, check=check):
        source = read_source(data, filename, header_row=header_row, sheet=sheet)
        step(0.3)
        checked = inspect_case_file(engine, source, mode=mode, region=region, mapping=mapping, today=today, database=check)
        if checked.problems is not None:
            raise checked.problems
        validated = checked.cases
        step(0.6)
        if check:
            left = orphans_of_file(engine, validated.table["case_id"]) if mode == ImportMode.REPLACE else Orphans()
            if left.total and not accept_orphans:
                raise left.refusal(validated.shown("case_id"))
            step(1.0)
            return LoadReport(validated.table.num_rows, mode, Path(filename).name, tuple(validated.dropped_columns), 0,
                              source.header_row, source.skipped_rows, source.sheet, written=False, orphans=left)

        left = Orphans()

        def guard(conn: sa.Connection, staged: sa.TableClause) -> None:
            # counted in the load's transaction, before the old cases go: what the replacement leaves behind
            nonlocal left
            left = left_by(conn, staged)
            if left.total and not accept_orphans:
                raise left.refusal(validated.shown("case_id"))

        def entry(conn: sa.Connection, replaced: int) -> None:
            # the file as the uploader or the command line named it (a browser's name may hold a "/")
            detail = f"导入 {filename}：{validated.table.num_rows} 件，方式：{MODE_LABELS.get(mode, mode)}"
            detail += f"，替换 {replaced} 件" if replaced else ""
            detail += f"，经确认保留无对应案件的{left.counted()}" if left.total else ""
            audit.record_in(conn, actor, audit.AuditAction.IMPORT, detail)

        report = load_cases(engine, validated, mode, source=Path(filename).name, audit_entry=entry, region=region,
                            guard=guard if mode == ImportMode.REPLACE else None)
    step(1.0)
    return dataclasses.replace(report, header_row=source.header_row, skipped_rows=source.skipped_rows, sheet=source.sheet,
                               orphans=left)


def import_file(engine: sa.Engine, path: Path, mode: str = ImportMode.APPEND,
                progress: Callable[[float], None] | None = None, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                header_row: int | None = None, sheet: str | None = None, check: bool = False,
                mapping: dict[str, str] | None = None, today: dt.date | None = None,
                accept_orphans: bool = False) -> LoadReport:
    """Import a CSV/XLSX/Parquet file from disk as `actor` (see import_bytes)."""
    return import_bytes(engine, Path(path).read_bytes(), Path(path).name, mode, progress, actor=actor,
                        header_row=header_row, sheet=sheet, check=check, mapping=mapping, today=today,
                        accept_orphans=accept_orphans)


@dataclass(frozen=True)
class Preview:
    """What an import would do, before anything is written: how the file was read, which field each of
    its columns feeds (with sample values; none of an identity-like column, only how many it holds), the
    columns that look like a field but will be dropped, and every problem (none: the file would load)."""

    columns: pd.DataFrame  # column (the file's header), field ('' = not imported), samples, masked, values
    rows: int
    header_row: int
    skipped_rows: tuple[int, ...]
    sheet: str | None
    problems: DataRejected | None
    notes: tuple[ColumnNote, ...] = ()
    orphans: Orphans = Orphans()  # a replacement: the ledger items and complaints it would leave without their case

    @property
    def masked(self) -> pd.DataFrame:
        """The identity-like columns: header and how many values each holds (never the values)."""
        return self.columns.loc[self.columns["masked"], ["column", "values"]].reset_index(drop=True)


SAMPLE_ROWS, SAMPLE_CHARS = 200, 60


def preview_import(engine: sa.Engine, data: bytes, filename: str, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                   mapping: dict[str, str] | None = None, header_row: int | None = None,
                   sheet: str | None = None, mode: str = ImportMode.APPEND, today: dt.date | None = None) -> Preview:
    """Read the file and run every check import_bytes would in `mode` (the actor's region and the case ids
    already in the database included) in one pass, and for a replacement count what it would leave without
    its case; write nothing. A file that cannot be read at all raises DataRejected."""
    source = read_source(data, filename, header_row=header_row, sheet=sheet)
    frame = source.frame
    names = [str(c) for c in frame.columns]
    masked = set(identity_columns(frame, mapping))
    samples = ["" if n in masked else "、".join(str(shown_value(v)) for v in frame[c].head(SAMPLE_ROWS) if v)[:SAMPLE_CHARS]
               for n, c in zip(names, frame.columns, strict=True)]
    columns = pd.DataFrame({"column": names, "field": ["" if n in masked else field_of(n, mapping) for n in names],
                            "samples": samples, "masked": [n in masked for n in names],
                            "values": [int((frame[c] != "").sum()) for c in frame.columns]})
    region = actor.region_code if isinstance(actor, Identity) else None
    orphans = Orphans()
    try:
        checked = inspect_case_file(engine, source, mode=mode, region=region, mapping=mapping, today=today)
        problems = checked.problems
        if mode == ImportMode.REPLACE and (problems is None or ProblemKind.FILE not in problems.totals):
            orphans = orphans_of_file(engine, checked.cases.table["case_id"])  # a file without its ids: nothing to say
    except Exception as exc:  # the database refusing to be asked (a NUL byte in a case id on PostgreSQL ...)
        logger.exception("preview of %s stopped", filename)
        problems = unforeseen_refusal(exc)[1]
    return Preview(columns, len(frame), source.header_row, source.skipped_rows, source.sheet, problems,
                   tuple(dropped_column_notes(frame, mapping)), orphans)
