"""The weekly meeting deck (PPTX, 16:9) for a projector: every slide titled with its one-line takeaway,
every text run at 18 pt or more except the footnotes (footer, slide number), tables split over slides
rather than shrunk, a legend wherever colour means something, speaker notes on every slide.

Every run carries an East Asian typeface (a:ea) as well as a Latin one, so PowerPoint and WPS draw
the Chinese with a Chinese font instead of falling back per glyph. Every number on a slide is in the
workbook of the same pack (reports.workbook), which says where.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PptxPresentation
from pptx.slide import Slide
from pptx.text.text import _Run
from pptx.util import Emu, Inches, Length, Pt

from data_access.supervision.ledger import Status
from metrics.campaign_week import CampaignWeek
from metrics.registry import METRICS_BY_ID, MetricKind
from metrics.weekly import (
    SATISFACTION_METRICS,
    STOCK_COUNTIES,
    WEEKLY_HEADLINE_METRICS,
    HeadlineChange,
    Trend,
    WeeklyReport,
    overdue_by_unit,
    trend_of,
)
from presentation.bulletin import LARGE_YEAR_ON_YEAR, LARGE_YEAR_ON_YEAR_POINTS, bulletin, year_on_year
from presentation.campaign import NO_LEADER, campaign_sentence, state_label
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, DocumentSettings, Issuance
from presentation.format import EMPTY, UNCHANGED, arrow, cn_date, fmt_value, is_missing, pct, rank_text, shown_change
from presentation.palette import GREEN, GREY, VERMILLION

from .charts import deck_png, p_chart_figure, trend_figure

DECK_TITLE = "信访举报督导周例会"
DECK_FONT = "Microsoft YaHei"  # 微软雅黑: on every Windows desktop; WPS and LibreOffice substitute a CJK font
TITLE_COLOUR = "#1F3864"
TEXT_COLOUR = "#000000"
HEADER_FILL = "#DCE6F2"
TREND_COLOURS = {Trend.BETTER: GREEN, Trend.WORSE: VERMILLION, Trend.SAME: TEXT_COLOUR, Trend.NEUTRAL: TEXT_COLOUR,
                 Trend.UNKNOWN: TEXT_COLOUR}
CHANGE_LEGEND = "颜色：绿色为较上周改善，红色为变差；黑色为持平或无好坏之分。"

SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)  # 13.333 in × 7.5 in: PowerPoint's 16:9 widescreen
BLANK_LAYOUT = 6
MARGIN = Inches(0.5)
CONTENT_WIDTH = Emu(SLIDE_WIDTH - 2 * MARGIN)
TITLE_TOP, TITLE_HEIGHT = Inches(0.25), Inches(1.05)
BODY_TOP, BODY_BOTTOM = Inches(1.4), Inches(6.85)
FOOTER_TOP, FOOTER_HEIGHT = Inches(6.95), Inches(0.4)

TITLE_PT, BODY_PT, TABLE_PT, COVER_PT, FOOTNOTE_PT = 26, 20, 18, 40, 12
MIN_PT = 18  # every run except the footnotes
LINE = 1.5  # line height as a multiple of the font size (CJK fonts such as Noto Sans CJK: 1.45)
ROW_HEIGHT = Inches(0.46)
CELL_MARGIN = Inches(0.08)
TABLE_ROWS = 10  # data rows of a table at most (fewer when text above or below it takes room)
FOOTNOTE = "Footnote"  # shape names starting with this hold footnotes (below MIN_PT allowed)
TOP_COUNTIES = 8  # counties with the most long-overdue cases (whole ties kept, up to TABLE_ROWS)
OLDEST_CASES = 8
SIGNALS_PER_SLIDE = 2

Line = tuple[str, float, bool, str | None]  # text, size, bold, colour
TWO_LINE_NOTE: tuple[Line, ...] = (("注" * 60, TABLE_PT, False, None),)  # room kept under a table for a note


# --- text measures (shared with the tests' overflow estimate: CJK and full-width 1 em, the rest 0.6 em) ---

def text_em(text: str) -> float:
    """Width of a line in em: wide (CJK, full-width, ▲▼) characters 1 em, the rest 0.6 em."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.6 for ch in text)


def lines_needed(text: str, size: float, width: Length) -> int:
    """How many lines `text` takes at `size` points in a box `width` wide (no hyphenation: a generous estimate)."""
    per_line = width / 12700 / size * 0.92  # em per line, less what line breaking wastes
    return sum(max(1, math.ceil(text_em(part) / per_line)) for part in text.split("\n"))


# --- drawing primitives ---

def style_run(run: _Run, size: float, bold: bool = False, colour: str | None = None) -> None:
    """Font of a run: Latin and East Asian typeface, size, weight, colour."""
    font = run.font
    font.name = DECK_FONT
    font.size, font.bold = Pt(size), bold
    font.color.rgb = RGBColor.from_string((colour or TEXT_COLOUR).lstrip("#"))
    rpr = run._r.get_or_add_rPr()
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.find(qn("a:latin")).addnext(ea)
    ea.set("typeface", DECK_FONT)


def _write(frame, lines: Sequence[Line], align: PP_ALIGN | None = None) -> None:
    """Replace a text frame's text with one paragraph per (text, size, bold, colour)."""
    frame.clear()
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = Inches(0.05)
    frame.margin_top = frame.margin_bottom = Inches(0.03)
    for i, (text, size, bold, colour) in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(size * 0.3)
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run()
        run.text = text
        style_run(run, size, bold, colour)


def text_box(slide: Slide, left: Length, top: Length, width: Length, height: Length, lines: Sequence[Line],
             align: PP_ALIGN | None = None, name: str | None = None):
    """A text box holding `lines` (named `name`: FOOTNOTE… for footnotes)."""
    shape = slide.shapes.add_textbox(left, top, width, height)
    _write(shape.text_frame, lines, align)
    if name:
        shape.name = name
    return shape


