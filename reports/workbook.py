"""The weekly ledger (台账) as XLSX: every number of the deck traced to rows — the notes and key facts,
core metrics, the last weeks, the units' ranking and overdue, the whole overdue list (and its newly and
long overdue parts), overdue by county, priority counties, deterioration signals and their p-chart
data, the 督办台账. Chinese headers, frozen and filtered header row, widths fitted, long text wrapped.
"""
from __future__ import annotations

import datetime as dt
import io
import unicodedata

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from data_access.reference.enums import Channel
from data_access.supervision.ledger import Method, Status
from metrics.caselists import COLUMN_LABELS
from metrics.priority import PriorityStatus
from metrics.registry import METRICS_BY_ID, MetricKind
from metrics.weekly import SATISFACTION_METRICS, STOCK_COUNTIES, WEEKLY_HEADLINE_METRICS, WeeklyReport, overdue_by_unit
from presentation.bulletin import bulletin
from presentation.campaign import campaign_rows, campaign_sentence
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, DocumentSettings, Issuance
from presentation.format import rank_text
from presentation.spreadsheet import COUNT_FORMAT, append_frame, new_workbook

CASE_COLUMNS = ("case_id", "city_name", "county_name", "received_date", "due_date", "days_overdue", "is_first_report",
                "supervised", "channel", "domain")
PRIORITY_COLUMNS = {
    "code": "县级代码", "name": "县（市、区）", "city_name": "所属市", "change": "较上周", "status": "当前状态",
    **{m: METRICS_BY_ID[m].label for m in ("first_due", "first_on_time_rate", "accepted", "leapfrog_rate")},
    "z_quality": "质效 z 值", "z_leapfrog": "越级 z 值", "score": "综合得分", "sentence": "说明",
}
RATE_COLUMNS = ("first_on_time_rate", "leapfrog_rate")
SCORE_COLUMNS = ("z_quality", "z_leapfrog", "score")
NOTES_SHEET, CORE_SHEET, WEEKS_SHEET = "说明", "核心指标", "近6周"
OVERDUE_SHEET, NEWLY_OVERDUE_SHEET, COUNTY_OVERDUE_SHEET = "超期未办结", "新增超期", "各县超期"
OVERDUE_STOCK_SHEET = "各县超期初次举报"
PRIORITY_SHEET, SIGNALS_SHEET, P_CHART_SHEET, LEDGER_SHEET = "重点督导县", "变差信号", "控制图数据", "督办台账"
CAMPAIGN_SHEET = "专项治理"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
CHANNELS = {c.value: c.label for c in Channel}
RATE_FORMAT, POINTS_FORMAT, SHARE_FORMAT = "0.0%", "+0.0;-0.0;0.0", "+0%;-0%;0%"
MAX_WIDTH = 50  # characters; longer text wraps


def long_overdue_sheet(report: WeeklyReport) -> str:
    """Name of the long-overdue sheet, e.g. 长期超期（>90天）."""
    return f"长期超期（>{report.long_overdue_days}天）"


def ranking_sheet(report: WeeklyReport) -> str:
    """各市排名 or 各县排名."""
    return "各市排名" if report.unit_noun == "市" else "各县排名"


def case_rows(ledger: pd.DataFrame, report: WeeklyReport | None = None) -> pd.DataFrame:
    """Overdue cases in people's terms: Chinese headers, channel labels, 是/否 (and, given the report,
    whether each is newly overdue this week and long overdue)."""
    if ledger.empty and not len(ledger.columns):
        return pd.DataFrame(columns=[COLUMN_LABELS[c] for c in CASE_COLUMNS])
    out = ledger[list(CASE_COLUMNS)].copy()
    out["channel"] = out["channel"].map(lambda v: CHANNELS.get(v, v))
    for flag in ("is_first_report", "supervised"):
        out[flag] = out[flag].map(lambda v: "是" if bool(v) else "否")
    out = out.rename(columns=COLUMN_LABELS)
    if report is not None:
        new = set(report.newly_overdue["case_id"]) if not report.newly_overdue.empty else set()
        out["本周新增超期"] = ledger["case_id"].map(lambda c: "是" if c in new else "否")
        out[f"超期{report.long_overdue_days}天以上"] = (ledger["days_overdue"] > report.long_overdue_days).map({True: "是", False: "否"})
    return out


