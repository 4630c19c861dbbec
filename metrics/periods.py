"""Named review periods (本周, 上周, 本月, ...) relative to an anchor date, per the spec's weeks.

"This week" as of A is the Monday-Sunday week holding A, read as of A; "last week" is the week
before, read as of its own Sunday. Months, quarters and years follow the same rule.
"""
from __future__ import annotations

import datetime as dt

from data_access.enums import LabelledEnum

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


def describe(period: Period) -> str:
    """Chinese text for a period, e.g. 2024-01-01 至 2024-06-30（截至 2024-06-30）."""
    text = f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"
    return f"{text}（数据截至 {period.as_of_date:%Y-%m-%d}）"