def lines_height(lines: Sequence[Line], width: Length) -> Emu:
    """The height the lines take in a box `width` wide (with the paragraph spacing of _write)."""
    inner = Emu(width - Inches(0.1))
    points = sum(lines_needed(text, size, inner) * size * LINE + size * 0.3 for text, size, _, _ in lines)
    return Emu(int(points * 12700 + Inches(0.1)))


def fit_widths(rows: list[list[str]], total: Length, size: float = TABLE_PT) -> list[Emu]:
    """Column widths that hold every cell on one line at `size`, the spare width shared out; ValueError when
    the columns cannot fit (split the table or shorten the text rather than shrink the type)."""
    needed = [max(text_em(row[j]) for row in rows) * size * 12700 + 2 * CELL_MARGIN + Inches(0.12)
              for j in range(len(rows[0]))]
    spare = total - sum(needed)
    if spare < 0:
        raise ValueError(f"table too wide at {size} pt: {[r[:3] for r in rows[:2]]}")
    return [Emu(int(w + spare * w / sum(needed))) for w in needed]


@dataclass
class Cells:
    """A table's text with the colour of single cells and of whole rows (header: row 0)."""

    rows: list[list[str]]
    colours: dict[tuple[int, int], str] = field(default_factory=dict)
    row_colours: dict[int, str] = field(default_factory=dict)
    numeric: set[int] = field(default_factory=set)  # columns aligned right


def table(slide: Slide, cells: Cells, top: Length, width: Length = CONTENT_WIDTH, left: Length = MARGIN) -> Emu:
    """A table at `top`: header filled and bold, one line per cell at TABLE_PT; returns its bottom."""
    rows = cells.rows
    widths = fit_widths(rows, width)
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, Emu(ROW_HEIGHT * len(rows)))
    grid = shape.table
    for j, w in enumerate(widths):
        grid.columns[j].width = w
    for i, row in enumerate(rows):
        grid.rows[i].height = ROW_HEIGHT
        for j, text in enumerate(row):
            cell = grid.cell(i, j)
            cell.margin_left = cell.margin_right = CELL_MARGIN
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            if i == 0:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(HEADER_FILL.lstrip("#"))
            else:
                cell.fill.background()
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.alignment = PP_ALIGN.RIGHT if j in cells.numeric and i else PP_ALIGN.LEFT
            run = paragraph.add_run()
            run.text = text
            colour = cells.colours.get((i, j)) or cells.row_colours.get(i)
            style_run(run, TABLE_PT, i == 0, colour)
    return Emu(top + ROW_HEIGHT * len(rows))


def pages(frame: pd.DataFrame, size: int = TABLE_ROWS) -> list[pd.DataFrame]:
    """A frame in slices of at most `size` rows (one slice, maybe empty, at least)."""
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)] or [frame]


