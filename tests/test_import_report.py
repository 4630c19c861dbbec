"""The import report an office reads once (issue 29): every problem of a file in one pass — structure,
values, scope, the database's — grouped by kind and in the file's own terms; dates that have not happened
refused; headers and dates as offices' exports write them; the contract's later optional columns;
identity-like columns masked (never a value shown); the blank template.

Every test taking `engine` runs on DuckDB, PostgreSQL and MariaDB (see conftest.py).
"""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.auth import Identity, Role
from data_access.imports.importer import import_bytes, preview_import
from data_access.imports.loading import ImportMode
from data_access.imports.validate import REQUIRED_COLUMNS, resembled_field
from data_access.reference.privacy import HIDDEN_VALUE, identity_header, looks_personal
from data_access.reference.problems import DataRejected, ProblemKind
from data_access.store.database import case_count, ensure_initialized, init_database
from data_access.store.schema import CASE_COLUMNS, LATER_CASE_COLUMNS, cases
from tests.conftest import BACKENDS, database_of_its_own
from tests.test_importer import SEED_ROWS, case, csv_bytes, snapshot, stored, where, without

TODAY = dt.date(2024, 6, 30)  # the day of the import in these tests
PAST_DATES = ("received_date", "closed_date", "accepted_notice_date", "result_notice_date")
JINING = Identity("jining", Role.CITY, "370800", "济宁市纪委监委")


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    import_bytes(engine, csv_bytes(SEED_ROWS), "seed.csv")
    return engine


def refused(engine: sa.Engine, data: bytes, filename: str = "cases.csv", **kwargs) -> DataRejected:
    """An import (as of TODAY) that must be refused, with the database unchanged."""
    before = snapshot(engine)
    with pytest.raises(DataRejected) as info:
        import_bytes(engine, data, filename, today=TODAY, **kwargs)
    assert snapshot(engine) == before
    return info.value


# ---------------------------------------------------------------- dates that have not happened yet

@pytest.mark.parametrize("column", PAST_DATES)
def test_an_event_dated_after_the_import_day_is_refused(seeded, column):
    """A received, closed or notice date after the day of the import is a typo (2025 written 2027)."""
    values = {"received_date": "2024-06-01", "due_date": "2024-08-30", "closed_date": "2024-06-10",
              "accepted_notice_date": "2024-06-05", "result_notice_date": "2024-06-12"}
    values[column] = "2024-07-01"
    if column == "received_date":
        values.update(closed_date="", result_notice_date="", satisfaction="", accepted_notice_date="")
    if column == "closed_date":
        values["result_notice_date"] = ""  # else it would precede the closing too
    exc = refused(seeded, csv_bytes([case("F-1"), case("F-2", **values)]))
    assert where(exc) == [(3, column, "2024-07-01")]
    assert "after the day of the import (2024-06-30)" in exc.problems[0].reason_en
    assert "晚于导入当天（2024-06-30）" in exc.problems[0].reason_zh
    assert 'row 3, ' + column + ' "2024-07-01"' in str(exc)


def test_the_import_day_itself_and_a_due_date_ahead_are_accepted(engine):
    row = case("F-1", received_date="2024-06-30", due_date="2024-08-29", closed_date="", satisfaction="",
               accepted_notice_date="2024-06-30", result_notice_date="")
    import_bytes(engine, csv_bytes([row]), "today.csv", today=TODAY)
    assert stored(engine)["F-1"]["due_date"] == dt.date(2024, 8, 29)


def test_a_future_date_in_the_file_language(seeded):
    """The problem names the column as the file's header does and the value as the file wrote it."""
    header = {"case_id": "件号", "county_code": "承办县", "received_date": "收件日期", "channel": "渠道",
              "is_first_report": "初次举报", "is_leapfrog": "越级举报"}
    row = {header[k]: v for k, v in case("F-1", received_date="2027年3月1日").items() if k in header}
    exc = refused(seeded, csv_bytes([row]))
    assert where(exc) == [(2, "收件日期", "2027年3月1日")]


def test_the_machine_date_is_the_default_import_day(seeded):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    row = case("F-1", received_date=tomorrow.isoformat(), closed_date="", satisfaction="", accepted_notice_date="",
               result_notice_date="", due_date="")
    with pytest.raises(DataRejected, match="after the day of the import"):
        import_bytes(seeded, csv_bytes([row]), "c.csv")


# ---------------------------------------------------------------- every problem in one pass

