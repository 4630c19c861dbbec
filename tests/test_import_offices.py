"""Files the way offices keep them: a title above the header, Chinese headers from their own systems,
counties by name, several sheets, GBK CSV — read as the spreadsheet shows them, refused where they are
ambiguous, with row numbers the spreadsheet shows."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from data_access.cli import main
from data_access.identity.audit import recent
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.imports.importer import import_bytes, preview_import
from data_access.imports.inventory import reporting_status
from data_access.imports.loading import ImportMode
from data_access.imports.mappings import load_mapping, mapping_names, save_mapping
from data_access.reference.counties import CountyNames
from data_access.reference.problems import DataRejected, ProblemKind
from data_access.store.database import case_count, regions_frame
from tests.test_importer import stored

TITLE = "济宁市纪委监委信访举报件办理台账（2024年第一季度）"
HEADER = ["信访编号", "问题属地", "受理日期", "信访形式", "是否初信初访", "是否越级", "办结时间", "群众评价", "反映人"]
ROWS = [
    ["JN-1", "任城区", "2024-01-05", "来信", "是", "否", "2024-02-01", "满意", "张三"],
    ["JN-2", "济宁市微山县", "2024-01-06", "网络", "否", "是", "", "", "李四"],
    ["JN-3", "济南历下", "2024-01-07", "来电", "是", "否", "", "", "王五"],
    ["JN-4", "370826", "2024-01-08", "码上举报", "是", "否", "", "", ""],
]


def workbook(*sheets: tuple[str, list[list[object]]], merge_title: bool = True) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if merge_title and rows and len(rows[0]) == 1 and rows[0][0] == TITLE:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


LEDGER = [[TITLE], ["填报单位：济宁市纪委监委信访室　　填报日期：2024-04-02"], HEADER, *ROWS]


def test_title_rows_chinese_synonyms_and_county_names(engine: sa.Engine) -> None:
    report = import_bytes(engine, workbook(("台账", LEDGER)), "台账.xlsx")
    assert (report.rows, report.header_row, report.skipped_rows, report.sheet) == (4, 3, (1, 2), None)
    assert report.dropped_columns == ("反映人",)  # a reporter's name is never stored
    got = stored(engine)
    assert {k: got[k]["county_code"] for k in got} == {"JN-1": "370811", "JN-2": "370826", "JN-3": "370102",
                                                       "JN-4": "370826"}
    assert got["JN-1"]["channel"] == "letter" and got["JN-2"]["is_leapfrog"] is True
    assert str(got["JN-1"]["closed_date"]) == "2024-02-01" and got["JN-1"]["satisfaction"] == "satisfied"


def test_the_sheet_with_cases_is_read_and_named(engine: sa.Engine) -> None:
    notes = [["填表说明"], ["1. 受理日期填写收件日期"], ["2. 不填写举报人信息"]]
    report = import_bytes(engine, workbook(("说明", notes), ("2024Q1", LEDGER)), "two.xlsx")
    assert (report.sheet, report.header_row, report.rows) == ("2024Q1", 3, 4)
    with pytest.raises(DataRejected, match="没有名为“台账”的工作表（有：说明、2024Q1）"):
        import_bytes(engine, workbook(("说明", notes), ("2024Q1", LEDGER)), "two.xlsx", ImportMode.UPSERT, sheet="台账")


def test_rows_keep_the_numbers_the_spreadsheet_shows(engine: sa.Engine) -> None:
    bad = [*LEDGER[:3], ROWS[0], ["JN-9", "任城区", "2024-02-30", "来信", "是", "否", "", "", ""]]
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, workbook(("台账", bad)), "bad.xlsx")
    assert [(p.row, p.column, p.value) for p in refused.value.problems] == [(5, "受理日期", "2024-02-30")]
    assert case_count(engine) == 0


def test_a_name_several_units_share_needs_its_city(engine: sa.Engine) -> None:
    rows = [HEADER[:6], ["Z-1", "市中区", "2024-01-05", "来信", "是", "否"]]
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, workbook(("台账", rows)), "a.xlsx")
    (problem,) = refused.value.problems
    assert problem.reason_zh == "市中区 有 2 个：济南市市中区 370103、枣庄市市中区 370402，请写明所属市"
    assert (problem.row, problem.column, problem.value) == (2, "问题属地", "市中区")
    with_city = [[*HEADER[:6], "所属市"], ["Z-1", "市中区", "2024-01-05", "来信", "是", "否", "枣庄市"]]
    import_bytes(engine, workbook(("台账", with_city)), "b.xlsx")
    assert stored(engine)["Z-1"]["county_code"] == "370402"


def test_spellings_of_a_county(engine: sa.Engine) -> None:
    names = CountyNames.from_regions(regions_frame(engine))
    for spelling in ("历下区", "济南市历下区", "济南历下区", "济南历下", "370102"):
        assert names.candidates(spelling) == ("370102",), spelling
    assert names.candidates("历下区县") == () and names.candidates("999999") == ()
    assert names.candidates("市中区", "枣庄") == ("370402",)


def test_gbk_csv_with_a_title_line(engine: sa.Engine) -> None:
    lines = [TITLE, ",".join(HEADER[:8]), *(",".join(r[:8]) for r in ROWS)]
    data = "\r\n".join(lines).encode("gbk")
    report = import_bytes(engine, data, "台账.csv")
    assert (report.rows, report.header_row, report.skipped_rows) == (4, 2, (1,))
    bad = "\r\n".join([*lines, "JN-5,任城区,2024-13-01,来信,是,否,,"]).encode("gbk")
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, bad, "bad.csv", ImportMode.UPSERT)
    assert [(p.row, p.column) for p in refused.value.problems] == [(7, "受理日期")]


def test_cli_check_sheet_header_row_and_upsert_again(engine: sa.Engine, tmp_path, capsys) -> None:
    url = engine.url.render_as_string(hide_password=False)
    path = tmp_path / "台账.xlsx"
    path.write_bytes(workbook(("说明", [["说明"]]), ("台账", LEDGER)))
    assert main(["import", "--db", url, str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "read sheet '台账'" in out and "skipped rows above it: 1、2" in out and "nothing written" in out
    assert case_count(engine) == 0
    assert main(["import", "--db", url, str(path), "--sheet", "台账", "--header-row", "3", "--upsert"]) == 0
    first = stored(engine)
    assert main(["import", "--db", url, str(path), "--upsert"]) == 0  # next month's re-export: nothing changes
    assert stored(engine) == first and case_count(engine) == 4
    assert main(["import", "--db", url, str(path), "--sheet", "台账", "--header-row", "1", "--check"]) == 1
    assert "缺少必需的列" in capsys.readouterr().err


# --- 分级上报: a city or county uploads its own region's cases --------------------------------------

JINING_CITY = Identity("jining", Role.CITY, "370800", "济宁市纪委监委")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, "370811", "任城区纪委监委")


def test_a_city_uploads_its_own_cases_and_one_row_of_another_city_refuses_the_file(engine: sa.Engine) -> None:
    own = [HEADER[:6], ["JN-1", "任城区", "2024-01-05", "来信", "是", "否"], ["JN-2", "微山县", "2024-01-06", "来电", "否", "否"]]
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, workbook(("台账", [*own, ["JN-3", "历下区", "2024-01-07", "来信", "是", "否"]])), "a.xlsx",
                     actor=JINING_CITY)
    # the county as the file wrote it, under the file's header; the reason names the unit it means
    assert [(p.row, p.column, p.value) for p in refused.value.problems] == [(4, "问题属地", "历下区")]
    assert refused.value.problems[0].reason_zh.startswith("济南市历下区（370102）不属于本账号的管辖范围（济宁市）")
    assert case_count(engine) == 0
    report = import_bytes(engine, workbook(("台账", own)), "own.xlsx", actor=JINING_CITY)
    assert report.rows == 2 and set(stored(engine)) == {"JN-1", "JN-2"}
    last = recent(engine, 1).iloc[0]
    assert (last["username"], last["scope"], last["action"]) == ("jining", "370800", "import")
    status = {row["name"]: row for row in reporting_status(engine)}  # 上报情况, as the province sees it
    assert len(status) == 16 and status["济宁市"]["by"] == "jining" and str(status["济宁市"]["latest_received"]) == "2024-01-06"
    assert status["济南市"]["last_import"] is None and status["济南市"]["latest_received"] is None


def test_a_county_cannot_replace_the_table_or_overwrite_another_regions_case(engine: sa.Engine) -> None:
    import_bytes(engine, workbook(("台账", [HEADER[:6], ["X-1", "历下区", "2024-01-05", "来信", "是", "否"]])), "p.xlsx")
    with pytest.raises(OutOfScope, match="只有省级用户可以覆盖全部案件"):
        import_bytes(engine, workbook(("台账", [HEADER[:6], ["R-1", "任城区", "2024-01-05", "来信", "是", "否"]])), "r.xlsx",
                     ImportMode.REPLACE, actor=RENCHENG_COUNTY)
    clash = [HEADER[:6], ["R-1", "任城区", "2024-01-05", "来信", "是", "否"], ["X-1", "任城区", "2024-01-05", "来信", "是", "否"]]
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, workbook(("台账", clash)), "r.xlsx", ImportMode.UPSERT, actor=RENCHENG_COUNTY)
    assert [(p.row, p.value, p.reason_zh) for p in refused.value.problems] == [(3, "X-1", "件号已属于其他地区的案件，本级不能覆盖")]
    assert stored(engine)["X-1"]["county_code"] == "370102" and case_count(engine) == 1


# --- saved column mappings ------------------------------------------------------------------------

def test_a_saved_mapping_reads_a_systems_own_headers(engine: sa.Engine, tmp_path, capsys) -> None:
    export = [["流水号", "责任单位", "来件时间", "来源", "初访", "越级"], ["M-1", "任城区", "2024-01-05", "来信", "是", "否"]]
    path = tmp_path / "export.xlsx"
    path.write_bytes(workbook(("导出", export)))
    preview = preview_import(engine, path.read_bytes(), path.name)
    assert preview.problems is not None and preview.header_row == 1  # no header row recognised: row 1, columns unread
    mapping = {"流水号": "case_id", "责任单位": "county_code", "来件时间": "received_date", "来源": "channel",
               "初访": "is_first_report", "越级": "is_leapfrog"}
    good = preview_import(engine, path.read_bytes(), path.name, mapping=mapping)
    assert good.problems is None and good.rows == 1
    assert list(good.columns["field"]) == list(mapping.values()) and good.columns["samples"].iloc[1] == "任城区"
    save_mapping(engine, "sheng", "任城区信访系统", mapping)
    assert mapping_names(engine) == ["任城区信访系统"] and load_mapping(engine, "任城区信访系统") == mapping
    url = engine.url.render_as_string(hide_password=False)
    assert main(["import", "--db", url, str(path), "--mapping", "不存在"]) == 1
    assert "没有名为“不存在”的导入映射（已保存：任城区信访系统）" in capsys.readouterr().err
    assert main(["import", "--db", url, str(path), "--mapping", "任城区信访系统"]) == 0
    assert stored(engine)["M-1"]["county_code"] == "370811"
    assert recent(engine, 3)["detail"].str.contains("保存导入映射“任城区信访系统”").any()


def test_a_mapping_feeds_each_field_once(engine: sa.Engine) -> None:
    with pytest.raises(DataRejected, match="对应同一字段"):
        save_mapping(engine, "sheng", "x", {"a": "case_id", "b": "case_id"})
    with pytest.raises(DataRejected, match="不是可导入的字段"):
        save_mapping(engine, "sheng", "x", {"a": "reporter_phone"})
    assert mapping_names(engine) == []


def test_former_names_map_to_todays_unit(engine: sa.Engine) -> None:
    """A 台账 kept since before a unit was renamed or merged still names it by its old name."""
    rows = [HEADER[:6], ["F-1", "章丘市", "2024-01-05", "来信", "是", "否"], ["F-2", "莱芜市莱城区", "2024-01-05", "来信", "是", "否"],
            ["F-3", "长岛县", "2024-01-05", "来信", "是", "否"], ["F-4", "兖州市", "2024-01-05", "来信", "是", "否"]]
    import_bytes(engine, workbook(("台账", rows)), "old.xlsx")
    assert {k: v["county_code"] for k, v in stored(engine).items()} == {"F-1": "370114", "F-2": "370116", "F-3": "370614",
                                                                       "F-4": "370812"}


def test_a_missing_column_is_named_on_the_header_row(engine: sa.Engine) -> None:
    rows = [[TITLE], HEADER[1:6], ["任城区", "2024-01-05", "来信", "是", "否"]]
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, workbook(("台账", rows)), "a.xlsx")
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "件号")]


def test_a_mapping_is_changed_only_by_its_author_or_the_province(engine: sa.Engine) -> None:
    save_mapping(engine, JINING_CITY, "济宁导出", {"流水号": "case_id"})
    with pytest.raises(OutOfScope, match="由 jining 保存"):
        save_mapping(engine, RENCHENG_COUNTY, "济宁导出", {"编号x": "case_id"})
    save_mapping(engine, JINING_CITY, "济宁导出", {"流水号": "case_id", "责任单位": "county_code"})
    save_mapping(engine, Identity("sheng", Role.PROVINCE, None, "省"), "济宁导出", {"流水号": "case_id"})
    assert load_mapping(engine, "济宁导出") == {"流水号": "case_id"}


# --- one report for every mistake of an office's 台账 (issue 29) ----------------------------------------

SIX_MISTAKES = [
    [TITLE],
    ["信访编号", "问题属地", "受理日期", "来源方式", "是否初信初访", "办结时间", "是否满意", "举报人", "联系电话"],
    ["JN-1", "任城区", "2025-08-22", "来信", "是", "2025-09-01", "是", "张某", "13905374111"],
    ["JN-2", "微山县", "2027-03-05", "来电", "否", "", "", "", ""],  # a year typed wrong: not yet happened
    ["JN-3", "任城区", "2025.9.1", "网上举报", "是", "2025.8.20", "否", "", ""],  # closed before it was received
    ["JN-4", "历下区", "2025年9月2日", "来访", "是", "", "", "", ""],  # a county of 济南, not 济宁
    ["JN-1", "任城区", "2025-09-03", "来信", "是", "", "", "", ""],  # the id of row 3 again
    ["JN-0", "任城区", "20250904", "来信", "是", "", "", "", ""],  # already stored
]  # and no 是否越级 column at all


def test_a_city_ledger_with_six_mistakes_gets_one_report_in_its_own_terms(engine: sa.Engine, tmp_path, capsys) -> None:
    import_bytes(engine, workbook(("台账", [HEADER[:6], ["JN-0", "任城区", "2025-08-01", "来信", "是", "否"]])), "p.xlsx")
    data = workbook(("台账", SIX_MISTAKES))
    preview = preview_import(engine, data, "台账.xlsx", actor=JINING_CITY, today=dt.date(2025, 12, 31))
    problems = preview.problems
    assert problems is not None and problems.total == 6
    assert [(p.kind, p.row, p.column, p.value) for p in problems.problems] == [
        (ProblemKind.FILE, 2, "越级举报", None),
        (ProblemKind.VALUE, 4, "受理日期", "2027-03-05"),
        (ProblemKind.VALUE, 5, "办结时间", "2025.8.20"),
        (ProblemKind.VALUE, 7, "信访编号", "JN-1"),
        (ProblemKind.SCOPE, 6, "问题属地", "历下区"),
        (ProblemKind.DATABASE, 8, "信访编号", "JN-0"),
    ]
    assert "与第 3 行相同" in problems.problems[3].reason_zh
    assert preview.masked.to_dict("records") == [{"column": "举报人", "values": 1}, {"column": "联系电话", "values": 1}]
    shown = str(problems) + preview.columns.to_string()
    assert "张某" not in shown and "13905374111" not in shown
    # the same file through the command line's --check (as the province: no region to keep to)
    path = tmp_path / "台账.xlsx"
    path.write_bytes(data)
    url = engine.url.render_as_string(hide_password=False)
    assert main(["import", "--db", url, str(path), "--check"]) == 1
    out, err = capsys.readouterr()
    assert "已屏蔽（不导入）疑似举报人身份信息的列：举报人（1 个值）、联系电话（1 个值）" in out
    assert "【文件与表头】1 个" in err and "【与数据库中已有数据冲突】1 个" in err
    assert '第 8 行，信访编号，"JN-0"' in err and "张某" not in out + err and "13905374111" not in out + err
    assert case_count(engine) == 1
