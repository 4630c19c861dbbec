"""导入预览 and 分级上报 end to end in Chromium at 1920x1080, on one signed-in server (server.py) over a copy of
the golden cases with two users: the province (sheng) and a city (jining, 济宁市).

- The province uploads on 数据 an XLSX as a city office exports it: a merged title row, a note, then the
  header, whose 流水号 the importer does not know. The preview says how the file was read and that a
  required column is missing; the 对应字段 cell of 流水号 is set to 件号 in the mapping editor (a canvas
  grid: the cell is selected, its dropdown opened with Enter and the option picked), the checks pass, the
  mapping is saved by name and the file imported.
- The city uploads on 数据上报 a CSV with a case of 历下区 (济南市): the preview names its row, 导入
  refuses the whole file.
- Last, with the server stopped (DuckDB lets one process hold the file): the province's two cases and
  its mapping are stored, nothing of the city's file is.

Every step checks that the page shows no exception and that no request left localhost; screenshots of
the 1920x1080 screen go to test-artifacts/import/.
"""
from __future__ import annotations

import io
import re
import shutil

import browser_support as bs
import pytest
from conftest import GOLDEN_CASES
from test_browser import grid_row_point
from test_deep_links import PASSWORD
from test_deep_links import sign_in as fill_sign_in_form
from test_ledger_browser import assert_shown
from test_roles_browser import H1, JINING, UI_TIMEOUT_MS, open_page

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = bs.browser_test_marks(GOLDEN_CASES)

SHOTS = bs.ARTIFACTS / "import"
USERS = {"sheng": ("PROVINCE", None), "jining": ("CITY", JINING)}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TITLE = "济宁市纪委监委信访举报件办理台账（2024年第一季度）"
LEDGER_HEADER = ["流水号", "问题属地", "受理日期", "信访形式", "是否初信初访", "是否越级"]
LEDGER_ROWS = [["BR-1", "任城区", "2024-01-08", "来信", "是", "否"], ["BR-2", "微山县", "2024-01-15", "来访", "否", "否"]]
LEDGER_COUNTIES = {"BR-1": "370811", "BR-2": "370826"}  # 任城区, 微山县 of 济宁市
MAPPING_NAME = "济宁台账导出"
MAPPED = {"流水号": "case_id", "问题属地": "county_code", "受理日期": "received_date", "信访形式": "channel",
          "是否初信初访": "is_first_report", "是否越级": "is_leapfrog"}
NOT_IMPORTED, CASE_ID_FIELD = "（不导入）", "件号"

CITY_IDS = ("JN-UP-1", "JN-UP-2", "JN-UP-3")
CITY_CSV = ("case_id,county_code,received_date,channel,is_first_report,is_leapfrog\n"
            f"{CITY_IDS[0]},370811,2024-02-01,letter,1,0\n"
            f"{CITY_IDS[1]},370826,2024-02-02,visit,0,0\n"
            f"{CITY_IDS[2]},370102,2024-02-03,phone,1,0\n")  # 370102 历下区 is in 济南市: spreadsheet row 4

PREVIEW_HEADING = "导入预览（尚未写入数据库）"
OUTSIDE = "不属于本账号的管辖范围（济宁市）"


def ledger_xlsx() -> bytes:
    """The 台账 as 济宁市's office keeps it: a merged title over the table, a note, the header on row 3."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LEDGER_HEADER))
    sheet.append(["说明：本表由信访室按季度导出，日期为受理日期。"])
    for row in (LEDGER_HEADER, *LEDGER_ROWS):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# the server, a signed-in tab per user, what one test leaves for the next
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """server.py on a DuckDB copy of the golden cases, with sheng and jining (a cheap password hash); the last test
    stops it."""
    shutil.rmtree(SHOTS, ignore_errors=True)  # the folder shows this run only
    SHOTS.mkdir(parents=True)
    folder = tmp_path_factory.mktemp("import_db")
    bs.build_golden_database(folder / "golden.duckdb", GOLDEN_CASES)
    url = bs.copy_database(folder / "golden.duckdb", folder / "app.duckdb")
    bs.add_users(url, {name: (name, role, region) for name, (role, region) in USERS.items()}, PASSWORD)
    yield from bs.serving(url, "streamlit-import.log")


@pytest.fixture(scope="module")
def sign_in(server):
    """sign_in(username) -> (tab, recorder): a fresh profile signed in through the form. The recorder is
    not marked: a test's checks cover its sign-in too."""
    with bs.chromium() as browser:
        opened = []

        def signed_in(username: str):
            opened.append(context := bs.new_context(browser, UI_TIMEOUT_MS))
            recorder, tab = bs.BrowserRecorder(), context.new_page()
            recorder.attach(tab)
            tab.goto(bs.view_url(server.base_url, "/", **H1))
            bs.wait_rendered(tab)
            fill_sign_in_form(tab, username)
            return tab, recorder

        yield signed_in
        for context in opened:
            context.close()


