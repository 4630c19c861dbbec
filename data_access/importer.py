"""The importer: read a file, validate every row, load it all-or-nothing, and record it in the audit log.

Every door (the 数据 page, `python -m data_access import`, a script) goes through here, so every
import is recorded: a load with its audit row in the same transaction, a refused file with a row
of its own (nothing else was written).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import audit
from .auth import Identity, OutOfScope
from .counties import CountyNames
from .database import ImportMode, LoadReport, ensure_initialized, load_cases, load_conflicts, regions_frame
from .problems import DataRejected, Problem
from .reader import read_source
from .regions import former_names
from .validate import ValidatedCases, field_of, validate_cases

MODE_LABELS = {ImportMode.APPEND: "追加", ImportMode.REPLACE: "整表替换", ImportMode.UPSERT: "按件号更新"}


def import_bytes(engine: sa.Engine, data: bytes, filename: str, mode: str = ImportMode.APPEND,
                 progress: Callable[[float], None] | None = None, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                 header_row: int | None = None, sheet: str | None = None, check: bool = False,
                 mapping: dict[str, str] | None = None) -> LoadReport:
    """Import one file's content as `actor` (its headers read through `mapping` where given); raise
    DataRejected (nothing written but the audit row of the refusal) if anything is wrong. The header
    is found among the first rows unless
    `header_row` says where it is; a workbook is read from `sheet` or from its sheet of cases. With
    `check`, the file is read and validated and nothing at all is written."""
    region = actor.region_code if isinstance(actor, Identity) else None  # 分级上报: a city or county uploads its own
    if region is not None and mode == ImportMode.REPLACE:
        raise OutOfScope("只有省级用户可以覆盖全部案件；市、县两级请用“追加”或“按件号更新”上报本地区的案件。")
    step = progress or (lambda fraction: None)
    ensure_initialized(engine)
    step(0.0)
    try:
        source = read_source(data, filename, header_row=header_row, sheet=sheet)
        step(0.3)
        regions = regions_frame(engine)
        validated = validate_cases(source.frame, county_names(regions), source.rows, mapping, source.header_row)
        if region is not None:
            _refuse_rows_outside(validated, region, regions)
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
                mapping: dict[str, str] | None = None) -> LoadReport:
    """Import a CSV/XLSX/Parquet file from disk as `actor` (see import_bytes)."""
    return import_bytes(engine, Path(path).read_bytes(), Path(path).name, mode, progress, actor=actor,
                        header_row=header_row, sheet=sheet, check=check, mapping=mapping)


def _refuse_rows_outside(validated: ValidatedCases, region: str, regions: pd.DataFrame) -> None:
    """A city or county user's file holds only its own region's cases: every other row is named, and
    the file is refused whole."""
    parent = dict(zip(regions["code"], regions["parent_code"], strict=True))
    names = dict(zip(regions["code"], regions["name"], strict=True))

    def inside(code: str | None) -> bool:
        while isinstance(code, str) and code:
            if code == region:
                return True
            code = parent.get(code)
        return False

    allowed = {code for code in parent if inside(code)}  # the tree is walked once per region, not per row
    counties = validated.table["county_code"].to_pylist()
    problems = [Problem(int(row), "county_code", code, f"不属于本账号的管辖范围（{names.get(region, region)}），不能由本级上报",
                        f"outside the uploader's region {region}")
                for row, code in zip(validated.rows, counties, strict=True) if code not in allowed]
    if problems:
        raise DataRejected(problems, len(problems))


@dataclass(frozen=True)
class Preview:
    """What an import would do, before anything is written: how the file was read, which field each of
    its columns feeds (with sample values), and the problems (none: the file would load)."""

    columns: pd.DataFrame  # column (the file's header), field ('' = not imported), samples
    rows: int
    header_row: int
    skipped_rows: tuple[int, ...]
    sheet: str | None
    problems: DataRejected | None


def preview_import(engine: sa.Engine, data: bytes, filename: str, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                   mapping: dict[str, str] | None = None, header_row: int | None = None,
                   sheet: str | None = None, mode: str = ImportMode.APPEND) -> Preview:
    """Read and validate the file as import_bytes would in `mode` (the actor's region and the case ids
    already in the database included); write nothing. A file that cannot be read at all raises DataRejected."""
    source = read_source(data, filename, header_row=header_row, sheet=sheet)
    names = [str(c) for c in source.frame.columns]
    samples = ["、".join(v for v in source.frame[c].head(200) if v)[:60] for c in source.frame.columns]
    columns = pd.DataFrame({"column": names, "field": [field_of(n, mapping) for n in names], "samples": samples})
    problems = None
    try:
        regions = regions_frame(engine)
        validated = validate_cases(source.frame, county_names(regions), source.rows, mapping, source.header_row)
        region = actor.region_code if isinstance(actor, Identity) else None
        if region is not None:
            _refuse_rows_outside(validated, region, regions)
        problems = load_conflicts(engine, validated, mode, region)
    except DataRejected as rejected:
        problems = rejected
    return Preview(columns, len(source.frame), source.header_row, source.skipped_rows, source.sheet, problems)


def county_names(regions: pd.DataFrame) -> CountyNames:
    """The county names the importer accepts: today's, and the former ones the province's reference lists."""
    province = regions.loc[regions["level"] == "province", "code"]
    return CountyNames.from_regions(regions, former_names(str(province.iloc[0])) if len(province) else {})
