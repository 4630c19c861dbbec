"""The 督办台账 as a workbook: the items and every step taken on them, ready to print or to file."""
from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from presentation.spreadsheet import append_frame

HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
MAX_WIDTH = 60


def _sheet(book: Workbook, title: str, frame: pd.DataFrame, first: bool) -> None:
    sheet = book.active if first else book.create_sheet()
    assert sheet is not None
    sheet.title = title
    append_frame(sheet, frame)
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for i, column in enumerate(frame.columns, start=1):
        texts = [str(column), *(str(v) for v in frame.iloc[:, i - 1] if not pd.isna(v))]
        width = max(len(t.encode("gbk", errors="replace")) for t in texts) + 2  # a Chinese character is two columns wide
        sheet.column_dimensions[get_column_letter(i)].width = min(width, MAX_WIDTH)
        if width > MAX_WIDTH:  # long notes wrap instead of running under the next column
            for cell in sheet[get_column_letter(i)][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if len(frame):
        sheet.auto_filter.ref = sheet.dimensions


def build_ledger_workbook(items: pd.DataFrame, steps: pd.DataFrame) -> bytes:
    """Two sheets: 督办事项 (one row per item) and 办理记录 (one row per step), both with Chinese headers."""
    book = Workbook()
    _sheet(book, "督办事项", items, first=True)
    _sheet(book, "办理记录", steps, first=False)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
