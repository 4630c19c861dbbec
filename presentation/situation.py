"""The sentences of 形势分析: hot spots, the report's title and its paragraphs, worded from metrics.analysis facts.

Shared by the 形势分析 page and the half-year report (reports/analysis_report.py), so both say the same
thing in the same words. Differences are computed from unrounded values and then rounded once.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from data_access.reference.enums import Channel, Level
from data_access.supervision.document_register import DocumentKind, Draft
from metrics.analysis import AnalysisFacts
from metrics.trends import RISING_MIN_RECEIVED, RISING_Z, TrendBy

from .documents import DocumentSettings
from .format import cn_count, cn_date, count_move, pct, rate_move, shown_change

CHANNEL_LABELS = {c.value: c.label for c in Channel}
TOP_NAMED = 3
SIGNALS_NAMED = 10


def value_label(by: TrendBy, value: str) -> str:
    """The value as a supervisor reads it (channels in Chinese)."""
    return CHANNEL_LABELS.get(value, value) if by is TrendBy.CHANNEL else value


def hot_spot_sentence(row: pd.Series, by: TrendBy) -> str:
    """潍坊市乡村振兴领域收件42件，占本地区12.5%，比上期（22件）增加20件，明显上升。"""
    what = f"{value_label(by, row['value'])}{'领域' if by is TrendBy.DOMAIN else '渠道'}"
    return (f"{row['name']}{what}收件{cn_count(row['received'])}件，占本地区{row['share'] * 100:.1f}%，"
            f"比上期（{cn_count(row['previous'])}件）增加{cn_count(row['change'])}件，明显上升。")


def rising_rule() -> str:
    """The rule behind 明显上升, for a note: in words first, the test after."""
    return (f"“明显上升”指本期收件不少于{RISING_MIN_RECEIVED}件、且比上期增加的幅度超出正常波动"
            f"（两期件数的泊松检验，z≥{RISING_Z}）")


def period_label(start: dt.date, end: dt.date) -> str:
    """2026年上半年 / 2026年下半年 / 2026年 / 2026年1月1日至2026年3月31日."""
    if start.month == 1 and start.day == 1 and end.year == start.year:
        if (end.month, end.day) == (6, 30):
            return f"{start.year}年上半年"
        if (end.month, end.day) == (12, 31):
            return f"{start.year}年"
    if (start.month, start.day, end.month, end.day) == (7, 1, 12, 31) and start.year == end.year:
        return f"{start.year}年下半年"
    return f"{cn_date(start)}至{cn_date(end)}"


def report_title_parts(region_name: str, start: dt.date, end: dt.date) -> tuple[str, ...]:
    """The title's phrases (a line of the printed title breaks only between them)."""
    return ("关于", period_label(start, end), region_name, "信访举报形势的", "分析报告")


def report_title_for(region_name: str, start: dt.date, end: dt.date) -> str:
    """关于2026年上半年山东省信访举报形势的分析报告."""
    return "".join(report_title_parts(region_name, start, end))


def report_title(facts: AnalysisFacts) -> str:
    """The report's title (report_title_for of its region and period)."""
    return report_title_for(facts.region_name, facts.period.start, facts.period.end)


def report_subject(region_code: str, start: dt.date, end: dt.date) -> str:
    """The 文号 register's subject of the report of a region and period (the same when it is issued again)."""
    return f"{start}/{end}/{region_code}"


def report_draft(documents: DocumentSettings, region_code: str, region_name: str, level: Level, start: dt.date,
                 end: dt.date) -> Draft:
    """The register's draft of the 形势分析报告 of a region and period: to the region's commission's leaders."""
    office = documents.province_name if level is Level.PROVINCE else region_name
    return Draft(DocumentKind.ANALYSIS, documents.series(DocumentKind.ANALYSIS, office),
                 report_subject(region_code, start, end), report_title_for(region_name, start, end), f"{office}纪委监委领导",
                 "" if level is Level.PROVINCE else region_code)


def comparison_label(facts: AnalysisFacts) -> tuple[str, str]:
    """What the report compares its period with, and the dates to state: (2025年下半年, '') for the calendar period
    before, or (上期, 2025年7月4日至2025年12月31日) for the equal span before a cut or uneven period."""
    start, end = facts.prior_window
    if facts.prior_window != facts.previous_window:
        return period_label(start, end), ""
    return "上期", f"{cn_date(start)}至{cn_date(end)}"


def change_rate_text(current: float, previous: float) -> str:
    """"（+3.2%）" of a count against its previous value; empty when there was none before."""
    if not previous:
        return ""
    return f"（{(current - previous) / previous * 100:+.1f}%）"


def _share(part: float, whole: float) -> str:
    return pct(part / whole) if whole else "—"


