"""The weekly meeting deck (PPTX): a title slide and one slide per section, charts as images.

Every run carries an East Asian typeface (a:ea) as well as a Latin one, so PowerPoint and WPS draw
the Chinese with a Chinese font instead of falling back per glyph.
"""
from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PptxPresentation
from pptx.slide import Slide
from pptx.text.text import _Run
from pptx.util import Emu, Inches, Length, Pt

from metrics.registry import METRICS_BY_ID
from metrics.weekly import SATISFACTION_METRICS, WEEKLY_HEADLINE_METRICS, Section, Trend, WeeklyReport, trend_of
from presentation.bulletin import bulletin_text
from presentation.format import EMPTY, UNCHANGED, arrow, fmt_value, is_missing
from presentation.palette import GREEN, GREY, VERMILLION

from .charts import section_charts

DECK_TITLE = "信访举报督导周例会"
DECK_FONT = "Microsoft YaHei"  # 微软雅黑: on every Windows desktop; WPS and LibreOffice substitute a CJK font
TITLE_COLOUR = "#1F3864"
HEADER_FILL = "#DCE6F2"
TREND_COLOURS = {Trend.BETTER: GREEN, Trend.WORSE: VERMILLION, Trend.SAME: GREY, Trend.NEUTRAL: "#333333",
                 Trend.UNKNOWN: GREY}
SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
TITLE_ONLY_LAYOUT, TITLE_LAYOUT = 5, 0
CHART_LEFT, CHART_TOP, CHART_WIDTH, CHART_MAX_HEIGHT = Inches(0.3), Inches(1.15), Inches(7.2), Inches(5.75)
SIDE_LEFT, SIDE_WIDTH = Inches(7.7), Inches(5.3)
PRIORITY_ROWS = 14  # rows of the priority table that fit on the slide


def style_run(run: _Run, size: float, bold: bool = False, colour: str | None = None) -> None:
    """Font of a run: Latin and East Asian typeface, size, weight, colour."""
    font = run.font
    font.name = DECK_FONT
    font.size, font.bold = Pt(size), bold
    if colour:
        font.color.rgb = RGBColor.from_string(colour.lstrip("#"))
    rpr = run._r.get_or_add_rPr()
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.find(qn("a:latin")).addnext(ea)
    ea.set("typeface", DECK_FONT)


def _write(frame, lines: list[tuple[str, float, bool, str | None]]) -> None:
    """Replace a text frame's text with one paragraph per (text, size, bold, colour)."""
    frame.clear()
    frame.word_wrap = True
    for i, (text, size, bold, colour) in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(size * 0.4)
        style_run(_run(paragraph, text), size, bold, colour)


def _run(paragraph, text: str) -> _Run:
    run = paragraph.add_run()
    run.text = text
    return run


def _text_box(slide: Slide, left: Length, top: Length, width: Length, height: Length,
              lines: list[tuple[str, float, bool, str | None]]) -> None:
    _write(slide.shapes.add_textbox(left, top, width, height).text_frame, lines)


def _titled_slide(prs: PptxPresentation, title: str, report: WeeklyReport) -> Slide:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    shape = slide.shapes.title
    shape.left, shape.top, shape.width, shape.height = Inches(0.4), Inches(0.2), Inches(12.5), Inches(0.85)
    _write(shape.text_frame, [(title, 28, True, TITLE_COLOUR)])
    shape.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    _text_box(slide, Inches(0.4), Inches(7.0), Inches(12.5), Inches(0.4), [(_footer(report), 10, False, GREY)])
    return slide


def _footer(report: WeeklyReport) -> str:
    this, last = report.this_week, report.last_week
    return (f"本周 {this.start} 至 {this.end}（数据截至 {report.as_of}）　上周 {last.start} 至 {last.end}"
            f"（截至 {last.as_of_date}）")


def _picture(slide: Slide, image: bytes) -> None:
    picture = slide.shapes.add_picture(io.BytesIO(image), CHART_LEFT, CHART_TOP, width=CHART_WIDTH)
    if picture.height > CHART_MAX_HEIGHT:
        picture.width = Emu(int(picture.width * CHART_MAX_HEIGHT / picture.height))
        picture.height = CHART_MAX_HEIGHT


def _table(slide: Slide, rows: list[list[str]], top: Length, widths: list[float], size: float = 12,
           colours: dict[tuple[int, int], str] | None = None) -> None:
    """A table on the right of the slide; first row is the header; `colours` maps (row, col) to a text colour."""
    shape = slide.shapes.add_table(len(rows), len(rows[0]), SIDE_LEFT, top, SIDE_WIDTH, Emu(Inches(0.3) * len(rows)))
    table = shape.table
    for j, width in enumerate(widths):
        table.columns[j].width = Inches(width)
    for i, row in enumerate(rows):
        table.rows[i].height = Inches(0.3)
        for j, text in enumerate(row):
            cell = table.cell(i, j)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            if i == 0:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(HEADER_FILL.lstrip("#"))
            else:
                cell.fill.background()
            paragraph = cell.text_frame.paragraphs[0]
            style_run(_run(paragraph, text), size, i == 0, (colours or {}).get((i, j), "#000000"))


