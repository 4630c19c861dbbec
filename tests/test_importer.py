"""Importer tests (data_access.imports.importer): every problem class of the data contract, the accepted
aliases and file formats, dropped identity columns, append/replace/upsert, defaults, the golden file.

Every test taking `engine` runs on DuckDB and on PostgreSQL (see conftest.py).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from data_access.demo.loading import load_demo, remove_demo_cases
from data_access.identity.audit import recent
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.imports.importer import import_bytes, import_file
from data_access.imports.loading import ImportMode
from data_access.reference.problems import MAX_REPORTED_PROBLEMS, DataRejected, Problem
from data_access.store.database import DemoShare, case_count, demo_share, init_database
from data_access.store.schema import CASE_COLUMNS, DEADLINE_COLUMNS, cases, import_log
from tests.conftest import BACKENDS, GOLDEN_CASES, database_of_its_own

DATE_COLUMNS = ("received_date", "due_date", "closed_date", "accepted_notice_date", "result_notice_date")
BOOL_COLUMNS = ("is_first_report", "is_leapfrog", "is_repeat", "is_real_name", "disputed")
REQUIRED = ("case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog")
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- helpers to build files

def case(case_id: str, /, **values: str) -> dict[str, str]:
    """One valid, closed, rated case as CSV text cells (历下区, received 2024-03-01); override any cell."""
    row = {
        "case_id": case_id, "county_code": "370102", "received_date": "2024-03-01", "channel": "letter",
        "category": "accusation", "domain": "教育医疗", "is_first_report": "1", "is_leapfrog": "0",
        "is_repeat": "0", "is_real_name": "1", "due_date": "2024-04-30", "closed_date": "2024-03-20",
        "satisfaction": "satisfied", "disputed": "0", "accepted_notice_date": "2024-03-05",
        "result_notice_date": "2024-03-25",
    }
    row.update(values)
    return row


def csv_bytes(rows: list[dict[str, str]], columns: list[str] | None = None, encoding: str = "utf-8",
              bom: bool = False) -> bytes:
    """A CSV file (header + rows) written with the csv module; columns default to the first row's keys."""
    columns = list(columns or rows[0].keys())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = buf.getvalue().encode(encoding)
    return b"\xef\xbb\xbf" + data if bom else data


def without(row: dict[str, str], *columns: str) -> dict[str, str]:
    return {k: v for k, v in row.items() if k not in columns}


def stored(engine: sa.Engine) -> dict[str, dict]:
    """All stored cases: case_id -> {column: Python value}."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(cases).order_by(cases.c.case_id)).mappings().all()
    return {r["case_id"]: dict(r) for r in rows}


def snapshot(engine: sa.Engine) -> tuple:
    """Everything an import may change: the case rows (in order) and the import log."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(cases).order_by(cases.c.case_id)).all()
        log = conn.execute(sa.select(import_log).order_by(import_log.c.imported_at)).all()
    return [tuple(r) for r in rows], [tuple(r) for r in log]


SEED_ROWS = [case("SEED-1"), case("SEED-2", channel="visit", county_code="370212")]


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    """The engine holding two valid cases loaded by a normal import."""
    import_bytes(engine, csv_bytes(SEED_ROWS), "seed.csv")
    assert case_count(engine) == 2
    return engine


def rejected(engine: sa.Engine, data: bytes, filename: str = "cases.csv", mode: str = ImportMode.APPEND) -> DataRejected:
    """Import that must be refused; checks the database is unchanged and returns the exception."""
    before = snapshot(engine)
    with pytest.raises(DataRejected) as info:
        import_bytes(engine, data, filename, mode)
    assert snapshot(engine) == before
    assert info.value.total >= 1 and info.value.problems
    return info.value


def where(exc: DataRejected) -> list[tuple]:
    return [(p.row, p.column, p.value) for p in exc.problems]


def assert_bilingual(p: Problem, english: str) -> None:
    """The message names the place in English and Chinese and gives both reasons."""
    msg = p.message()
    assert CJK.search(p.reason_zh) and p.reason_zh in msg
    assert english in p.reason_en and p.reason_en in msg
    if p.row is not None:
        assert f"row {p.row}" in msg and f"第 {p.row} 行" in msg
    else:
        assert msg.startswith("文件") and "file" in msg
    if p.column:
        assert p.column in msg
    if p.value is not None:
        assert f'"{p.value}"' in msg


def single(exc: DataRejected, row, column, value, english: str) -> None:
    assert where(exc) == [(row, column, value)]
    assert exc.total == 1
    assert_bilingual(exc.problems[0], english)
    assert english in str(exc)


# ---------------------------------------------------------------- 1. every problem class, DB unchanged

@pytest.mark.parametrize("column", REQUIRED)
def test_missing_required_column(seeded, column):
    rows = [without(case("N-1"), column), without(case("N-2"), column)]
    exc = rejected(seeded, csv_bytes(rows))
    single(exc, 1, column, None, "required column is missing")


def test_all_missing_required_columns_reported(seeded):
    exc = rejected(seeded, csv_bytes([{"domain": "金融", "summary": "x"}]))
    assert where(exc) == [(1, c, None) for c in REQUIRED]
    assert exc.total == 6


