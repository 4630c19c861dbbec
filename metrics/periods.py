"""Named review periods (本周, 上周, 本月, ...) relative to an anchor date, per the spec's weeks.

"This week" as of A is the Monday-Sunday week holding A, read as of A; "last week" is the week
before, read as of its own Sunday. Months, quarters and years follow the same rule.
"""
from __future__ import annotations

import datetime as dt

from data_access.reference.enums import LabelledEnum

from .request import Period


class Preset(LabelledEnum):
    """Period presets of the global filter bar."""

    THIS_WEEK = ("this_week", "本周")
    LAST_WEEK = ("last_week", "上周")
    THIS_MONTH = ("this_month", "本月")
    LAST_MONTH = ("last_month", "上月")
    THIS_QUARTER = ("this_quarter", "本季度")
    THIS_YEAR = ("this_year", "本年")
    CUSTOM = ("custom", "自定义")


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _capped(start: dt.date, end: dt.date, anchor: dt.date) -> Period:
    return Period(start, end, min(end, anchor))


def preset_period(preset: Preset, anchor: dt.date, custom: tuple[dt.date, dt.date] | None = None) -> Period:
    """The period a preset names when the data is read as of `anchor`."""
    match preset:
        case Preset.THIS_WEEK:
            start = anchor - dt.timedelta(days=anchor.weekday())
            return _capped(start, start + dt.timedelta(days=6), anchor)
        case Preset.LAST_WEEK:
            end = anchor - dt.timedelta(days=anchor.weekday() + 1)
            return Period(end - dt.timedelta(days=6), end, end)
        case Preset.THIS_MONTH:
            return _capped(_month_start(anchor), _month_end(anchor), anchor)
        case Preset.LAST_MONTH:
            end = _month_start(anchor) - dt.timedelta(days=1)
            return Period(_month_start(end), end, end)
        case Preset.THIS_QUARTER:
            start = dt.date(anchor.year, 3 * ((anchor.month - 1) // 3) + 1, 1)
            end = _month_end(dt.date(start.year, start.month + 2, 1))
            return _capped(start, end, anchor)
        case Preset.THIS_YEAR:
            return _capped(dt.date(anchor.year, 1, 1), dt.date(anchor.year, 12, 31), anchor)
        case Preset.CUSTOM:
            start, end = custom if custom else (anchor - dt.timedelta(days=29), anchor)
            return _capped(start, end, anchor)
    raise AssertionError(preset)


def trailing_months(as_of: dt.date, months: int) -> Period:
    """The `months` months up to and including as_of, read as of as_of (12: the rolling year of the
    priority test, 2024-07-01 .. 2025-06-30 for 2025-06-30)."""
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    start = dt.date(year, month + 1, min(as_of.day, _month_end(dt.date(year, month + 1, 1)).day))
    return Period(start + dt.timedelta(days=1), as_of, as_of)


class Span(LabelledEnum):
    """The spans the 形势分析 compares: a half-year or a year of the calendar, or the rolling year."""

    FIRST_HALF = ("h1", "上半年")
    SECOND_HALF = ("h2", "下半年")
    FULL_YEAR = ("year", "全年")
    LAST_12_MONTHS = ("last12", "近12个月")


def span_period(span: Span, year: int, anchor: dt.date) -> Period:
    """The span of `year` (近12个月: the twelve months up to `anchor`, whatever the year), read as of `anchor`
    when it ends later (a span not yet begun has an as-of date before its start: nothing in it counts)."""
    match span:
        case Span.FIRST_HALF:
            return _capped(dt.date(year, 1, 1), dt.date(year, 6, 30), anchor)
        case Span.SECOND_HALF:
            return _capped(dt.date(year, 7, 1), dt.date(year, 12, 31), anchor)
        case Span.FULL_YEAR:
            return _capped(dt.date(year, 1, 1), dt.date(year, 12, 31), anchor)
        case Span.LAST_12_MONTHS:
            return trailing_months(anchor, 12)
    raise AssertionError(span)


def last_complete_half(anchor: dt.date) -> tuple[Span, int]:
    """The last half-year wholly read by the end of `anchor`: 2024 上半年 for 2024-06-30 to 2024-12-30,
    2024 下半年 from 2024-12-31."""
    if anchor >= dt.date(anchor.year, 12, 31):
        return Span.SECOND_HALF, anchor.year
    if anchor >= dt.date(anchor.year, 6, 30):
        return Span.FIRST_HALF, anchor.year
    return Span.SECOND_HALF, anchor.year - 1


def describe(period: Period) -> str:
    """Chinese text for a period, e.g. 2024-01-01 至 2024-06-30（截至 2024-06-30）."""
    text = f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"
    return f"{text}（数据截至 {period.as_of_date:%Y-%m-%d}）"
