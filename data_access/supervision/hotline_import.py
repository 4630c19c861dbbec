"""Import 12388 来电投诉 from CSV/XLSX: every row checked, all-or-nothing, append only, audited.

The file brings five fields (docs/contract/hotline-complaints.md): 来电编号, 来电日期, the county (by code
or name, with its city), 投诉类型 and, when known, the case concerned. Columns the importer does not know
are dropped and never stored — the caller's name, number, ID, address and what was said among them. A
column of the monthly cycle (通报月份, 反馈结果, 抽查结果 …) refuses the file: those are filled by the
app's own steps, not by an upload. Checks that need the database (an id already stored, a case that does
not exist or belongs to another county) run in the loading transaction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity
from data_access.imports.case_checks import county_names
from data_access.imports.importer import refusal_recorded
from data_access.imports.reader import read_source
from data_access.imports.validate import DATE_FORMS, parse_date_text
from data_access.reference.counties import CountyNames
from data_access.reference.enums import ComplaintKind, alias_map
from data_access.reference.privacy import shown_value
from data_access.reference.problems import (
    MAX_REPORTED_PROBLEMS,
    DatabaseProblems,
    DataRejected,
    Problem,
    ProblemKind,
    combined,
)
from data_access.reference.workdays import CALENDAR_START
from data_access.store import bulk
from data_access.store.database import DEMO_ID_PREFIX, ensure_initialized, regions_frame
from data_access.store.schema import (
    HOTLINE_FILE_COLUMNS,
    HOTLINE_WORKFLOW_COLUMNS,
    cases,
    hotline_complaints,
    import_log,
)
from data_access.supervision.ledger import looks_like_personal_number

REQUIRED_COLUMNS = ("complaint_id", "received_date", "county_code", "kind")
ID_MAX = 64
STAGING_TABLE = "staged_complaints"
IMPORT_KIND = "hotline"  # import_log.kind of a complaint import

# Chinese headers accepted besides the English column names.
HEADER_ALIASES = {
    "来电编号": "complaint_id", "投诉编号": "complaint_id", "工单编号": "complaint_id", "来电工单号": "complaint_id",
    "受理编号": "complaint_id",
    "来电日期": "received_date", "来电时间": "received_date", "投诉日期": "received_date", "受理日期": "received_date",
    "县（市、区）": "county_code", "县(市、区)": "county_code", "县": "county_code", "县区": "county_code",
    "县市区": "county_code", "所属县区": "county_code", "县区代码": "county_code", "被反映地区": "county_code",
    "投诉类型": "kind", "反映问题类型": "kind", "问题类型": "kind", "来电类型": "kind",
    "关联件号": "case_id", "案件编号": "case_id", "件号": "case_id", "关联案件": "case_id", "信访编号": "case_id",
    # read to resolve a county given by name, never stored
    "市": "city_name", "地市": "city_name", "所属市": "city_name", "设区市": "city_name",
}
HELPER_COLUMNS = ("city_name",)
# The cycle's columns under the names a file might give them: such a file is refused.
WORKFLOW_ALIASES = {
    "通报月份": "notified_month", "反馈结果": "feedback", "核查结果": "feedback", "是否属实": "feedback",
    "反馈说明": "feedback_note", "反馈时间": "feedback_at", "反馈人": "feedback_by", "抽查批次": "spot_check_draw",
    "抽查结果": "spot_check_result", "抽查说明": "spot_check_note", "抽查时间": "spot_check_at",
    "抽查人": "spot_check_by", "督办事项": "supervision_item_id", "督办编号": "supervision_item_id",
}
# Headers of the caller's identity and words as hotline exports name them. Like every unknown column they
# are dropped; the list documents them and a test checks that no alias above ever reads one.
REPORTER_IDENTITY_HEADERS = (
    "来电人", "来电人姓名", "姓名", "举报人", "举报人姓名", "投诉人", "电话", "来电号码", "联系电话", "手机", "手机号",
    "联系方式", "身份证", "身份证号", "身份证号码", "地址", "住址", "家庭住址", "来电内容", "内容", "摘要", "内容摘要",
    "反映内容", "诉求内容", "来电摘要",
)
COLUMN_NAMES_ZH = {"complaint_id": "来电编号", "received_date": "来电日期", "county_code": "县（市、区）",
                   "kind": "投诉类型", "case_id": "关联件号", "city_name": "市"}


@dataclass(frozen=True)
class ComplaintImport:
    """What a complaint import did (or, for a check, would do)."""

    rows: int
    source: str
    dropped_columns: tuple[str, ...]
    header_row: int = 1
    skipped_rows: tuple[int, ...] = ()
    sheet: str | None = None
    written: bool = True


@dataclass
class _Checked:
    """The typed rows ready to load, and the spreadsheet row of each."""

    table: pa.Table
    rows: np.ndarray
    dropped: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field -> the file's header

    def shown(self, column: str) -> str:
        """A field as the file's header names it."""
        return self.headers.get(column, column)