def overall_paragraphs(facts: AnalysisFacts) -> list[str]:
    """一、总体情况: volume against the period before and a year before, handling, satisfaction, leapfrog / repeat /
    contested, overdue."""
    c, p, y = facts.current, facts.prior, facts.year_ago
    w_end = facts.window[1]
    received, before, ago = int(c["received"]), int(p["received"]), int(y["received"])
    cut = f"（截至{cn_date(facts.period.as_of_date)}）" if w_end < facts.period.end else ""
    short, dates = comparison_label(facts)
    volume = (f"{period_label(facts.period.start, facts.period.end)}{cut}，{facts.region_name}共收到信访举报{cn_count(received)}件，"
              f"比{short}（{dates + '，' if dates else ''}{cn_count(before)}件）{count_move(received - before)}"
              f"{change_rate_text(received, before)}，"
              f"比去年同期（{cn_count(ago)}件）{count_move(received - ago)}{change_rate_text(received, ago)}。"
              f"其中检举控告件{cn_count(c['accepted'])}件，占{_share(c['accepted'], received)}。")

    def versus(metric: str) -> str:
        return f"较{short}{_rate_change(c[metric], p[metric])}、较去年同期{_rate_change(c[metric], y[metric])}"

    handling = (f"办理质效方面，应办结件{cn_count(c['due'])}件，按期办结率{pct(c['on_time_rate'])}，{versus('on_time_rate')}；"
                f"初次举报应办结{cn_count(c['first_due'])}件，按期办结率{pct(c['first_on_time_rate'])}，{versus('first_on_time_rate')}；"
                f"参评{cn_count(c['rated'])}件，群众满意率{pct(c['satisfaction_rate'])}，{versus('satisfaction_rate')}。")
    order = (f"越级举报{cn_count(c['leapfrog'])}件，越级举报率{pct(c['leapfrog_rate'])}；重复举报{cn_count(c['repeat'])}件，"
             f"重复举报率{pct(c['repeat_rate'])}；结而不服{cn_count(c['disputed'])}件，结而不服率{pct(c['dispute_rate'])}。"
             f"截至{cn_date(facts.period.as_of_date)}，超期未办结{cn_count(c['overdue'])}件，其中初次举报{cn_count(c['first_overdue'])}件。")
    return [volume, handling, order]


def _rate_change(now: float | None, before: float | None) -> str:
    change = shown_change("on_time_rate", now, before)  # any rate: the difference of the percentages shown
    return "无法比较" if change is None else rate_move(change)


def _named(frame: pd.DataFrame, label: str, total: int) -> str:
    """A、B、C: the first rows named with their count and share."""
    return "、".join(f"{row[label]}（{cn_count(row['received'])}件，占{_share(row['received'], total)}）"
                    for _, row in frame.head(TOP_NAMED).iterrows())


def region_paragraph(facts: AnalysisFacts) -> str:
    """（一）区域: where most reports come from and where they rose or fell most."""
    units, total = facts.units, int(facts.current["received"])
    if units.empty or total == 0:
        return "本期没有收件。"
    noun = facts.unit_level.label if facts.unit_level is not None else "地区"
    top = units.head(TOP_NAMED)
    text = f"收件最多的{noun}是{_named(top, 'name', total)}，合计占{_share(top['received'].sum(), total)}。"
    up = units[units["change"] > 0].sort_values(["change", "code"], ascending=[False, True])
    down = units[units["change"] < 0].sort_values(["change", "code"])
    if len(up):
        text += f"与上期相比，增加最多的是{up.iloc[0]['name']}（{count_move(up.iloc[0]['change'])}）"
        text += f"，减少最多的是{down.iloc[0]['name']}（{count_move(down.iloc[0]['change'])}）。" if len(down) else "。"
    elif len(down):
        text += f"与上期相比，各{noun}收件均未增加，减少最多的是{down.iloc[0]['name']}（{count_move(down.iloc[0]['change'])}）。"
    return text


def breakdown_paragraph(rows: pd.DataFrame, by: TrendBy, total: int) -> str:
    """（二）领域 / （三）渠道: the most frequent values and their change; the rising ones."""
    if rows.empty or total == 0:
        return "本期没有收件。"
    noun = "领域" if by is TrendBy.DOMAIN else "渠道"
    named = rows.assign(label=[value_label(by, v) for v in rows["value"]])
    top = named.head(TOP_NAMED)
    text = f"反映最集中的{noun}是{_named(top, 'label', total)}，前{len(top)}位合计占{_share(top['received'].sum(), total)}。"
    up = named[named["change"] > 0].sort_values(["change", "value"], ascending=[False, True])
    if len(up):
        row = up.iloc[0]
        text += f"与上期相比，{row['label']}{count_move(row['change'])}{change_rate_text(row['received'], row['previous'])}，增加最多。"
    rising = named[named["rising"].astype(bool)]
    if len(rising):
        text += f"明显上升的{noun}：{'、'.join(rising['label'])}。"
    else:
        text += f"没有明显上升的{noun}。"
    return text


def hot_spot_paragraphs(facts: AnalysisFacts) -> list[str]:
    """（一）of 突出问题: every rising unit × domain, or a sentence that there is none (the rule is in the note)."""
    if facts.hot_spots.empty:
        return ["本期没有反映集中且明显上升的地区与领域。"]
    lead = f"以下{len(facts.hot_spots)}处地区与领域收件明显上升："
    return [lead, *(hot_spot_sentence(row, TrendBy.DOMAIN) for _, row in facts.hot_spots.iterrows())]