@pytest.mark.parametrize("column", REQUIRED)
def test_empty_required_value(seeded, column):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-2", **{column: ""})]))
    single(exc, 3, column, "", "required value is empty")


@pytest.mark.parametrize("column", REQUIRED)
def test_blank_required_value_is_empty(seeded, column):
    """Whitespace only counts as empty."""
    exc = rejected(seeded, csv_bytes([case("N-1", **{column: "   "})]))
    single(exc, 2, column, "", "required value is empty")


@pytest.mark.parametrize(("column", "value"), [
    ("closed_date", "2024-02-30"),
    ("received_date", "2024-02-30"),
    ("due_date", "2024-13-01"),
    ("closed_date", "20.03.2024"),
    ("accepted_notice_date", "2024-3-5x"),
    ("result_notice_date", "yesterday"),
    ("received_date", "4535"), ("closed_date", "2024年13月1日"), ("due_date", "20241301"),
])
def test_bad_date(seeded, column, value):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-2"), case("N-3", **{column: value})]))
    single(exc, 4, column, value, "not a date")


@pytest.mark.parametrize(("column", "value"), [
    ("channel", "fax"), ("channel", "信访"), ("category", "complaint"), ("satisfaction", "ok"),
    ("satisfaction", "很满意"),
])
def test_bad_enum(seeded, column, value):
    exc = rejected(seeded, csv_bytes([case("N-1", **{column: value}), case("N-2")]))
    single(exc, 2, column, value, "invalid value; expected one of")


@pytest.mark.parametrize("column", BOOL_COLUMNS)
@pytest.mark.parametrize("value", ["maybe", "2", "真"])
def test_bad_boolean(seeded, column, value):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-2", **{column: value})]))
    single(exc, 3, column, value, "not a boolean")


@pytest.mark.parametrize("code", ["999999", "370100", "370000", "37010", "370102.0"])
def test_unknown_county_code(seeded, code):
    """Unknown codes, a city (370100 济南市) and the province are all refused: cases go to counties."""
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-2", county_code=code)]))
    single(exc, 3, "county_code", code, "not a county-level code")


def test_duplicate_case_id_in_file(seeded):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-2"), case("N-1", channel="phone")]))
    single(exc, 4, "case_id", "N-1", "duplicate case_id in this file")


def test_every_repeat_of_a_case_id_is_reported(seeded):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-1"), case("N-2"), case("N-1")]))
    assert where(exc) == [(3, "case_id", "N-1"), (5, "case_id", "N-1")]


def test_closed_before_received(seeded):
    exc = rejected(seeded, csv_bytes([case("N-1", closed_date="2024-02-29"), case("N-2")]))
    single(exc, 2, "closed_date", "2024-02-29", "closed_date before received_date")


def test_closed_on_received_day_is_fine(engine):
    import_bytes(engine, csv_bytes([case("N-1", closed_date="2024-03-01", result_notice_date="")]), "c.csv")
    assert stored(engine)["N-1"]["closed_date"] == dt.date(2024, 3, 1)


def test_due_before_received(seeded):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("N-2", due_date="2024/2/1")]))
    single(exc, 3, "due_date", "2024/2/1", "due_date before received_date")


@pytest.mark.parametrize("value", ["satisfied", "满意", "dissatisfied"])
def test_satisfaction_on_open_case(seeded, value):
    row = case("N-2", closed_date="", result_notice_date="", satisfaction=value)
    exc = rejected(seeded, csv_bytes([case("N-1"), row]))
    single(exc, 3, "satisfaction", value, "satisfaction on a case that is not closed")


@pytest.mark.parametrize("value", ["1", "是", "Y", "true"])
def test_disputed_on_open_case(seeded, value):
    row = case("N-1", closed_date="", result_notice_date="", satisfaction="", disputed=value)
    exc = rejected(seeded, csv_bytes([row]))
    single(exc, 2, "disputed", value, "disputed on a case that is not closed")


@pytest.mark.parametrize("filename", ["cases.txt", "cases", "cases.xls", "cases.json", "cases.csv.gz"])
def test_unsupported_file_type(seeded, filename):
    exc = rejected(seeded, csv_bytes([case("N-1")]), filename)
    single(exc, None, None, None, "unsupported file type")


def test_binary_garbage_named_csv(seeded):
    garbage = bytes(range(256)) * 8
    exc = rejected(seeded, garbage)
    single(exc, None, None, None, "not a text file")


def test_utf16_csv_is_not_text(seeded):
    """UTF-16 (what Excel's 'Unicode text' writes) is neither UTF-8 nor GBK: its NUL bytes give it away."""
    exc = rejected(seeded, csv_bytes([case("N-1")], encoding="utf-16"))
    single(exc, None, None, None, "not a text file")


@pytest.mark.parametrize("data", [
    b"\xff\xfe\xfa",
    csv_bytes([case("N-1", domain="Jos\u00e9", channel="caf\u00e9")], encoding="latin-1"),
    b"case_id,county_code\r\nN-\xff1,370102\r\n",
], ids=["ff-fe-fa", "latin-1", "ff-in-value"])
def test_neither_utf8_nor_gbk(seeded, data):
    exc = rejected(seeded, data)
    single(exc, None, None, None, "neither UTF-8 nor GBK")


