"""The weekly ledger (台账) as XLSX: newly overdue, long overdue, priority counties; Chinese headers, frozen header row."""
from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from data_access.enums import Channel
from metrics.caselists import COLUMN_LABELS
from metrics.priority import PriorityStatus
from metrics.registry import METRICS_BY_ID
from metrics.weekly import WeeklyReport

CASE_COLUMNS = ("case_id", "city_name", "county_name", "received_date", "due_date", "days_overdue", "is_first_report",
                "channel", "domain")
PRIORITY_COLUMNS = {
    "code": "县级代码", "name": "县（市、区）", "city_name": "所属市", "change": "较上周", "status": "当前状态",
    **{m: METRICS_BY_ID[m].label for m in ("first_due", "first_on_time_rate", "accepted", "leapfrog_rate")},
    "z_quality": "质效 z 值", "z_leapfrog": "越级 z 值", "score": "综合得分", "sentence": "说明",
}
RATE_COLUMNS = ("first_on_time_rate", "leapfrog_rate")
SCORE_COLUMNS = ("z_quality", "z_leapfrog", "score")
NEWLY_OVERDUE_SHEET, PRIORITY_SHEET, NOTES_SHEET = "新增超期", "重点督导县", "说明"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
CHANNELS = {c.value: c.label for c in Channel}


def long_overdue_sheet(report: WeeklyReport) -> str:
    """Name of the long-overdue sheet, e.g. 长期超期（>90天）."""
    return f"长期超期（>{report.long_overdue_days}天）"


def case_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    """Overdue cases in people's terms: Chinese headers, channel labels, 是/否."""
    out = ledger[list(CASE_COLUMNS)].copy()
    out["channel"] = out["channel"].map(lambda v: CHANNELS.get(v, v))
    out["is_first_report"] = out["is_first_report"].map(lambda v: "是" if bool(v) else "否")
    return out.rename(columns=COLUMN_LABELS)


def priority_rows(report: WeeklyReport) -> pd.DataFrame:
    """This week's priority counties (新列入 / 持续列入) and those that left the list (本周移出)."""
    listed = report.priority.assign(change=report.priority["entered"].map({True: "新列入", False: "持续列入"}))
    left = report.priority_left.assign(change="本周移出")
    rows = pd.concat([listed, left], ignore_index=True) if not left.empty else listed
    rows = rows.assign(status=rows["status"].map(lambda s: PriorityStatus(s).label))
    return rows.reindex(columns=list(PRIORITY_COLUMNS))


def notes_rows(report: WeeklyReport) -> pd.DataFrame:
    """What the ledger covers: the weeks, the as-of date, the priority window."""
    this, last, window = report.this_week, report.last_week, report.priority_window
    items = {
        "本周": f"{this.start} 至 {this.end}（数据截至 {report.as_of}）",
        "上周": f"{last.start} 至 {last.end}（数据截至 {last.as_of_date}）",
        NEWLY_OVERDUE_SHEET: f"截至 {report.as_of} 超期未办结、而截至 {last.as_of_date} 尚未超期的检举控告件",
        long_overdue_sheet(report): f"截至 {report.as_of} 超期天数大于 {report.long_overdue_days} 天的检举控告件",
        PRIORITY_SHEET: f"近 {report.priority_window_months} 个月（{window.start} 至 {window.end}）漏斗图检验列为重点督导的县，"
                        "及上周列入、本周移出的县",
    }
    return pd.DataFrame({"项目": list(items), "内容": list(items.values())})


def write_sheet(ws: Worksheet, frame: pd.DataFrame, rate_columns: tuple[str, ...] = (),
                decimal_columns: tuple[str, ...] = ()) -> None:
    """Header row (bold, filled, frozen), the rows, number formats and column widths."""
    ws.append(list(frame.columns))
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for row in frame.itertuples(index=False):
        ws.append([None if _missing(v) else v for v in row])
    ws.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        fmt = "0.0%" if column in rate_columns else "0.00" if column in decimal_columns else None
        for cell in ws[letter][1:]:
            if fmt:
                cell.number_format = fmt
            elif hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
        width = max([len(str(column)) * 2] + [len(str(v)) for v in frame[column].head(200)]) + 2
        ws.column_dimensions[letter].width = min(width, 60)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def build_workbook(report: WeeklyReport) -> bytes:
    """The ledger as XLSX bytes."""
    wb = Workbook()
    wb.remove(wb.active)
    write_sheet(wb.create_sheet(NEWLY_OVERDUE_SHEET), case_rows(report.newly_overdue))
    write_sheet(wb.create_sheet(long_overdue_sheet(report)), case_rows(report.long_overdue))
    labels = PRIORITY_COLUMNS
    write_sheet(wb.create_sheet(PRIORITY_SHEET), priority_rows(report).rename(columns=labels),
                rate_columns=tuple(labels[c] for c in RATE_COLUMNS), decimal_columns=tuple(labels[c] for c in SCORE_COLUMNS))
    write_sheet(wb.create_sheet(NOTES_SHEET), notes_rows(report))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
