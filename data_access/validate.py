"""Validate a frame of text cells against the data contract and type it as an Arrow table.

Vectorised over whole columns (a province file has millions of rows); every problem names the
spreadsheet row (header = 1), the column and the value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from .counties import CountyNames
from .enums import (
    DEFAULT_DOMAIN,
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    Category,
    Channel,
    LabelledEnum,
    Satisfaction,
    alias_map,
)
from .problems import MAX_REPORTED_PROBLEMS, DataRejected, Problem
from .schema import CASE_COLUMNS
from .workdays import CALENDAR_END, CALENDAR_START

REQUIRED_COLUMNS = ("case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog")
DATE_COLUMNS = ("received_date", "due_date", "closed_date", "accepted_notice_date", "result_notice_date")
BOOL_COLUMNS = ("is_first_report", "is_leapfrog", "is_repeat", "is_real_name", "disputed")
ENUM_COLUMNS = {"channel": Channel, "category": Category, "satisfaction": Satisfaction}
ENUM_DEFAULTS = {"category": Category.ACCUSATION.value}

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
    # not stored: names the city of a county given by name (市中区 is in 济南 and 枣庄)
    "所属市": "city_name", "地市": "city_name", "市": "city_name",
}
HELPER_COLUMNS = ("city_name",)  # read to resolve other columns, never stored


@dataclass
class ValidatedCases:
    """A typed table ready to load, the spreadsheet row of each case, and the columns dropped."""

    table: pa.Table
    rows: np.ndarray
    dropped_columns: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field -> the file's header that fed it

    def shown(self, column: str) -> str:
        """A field as the file's header names it (a problem found later, in the database, speaks the file's language)."""
        return self.headers.get(column, column)


# The contract's columns as a problem names them when the file has no such header (a missing column).
COLUMN_NAMES_ZH = {canonical: alias for alias, canonical in reversed(HEADER_ALIASES.items())}
DEMO_ID_PREFIX = "DEMO-"  # reserved for the demo generator's cases (data_access/demo.py), refused on import


class _Collector:
    """Gathers problems column by column; keeps a capped list but counts them all. A problem names a
    column as the file's header does (件号, not case_id, in a file with Chinese headers)."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray, headers: dict[str, str] | None = None, header_row: int = 1):
        self.frame = frame
        self.rows = rows
        self.header_row = header_row
        self.headers = headers or {}
        self.problems: list[tuple[str | None, Problem]] = []  # (the contract's column, the problem)
        self.total = 0

    def shown(self, column: str | None) -> str | None:
        """The column as the file names it (a missing one as the file's other headers would)."""
        if column is None:
            return None
        if column in self.headers:
            return self.headers[column]
        # a column the file lacks: in the language of the file's other headers
        chinese = any(header in HEADER_ALIASES for header in self.headers.values())
        return COLUMN_NAMES_ZH.get(column, column) if chinese else column

    def add(self, mask: pd.Series | np.ndarray, column: str, zh: str, en: str, value_column: str | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        hits = np.flatnonzero(mask)
        self.total += len(hits)
        values = self.frame[value_column or column]
        for i in hits[: MAX_REPORTED_PROBLEMS]:
            self.problems.append((column, Problem(int(self.rows[i]), self.shown(column), str(values.iat[i]), zh, en)))

    def add_file(self, column: str | None, zh: str, en: str) -> None:
        self.total += 1
        self.problems.append((column, Problem(self.header_row if column else None, self.shown(column), None, zh, en)))

    def raise_if_any(self) -> None:
        if self.total:
            def order(item: tuple[str | None, Problem]) -> tuple[int, int]:
                column, problem = item
                return problem.row or 0, CASE_COLUMNS.index(column) if column in CASE_COLUMNS else 99
            raise DataRejected([problem for _, problem in sorted(self.problems, key=order)], self.total)


def is_known_header(name: str) -> bool:
    """Whether a header cell names a column the importer reads (the contract's, a synonym, a helper)."""
    canonical = canonical_header(name)
    return canonical in CASE_COLUMNS or canonical in HELPER_COLUMNS


def canonical_header(name: str) -> str:
    """The contract's column name for a header cell (English any case, or a Chinese alias)."""
    stripped = name.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(stripped, stripped.lower())


def validate_cases(raw: pd.DataFrame, counties: CountyNames | set[str], rows: np.ndarray | None = None,
                   mapping: dict[str, str] | None = None, header_row: int = 1) -> ValidatedCases:
    """Check every rule of the contract; return the typed table or raise DataRejected with all problems.

    Counties may be given by code, or by name when `counties` knows the names (CountyNames). `mapping`
    (file header -> field, '' for none) overrides how the headers are read.
    Problems name the spreadsheet row of each frame row from `rows` (default: header row 1, data from row 2).
    """
    rows = np.arange(len(raw)) + 2 if rows is None else np.asarray(rows)
    frame, dropped, headers = _select_known_columns(raw, mapping or {})
    found = _Collector(frame, rows, headers, header_row)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    for column in missing:
        found.add_file(column, "缺少必需的列", "required column is missing")
    if len(frame) == 0 and not missing:
        found.add_file(None, "文件中没有案件行", "the file has no case rows")
    found.raise_if_any()

    frame = _fill_optional_columns(frame)
    found.frame = frame
    for column in REQUIRED_COLUMNS:
        found.add(frame[column] == "", column, "必填项为空", "required value is empty")
    dates = {c: _parse_dates(frame[c], c, found) for c in DATE_COLUMNS}
    bools = {c: _parse_bools(frame[c], c, found) for c in BOOL_COLUMNS}
    enums = {c: _parse_enum(frame[c], c, e, found) for c, e in ENUM_COLUMNS.items()}
    _check_ids(frame, found)
    frame["county_code"] = _resolve_counties(frame, counties, found)
    _check_consistency(frame, dates, bools, enums, found)
    found.raise_if_any()

    table = _typed_table(frame, dates, bools, enums)
    return ValidatedCases(table=table, rows=rows, dropped_columns=dropped, headers=headers)


def field_of(name: str, mapping: dict[str, str] | None = None) -> str:
    """The field a file column feeds: as `mapping` says, else as its header reads ('' for none)."""
    if mapping and name in mapping:
        return mapping[name]
    canonical = canonical_header(name)
    return canonical if canonical in CASE_COLUMNS or canonical in HELPER_COLUMNS else ""


def _select_known_columns(raw: pd.DataFrame, mapping: dict[str, str]) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Keep the contract's columns; name every other column as dropped (it is never stored); the
    file's header of each kept column."""
    keep: dict[str, str] = {}
    dropped: list[str] = []
    for name in raw.columns:
        canonical = field_of(str(name), mapping)
        if canonical and canonical not in keep.values():
            keep[name] = canonical
        else:
            dropped.append(str(name))
    frame = raw[list(keep)].rename(columns=keep)
    headers = {canonical: str(name).strip().lstrip("\ufeff") for name, canonical in keep.items()}
    return frame.astype(object).where(frame.notna(), "").astype(str), dropped, headers


def _fill_optional_columns(frame: pd.DataFrame) -> pd.DataFrame:
    for column in CASE_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    return frame


def _parse_dates(text: pd.Series, column: str, found: _Collector) -> pd.Series:
    """ISO or slash dates (and the ISO text of Excel date cells) to datetime64; NaT when empty."""
    normal = text.str.replace("/", "-", regex=False).str.replace(r"[ T]00:00(:00)?$", "", regex=True)
    parsed = pd.to_datetime(normal, format="%Y-%m-%d", errors="coerce")
    present = text != ""
    found.add(present & parsed.isna(), column, "不是有效日期（应为 YYYY-MM-DD 或 YYYY/MM/DD）", "not a date (use YYYY-MM-DD or YYYY/MM/DD)")
    lo, hi = pd.Timestamp(CALENDAR_START), pd.Timestamp(CALENDAR_END)
    out_of_range = parsed.notna() & ((parsed < lo) | (parsed > hi))
    found.add(out_of_range, column, f"日期超出支持范围 {CALENDAR_START.year}–{CALENDAR_END.year} 年",
              f"date outside the supported years {CALENDAR_START.year}-{CALENDAR_END.year}")
    return parsed.where(~out_of_range)


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
    found.add(dup, "case_id", "件号在文件中重复", "duplicate case_id in this file")
    reserved = ids.str.upper().str.startswith(DEMO_ID_PREFIX)
    found.add(reserved, "case_id", f"件号前缀 {DEMO_ID_PREFIX} 留给演示数据，真实案件不能使用",
              f"the case_id prefix {DEMO_ID_PREFIX} is reserved for demo cases")


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
        else:
            columns[name] = pa.array(frame[name], type=pa.string())
    return pa.table(columns)