def change_text(metric_id: str, change: float | None) -> str:
    """▲/▼ and the size of a week-on-week change: percentage points for rates, cases for counts."""
    if change is None or is_missing(change):
        return EMPTY
    is_rate = METRICS_BY_ID[metric_id].unit == "%"
    size = f"{abs(change) * 100:.1f}" if is_rate else f"{abs(int(change)):,}"
    if float(size.replace(",", "")) == 0:
        return UNCHANGED
    return f"{arrow(change)} {size}" + (" 个百分点" if is_rate else "")


def _metric_rows(report: WeeklyReport, metric_ids: tuple[str, ...], with_year_ago: bool):
    """Rows (指标, 本周, 上周, 较上周[, 去年同期]) and the colour of each change cell."""
    header = ["指标", "本周", "上周", "较上周"] + (["去年同期"] if with_year_ago else [])
    rows, colours = [header], {}
    for i, mid in enumerate(metric_ids, start=1):
        this, last = report.province[mid], report.province_last[mid]
        change = None if is_missing(this) or is_missing(last) else float(this) - float(last)
        row = [METRICS_BY_ID[mid].label, fmt_value(mid, this), fmt_value(mid, last), change_text(mid, change)]
        if with_year_ago:
            ago = report.province_year_ago
            row.append(fmt_value(mid, ago[mid]) if ago is not None else "无数据")
        rows.append(row)
        colours[(i, 3)] = TREND_COLOURS[trend_of(mid, change)]
    return rows, colours


def title_slide(prs: PptxPresentation, report: WeeklyReport) -> None:
    """Deck title, the two weeks compared and when it was made."""
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_LAYOUT])
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    title.left, title.top, title.width, title.height = Inches(0.8), Inches(2.0), Inches(11.7), Inches(1.4)
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = Inches(0.8), Inches(3.7), Inches(11.7), Inches(2.2)
    _write(title.text_frame, [(DECK_TITLE, 40, True, TITLE_COLOUR)])
    this, last = report.this_week, report.last_week
    _write(subtitle.text_frame, [
        (f"本周：{this.start} 至 {this.end}（数据截至 {report.as_of}）", 20, False, None),
        (f"上周：{last.start} 至 {last.end}（数据截至 {last.as_of_date}）", 20, False, None),
        (f"生成时间：{dt.datetime.now():%Y-%m-%d %H:%M}", 14, False, GREY),
    ])


def kpi_slide(prs: PptxPresentation, report: WeeklyReport, chart: bytes) -> None:
    """Headline KPIs: table with coloured week-on-week change and the year-ago value; bar chart of the rates."""
    slide = _titled_slide(prs, Section.KPIS.label, report)
    _picture(slide, chart)
    with_year_ago = report.year_ago_week is not None
    rows, colours = _metric_rows(report, WEEKLY_HEADLINE_METRICS, with_year_ago)
    widths = [1.9, 0.95, 0.95, 1.5] if not with_year_ago else [1.55, 0.7, 0.7, 1.55, 0.8]
    _table(slide, rows, Inches(1.3), widths, size=11, colours=colours)
    ago = report.year_ago_week
    note = f"去年同期：{ago.start} 至 {ago.end}" if ago is not None else "去年同期：数据未覆盖，不作比较"
    _text_box(slide, SIDE_LEFT, Inches(4.6), SIDE_WIDTH, Inches(1.2),
              [("绿色为较上周改善，红色为变差；▲▼ 为升降方向。", 11, False, GREY), (note, 11, False, GREY)])


def city_slide(prs: PptxPresentation, report: WeeklyReport, chart: bytes) -> None:
    """The units below the region (cities, or a city's counties) by on-time rate with their rank change."""
    slide = _titled_slide(prs, report.section_title(Section.CITIES), report)
    _picture(slide, chart)
    rows, colours = [["排名", report.unit_noun, "按期办结率", "上周排名", "名次变化"]], {}
    for i, row in enumerate(report.units.itertuples(), start=1):
        change = None if pd.isna(row.rank_change) else int(row.rank_change)
        rows.append([_rank(row.rank), row.name, fmt_value("on_time_rate", row.on_time_rate), _rank(row.rank_last),
                     EMPTY if not change else f"{arrow(change)} {abs(change)}"])
        colours[(i, 4)] = GREY if not change else GREEN if change > 0 else VERMILLION
    _table(slide, rows, Inches(1.2), [0.7, 1.1, 1.2, 1.0, 1.1], size=11, colours=colours)


def _rank(value: float | None) -> str:
    return EMPTY if value is None or pd.isna(value) else str(int(value))