def canonical_header(name: str) -> str:
    """The field a header cell names: a Chinese alias's field, else the lower-cased text."""
    stripped = name.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(stripped) or WORKFLOW_ALIASES.get(stripped) or stripped.lower()


def is_complaint_header(name: str) -> bool:
    """Whether a header cell names a column of a complaint file (for finding the header row)."""
    canonical = canonical_header(name)
    return canonical in HOTLINE_FILE_COLUMNS or canonical in HELPER_COLUMNS or canonical in HOTLINE_WORKFLOW_COLUMNS


def import_complaints_bytes(engine: sa.Engine, data: bytes, filename: str, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                            check: bool = False, header_row: int | None = None, sheet: str | None = None,
                            today: dt.date | None = None) -> ComplaintImport:
    """Import a complaint file's content as `actor` (a city or county user: only its own region's
    complaints); DataRejected, naming every problem, when anything is wrong — then nothing is written but
    the refusal's audit row. With `check` every check runs (the database's too) and nothing is written."""
    ensure_initialized(engine)
    region = actor.region_code if isinstance(actor, Identity) else None
    with refusal_recorded(engine, actor, filename, check=check, refused="12388来电投诉导入被拒绝"):
        source = read_source(data, filename, header_row=header_row, sheet=sheet, known=is_complaint_header)
        regions = regions_frame(engine)
        checked, problems = check_complaints(source.frame, source.rows, regions, source.header_row,
                                             today or dt.date.today(), region)
        if problems is not None:  # the database's problems too, for the rows it can be asked about: one report
            raise combined(problems, _database_problems(engine, checked)) or problems
        written = _load(engine, checked, filename, actor, check)
    return ComplaintImport(checked.table.num_rows, Path(filename).name, tuple(checked.dropped), source.header_row,
                           source.skipped_rows, source.sheet, written)


def import_complaints_file(engine: sa.Engine, path: Path, *, actor: Identity | str = audit.PROGRAM_ACTOR,
                           check: bool = False, header_row: int | None = None, sheet: str | None = None) -> ComplaintImport:
    """Import a complaint CSV/XLSX file from disk (see import_complaints_bytes)."""
    return import_complaints_bytes(engine, Path(path).read_bytes(), Path(path).name, actor=actor, check=check,
                                   header_row=header_row, sheet=sheet)


class _Found:
    """Problems gathered column by column, each naming the column as the file's header does."""

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray, headers: dict[str, str], header_row: int):
        self.frame, self.rows, self.headers, self.header_row = frame, rows, headers, header_row
        self.problems: list[Problem] = []
        self.total = 0  # problems of the values
        self.files = 0  # problems of the file's structure
        self.chinese = any(h in HEADER_ALIASES for h in headers.values())

    def shown(self, column: str) -> str:
        if column in self.headers:
            return self.headers[column]
        return COLUMN_NAMES_ZH.get(column, column) if self.chinese else column

    def add(self, mask: pd.Series | np.ndarray, column: str, zh: str, en: str,
            detail: Callable[[int], tuple[str, str]] | None = None) -> None:
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        self.total += len(hits)
        values = self.frame[column]
        for i in hits[:MAX_REPORTED_PROBLEMS]:
            more_zh, more_en = detail(int(i)) if detail else ("", "")
            self.problems.append(Problem(int(self.rows[i]), self.shown(column), shown_value(str(values.iat[i])),
                                         zh + more_zh, en + more_en))

    def add_file(self, header: str | None, zh: str, en: str) -> None:
        self.files += 1
        self.problems.append(Problem(self.header_row if header else None, header, None, zh, en, ProblemKind.FILE))

    def rejection(self) -> DataRejected | None:
        """Everything found, by row and then in the contract's column order (None when nothing was)."""
        if not self.total and not self.files:
            return None
        order = {c: i for i, c in enumerate((*HOTLINE_FILE_COLUMNS, *HELPER_COLUMNS))}
        by_header = {self.shown(c): i for c, i in order.items()}
        ranked = sorted(self.problems, key=lambda p: (p.row or 0, by_header.get(p.column or "", 99)))
        totals = {kind: count for kind, count in ((ProblemKind.FILE, self.files), (ProblemKind.VALUE, self.total)) if count}
        return DataRejected(ranked, totals=totals)


