"""Local settings of the metric definitions; the defaults are those of metrics.md.

A deployment changes them in the [metrics] section of its settings file (data_access.store.config), which
is checked when the app or a command starts; the 指标口径 page lists the values in force.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data_access.store.config import SettingsError, read_settings_file, section, setting

SECTION = "metrics"


@dataclass(frozen=True)
class Settings:
    """Settings that change numbers; every cache key includes them."""

    default_due_days: int = setting(60, "办理期限为空时的默认期限（收件后）", "天", 1, 365)
    warning_workdays: int = setting(5, "黄色预警（临期）窗口", "个工作日", 1, 30)
    priority_window_months: int = setting(12, "重点督导检验的统计窗口（截至截止日期）", "个月", 1, 36)
    min_volume: int = setting(10, "重点督导检验的最小样本（初次举报应办结件、检举控告件）", "件", 1, 1000)
    z_priority: float = setting(1.96, "重点督导界限（两项检验 z 均达到）", "", 1.0, 5.0)
    z_watch: float = setting(3.09, "关注界限（任一项检验 z 达到）", "", 1.0, 6.0)
    spc_recent_weeks: int = setting(8, "变差信号：近期周数", "周", 4, 26)
    spc_baseline_weeks: int = setting(26, "变差信号：基线周数", "周", 8, 104)
    spc_sigma: float = setting(3.0, "变差信号：控制限倍数（σ）", "", 1.0, 5.0)
    spc_min_baseline_due: int = setting(30, "变差信号：基线最少应办结件", "件", 1, 1000)
    spc_shift_run: int = setting(7, "变差信号：连续低于均值的周数（偏移）", "周", 3, 20)
    spc_trend_run: int = setting(5, "变差信号：连续下降的点数（趋势）", "个点", 3, 20)
    # how stale the per-county daily summary may be read after cases are changed in place (metrics/summary.py)
    summary_check_seconds: int = setting(300, "按县按日汇总表与案件表的核对间隔（案件表被直接修改后最迟多久发现）", "秒",
                                         0, 86400)
    # repeat matters (越级重复举报专项治理, metrics/matters.py)
    settle_quiet_days: int = setting(90, "重复举报事项：案结事了所需的无新举报天数", "天", 1, 3650)
    screen_min_reports: int = setting(3, "重复举报事项：列入筛选、定为“重点”的最少举报件数", "件", 2, 1000)
    serious_min_reports: int = setting(6, "重复举报事项：定为“突出”的最少举报件数", "件", 2, 1000)

    def __post_init__(self) -> None:
        if self.z_watch < self.z_priority:
            raise SettingsError(f"z_watch（关注界限）= {self.z_watch} 不应小于 z_priority（重点督导界限）"
                                f"= {self.z_priority} / z_watch must not be below z_priority")
        if max(self.spc_shift_run, self.spc_trend_run) > self.spc_recent_weeks:
            raise SettingsError(f"spc_shift_run / spc_trend_run 不应大于 spc_recent_weeks = "
                                f"{self.spc_recent_weeks} / a run cannot be longer than the recent weeks")
        if self.serious_min_reports < self.screen_min_reports:
            raise SettingsError(f"serious_min_reports（突出）= {self.serious_min_reports} 不应小于 screen_min_reports（重点）"
                                f"= {self.screen_min_reports} / serious_min_reports must not be below screen_min_reports")


DEFAULT_SETTINGS = Settings()


def load_settings(path: Path | None = None) -> Settings:
    """The [metrics] section of the settings file in force (defaults for what it leaves out);
    SettingsError, in Chinese, naming the key and value, when a value is not allowed."""
    return section(read_settings_file(path), SECTION, Settings, path)