def test_a_missing_column_does_not_hide_the_other_problems(seeded):
    """Without 越级举报 the values of every other column are still checked, and the database is asked."""
    rows = [without(case("N-1", received_date="2024-02-30"), "is_leapfrog"),
            without(case("SEED-1"), "is_leapfrog"),
            without(case("N-1", channel="fax"), "is_leapfrog")]
    exc = refused(seeded, csv_bytes(rows))
    assert [(kind, count) for kind, count, _ in exc.groups()] == [
        (ProblemKind.FILE, 1), (ProblemKind.VALUE, 3), (ProblemKind.DATABASE, 1)]
    assert where(exc) == [(1, "is_leapfrog", None),
                          (2, "received_date", "2024-02-30"), (4, "case_id", "N-1"), (4, "channel", "fax"),
                          (3, "case_id", "SEED-1")]
    text = str(exc)
    assert "【文件与表头】1 个" in text and "【数据内容】3 个" in text and "【与数据库中已有数据冲突】1 个" in text


def test_check_asks_the_database_too(seeded):
    """--check (check=True) names an id already stored, as the import would, and writes nothing."""
    before = snapshot(seeded)
    with pytest.raises(DataRejected) as info:
        import_bytes(seeded, csv_bytes([case("N-1"), case("SEED-2")]), "c.csv", check=True, today=TODAY)
    assert where(info.value) == [(3, "case_id", "SEED-2")]
    assert snapshot(seeded) == before


def test_a_duplicate_case_id_names_the_row_it_repeats(seeded):
    rows = [case(f"N-{i}") for i in range(12)] + [case("N-3", channel="phone")]
    exc = refused(seeded, csv_bytes(rows))
    assert where(exc) == [(14, "case_id", "N-3")]
    assert "与第 5 行相同" in exc.problems[0].reason_zh and "same as row 5" in exc.problems[0].reason_en
    assert "第 14 行" in exc.problems[0].message() and "第 5 行" in exc.problems[0].message()


def test_each_kind_is_capped_by_itself_and_counted_in_full(seeded):
    """250 bad channels do not crowd the database's problem out of the list."""
    rows = [case(f"N-{i}", channel="fax") for i in range(250)] + [case("SEED-1")]
    exc = refused(seeded, csv_bytes(rows))
    groups = {kind: (count, len(listed)) for kind, count, listed in exc.groups()}
    assert groups == {ProblemKind.VALUE: (250, 200), ProblemKind.DATABASE: (1, 1)}
    assert exc.total == 251 and "50 more not listed" in str(exc)


def test_the_preview_lists_values_scope_and_database_together(seeded):
    """A city's file: a bad date, a county of another city named as the file names it, an id already stored."""
    header = {"case_id": "件号", "county_code": "所属县区", "received_date": "受理日期", "channel": "来源方式",
              "is_first_report": "是否初信初访", "is_leapfrog": "是否越级"}
    rows = [{header[k]: v for k, v in case(i, **cells).items() if k in header} for i, cells in (
        ("J-1", {"county_code": "任城区"}), ("J-2", {"county_code": "历下区"}),
        ("J-3", {"county_code": "任城区", "received_date": "2024-02-30"}), ("SEED-1", {"county_code": "任城区"}))]
    preview = preview_import(seeded, csv_bytes(rows), "jn.csv", actor=JINING, today=TODAY)
    exc = preview.problems
    assert exc is not None
    assert [(p.kind, p.row, p.column, p.value) for p in exc.problems] == [
        (ProblemKind.VALUE, 4, "受理日期", "2024-02-30"),
        (ProblemKind.SCOPE, 3, "所属县区", "历下区"),
        (ProblemKind.DATABASE, 5, "件号", "SEED-1")]
    assert exc.problems[1].reason_zh.startswith("济南市历下区（370102）不属于本账号的管辖范围（济宁市）")


# ---------------------------------------------------------------- headers and values of offices' exports

@pytest.mark.parametrize(("header", "cell", "column", "value"), [
    ("来源方式", "来信", "channel", "letter"), ("来信方式", "网上举报", "channel", "online"),
    ("信访形式", "来访", "channel", "visit"),
    ("是否满意", "是", "satisfaction", "satisfied"), ("是否满意", "否", "satisfaction", "dissatisfied"),
    ("满意度", "未评价", "satisfaction", None), ("评价结果", "基本满意", "satisfaction", "basic"),
    ("群众评价", "不满意", "satisfaction", "dissatisfied"),
    ("办结时间", "2024-03-20 16:45:00", "closed_date", dt.date(2024, 3, 20)),
    ("结案日期", "2024.3.20", "closed_date", dt.date(2024, 3, 20)),
    ("事项编号", "M-1", "matter_id", "M-1"), ("关联件号", "SEED-1", "matter_id", "SEED-1"),
    ("受理层级", "省纪委监委", "received_level", "province"), ("接收层级", "中央", "received_level", "central"),
    ("受理层级", "", "received_level", None),
])
def test_headers_and_values_of_office_exports(engine, header, cell, column, value):
    row = without(case("H-1"), column)
    row[header] = cell
    report = import_bytes(engine, csv_bytes([row]), "h.csv", today=TODAY)
    assert report.dropped_columns == ()
    assert stored(engine)["H-1"][column] == value