def priority_rows(report: WeeklyReport) -> pd.DataFrame:
    """This week's priority counties (新列入 / 持续列入) and those that left the list (本周移出)."""
    listed = report.priority.assign(change=report.priority["entered"].map({True: "新列入", False: "持续列入"}))
    left = report.priority_left.assign(change="本周移出")
    rows = pd.concat([listed, left], ignore_index=True) if not left.empty else listed
    rows = rows.assign(status=rows["status"].map(lambda s: PriorityStatus(s).label))
    return rows.reindex(columns=list(PRIORITY_COLUMNS))


def core_rows(report: WeeklyReport) -> pd.DataFrame:
    """Every headline and satisfaction metric: this week, last week, the change, a year ago and the bases."""
    rows = []
    ago = report.province_year_ago
    for metric_id in dict.fromkeys((*WEEKLY_HEADLINE_METRICS, *SATISFACTION_METRICS)):
        metric = METRICS_BY_ID[metric_id]
        this, last = report.province[metric_id], report.province_last[metric_id]
        then = ago[metric_id] if ago is not None else None
        is_rate = metric.kind is MetricKind.RATE
        scale = 100 if is_rate else 1
        base = metric.denominator if is_rate else None
        rows.append({
            "指标": metric.label, "单位": "%" if is_rate else metric.unit, "本周": this, "上周": last,
            "较上周（件/百分点）": _diff(this, last, scale), "去年同期": then, "较去年同期（件/百分点）": _diff(this, then, scale),
            "较去年同期（%）": None if is_rate or _missing(then) or not then else float(this) / float(then) - 1,
            "计算基数": METRICS_BY_ID[base].label if base else "", "本周基数": report.province[base] if base else None,
            "上周基数": report.province_last[base] if base else None, "口径": metric.definition, "_rate": is_rate,
        })
    return pd.DataFrame(rows)


def _diff(a: object, b: object, scale: float) -> float | None:
    return None if _missing(a) or _missing(b) else (float(a) - float(b)) * scale  # type: ignore[arg-type]


def unit_rows(report: WeeklyReport) -> pd.DataFrame:
    """The units below the region: ranking (with due cases), overdue with the week-on-week change, satisfaction."""
    u = report.units
    overdue = overdue_by_unit(report).set_index("code")
    return pd.DataFrame({
        "名次": [rank_text(r, bool(t)) for r, t in zip(u["rank"], u["tied"], strict=True)],
        report.unit_noun: u["name"], "代码": u["code"], "参与排名": u["ranked"].map({True: "是", False: "否"}),
        "应办结件": u["due"], "按期办结件": u["on_time"], "按期办结率": u["on_time_rate"],
        "上周应办结件": u["due_last"], "上周按期办结率": u["on_time_rate_last"],
        "上周名次": [rank_text(r, False) for r in u["rank_last"]], "名次变化": u["rank_change"],
        "较上周（百分点）": u["rate_change"] * 100,
        "超期未办结": u["overdue"], "上周末超期未办结": u["overdue_last"], "较上周末": u["overdue"] - u["overdue_last"],
        f"其中超期{report.long_overdue_days}天以上": u["code"].map(overdue["long_overdue"]),
        "本周新增超期": u["code"].map(overdue["newly_overdue"]),
        "办结件": u["closed"], "参评件": u["rated"], "群众满意率": u["satisfaction_rate"], "结而不服件": u["disputed"],
    })


def county_overdue_rows(report: WeeklyReport) -> pd.DataFrame:
    """Every county with an overdue case: overdue now, long overdue and newly overdue, most long overdue first."""
    ledger = report.overdue
    if ledger.empty:
        return pd.DataFrame(columns=["县（市、区）", "所属市", "超期未办结", f"超期{report.long_overdue_days}天以上", "本周新增超期"])
    total = ledger.groupby(["county_code", "county_name", "city_name"]).size().rename("overdue").reset_index()
    by = report.overdue_by_county.set_index("county_code")
    total["long"] = total["county_code"].map(by["long_overdue"]).fillna(0).astype("int64")
    total["new"] = total["county_code"].map(by["newly_overdue"]).fillna(0).astype("int64")
    total = total.sort_values(["long", "new", "county_code"], ascending=[False, False, True], kind="stable")
    return pd.DataFrame({"县（市、区）": total["county_name"], "所属市": total["city_name"], "超期未办结": total["overdue"],
                         f"超期{report.long_overdue_days}天以上": total["long"], "本周新增超期": total["new"]})