@pytest.mark.parametrize(("filename", "english"), [
    ("cases.xlsx", "not a valid XLSX file"), ("cases.parquet", "not a valid Parquet file")])
def test_corrupt_xlsx_or_parquet(seeded, filename, english):
    exc = rejected(seeded, b"PK\x03\x04 this is not really a zip" + bytes(64), filename)
    single(exc, None, None, None, english)


def test_empty_file_and_header_only(seeded):
    single(rejected(seeded, b""), None, None, None, "empty file")
    header_only = ",".join(CASE_COLUMNS).encode() + b"\r\n"
    single(rejected(seeded, header_only), None, None, None, "no case rows")


def test_duplicate_header_column(seeded):
    data = b"case_id,county_code,case_id\r\nN-1,370102,N-1\r\n"
    single(rejected(seeded, data), 1, "case_id", None, "duplicate column name")


def test_case_id_already_in_database(seeded):
    exc = rejected(seeded, csv_bytes([case("N-1"), case("SEED-2", channel="phone"), case("N-3")]))
    single(exc, 3, "case_id", "SEED-2", "case_id already in the database")
    assert stored(seeded)["SEED-2"]["channel"] == "visit"


def test_several_existing_case_ids_all_reported(seeded):
    exc = rejected(seeded, csv_bytes([case("SEED-2"), case("N-1"), case("SEED-1")]))
    assert where(exc) == [(2, "case_id", "SEED-2"), (4, "case_id", "SEED-1")]
    assert exc.total == 2


def test_several_problems_all_reported(seeded):
    rows = [
        case("N-1"),
        case("N-2", closed_date="2024-02-30", channel="fax"),          # row 3: two problems
        case("N-3", county_code="999999"),                              # row 4
        case("N-1"),                                                    # row 5: duplicate
        case("N-5", is_leapfrog="maybe", due_date="2024-01-01"),       # row 6: two problems
        case("N-6", closed_date="", result_notice_date="", disputed="1", satisfaction="满意"),  # row 7: two
        case("N-7", received_date=""),                                  # row 8
    ]
    exc = rejected(seeded, csv_bytes(rows))
    expected = {
        (3, "closed_date", "2024-02-30"), (3, "channel", "fax"), (4, "county_code", "999999"),
        (5, "case_id", "N-1"), (6, "is_leapfrog", "maybe"), (6, "due_date", "2024-01-01"),
        (7, "satisfaction", "满意"), (7, "disputed", "1"), (8, "received_date", ""),
    }
    assert set(where(exc)) == expected
    assert exc.total == len(exc.problems) == len(expected)
    assert [p.row for p in exc.problems] == sorted(p.row for p in exc.problems)
    for p in exc.problems:
        assert p.message() in str(exc)


def test_problem_list_is_capped_but_counted(seeded):
    n = MAX_REPORTED_PROBLEMS + 50
    exc = rejected(seeded, csv_bytes([case(f"N-{i}", channel="fax") for i in range(n)]))
    assert exc.total == n
    assert len(exc.problems) == MAX_REPORTED_PROBLEMS
    assert exc.problems[0].row == 2 and exc.problems[-1].row == MAX_REPORTED_PROBLEMS + 1
    assert "50 more not listed" in str(exc)


@pytest.mark.parametrize("mode", [ImportMode.REPLACE, ImportMode.UPSERT])
def test_bad_file_changes_nothing_in_replace_or_upsert_mode(seeded, mode):
    exc = rejected(seeded, csv_bytes([case("SEED-1", channel="qr"), case("N-2", channel="fax")]), mode=mode)
    single(exc, 3, "channel", "fax", "invalid value")
    assert set(stored(seeded)) == {"SEED-1", "SEED-2"}


def test_good_import_after_a_refused_one(seeded):
    rejected(seeded, csv_bytes([case("SEED-1")]))
    report = import_bytes(seeded, csv_bytes([case("N-1"), case("N-2")]), "next.csv")
    assert report.rows == 2
    assert set(stored(seeded)) == {"SEED-1", "SEED-2", "N-1", "N-2"}


def test_quoted_multiline_free_text_in_a_large_csv(engine):
    """Free-text columns (dropped) may hold quoted line breaks; a file of several pyarrow blocks still parses."""
    text = "举报内容第一行\n第二行，含逗号, and a comma\n\n第四行" * 4
    rows = [{**case(f"N-{i:05d}"), "summary": text} for i in range(8_000)]
    data = csv_bytes(rows)
    assert len(data) > 2 * 2**20  # more than pyarrow's 1 MiB read block
    report = import_bytes(engine, data, "big.csv")
    assert report.rows == 8_000 and report.dropped_columns == ("summary",)
    assert case_count(engine) == 8_000


# ---------------------------------------------------------------- 2. aliases, encodings, formats