@pytest.mark.parametrize("text", ["2024.3.5", "2024年3月5日", "20240305", "45356", "2024/3/5 9:30", "2024-03-05T00:00:00"])
def test_date_forms_of_office_exports(engine, text):
    row = case("D-1", received_date=text, due_date="", closed_date="", satisfaction="", accepted_notice_date="",
               result_notice_date="")
    import_bytes(engine, csv_bytes([row]), "d.csv", today=TODAY)
    assert stored(engine)["D-1"]["received_date"] == dt.date(2024, 3, 5)


def test_excel_serial_dates_in_a_workbook(engine):
    """A date column Excel keeps in General format holds serial numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["件号", "承办县", "收件日期", "渠道", "初次举报", "越级举报"])
    sheet.append(["S-1", "历下区", 45356, "来信", "是", "否"])
    out = io.BytesIO()
    book.save(out)
    import_bytes(engine, out.getvalue(), "serial.xlsx", today=TODAY)
    assert stored(engine)["S-1"]["received_date"] == dt.date(2024, 3, 5)


def test_a_bad_received_level_or_a_long_matter_id_is_named(seeded):
    exc = refused(seeded, csv_bytes([case("L-1", received_level="乡镇", matter_id=""), case("L-2", received_level="", matter_id="M" * 65)]))
    assert where(exc) == [(2, "received_level", "乡镇"), (3, "matter_id", HIDDEN_VALUE)]  # long text: maybe someone's words


def test_a_dropped_column_that_looks_like_a_field_is_a_warning(engine):
    """满意程度 is no accepted header, but looks like 满意度; a second 办结 column feeds a field already fed."""
    row = without(case("W-1"), "satisfaction")
    row.update({"满意程度": "满意", "结案日期": "2024-03-20", "序号": "1"})
    preview = preview_import(engine, csv_bytes([row]), "w.csv", today=TODAY)
    notes = {(n.column, n.field) for n in preview.notes}
    assert notes == {("满意程度", "satisfaction"), ("结案日期", "closed_date")}
    assert preview.problems is None


@pytest.mark.parametrize(("header", "field"), [("满意程度", "satisfaction"), ("办结日期（实际）", "closed_date"),
                                               ("recieved_date", "received_date"), ("序号", None), ("备注", None)])
def test_which_headers_look_like_a_field(header, field):
    assert resembled_field(header) == field


# ---------------------------------------------------------------- the contract's later optional columns

def test_matter_id_and_received_level_are_stored(engine):
    rows = [case("M-1", matter_id="", received_level="city"), case("M-2", matter_id="M-1", received_level="县级")]
    import_bytes(engine, csv_bytes(rows), "m.csv", today=TODAY)
    got = stored(engine)
    assert (got["M-1"]["matter_id"], got["M-1"]["received_level"]) == (None, "city")
    assert (got["M-2"]["matter_id"], got["M-2"]["received_level"]) == ("M-1", "county")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_made_before_the_later_columns_gets_them(backend, request, tmp_path_factory):
    """ensure_initialized (run by the app and every import) adds the columns, empty; the cases stay."""
    engine = database_of_its_own(backend, "later", request, tmp_path_factory)
    init_database(engine)
    import_bytes(engine, csv_bytes(SEED_ROWS), "seed.csv", today=TODAY)
    with engine.begin() as conn:
        for column in LATER_CASE_COLUMNS:
            conn.execute(sa.text(f"ALTER TABLE cases DROP COLUMN {column}"))
    ensure_initialized(engine)
    with engine.connect() as conn:
        columns = list(conn.execute(sa.select(sa.text("*")).select_from(sa.table("cases")).limit(0)).keys())
        got = conn.execute(sa.select(cases.c.case_id, cases.c.matter_id).order_by(cases.c.case_id)).all()
    assert set(CASE_COLUMNS) <= set(columns)
    assert [tuple(r) for r in got] == [("SEED-1", None), ("SEED-2", None)]
    import_bytes(engine, csv_bytes([case("N-1", matter_id="SEED-1")]), "n.csv", today=TODAY)
    assert stored(engine)["N-1"]["matter_id"] == "SEED-1"
    engine.dispose()


# ---------------------------------------------------------------- identity-like columns

REPORTER, PHONE, ID_NUMBER = "张某", "13905374111", "370102199003071238"  # the ID's check digit is right


@pytest.mark.parametrize(("text", "personal"), [
    (PHONE, True), ("139 0537 4111", True), ("0531-86012345", True), (ID_NUMBER, True),
    ("370102199003071234", False), ("370102201913071238", False),
    ("张某", True), ("王女士", True), ("济南市历下区泉城路12号", True), ("x" * 40, True), ("someone@example.com", True),
    ("370102", False), ("2024-03-05", False), ("JN-2024-0001", False), ("历下区", False), ("满意", False),
    ("202403050001", False), ("45356", False),
])
def test_what_looks_personal(text, personal):
    assert looks_personal(text) is personal


def test_a_citizen_id_number_with_its_check_digit_looks_personal():
    body = "11010519491231002"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    assert looks_personal(body + check) and not looks_personal(body + ("0" if check != "0" else "1"))


@pytest.mark.parametrize(("header", "identity"), [
    ("举报人", True), ("举报人姓名", True), ("联系电话", True), ("身份证号码", True), ("家庭住址", True),
    ("反映内容摘要", True), ("Phone", True), ("reporter_name", True),
    ("件号", False), ("举报方式", False), ("来信来访日期", False), ("满意度", False), ("备注", False),
])
def test_identity_headers(header, identity):
    assert identity_header(header) is identity


def test_identity_columns_are_masked_in_the_preview_and_never_imported(engine):
    """By header (举报人, 身份证号) and by the shape of the values (a column 备用 holding phone numbers):
    shown as masked with how many values they hold, never the values; a mapping cannot import them."""
    rows = [{**case("P-1"), "举报人": REPORTER, "身份证号": ID_NUMBER, "备用": PHONE, "备注": "已转办"},
            {**case("P-2"), "举报人": "", "身份证号": "", "备用": "", "备注": ""}]
    data = csv_bytes(rows)
    preview = preview_import(engine, data, "p.csv", today=TODAY, mapping={"备用": "matter_id"})
    assert preview.masked.to_dict("records") == [{"column": "举报人", "values": 1}, {"column": "身份证号", "values": 1},
                                                 {"column": "备用", "values": 1}]
    shown = preview.columns.set_index("column")
    assert shown.loc["备注", "samples"] == "已转办" and not shown.loc["备注", "masked"]
    text = preview.columns.to_string() + str(preview.problems) + str(preview.notes)
    for value in (REPORTER, PHONE, ID_NUMBER):
        assert value not in text
    report = import_bytes(engine, data, "p.csv", today=TODAY, mapping={"备用": "matter_id"})
    assert set(report.dropped_columns) == {"举报人", "身份证号", "备用", "备注"}
    assert stored(engine)["P-1"]["matter_id"] is None


def test_a_value_that_looks_personal_is_hidden_in_problems_and_samples(seeded):
    """A phone number typed into 渠道: the problem names the row and column, not the number."""
    exc = refused(seeded, csv_bytes([case("N-1", channel=PHONE)]))
    assert where(exc) == [(2, "channel", HIDDEN_VALUE)]
    assert PHONE not in str(exc)
    preview = preview_import(seeded, csv_bytes([case("N-1", channel=PHONE)]), "c.csv", today=TODAY)
    assert PHONE not in preview.columns.to_string()


def test_a_malformed_row_is_named_without_its_cells(seeded):
    lines = csv_bytes([case("W-1"), case("W-2")]).split(b"\r\n")
    lines[2] += f",{REPORTER},{PHONE}".encode()
    exc = refused(seeded, b"\r\n".join(lines))
    assert [(p.row, p.value) for p in exc.problems] == [(3, None)]
    assert REPORTER not in str(exc) and PHONE not in str(exc)


def test_required_columns_are_the_contract_s():
    assert REQUIRED_COLUMNS == ("case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog")


def test_a_replace_with_problems_still_asks_nothing_of_the_database(seeded):
    """Replacing the table: ids already stored are no conflict, so only the file's own problems are named."""
    exc = refused(seeded, csv_bytes([case("SEED-1", channel="fax")]), mode=ImportMode.REPLACE)
    assert where(exc) == [(2, "channel", "fax")] and case_count(seeded) == 2