def validate_complaints(raw: pd.DataFrame, rows: np.ndarray, regions: pd.DataFrame, header_row: int, today: dt.date,
                        region: str | None = None) -> _Checked:
    """Every rule of the contract that needs no database, and the uploader's region; the typed rows or
    DataRejected with every problem."""
    checked, problems = check_complaints(raw, rows, regions, header_row, today, region)
    if problems is not None:
        raise problems
    return checked


def check_complaints(raw: pd.DataFrame, rows: np.ndarray, regions: pd.DataFrame, header_row: int, today: dt.date,
                     region: str | None = None) -> tuple[_Checked, DataRejected | None]:
    """Every rule that needs no database, and the uploader's region, in one pass (a missing column does not
    stop the others' checks): the rows typed (a wrong cell empty) and every problem found."""
    frame, dropped, headers, refused = _select_columns(raw)
    found = _Found(frame, np.asarray(rows), headers, header_row)
    for header in refused:
        found.add_file(header, "此列由系统在通报、反馈、抽查时填写，不能导入（请删除此列后再上传）",
                       "a column of the monthly cycle, filled by the app: it cannot be imported")
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    for column in missing:
        found.add_file(found.shown(column), "缺少必需的列", "required column is missing")
    if len(frame) == 0:
        found.add_file(None, "文件中没有来电投诉行", "the file has no complaint rows")
    for column in (*HOTLINE_FILE_COLUMNS, *HELPER_COLUMNS):
        if column not in frame.columns:
            frame[column] = ""
    for column in REQUIRED_COLUMNS:
        if column not in missing:
            found.add(frame[column] == "", column, "必填项为空", "required value is empty")
    _check_ids(frame, found)
    received = _parse_dates(frame, found, today)
    kinds = frame["kind"].str.lower().map(alias_map(ComplaintKind))
    allowed = "、".join(f"{k.value}/{k.label}" for k in ComplaintKind)
    found.add((frame["kind"] != "") & kinds.isna(), "kind", f"取值无效，应为 {allowed}", f"invalid value; expected one of {allowed}")
    counties = _resolve_counties(frame, county_names(regions), regions, found)
    if region is not None:
        inside = _counties_under(regions, region)
        found.add((counties != "") & ~counties.isin(inside), "county_code",
                  f"不属于本账号的管辖范围（{_name(regions, region)}），不能由本级上报", f"outside the uploader's region {region}")
    found.add(frame["case_id"].str.len() > ID_MAX, "case_id", f"关联件号过长（最多 {ID_MAX} 个字符）",
              f"case_id longer than {ID_MAX} characters")
    table = pa.table({
        "complaint_id": pa.array(frame["complaint_id"], type=pa.string()),
        "received_date": pa.array(received.to_numpy(dtype="datetime64[ms]"), type=pa.timestamp("ms")).cast(pa.date32()),
        "county_code": pa.array(counties, type=pa.string()),
        "kind": pa.array(kinds, type=pa.string()),
        "case_id": pa.array(frame["case_id"].where(frame["case_id"] != "", None), type=pa.string()),
    })
    return _Checked(table, np.asarray(rows), dropped, headers), found.rejection()


def _select_columns(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[str], dict[str, str], list[str]]:
    """The file's known columns as text under their field names; the headers dropped (never stored);
    each field's header as the file writes it; the headers of cycle columns (which refuse the file)."""
    keep: dict[str, str] = {}
    dropped: list[str] = []
    refused: list[str] = []
    for name in raw.columns:
        canonical = canonical_header(str(name))
        if canonical in HOTLINE_WORKFLOW_COLUMNS:
            refused.append(str(name).strip())
        elif (canonical in HOTLINE_FILE_COLUMNS or canonical in HELPER_COLUMNS) and canonical not in keep.values():
            keep[name] = canonical
        else:
            dropped.append(str(name))
    frame = raw[list(keep)].rename(columns=keep)
    headers = {canonical: str(name).strip().lstrip("\ufeff") for name, canonical in keep.items()}
    return frame.astype(object).where(frame.notna(), "").astype(str), dropped, headers, refused


