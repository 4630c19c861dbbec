"""Number formats for the screen and the documents: rates as percentages with one decimal, counts with
separators, dates in the Chinese way, changes in words."""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal

import pandas as pd

from data_access.reference.enums import Channel
from metrics.registry import METRICS_BY_ID, Direction, MetricKind
from metrics.request import CaseFilter

EMPTY = "—"
UNCHANGED = "持平"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def is_missing(value: object) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def present(value: float | None) -> float | None:
    """The value as a float, or None when it is missing (None or NaN)."""
    return None if value is None or is_missing(value) else float(value)


def fmt_value(metric_id: str, value: float | None) -> str:
    """A metric value as shown on a card or in a table cell."""
    if (number := present(value)) is None:
        return EMPTY
    match METRICS_BY_ID[metric_id].kind:
        case MetricKind.RATE:
            return pct(number)
        case MetricKind.AVERAGE:
            return f"{number:.1f} 天"
        case MetricKind.COUNT:
            return f"{int(number):,}"
    raise AssertionError(metric_id)


def shown_change(metric_id: str, current: float | None, previous: float | None) -> float | None:
    """current − previous as a reader computes it from the two values shown: for a rate, the difference of
    the one-decimal percentages (95.7% → 88.2% is 7.5 points down, whatever the unrounded rates give)."""
    now, before = present(current), present(previous)
    if now is None or before is None:
        return None
    if METRICS_BY_ID[metric_id].kind is MetricKind.RATE:
        return (float(f"{now * 100:.1f}") - float(f"{before * 100:.1f}")) / 100
    return now - before


def fmt_delta(metric_id: str, current: float | None, previous: float | None) -> str | None:
    """Change against the previous period: percentage points for rates, plain numbers otherwise;
    "持平" when it rounds to no change at the precision shown."""
    diff = shown_change(metric_id, current, previous)
    if diff is None:
        return None
    if round(diff * (100 if METRICS_BY_ID[metric_id].kind is MetricKind.RATE else 1), 1) == 0:
        return UNCHANGED
    match METRICS_BY_ID[metric_id].kind:
        case MetricKind.RATE:
            return f"{diff * 100:+.1f} 个百分点"
        case MetricKind.AVERAGE:
            return f"{diff:+.1f} 天"
        case MetricKind.COUNT:
            return f"{int(diff):+,}"
    raise AssertionError(metric_id)


DeltaColor = Literal["normal", "inverse", "off"]


def delta_color(metric_id: str) -> DeltaColor:
    """st.metric's delta_color: green when the change is an improvement."""
    match METRICS_BY_ID[metric_id].direction:
        case Direction.HIGHER_BETTER:
            return "normal"
        case Direction.LOWER_BETTER:
            return "inverse"
        case Direction.NEUTRAL:
            return "off"
    raise AssertionError(metric_id)


def plain_markdown(text: str) -> str:
    """Data text escaped so st.markdown shows it literally (no formatting, links, LaTeX or HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def pct(rate: float | None) -> str:
    """A rate as a percentage with one decimal ("—" when empty)."""
    return EMPTY if rate is None or is_missing(rate) else f"{rate * 100:.1f}%"


def cn_count(value: float) -> str:
    """A count as the documents print it: digits, with thousands separators from 10,000 up (9999, 12,345)."""
    number = int(value)
    return f"{number:,}" if abs(number) >= 10000 else str(number)


def cn_date(day: dt.date) -> str:
    """2024年6月30日."""
    return f"{day.year}年{day.month}月{day.day}日"


def falls_due(due: dt.date, as_of: dt.date, today: dt.date) -> str:
    """When an open case falls due, counted in calendar days from the as-of date its list is read at:
    今日到期 / 3 天后到期 when that date is today, else 截止日期当日到期 / 截止日期后 3 天到期; 已超期 2 天
    for one past due. A case due on a weekend after the as-of date has 0 working days left, not 今日到期."""
    days = (due - as_of).days
    if days < 0:
        return f"已超期 {-days} 天"
    if as_of == today:
        return "今日到期" if days == 0 else f"{days} 天后到期"
    return "截止日期当日到期" if days == 0 else f"截止日期后 {days} 天到期"


def arrow(change: float | None) -> str:
    """▲ for a rise, ▼ for a fall, — for none, "" when unknown (colour, not the arrow, says better or worse)."""
    if change is None or change != change:
        return ""
    return "▲" if change > 0 else "▼" if change < 0 else "—"


def rate_move(change: float | None) -> str:
    """"上升 1.2 个百分点" / "下降 …" / "持平" for a change of a rate."""
    if change is None or change != change:
        return "无法比较"
    points = abs(change) * 100
    if f"{points:.1f}" == "0.0":
        return UNCHANGED
    return f"{'上升' if change > 0 else '下降'} {points:.1f} 个百分点"


def count_move(change: float | None) -> str:
    """"增加 5 件" / "减少 …" / "持平" for a change of a count."""
    if change is None or change != change:
        return "无法比较"
    if change == 0:
        return UNCHANGED
    return f"{'增加' if change > 0 else '减少'} {abs(int(change))} 件"


def rank_text(rank: Any, tied: bool) -> str:
    """"3", "并列1", or "不排名" when there is no rank."""
    if rank is None or pd.isna(rank):
        return "不排名"
    return f"并列{int(rank)}" if tied else str(int(rank))


def filter_parts(filters: CaseFilter) -> list[str]:
    """The case filters in force, in words (渠道：…, 领域：…, 仅初次举报); empty when none."""
    parts = []
    if filters.channels:
        parts.append("渠道：" + "、".join(Channel(c).label for c in filters.channels))
    if filters.domains:
        parts.append("领域：" + "、".join(filters.domains))
    if filters.first_report_only:
        parts.append("仅初次举报")
    return parts