def test_preview_of_a_good_file_has_no_problem(engine):
    preview = preview_import(engine, csv_bytes([case("G-1"), case("G-2")]), "g.csv", today=TODAY)
    assert preview.problems is None and preview.rows == 2 and not preview.notes and preview.masked.empty
    assert list(preview.columns["field"]) == list(case("G-1"))


def test_preview_frame_has_no_personal_value(engine):
    frame = pd.DataFrame([{**case("G-1"), "联系方式": PHONE}])
    preview = preview_import(engine, frame.to_csv(index=False).encode(), "g.csv", today=TODAY)
    assert PHONE not in preview.columns.to_string()


# ---------------------------------------------------------------- the blank template

def test_the_template_lists_every_column_with_what_it_accepts():
    from reports.import_template import CASES_SHEET, GUIDE_SHEET, import_template_xlsx

    book = openpyxl.load_workbook(io.BytesIO(import_template_xlsx()))
    assert book.sheetnames == [CASES_SHEET, GUIDE_SHEET]
    header = [c.value for c in book[CASES_SHEET][1]]
    assert header[:6] == ["件号", "承办县", "收件日期", "渠道", "类别", "领域"] and "事项编号" in header and "受理层级" in header
    assert book[CASES_SHEET].max_row == 1  # blank
    rows = [[c.value for c in r] for r in book[GUIDE_SHEET].iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "列名")
    listed = {r[5]: r for r in rows[start + 1:]}
    assert set(listed) == {*CASE_COLUMNS, "city_name"}
    assert {f for f, r in listed.items() if r[1] == "必填"} == set(REQUIRED_COLUMNS)
    assert listed["channel"][2] == "来信、来访、来电、网络、码上举报"
    assert "2025年8月22日" in listed["received_date"][2] and "不能晚于导入当天" in listed["received_date"][2]
    assert "来源方式" in listed["channel"][4] and "是否满意" in listed["satisfaction"][4]
    assert any("不要填写举报人姓名" in (r[0] or "") for r in rows[:start])