def overdue_stock_rows(report: WeeklyReport) -> pd.DataFrame:
    """Each county's overdue first reports (metrics.caselists.county_overdue_stock), most first, as on the slide."""
    stock = report.overdue_stock
    columns = {"county_name": "县（市、区）", "city_name": "所属市", "overdue": "超期未办结初次举报",
               "overdue_before": "上周末", "overdue_change": "较上周末", "supervised": "其中已挂账督办"}
    if stock.empty:
        return pd.DataFrame(columns=list(columns.values()))
    return stock[list(columns)].rename(columns=columns)


def week_rows(report: WeeklyReport) -> pd.DataFrame:
    """The last weeks' headline values, oldest first."""
    w = report.recent_weeks
    if w.empty:
        return pd.DataFrame()
    out = pd.DataFrame({"周起": w["week_start"], "周止": w["week_end"], "数据截至": w["as_of_date"]})
    for metric_id in (*WEEKLY_HEADLINE_METRICS, "due"):
        out[METRICS_BY_ID[metric_id].label] = w[metric_id]
    return out


def signal_rows(report: WeeklyReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flagged counties with their sentence, and the p-chart data of those drawn."""
    s = report.signals
    flagged = pd.DataFrame() if s.empty else pd.DataFrame({
        "县级代码": s["code"], "县（市、区）": s["name"], "基线应办结件": s["baseline_due"], "基线按期办结率": s["baseline_rate"],
        "近期应办结件": s["recent_due"], "近期按期办结率": s["recent_rate"], "说明": s["sentence"]})
    names = dict(zip(s["code"], s["name"], strict=True)) if not s.empty else {}
    charts = [frame.assign(code=code, name=names.get(code, code)) for code, frame in report.signal_charts.items()]
    points = pd.concat(charts, ignore_index=True) if charts else pd.DataFrame()
    if not points.empty:
        points = pd.DataFrame({
            "县级代码": points["code"], "县（市、区）": points["name"], "周起": points["week_start"],
            "阶段": points["phase"].map({"baseline": "基线", "recent": "近期"}), "应办结件": points["due"],
            "按期办结件": points["on_time"], "按期办结率": points["rate"], "基线均值": points["centre"],
            "控制下限": points["lower"], "低于下限": points["below"].map({True: "是", False: "否"})})
    return flagged, points


def ledger_rows(report: WeeklyReport) -> pd.DataFrame:
    """The 督办台账's items in scope (the week's counts are in 说明)."""
    items = report.ledger_items
    if items.empty:
        return pd.DataFrame(columns=["所属市", "承办县（市、区）", "督办事项", "督办方式", "反馈期限", "状态", "逾期未反馈", "挂账天数"])
    return pd.DataFrame({
        "所属市": items["city_name"], "承办县（市、区）": items["county_name"], "督办事项": items["title"],
        "督办要求": items["reason"], "督办方式": items["method"].map(lambda m: Method(m).label),
        "件号": items["case_id"], "反馈期限": items["reply_due"], "状态": items["status"].map(lambda s: Status(s).label),
        "逾期未反馈": items["overdue_reply"].map({True: "是", False: "否"}), "挂账天数": items["age_days"]})


def overdue_stock_notes(report: WeeklyReport) -> str:
    """The stock's totals and what the slide leaves out, in the numbers the slide states."""
    total, change, supervised = report.overdue_stock_totals
    counties, cases, rest_supervised = report.overdue_stock_rest
    return (f"截至 {report.as_of} 超期未办结的初次举报件，{len(report.overdue_stock_listed)} 个县（市、区）共 {total} 件，"
            f"较上周末（截至 {report.last_week.as_of_date}）{change:+d} 件（{abs(change)} 件），已挂账督办 {supervised} 件；"
            f"演示稿列件数最多的 {min(STOCK_COUNTIES, len(report.overdue_stock_listed))} 个，另有 {counties} 个县（市、区）"
            f"共 {cases} 件（其中已挂账督办 {rest_supervised} 件）")


def campaign_notes(report: WeeklyReport) -> str:
    """The campaign's week as the slide states it, and what the sheet lists."""
    week = report.campaign
    if week is None:
        return "未读取"
    return (f"截至 {week.as_of}（本周 {week.week_start} 至 {week.as_of}）{campaign_sentence(week)}；"
            f"本表列全部 {week.counts.enrolled} 件，超期未化解和反弹的在前")