@pytest.mark.parametrize(("column", "alias", "value"), [
    ("channel", "来信", "letter"), ("channel", "来访", "visit"), ("channel", "来电", "phone"),
    ("channel", "网络", "online"), ("channel", "码上举报", "qr"), ("channel", "Letter", "letter"),
    ("channel", "ONLINE", "online"),
    ("category", "检举控告", "accusation"), ("category", "业务范围外", "out_of_scope"),
    ("category", "无实质内容", "no_substance"), ("category", "Out_Of_Scope", "out_of_scope"),
    ("satisfaction", "满意", "satisfied"), ("satisfaction", "基本满意", "basic"),
    ("satisfaction", "不满意", "dissatisfied"), ("satisfaction", "Basic", "basic"),
    ("satisfaction", "", None),
])
def test_enum_aliases_stored_in_english(engine, column, alias, value):
    import_bytes(engine, csv_bytes([case("A-1", **{column: alias})]), "a.csv")
    assert stored(engine)["A-1"][column] == value


@pytest.mark.parametrize(("spelling", "value"), [
    ("1", True), ("0", False), ("true", True), ("TRUE", True), ("True", True), ("false", False),
    ("FALSE", False), ("yes", True), ("YES", True), ("no", False), ("No", False), ("是", True),
    ("否", False), ("Y", True), ("y", True), ("N", False), ("n", False), (" 是 ", True),
])
def test_boolean_spellings(engine, spelling, value):
    import_bytes(engine, csv_bytes([case("B-1", **dict.fromkeys(BOOL_COLUMNS, spelling))]), "b.csv")
    row = stored(engine)["B-1"]
    assert [row[c] for c in BOOL_COLUMNS] == [value] * len(BOOL_COLUMNS)
    assert all(type(row[c]) is bool for c in BOOL_COLUMNS)


@pytest.mark.parametrize(("text", "date"), [
    ("2024/3/5", dt.date(2024, 3, 5)), ("2024/03/05", dt.date(2024, 3, 5)), ("2024-03-05", dt.date(2024, 3, 5)),
    ("2024-3-5", dt.date(2024, 3, 5)), ("2024/12/31", dt.date(2024, 12, 31)), ("2024/2/29", dt.date(2024, 2, 29)),
    ("2024-03-05 00:00:00", dt.date(2024, 3, 5)),
])
def test_date_spellings(engine, text, date):
    row = case("D-1", received_date="2024/1/2", due_date=text, closed_date=text, accepted_notice_date=text,
               result_notice_date=text)
    import_bytes(engine, csv_bytes([row]), "d.csv")
    got = stored(engine)["D-1"]
    assert got["received_date"] == dt.date(2024, 1, 2)
    assert [got[c] for c in DATE_COLUMNS[1:]] == [date] * 4


CHINESE_ROWS = [
    case("中-001", channel="来访", category="检举控告", domain="生态环保", satisfaction="基本满意",
         is_first_report="是", is_leapfrog="否", is_repeat="否", is_real_name="是", disputed="否",
         received_date="2024/3/5", due_date="2024/5/4", closed_date="2024/4/1",
         accepted_notice_date="2024/3/8", result_notice_date="2024/4/3"),
    case("中-002", channel="码上举报", category="业务范围外", domain="乡村振兴", satisfaction="",
         is_first_report="否", is_leapfrog="是", is_repeat="是", is_real_name="否", disputed="",
         closed_date="", accepted_notice_date="", result_notice_date="", due_date="", county_code="371702"),
]
CHINESE_EXPECTED = {
    "中-001": dict(channel="visit", category="accusation", domain="生态环保", satisfaction="basic",
                   is_first_report=True, is_leapfrog=False, is_repeat=False, is_real_name=True, disputed=False,
                   received_date=dt.date(2024, 3, 5), due_date=dt.date(2024, 5, 4), closed_date=dt.date(2024, 4, 1),
                   accepted_notice_date=dt.date(2024, 3, 8), result_notice_date=dt.date(2024, 4, 3),
                   county_code="370102"),
    "中-002": dict(channel="qr", category="out_of_scope", domain="乡村振兴", satisfaction=None,
                   is_first_report=False, is_leapfrog=True, is_repeat=True, is_real_name=False, disputed=False,
                   received_date=dt.date(2024, 3, 1), due_date=None, closed_date=None,
                   accepted_notice_date=None, result_notice_date=None, county_code="371702"),
}


def assert_chinese_rows_stored(engine):
    got = stored(engine)
    assert set(got) == set(CHINESE_EXPECTED)
    for case_id, expected in CHINESE_EXPECTED.items():
        assert {k: got[case_id][k] for k in expected} == expected


@pytest.mark.parametrize(("encoding", "bom"), [("gbk", False), ("gb18030", False), ("utf-8", True), ("utf-8", False)])
def test_chinese_csv_encodings(engine, encoding, bom):
    data = csv_bytes(CHINESE_ROWS, encoding=encoding, bom=bom)
    if encoding != "utf-8":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really GBK bytes, not UTF-8 by accident
    report = import_bytes(engine, data, "中文.csv")
    assert report.rows == 2 and report.dropped_columns == ()
    assert_chinese_rows_stored(engine)


