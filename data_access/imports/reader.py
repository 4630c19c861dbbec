"""Read a CSV (UTF-8 with or without BOM, or GBK), XLSX or Parquet file into a frame of text cells."""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from data_access.imports import limits as import_limits
from data_access.imports.limits import Deadline, ImportLimits, cell_too_long, check_columns, check_rows
from data_access.reference.problems import DataRejected, Problem, ProblemKind

_BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n[^\r\n]")


NUL_ZH = "含有空字符（NUL 字节），数据库不能保存：请删去该字符，或从原系统重新导出文件"
NUL_EN = "holds a NUL byte, which no database column can store"
HEADER_SEARCH_ROWS = 20  # the header is looked for in this many first rows (titles and notes may sit above it)
MIN_KNOWN_HEADERS = 3  # a row is the header when this many of its cells name known columns
EXCEL_MAX_ROWS = 1_048_576  # no worksheet Excel writes holds more


@dataclass(frozen=True)
class SourceTable:
    """A file's cells as text, the spreadsheet row number of each frame row, and how it was read: the
    header's row, the rows above it that were skipped (titles, notes), the sheet of a workbook."""

    frame: pd.DataFrame
    rows: np.ndarray
    header_row: int = 1
    skipped_rows: tuple[int, ...] = ()
    sheet: str | None = None


@dataclass(frozen=True)
class _Cells:
    """A parse's result as Arrow text columns (what a worker hands back; pandas is built in the process that reads
    it, so a worker never holds a cell as a Python object), with SourceTable's numbering."""

    table: pa.Table
    rows: np.ndarray
    header_row: int = 1
    skipped_rows: tuple[int, ...] = ()
    sheet: str | None = None

    @staticmethod
    def of_frame(frame: pd.DataFrame, rows: np.ndarray, header_row: int, skipped_rows: tuple[int, ...] = (),
                 sheet: str | None = None) -> _Cells:
        table = pa.table({str(c): pa.array(frame[c].to_numpy(dtype=object), type=pa.string()) for c in frame.columns})
        return _Cells(table, np.asarray(rows, dtype=np.int64), header_row, skipped_rows, sheet)

    def source(self) -> SourceTable:
        return SourceTable(self.table.to_pandas(), self.rows, self.header_row, self.skipped_rows, self.sheet)


def read_source(data: bytes, filename: str, *, header_row: int | None = None, sheet: str | None = None,
                known: Callable[[str], bool] | None = None, limits: ImportLimits | None = None) -> SourceTable:
    """Every cell as stripped text ('' when empty), columns as in the file's header row, read within `limits`
    (default: the [import] settings in force): the file is weighed first, then parsed — in a worker process with
    a memory cap and a time limit unless the settings say otherwise — and a file over a limit is refused
    naming it (DataRejected).

    The header row is `header_row` when given, else the first of the first HEADER_SEARCH_ROWS rows
    whose cells name at least MIN_KNOWN_HEADERS known columns (row 1 when none does). A workbook is
    read from `sheet` when given, else from its first sheet with such a header. Wholly blank rows are
    dropped, and each remaining row keeps the number a spreadsheet shows for it, so problems name
    the right row. `known` tells a header cell of the file's kind (default: the case contract's columns).
    """
    limits = limits or import_limits.load_import_limits()
    import_limits.check_file_size(len(data), limits)
    import_limits.check_expanded(data, Path(filename).suffix.lower(), limits)
    if limits.worker:
        from data_access.imports.parse_worker import parse_in_worker

        return parse_in_worker(data, filename, header_row=header_row, sheet=sheet, known=known, limits=limits)
    return parse_source(data, filename, header_row=header_row, sheet=sheet, known=known, limits=limits).source()