def overdue_slide(prs: PptxPresentation, report: WeeklyReport, chart: bytes) -> None:
    """Newly overdue and long-overdue cases, by county."""
    slide = _titled_slide(prs, Section.OVERDUE.label, report)
    _picture(slide, chart)
    h = report.headline("overdue")
    _text_box(slide, SIDE_LEFT, Inches(1.2), SIDE_WIDTH, Inches(1.6), [
        (f"超期未办结：{fmt_value('overdue', h.this_week)} 件（上周末 {fmt_value('overdue', h.last_week)} 件，"
         f"{change_text('overdue', h.change)}）", 14, True, TREND_COLOURS[h.trend]),
        (f"本周新增超期：{len(report.newly_overdue):,} 件", 14, False, None),
        (f"超期 {report.long_overdue_days} 天以上：{len(report.long_overdue):,} 件", 14, False, None),
    ])
    top = report.overdue_by_county.head(10)
    rows = [["县（市、区）", "本周新增", f"超{report.long_overdue_days}天以上"]]
    rows += [[f"{r.city_name}{r.county_name}", f"{r.newly_overdue:,}", f"{r.long_overdue:,}"] for r in top.itertuples()]
    if len(rows) > 1:
        _table(slide, rows, Inches(2.9), [2.7, 1.1, 1.4], size=11)


def priority_slide(prs: PptxPresentation, report: WeeklyReport, chart: bytes) -> None:
    """Priority counties over the rolling year, entries and exits since last week (the sentences are in the ledger)."""
    slide = _titled_slide(prs, Section.PRIORITY.label, report)
    _picture(slide, chart)
    window = report.priority_window
    _text_box(slide, SIDE_LEFT, Inches(1.15), SIDE_WIDTH, Inches(0.8), [
        (f"近 {report.priority_window_months} 个月（{window.start} 至 {window.end}）检验", 12, False, GREY),
        (f"重点督导 {len(report.priority)} 个，本周新列入 {len(report.priority_entered)} 个，"
         f"移出 {len(report.priority_left)} 个", 14, True, None)])
    listed = [(row, "新列入" if row.entered else "持续") for row in report.priority.itertuples()]
    listed += [(row, "本周移出") for row in report.priority_left.itertuples()]
    if not listed:
        return
    rows, colours = [["县（市、区）", "较上周", "初次按期率", "越级率", "得分"]], {}
    for i, (row, change) in enumerate(listed[:PRIORITY_ROWS], start=1):
        rows.append([f"{row.city_name}{row.name}", change, fmt_value("first_on_time_rate", row.first_on_time_rate),
                     fmt_value("leapfrog_rate", row.leapfrog_rate), EMPTY if pd.isna(row.score) else f"{row.score:.2f}"])
        colours[(i, 1)] = VERMILLION if change == "新列入" else GREEN if change == "本周移出" else "#000000"
    _table(slide, rows, Inches(2.1), [1.65, 0.95, 1.0, 0.85, 0.85], size=11, colours=colours)
    if len(listed) > PRIORITY_ROWS:
        _text_box(slide, SIDE_LEFT, Emu(Inches(2.2) + Inches(0.3) * len(rows)), SIDE_WIDTH, Inches(0.4),
                  [(f"另有 {len(listed) - PRIORITY_ROWS} 个，见台账“重点督导县”。", 11, False, GREY)])


def satisfaction_slide(prs: PptxPresentation, report: WeeklyReport, chart: bytes) -> None:
    """Satisfaction and 结而不服, province this week against last week; by city in the chart."""
    slide = _titled_slide(prs, Section.SATISFACTION.label, report)
    _picture(slide, chart)
    rows, colours = _metric_rows(report, SATISFACTION_METRICS, with_year_ago=False)
    _table(slide, rows, Inches(1.3), [1.7, 1.0, 1.0, 1.6], size=12, colours=colours)


def bulletin_slide(prs: PptxPresentation, report: WeeklyReport) -> None:
    """The 通报 paragraph."""
    slide = _titled_slide(prs, Section.BULLETIN.label, report)
    lines: list[tuple[str, float, bool, str | None]] = [(paragraph, 17, False, None)
                                                        for paragraph in bulletin_text(report).split("\n")]
    _text_box(slide, Inches(0.6), Inches(1.2), Inches(12.1), Inches(5.7), lines)


def build_deck(report: WeeklyReport, charts: dict[Section, bytes] | None = None) -> bytes:
    """The deck as PPTX bytes (charts rendered here unless given)."""
    charts = charts if charts is not None else section_charts(report)
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    title_slide(prs, report)
    kpi_slide(prs, report, charts[Section.KPIS])
    city_slide(prs, report, charts[Section.CITIES])
    overdue_slide(prs, report, charts[Section.OVERDUE])
    priority_slide(prs, report, charts[Section.PRIORITY])
    satisfaction_slide(prs, report, charts[Section.SATISFACTION])
    bulletin_slide(prs, report)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()
