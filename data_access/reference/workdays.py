"""The official PRC working-day calendar as arrays, and its table rows.

`chinese_calendar` carries the State Council's holidays and 调休 working weekends for the years
it knows; outside those years Monday to Friday are working days (rows marked official=False).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

CALENDAR_START = dt.date(2000, 1, 1)
CALENDAR_END = dt.date(2045, 12, 31)
DEADLINE_WORKDAYS = 15
# A 15-working-day deadline falls at most this many calendar days after the date it follows (15 working
# days plus the longest holiday run): what lies further back cannot reach a deadline in a period.
DEADLINE_REACH_DAYS = 40


@dataclass(frozen=True)
class WorkdayCalendar:
    """Day-indexed arrays from CALENDAR_START: is_workday, official, and the 15-workday deadline."""

    days: np.ndarray  # datetime64[D]
    is_workday: np.ndarray  # bool
    official: np.ndarray  # bool
    deadline_15: np.ndarray  # datetime64[D]

    def deadline_after(self, dates: np.ndarray, workdays: int = DEADLINE_WORKDAYS) -> np.ndarray:
        """The `workdays`-th working day strictly after each date (the date itself is day 0)."""
        dates = np.asarray(dates, dtype="datetime64[D]")
        if workdays == DEADLINE_WORKDAYS:
            return np.asarray(self.deadline_15[self.index_of(dates)])
        return _nth_workday_after(self.days, self.is_workday, self.index_of(dates), workdays)

    def index_of(self, dates: np.ndarray) -> np.ndarray:
        """Positions of the dates in the calendar arrays (raises if any is outside the calendar)."""
        idx = (np.asarray(dates, dtype="datetime64[D]") - self.days[0]).astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.days)):
            raise ValueError(f"date outside the working-day calendar {CALENDAR_START}..{CALENDAR_END}")
        return np.asarray(idx)


def workday_after(day: dt.date, workdays: int) -> dt.date:
    """The `workdays`-th working day after `day` on the official calendar (`day` itself is day 0): a deadline of
    N working days given on `day`."""
    found = load_calendar().deadline_after(np.array([day], dtype="datetime64[D]"), workdays)[0]
    return dt.date.fromisoformat(str(found))


def _official_years() -> tuple[int, int]:
    known = sorted(chinese_calendar.holidays)
    return known[0].year, known[-1].year


def official_range() -> tuple[dt.date, dt.date]:
    """First and last day that the official calendar package covers."""
    first, last = _official_years()
    return dt.date(first, 1, 1), dt.date(last, 12, 31)


def _nth_workday_after(days: np.ndarray, is_workday: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    seq = np.cumsum(is_workday)  # working days up to and including each day
    workday_pos = np.flatnonzero(is_workday)
    target_seq = seq[idx] + n  # the n-th working day after has this running count
    pos = workday_pos[np.minimum(target_seq - 1, len(workday_pos) - 1)]
    return np.asarray(days[pos])


@lru_cache(maxsize=1)
def load_calendar() -> WorkdayCalendar:
    """Build the calendar from CALENDAR_START to CALENDAR_END (cached)."""
    days = np.arange(np.datetime64(CALENDAR_START), np.datetime64(CALENDAR_END) + 1, dtype="datetime64[D]")
    first, last = official_range()
    official = (days >= np.datetime64(first)) & (days <= np.datetime64(last))
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday -> 0=Mon
    is_workday = weekday < 5
    py_days = days[official].astype(dt.date)
    is_workday[official] = np.fromiter((chinese_calendar.is_workday(d) for d in py_days), bool, len(py_days))
    deadline = _nth_workday_after(days, is_workday, np.arange(len(days)), DEADLINE_WORKDAYS)
    return WorkdayCalendar(days=days, is_workday=is_workday, official=official, deadline_15=deadline)


def calendar_frame() -> pd.DataFrame:
    """Rows of the workday_calendar table."""
    cal = load_calendar()
    return pd.DataFrame(
        {
            "day": cal.days.astype("datetime64[s]").astype("datetime64[ms]"),
            "is_workday": cal.is_workday,
            "official": cal.official,
            "deadline_15": cal.deadline_15.astype("datetime64[ms]"),
        }
    )
