"""Every cell the product writes into an XLSX or CSV file passes through `sheet_cell`: text stays text.

A spreadsheet program reads a CSV field (and a typed value) that begins with = + - @, or with a tab or a
carriage return, as a formula. Case ids, domains, complaint ids, ledger titles and notes, user names typed
into the sign-in form and uploaded file names all come from outside; written as they are, they would
run as `=HYPERLINK(...)` or a DDE call (`=cmd|' /C calc'!A0`) on a supervisor's machine (OWASP, "CSV
injection"). So, in one place:
- XLSX: every text is a string cell (openpyxl data type "s", written inline), never a formula ("f"),
  whatever it begins with; characters XML cannot hold become U+FFFD instead of failing the download.
- CSV: a text beginning with one of those characters gets OWASP's prefix, a single quote. Columns of
  numbers, dates and booleans hold no text and are written as they are (a negative number stays a number).

Every table sheet is also set up for paper here (`print_layout`): A4 landscape, one page wide and as many
tall as it takes, its header row printed on every page and frozen on screen; a column of whole numbers
shows them as whole numbers (12, 1,234; never 12.0).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TEXT_PREFIX = "'"
REPLACEMENT = "\ufffd"
COUNT_FORMAT = "#,##0"  # whole numbers: counts, days, ranks
PRODUCT = "信访举报督导看板"  # the author of a workbook no office issues


def new_workbook(title: str, author: str = PRODUCT) -> Workbook:
    """An empty workbook (no sheet yet) whose properties name its author and title, made now (openpyxl would
    say "openpyxl")."""
    book = Workbook()
    book.remove(book.worksheets[0])
    props = book.properties
    props.creator = props.lastModifiedBy = author
    props.title = title
    props.created = props.modified = dt.datetime.now().replace(microsecond=0)
    return book


def sheet_cell(value: object, sheet: Worksheet | None = None) -> Any:
    """What `value` becomes in a spreadsheet file: with `sheet`, an XLSX cell of that sheet (text as a
    string cell) or the number, date or None openpyxl writes as such; without, the field of a CSV file
    (text beginning with = + - @ tab or CR prefixed with a single quote). Missing values become None."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (np.number, np.bool_)):  # numpy scalars as Python numbers
        value = value.item()
    if not isinstance(value, str):
        return value
    if sheet is None:
        return CSV_TEXT_PREFIX + value if value.startswith(FORMULA_STARTS) else value
    text = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value))
    text.data_type = "s"  # a string: openpyxl types a text beginning with "=" as a formula ("f")
    return text


def append_row(sheet: Worksheet, values: list[object] | tuple[object, ...]) -> None:
    """One row appended to an XLSX sheet, every value through sheet_cell."""
    sheet.append([sheet_cell(v, sheet) for v in values])


def append_frame(sheet: Worksheet, frame: pd.DataFrame) -> None:
    """The frame's header row and rows appended to an XLSX sheet, every cell through sheet_cell; columns of
    whole numbers formatted as such; the sheet laid out for print with that header row (print_layout)."""
    append_row(sheet, list(frame.columns))
    header_row = sheet.max_row
    for row in frame.itertuples(index=False):
        append_row(sheet, row)
    for i in range(1, len(frame.columns) + 1):
        if _whole_numbers(frame.iloc[:, i - 1]):
            for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=i, max_col=i):
                cell.number_format = COUNT_FORMAT
    print_layout(sheet, header_row)


def print_layout(sheet: Worksheet, header_row: int = 1) -> None:
    """A4 landscape, fitted to one page wide and as many pages tall as the rows need; the rows down to
    `header_row` frozen on screen, and `header_row` itself repeated at the top of every printed page."""
    setup = sheet.page_setup
    setup.orientation, setup.paperSize = "landscape", sheet.PAPERSIZE_A4
    setup.fitToWidth, setup.fitToHeight = 1, 0  # 0: no limit on the pages down
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.freeze_panes = f"A{header_row + 1}"


def _whole_numbers(values: pd.Series) -> bool:
    """Whether a column holds numbers (no booleans), every one of them whole: a count even when missing
    values made pandas store it as float."""
    present = [v for v in values if sheet_cell(v) is not None]
    return bool(present) and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) and float(v).is_integer()
        for v in present)


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a CSV file holds it: headers and every text cell through sheet_cell."""
    out = frame.rename(columns=lambda c: sheet_cell(c) if isinstance(c, str) else c)
    for i, dtype in enumerate(out.dtypes):
        if not _holds_no_text(dtype):
            out.isetitem(i, out.iloc[:, i].astype(object).map(sheet_cell, na_action="ignore"))
    return out


def _holds_no_text(dtype: object) -> bool:
    """Numbers (booleans included), dates and durations: a column of these cannot begin with "="."""
    types = pd.api.types
    return bool(types.is_numeric_dtype(dtype) or types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV in UTF-8 with BOM (Excel then reads Chinese), text kept as text. Rows end in CRLF (RFC 4180):
    the csv module quotes a field holding any character of the line ending, so a CR inside a value cannot split
    a row as it would with a bare LF ending."""
    return csv_frame(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
