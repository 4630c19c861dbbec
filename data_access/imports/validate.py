"""Validate a frame of text cells against the data contract and type it as an Arrow table.

Vectorised over whole columns (a province file has millions of rows); every problem names the
spreadsheet row (header = 1), the column as the file's header names it, and the value as the file
wrote it. Every check runs in one pass: a missing column is reported with the problems of every
other column, not before them.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from data_access.reference.counties import CountyNames
from data_access.reference.enums import (
    BLANK_SPELLINGS,
    DEFAULT_DOMAIN,
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    Category,
    Channel,
    LabelledEnum,
    ReceivedLevel,
    Satisfaction,
    alias_map,
)
from data_access.reference.privacy import identity_header, identity_values, shown_value
from data_access.reference.problems import MAX_REPORTED_PROBLEMS, DataRejected, Problem, ProblemKind
from data_access.reference.workdays import CALENDAR_END, CALENDAR_START
from data_access.store.database import DEMO_ID_PREFIX
from data_access.store.schema import CASE_COLUMNS, cases

REQUIRED_COLUMNS = ("case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog")
DATE_COLUMNS = ("received_date", "due_date", "closed_date", "accepted_notice_date", "result_notice_date")
BOOL_COLUMNS = ("is_first_report", "is_leapfrog", "is_repeat", "is_real_name", "disputed")
# Dates that record something that has happened: not after the day of the import (a due date may lie ahead).
PAST_DATE_COLUMNS = ("received_date", "closed_date", "accepted_notice_date", "result_notice_date")
ENUM_COLUMNS = {"channel": Channel, "category": Category, "satisfaction": Satisfaction, "received_level": ReceivedLevel}
ENUM_DEFAULTS = {"category": Category.ACCUSATION.value}
# Stored as written, up to the length of the table's column
TEXT_LIMITS = {column: int(getattr(cases.c[column].type, "length", 0)) for column in ("case_id", "domain", "matter_id")}
# Optional columns in which an office's 无, 未办结, 未评价 … means empty (BLANK_SPELLINGS)
BLANKABLE_COLUMNS = ("due_date", "closed_date", "satisfaction", "accepted_notice_date", "result_notice_date",
                     "matter_id", "received_level")
DATE_FORMS = "2025-08-22、2025/8/22、2025.8.22、2025年8月22日、20250822 或 Excel 日期"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's serial dates (1900 system, after its 1900-02-29)

# Chinese header names accepted besides the English ones.
HEADER_ALIASES = {
    "件号": "case_id", "承办县": "county_code", "承办县代码": "county_code", "收件日期": "received_date",
    "渠道": "channel", "来源渠道": "channel", "类别": "category", "件类": "category", "领域": "domain",
    "初次举报": "is_first_report", "越级举报": "is_leapfrog", "重复举报": "is_repeat", "实名举报": "is_real_name",
    "办理期限": "due_date", "办结日期": "closed_date", "满意度": "satisfaction", "评价": "satisfaction",
    "结而不服": "disputed", "受理告知日期": "accepted_notice_date", "结果反馈日期": "result_notice_date",
    # as offices' own exports name them (信访举报管理系统 and hand-kept 台账)
    "信访编号": "case_id", "举报件编号": "case_id", "编号": "case_id", "信访形式": "channel", "举报方式": "channel",
    "受理日期": "received_date", "登记日期": "received_date", "来信来访日期": "received_date",
    "问题属地": "county_code", "承办单位": "county_code", "办理单位": "county_code", "所属县区": "county_code",
    "县区": "county_code", "问题类别": "category", "问题领域": "domain", "反映领域": "domain",
    "是否初信初访": "is_first_report", "是否初次举报": "is_first_report", "是否越级": "is_leapfrog",
    "是否越级举报": "is_leapfrog", "是否重复": "is_repeat", "是否重复举报": "is_repeat", "是否实名": "is_real_name",
    "办结时限": "due_date", "办理时限": "due_date", "办结时间": "closed_date", "办结日期时间": "closed_date",
    "群众评价": "satisfaction", "满意度评价": "satisfaction", "是否结而不服": "disputed",
    "受理告知时间": "accepted_notice_date", "结果反馈时间": "result_notice_date",
    # later synonyms met in offices' exports (2026-12)
    "来源方式": "channel", "来信方式": "channel", "信访方式": "channel", "反映方式": "channel", "举报途径": "channel",
    "受理渠道": "channel", "举报渠道": "channel", "信访渠道": "channel",
    "是否满意": "satisfaction", "评价结果": "satisfaction", "满意情况": "satisfaction", "群众满意度": "satisfaction",
    "举报人评价": "satisfaction", "满意度测评": "satisfaction",
    "结案日期": "closed_date", "结案时间": "closed_date", "办结时间（实际）": "closed_date", "实际办结日期": "closed_date",
    "实际办结时间": "closed_date", "办理完成时间": "closed_date",
    "收件时间": "received_date", "受理时间": "received_date", "登记时间": "received_date", "来件日期": "received_date",
    "收信日期": "received_date", "接收日期": "received_date",
    "办结期限": "due_date", "应办结日期": "due_date", "规定办结日期": "due_date", "限办日期": "due_date",
    "案件编号": "case_id", "信访件号": "case_id", "来件编号": "case_id", "登记编号": "case_id",
    "县（市、区）": "county_code", "县(市、区)": "county_code", "县市区": "county_code", "承办县区": "county_code",
    "所属县（市、区）": "county_code", "县区代码": "county_code",
    "所属领域": "domain", "是否初信": "is_first_report", "初信初访": "is_first_report", "是否重复件": "is_repeat",
    "是否实名举报": "is_real_name", "告知日期": "accepted_notice_date",
    "反馈日期": "result_notice_date", "结果告知日期": "result_notice_date",
    "事项编号": "matter_id", "原件号": "matter_id", "关联件号": "matter_id", "首件件号": "matter_id",
    "受理层级": "received_level", "接收层级": "received_level",
    # not stored: names the city of a county given by name (市中区 is in 济南 and 枣庄)
    "所属市": "city_name", "地市": "city_name", "市": "city_name", "设区市": "city_name", "所属地市": "city_name",
}
HELPER_COLUMNS = ("city_name",)  # read to resolve other columns, never stored


@dataclass
class ValidatedCases:
    """A typed table ready to load, the spreadsheet row of each case, and the columns dropped."""

    table: pa.Table
    rows: np.ndarray
    dropped_columns: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field -> the file's header that fed it
    given_counties: pd.Series | None = None  # each row's county as the file wrote it (历下区, not 370102)
    masked_columns: list[str] = field(default_factory=list)  # identity-like columns: dropped, values never shown

    def shown(self, column: str) -> str:
        """A field as the file's header names it (a problem found later, in the database, speaks the file's language)."""
        return self.headers.get(column, column)

    def given_county(self, position: int) -> str:
        """The county of one row as the file wrote it."""
        if self.given_counties is None:
            return str(self.table["county_code"][position].as_py())
        return str(self.given_counties.iat[position])


@dataclass
class CheckedCases:
    """A file checked against every rule that needs no database: its rows typed (a bad cell empty), and
    the problems (None: the rows may be loaded)."""

    cases: ValidatedCases
    problems: DataRejected | None


# The contract's columns as a problem names them when the file has no such header (a missing column).
COLUMN_NAMES_ZH = {canonical: alias for alias, canonical in reversed(HEADER_ALIASES.items())}


# What each column holds, as the template's 填写说明 and the 数据 page say it (the accepted values come
# from the enums and the parsing rules below).
FIELD_MEANINGS = {
    "case_id": "件号，每件唯一",
    "county_code": "承办的县级单位（县、市、区）",
    "received_date": "收件日期",
    "channel": "信、访、电、网、码",
    "category": "只有检举控告件计入办理指标；空白按检举控告",
    "domain": "反映问题所属领域；空白按“其他”",
    "is_first_report": "是否初次举报",
    "is_leapfrog": "是否越级举报（向有管辖权机关的上级反映）",
    "is_repeat": "是否重复举报；空白按“否”",
    "is_real_name": "是否实名举报；空白按“否”",
    "due_date": "办理期限（含批准的延期）；空白按系统设置的默认期限（收件日期后若干天）计算",
    "closed_date": "办结日期；在办的件留空",
    "satisfaction": "举报人对已办结件的评价；未评价留空",
    "disputed": "结而不服：办结后举报人申请复查、复核或再次举报；空白按“否”",
    "accepted_notice_date": "实名举报：告知举报人已受理的日期",
    "result_notice_date": "实名举报：向举报人反馈结果的日期，不早于办结日期",
    "matter_id": "反映同一事项的多件填同一编号（通常是首件的件号）；空白表示独立事项",
    "received_level": "接收此件的机关层级；不清楚可留空",
    "city_name": "承办县写名称且有重名（如 市中区）时填写所属市；只用于识别，不保存",
}


@dataclass(frozen=True)
class FieldGuide:
    """One column of the contract as an office fills it in: header, whether required, what it accepts."""

    field: str
    header: str  # the Chinese header the template writes
    required: bool
    accepted: str
    meaning: str
    aliases: tuple[str, ...]  # every other header the importer reads as this field


def field_guide() -> list[FieldGuide]:
    """The contract's columns (and 所属市) in order, with what each accepts."""
    booleans = "是/否（也可 1/0、Y/N、true/false）"
    accepted = {
        **dict.fromkeys(DATE_COLUMNS, DATE_FORMS),
        **dict.fromkeys(BOOL_COLUMNS, booleans),
        **{c: "、".join(m.label for m in e) for c, e in ENUM_COLUMNS.items()},
        **{c: f"文字，最多 {n} 个字符" for c, n in TEXT_LIMITS.items()},
        "county_code": "6 位代码（如 370102）或名称（如 历下区、济南市历下区）", "city_name": "市名（如 济南市）",
    }
    dated = dict.fromkeys(PAST_DATE_COLUMNS, "；不能晚于导入当天")
    guide = []
    for column in (*CASE_COLUMNS, *HELPER_COLUMNS):
        header = COLUMN_NAMES_ZH.get(column, column)
        aliases = tuple(a for a, c in HEADER_ALIASES.items() if c == column and a != header)
        guide.append(FieldGuide(column, header, column in REQUIRED_COLUMNS, accepted[column] + dated.get(column, ""),
                                FIELD_MEANINGS[column], (column, *aliases)))
    return guide