def _check_ids(frame: pd.DataFrame, found: _Found) -> None:
    ids = frame["complaint_id"]
    first = pd.Series(np.arange(len(ids)), index=ids.index).groupby(ids.to_numpy()).transform("first").to_numpy()

    def repeated(position: int) -> tuple[str, str]:
        row = int(found.rows[first[position]])
        return f"（与第 {row} 行相同）", f" (same as row {row})"
    found.add(ids.duplicated(keep="first") & (ids != ""), "complaint_id", "来电编号在文件中重复",
              "duplicate complaint_id in this file", detail=repeated)
    found.add(ids.str.upper().str.startswith(DEMO_ID_PREFIX), "complaint_id",
              f"来电编号前缀 {DEMO_ID_PREFIX} 留给演示数据，真实来电不能使用",
              f"the prefix {DEMO_ID_PREFIX} is reserved for demo complaints")
    found.add(ids.str.len() > ID_MAX, "complaint_id", f"来电编号过长（最多 {ID_MAX} 个字符）",
              f"complaint_id longer than {ID_MAX} characters")
    # an id is shown on shared screens and in notices: one shaped like a caller's number may be one
    found.add(ids.map(looks_like_personal_number), "complaint_id",
              "来电编号形似电话号码或身份证号码，不能作为编号（请使用来电系统的工单编号）",
              "complaint_id looks like a phone or ID number")


def _parse_dates(frame: pd.DataFrame, found: _Found, today: dt.date) -> pd.Series:
    """来电日期 as datetime64 (the forms the case importer reads); not before the calendar, not after today."""
    text = frame["received_date"]
    parsed = parse_date_text(text)
    found.add((text != "") & parsed.isna(), "received_date", f"不是有效日期（可写 {DATE_FORMS}）",
              "not a date (use YYYY-MM-DD, YYYY/MM/DD, YYYY.M.D, YYYY年M月D日, YYYYMMDD or an Excel date)")
    found.add(parsed.notna() & (parsed < pd.Timestamp(CALENDAR_START)), "received_date",
              f"日期早于 {CALENDAR_START.year} 年", f"date before {CALENDAR_START.year}")
    found.add(parsed.notna() & (parsed > pd.Timestamp(today)), "received_date", f"来电日期晚于今天（{today}）",
              f"received_date after today ({today})")
    return parsed


def _resolve_counties(frame: pd.DataFrame, names: CountyNames, regions: pd.DataFrame, found: _Found) -> pd.Series:
    """The county code of every row (given by code or name, with the row's city when the file has one);
    a row whose city is not the county's city is a problem, never corrected."""
    parent = dict(zip(regions["code"], regions["parent_code"], strict=True))
    region_name = dict(zip(regions["code"], regions["name"], strict=True))
    pairs = list(zip(frame["county_code"], frame["city_name"], strict=True))
    meaning = {pair: names.candidates(*pair) for pair in set(pairs) if pair[0]}
    codes = pd.Series([meaning[p][0] if p in meaning and len(meaning[p]) == 1 else "" for p in pairs],
                      index=frame.index, dtype=object)
    given = frame["county_code"] != ""
    count = pd.Series([len(meaning.get(p, ())) for p in pairs], index=frame.index)
    found.add(given & (count == 0), "county_code", "不是地区表中的县级单位代码或名称",
              "not a county-level code or name in the regions table")
    found.add(given & (count > 1), "county_code", "有多个同名县级单位，请在“市”列写明所属市",
              "several units bear this name: give the city")

    def city_differs(code: str, city: str) -> bool:
        if not code or not city:
            return False
        own = parent.get(code) or ""
        own_name = str(region_name.get(own, ""))
        return city not in (own, own_name) and city + "市" != own_name and own_name.removesuffix("市") != city

    wrong = pd.Series([city_differs(c, t.strip()) for c, t in zip(codes, frame["city_name"], strict=True)],
                      index=frame.index)
    found.add(wrong, "city_name", "所填市与该县（市、区）的所属市不符", "the city given is not the county's city")
    return codes.astype(str)


def _counties_under(regions: pd.DataFrame, region: str) -> set[str]:
    """The county-level units that are `region` or lie under it."""
    parent = dict(zip(regions["code"], regions["parent_code"], strict=True))
    counties = regions.loc[regions["level"] == "county", "code"]
    return {c for c in counties if region in (c, parent.get(c), parent.get(parent.get(c) or ""))}