def handling_paragraph(facts: AnalysisFacts, min_due: int) -> str:
    """（二）of 突出问题: the units handling worst, and the overdue stock."""
    units = facts.units[facts.units["due"] >= min_due].dropna(subset=["on_time_rate"])
    c = facts.current
    text = (f"截至{cn_date(facts.period.as_of_date)}，{facts.region_name}超期未办结{cn_count(c['overdue'])}件，"
            f"其中初次举报{cn_count(c['first_overdue'])}件。")
    if len(units) and facts.unit_level is not None:
        worst = units.sort_values(["on_time_rate", "code"]).head(TOP_NAMED)
        listed = "、".join(f"{r['name']}（{pct(r['on_time_rate'])}，应办结{cn_count(r['due'])}件）" for _, r in worst.iterrows())
        text += f"按期办结率最低的{facts.unit_level.label}是{listed}（应办结不少于{min_due}件的{facts.unit_level.label}中）。"
    return text


def _county_names(frame: pd.DataFrame, facts: AnalysisFacts) -> list[str]:
    """Counties named with their city (市中区 is in two cities) unless the report is one city's."""
    if facts.region_level is not Level.PROVINCE or "city_name" not in frame:
        return frame["name"].tolist()
    return (frame["city_name"].fillna("") + frame["name"]).tolist()


def priority_paragraph(facts: AnalysisFacts) -> str:
    """The counties singled out within the region over the rolling window (the method is in the note)."""
    window = facts.priority_window
    lead = (f"按{cn_date(window.start)}至{cn_date(window.end)}的数据，初次举报按期办结率明显低于全省、越级举报率明显高于全省的"
            "县（市、区）列为重点督导，其中一项明显偏离的列为关注（与看板“重点督导县”页、周例会一致）")
    if facts.priority.empty:
        return lead + "，本期没有县（市、区）列为重点督导或关注。"
    chosen = _county_names(facts.priority[facts.priority["status"] == "priority"], facts)
    watch = _county_names(facts.priority[facts.priority["status"] == "watch"], facts)
    parts = []
    if chosen:
        parts.append(f"{len(chosen)}个县（市、区）列为重点督导：{'、'.join(chosen)}")
    if watch:
        parts.append(f"{len(watch)}个列为关注：{'、'.join(watch)}")
    return lead + "。" + "；".join(parts) + "。"


SIGNAL_PLAIN = {"below_limit": "有一周明显低于此前的正常波动范围", "shift": "连续多周低于此前平均水平",
                "trend": "连续数周下降"}


def signal_lead(facts: AnalysisFacts, recent_weeks: int) -> str:
    """The sentence before the counties whose on-time rate has worsened lately."""
    if facts.signals.empty:
        return f"截至{cn_date(facts.period.as_of_date)}，没有县（市、区）近{recent_weeks}周按期办结率明显变差。"
    more = f"（以下列出前{SIGNALS_NAMED}个）" if len(facts.signals) > SIGNALS_NAMED else ""
    return f"截至{cn_date(facts.period.as_of_date)}，{len(facts.signals)}个县（市、区）近{recent_weeks}周按期办结率明显变差{more}："


def signal_sentence(row: pd.Series, facts: AnalysisFacts, recent_weeks: int, baseline_weeks: int) -> str:
    """济宁市梁山县：近8周按期办结率71.0%（应办结31件），此前26周为88.5%；连续多周低于此前平均水平。"""
    fired = [SIGNAL_PLAIN.get(s, s) for s in str(row["signals"]).split(",") if s]
    name = _county_names(pd.DataFrame([row]), facts)[0]
    return (f"{name}：近{recent_weeks}周按期办结率{row['recent_rate'] * 100:.1f}%（应办结{cn_count(row['recent_due'])}件），"
            f"此前{baseline_weeks}周为{row['baseline_rate'] * 100:.1f}%；{'；'.join(fired)}。")


def scope_note(facts: AnalysisFacts) -> str:
    """The note on windows, sources and methods (the statistics the body says in words)."""
    (w_start, w_end), (p_start, p_end) = facts.window, facts.previous_window
    (r_start, r_end), (y_start, y_end) = facts.prior_window, facts.year_ago_window
    level = "全省" if facts.region_level is Level.PROVINCE else facts.region_name
    return (f"说明：本期{cn_date(w_start)}至{cn_date(w_end)}，与{cn_date(r_start)}至{cn_date(r_end)}及去年同期"
            f"{cn_date(y_start)}至{cn_date(y_end)}比较；各领域、渠道和地区的“上期”为本期之前等长的{cn_date(p_start)}至"
            f"{cn_date(p_end)}。数据截至{cn_date(facts.period.as_of_date)}，范围为{level}。{rising_rule()}；重点督导县按漏斗图"
            "检验两项比率（z值不小于设定界限）；按期办结率变差按每周比率与此前基线的控制图判断。收件含全部类别，办理质效指标"
            "口径见看板“指标口径”页；所有数字由看板指标层计算。")
