"""The 通报 of the weekly review meeting in official form: heading (关于…情况的通报), document number,
addressee, body, the 整改 requirements with a deadline, issuing office and date. Every number in it is a
field of the metrics layer's WeeklyReport (the page and the deck show the same text); the issuing office,
the number pattern and the deadline are settings (presentation.documents).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from data_access.reference.enums import Level
from data_access.supervision.document_register import DocumentKind, Draft
from metrics.registry import METRICS_BY_ID
from metrics.weekly import WeeklyReport, movers

from .documents import DEFAULT_DOCUMENT_SETTINGS, DocumentSettings, Issuance
from .format import cn_date, count_move, pct, rate_move, shown_change

LARGE_YEAR_ON_YEAR = 0.2  # a count this much (20%) above or below a year ago is worth saying
LARGE_YEAR_ON_YEAR_POINTS = 0.05  # a rate 5 percentage points from a year ago is worth saying


@dataclass(frozen=True)
class Bulletin:
    """The parts of the 通报, in the order they are printed."""

    title: str
    number: str
    addressee: str  # with its colon: 各市纪委监委：
    body: tuple[str, ...]
    requirements: str
    issuer: str
    date: str
    dated: dt.date  # 成文日期
    due: dt.date  # the 整改 deadline the requirements state

    @property
    def lines(self) -> tuple[str, ...]:
        """Every line in print order."""
        return (self.title, self.number, self.addressee, *self.body, self.requirements, self.issuer, self.date)

    @property
    def text(self) -> str:
        """The whole 通报, one line per part."""
        return "\n".join(self.lines)


def week_span(start: dt.date, end: dt.date) -> str:
    """2024年6月24日至30日 (the month and year repeated only where they change)."""
    if start.year != end.year:
        return f"{cn_date(start)}至{cn_date(end)}"
    tail = f"{end.day}日" if start.month == end.month else f"{end.month}月{end.day}日"
    return f"{cn_date(start)}至{tail}"


def _rate_clause(report: WeeklyReport, metric_id: str) -> str:
    h = report.headline(metric_id)
    label = METRICS_BY_ID[metric_id].label
    if h.this_week is None:
        return f"{label}无数据"
    if h.last_week is None:
        return f"{label} {pct(h.this_week)}"
    return f"{label} {pct(h.this_week)}，较上周（{pct(h.last_week)}）{rate_move(shown_change(metric_id, h.this_week, h.last_week))}"


def _opening(report: WeeklyReport) -> str:
    p, week = report.province, report.this_week
    return (f"{week_span(week.start, week.end)}（数据截至{cn_date(report.as_of)}），"
            f"{report.region_name}本周收件 {int(p['received'])} 件，应办结检举控告件 {int(p['due'])} 件，"
            f"{_rate_clause(report, 'on_time_rate')}；{_rate_clause(report, 'first_on_time_rate')}；"
            f"{_rate_clause(report, 'satisfaction_rate')}（参评 {int(p['rated'])} 件）；"
            f"结而不服 {int(p['disputed'])} 件，{_rate_clause(report, 'dispute_rate')}；"
            f"{_rate_clause(report, 'leapfrog_rate')}。")


def year_on_year(report: WeeklyReport, metric_id: str) -> str:
    """"较去年同期（77 件）增加 62 件（+81%）" when a headline is far from a year ago, else ""."""
    h = report.headline(metric_id)
    if h.this_week is None or h.year_ago is None:
        return ""
    if METRICS_BY_ID[metric_id].unit == "%":
        change = shown_change(metric_id, h.this_week, h.year_ago) or 0.0
        return f"较去年同期（{pct(h.year_ago)}）{rate_move(change)}" if abs(change) >= LARGE_YEAR_ON_YEAR_POINTS else ""
    if h.year_ago <= 0 or abs(h.this_week / h.year_ago - 1) < LARGE_YEAR_ON_YEAR:
        return ""
    return (f"较去年同期（{int(h.year_ago)} 件）{count_move(h.this_week - h.year_ago)}"
            f"（{(h.this_week / h.year_ago - 1) * 100:+.0f}%）")


def _overdue_sentence(report: WeeklyReport) -> str:
    h = report.headline("overdue")
    ago = year_on_year(report, "overdue")
    return (f"截至{cn_date(report.as_of)}，超期未办结 {int(h.this_week or 0)} 件，较上周末（{int(h.last_week or 0)} 件）"
            f"{count_move(h.change)}" + (f"，{ago}" if ago else "") + f"；其中本周新增超期 {len(report.newly_overdue)} 件，"
            f"超期 {report.long_overdue_days} 天以上 {len(report.long_overdue)} 件。")


def _mover_text(row: pd.Series, name: str) -> str:
    verb = "升至" if row["rate_change"] > 0 else "降至"
    return (f"{name}（应办结 {int(row['due'])} 件，由 {pct(row['on_time_rate_last'])} {verb} {pct(row['on_time_rate'])}，"
            f"{rate_move(shown_change('on_time_rate', row['on_time_rate'], row['on_time_rate_last']))}）")


def comparable(frame: pd.DataFrame, min_due: int) -> pd.DataFrame:
    """The units with at least `min_due` due cases in both weeks and a rate in both."""
    return frame[(frame["due"] >= min_due) & (frame["due_last"] >= min_due) & frame["rate_change"].notna()]


def _movers_sentence(frame: pd.DataFrame, names: pd.Series, noun: str, min_due: int) -> str:
    n = len(comparable(frame, min_due))
    if n == 0:
        return f"各{noun}本周或上周应办结件均不足 {min_due} 件，不作升降比较。"
    best, worst = movers(frame, min_due)
    parts = []
    if best is not None:
        parts.append(f"按期办结率提升最多的是{_mover_text(best, names[best.name])}")
    if worst is not None:
        parts.append(f"下降最多的是{_mover_text(worst, names[worst.name])}")
    lead = f"本周和上周应办结件均不少于 {min_due} 件的 {n} 个{noun}中，"
    if not parts:
        return lead + "按期办结率与上周持平。"
    return lead + "，".join(parts) + "。"


def _movers(report: WeeklyReport) -> str:
    """The units that rose and fell most: for the province its cities and its counties, for a city its
    counties, for a county nothing (a county viewer has no units below it to compare)."""
    min_due = report.min_due_to_compare
    if not report.ranks_units:
        return ""
    if report.unit_level is Level.COUNTY:  # a city's counties: its own name needs no repeating
        return _movers_sentence(report.counties, report.counties["name"], "县（市、区）", min_due)
    # county names repeat across cities (市中区): the city comes first
    county_names = report.counties["city_name"].fillna("") + report.counties["name"]
    if comparable(report.units, min_due).empty and comparable(report.counties, min_due).empty:
        return f"各市、各县（市、区）本周或上周应办结件均不足 {min_due} 件，不作升降比较。"
    return (_movers_sentence(report.units, report.units["name"], "市", min_due)
            + _movers_sentence(report.counties, county_names, "县（市、区）", min_due))


def _county_list(frame: pd.DataFrame) -> str:
    return "、".join(frame["city_name"].fillna("") + frame["name"])


def _priority_sentence(report: WeeklyReport) -> str:
    window = report.priority_window
    text = f"按近 {report.priority_window_months} 个月（{cn_date(window.start)}至{cn_date(window.end)}）滚动检验，"
    if report.priority.empty:
        text += "没有县（市、区）列为重点督导"
    else:
        text += f"列为重点督导的县（市、区）共 {len(report.priority)} 个：{_county_list(report.priority)}"
    entered, left = report.priority_entered, report.priority_left
    changes = ([f"本周新列入 {len(entered)} 个（{_county_list(entered)}）"] if len(entered) else []) + \
              ([f"移出 {len(left)} 个（{_county_list(left)}）"] if len(left) else [])
    if changes:
        text += "；" + "，".join(changes)
    elif not report.priority.empty:
        text += "；名单与上周相同"
    return text + "。"


def _signal_names(report: WeeklyReport) -> list[str]:
    """The flagged counties, each with its city where the 通报 covers several cities (市中区 is in two)."""
    if report.unit_level is Level.COUNTY:
        return report.signals["name"].tolist()
    city = dict(zip(report.counties["code"], report.counties["city_name"].fillna(""), strict=True))
    return [f"{city.get(code, '')}{name}" for code, name in zip(report.signals["code"], report.signals["name"], strict=True)]


def _signals_sentence(report: WeeklyReport) -> str:
    """The counties whose weekly on-time rate is getting worse, when there are any."""
    if report.signals.empty:
        return ""
    names = "、".join(_signal_names(report))
    return f"按周控制图，{names}共 {len(report.signals)} 个县（市、区）按期办结率出现变差信号。"


def _supervision_sentence(report: WeeklyReport) -> str:
    """The 督办台账's week, when it holds anything."""
    s = report.supervision
    if not s.any:
        return ""
    text = f"本周新挂账督办 {s.opened} 项，县级反馈 {s.replied} 项，销号 {s.closed} 项"
    text += f"，退回重办 {s.returned} 项" if s.returned else ""
    text += f"；目前在办 {s.in_progress} 项"
    return text + (f"，其中逾期未反馈 {s.overdue_replies} 项。" if s.overdue_replies else "。")