def test_a_filled_template_imports(engine):
    from reports.import_template import CASES_SHEET, import_template_xlsx

    book = openpyxl.load_workbook(io.BytesIO(import_template_xlsx()))
    sheet = book[CASES_SHEET]
    cells = {"件号": "T-1", "承办县": "历下区", "收件日期": "2024/6/3", "渠道": "来电", "初次举报": "是", "越级举报": "否",
             "受理层级": "市纪委监委"}
    sheet.append([cells.get(c.value, "") for c in sheet[1]])
    out = io.BytesIO()
    book.save(out)
    report = import_bytes(engine, out.getvalue(), "模板.xlsx", today=TODAY)
    assert (report.rows, report.dropped_columns) == (1, ())
    got = stored(engine)["T-1"]
    assert (got["county_code"], got["channel"], got["received_level"], got["domain"]) == ("370102", "phone", "city", "其他")


# ---------------------------------------------------------------- 12388 complaints: the same one report

def test_a_complaint_file_is_reported_in_one_pass(engine):
    """A missing 投诉类型 column, a bad date, a duplicate (naming the row it repeats) and an id already stored:
    all in one report, the database asked about the rows it can be."""
    from data_access.supervision.hotline_import import import_complaints_bytes
    from tests.test_hotline import call

    import_bytes(engine, csv_bytes([case("R-1", county_code="370811")]), "cases.csv", today=TODAY)
    import_complaints_bytes(engine, csv_bytes([call("H-0")]), "first.csv", today=TODAY)
    rows = [{k: v for k, v in r.items() if k != "投诉类型"} for r in (
        call("H-1", 来电日期="2024.5.7"), call("H-2", 来电日期="2024-05-32"), call("H-1"), call("H-0"))]
    with pytest.raises(DataRejected) as caught:
        import_complaints_bytes(engine, csv_bytes(rows), "12388.csv", today=TODAY)
    exc = caught.value
    assert [(p.kind, p.row, p.column, p.value) for p in exc.problems] == [
        (ProblemKind.FILE, 1, "投诉类型", None),
        (ProblemKind.VALUE, 3, "来电日期", "2024-05-32"),
        (ProblemKind.VALUE, 4, "来电编号", "H-1"),
        (ProblemKind.DATABASE, 5, "来电编号", "H-0")]
    assert "与第 2 行相同" in exc.problems[2].reason_zh
