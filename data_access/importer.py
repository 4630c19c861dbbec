"""The importer: read a file, validate every row, load it all-or-nothing, and record it in the audit log.

Every door (the 数据 page, `python -m data_access import`, a script) goes through here, so every
import is recorded: a load with its audit row in the same transaction, a refused file with a row
of its own (nothing else was written).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import audit
from .auth import Identity, OutOfScope
from .case_checks import inspect_case_file
from .database import ImportMode, LoadReport, ensure_initialized, load_cases
from .privacy import shown_value
from .problems import DataRejected
from .reader import read_source
from .validate import ColumnNote, dropped_column_notes, field_of, identity_columns

MODE_LABELS = {ImportMode.APPEND: "追加", ImportMode.REPLACE: "整表替换", ImportMode.UPSERT: "按件号更新"}


def import_bytes(engine: sa.Engine, data: bytes, filename: str, mode: str = ImportMode.APPEND,
                 progress: Callable[[float], None] | None = None, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                 header_row: int | None = None, sheet: str | None = None, check: bool = False,
                 mapping: dict[str, str] | None = None, today: dt.date | None = None) -> LoadReport:
    """Import one file's content as `actor` (its headers read through `mapping` where given); raise
    DataRejected (nothing written but the audit row of the refusal) naming every problem if anything is
    wrong. The header is found among the first rows unless
    `header_row` says where it is; a workbook is read from `sheet` or from its sheet of cases. With
    `check`, the file is read and checked (the database's checks too) and nothing at all is written.
    `today` is the day of the import (default: the machine's date): no event may be dated after it."""
    region = actor.region_code if isinstance(actor, Identity) else None  # 分级上报: a city or county uploads its own
    if region is not None and mode == ImportMode.REPLACE:
        raise OutOfScope("只有省级用户可以覆盖全部案件；市、县两级请用“追加”或“按件号更新”上报本地区的案件。")
    step = progress or (lambda fraction: None)
    ensure_initialized(engine)
    step(0.0)
    try:
        source = read_source(data, filename, header_row=header_row, sheet=sheet)
        step(0.3)
        checked = inspect_case_file(engine, source, mode=mode, region=region, mapping=mapping, today=today, database=check)
        if checked.problems is not None:
            raise checked.problems
        validated = checked.cases
        step(0.6)
        if check:
            step(1.0)
            return LoadReport(validated.table.num_rows, mode, Path(filename).name, tuple(validated.dropped_columns), 0,
                              source.header_row, source.skipped_rows, source.sheet, written=False)

        def entry(conn: sa.Connection, replaced: int) -> None:
            # the file as the uploader or the command line named it (a browser's name may hold a "/")
            detail = f"导入 {filename}：{validated.table.num_rows} 件，方式：{MODE_LABELS.get(mode, mode)}"
            audit.record_in(conn, actor, audit.AuditAction.IMPORT, detail + (f"，替换 {replaced} 件" if replaced else ""))

        report = load_cases(engine, validated, mode, source=Path(filename).name, audit_entry=entry, region=region)
    except DataRejected as rejected:
        if not check:
            audit.record(engine, actor, audit.AuditAction.IMPORT, f"导入被拒绝：{filename}，{rejected.total} 个问题，未写入")
        raise
    step(1.0)
    return dataclasses.replace(report, header_row=source.header_row, skipped_rows=source.skipped_rows, sheet=source.sheet)


def import_file(engine: sa.Engine, path: Path, mode: str = ImportMode.APPEND,
                progress: Callable[[float], None] | None = None, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                header_row: int | None = None, sheet: str | None = None, check: bool = False,
                mapping: dict[str, str] | None = None, today: dt.date | None = None) -> LoadReport:
    """Import a CSV/XLSX/Parquet file from disk as `actor` (see import_bytes)."""
    return import_bytes(engine, Path(path).read_bytes(), Path(path).name, mode, progress, actor=actor,
                        header_row=header_row, sheet=sheet, check=check, mapping=mapping, today=today)


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

    @property
    def masked(self) -> pd.DataFrame:
        """The identity-like columns: header and how many values each holds (never the values)."""
        return self.columns.loc[self.columns["masked"], ["column", "values"]].reset_index(drop=True)


SAMPLE_ROWS, SAMPLE_CHARS = 200, 60


def preview_import(engine: sa.Engine, data: bytes, filename: str, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                   mapping: dict[str, str] | None = None, header_row: int | None = None,
                   sheet: str | None = None, mode: str = ImportMode.APPEND, today: dt.date | None = None) -> Preview:
    """Read the file and run every check import_bytes would in `mode` (the actor's region and the case ids
    already in the database included) in one pass; write nothing. A file that cannot be read at all
    raises DataRejected."""
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
    checked = inspect_case_file(engine, source, mode=mode, region=region, mapping=mapping, today=today)
    return Preview(columns, len(frame), source.header_row, source.skipped_rows, source.sheet, checked.problems,
                   tuple(dropped_column_notes(frame, mapping)))
