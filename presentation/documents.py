"""Local settings of the documents the meeting circulates (the [documents] section of the settings file):
who issues the 通报, its document-number pattern and the deadline given for 整改.

Text settings carry their Chinese label and a length limit; numbers go through data_access.config's
checks (setting / section). Absent keys (or an absent section) keep the defaults below.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_access.config import SettingsError, read_settings_file, section, setting, settings_path

SECTION = "documents"
TEXT_MAX = 40
NUMBER_FIELDS = ("year", "week", "month", "day")


def text_setting(default: str, label: str) -> Any:
    """A text field of a settings section: its default and Chinese label (non-empty, at most TEXT_MAX characters)."""
    return dataclasses.field(default=default, metadata={"label": label, "unit": "", "text": True})


@dataclass(frozen=True)
class DocumentSettings:
    """Who issues the meeting's documents and how they are numbered."""

    province_name: str = text_setting("山东省", "省份名称（全省材料的发文单位以此开头）")
    issuer_suffix: str = text_setting("纪委监委信访室", "发文单位（接在省、市名称之后）")
    number_pattern: str = text_setting("鲁纪信通〔{year}〕{week}号",
                                       "通报文号格式（可用 {year} 年、{week} 周次、{month} 月、{day} 日）")
    monthly_number_pattern: str = text_setting("鲁纪信月通〔{year}〕{month}号",
                                               "12388 月度通报文号格式（可用 {year} 年、{month} 月）")
    reply_days: int = setting(7, "整改情况反馈期限（通报日期后）", "天", 1, 60)

    def __post_init__(self) -> None:
        for name in ("number_pattern", "monthly_number_pattern"):
            pattern = getattr(self, name)
            try:
                pattern.format(year=2024, week=1, month=1, day=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise SettingsError(f"{name} = {pattern!r}：只可使用 {{year}}、{{week}}、{{month}}、"
                                    f"{{day}} / unknown placeholder {exc}") from exc

    def issuer(self, region_name: str) -> str:
        """The issuing office of a region's pack: 山东省纪委监委信访室, 济宁市纪委监委信访室."""
        return f"{self.province_name if region_name == '全省' else region_name}{self.issuer_suffix}"

    def number(self, day: dt.date) -> str:
        """The document number of a 通报 dated `day`: 鲁纪信通〔2024〕26号 (26: the ISO week)."""
        return self.number_pattern.format(year=day.isocalendar().year, week=day.isocalendar().week, month=day.month,
                                          day=day.day)

    def monthly_number(self, month: str, day: dt.date) -> str:
        """The number of the 12388 通报 of `month` (YYYY-MM) dated `day`: 鲁纪信月通〔2026〕10号."""
        return self.monthly_number_pattern.format(year=int(month[:4]), month=int(month[5:7]), week=day.isocalendar().week,
                                                  day=day.day)

    def reply_due(self, day: dt.date) -> dt.date:
        """The day by which 整改 is reported on, for a 通报 dated `day`."""
        return day + dt.timedelta(days=self.reply_days)


DEFAULT_DOCUMENT_SETTINGS = DocumentSettings()


def _text(where: str, field: dataclasses.Field[Any], value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX:
        raise SettingsError(f"{where} {field.name}（{field.metadata['label']}）= {value!r}：应为 1 至 {TEXT_MAX} 个字的文字"
                            " / must be non-empty text")
    return value.strip()


def load_document_settings(path: Path | None = None) -> DocumentSettings:
    """The [documents] section of the settings file in force (defaults for what it leaves out);
    SettingsError, in Chinese, naming the key and value, when a value is not allowed."""
    values = read_settings_file(path).get(SECTION, {})
    if not isinstance(values, dict):
        raise SettingsError(f"设置文件 {path or settings_path()} [{SECTION}]：应为一节键值 / must be a table")
    fields = {f.name: f for f in dataclasses.fields(DocumentSettings)}
    texts = {k: v for k, v in values.items() if k in fields and fields[k].metadata.get("text")}
    numbers = section({SECTION: {k: v for k, v in values.items() if k not in texts}}, SECTION, DocumentSettings, path)
    where = f"设置文件 {path or settings_path()} [{SECTION}]"
    checked: dict[str, Any] = {k: _text(where, fields[k], v) for k, v in texts.items()}
    try:
        return dataclasses.replace(numbers, **checked)
    except SettingsError as exc:  # the number pattern (__post_init__)
        raise SettingsError(f"{where}：{exc}") from exc
