"""Downloads for Excel users: CSV in UTF-8 with BOM (Excel shows Chinese), and XLSX with a frozen header; every
cell through presentation.spreadsheet, so an imported value is never a formula."""
from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
import streamlit as st
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from data_access.identity.audit import AuditAction
from data_access.reference.enums import Category, Channel, Satisfaction
from metrics.caselists import COLUMN_LABELS, CaseStatus
from presentation import spreadsheet

from .access import audited

_VALUE_LABELS = {
    "channel": {c.value: c.label for c in Channel},
    "category": {c.value: c.label for c in Category},
    "satisfaction": {s.value: s.label for s in Satisfaction},
    "status": {s.value: s.label for s in CaseStatus},
}


def for_people(frame: pd.DataFrame, extra_labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Chinese headers and values (渠道, 类别, 满意度, 是/否) for screens and downloads."""
    out = frame.copy()
    for column, labels in _VALUE_LABELS.items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, lb=labels: lb.get(v, v) if isinstance(v, str) else "")
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].map({True: "是", False: "否"})
    return out.rename(columns={**COLUMN_LABELS, **(extra_labels or {})})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV encoded as UTF-8 with BOM, text kept as text."""
    return spreadsheet.csv_bytes(frame)


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "数据") -> bytes:
    """An XLSX workbook with one sheet, header row frozen, columns sized to their content, text as string cells."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    spreadsheet.append_frame(ws, frame)
    for header in ws[1]:
        header.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)]) + 4
        ws.column_dimensions[get_column_letter(i)].width = min(width, 40)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def recorded_download(make: Callable[[], bytes], file_name: str) -> Callable[[], bytes]:
    """Wrap a file builder so that every download is written to the audit log (who, when, scope, what)."""
    record = audited(AuditAction.DOWNLOAD, f"下载 {file_name}")

    def build() -> bytes:
        record()
        return make()

    return build


def download_buttons(frame: pd.DataFrame, stem: str, key: str) -> None:
    """Side-by-side CSV and XLSX download buttons for a table already in people's terms (audited)."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("下载 CSV", recorded_download(lambda: csv_bytes(frame), f"{stem}.csv"), file_name=f"{stem}.csv",
                         mime="text/csv", key=f"{key}_csv", on_click="ignore", icon=":material/download:")
    # XLSX is built only when clicked (deferred callable): writing a workbook on every rerun is slow
    right.download_button("下载 Excel", recorded_download(lambda: xlsx_bytes(frame), f"{stem}.xlsx"),
                          file_name=f"{stem}.xlsx", key=f"{key}_xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                          icon=":material/download:")