@pytest.fixture(scope="module")
def story() -> dict:
    """What one test leaves for the next (they run in order; -x stops at the first failure)."""
    return {}


# --------------------------------------------------------------------------------------------
# driving the upload
# --------------------------------------------------------------------------------------------

_CELLS = "cells => cells.map(c => [c.dataset.testid, c.innerText.trim()])"


def alert(tab, text: str):
    """The st.success / st.warning / st.error box that holds `text`."""
    return tab.locator("[data-testid=stAlert]").filter(has_text=text)


def grid_after(element):
    """The first st.dataframe / st.data_editor after `element` on the page."""
    return element.locator("xpath=following::*[@data-testid='stDataFrame'][1]")


def grid_rows(grid) -> list[list[str]]:
    """The text of a canvas grid, row by row, from its cells' glide-cell-<column>-<row> twins in the DOM."""
    rows: dict[int, dict[int, str]] = {}
    for testid, text in grid.locator("[data-testid^=glide-cell-]").evaluate_all(_CELLS):
        column, row = (int(n) for n in testid.rsplit("-", 2)[1:])
        rows.setdefault(row, {})[column] = text
    return [[cells[c] for c in sorted(cells)] for _, cells in sorted(rows.items())]


def settle(tab, server, where: str) -> None:
    """The script run is over and the page shows no exception."""
    bs.wait_rendered(tab)
    assert_shown(tab, server, where)


def upload(tab, server, name: str, mime: str, content: bytes) -> None:
    """Give the file uploader a file and wait for the preview."""
    tab.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files({"name": name, "mimeType": mime, "buffer": content})
    expect(tab.get_by_text(PREVIEW_HEADING, exact=True)).to_be_visible(timeout=UI_TIMEOUT_MS)
    settle(tab, server, f"preview of {name}")


def show_preview(tab) -> None:
    """Scroll the preview to the top of the screen, below the app's header bar (Streamlit scrolls inside stMain)."""
    tab.get_by_text(PREVIEW_HEADING, exact=True).evaluate("e => { e.style.scrollMarginTop = '72px'; e.scrollIntoView({block: 'start'}); }")
    bs.wait_rendered(tab)


def open_cell_dropdown(tab, editor, option: str):
    """The option `option` of the dropdown of row 0's second cell, opened from the keyboard. A click that lands
    while the grid is still being redrawn selects nothing (seen on a loaded CI host), so the gesture is repeated."""
    wanted = tab.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        bs.wait_rendered(tab)
        editor.scroll_into_view_if_needed()
        tab.mouse.click(*grid_row_point(editor, 0))
        tab.keyboard.press("ArrowRight")
        tab.keyboard.press("Enter")
        try:
            wanted.wait_for(state="visible", timeout=10_000)
            return wanted
        except playwright_api.TimeoutError:
            tab.keyboard.press("Escape")
    wanted.wait_for(state="visible", timeout=1)  # raises, naming the option
    return wanted


def screenshot(tab, name: str) -> None:
    assert tab.viewport_size == bs.VIEWPORT
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


def import_button(tab):
    return tab.get_by_role("button", name="导入", exact=True)


def finish(server, recorder) -> None:
    """No console error, no request off localhost, no traceback in the server's log."""
    recorder.assert_clean()
    assert not server.tracebacks(), server.tracebacks()[-4000:]


# --------------------------------------------------------------------------------------------
# the tests, in order
# --------------------------------------------------------------------------------------------