def parse_source(data: bytes, filename: str, *, header_row: int | None, sheet: str | None,
                 known: Callable[[str], bool] | None, limits: ImportLimits) -> _Cells:
    """read_source's parse, in whatever process runs it: the columns, rows, cell lengths and time checked
    as the file is read; the cells as Arrow text columns."""
    deadline = Deadline(limits)
    if header_row is not None and header_row < 1:
        raise DataRejected([_file_problem(f"表头行号必须从 1 开始，而不是 {header_row}",
                                          f"the header row is counted from 1, not {header_row}")])
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        source = _read_csv(data, header_row, known, limits, deadline)
    elif suffix == ".xlsx":
        source = _read_xlsx(data, header_row, sheet, known, limits, deadline)
    elif suffix == ".parquet":
        table = _read_parquet(data, limits)
        source = _Cells(table, np.arange(table.num_rows, dtype=np.int64) + 2)
    else:
        raise DataRejected([_file_problem(
            f"不支持的文件类型“{suffix or '无扩展名'}”，请使用 CSV、XLSX 或 Parquet",
            f"unsupported file type '{suffix or 'none'}': use CSV, XLSX or Parquet")])
    table = source.table
    _check_header(table.column_names, source.header_row)
    if not table.num_columns or not table.num_rows:
        return source
    blank = functools.reduce(pc.and_, [pc.equal(column, "") for column in table.columns])
    keep = pc.invert(blank)
    return _Cells(table.filter(keep), source.rows[keep.to_numpy(zero_copy_only=False)], source.header_row,
                  source.skipped_rows, source.sheet)


def _known(cell: str) -> bool:
    from data_access.imports.validate import is_known_header  # the column names live with the contract's rules

    return is_known_header(cell)


def find_header(rows: list[list[str]], known: Callable[[str], bool] | None = None) -> int | None:
    """The 1-based number of the first row that looks like the header (None when none does)."""
    is_known = known or _known
    for number, cells in enumerate(rows[:HEADER_SEARCH_ROWS], start=1):
        if sum(is_known(c) for c in cells if c) >= MIN_KNOWN_HEADERS:
            return number
    return None


def _above(rows: list[list[str]], header_row: int) -> tuple[int, ...]:
    """The non-blank rows above the header (they are skipped, and the report names them)."""
    return tuple(n for n, cells in enumerate(rows[:header_row - 1], start=1) if any(c for c in cells))


def _file_problem(zh: str, en: str) -> Problem:
    return Problem(row=None, column=None, value=None, reason_zh=zh, reason_en=en, kind=ProblemKind.FILE)


def _decode_text(data: bytes) -> bytes:
    """UTF-8 bytes of a UTF-8 (BOM or not) or GBK/GB18030 file; refuse anything else."""
    if b"\x00" in data[:65536]:
        raise DataRejected([_file_problem("不是文本文件（CSV 必须是 UTF-8 或 GBK 编码的文本）",
                                          "not a text file (CSV must be UTF-8 or GBK text)")])
    if (at := data.find(b"\x00")) >= 0:  # text with a NUL further on: no database column holds one (PostgreSQL refuses)
        line = data.count(b"\n", 0, at) + 1
        raise DataRejected([Problem(line, None, None, NUL_ZH, NUL_EN, ProblemKind.FILE)])
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