def rows_fit(top: Length, below: Sequence[Line] = ()) -> int:
    """How many data rows (under a header) fit between `top` and the lines `below` the table."""
    room = BODY_BOTTOM - top - (lines_height(below, CONTENT_WIDTH) + Inches(0.1) if below else 0)
    return max(1, min(TABLE_ROWS, int(room // ROW_HEIGHT) - 1))


def cut_at_ties(frame: pd.DataFrame, column: str, limit: int, room: int = TABLE_ROWS) -> tuple[pd.DataFrame, int]:
    """The first `limit` rows of a frame sorted by `column` (descending), extended to the whole group tied
    with the last row when it fits in `room`; else cut before that group. Returns the rows and how many
    rows tied with the cut were left out (to be said, never dropped silently)."""
    if len(frame) <= limit:
        return frame, 0
    boundary = frame[column].iloc[limit - 1]
    if frame[column].iloc[limit] != boundary:
        return frame.head(limit), 0
    above = frame[frame[column] > boundary]
    tied = frame[frame[column] == boundary]
    if len(above) + len(tied) <= room:
        return pd.concat([above, tied]), 0
    if above.empty:  # the first group is already too big: as many as fit, the rest said
        return tied.head(room), len(tied) - room
    return above, len(tied)


def change_text(metric_id: str, change: float | None) -> str:
    """▲/▼ and the size of a week-on-week change: percentage points for rates, cases for counts."""
    if change is None or is_missing(change):
        return EMPTY
    is_rate = METRICS_BY_ID[metric_id].unit == "%"
    size = f"{abs(change) * 100:.1f}" if is_rate else f"{abs(int(change)):,}"
    if float(size.replace(",", "")) == 0:
        return UNCHANGED
    return f"{arrow(change)} {size}" + (" 个百分点" if is_rate else " 件")


def move_words(metric_id: str, change: float | None) -> str:
    """"降 2.1 个百分点" / "增 5 件" / "持平" for a title."""
    if change is None or is_missing(change):
        return "无法比较"
    is_rate = METRICS_BY_ID[metric_id].unit == "%"
    size = f"{abs(change) * 100:.1f}" if is_rate else f"{abs(int(change)):,}"
    if float(size.replace(",", "")) == 0:
        return "持平"
    verb = ("升" if change > 0 else "降") if is_rate else ("增" if change > 0 else "减")
    return f"{verb} {size}" + (" 个百分点" if is_rate else " 件")


def week_move(metric_id: str, h: HeadlineChange) -> str:
    """move_words of a headline's change as the two shown values give it."""
    return move_words(metric_id, shown_change(metric_id, h.this_week, h.last_week))


def base_text(metric_id: str, row: pd.Series) -> str:
    """What a rate is computed over, e.g. 应办结件 38; empty for counts."""
    metric = METRICS_BY_ID[metric_id]
    if metric.kind is not MetricKind.RATE or metric.denominator is None:
        return ""
    value = row[metric.denominator]
    return f"{METRICS_BY_ID[metric.denominator].label} {EMPTY if is_missing(value) else int(value)}"


# --- the deck ---

@dataclass
class Deck:
    """The presentation being built, the report it shows and the documents settings (issuing office)."""

    report: WeeklyReport
    documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS
    issuance: Issuance | None = None  # the 通报's number, date and deadline once issued; None: its draft
    prs: PptxPresentation = field(default_factory=Presentation)

    def __post_init__(self) -> None:
        self.prs.slide_width, self.prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
        size = self.prs.part._element.find(qn("p:sldSz"))
        size.attrib.pop("type", None)  # the template says screen4x3; without a type the size itself is the truth

    @property
    def issuer(self) -> str:
        """Who issues the pack."""
        return self.documents.issuer(self.report.region_name)

    def slide(self, title: str, notes: str) -> Slide:
        """A blank slide with its takeaway as the title and the speaker notes."""
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[BLANK_LAYOUT])
        shape = text_box(slide, MARGIN, TITLE_TOP, CONTENT_WIDTH, TITLE_HEIGHT, [(title, TITLE_PT, True, TITLE_COLOUR)],
                         name="Title")
        shape.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        slide.notes_slide.notes_text_frame.text = notes
        return slide

    def footers(self) -> None:
        """Footnote line and slide number on every slide but the cover (done last: it needs the count)."""
        total = len(self.prs.slides)
        this = self.report.this_week
        source = (f"{self.issuer}　本周 {this.start} 至 {this.end}，数据截至 {self.report.as_of}　"
                  f"明细见周例会台账")
        for number, slide in enumerate(self.prs.slides, start=1):
            if number > 1:
                text_box(slide, MARGIN, FOOTER_TOP, Emu(CONTENT_WIDTH - Inches(1.5)), FOOTER_HEIGHT,
                         [(source, FOOTNOTE_PT, False, GREY)], name=f"{FOOTNOTE} source")
            text_box(slide, Emu(SLIDE_WIDTH - MARGIN - Inches(1.4)), FOOTER_TOP, Inches(1.4), FOOTER_HEIGHT,
                     [(f"{number} / {total}", FOOTNOTE_PT, False, GREY)], align=PP_ALIGN.RIGHT, name=f"{FOOTNOTE} page")

    def save(self) -> bytes:
        """The deck as PPTX bytes, its properties naming the issuing office (python-pptx's template names its author)."""
        self.footers()
        props = self.prs.core_properties
        props.author = props.last_modified_by = self.issuer
        props.title = f"{DECK_TITLE}（{self.report.this_week.start}至{self.report.this_week.end}）"
        props.created = props.modified = dt.datetime.now().replace(microsecond=0)
        props.revision = 1
        buf = io.BytesIO()
        self.prs.save(buf)
        return buf.getvalue()


def _body(slide: Slide, top: Length, lines: Sequence[Line], width: Length = CONTENT_WIDTH,
          left: Length = MARGIN) -> Emu:
    """Text lines at `top`, the box as tall as they need; returns its bottom."""
    height = lines_height(lines, width)
    text_box(slide, left, top, width, height, lines)
    return Emu(top + height)


def cover(deck: Deck) -> None:
    """Who issues the pack, for whom, and the two weeks compared."""
    r = deck.report
    slide = deck.prs.slides.add_slide(deck.prs.slide_layouts[BLANK_LAYOUT])
    this, last = r.this_week, r.last_week
    text_box(slide, MARGIN, Inches(1.6), CONTENT_WIDTH, Inches(1.2), [(DECK_TITLE, COVER_PT, True, TITLE_COLOUR)],
             align=PP_ALIGN.CENTER, name="Title")
    lines: list[Line] = [
        (deck.issuer, 28, True, None),
        (f"本周：{this.start} 至 {this.end}（数据截至 {r.as_of}）", BODY_PT, False, None),
        (f"对比：上周 {last.start} 至 {last.end}（截至 {last.as_of_date}）", BODY_PT, False, None),
        (f"范围：{r.region_name}" + (f"及所辖各{r.unit_noun}" if r.ranks_units else ""), BODY_PT, False, None),
    ]
    text_box(slide, MARGIN, Inches(3.1), CONTENT_WIDTH, lines_height(lines, CONTENT_WIDTH), lines, align=PP_ALIGN.CENTER)
    text_box(slide, MARGIN, Inches(6.3), Emu(CONTENT_WIDTH - Inches(1.5)), FOOTER_HEIGHT,
             [(f"生成时间 {dt.datetime.now():%Y-%m-%d %H:%M}，由周例会材料程序按数据库数据生成", FOOTNOTE_PT, False, GREY)],
             name=f"{FOOTNOTE} made")
    slide.notes_slide.notes_text_frame.text = (f"{deck.issuer}周例会材料。本周为 {this.start} 至 {this.end}，"
                                               f"与上周 {last.start} 至 {last.end} 比较。")


def headline_title(r: WeeklyReport) -> str:
    """按期办结率 87.9%，较上周降 2.1 个百分点；超期未办结增至 450 件."""
    rate, overdue = r.headline("on_time_rate"), r.headline("overdue")
    first = (f"按期办结率 {pct(rate.this_week)}，较上周{week_move('on_time_rate', rate)}"
             if rate.this_week is not None else "本周没有应办结件")
    if overdue.change is None or overdue.change == 0:
        second = f"超期未办结 {fmt_value('overdue', overdue.this_week)} 件，与上周末持平"
    else:
        second = f"超期未办结{'增' if overdue.change > 0 else '减'}至 {fmt_value('overdue', overdue.this_week)} 件"
    return f"{first}；{second}"


def metric_cells(r: WeeklyReport, metric_ids: Sequence[str]) -> Cells:
    """指标, 本周, 上周, 较上周, 去年同期, 本周计算基数: the change coloured by better/worse."""
    with_ago = r.province_year_ago is not None
    cells = Cells([["指标", "本周", "上周", "较上周", "去年同期", "本周计算基数"]], numeric={1, 2, 4})
    for i, mid in enumerate(metric_ids, start=1):
        this, last = r.province[mid], r.province_last[mid]
        change = shown_change(mid, this, last)
        ago = fmt_value(mid, r.province_year_ago[mid]) if with_ago and r.province_year_ago is not None else "无数据"
        cells.rows.append([METRICS_BY_ID[mid].label, fmt_value(mid, this), fmt_value(mid, last), change_text(mid, change),
                           ago, base_text(mid, r.province) or "—"])
        cells.colours[(i, 3)] = TREND_COLOURS[trend_of(mid, change)]
    return cells


def kpi_slide(deck: Deck) -> None:
    """The headline metrics: this week, last week, the change, a year ago and what each rate is computed over."""
    r = deck.report
    slide = deck.slide(headline_title(r), "核心指标。" + headline_title(r) + "。较上周一列：绿色为改善，红色为变差。"
                       "比率旁列出计算基数，基数小时一两件即可使比率大幅波动。")
    bottom = table(slide, metric_cells(r, WEEKLY_HEADLINE_METRICS), BODY_TOP)
    ago = r.year_ago_week
    note = f"去年同期为 {ago.start} 至 {ago.end}。" if ago is not None else "去年同期：数据未覆盖，不作比较。"
    _body(slide, Emu(bottom + Inches(0.15)), [(CHANGE_LEGEND + note, TABLE_PT, False, None)])


def large_changes(r: WeeklyReport) -> list[str]:
    """The headline metrics far from a year ago, in words (empty when none is)."""
    out = []
    for metric_id in WEEKLY_HEADLINE_METRICS:
        words = year_on_year(r, metric_id)
        if words:
            out.append(f"{METRICS_BY_ID[metric_id].label} {fmt_value(metric_id, r.headline(metric_id).this_week)}，{words}")
    return out


def trend_slide(deck: Deck) -> None:
    """The last weeks as small lines, and what stands far from a year ago."""
    r = deck.report
    weeks = r.recent_weeks
    n = len(weeks)
    if n and pd.notna(weeks["on_time_rate"].iloc[0]) and pd.notna(weeks["on_time_rate"].iloc[-1]):
        title = (f"近 {n} 周：按期办结率由 {pct(weeks['on_time_rate'].iloc[0])} 到 {pct(weeks['on_time_rate'].iloc[-1])}，"
                 f"超期未办结由 {int(weeks['overdue'].iloc[0])} 件到 {int(weeks['overdue'].iloc[-1])} 件")
    else:
        title = f"近 {n} 周走势"
    changes = large_changes(r)
    slide = deck.slide(title, title + "。" + ("；".join(changes) + "。" if changes else "与去年同期相比没有大的变化。"))
    size = (CONTENT_WIDTH / 914400, 2.9)
    image = deck_png(lambda: trend_figure(r, size))
    slide.shapes.add_picture(io.BytesIO(image), MARGIN, BODY_TOP, width=CONTENT_WIDTH)
    top = Emu(BODY_TOP + Inches(3.0))
    if r.year_ago_week is None:
        text = "去年同期：数据未覆盖，不作比较。"
    elif changes:
        text = ""
        for k in range(len(changes), 0, -1):  # as many as fit, the rest pointed to
            more = f"；另有 {len(changes) - k} 项见台账“核心指标”表" if k < len(changes) else ""
            text = "与去年同期相比变化较大的：" + "；".join(changes[:k]) + more + "。"
            if Emu(top + lines_height([(text, TABLE_PT, False, None)], CONTENT_WIDTH)) <= BODY_BOTTOM:
                break
    else:
        text = (f"与去年同期相比：件数变化均在 {LARGE_YEAR_ON_YEAR:.0%} 以内，比率变化均在 "
                f"{LARGE_YEAR_ON_YEAR_POINTS * 100:.0f} 个百分点以内。")
    _body(slide, top, [(text, TABLE_PT, False, None)])


def _rule(r: WeeklyReport) -> str:
    return (f"排名规则：按本周按期办结率从高到低，比率相同者并列；应办结件不足 {r.min_due_to_compare} 件的"
            f"{r.unit_noun}灰色、不排名。")


def ranking_title(r: WeeklyReport) -> str:
    """Who leads and who trails among the ranked units, ties named as ties."""
    ranked = r.units[r.units["ranked"]]
    if ranked.empty:
        return f"各{r.unit_noun}本周应办结件均不足 {r.min_due_to_compare} 件，本周不排名"
    top = ranked[ranked["rank"] == 1]
    names = "、".join(top["name"]) if len(top) <= 3 else f"{len(top)} 个{r.unit_noun}"
    lead = names + ("并列第 1" if len(top) > 1 else "第 1") + f"（{pct(top['on_time_rate'].iloc[0])}）"
    last = ranked[ranked["rank"] == ranked["rank"].max()]
    if len(top) == len(ranked):
        return f"{len(ranked)} 个{r.unit_noun}参与排名，均为 {pct(top['on_time_rate'].iloc[0])}，并列第 1"
    tail = "、".join(last["name"].head(3)) + ("等" if len(last) > 3 else "") + f"末位（{pct(last['on_time_rate'].iloc[0])}）"
    return f"{len(ranked)} 个{r.unit_noun}参与排名：{lead}，{tail}"


def ranking_slides(deck: Deck) -> None:
    """The units below the region by on-time rate, with their due cases; small units grey and unranked."""
    r = deck.report
    if not r.ranks_units:
        return
    title = ranking_title(r)
    notes = (title + "。" + _rule(r) + "一两件即可使比率大起大落，所以件数少的不排名。"
             "名次变化为较上周名次的升降，按期办结率的升降见最后一列。")
    rule: list[Line] = [(_rule(r), TABLE_PT, False, None)]
    legend: list[Line] = [(f"末列绿色为较上周上升、红色为下降；灰色行应办结件不足 {r.min_due_to_compare} 件、不排名。",
                           TABLE_PT, False, None)]
    for k, part in enumerate(pages(r.units, rows_fit(Emu(BODY_TOP + lines_height(rule, CONTENT_WIDTH)), legend))):
        slide = deck.slide(title if k == 0 else f"{title}（续）", notes)
        top = _body(slide, BODY_TOP, rule)
        cells = Cells([["名次", r.unit_noun, "应办结件", "按期办结率", "上周名次", "名次变化", "较上周"]], numeric={2, 3})
        for i, row in enumerate(part.itertuples(), start=1):
            change = None if pd.isna(row.rank_change) else int(row.rank_change)
            moved = EMPTY if change is None else ("不变" if change == 0 else f"{arrow(change)} {abs(change)}")
            cells.rows.append([rank_text(row.rank, bool(row.tied)), str(row.name), f"{int(row.due)}",
                               fmt_value("on_time_rate", row.on_time_rate), rank_text(row.rank_last, False).replace(
                                   "不排名", EMPTY), moved,
                               change_text("on_time_rate", shown_change("on_time_rate", row.on_time_rate, row.on_time_rate_last))])
            if not row.ranked:
                cells.row_colours[i] = GREY
            else:
                cells.colours[(i, 6)] = TREND_COLOURS[trend_of("on_time_rate", row.rate_change)]
        bottom = table(slide, cells, top)
        _body(slide, Emu(bottom + Inches(0.1)), legend)


def overdue_title(r: WeeklyReport) -> str:
    """超期未办结 450 件，较上周末增 12 件；本周新增 15 件，超期 90 天以上 338 件."""
    h = r.headline("overdue")
    return (f"超期未办结 {fmt_value('overdue', h.this_week)} 件，较上周末{move_words('overdue', h.change)}；"
            f"本周新增 {len(r.newly_overdue)} 件，超期 {r.long_overdue_days} 天以上 {len(r.long_overdue)} 件")


def overdue_slides(deck: Deck) -> None:
    """Overdue by unit with the week-on-week change."""
    r = deck.report
    title = overdue_title(r)
    frame = overdue_by_unit(r)
    legend: list[Line] = [("颜色：较上周末一列红色为增加（变差），绿色为减少（改善）。", TABLE_PT, False, None)]
    for k, part in enumerate(pages(frame, rows_fit(BODY_TOP, legend))):
        slide = deck.slide(title if k == 0 else f"{title}（续）", title + f"。按{r.unit_noun}列出超期未办结件及较上周末的增减，"
                           "按件数从多到少排列。")
        cells = Cells([[r.unit_noun, "超期未办结", "上周末", "较上周末", f"其中超期{r.long_overdue_days}天以上", "本周新增超期"]],
                      numeric={1, 2, 4, 5})
        for i, row in enumerate(part.itertuples(), start=1):
            cells.rows.append([str(row.name), f"{int(row.overdue)}", f"{int(row.overdue_last)}",
                               change_text("overdue", row.overdue_change), f"{row.long_overdue}", f"{row.newly_overdue}"])
            cells.colours[(i, 3)] = TREND_COLOURS[trend_of("overdue", float(row.overdue_change))]
        bottom = table(slide, cells, BODY_TOP)
        _body(slide, Emu(bottom + Inches(0.1)), legend)


def overdue_stock_title(r: WeeklyReport) -> str:
    """超期未办结初次举报 88 件（54 个县（市、区）），较上周末增 3 件，已挂账督办 5 件: the page's line and the slide's title."""
    total, change, supervised = r.overdue_stock_totals
    return (f"超期未办结初次举报 {total:,} 件（{len(r.overdue_stock_listed)} 个县（市、区）），较上周末{move_words('overdue', change)}，"
            f"已挂账督办 {supervised:,} 件")


def overdue_stock_note(r: WeeklyReport) -> str:
    """What the slide leaves out of the stock, and where it is (the workbook's notes say the same)."""
    counties, cases, supervised = r.overdue_stock_rest
    rest = f"另有 {counties} 个县（市、区）共 {cases} 件（其中已挂账督办 {supervised} 件）未列出；" if counties else ""
    return rest + "全部县（市、区）见台账“各县超期初次举报”表。"


def overdue_stock_slide(deck: Deck) -> None:
    """Each county's overdue first reports, most first: the change on last week and how many are already under a
    督办 item; the top STOCK_COUNTIES, the rest said in a note."""
    r = deck.report
    title = overdue_stock_title(r)
    slide = deck.slide(title, title + "。按县（市、区）列出截至本日超期未办结的初次举报件、较上周末的增减和已挂账督办的件数，"
                       "按件数从多到少排列。")
    if r.overdue_stock_listed.empty:
        return
    cells = Cells([["县（市、区）", "所属市", "超期未办结初次举报", "较上周末", "已挂账督办"]], numeric={2, 4})
    for i, row in enumerate(r.overdue_stock_listed.head(STOCK_COUNTIES).itertuples(), start=1):
        cells.rows.append([str(row.county_name), str(row.city_name), f"{int(row.overdue)}",
                           change_text("overdue", row.overdue_change), f"{int(row.supervised)}"])
        cells.colours[(i, 3)] = TREND_COLOURS[trend_of("overdue", float(row.overdue_change))]
    bottom = table(slide, cells, BODY_TOP)
    _body(slide, Emu(bottom + Inches(0.1)), [(overdue_stock_note(r), TABLE_PT, False, None)])


def long_overdue_slide(deck: Deck) -> None:
    """The counties with the most long-overdue cases; a tie at the cut kept whole or said."""
    r = deck.report
    counties = r.overdue_by_county[r.overdue_by_county["long_overdue"] > 0]
    shown, left_out = cut_at_ties(counties, "long_overdue", TOP_COUNTIES, rows_fit(BODY_TOP, TWO_LINE_NOTE))
    days = r.long_overdue_days
    if shown.empty:
        title = f"没有超期 {days} 天以上的件"
    else:
        first = shown.iloc[0]
        title = (f"超期 {days} 天以上的件分布在 {len(counties)} 个县（市、区），最多的是"
                 f"{first['city_name']}{first['county_name']}（{int(first['long_overdue'])} 件）")
    slide = deck.slide(title, title + f"。列出超期 {days} 天以上件数最多的县（市、区），件数相同的一并列出。")
    if shown.empty:
        return
    cells = Cells([["县（市、区）", "所属市", f"超期{days}天以上", "本周新增超期"]], numeric={2, 3})
    cells.rows += [[str(row.county_name), str(row.city_name), f"{row.long_overdue}", f"{row.newly_overdue}"]
                   for row in shown.itertuples()]
    bottom = table(slide, cells, BODY_TOP)
    rest = len(counties) - len(shown)
    if rest:
        note = (f"另有 {left_out} 个县（市、区）同为 {int(counties['long_overdue'].iloc[len(shown)])} 件未列出；"
                if left_out else "") + f"全部 {len(counties)} 个县（市、区）见台账“各县超期”表。"
        _body(slide, Emu(bottom + Inches(0.1)), [(note, TABLE_PT, False, None)])


def oldest_slide(deck: Deck) -> None:
    """The open cases longest past their due date."""
    r = deck.report
    if r.overdue.empty:
        return
    shown, left_out = cut_at_ties(r.overdue, "days_overdue", OLDEST_CASES, rows_fit(BODY_TOP, TWO_LINE_NOTE))
    first = shown.iloc[0]
    title = (f"超期最久的件已超期 {int(first['days_overdue'])} 天（{first['city_name']}{first['county_name']}，"
             f"件号 {first['case_id']}）")
    slide = deck.slide(title, title + "。以下为超期天数最多的未办结件，请承办单位说明原因和办结时限。")
    cells = Cells([["件号", "承办单位", "收件日期", "办理期限", "超期天数"]], numeric={4})
    cells.rows += [[str(row.case_id), f"{row.city_name}{row.county_name}", str(row.received_date), str(row.due_date),
                    f"{int(row.days_overdue)}"] for row in shown.itertuples()]
    bottom = table(slide, cells, BODY_TOP)
    note = (f"另有 {left_out} 件同为 {int(r.overdue['days_overdue'].iloc[len(shown)])} 天，未列出；" if left_out else "") + \
        f"全部 {len(r.overdue)} 件超期未办结件见台账“超期未办结”表。"
    _body(slide, Emu(bottom + Inches(0.1)), [(note, TABLE_PT, False, None)])


def priority_criteria(r: WeeklyReport) -> str:
    """The 重点督导 rule in plain words."""
    s = r.settings
    return (f"列入标准：近 {r.priority_window_months} 个月，初次举报按期办结率明显低于全省、同时越级举报率明显高于全省"
            f"（两项都超出按件数算的正常波动范围，即 95% 控制限）；初次举报应办结件或检举控告件不足 {s.min_volume} 件的不检验。")


def priority_slides(deck: Deck) -> None:
    """Priority counties, entries and exits, with the rates they were tested on and the case counts behind them."""
    r = deck.report
    listed = [(row, "新列入" if row.entered else "持续列入") for row in r.priority.itertuples()]
    listed += [(row, "本周移出") for row in r.priority_left.itertuples()]
    if r.priority.empty:
        title = "本周没有县（市、区）列为重点督导" + (f"，{len(r.priority_left)} 个移出" if len(r.priority_left) else "")
    else:
        names = "、".join(f"{row.city_name}{row.name}" for row in r.priority.head(3).itertuples())
        title = f"重点督导县 {len(r.priority)} 个：{names}" + ("等" if len(r.priority) > 3 else "")
        changes = ([f"新列入 {len(r.priority_entered)} 个"] if len(r.priority_entered) else []) + \
                  ([f"移出 {len(r.priority_left)} 个"] if len(r.priority_left) else [])
        title += "（" + ("，".join(changes) if changes else "与上周相同") + "）"
    notes = title + "。" + priority_criteria(r)
    room = rows_fit(Emu(BODY_TOP + lines_height([(priority_criteria(r), TABLE_PT, False, None)], CONTENT_WIDTH)))
    chunks = [listed[i:i + room] for i in range(0, len(listed), room)] or [[]]
    for k, chunk in enumerate(chunks):
        slide = deck.slide(title if k == 0 else f"{title}（续）", notes)
        top = _body(slide, BODY_TOP, [(priority_criteria(r), TABLE_PT, False, None)])
        if not chunk:
            continue
        cells = Cells([["县（市、区）", "较上周", "初次举报按期办结率", "初次举报应办结件", "越级举报率", "检举控告件"]],
                      numeric={2, 3, 4, 5})
        for row, change in chunk:
            cells.rows.append([f"{row.city_name}{row.name}", change, fmt_value("first_on_time_rate", row.first_on_time_rate),
                               f"{int(row.first_due)}", fmt_value("leapfrog_rate", row.leapfrog_rate), f"{int(row.accepted)}"])
        table(slide, cells, top)


def satisfaction_slide(deck: Deck) -> None:
    """Satisfaction and 结而不服 this week against last week."""
    r = deck.report
    h, disputed = r.headline("satisfaction_rate"), r.headline("disputed")
    title = (f"群众满意率 {pct(h.this_week)}，较上周{week_move('satisfaction_rate', h)}；"
             f"结而不服 {fmt_value('disputed', disputed.this_week)} 件") if h.this_week is not None else "本周没有参评件"
    slide = deck.slide(title, title + "。各单位满意率见台账“各单位排名”表。")
    bottom = table(slide, metric_cells(r, SATISFACTION_METRICS), BODY_TOP)
    _body(slide, Emu(bottom + Inches(0.1)), [(CHANGE_LEGEND, TABLE_PT, False, None)])


def signal_rule(r: WeeklyReport) -> str:
    """How a deterioration signal is found, in plain words."""
    s = r.settings
    return (f"判断方法：各县近 {s.spc_recent_weeks} 周每周按期办结率，与此前 {s.spc_baseline_weeks} 周的平均水平比较；"
            f"某一周低于控制下限、连续 {s.spc_shift_run} 周低于平均水平或连续 {s.spc_trend_run} 个点下降，即为变差信号"
            f"（此前应办结件不足 {s.spc_min_baseline_due} 件的县不判断）。")


def signal_slides(deck: Deck) -> None:
    """The counties with a deterioration signal, their p-charts and the sentence of each."""
    r = deck.report
    flagged = r.signals.set_index("code") if not r.signals.empty else r.signals
    codes = list(r.signal_charts)
    if not codes:
        title = f"近 {r.settings.spc_recent_weeks} 周没有县（市、区）出现按期办结率变差信号"
        slide = deck.slide(title, title + "。" + signal_rule(r))
        _body(slide, BODY_TOP, [(signal_rule(r), BODY_PT, False, None)])
        return
    title = f"{len(r.signals)} 个县（市、区）按期办结率出现变差信号"
    for k in range(0, len(codes), SIGNALS_PER_SLIDE):
        chunk = codes[k:k + SIGNALS_PER_SLIDE]
        sentences = [str(flagged.loc[c, "sentence"]) for c in chunk]
        slide = deck.slide(title if k == 0 else f"{title}（续）", title + "。" + signal_rule(r) + "".join(sentences))
        top = _body(slide, BODY_TOP, [(signal_rule(r), TABLE_PT, False, None)])
        frames = [(str(flagged.loc[c, "name"]), r.signal_charts[c]) for c in chunk]
        size = (CONTENT_WIDTH / 914400, 2.6)
        image = deck_png(functools.partial(p_chart_figure, frames, size))
        slide.shapes.add_picture(io.BytesIO(image), MARGIN, top, width=CONTENT_WIDTH)
        _body(slide, Emu(top + Inches(2.65)), [(s, TABLE_PT, False, None) for s in sentences])
    if len(r.signals) > len(codes):
        deck.prs.slides[-1].notes_slide.notes_text_frame.text += f"另有 {len(r.signals) - len(codes)} 个县见台账“变差信号”表。"


def supervision_slide(deck: Deck) -> None:
    """The 督办台账's week: opened, fed back, closed (销号), returned, in progress, overdue replies; the late ones."""
    r = deck.report
    s = r.supervision
    if not s.any:
        title = "督办台账：本周没有新挂账或在办的督办事项"
    else:
        title = (f"督办台账：本周新挂账 {s.opened} 项、销号 {s.closed} 项；在办 {s.in_progress} 项"
                 + (f"，其中逾期未反馈 {s.overdue_replies} 项" if s.overdue_replies else ""))
    slide = deck.slide(title, title + "。逾期未反馈的事项请承办单位当场说明。")
    cells = Cells([["本周新挂账", "县级反馈", "销号", "退回重办", "目前在办", "逾期未反馈"]], numeric=set(range(6)))
    cells.rows.append([f"{s.opened}", f"{s.replied}", f"{s.closed}", f"{s.returned}", f"{s.in_progress}",
                       f"{s.overdue_replies}"])
    if s.overdue_replies:
        cells.colours[(1, 5)] = VERMILLION
    bottom = table(slide, cells, BODY_TOP)
    items = r.ledger_items
    if items.empty:
        return
    pending = items[items["status"] != Status.CLOSED.value].head(TABLE_ROWS - 4)
    if pending.empty:
        return
    listed = Cells([["承办单位", "督办事项", "反馈期限", "状态"]])
    for i, row in enumerate(pending.itertuples(), start=1):
        listed.rows.append([f"{row.city_name}{row.county_name}", _short(str(row.title), 18), str(row.reply_due),
                            "逾期未反馈" if row.overdue_reply else Status(row.status).label])
        if row.overdue_reply:
            listed.colours[(i, 3)] = VERMILLION
    bottom = table(slide, listed, Emu(bottom + Inches(0.3)))
    _body(slide, Emu(bottom + Inches(0.05)), [("红色：逾期未反馈。全部事项见台账“督办台账”表。", TABLE_PT, False, None)])


def campaign_title(week: CampaignWeek) -> str:
    """专项治理：纳入 12 件，本周新纳入 2 件、化解 1 件、案结事了 0 件；超期未化解 3 件，反弹 1 件."""
    return f"专项治理：{campaign_sentence(week)}"


def campaign_slide(deck: Deck) -> None:
    """越级重复举报专项治理 in the week (metrics.campaign_week, as the page's section): the six counts, then the matters
    past their deadline or relapsed, as many as fit, the rest said."""
    week = deck.report.campaign
    if week is None:
        return
    title = campaign_title(week)
    slide = deck.slide(title, title + "。超期未化解和反弹的事项请包案领导所在单位说明进展和下一步措施。")
    counts = week.counts.labelled()
    cells = Cells([list(counts), [f"{n}" for n in counts.values()]], numeric=set(range(len(counts))))
    for j, label in enumerate(counts):
        if label in ("超期未化解", "反弹") and counts[label]:
            cells.colours[(1, j)] = VERMILLION
    bottom = table(slide, cells, BODY_TOP)
    named = week.attention
    if named.empty:
        return
    room = rows_fit(Emu(bottom + Inches(0.3)), TWO_LINE_NOTE)
    listed = Cells([["事项编号", "承办单位", "状态", "包案领导", "限期办结", "情况"]])
    for i, row in enumerate(named.head(room).itertuples(), start=1):
        marks = "、".join(mark for mark, on in (("超期", row.overdue), ("反弹", row.relapse)) if on)
        listed.rows.append([_short(str(row.matter), 20), f"{row.city_name}{row.county_name}", state_label(str(row.state)),
                            _short(str(row.leader) or NO_LEADER, 12), str(row.deadline), marks])
        listed.colours[(i, 5)] = VERMILLION
    bottom = table(slide, listed, Emu(bottom + Inches(0.3)))
    rest = len(named) - min(room, len(named))
    note = (f"另有 {rest} 件超期未化解或反弹的事项未列出；" if rest else "") + "全部事项见台账“专项治理”表。"
    _body(slide, Emu(bottom + Inches(0.05)), [(note, TABLE_PT, False, None)])


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def bulletin_slides(deck: Deck) -> None:
    """The 通报 in official form, split over slides by whole paragraphs."""
    r = deck.report
    b = bulletin(r, deck.documents, deck.issuance)
    lines: list[tuple[Line, PP_ALIGN]] = [((b.title, TABLE_PT + 2, True, None), PP_ALIGN.CENTER),
                                          ((b.number, TABLE_PT, False, None), PP_ALIGN.CENTER),
                                          ((b.addressee, TABLE_PT, False, None), PP_ALIGN.LEFT)]
    lines += [(("　　" + p, TABLE_PT, False, None), PP_ALIGN.JUSTIFY) for p in (*b.body, b.requirements)]
    lines += [((b.issuer, TABLE_PT, False, None), PP_ALIGN.RIGHT), ((b.date, TABLE_PT, False, None), PP_ALIGN.RIGHT)]
    room = Emu(BODY_BOTTOM - BODY_TOP)
    groups: list[list[tuple[Line, PP_ALIGN]]] = [[]]
    for line in lines:
        if groups[-1] and lines_height([entry[0] for entry in [*groups[-1], line]], CONTENT_WIDTH) > room:
            groups.append([])
        groups[-1].append(line)
    title = f"通报（{b.number}）：请{b.addressee.rstrip('：')}于{cn_date(b.due)}前报送整改情况"
    for k, group in enumerate(groups):
        slide = deck.slide(title if k == 0 else f"{title}（续）", "通报全文，会后印发。")
        height = lines_height([entry[0] for entry in group], CONTENT_WIDTH)
        shape = text_box(slide, MARGIN, BODY_TOP, CONTENT_WIDTH, height, [entry[0] for entry in group], name="Bulletin")
        for paragraph, (_, align) in zip(shape.text_frame.paragraphs, group, strict=True):
            paragraph.alignment = align


def opened_this_week(r: WeeklyReport) -> pd.DataFrame:
    """The 督办台账's items opened in the meeting's week: the meeting's decisions (the oldest first)."""
    items = r.ledger_items
    if items.empty:
        return items
    opened = pd.to_datetime(items["opened_at"]).dt.date
    return items[(opened >= r.this_week.start) & (opened <= r.this_week.end)].sort_values("opened_at", kind="stable")


def decision_slides(deck: Deck) -> None:
    """The meeting's decisions: the 通报's 整改 deadline, what the priority and flagged counties do, and each
    督办 item opened this week with its whole title; then the next meeting. Flows onto 续 slides as needed."""
    r = deck.report
    b = bulletin(r, deck.documents, deck.issuance)
    items: list[str] = [f"{b.addressee.rstrip('：')}于{cn_date(b.due)}前书面报送整改情况。"]
    if not r.priority.empty:
        items.append(f"重点督导县（市、区）制定整改措施：{'、'.join(r.priority['city_name'].fillna('') + r.priority['name'])}。")
    if not r.signals.empty:
        items.append(f"出现变差信号的{len(r.signals)}个县（市、区）分析原因、及时纠偏。")
    decided = opened_this_week(r)
    for row in decided.itertuples():
        items.append(f"督办{row.city_name}{row.county_name}：{row.title}，{cn_date(row.reply_due)}前反馈。")
    earlier = r.ledger_items.drop(index=decided.index)
    in_progress = int((earlier["status"] != Status.CLOSED.value).sum()) if not earlier.empty else 0
    follow_ups = [f"此前挂账、仍在办的督办事项{in_progress}项按期跟踪，见台账“督办台账”表。"] if in_progress else []
    next_meeting = r.this_week.end + dt.timedelta(days=1)
    follow_ups.append(f"下次例会通报{cn_date(next_meeting)}所在周的情况。")
    lines: list[Line] = [(f"{i}. {text}", BODY_PT, False, None) for i, text in enumerate([*items, *follow_ups], start=1)]
    title = f"会议决定与后续事项：{len(items)}项，{cn_date(b.due)}前报送整改"
    room = Emu(BODY_BOTTOM - BODY_TOP)
    groups: list[list[Line]] = [[]]
    for line in lines:
        if groups[-1] and lines_height([*groups[-1], line], CONTENT_WIDTH) > room:
            groups.append([])
        groups[-1].append(line)
    for k, group in enumerate(groups):
        slide = deck.slide(title if k == 0 else f"{title}（续）", title + "。请与会单位确认责任人和时限。")
        _body(slide, BODY_TOP, group)


def build_deck(report: WeeklyReport, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
               issuance: Issuance | None = None) -> bytes:
    """The deck as PPTX bytes; its 通报 as issued with `issuance`, or as a draft."""
    deck = Deck(report, documents, issuance)
    cover(deck)
    kpi_slide(deck)
    trend_slide(deck)
    ranking_slides(deck)
    overdue_slides(deck)
    overdue_stock_slide(deck)
    long_overdue_slide(deck)
    oldest_slide(deck)
    priority_slides(deck)
    satisfaction_slide(deck)
    signal_slides(deck)
    supervision_slide(deck)
    campaign_slide(deck)
    bulletin_slides(deck)
    decision_slides(deck)
    return deck.save()