def test_province_maps_a_column_in_the_preview_saves_the_mapping_and_imports(sign_in, server, story) -> None:
    import pandas as pd

    golden_count = len(pd.read_csv(GOLDEN_CASES, usecols=["case_id"]))
    tab, recorder = sign_in("sheng")
    open_page(tab, server, "data")
    upload(tab, server, "济宁台账.xlsx", XLSX_MIME, ledger_xlsx())

    # how the file was read, what each column feeds, what the checks found
    expect(tab.get_by_text("读取：表头在第 3 行，跳过其上的第 1、2 行，共 2 行。", exact=True)).to_be_visible()
    editor = grid_after(tab.get_by_text(PREVIEW_HEADING, exact=True))
    expect(editor.locator("[data-testid=glide-cell-0-0]")).to_have_text("流水号")
    shown = grid_rows(editor)
    assert [row[0] for row in shown] == LEDGER_HEADER, shown
    assert shown[0][1] == NOT_IMPORTED, f"流水号 should not be imported before it is mapped: {shown}"
    problem = alert(tab, "校验发现 1 个问题，现在导入将被整批拒绝：")
    expect(problem).to_be_visible()
    expect(alert(tab, "校验通过")).to_have_count(0)
    # the problem names the missing column as the file's (Chinese) headers would: 件号, the field case_id
    listed = grid_rows(grid_after(problem))
    assert [row[2:] for row in listed] == [["件号", "", "缺少必需的列"]], listed  # after 类别 and 行
    show_preview(tab)
    screenshot(tab, "01-preview-problem")

    # 对应字段 of 流水号: select the row's first cell, step right, open the cell's dropdown, pick 件号
    open_cell_dropdown(tab, editor, CASE_ID_FIELD).click()
    expect(alert(tab, "校验通过：2 件，可以导入。")).to_be_visible(timeout=UI_TIMEOUT_MS)
    settle(tab, server, "preview, 流水号 mapped")
    expect(problem).to_have_count(0)
    fields = {row[0]: row[1] for row in grid_rows(editor)}
    assert fields["流水号"] == CASE_ID_FIELD and fields["问题属地"] == "县级代码", fields

    show_preview(tab)
    tab.get_by_role("textbox", name=re.compile(r"^保存本映射")).fill(MAPPING_NAME)
    tab.keyboard.press("Enter")  # a text input sends its value on Enter (or on leaving it)
    save = tab.locator("button").filter(has_text="保存映射")
    expect(save).to_be_enabled(timeout=UI_TIMEOUT_MS)
    bs.wait_rendered(tab)
    save.click()
    expect(tab.locator("[data-testid=stToast]").filter(has_text=f"已保存导入映射“{MAPPING_NAME}”")).to_be_visible(timeout=UI_TIMEOUT_MS)
    screenshot(tab, "02-mapped")
    settle(tab, server, "mapping saved")

    import_button(tab).click()
    expect(alert(tab, "导入成功：载入 2 件")).to_be_visible(timeout=UI_TIMEOUT_MS)
    settle(tab, server, "imported")
    expect(tab.get_by_text("表头在第 3 行；跳过表头之前的第 1、2 行（标题、说明）。", exact=True)).to_be_visible()
    cases = tab.locator("[data-testid=stMetric]").filter(has_text="案件数").locator("[data-testid=stMetricValue]")
    expect(cases).to_have_text(f"{golden_count + 2:,}")
    show_preview(tab)
    screenshot(tab, "03-imported")
    story["province_imported"] = True
    finish(server, recorder)


def test_city_upload_with_a_case_of_another_city_is_refused_whole(sign_in, server, story) -> None:
    tab, recorder = sign_in("jining")
    open_page(tab, server, "report")
    expect(tab.locator("h1").first).to_have_text("数据上报")
    modes = tab.get_by_role("radiogroup", name="导入方式")
    expect(modes).to_have_count(1)
    offered = [t.strip() for t in modes.locator("label").all_inner_texts()]
    assert offered == ["追加", "按件号更新"], f"a city user is offered {offered}"

    upload(tab, server, "济宁上报.csv", "text/csv", CITY_CSV.encode())
    expect(tab.get_by_text("读取：表头在第 1 行，共 3 行。", exact=True)).to_be_visible()
    problem = alert(tab, "校验发现 1 个问题，现在导入将被整批拒绝：")
    expect(problem).to_be_visible()
    listed = grid_rows(grid_after(problem))
    # 类别, 行, 列, 值, 问题
    assert len(listed) == 1 and listed[0][:4] == ["管辖范围", "4", "county_code", "370102"] and OUTSIDE in listed[0][4], listed

    import_button(tab).click()
    refused = alert(tab, "导入被拒绝，数据库未作任何更改")
    expect(refused).to_be_visible(timeout=UI_TIMEOUT_MS)
    settle(tab, server, "city import refused")
    expect(alert(tab, "导入成功")).to_have_count(0)
    named = grid_rows(grid_after(refused))
    assert named == listed, f"the refusal lists {named}, the preview listed {listed}"
    show_preview(tab)
    screenshot(tab, "04-city-refused")
    story["city_refused"] = True
    finish(server, recorder)


def test_the_database_holds_the_province_import_and_nothing_of_the_refused_file(server, story) -> None:
    import sqlalchemy as sa

    from data_access.imports.mappings import load_mapping
    from data_access.store.engine import make_engine
    from data_access.store.schema import cases

    assert story.get("province_imported") and story.get("city_refused"), f"an earlier step did not finish: {story}"
    server.stop()  # DuckDB: one process holds the file
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            wanted = [*LEDGER_COUNTIES, *CITY_IDS]
            found = dict(conn.execute(sa.select(cases.c.case_id, cases.c.county_code).where(cases.c.case_id.in_(wanted))).all())
        saved = load_mapping(engine, MAPPING_NAME)
    finally:
        engine.dispose()
    assert found == LEDGER_COUNTIES, f"stored: {found}; the province imported {LEDGER_COUNTIES}, the city's {CITY_IDS} were refused"
    assert saved == MAPPED, saved