def _name(regions: pd.DataFrame, code: str) -> str:
    match = regions.loc[regions["code"] == code, "name"]
    return str(match.iloc[0]) if len(match) else code


def _load(engine: sa.Engine, checked: _Checked, filename: str, actor: Identity | str, check: bool) -> bool:
    """Check against the database and append, in one transaction (rolled back for a check); True when written."""
    with engine.connect() as conn, conn.begin() as transaction:
        staged = bulk.stage_table(conn, checked.table, STAGING_TABLE)
        try:
            _refuse_database_conflicts(conn, staged, checked)
            if not check:
                columns = [hotline_complaints.c[c] for c in HOTLINE_FILE_COLUMNS]
                conn.execute(hotline_complaints.insert().from_select(
                    columns, sa.select(*(staged.c[c] for c in HOTLINE_FILE_COLUMNS))))
                conn.execute(import_log.insert().values(
                    imported_at=dt.datetime.now().replace(microsecond=0), kind=IMPORT_KIND,
                    source=Path(filename).name[:255], mode="append", rows=checked.table.num_rows,
                    dropped_columns=",".join(checked.dropped)[:1000] or None))
                audit.record_in(conn, actor, audit.AuditAction.IMPORT,
                                f"导入12388来电投诉 {filename}：{checked.table.num_rows} 件")
        finally:
            bulk.drop_staged(conn, STAGING_TABLE)
        if check:
            transaction.rollback()
    return not check


def _database_problems(engine: sa.Engine, checked: _Checked) -> DataRejected | None:
    """What the database would refuse of a file that is wrong elsewhere too, asked of the rows it can be
    asked about (an id, at its first row; the case check only where the county is known), in a
    transaction rolled back."""
    ids = pd.Series(checked.table["complaint_id"].to_pylist(), dtype=object)
    keep = ((ids != "") & ~ids.duplicated()).to_numpy()
    if not keep.any():
        return None
    table = checked.table.filter(pa.array(keep))
    known = pc.not_equal(table["county_code"], "")
    table = table.set_column(table.column_names.index("case_id"), "case_id",
                             pc.if_else(known, table["case_id"], pa.scalar(None, pa.string())))
    asked = _Checked(table, checked.rows[keep], checked.dropped, checked.headers)
    with engine.connect() as conn, conn.begin() as transaction:
        staged = bulk.stage_table(conn, asked.table, STAGING_TABLE)
        try:
            _refuse_database_conflicts(conn, staged, asked)
        except DataRejected as refused:
            return refused
        finally:
            bulk.drop_staged(conn, STAGING_TABLE)
            transaction.rollback()
    return None


def _refuse_database_conflicts(conn: sa.Connection, staged: sa.TableClause, checked: _Checked) -> None:
    """Ids already stored (an import only appends); a case that does not exist, or is another county's.
    Every one is counted; the first by row are named."""
    found = DatabaseProblems(checked.table["complaint_id"].to_pylist(), checked.rows)
    taken = sa.select(staged.c.complaint_id).where(staged.c.complaint_id.in_(sa.select(hotline_complaints.c.complaint_id)))
    found.check(conn, taken, lambda row, hit: Problem(
        row, checked.shown("complaint_id"), hit.complaint_id, "来电编号已存在于数据库中（来电投诉只能追加）",
        "complaint_id already in the database (complaints are only appended)"))
    owner = sa.select(staged.c.complaint_id, staged.c.case_id, staged.c.county_code, cases.c.county_code.label("owner")) \
        .select_from(staged.outerjoin(cases, cases.c.case_id == staged.c.case_id)) \
        .where(staged.c.case_id.is_not(None), sa.or_(cases.c.case_id.is_(None), cases.c.county_code != staged.c.county_code))
    found.check(conn, owner, lambda row, hit: _case_problem(row, checked.shown("case_id"), hit))
    found.raise_if_any()


def _case_problem(row: int, column: str, hit: sa.Row[Any]) -> Problem:
    """The problem of a complaint whose case does not exist (owner None) or is another county's."""
    if hit.owner is None:
        return Problem(row, column, hit.case_id, "关联件号在案件表中不存在", "case_id is not a case in the database")
    return Problem(row, column, hit.case_id,
                   f"关联件号是地区 {hit.owner} 的案件，不是本来电所涉县（市、区）{hit.county_code} 的案件",
                   f"the case belongs to county {hit.owner}, not to the complaint's county {hit.county_code}")
