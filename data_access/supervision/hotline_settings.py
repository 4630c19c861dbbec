"""Local settings of the 12388 monthly cycle: the [hotline] section of the settings file.

Absent keys (or an absent section) keep the defaults below; every value is checked at start, with
Chinese errors naming the key and the value (data_access.store.config).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from data_access.store.config import read_settings_file, section, setting

SECTION = "hotline"


@dataclass(frozen=True)
class HotlineSettings:
    """How the month-end 通报, the cities' feedback and the 抽查 work."""

    spot_check_share: float = setting(0.2, "抽查比例（反馈不属实的来电，每市至少 1 件）", "", 0.01, 1.0)
    feedback_day: int = setting(10, "地市反馈截止日（通报次月的第几日）", "日", 1, 28)
    reply_workdays: int = setting(10, "挂账督办的反馈期限（挂账后）", "个工作日", 1, 60)

    def feedback_due(self, month: str) -> dt.date:
        """The day by which cities answer the 通报 of `month` (YYYY-MM): feedback_day of the next month."""
        year, number = int(month[:4]), int(month[5:7])
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
        return dt.date(year, number, self.feedback_day)


DEFAULT_HOTLINE_SETTINGS = HotlineSettings()


def load_hotline_settings(path: Path | None = None) -> HotlineSettings:
    """The [hotline] section of the settings file in force (defaults for what it leaves out);
    SettingsError, in Chinese, naming the key and value, when a value is not allowed."""
    return section(read_settings_file(path), SECTION, HotlineSettings, path)