def addressee(report: WeeklyReport) -> str:
    """Who the 通报 goes to: 各市纪委监委 (province), 各县（市、区）纪委监委 (a city), the county's own office."""
    if report.ranks_units:
        return f"各{report.unit_noun}纪委监委"
    return f"{report.region_name}纪委监委各承办部门"


def _requirements(report: WeeklyReport, deadline: dt.date, issuer: str) -> str:
    """What the addressees are to do, and by when."""
    asks = [f"对超期未办结件逐件明确办结时限，超期 {report.long_overdue_days} 天以上的件由分管领导督办"]
    if not report.priority.empty:
        asks.append(f"{_county_list(report.priority)}制定整改措施，按期办结、及时反馈")
    if not report.signals.empty:
        asks.append("出现变差信号的县（市、区）分析原因、及时纠偏")
    if report.supervision.overdue_replies:
        asks.append("逾期未反馈的督办事项抓紧反馈")
    numbered = "；".join(f"{'一二三四五'[i]}是{ask}" for i, ask in enumerate(asks)) if len(asks) > 1 else asks[0]
    return f"请{addressee(report)}抓好以下工作：{numbered}。整改情况于{cn_date(deadline)}前书面报送{issuer}。"


def bulletin(report: WeeklyReport, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
             issuance: Issuance | None = None) -> Bulletin:
    """The 通报 of the week as issued with `issuance` (its 文号, 成文日期 and deadline); without one, a draft dated the
    report's as-of date with the number left blank and the deadline in working days from the date."""
    issuer = documents.issuer(report.region_name)
    dated = issuance.dated if issuance is not None else report.as_of
    number = issuance.number if issuance is not None and issuance.number else \
        documents.draft_number(DocumentKind.WEEKLY, report.region_name, dated)
    due = issuance.due if issuance is not None and issuance.due else documents.reply_due(dated)
    body = tuple(p for p in (_opening(report) + _overdue_sentence(report), _movers(report), _priority_sentence(report),
                             _signals_sentence(report), _supervision_sentence(report)) if p)
    return Bulletin(
        title=bulletin_title(report), number=number, addressee=f"{addressee(report)}：", body=body,
        requirements=_requirements(report, due, issuer), issuer=issuer, date=cn_date(dated), dated=dated, due=due)


def bulletin_draft(report: WeeklyReport, documents: DocumentSettings, region_code: str | None, due: dt.date) -> Draft:
    """The 文号 register's draft of the week's 通报 for the region `region_code` (None: the province): its subject is
    the week and the region, so issuing it again names the number it replaces."""
    return Draft(DocumentKind.WEEKLY, documents.series(DocumentKind.WEEKLY, report.region_name),
                 f"{report.this_week.start}/{region_code or ''}", bulletin_title(report), addressee(report),
                 region_code or "", due)


def bulletin_title_parts(report: WeeklyReport) -> tuple[str, ...]:
    """The title's phrases (a printed line breaks only between them)."""
    week = report.this_week
    return ("关于", week_span(week.start, week.end), "信访举报", "办理情况的通报")


def bulletin_title(report: WeeklyReport) -> str:
    """关于2024年6月24日至30日信访举报办理情况的通报."""
    return "".join(bulletin_title_parts(report))


def bulletin_text(report: WeeklyReport, documents: DocumentSettings = DEFAULT_DOCUMENT_SETTINGS,
                  issuance: Issuance | None = None) -> str:
    """The whole 通报 in Chinese, one line per part; every number in it is a field of the report or a setting."""
    return bulletin(report, documents, issuance).text
