"""The 通报 paragraph of the weekly review meeting, in Chinese; every number in it is a field of the
metrics layer's WeeklyReport (the page and the deck show the same text)."""
from __future__ import annotations

import pandas as pd

from data_access.enums import Level
from metrics.registry import METRICS_BY_ID
from metrics.weekly import WeeklyReport, movers

from .format import cn_date, count_move, pct, rate_move


def _rate_clause(report: WeeklyReport, metric_id: str) -> str:
    h = report.headline(metric_id)
    label = METRICS_BY_ID[metric_id].label
    if h.this_week is None:
        return f"{label}无数据"
    if h.last_week is None:
        return f"{label} {pct(h.this_week)}"
    return f"{label} {pct(h.this_week)}，较上周（{pct(h.last_week)}）{rate_move(h.change)}"


def _opening(report: WeeklyReport) -> str:
    p, week = report.province, report.this_week
    return (f"{cn_date(week.start)}至{cn_date(week.end)}（数据截至{cn_date(report.as_of)}），"
            f"{report.region_name}本周收件 {int(p['received'])} 件，应办结检举控告件 {int(p['due'])} 件，"
            f"{_rate_clause(report, 'on_time_rate')}；{_rate_clause(report, 'first_on_time_rate')}；"
            f"{_rate_clause(report, 'satisfaction_rate')}（参评 {int(p['rated'])} 件）；"
            f"结而不服 {int(p['disputed'])} 件，{_rate_clause(report, 'dispute_rate')}；"
            f"{_rate_clause(report, 'leapfrog_rate')}。")


def _overdue_sentence(report: WeeklyReport) -> str:
    h = report.headline("overdue")
    return (f"截至{cn_date(report.as_of)}，超期未办结 {int(h.this_week or 0)} 件，较上周末（{int(h.last_week or 0)} 件）"
            f"{count_move(h.change)}；其中本周新增超期 {len(report.newly_overdue)} 件，"
            f"超期 {report.long_overdue_days} 天以上 {len(report.long_overdue)} 件。")


def _mover_text(row: pd.Series, name: str) -> str:
    verb = "升至" if row["rate_change"] > 0 else "降至"
    return (f"{name}（由 {pct(row['on_time_rate_last'])} {verb} {pct(row['on_time_rate'])}，"
            f"{rate_move(row['rate_change'])}）")


def _movers_sentence(frame: pd.DataFrame, names: pd.Series, what: str, min_due: int) -> str:
    best, worst = movers(frame, min_due)
    parts = []
    if best is not None:
        parts.append(f"按期办结率提升最多的是{_mover_text(best, names[best.name])}")
    if worst is not None:
        parts.append(f"下降最多的是{_mover_text(worst, names[worst.name])}")
    if not parts:
        return f"{what}按期办结率没有可比较的升降。"
    return f"{what}中，" + "，".join(parts) + "。"


def _movers(report: WeeklyReport) -> str:
    """The units that rose and fell most: for the province its cities and its counties, for a city its
    counties, for a county nothing (a county viewer has no units below it to compare)."""
    min_due = report.min_due_to_compare
    if not report.ranks_units:
        return ""
    note = f"（仅比较本周和上周应办结件均不少于 {min_due} 件的地区。）"
    if report.unit_level is Level.COUNTY:  # a city's counties: its own name needs no repeating
        return _movers_sentence(report.counties, report.counties["name"], "各县（市、区）", min_due) + note
    # county names repeat across cities (市中区): the city comes first
    county_names = report.counties["city_name"].fillna("") + report.counties["name"]
    return (_movers_sentence(report.units, report.units["name"], "各市", min_due)
            + _movers_sentence(report.counties, county_names, "各县（市、区）", min_due) + note)


def _county_list(frame: pd.DataFrame) -> str:
    return "、".join(frame["city_name"].fillna("") + frame["name"])


def _priority_sentence(report: WeeklyReport) -> str:
    window = report.priority_window
    text = (f"按近 {report.priority_window_months} 个月（{cn_date(window.start)}至{cn_date(window.end)}）滚动检验，")
    if report.priority.empty:
        text += "没有县（市、区）列为重点督导"
    else:
        text += f"列为重点督导的县（市、区）共 {len(report.priority)} 个：{_county_list(report.priority)}"
    entered, left = report.priority_entered, report.priority_left
    text += f"；本周新列入 {len(entered)} 个" + (f"（{_county_list(entered)}）" if len(entered) else "")
    text += f"，移出 {len(left)} 个" + (f"（{_county_list(left)}）" if len(left) else "")
    if not len(report.priority):
        return text + "。"
    return text + ("。请相关市督促整改，按期办结、及时反馈。" if report.region_level is Level.PROVINCE
                   else "。请相关县（市、区）抓好整改，按期办结、及时反馈。")


def _signals_sentence(report: WeeklyReport) -> str:
    """The counties whose weekly on-time rate is getting worse, when there are any."""
    if report.signals.empty:
        return ""
    names = "、".join(report.signals["name"])
    return (f"按周控制图，{names}共 {len(report.signals)} 个县（市、区）按期办结率出现变差信号，"
            "请相关单位分析原因、及时纠偏。")


def _supervision_sentence(report: WeeklyReport) -> str:
    """The 督办台账's week, when it holds anything."""
    s = report.supervision
    if not s.any:
        return ""
    text = f"本周新挂账督办 {s.opened} 项，县级反馈 {s.replied} 项，销号 {s.closed} 项"
    text += f"，退回重办 {s.returned} 项" if s.returned else ""
    text += f"；目前在办 {s.in_progress} 项"
    return text + (f"，其中逾期未反馈 {s.overdue_replies} 项，请相关单位抓紧反馈。" if s.overdue_replies else "。")


def bulletin_text(report: WeeklyReport) -> str:
    """The 通报 paragraph in Chinese; every number in it is a field of the report."""
    paragraphs = (_opening(report) + _overdue_sentence(report), _movers(report), _priority_sentence(report),
                  _signals_sentence(report), _supervision_sentence(report))
    return "\n".join(p for p in paragraphs if p)
