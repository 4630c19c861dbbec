"""What an uploaded file may cost: the [import] section of the settings file, and the checks that hold it.

A file is weighed before it is parsed (its bytes; a workbook's bytes after decompression; a Parquet file's
rows, columns and uncompressed size from its footer) and while it is parsed (columns of the header, rows,
the longest cell, the time spent). The parse itself runs in a worker process with a memory cap
(data_access/imports/parse_worker.py), so that a runaway file costs its uploader a refusal and no other session
its server. Every refusal names the limit and the setting that sets it.
"""
from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from data_access.reference.problems import DataRejected, Problem, ProblemKind
from data_access.store.config import read_settings_file, section, setting

SECTION = "import"
MB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """The most an uploaded case or 12388 file may cost. Defaults allow a province's monthly full export."""

    max_file_mb: int = setting(1024, "上传文件大小上限", "MB", 1, 4096)
    max_expanded_mb: int = setting(2048, "解压后大小上限（XLSX 解压后、Parquet 未压缩时）", "MB", 1, 16384)
    max_rows: int = setting(5_000_000, "数据行数上限", "行", 1, 100_000_000)
    max_columns: int = setting(200, "列数上限", "列", 10, 16384)
    max_cell_chars: int = setting(2000, "单元格长度上限", "个字符", 100, 1_000_000)
    max_seconds: int = setting(600, "读取文件的时间上限", "秒", 5, 7200)
    max_memory_mb: int = setting(4096, "读取文件的进程内存上限（地址空间，读取进程自身约占 500 MB）", "MB", 1024, 65536)
    worker: int = setting(1, "在独立进程中读取文件（1 是，0 否：仅供无法创建子进程的环境）", "", 0, 1)


DEFAULT_IMPORT_LIMITS = ImportLimits()


def load_import_limits(path: Path | None = None) -> ImportLimits:
    """The [import] section of the settings file in force (defaults for what it leaves out)."""
    return section(read_settings_file(path), SECTION, ImportLimits, path)


def over_limit(key: str, zh: str, en: str, *, row: int | None = None, column: str | None = None) -> DataRejected:
    """A refusal of the whole file naming the limit it broke and the setting that sets it."""
    return DataRejected([Problem(row, column, None, f"{zh}（导入限制，设置项 [{SECTION}] {key}），未写入",
                                 f"{en} (import limit [{SECTION}] {key}); nothing written", ProblemKind.FILE)])


def _count(n: float) -> str:
    return f"{n:,.0f}"


def check_file_size(size: int, limits: ImportLimits) -> None:
    """Refuse a file larger than max_file_mb."""
    if size > limits.max_file_mb * MB:
        raise over_limit("max_file_mb", f"文件大小 {size / MB:,.1f} MB，超过上限 {_count(limits.max_file_mb)} MB",
                         f"the file is {size / MB:,.1f} MB, over the limit of {limits.max_file_mb} MB")


def check_expanded(data: bytes, suffix: str, limits: ImportLimits) -> None:
    """Before parsing: a workbook's size after decompression (its zip directory declares it, and the parse
    stops at what was declared), a Parquet file's rows, columns and uncompressed size (its footer)."""
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                expanded = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError):
            return  # not a zip: the workbook reader refuses it in its own words
        _check_expanded_bytes(expanded, limits)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(io.BytesIO(data)).metadata
        except Exception:  # not Parquet: the reader refuses it in its own words
            return
        check_columns(meta.num_columns, limits)
        check_rows(meta.num_rows, limits)
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        _check_expanded_bytes(expanded, limits)


def _check_expanded_bytes(expanded: int, limits: ImportLimits) -> None:
    if expanded > limits.max_expanded_mb * MB:
        raise over_limit("max_expanded_mb",
                         f"文件解压后 {expanded / MB:,.0f} MB，超过上限 {_count(limits.max_expanded_mb)} MB",
                         f"the file expands to {expanded / MB:,.0f} MB, over the limit of {limits.max_expanded_mb} MB")


def check_columns(columns: int, limits: ImportLimits, header_row: int | None = None) -> None:
    """Refuse a header of more than max_columns columns (checked before the rows are read)."""
    if columns > limits.max_columns:
        raise over_limit("max_columns", f"表头有 {_count(columns)} 列，超过上限 {_count(limits.max_columns)} 列",
                         f"the header has {columns:,} columns, over the limit of {limits.max_columns:,}", row=header_row)


def check_rows(rows: int, limits: ImportLimits) -> None:
    """Refuse more than max_rows rows below the header (a reader stops at the first row over the limit)."""
    if rows > limits.max_rows:
        raise too_many_rows(limits)


def too_many_rows(limits: ImportLimits) -> DataRejected:
    """The refusal of a file of more than max_rows rows."""
    return over_limit("max_rows", f"文件超过 {_count(limits.max_rows)} 行数据", f"the file holds more than {limits.max_rows:,} rows")


def cell_too_long(row: int, column: str, chars: int, limits: ImportLimits) -> DataRejected:
    """The refusal of a cell longer than max_cell_chars, naming its row and column (never its text)."""
    return over_limit("max_cell_chars", f"单元格有 {_count(chars)} 个字符，超过上限 {_count(limits.max_cell_chars)} 个字符",
                      f"a cell of {chars:,} characters, over the limit of {limits.max_cell_chars:,}", row=row, column=column)


def out_of_time(limits: ImportLimits) -> DataRejected:
    """The refusal of a file whose reading took longer than max_seconds."""
    return over_limit("max_seconds", f"读取文件超过 {_count(limits.max_seconds)} 秒仍未完成，已停止",
                      f"reading the file took longer than {limits.max_seconds} s and was stopped")


def out_of_memory(limits: ImportLimits) -> DataRejected:
    """The refusal of a file whose reading needed more than max_memory_mb."""
    return over_limit("max_memory_mb", f"读取文件所需内存超过上限 {_count(limits.max_memory_mb)} MB，已停止",
                      f"reading the file needed more than {limits.max_memory_mb} MB and was stopped")


@dataclass
class Deadline:
    """The moment by which a parse must end; `check()` (called every few thousand rows) refuses after it."""

    limits: ImportLimits
    ends: float = 0.0

    def __post_init__(self) -> None:
        self.ends = time.monotonic() + self.limits.max_seconds

    def check(self) -> None:
        """Refuse when the time is up."""
        if time.monotonic() > self.ends:
            raise out_of_time(self.limits)
