"""形势分析报告 as a Word document: 总体情况, 主要特点 (区域 / 领域 / 渠道), 突出问题, and 意见建议 left as a
headed blank for the analysts, with charts drawn in a CJK font. Every number comes from metrics.analysis;
the words from presentation.situation."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from data_access.supervision.document_register import DocumentKind
from metrics.analysis import AnalysisFacts
from metrics.settings import DEFAULT_SETTINGS, Settings
from metrics.trends import TrendBy
from presentation.campaign import matter_domain_paragraph, matter_domain_rows
from presentation.documents import DocumentSettings, Issuance
from presentation.format import cn_count, pct
from presentation.palette import BLUE, GREY
from presentation.situation import (
    SIGNALS_NAMED,
    breakdown_paragraph,
    handling_paragraph,
    hot_spot_paragraphs,
    overall_paragraphs,
    priority_paragraph,
    region_paragraph,
    report_title_parts,
    scope_note,
    signal_lead,
    signal_sentence,
    value_label,
)

from .charts import cjk_style, png
from .docx_form import Letterhead, OfficialDocument

CHART_UNITS = 20  # the units drawn in the region chart (the table lists them all)
BLANK_LINES = 6  # the empty lines under 意见建议 for the analysts to write into


def _bars(title: str, labels: list[str], now: list[int], before: list[int], xlabel: str) -> Figure:
    """Horizontal bars of this period beside the previous one, largest on top."""
    fig = Figure(figsize=(8.0, max(3.0, 0.42 * len(labels) + 1.4)), layout="constrained")
    ax = fig.subplots()
    fig.suptitle(title, fontsize=14, fontweight="bold")
    y = list(range(len(labels)))
    ax.barh([v - 0.2 for v in y], now, height=0.4, color=BLUE, label="本期")
    ax.barh([v + 0.2 for v in y], before, height=0.4, color=GREY, label="上期")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower right", frameon=False)
    for value, pos in zip(now, y, strict=True):
        ax.annotate(str(value), (value, pos - 0.2), xytext=(3, 0), textcoords="offset points", va="center", fontsize=9)
    return fig


def units_chart(facts: AnalysisFacts) -> bytes | None:
    """The units below by received, this period and the previous (the first CHART_UNITS)."""
    if facts.units.empty:
        return None
    top = facts.units.head(CHART_UNITS)
    noun = facts.unit_level.label if facts.unit_level is not None else "地区"
    with cjk_style():
        fig = _bars(f"各{noun}收件（本期与上期）", top["name"].tolist(), top["received"].astype(int).tolist(),
                    top["previous_received"].astype(int).tolist(), "收件（件）")
    return png(fig)


def breakdown_chart(rows: pd.DataFrame, by: TrendBy) -> bytes | None:
    """Received by domain or channel, this period and the previous."""
    if rows.empty:
        return None
    noun = "领域" if by is TrendBy.DOMAIN else "渠道"
    with cjk_style():
        fig = _bars(f"按{noun}收件（本期与上期）", [value_label(by, v) for v in rows["value"]],
                    rows["received"].astype(int).tolist(), rows["previous"].astype(int).tolist(), "收件（件）")
    return png(fig)


def _signed(value: float) -> str:
    return f"{int(value):+d}" if value else "0"


def unit_rows(units: pd.DataFrame, total: int) -> list[list[str]]:
    """地区 | 本期收件 | 上期收件 | 增减 | 占比 | 按期办结率 | 初次举报按期办结率 | 群众满意率 | 超期未办结."""
    return [[str(r["name"]), cn_count(r["received"]), cn_count(r["previous_received"]), _signed(r["change"]),
             pct(r["received"] / total) if total else "—", pct(r["on_time_rate"]), pct(r["first_on_time_rate"]),
             pct(r["satisfaction_rate"]), cn_count(r["overdue"])] for _, r in units.iterrows()]


def breakdown_rows(rows: pd.DataFrame, by: TrendBy) -> list[list[str]]:
    """值 | 本期 | 上期 | 增减 | 占比 | 明显上升, as metrics.trends computed them (the test behind 明显上升 is in the note)."""
    return [[value_label(by, str(r["value"])), cn_count(r["received"]), cn_count(r["previous"]), _signed(r["change"]),
             pct(r["share"]), "是" if bool(r["rising"]) else ""]
            for _, r in rows.iterrows()]


def build_analysis_report(facts: AnalysisFacts, *, documents: DocumentSettings = DocumentSettings(),
                          issuance: Issuance | None = None, settings: Settings = DEFAULT_SETTINGS) -> bytes:
    """The report as .docx bytes, with the number and 成文日期 it is issued with (a draft dated today, the number left
    blank, without one); CJKFontMissing, and no document, when the charts cannot draw Chinese."""
    issuance = issuance or Issuance(dt.date.today())
    number = issuance.number or documents.draft_number(DocumentKind.ANALYSIS, facts.region_name, issuance.dated)
    charts = {"units": units_chart(facts), "domains": breakdown_chart(facts.domains, TrendBy.DOMAIN),
              "channels": breakdown_chart(facts.channels, TrendBy.CHANNEL)}  # drawn first: a font error leaves no file
    total = int(facts.current["received"])
    doc = OfficialDocument(Letterhead(documents.issuer(facts.region_name), number, issuance.dated,
                                      report_title_parts(facts.region_name, facts.period.start, facts.period.end),
                                      kind="形势分析报告"))
    doc.heading("一、总体情况")
    for text in overall_paragraphs(facts):
        doc.paragraph(text)
    doc.heading("二、主要特点")
    ordinal = iter("一二三")
    if facts.unit_level is not None:
        doc.heading(f"（{next(ordinal)}）从区域看", 2)
        doc.paragraph(region_paragraph(facts))
        if (chart := charts["units"]) is not None:
            doc.picture(chart)
        doc.table([facts.unit_level.label, "本期收件", "上期收件", "增减", "占比", "按期办结率", "初次举报按期办结率",
                   "群众满意率", "超期未办结"], unit_rows(facts.units, total))
    for by, rows, key in ((TrendBy.DOMAIN, facts.domains, "domains"), (TrendBy.CHANNEL, facts.channels, "channels")):
        noun = "领域" if by is TrendBy.DOMAIN else "渠道"
        doc.heading(f"（{next(ordinal)}）从{noun}看", 2)
        doc.paragraph(breakdown_paragraph(rows, by, total))
        if (chart := charts[key]) is not None:
            doc.picture(chart, width_mm=140)
        doc.table([noun, "本期收件", "上期收件", "增减", "占比", "明显上升"], breakdown_rows(rows, by))
    doc.heading("三、突出问题")
    doc.heading("（一）部分地区、领域反映集中", 2)
    for text in hot_spot_paragraphs(facts):
        doc.paragraph(text)
    doc.heading("（二）办理质效有待提升", 2)
    doc.paragraph(handling_paragraph(facts, settings.min_volume))
    doc.paragraph(priority_paragraph(facts))
    doc.paragraph(signal_lead(facts, settings.spc_recent_weeks))
    for _, row in facts.signals.head(SIGNALS_NAMED).iterrows():
        doc.paragraph(signal_sentence(row, facts, settings.spc_recent_weeks, settings.spc_baseline_weeks))
    doc.heading("（三）越级重复举报积案", 2)
    doc.paragraph(matter_domain_paragraph(facts.matter_domains, facts.period.as_of_date, facts.region_name))
    if not facts.matter_domains.empty:
        table = matter_domain_rows(facts.matter_domains)
        doc.table(list(table.columns), [[str(v) for v in row] for row in table.itertuples(index=False)])
    doc.heading("四、意见建议")
    doc.blank(BLANK_LINES)
    doc.note(scope_note(facts))
    return doc.to_bytes()


def report_name(region_name: str, start: dt.date, end: dt.date) -> str:
    """形势分析报告_山东省_2026-01-01_2026-06-30.docx."""
    return f"形势分析报告_{region_name}_{start}_{end}.docx"


def write_analysis_report(facts: AnalysisFacts, out_dir: Path, *, documents: DocumentSettings = DocumentSettings(),
                          issuance: Issuance | None = None, settings: Settings = DEFAULT_SETTINGS) -> Path:
    """Write the report, issued with `issuance`, into `out_dir` (created if missing) and return its path."""
    content = build_analysis_report(facts, documents=documents, issuance=issuance, settings=settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / report_name(facts.region_name, facts.period.start, facts.period.end)
    path.write_bytes(content)
    return path