def _read_csv(data: bytes, header_row: int | None, known: Callable[[str], bool] | None, limits: ImportLimits,
              deadline: Deadline) -> _Cells:
    text = _decode_text(data)
    head_lines = text.split(b"\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    raw_rows = list(csv.reader(line.decode("utf-8").rstrip("\r") for line in head_lines))
    for number, cells in enumerate(raw_rows, start=1):  # before any cell is looked at: a header of a million
        check_columns(len(cells), limits, number)          # columns costs the header search seconds
    first_rows = [[c.strip() for c in row] for row in raw_rows]
    number = header_row or find_header(first_rows, known) or 1
    if number > len(first_rows) or not any(first_rows[number - 1]):
        raise DataRejected([_file_problem("文件为空或缺少表头行", "empty file or no header row")])
    header = raw_rows[number - 1]  # as written: the reader below names its columns so
    skipped = _above(first_rows, number)
    if len(set(header)) != len(header):
        _check_header(header, number)
    if number > 1:  # titles above the header: drop those lines, then count rows from the header's
        text = text.split(b"\n", number - 1)[-1]
    if _BLANK_LINE.search(text):
        exact = _read_csv_exact(text, header, number, limits, deadline)  # pyarrow skips blank lines (row numbers)
        return _Cells.of_frame(exact.frame, exact.rows, number, skipped)
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
        exact = _read_csv_exact(text, header, number, limits, deadline)  # slow path: names the malformed rows
        return _Cells.of_frame(exact.frame, exact.rows, number, skipped)
    deadline.check()
    check_rows(table.num_rows, limits)
    _check_cell_lengths(dict(zip(table.column_names, table.columns, strict=True)), number + 1, limits)
    return _Cells(_trimmed(table), np.arange(table.num_rows, dtype=np.int64) + number + 1, number, skipped)


def _read_csv_exact(text: bytes, header: list[str], header_row: int, limits: ImportLimits,
                    deadline: Deadline) -> SourceTable:
    """Record-by-record CSV reading (rare path): exact row numbers, blank lines kept in the count.
    `text` starts at the header line, which is row `header_row` of the file."""
    reader = csv.reader(io.StringIO(text.decode("utf-8"), newline=""))
    next(reader)
    records: list[list[str]] = []
    rows: list[int] = []
    problems: list[Problem] = []
    for row_number, record in enumerate(reader, start=header_row + 1):
        if row_number % 10_000 == 0:
            deadline.check()
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(records) >= limits.max_rows:
            check_rows(len(records) + 1, limits)
        if (longest := max(map(len, record))) > limits.max_cell_chars:
            column = next(i for i, cell in enumerate(record) if len(cell) == longest)
            raise cell_too_long(row_number, header[column] if column < len(header) else f"第 {column + 1} 列",
                                longest, limits)
        if len(record) != len(header):
            # the row's cells are not echoed: they may hold a reporter's name or number
            problems.append(Problem(row_number, None, None,
                                    f"列数不对：表头有 {len(header)} 列，此行有 {len(record)} 列",
                                    f"wrong number of fields: header has {len(header)}, this row {len(record)}",
                                    ProblemKind.FILE))
            continue
        records.append([cell.strip() for cell in record])
        rows.append(row_number)
    if problems:
        raise DataRejected(problems, len(problems))
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    return SourceTable(frame, np.asarray(rows, dtype=np.int64))


def _read_parquet(data: bytes, limits: ImportLimits) -> pa.Table:
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
    _refuse_nul_bytes(columns)
    _check_cell_lengths(columns, 2, limits)
    return _trimmed(pa.table(columns))


def _check_cell_lengths(columns: dict[str, pa.ChunkedArray], first_row: int, limits: ImportLimits) -> None:
    """Refuse the first cell (by row, then column) longer than max_cell_chars; `first_row` numbers the first."""
    worst: tuple[int, str, int] | None = None
    for name, col in columns.items():
        lengths = pc.utf8_length(col)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > limits.max_cell_chars:
            index = pc.index(pc.greater(lengths, limits.max_cell_chars), True).as_py()
            chars = lengths[index].as_py()
            if worst is None or index < worst[0]:
                worst = (index, name, chars)
    if worst is not None:
        raise cell_too_long(first_row + worst[0], worst[1], worst[2], limits)


def _refuse_nul_bytes(columns: dict[str, pa.ChunkedArray]) -> None:
    """Every text cell holding a NUL byte, named by row (the header is row 1) and column: no database stores one."""
    problems = []
    for name, col in columns.items():
        hits = pc.match_substring(col, "\x00")
        if pc.any(hits).as_py():
            rows = np.flatnonzero(hits.to_numpy(zero_copy_only=False)) + 2
            problems += [Problem(int(row), name, None, NUL_ZH, NUL_EN, ProblemKind.FILE) for row in rows]
    if problems:
        raise DataRejected(sorted(problems, key=lambda p: p.row or 0), len(problems))


def _all_integral(col: pa.ChunkedArray) -> bool:
    present = pc.drop_null(col)
    return len(present) == 0 or pc.all(pc.equal(present, pc.floor(present))).as_py()


def _read_xlsx(data: bytes, header_row: int | None, sheet: str | None, known: Callable[[str], bool] | None,
               limits: ImportLimits, deadline: Deadline) -> _Cells:
    """The case sheet of a workbook: `sheet`, else the first sheet with a header among its first rows."""
    import openpyxl

    if (most := _most_rows(data, deadline)) > min(limits.max_rows, EXCEL_MAX_ROWS) + HEADER_SEARCH_ROWS:
        raise _sheet_too_long(most, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise DataRejected([_file_problem(f"不是有效的 XLSX 文件：{exc}", f"not a valid XLSX file: {exc}")]) from None
    try:
        names = list(book.sheetnames)
        if sheet is not None and sheet not in names:
            raise DataRejected([_file_problem(f"工作簿中没有名为“{sheet}”的工作表（有：{'、'.join(names)}）",
                                              f"no sheet named '{sheet}' in the workbook (it has: {', '.join(names)})")])
        chosen, number = sheet or names[0], header_row
        if sheet is None and header_row is None:  # the first sheet whose first rows hold a header
            for name in names:
                found = find_header(_xlsx_rows(book[name], HEADER_SEARCH_ROWS), known)
                if found is not None:
                    chosen, number = name, found
                    break
        rows = _xlsx_rows(book[chosen], None, limits, deadline)
    finally:
        book.close()
    number = number or find_header(rows, known) or 1
    if number > len(rows):
        raise DataRejected([_file_problem("文件为空或缺少表头行", "empty file or no header row")])
    cells = rows[number - 1]
    while cells and not cells[-1]:  # trailing columns without a name (formatting to the sheet's edge)
        cells = cells[:-1]
    check_columns(len(cells), limits, number)
    check_rows(len(rows) - number, limits)
    header = [c if c else f"（第 {i} 列无列名）" for i, c in enumerate(cells, start=1)]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[number:]]
    _check_header(header, number)
    frame = pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(columns=header, dtype=object)
    return _Cells.of_frame(frame, np.arange(len(frame)) + number + 1, number, _above(rows, number),
                           chosen if len(names) > 1 else None)


def _xlsx_rows(worksheet: Any, limit: int | None, limits: ImportLimits | None = None,
               deadline: Deadline | None = None) -> list[list[str]]:
    """The worksheet's cells as text, row 1 first (merged title cells hold their text in the first cell); with
    `limits`, reading stops at the first row past max_rows (and the rows a title may take above the header),
    the first cell over max_cell_chars and the deadline."""
    out: list[list[str]] = []
    most = None if limits is None else min(limits.max_rows, EXCEL_MAX_ROWS) + HEADER_SEARCH_ROWS
    if most is not None and limits is not None and (declared := _declared_rows(worksheet)) > most:
        raise _sheet_too_long(declared, limits)  # its <dimension> says so: refused before a row is read
    for number, values in enumerate(worksheet.iter_rows(min_row=1, max_row=limit, values_only=True), start=1):
        cells = [_excel_cell_text(v) for v in values]
        if limits is not None and deadline is not None:
            if number % 10_000 == 0:
                deadline.check()
            if most is not None and number > most:
                raise _sheet_too_long(number, limits)
            if cells and (longest := max(map(len, cells))) > limits.max_cell_chars:
                column = next(i for i, cell in enumerate(cells) if len(cell) == longest)
                raise cell_too_long(number, f"第 {column + 1} 列", longest, limits)
        out.append(cells)
    while out and not any(out[-1]):
        out.pop()
    return out


def _sheet_too_long(rows: int, limits: ImportLimits) -> DataRejected:
    """The refusal of a worksheet of `rows` rows or more: over max_rows, or over what any Excel sheet holds."""
    if min(rows - HEADER_SEARCH_ROWS, EXCEL_MAX_ROWS) > limits.max_rows:
        return import_limits.too_many_rows(limits)
    return DataRejected([_file_problem(f"工作表超过 {EXCEL_MAX_ROWS:,} 行，超出 Excel 工作表的最大行数，不是 Excel 保存的文件",
                                       f"the sheet holds more than Excel's {EXCEL_MAX_ROWS:,} rows")])


def _most_rows(data: bytes, deadline: Deadline) -> int:
    """The most <row> elements any worksheet of the workbook holds, counted in its XML as it is decompressed a
    megabyte at a time: a C-speed scan before openpyxl is given the file (which, for a sheet without a <dimension>,
    parses the whole sheet just to open the workbook)."""
    import zipfile

    most = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for part in archive.namelist():
                if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
                    continue
                with archive.open(part) as xml:
                    count, tail = 0, b""
                    while chunk := xml.read(1 << 20):
                        window = tail + chunk
                        count += (window.count(b"<row") + window.count(b":row")
                                  - tail.count(b"<row") - tail.count(b":row"))
                        tail = window[-5:]
                        deadline.check()
                most = max(most, count)
    except (zipfile.BadZipFile, ValueError, OSError):
        return 0  # not a workbook: openpyxl refuses it in its own words
    return most


def _declared_rows(worksheet: Any) -> int:
    """The rows a worksheet's <dimension> declares (0 when it declares none): openpyxl reads it without the rows."""
    try:
        return int(worksheet.max_row or 0)
    except (TypeError, ValueError):
        return 0


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


def _trimmed(table: pa.Table) -> pa.Table:
    """Every cell without its leading and trailing blanks."""
    return pa.table({n: pc.utf8_trim_whitespace(table[n]) for n in table.column_names})


def _check_header(header: list[str], header_row: int = 1) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataRejected([Problem(header_row, name, None, "表头中列名重复", "duplicate column name in header",
                                        ProblemKind.FILE)])
        seen.add(name)
