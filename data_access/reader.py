"""Read a CSV (UTF-8 with or without BOM, or GBK), XLSX or Parquet file into a frame of text cells."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .problems import DataRejected, Problem

_BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n[^\r\n]")


@dataclass(frozen=True)
class SourceTable:
    """A file's cells as text, and the spreadsheet row number (header = row 1) of each frame row."""

    frame: pd.DataFrame
    rows: np.ndarray


def read_source(data: bytes, filename: str) -> SourceTable:
    """Every cell as stripped text ('' when empty), columns as in the file's header row.

    Wholly blank rows are dropped, and each remaining row keeps the number a spreadsheet shows for
    it, so problems name the right row.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        source = _read_csv(data)
    elif suffix == ".xlsx":
        source = _numbered(_read_xlsx(data))
    elif suffix == ".parquet":
        source = _numbered(_read_parquet(data))
    else:
        raise DataRejected([_file_problem(
            f"不支持的文件类型“{suffix or '无扩展名'}”，请使用 CSV、XLSX 或 Parquet",
            f"unsupported file type '{suffix or 'none'}': use CSV, XLSX or Parquet")])
    frame = source.frame
    _check_header(list(frame.columns))
    keep = ~(frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.ones(len(frame), bool)
    return SourceTable(frame[keep].reset_index(drop=True), source.rows[keep])


def _numbered(frame: pd.DataFrame) -> SourceTable:
    """Rows numbered as a spreadsheet shows them: the header is row 1, the first case row 2."""
    return SourceTable(frame, np.arange(len(frame)) + 2)


def _file_problem(zh: str, en: str) -> Problem:
    return Problem(row=None, column=None, value=None, reason_zh=zh, reason_en=en)


def _decode_text(data: bytes) -> bytes:
    """UTF-8 bytes of a UTF-8 (BOM or not) or GBK/GB18030 file; refuse anything else."""
    if b"\x00" in data[:65536]:
        raise DataRejected([_file_problem("不是文本文件（CSV 必须是 UTF-8 或 GBK 编码的文本）",
                                          "not a text file (CSV must be UTF-8 or GBK text)")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        raise DataRejected([_file_problem("文件编码既不是 UTF-8 也不是 GBK", "file is neither UTF-8 nor GBK text")]) from None


def _read_csv(data: bytes) -> SourceTable:
    text = _decode_text(data)
    first_line = text.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if not first_line.strip():
        raise DataRejected([_file_problem("文件为空或缺少表头行", "empty file or no header row")])
    header = next(csv.reader([first_line]))
    if len(set(header)) != len(header):
        _check_header(header)
    if _BLANK_LINE.search(text):
        return _read_csv_exact(text, header)  # pyarrow skips blank lines, which would shift row numbers
    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            # quoted values may hold line breaks (free-text columns that are then dropped); without
            # this, pyarrow splits blocks at such a line break and rejects a large file as malformed
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return _read_csv_exact(text, header)  # slow path, to name the rows that are malformed
    return _numbered(_text_frame(table))


def _read_csv_exact(text: bytes, header: list[str]) -> SourceTable:
    """Record-by-record CSV reading (rare path): exact row numbers, blank lines kept in the count."""
    reader = csv.reader(io.StringIO(text.decode("utf-8"), newline=""))
    next(reader)
    records, rows, problems = [], [], []
    for row_number, record in enumerate(reader, start=2):
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(Problem(row_number, None, ",".join(record)[:80],
                                    f"列数不对：表头有 {len(header)} 列，此行有 {len(record)} 列",
                                    f"wrong number of fields: header has {len(header)}, this row {len(record)}"))
            continue
        records.append([cell.strip() for cell in record])
        rows.append(row_number)
    if problems:
        raise DataRejected(problems, len(problems))
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    return SourceTable(frame, np.asarray(rows, dtype=np.int64))


def _read_parquet(data: bytes) -> pd.DataFrame:
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataRejected([_file_problem(f"不是有效的 Parquet 文件：{exc}", f"not a valid Parquet file: {exc}")]) from None
    columns = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.date32())
        elif pa.types.is_floating(col.type) and _all_integral(col):
            col = pc.cast(col, pa.int64())  # e.g. county codes or 0/1 flags stored as float
        columns[name] = pc.fill_null(pc.cast(col, pa.string()), "")
    return _text_frame(pa.table(columns))


def _all_integral(col: pa.ChunkedArray) -> bool:
    present = pc.drop_null(col)
    return len(present) == 0 or pc.all(pc.equal(present, pc.floor(present))).as_py()


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        raw = pd.read_excel(io.BytesIO(data), dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise DataRejected([_file_problem(f"不是有效的 XLSX 文件：{exc}", f"not a valid XLSX file: {exc}")]) from None
    raw.columns = [str(c) for c in raw.columns]
    return pd.DataFrame({c: raw[c].map(_excel_cell_text) for c in raw.columns}, dtype=object)


def _excel_cell_text(value: object) -> str:
    """Text of one Excel cell: real date cells become ISO dates, whole numbers lose their '.0'."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _text_frame(table: pa.Table) -> pd.DataFrame:
    stripped = pa.table({n: pc.utf8_trim_whitespace(table[n]) for n in table.column_names})
    return stripped.to_pandas()


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataRejected([Problem(1, name, None, "表头中列名重复", "duplicate column name in header")])
        seen.add(name)
