"""The 督办台账 as a workbook: the items and every step taken on them, ready to print or to file."""
from __future__ import annotations

import io

import pandas as pd

from presentation.spreadsheet import new_workbook

from .workbook import write_sheet


def build_ledger_workbook(items: pd.DataFrame, steps: pd.DataFrame) -> bytes:
    """Two sheets: 督办事项 (one row per item) and 办理记录 (one row per step), both with Chinese headers."""
    book = new_workbook("督办台账")
    write_sheet(book.create_sheet("督办事项"), items)
    write_sheet(book.create_sheet("办理记录"), steps)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
