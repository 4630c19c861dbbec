"""Local settings of the documents the app issues (the [documents] section of the settings file): who issues
them, the 文号 pattern of each kind of document and the working days given for answers.

A pattern holds {org} (the issuing office's 机关代字: the province's from the settings, a city's from its name),
{year} (the 成文日期's year) and {seq} (the number's sequence, taken from the 文号 register when the document is
issued: data_access.supervision.document_register). Text settings carry their Chinese label and a length limit; numbers go
through data_access.store.config's checks (setting / section). Absent keys (or an absent section) keep the defaults below.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_access.reference.workdays import workday_after
from data_access.store.config import SettingsError, read_settings_file, section, setting, settings_path
from data_access.supervision.document_register import DocumentKind, Issued, format_number

SECTION = "documents"
TEXT_MAX = 40
PLACEHOLDERS = ("org", "year", "seq")
DRAFT_SEQ = "　　"  # the blank a draft leaves for the number: 鲁纪信通〔2026〕　　号
PATTERN_FIELDS = {DocumentKind.WEEKLY: "number_pattern", DocumentKind.HOTLINE_CITY: "monthly_number_pattern",
                  DocumentKind.HOTLINE_COUNTY: "county_number_pattern", DocumentKind.HOTLINE_SUMMARY: "summary_number_pattern",
                  DocumentKind.NOTICE: "notice_number_pattern", DocumentKind.ANALYSIS: "analysis_number_pattern",
                  DocumentKind.CAMPAIGN_LETTER: "campaign_number_pattern"}


def text_setting(default: str, label: str) -> Any:
    """A text field of a settings section: its default and Chinese label (non-empty, at most TEXT_MAX characters)."""
    return dataclasses.field(default=default, metadata={"label": label, "unit": "", "text": True})


def _pattern(default: str, what: str) -> Any:
    return text_setting(default, f"{what}文号格式（{{org}} 发文机关代字、{{year}} 年份、{{seq}} 序号）")


@dataclass(frozen=True)
class DocumentSettings:
    """Who issues the documents, how each kind is numbered and how long recipients have to answer."""

    province_name: str = text_setting("山东省", "省份名称（全省材料的发文单位以此开头）")
    issuer_suffix: str = text_setting("纪委监委信访室", "发文单位（接在省、市名称之后）")
    province_code_word: str = text_setting("鲁纪信", "省级发文机关代字（文号中 {org} 的部分）")
    city_code_word_suffix: str = text_setting("纪信", "市级发文机关代字（接在市名简称之后，如 济宁纪信）")
    number_pattern: str = _pattern("{org}通〔{year}〕{seq}号", "周例会通报")
    monthly_number_pattern: str = _pattern("{org}月通〔{year}〕{seq}号", "12388 各市通报")
    county_number_pattern: str = _pattern("{org}督通〔{year}〕{seq}号", "重点督导县点对点通报")
    summary_number_pattern: str = _pattern("{org}报〔{year}〕{seq}号", "12388 月度汇总")
    notice_number_pattern: str = _pattern("{org}督〔{year}〕{seq}号", "督办通知单")
    analysis_number_pattern: str = _pattern("{org}析〔{year}〕{seq}号", "形势分析报告")
    campaign_number_pattern: str = _pattern("{org}交〔{year}〕{seq}号", "越级重复举报专项治理交办函")
    reply_workdays: int = setting(5, "整改情况、办理进展反馈期限（周例会通报、点对点通报成文日期后）", "个工作日", 1, 60)
    feedback_workdays: int = setting(10, "12388 来电核查情况反馈期限（各市通报成文日期后）", "个工作日", 1, 60)

    def __post_init__(self) -> None:
        for name in PATTERN_FIELDS.values():
            pattern = getattr(self, name)
            try:
                pattern.format(org="鲁纪信", year=2024, seq=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise SettingsError(f"{name} = {pattern!r}：只可使用 {{org}}、{{year}}、{{seq}}"
                                    f" / unknown placeholder {exc}") from exc
            if "{seq}" not in pattern:
                raise SettingsError(f"{name} = {pattern!r}：应含 {{seq}}（文号序号，由文号登记表按年依次给出）"
                                    " / the pattern must hold {seq}")

    def issuer(self, region_name: str) -> str:
        """The issuing office of a region's documents: 山东省纪委监委信访室, 济宁市纪委监委信访室."""
        return f"{self.province_name if region_name == '全省' else region_name}{self.issuer_suffix}"

    def code_word(self, region_name: str) -> str:
        """The issuing office's 机关代字: the province's setting (鲁纪信), a city's short name and suffix (济宁纪信)."""
        if region_name in ("全省", self.province_name):
            return self.province_code_word
        short = region_name[:-1] if region_name.endswith(("市", "州", "盟")) and len(region_name) > 2 else region_name
        return f"{short}{self.city_code_word_suffix}"

    def series(self, kind: DocumentKind, region_name: str) -> str:
        """The pattern a document of `kind` issued by `region_name`'s office is numbered in: 鲁纪信督〔{year}〕{seq}号."""
        return getattr(self, PATTERN_FIELDS[kind]).replace("{org}", self.code_word(region_name))

    def draft_number(self, kind: DocumentKind, region_name: str, day: dt.date) -> str:
        """The number line of a draft not yet issued: the number left blank (鲁纪信通〔2026〕　　号)."""
        return format_number(self.series(kind, region_name), day.year, DRAFT_SEQ)

    def reply_due(self, day: dt.date) -> dt.date:
        """The day by which 整改 or progress is reported on, for a 通报 dated `day`: reply_workdays working days on."""
        return workday_after(day, self.reply_workdays)

    def feedback_due(self, day: dt.date) -> dt.date:
        """The day by which cities answer a 12388 通报 dated `day`: feedback_workdays working days on."""
        return workday_after(day, self.feedback_workdays)


DEFAULT_DOCUMENT_SETTINGS = DocumentSettings()


@dataclass(frozen=True)
class Issuance:
    """What a document is issued with: its number (None: a draft, the number left blank), its 成文日期 and the
    deadline it states (None: working days from the date, as the settings say)."""

    dated: dt.date
    number: str | None = None
    due: dt.date | None = None


def numbers_text(issued: Sequence[Issued]) -> str:
    """鲁纪信报〔2026〕1号、鲁纪信月通〔2026〕1号至16号: the numbers issued, a run of one series shortened."""
    def head(doc: Issued) -> str | None:  # the number before its sequence, when it ends "<seq>号"
        tail = f"{doc.seq}号"
        return doc.number[:-len(tail)] if doc.number.endswith(tail) else None

    runs: list[list[Issued]] = []
    for doc in issued:
        last = runs[-1][-1] if runs else None
        if last is not None and head(doc) is not None and head(doc) == head(last) and last.seq + 1 == doc.seq:
            runs[-1].append(doc)
        else:
            runs.append([doc])
    return "、".join(run[0].number if len(run) == 1 else f"{head(run[0])}{run[0].seq}号至{run[-1].seq}号" for run in runs)


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
    except SettingsError as exc:  # the number patterns (__post_init__)
        raise SettingsError(f"{where}：{exc}") from exc