def notes_rows(report: WeeklyReport, documents: DocumentSettings, issuance: Issuance | None = None) -> pd.DataFrame:
    """What the ledger covers, the rules behind the numbers, the key facts the slides state, the 通报's particulars."""
    this, last, window, s = report.this_week, report.last_week, report.priority_window, report.settings
    b = bulletin(report, documents, issuance)
    ranked = report.units[report.units["ranked"]] if report.ranks_units else report.units.iloc[0:0]
    counties_long = report.overdue_by_county[report.overdue_by_county["long_overdue"] > 0]
    sup = report.supervision
    items = {
        "发文单位": documents.issuer(report.region_name),
        "本周": f"{this.start} 至 {this.end}（数据截至 {report.as_of}）",
        "上周": f"{last.start} 至 {last.end}（数据截至 {last.as_of_date}）",
        "去年同期": (f"{report.year_ago_week.start} 至 {report.year_ago_week.end}" if report.year_ago_week else "数据未覆盖"),
        "排名规则": (f"按本周按期办结率从高到低，比率相同者并列同一名次；本周应办结件不足 {report.min_due_to_compare} 件的"
                     f"{report.unit_noun}不排名；升降比较只在本周和上周应办结件均不少于 {report.min_due_to_compare} 件的单位间进行。"
                     f"本周参与排名 {len(ranked)} 个{report.unit_noun}。"),
        OVERDUE_SHEET: f"截至 {report.as_of} 超期未办结的全部检举控告件，共 {len(report.overdue)} 件，超期最久的在前",
        NEWLY_OVERDUE_SHEET: (f"截至 {report.as_of} 超期未办结、而截至 {last.as_of_date} 尚未超期的检举控告件，"
                              f"共 {len(report.newly_overdue)} 件"),
        long_overdue_sheet(report): f"截至 {report.as_of} 超期天数大于 {report.long_overdue_days} 天的检举控告件，共 "
                                    f"{len(report.long_overdue)} 件，分布在 {len(counties_long)} 个县（市、区）",
        OVERDUE_STOCK_SHEET: overdue_stock_notes(report),
        "各县超期件数分布": "；".join(f"超期{report.long_overdue_days}天以上 {n} 件的 {k} 个" for n, k in
                                  counties_long["long_overdue"].value_counts().sort_index(ascending=False).items()) or "无",
        PRIORITY_SHEET: (f"近 {report.priority_window_months} 个月（{window.start} 至 {window.end}）漏斗图检验：初次举报按期办结率"
                         f"明显低于全省、同时越级举报率明显高于全省（两项 z 值均不小于 {s.z_priority}，即 95% 控制限）的县列为"
                         f"重点督导；初次举报应办结件或检举控告件不足 {s.min_volume} 件的不检验。本周列为重点督导 "
                         f"{len(report.priority)} 个，新列入 {len(report.priority_entered)} 个，移出 {len(report.priority_left)} 个"),
        SIGNALS_SHEET: (f"近 {s.spc_recent_weeks} 周每周按期办结率与此前 {s.spc_baseline_weeks} 周基线比较：单周低于控制下限"
                        f"（均值减 {s.spc_sigma} 倍标准差）、连续 {s.spc_shift_run} 周低于均值或连续 {s.spc_trend_run} 个点下降为"
                        f"变差信号；基线应办结件不足 {s.spc_min_baseline_due} 件的不判断。本周出现信号 {len(report.signals)} 个"),
        LEDGER_SHEET: (f"本周新挂账 {sup.opened} 项，县级反馈 {sup.replied} 项，销号 {sup.closed} 项，退回重办 {sup.returned} 项；"
                       f"目前在办 {sup.in_progress} 项，逾期未反馈 {sup.overdue_replies} 项"),
        CAMPAIGN_SHEET: campaign_notes(report),
        WEEKS_SHEET: (f"本周及此前 {max(len(report.recent_weeks) - 1, 0)} 周（共 {len(report.recent_weeks)} 周）的"
                      f"{report.region_name}指标，每周按其周日读数"),
        "通报文号": b.number,
        "通报标题": b.title,
        "整改反馈期限": f"{b.date}印发，{documents.reply_workdays} 个工作日内，即 {b.due} 前",
        "较上周、较去年同期": "比率的变化以百分点计，按未四舍五入的比率相减后再保留一位小数",
    }
    return pd.DataFrame({"项目": list(items), "内容": list(items.values())})


def _width(value: object) -> float:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WFA" else 1.1 for ch in text)