class _Collector:
    """Gathers problems column by column; keeps a capped list per check but counts them all. A problem
    names a column as the file's header does (件号, not case_id, in a file with Chinese headers), and its
    value as the file wrote it, unless the value looks personal (privacy.shown_value)."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray, headers: dict[str, str] | None = None, header_row: int = 1):
        self.frame = frame
        self.rows = rows
        self.header_row = header_row
        self.headers = headers or {}
        self.problems: list[tuple[str | None, Problem]] = []  # (the contract's column, the problem)
        self.totals: Counter[ProblemKind] = Counter()

    def shown(self, column: str | None) -> str | None:
        """The column as the file names it (a missing one as the file's other headers would)."""
        if column is None:
            return None
        if column in self.headers:
            return self.headers[column]
        # a column the file lacks: in the language of the file's other headers
        chinese = any(header in HEADER_ALIASES for header in self.headers.values())
        return COLUMN_NAMES_ZH.get(column, column) if chinese else column

    def add(self, mask: pd.Series | np.ndarray, column: str, zh: str, en: str, value_column: str | None = None,
            detail: Callable[[int], tuple[str, str]] | None = None) -> None:
        """Every row of `mask` is a problem of `column`; `detail(position)` adds to the reason row by row."""
        mask = np.asarray(mask, dtype=bool)
        hits = np.flatnonzero(mask)
        self.totals[ProblemKind.VALUE] += len(hits)
        values = self.frame[value_column or column]
        for i in hits[: MAX_REPORTED_PROBLEMS]:
            more_zh, more_en = detail(int(i)) if detail else ("", "")
            self.problems.append((column, Problem(int(self.rows[i]), self.shown(column), shown_value(str(values.iat[i])),
                                                  zh + more_zh, en + more_en)))

    def add_file(self, column: str | None, zh: str, en: str) -> None:
        self.totals[ProblemKind.FILE] += 1
        self.problems.append((column, Problem(self.header_row if column else None, self.shown(column), None, zh, en,
                                              ProblemKind.FILE)))

    def rejection(self) -> DataRejected | None:
        """Everything found, by row and then in the contract's column order (None when nothing was)."""
        totals = {kind: count for kind, count in self.totals.items() if count}
        if not totals:
            return None

        def order(item: tuple[str | None, Problem]) -> tuple[int, int]:
            column, problem = item
            return problem.row or 0, CASE_COLUMNS.index(column) if column in CASE_COLUMNS else 99
        return DataRejected([problem for _, problem in sorted(self.problems, key=order)], totals=totals)


def is_known_header(name: str) -> bool:
    """Whether a header cell names a column the importer reads (the contract's, a synonym, a helper)."""
    canonical = canonical_header(name)
    return canonical in CASE_COLUMNS or canonical in HELPER_COLUMNS


def canonical_header(name: str) -> str:
    """The contract's column name for a header cell (English any case, or a Chinese alias)."""
    stripped = name.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(stripped, stripped.lower())


def check_cases(raw: pd.DataFrame, counties: CountyNames | set[str], rows: np.ndarray | None = None,
                mapping: dict[str, str] | None = None, header_row: int = 1, today: dt.date | None = None) -> CheckedCases:
    """Check every rule of the contract that needs no database, all in one pass; return the rows typed
    (a cell that is wrong left empty) with every problem found.

    Counties may be given by code, or by name when `counties` knows the names (CountyNames). `mapping`
    (file header -> field, '' for none) overrides how the headers are read; identity-like columns are
    never read (privacy). Dates that record an event may not lie after `today` (the day of the import).
    Problems name the spreadsheet row of each frame row from `rows` (default: header row 1, data from row 2).
    """
    rows = np.arange(len(raw)) + 2 if rows is None else np.asarray(rows)
    masked = identity_columns(raw, mapping)
    frame, dropped, headers = _select_known_columns(raw, mapping or {}, masked)
    found = _Collector(frame, rows, headers, header_row)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    for column in missing:
        found.add_file(column, "缺少必需的列", "required column is missing")
    if len(frame) == 0:
        found.add_file(None, "文件中没有案件行", "the file has no case rows")
    given_counties = frame["county_code"].copy() if "county_code" in frame.columns else None

    frame = _fill_optional_columns(frame)  # a missing column reads as empty: the other columns are still checked
    for column in BLANKABLE_COLUMNS:
        frame[column] = frame[column].where(~frame[column].isin(BLANK_SPELLINGS), "")
    found.frame = frame
    for column in REQUIRED_COLUMNS:
        if column not in missing:
            found.add(frame[column] == "", column, "必填项为空", "required value is empty")
    today = today or dt.date.today()
    dates = {c: _parse_dates(frame[c], c, found, today if c in PAST_DATE_COLUMNS else None) for c in DATE_COLUMNS}
    bools = {c: _parse_bools(frame[c], c, found) for c in BOOL_COLUMNS}
    enums = {c: _parse_enum(frame[c], c, e, found) for c, e in ENUM_COLUMNS.items()}
    _check_ids(frame, found)
    frame["county_code"] = _resolve_counties(frame, counties, found)
    _check_consistency(frame, dates, bools, enums, found)

    table = _typed_table(frame, dates, bools, enums)
    validated = ValidatedCases(table=table, rows=rows, dropped_columns=dropped, headers=headers,
                               given_counties=given_counties, masked_columns=masked)
    return CheckedCases(validated, found.rejection())


def validate_cases(raw: pd.DataFrame, counties: CountyNames | set[str], rows: np.ndarray | None = None,
                   mapping: dict[str, str] | None = None, header_row: int = 1, today: dt.date | None = None) -> ValidatedCases:
    """Check every rule of the contract (check_cases); return the typed table or raise DataRejected with all problems."""
    checked = check_cases(raw, counties, rows, mapping, header_row, today)
    if checked.problems is not None:
        raise checked.problems
    return checked.cases


def field_of(name: str, mapping: dict[str, str] | None = None) -> str:
    """The field a file column feeds: as `mapping` says, else as its header reads ('' for none)."""
    if mapping and name in mapping:
        return mapping[name]
    canonical = canonical_header(name)
    return canonical if canonical in CASE_COLUMNS or canonical in HELPER_COLUMNS else ""


def identity_columns(raw: pd.DataFrame, mapping: dict[str, str] | None = None) -> list[str]:
    """The file's identity-like columns (privacy): headers the contract does not know that name a person,
    a contact or free text, or whose values look personal. They are never imported, whatever a mapping says."""
    masked = []
    for name in raw.columns:
        if is_known_header(str(name)):
            continue
        if identity_header(str(name)) or identity_values(raw[name].astype(str)):
            masked.append(str(name))
    return masked


def _select_known_columns(raw: pd.DataFrame, mapping: dict[str, str],
                          masked: list[str]) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Keep the contract's columns; name every other column as dropped (it is never stored); the
    file's header of each kept column."""
    keep: dict[str, str] = {}
    dropped: list[str] = []
    for name in raw.columns:
        canonical = "" if str(name) in masked else field_of(str(name), mapping)
        if canonical and canonical not in keep.values():
            keep[name] = canonical
        else:
            dropped.append(str(name))
    frame = raw[list(keep)].rename(columns=keep)
    headers = {canonical: str(name).strip().lstrip("\ufeff") for name, canonical in keep.items()}
    return frame.astype(object).where(frame.notna(), "").astype(str), dropped, headers


@dataclass(frozen=True)
class ColumnNote:
    """A column of the file that is not imported although its header looks like a field's."""

    column: str
    field: str
    reason_zh: str


def dropped_column_notes(raw: pd.DataFrame, mapping: dict[str, str] | None = None) -> list[ColumnNote]:
    """Warnings for the columns that will be dropped while their header names a field (fed by another
    column already) or looks like one (满意情况 beside 满意度): the data may be lost without anyone noticing."""
    masked = set(identity_columns(raw, mapping))
    fed: dict[str, str] = {}
    notes = []
    for name in map(str, raw.columns):
        if name in masked:
            continue
        chosen = field_of(name, mapping)
        if chosen and chosen not in fed:
            fed[chosen] = name
            continue
        named = canonical_header(name)
        if named in CASE_COLUMNS and named in fed:
            notes.append(ColumnNote(name, named, f"与“{fed[named]}”对应同一字段，只导入了“{fed[named]}”"))
        elif not chosen and (like := resembled_field(name)) is not None:
            notes.append(ColumnNote(name, like, "列名像是这个字段，但系统未能识别，此列未导入"))
    return notes


_GENERIC_WORDS = frozenset({"日期", "时间", "编号", "是否", "类型", "情况", "备注", "序号", "单位", "名称", "状态", "说明"})
_PUNCTUATION = re.compile(r"[\s（）()【】\[\]:：/、_\-—.·]")


def resembled_field(header: str) -> str | None:
    """The contract field a header seems to mean although it is none of the accepted names (满意情况,
    办结日期（实际）, recieved_date), or None."""
    text = _PUNCTUATION.sub("", header.strip().lstrip("\ufeff"))
    if len(text) < 2:
        return None
    best: tuple[int, str] | None = None
    for alias, column in HEADER_ALIASES.items():
        if column not in CASE_COLUMNS or len(alias) < 2:
            continue
        if alias in text or (text in alias and text not in _GENERIC_WORDS):
            if best is None or len(alias) > best[0]:
                best = (len(alias), column)
    if best is not None:
        return best[1]
    names = {alias: column for alias, column in HEADER_ALIASES.items() if column in CASE_COLUMNS and len(alias) >= 2}
    names.update({column: column for column in CASE_COLUMNS})
    close = difflib.get_close_matches(text.lower(), list(names), n=1, cutoff=0.8)  # 满意程度 ~ 满意度, recieved_date
    return names[close[0]] if close else None


def _fill_optional_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for column in CASE_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    return frame


def parse_date_text(text: pd.Series) -> pd.Series:
    """Dates as offices write them to datetime64 (NaT where a cell is empty or no date): ISO, with slashes
    or dots, 2025年8月22日, 20250822, Excel serial numbers, each with or without a time of day after it."""
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # ISO: most cells of most files, fast
    other = parsed.isna() & (text != "")
    if other.any():  # the other forms, read only where needed (the rules are regular expressions)
        parsed[other] = _parse_other_date_forms(text[other])
    return parsed


def _parse_other_date_forms(text: pd.Series) -> pd.Series:
    normal = text.str.strip().str.replace(r"(?:[ T]|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "", regex=True)
    normal = normal.str.replace(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$", r"\1-\2-\3", regex=True)
    normal = normal.str.replace(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})$", r"\1-\2-\3", regex=True)
    normal = normal.str.replace(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", regex=True)
    parsed = pd.to_datetime(normal, format="%Y-%m-%d", errors="coerce")
    serial = normal.str.fullmatch(r"\d{5}(?:\.\d+)?").fillna(False).astype(bool)
    if serial.any():  # a date cell Excel stored as a number (a workbook's General format, or its CSV)
        days = pd.to_numeric(normal.where(serial), errors="coerce") // 1
        parsed = parsed.where(~serial, EXCEL_EPOCH + pd.to_timedelta(days, unit="D"))
    return parsed


def _parse_dates(text: pd.Series, column: str, found: _Collector, not_after: dt.date | None) -> pd.Series:
    """One date column to datetime64 (NaT when empty or wrong); a date after `not_after` is a problem."""
    parsed = parse_date_text(text)
    present = text != ""
    found.add(present & parsed.isna(), column, f"不是有效日期（可写 {DATE_FORMS}）",
              "not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.M.D, YYYY年M月D日, YYYYMMDD or an Excel date)")
    lo, hi = pd.Timestamp(CALENDAR_START), pd.Timestamp(CALENDAR_END)
    out_of_range = parsed.notna() & ((parsed < lo) | (parsed > hi))
    found.add(out_of_range, column, f"日期超出支持范围 {CALENDAR_START.year}–{CALENDAR_END.year} 年",
              f"date outside the supported years {CALENDAR_START.year}-{CALENDAR_END.year}")
    parsed = parsed.where(~out_of_range)
    if not_after is not None:
        found.add(parsed > pd.Timestamp(not_after), column, f"日期晚于导入当天（{not_after}），尚未发生，请核对",
                  f"date after the day of the import ({not_after}): it has not happened yet")
    return parsed


def _parse_bools(text: pd.Series, column: str, found: _Collector) -> pd.Series:
    lowered = text.str.lower()
    truthy = lowered.isin(TRUE_SPELLINGS)
    bad = (text != "") & ~truthy & ~lowered.isin(FALSE_SPELLINGS)
    found.add(bad, column, "不是有效的是/否值（可用 1/0、true/false、yes/no、是/否、Y/N）",
              "not a boolean (use 1/0, true/false, yes/no, 是/否, Y/N)")
    return truthy


def _parse_enum(text: pd.Series, column: str, enum_cls: type[LabelledEnum], found: _Collector) -> pd.Series:
    mapping = alias_map(enum_cls)
    mapped = text.str.lower().map(mapping)
    allowed = "、".join(f"{m.value}/{m.label}" for m in enum_cls)
    found.add((text != "") & mapped.isna(), column, f"取值无效，应为 {allowed}", f"invalid value; expected one of {allowed}")
    default = ENUM_DEFAULTS.get(column)
    return mapped.where(text != "", default) if default else mapped


def _check_ids(frame: pd.DataFrame, found: _Collector) -> None:
    ids = frame["case_id"]
    dup = ids.duplicated(keep="first") & (ids != "")
    if dup.any():  # name the row each repeats: an office looks at both
        first = pd.Series(np.arange(len(ids)), index=ids.index).groupby(ids.to_numpy()).transform("first").to_numpy()

        def repeated(position: int) -> tuple[str, str]:
            row = int(found.rows[first[position]])
            return f"（与第 {row} 行相同）", f" (same as row {row})"
        found.add(dup, "case_id", "件号在文件中重复", "duplicate case_id in this file", detail=repeated)
    reserved = ids.str.upper().str.startswith(DEMO_ID_PREFIX)
    found.add(reserved, "case_id", f"件号前缀 {DEMO_ID_PREFIX} 留给演示数据，真实案件不能使用",
              f"the case_id prefix {DEMO_ID_PREFIX} is reserved for demo cases")
    for column, limit in TEXT_LIMITS.items():
        found.add(frame[column].str.len() > limit, column, f"过长：最多 {limit} 个字符", f"longer than {limit} characters")


def _resolve_counties(frame: pd.DataFrame, counties: CountyNames | set[str], found: _Collector) -> pd.Series:
    """The county code of every row: a code as given, a name looked up (with the row's 所属市 if the file
    has one). An unknown value, or a name several units share without a city, is a problem."""
    codes = frame["county_code"]
    if not isinstance(counties, CountyNames):
        found.add((codes != "") & ~codes.isin(counties), "county_code", "不是地区表中的县级单位代码",
                  "not a county-level code in the regions table")
        return codes
    todo = (codes != "") & ~codes.isin(counties.codes)
    if not todo.any():
        return codes
    city = frame["city_name"] if "city_name" in frame.columns else pd.Series("", index=frame.index)
    pairs = list(zip(codes[todo], city[todo], strict=True))
    meaning = {pair: counties.candidates(*pair) for pair in set(pairs)}
    options = pd.Series([()] * len(frame), index=frame.index, dtype=object)
    options[todo] = [meaning[pair] for pair in pairs]
    count = options.map(len)
    found.add(todo & (count == 0), "county_code", "不是地区表中的县级单位代码或名称",
              "not a county-level code or name in the regions table")
    for (value, _), shared in sorted(meaning.items()):
        if len(shared) > 1:
            rows = todo & (codes == value) & options.map(lambda o, s=shared: o == s)
            found.add(rows, "county_code", f"{value} 有 {len(shared)} 个：{counties.describe(shared)}，请写明所属市",
                      f"'{value}' names {len(shared)} units ({', '.join(shared)}): give the city")
    named = todo & (count == 1)
    return codes.where(~named, options.map(lambda o: o[0] if len(o) == 1 else ""))


def _check_consistency(frame: pd.DataFrame, dates: dict[str, pd.Series], bools: dict[str, pd.Series],
                       enums: dict[str, pd.Series], found: _Collector) -> None:
    received, closed = dates["received_date"], dates["closed_date"]
    found.add(closed < received, "closed_date", "办结日期早于收件日期", "closed_date before received_date")
    found.add(dates["due_date"] < received, "due_date", "办理期限早于收件日期", "due_date before received_date")
    found.add(dates["accepted_notice_date"] < received, "accepted_notice_date", "受理告知日期早于收件日期",
              "accepted_notice_date before received_date")
    not_closed = closed.isna() & (frame["closed_date"] == "")
    found.add(not_closed & enums["satisfaction"].notna(), "satisfaction", "未办结的件不能有满意度评价",
              "satisfaction on a case that is not closed")
    found.add(not_closed & bools["disputed"], "disputed", "未办结的件不能标记结而不服", "disputed on a case that is not closed")
    found.add(not_closed & dates["result_notice_date"].notna(), "result_notice_date", "未办结的件不能有结果反馈日期",
              "result_notice_date on a case that is not closed")
    found.add(dates["result_notice_date"] < closed, "result_notice_date", "结果反馈日期早于办结日期",
              "result_notice_date before closed_date")


def _typed_table(frame: pd.DataFrame, dates: dict[str, pd.Series], bools: dict[str, pd.Series],
                 enums: dict[str, pd.Series]) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for name in CASE_COLUMNS:
        if name in dates:
            stamps = dates[name].to_numpy(dtype="datetime64[ms]")
            columns[name] = pa.array(stamps, type=pa.timestamp("ms"), from_pandas=True).cast(pa.date32())
        elif name in bools:
            columns[name] = pa.array(bools[name].to_numpy(dtype=bool), type=pa.bool_())
        elif name in enums:
            columns[name] = pa.array(enums[name].astype(object).where(enums[name].notna(), None), type=pa.string())
        elif name == "domain":
            columns[name] = pa.array(frame[name].where(frame[name] != "", DEFAULT_DOMAIN), type=pa.string())
        elif name == "matter_id":  # empty: a matter of its own
            columns[name] = pa.array(frame[name].where(frame[name] != "", None), type=pa.string())
        else:
            columns[name] = pa.array(frame[name], type=pa.string())
    return pa.table(columns)