def test_chinese_header_aliases_in_gbk(engine):
    names = {"case_id": "件号", "county_code": "承办县", "received_date": "收件日期", "channel": "渠道",
             "category": "类别", "domain": "领域", "is_first_report": "初次举报", "is_leapfrog": "越级举报",
             "is_repeat": "重复举报", "is_real_name": "实名举报", "due_date": "办理期限", "closed_date": "办结日期",
             "satisfaction": "满意度", "disputed": "结而不服", "accepted_notice_date": "受理告知日期",
             "result_notice_date": "结果反馈日期"}
    rows = [{names[k]: v for k, v in r.items()} for r in CHINESE_ROWS]
    report = import_bytes(engine, csv_bytes(rows, encoding="gbk"), "中文表头.csv")
    assert report.dropped_columns == ()
    assert_chinese_rows_stored(engine)


def test_problems_name_columns_as_the_file_does(seeded):
    """A file with Chinese headers hears of 收件日期 and 办结日期, not received_date; a missing column is
    named in the file's language too."""
    names = {"case_id": "件号", "county_code": "承办县代码", "received_date": "收件日期", "channel": "渠道",
             "is_first_report": "初次举报", "closed_date": "办结日期"}
    row = {names[k]: v for k, v in case("Z-1", received_date="2024-13-01", closed_date="昨天").items() if k in names}
    exc = rejected(seeded, csv_bytes([row]))
    # the missing column first, and every other column checked all the same
    assert where(exc) == [(1, "越级举报", None), (2, "收件日期", "2024-13-01"), (2, "办结日期", "昨天")]
    row["越级举报"] = "0"
    exc = rejected(seeded, csv_bytes([row]))
    assert where(exc) == [(2, "收件日期", "2024-13-01"), (2, "办结日期", "昨天")]
    assert "第 2 行，收件日期，\"2024-13-01\"" in str(exc)


def test_an_id_already_in_the_database_is_named_as_the_file_names_it(seeded):
    """The database finds the clash after the file was read: the problem still says 件号, not case_id."""
    chinese = {"case_id": "件号", "county_code": "承办县代码", "received_date": "收件日期"}
    rows = [{chinese.get(k, k): v for k, v in case(i).items()} for i in ("N-1", "SEED-2")]
    exc = rejected(seeded, csv_bytes(rows))
    assert where(exc) == [(3, "件号", "SEED-2")]
    assert "第 3 行，件号，\"SEED-2\"" in str(exc)


def test_demo_case_ids_are_reserved(seeded):
    exc = rejected(seeded, csv_bytes([case("DEMO-00000001"), case("demo-x"), case("REAL-DEMO-1")]))
    assert where(exc) == [(2, "case_id", "DEMO-00000001"), (3, "case_id", "demo-x")]
    assert_bilingual(exc.problems[0], "reserved for demo cases")


def test_english_headers_any_case_and_spaces(engine):
    rows = [{f" {k.upper()} ": v for k, v in r.items()} for r in CHINESE_ROWS]
    import_bytes(engine, csv_bytes(rows), "upper.csv")
    assert_chinese_rows_stored(engine)