def write_sheet(ws: Worksheet, frame: pd.DataFrame, formats: dict[str, str] | None = None, *,
                filtered: bool = True) -> None:
    """Header row (bold, filled, filtered; frozen and printed on every page as presentation.spreadsheet lays
    out every sheet), the rows, number formats (whole numbers as such unless `formats` says otherwise), widths
    fitted to the content (CJK counted double), text longer than MAX_WIDTH wrapped."""
    formats = formats or {}
    append_frame(ws, frame)  # every cell through presentation.spreadsheet: an imported text is never a formula
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    if filtered and len(frame.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 1)}"
    for i, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        fmt = formats.get(str(column))
        widths = [_width(column) + 3] + [_width(v) + 2 for v in frame[column].head(500) if not _missing(v)]
        width = min(max(widths), MAX_WIDTH)
        wrap = max(widths) > MAX_WIDTH
        for cell in ws[letter][1:]:
            if fmt:
                cell.number_format = fmt
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[letter].width = max(width, 6)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA or value is pd.NaT


def _core_sheet(ws: Worksheet, frame: pd.DataFrame) -> None:
    """The core metrics: rates as percentages, their changes in points, counts as whole numbers."""
    shown = frame.drop(columns="_rate")
    write_sheet(ws, shown, {"较上周（件/百分点）": POINTS_FORMAT, "较去年同期（件/百分点）": POINTS_FORMAT,
                            "较去年同期（%）": SHARE_FORMAT}, filtered=False)
    for row, is_rate in enumerate(frame["_rate"], start=2):
        for column in ("本周", "上周", "去年同期"):
            cell = ws.cell(row=row, column=list(shown.columns).index(column) + 1)
            cell.number_format = RATE_FORMAT if is_rate else COUNT_FORMAT


def build_workbook(report: WeeklyReport, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
                   issuance: Issuance | None = None) -> bytes:
    """The ledger as XLSX bytes (its notes name the 通报 as issued with `issuance`, or its draft)."""
    wb = new_workbook(f"周例会台账（{report.this_week.start}至{report.this_week.end}）", documents.issuer(report.region_name))
    write_sheet(wb.create_sheet(NOTES_SHEET), notes_rows(report, documents, issuance), filtered=False)
    _core_sheet(wb.create_sheet(CORE_SHEET), core_rows(report))
    write_sheet(wb.create_sheet(WEEKS_SHEET), week_rows(report),
                {METRICS_BY_ID[m].label: RATE_FORMAT for m in WEEKLY_HEADLINE_METRICS if METRICS_BY_ID[m].unit == "%"},
                filtered=False)
    write_sheet(wb.create_sheet(ranking_sheet(report)), unit_rows(report),
                {"按期办结率": RATE_FORMAT, "上周按期办结率": RATE_FORMAT, "群众满意率": RATE_FORMAT,
                 "较上周（百分点）": POINTS_FORMAT})
    write_sheet(wb.create_sheet(OVERDUE_SHEET), case_rows(report.overdue, report))
    write_sheet(wb.create_sheet(NEWLY_OVERDUE_SHEET), case_rows(report.newly_overdue))
    write_sheet(wb.create_sheet(long_overdue_sheet(report)), case_rows(report.long_overdue))
    write_sheet(wb.create_sheet(COUNTY_OVERDUE_SHEET), county_overdue_rows(report))
    write_sheet(wb.create_sheet(OVERDUE_STOCK_SHEET), overdue_stock_rows(report), {"较上周末": "+#,##0;-#,##0;0"})
    labels = PRIORITY_COLUMNS
    write_sheet(wb.create_sheet(PRIORITY_SHEET), priority_rows(report).rename(columns=labels),
                {**{labels[c]: RATE_FORMAT for c in RATE_COLUMNS}, **{labels[c]: "0.00" for c in SCORE_COLUMNS}})
    flagged, points = signal_rows(report)
    write_sheet(wb.create_sheet(SIGNALS_SHEET), flagged, {"基线按期办结率": RATE_FORMAT, "近期按期办结率": RATE_FORMAT})
    write_sheet(wb.create_sheet(P_CHART_SHEET), points,
                {"按期办结率": RATE_FORMAT, "基线均值": RATE_FORMAT, "控制下限": RATE_FORMAT})
    write_sheet(wb.create_sheet(LEDGER_SHEET), ledger_rows(report))
    if report.campaign is not None:
        write_sheet(wb.create_sheet(CAMPAIGN_SHEET), campaign_rows(report.campaign))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