def xlsx_bytes(header: list[str], rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_with_date_cells_and_numeric_codes(engine):
    header = ["case_id", "county_code", "received_date", "channel", "category", "is_first_report", "is_leapfrog",
              "is_real_name", "due_date", "closed_date", "satisfaction", "disputed", "phone"]
    rows = [
        ["X-1", 370102, dt.date(2024, 3, 5), "来电", "检举控告", 1, 0, True, dt.date(2024, 5, 4),
         dt.date(2024, 4, 1), "不满意", "Y", 13800138000],
        ["X-2", 371702, dt.datetime(2024, 2, 29, 0, 0), "online", None, "否", False, False, None, None, None, None, None],
        [1003, 370212.0, "2024/6/1", "visit", "无实质内容", "TRUE", "N", "是", "2024-07-31", "2024-06-03", "", 0, None],
    ]
    data = xlsx_bytes(header, rows)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["C2"].is_date and ws["B2"].data_type == "n"  # real date cells, numeric codes
    report = import_bytes(engine, data, "cases.xlsx")
    assert report.rows == 3 and report.dropped_columns == ("phone",)
    got = stored(engine)
    assert {k: got["X-1"][k] for k in ("county_code", "received_date", "channel", "category", "is_first_report",
                                       "is_leapfrog", "is_real_name", "due_date", "closed_date", "satisfaction",
                                       "disputed")} == dict(
        county_code="370102", received_date=dt.date(2024, 3, 5), channel="phone", category="accusation",
        is_first_report=True, is_leapfrog=False, is_real_name=True, due_date=dt.date(2024, 5, 4),
        closed_date=dt.date(2024, 4, 1), satisfaction="dissatisfied", disputed=True)
    x2 = got["X-2"]
    assert (x2["county_code"], x2["received_date"], x2["category"], x2["is_first_report"], x2["is_leapfrog"],
            x2["due_date"], x2["closed_date"], x2["disputed"]) == (
        "371702", dt.date(2024, 2, 29), "accusation", False, False, None, None, False)
    x3 = got["1003"]
    assert (x3["county_code"], x3["received_date"], x3["category"], x3["is_first_report"], x3["is_leapfrog"],
            x3["is_real_name"], x3["closed_date"]) == (
        "370212", dt.date(2024, 6, 1), "no_substance", True, False, True, dt.date(2024, 6, 3))


def test_xlsx_problem_rows_are_spreadsheet_rows(seeded):
    header = ["case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog", "closed_date"]
    rows = [["X-1", 370102, dt.date(2024, 3, 5), "letter", 1, 0, None],
            ["X-2", 370102, dt.date(2024, 3, 5), "letter", 1, 0, dt.date(2024, 3, 1)],
            ["X-3", 370100, dt.date(2024, 3, 5), "letter", 1, 0, None]]
    exc = rejected(seeded, xlsx_bytes(header, rows), "bad.xlsx")
    assert where(exc) == [(3, "closed_date", "2024-03-01"), (4, "county_code", "370100")]


@pytest.mark.parametrize("code_type", [pa.string(), pa.int64()])
def test_parquet_with_date32_and_bool_columns(engine, code_type):
    d = lambda *a: dt.date(*a)  # noqa: E731
    table = pa.table({
        "case_id": pa.array(["P-1", "P-2"]),
        "county_code": pa.array(["370102", "371702"]).cast(code_type),
        "received_date": pa.array([d(2024, 3, 5), d(2023, 12, 31)], pa.date32()),
        "channel": pa.array(["letter", "码上举报"]),
        "is_first_report": pa.array([True, False]),
        "is_leapfrog": pa.array([False, True]),
        "is_repeat": pa.array([None, True], pa.bool_()),
        "due_date": pa.array([d(2024, 5, 4), None], pa.date32()),
        "closed_date": pa.array([d(2024, 4, 1), None], pa.date32()),
        "satisfaction": pa.array(["满意", None]),
        "disputed": pa.array([True, False]),
        "reporter_name": pa.array(["李四", "王五"]),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf)
    report = import_bytes(engine, buf.getvalue(), "cases.parquet")
    assert report.rows == 2 and report.dropped_columns == ("reporter_name",)
    got = stored(engine)
    cols = ("county_code", "received_date", "channel", "is_first_report", "is_leapfrog", "is_repeat", "due_date",
            "closed_date", "satisfaction", "disputed")
    assert tuple(got["P-1"][c] for c in cols) == (
        "370102", d(2024, 3, 5), "letter", True, False, False, d(2024, 5, 4), d(2024, 4, 1), "satisfied", True)
    assert tuple(got["P-2"][c] for c in cols) == (
        "371702", d(2023, 12, 31), "qr", False, True, True, None, None, None, False)


def test_parquet_problems_name_rows(seeded):
    table = pa.table({"case_id": ["P-1", "P-2"], "county_code": ["370102", "370102"],
                      "received_date": pa.array([dt.date(2024, 3, 5)] * 2, pa.date32()),
                      "channel": ["letter", "fax"], "is_first_report": [True, True], "is_leapfrog": [False, False]})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    exc = rejected(seeded, buf.getvalue(), "cases.parquet")
    single(exc, 3, "channel", "fax", "invalid value")


# ---------------------------------------------------------------- 3. identity columns are never stored

PLANTED = {"reporter_name": "张三丰", "phone": "13800138000", "id_number": "370102199001011234",
           "address": "济南市历下区泉城路1号", "summary": "举报某局长收受贿赂"}


def every_cell(engine: sa.Engine) -> list[str]:
    """Every cell of every table in the database, as text."""
    names = sa.inspect(engine).get_table_names()
    assert {"cases", "regions", "import_log"} <= set(names)
    cells = []
    with engine.connect() as conn:
        for name in names:
            for row in conn.execute(sa.select(sa.text("*")).select_from(sa.table(name))):
                cells.extend("" if v is None else str(v) for v in row)
    return cells


def table_columns(engine: sa.Engine, name: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(sa.text("*")).select_from(sa.table(name)).limit(0)).keys())


@pytest.mark.parametrize("filename", ["ids.csv", "ids.xlsx"])
def test_unknown_columns_dropped_and_never_stored(engine, filename):
    rows = [{**case("I-1"), **PLANTED}, {**case("I-2"), **{k: v + "2" for k, v in PLANTED.items()}}]
    if filename.endswith(".csv"):
        data = csv_bytes(rows)
    else:
        header = list(rows[0])
        data = xlsx_bytes(header, [[r[h] for h in header] for r in rows])
    report = import_bytes(engine, data, filename)
    assert report.dropped_columns == tuple(PLANTED)
    assert report.rows == 2
    columns = table_columns(engine, "cases")
    assert columns == [*CASE_COLUMNS, *DEADLINE_COLUMNS]
    assert not set(PLANTED) & set(columns)
    cells = every_cell(engine)
    assert "I-1" in cells and "I-2" in cells  # the scan does see the cases
    for value in PLANTED.values():
        assert not any(value in cell for cell in cells), value
    with engine.connect() as conn:
        log = conn.execute(sa.select(import_log.c.dropped_columns, import_log.c.rows)).one()
    assert tuple(log) == (",".join(PLANTED), 2)


# ---------------------------------------------------------------- 4. replace and upsert

def test_replace_replaces_the_whole_table(seeded):
    rows = [case("R-1"), case("R-2"), case("SEED-1", channel="qr", domain="金融")]
    report = import_bytes(seeded, csv_bytes(rows), "r.csv", ImportMode.REPLACE)
    assert (report.rows, report.replaced, report.mode) == (3, 2, "replace")
    got = stored(seeded)
    assert sorted(got) == ["R-1", "R-2", "SEED-1"]
    assert (got["SEED-1"]["channel"], got["SEED-1"]["domain"]) == ("qr", "金融")


def test_upsert_updates_existing_and_adds_new(seeded):
    rows = [case("SEED-2", channel="online", closed_date="", result_notice_date="", satisfaction="", county_code="371702"),
            case("U-1", channel="phone")]
    report = import_bytes(seeded, csv_bytes(rows), "u.csv", ImportMode.UPSERT)
    assert (report.rows, report.replaced, report.mode) == (2, 1, "upsert")
    got = stored(seeded)
    assert sorted(got) == ["SEED-1", "SEED-2", "U-1"]
    assert (got["SEED-2"]["channel"], got["SEED-2"]["closed_date"], got["SEED-2"]["satisfaction"],
            got["SEED-2"]["county_code"]) == ("online", None, None, "371702")
    assert got["SEED-1"]["channel"] == "letter" and got["SEED-1"]["closed_date"] == dt.date(2024, 3, 20)
    assert got["U-1"]["channel"] == "phone"


def test_upsert_of_only_new_rows_appends(seeded):
    report = import_bytes(seeded, csv_bytes([case("U-1"), case("U-2")]), "u.csv", ImportMode.UPSERT)
    assert (report.rows, report.replaced) == (2, 0)
    assert case_count(seeded) == 4


def test_append_adds_rows_and_logs(seeded):
    report = import_bytes(seeded, csv_bytes([case("N-1")]), "more.csv")
    assert (report.rows, report.replaced, report.mode, report.source) == (1, 0, "append", "more.csv")
    assert sorted(stored(seeded)) == ["N-1", "SEED-1", "SEED-2"]
    with seeded.connect() as conn:
        log = conn.execute(sa.select(import_log.c.kind, import_log.c.source, import_log.c.mode, import_log.c.rows)).all()
    assert sorted(tuple(r) for r in log) == [("import", "more.csv", "append", 1), ("import", "seed.csv", "append", 2)]


# ---------------------------------------------------------------- 5. the golden file on both backends

def golden_expected() -> list[tuple]:
    """The golden CSV parsed independently with the csv module, as Python values, sorted by case_id."""
    def date(s):
        return dt.date.fromisoformat(s) if s else None

    out = []
    with open(GOLDEN_CASES, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            values = []
            for c in CASE_COLUMNS:
                s = r.get(c, "")  # the golden file predates the optional matter_id and received_level
                if c in DATE_COLUMNS:
                    values.append(date(s))
                elif c in BOOL_COLUMNS:
                    values.append({"1": True, "0": False}[s])
                else:
                    values.append(s or None)
            out.append(tuple(values))
    return sorted(out)


def read_back(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*(cases.c[c] for c in CASE_COLUMNS))).all()
    return sorted(tuple(r) for r in rows)  # case_ids are unique: Python's order, not the server's collation


@pytest.fixture(scope="module")
def golden_values() -> list[tuple]:
    return golden_expected()


def test_golden_read_back_equals_csv(golden_engine, golden_values):
    assert case_count(golden_engine) == 6000
    got = read_back(golden_engine)
    assert len(golden_values) == 6000
    for row in got[:50]:
        assert type(row[2]) is dt.date and type(row[6]) is bool
    assert got == golden_values


def test_golden_identical_on_every_backend(request, tmp_path_factory, golden_values):
    """Import the golden file into a fresh database of each backend and compare the read-backs."""
    results = {}
    for backend in BACKENDS:
        engine = database_of_its_own(backend, f"cmp_{uuid.uuid4().hex[:6]}", request, tmp_path_factory)
        init_database(engine)
        report = import_file(engine, GOLDEN_CASES)
        assert (report.rows, report.dropped_columns) == (6000, ())
        results[backend] = read_back(engine)
    assert set(results) == {"duckdb", "postgresql", "mariadb"}
    for backend, got in results.items():
        assert got == golden_values, backend


# ---------------------------------------------------------------- 6. defaults of optional columns

def test_defaults_for_missing_optional_columns(engine):
    rows = [{c: case("M-1")[c] for c in REQUIRED}, {c: case("M-2", channel="qr")[c] for c in REQUIRED}]
    report = import_bytes(engine, csv_bytes(rows), "minimal.csv")
    assert report.rows == 2
    for case_id in ("M-1", "M-2"):
        got = stored(engine)[case_id]
        assert got["category"] == "accusation"
        assert got["domain"] == "其他"
        assert (got["is_repeat"], got["is_real_name"], got["disputed"]) == (False, False, False)
        assert (got["due_date"], got["closed_date"], got["satisfaction"]) == (None, None, None)
        assert (got["accepted_notice_date"], got["result_notice_date"]) == (None, None)
        assert (got["is_first_report"], got["is_leapfrog"], got["received_date"]) == (True, False, dt.date(2024, 3, 1))


def test_defaults_for_empty_optional_cells(engine):
    row = case("M-1", category="", domain="", is_repeat="", is_real_name="", disputed="", due_date="",
               closed_date="", satisfaction="", accepted_notice_date="", result_notice_date="")
    import_bytes(engine, csv_bytes([row]), "empty-cells.csv")
    got = stored(engine)["M-1"]
    assert (got["category"], got["domain"], got["is_repeat"], got["is_real_name"], got["disputed"],
            got["due_date"], got["closed_date"], got["satisfaction"]) == (
        "accusation", "其他", False, False, False, None, None, None)


# ---------------------------------------------------------------- row numbers as a spreadsheet shows them

def test_blank_lines_keep_spreadsheet_row_numbers(seeded):
    header, b1, b2, b3 = csv_bytes([case("B-1"), case("B-2"), case("B-3", channel="fax")]).split(b"\r\n")[:4]
    data = b"\r\n".join([header, b1, b2, b"", b3, b""])  # header 1, B-1 2, B-2 3, blank 4, B-3 5
    exc = rejected(seeded, data)
    assert where(exc) == [(5, "channel", "fax")]


def test_blank_lines_are_skipped_on_a_good_file(engine):
    head, body = csv_bytes([case("B-1"), case("B-2")]).split(b"\r\n", 1)
    data = head + b"\r\n\r\n" + body.replace(b"\r\n", b"\r\n\r\n", 1)
    assert import_bytes(engine, data, "blank.csv").rows == 2


def test_row_with_wrong_number_of_fields_is_named(seeded):
    good = csv_bytes([case("W-1"), case("W-2")])
    lines = good.split(b"\r\n")
    lines[2] = lines[2] + b",extra"
    exc = rejected(seeded, b"\r\n".join(lines))
    assert [p.row for p in exc.problems] == [3]
    assert_bilingual(exc.problems[0], "wrong number of fields")


def test_wholly_blank_xlsx_rows_are_ignored(engine):
    header = ["case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog"]
    rows = [["X-1", 370102, dt.date(2024, 3, 5), "letter", 1, 0], [None] * 6,
            ["X-3", 370102, dt.date(2024, 3, 5), "letter", 1, 0]]
    assert import_bytes(engine, xlsx_bytes(header, rows), "gap.xlsx").rows == 2


def test_parquet_float_codes_and_flags(engine):
    table = pa.table({"case_id": ["F-1", "F-2"], "county_code": pa.array([370102.0, None], pa.float64()),
                      "received_date": pa.array([dt.date(2024, 3, 5)] * 2, pa.date32()), "channel": ["letter"] * 2,
                      "is_first_report": pa.array([1.0, 0.0]), "is_leapfrog": pa.array([0.0, 1.0])})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    exc = rejected(engine, buf.getvalue(), "floats.parquet")
    assert where(exc) == [(3, "county_code", "")]  # only the missing code is a problem: 370102.0 reads as 370102


# ---------------------------------------------------------------- demo cases among real ones

def test_demo_cases_are_counted_and_removed_alone(engine):
    """Demo cases (DEMO-…) beside imported ones: counted by the database, removed in one transaction with
    an import-log row and an audit row; real cases stay; a user below the province is refused."""
    load_demo(engine, 200, 3, dt.date(2024, 6, 30))
    import_bytes(engine, csv_bytes(SEED_ROWS), "seed.csv")
    assert demo_share(engine) == DemoShare(demo=200, total=202)
    before = snapshot(engine)
    city = Identity("jining", Role.CITY, "370800", "济宁市纪委监委")
    with pytest.raises(OutOfScope, match="仅省级用户"):
        remove_demo_cases(engine, actor=city)
    with pytest.raises(DataRejected, match="不属于本账号的管辖范围"):  # 历下区 is not 济宁's
        import_bytes(engine, csv_bytes([case("CITY-1")]), "city.csv", actor=city)
    assert snapshot(engine) == before
    province = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
    assert remove_demo_cases(engine, actor=province) == 200
    assert set(stored(engine)) == {"SEED-1", "SEED-2"}
    assert demo_share(engine) == DemoShare(demo=0, total=2)
    with engine.connect() as conn:
        last = conn.execute(sa.select(import_log).order_by(import_log.c.imported_at.desc(), import_log.c.kind.desc())).first()
    assert (last.kind, last.mode, last.rows) == ("remove_demo", "delete", 200)
    assert recent(engine, 1)["detail"].iloc[0] == "删除演示数据 200 件（真实案件不受影响）"
    assert remove_demo_cases(engine, actor=province) == 0  # nothing left: nothing written
    assert recent(engine, 1)["detail"].iloc[0] == "删除演示数据 200 件（真实案件不受影响）"
