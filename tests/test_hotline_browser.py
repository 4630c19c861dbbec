"""12388 通报, one month's cycle end to end in Chromium at 1920x1080, on one signed-in server (server.py) over
the golden cases and five complaints of 2024-05 (three in 济宁市, two in 济南市) imported from a CSV:

1. the province (sheng) issues the month's 通报 (every complaint marked notified) and downloads the pack: a
   通报 per city, the province's summary and ledger;
2. the city (jining, 济宁市) sees its own three complaints only and answers them, one 属实 and two 不属实 (a note
   holding a phone number is refused and nothing is written);
3. a county (rencheng, 任城区) sees the page read-only: no feedback form, no draw, no pack;
4. the province draws the month's 抽查 (seeded, recorded, replayed) and records 反馈不实 for the drawn complaint;
5. the province's 督办台账 lists the two items the cycle opened (属实, 反馈不实).

The as-of date of the view is 2024-06-15, so that the page's month defaults to 2024-05. The steps share
the server and run in order; each signs in through the form in a fresh browser profile, checks that its
pages show no exception and that no request left localhost, and takes a screenshot of the 1920x1080 screen
into test-artifacts/hotline/. The stored states are read last, with the server stopped (DuckDB lets one
process hold the file).
"""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    VIEWPORT,
    add_users,
    browser_test_marks,
    build_golden_database,
    path_of,
    serving,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES
from test_ledger_browser import assert_shown, signing_in
from test_roles_browser import JINING, PASSWORD, UI_TIMEOUT_MS

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

RENCHENG, WEISHAN = "370811", "370826"  # 任城区, 微山县 of 济宁市
USERS = {"province": ("sheng", "PROVINCE", None), "city": ("jining", "CITY", JINING), "county": ("rencheng", "COUNTY", RENCHENG)}
MONTH, MONTH_WORDS = "2024-05", "2024年5月"
VIEW = {"asof": "2024-06-15"}  # the page's month defaults to the month before the as-of month
CITIES = 16
# 来电编号, 来电日期, 县（市、区）, 投诉类型, 关联件号 (cases of the golden data in that county, or none)
COMPLAINTS = (
    ("HL2405-0001", "2024-05-06", RENCHENG, "办理缓慢", "SD101-0000127"),
    ("HL2405-0002", "2024-05-13", RENCHENG, "对处理结果不满意", ""),
    ("HL2405-0003", "2024-05-20", WEISHAN, "实名举报长期不反馈", "SD101-0000353"),
    ("HL2405-0004", "2024-05-08", "370102", "办理缓慢", ""),  # 济南市历下区
    ("HL2405-0005", "2024-05-22", "370112", "其他", "SD101-0000101"),  # 济南市历城区
)
JINING_IDS = [c[0] for c in COMPLAINTS if c[2] in (RENCHENG, WEISHAN)]
JINAN_IDS = [c[0] for c in COMPLAINTS if c[0] not in JINING_IDS]
TRUE_ID = JINING_IDS[0]  # answered 属实; the other two of 济宁市 不属实
PHONE_NOTE = "已联系来电人核实，电话 13812345678"
TRUE_NOTE = "经核查，该件确实办理缓慢，已责令承办部门限期办结。"
UNTRUE_NOTE = "经核查，该件已按期办理并书面告知，反映问题不属实。"
CHECK_NOTE = "调阅卷宗并回访，反馈与事实不符。"
SHOTS = ARTIFACTS / "hotline"


# --------------------------------------------------------------------------------------------
# the database, the server, one signed-in tab per role
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The golden cases, the complaints imported from a Chinese-headed CSV, the three users (a cheap hash)."""
    from data_access.store.engine import make_engine
    from data_access.supervision.hotline_import import import_complaints_file

    folder = tmp_path_factory.mktemp("hotline_db")
    url = build_golden_database(folder / "app.duckdb", GOLDEN_CASES)
    csv = folder / "12388来电_2024-05.csv"
    csv.write_text("来电编号,来电日期,县（市、区）,投诉类型,关联件号\n" + "".join(",".join(c) + "\n" for c in COMPLAINTS),
                   encoding="utf-8")
    engine = make_engine(url)
    try:
        done = import_complaints_file(engine, csv)
        assert done.rows == len(COMPLAINTS), done
    finally:
        engine.dispose()
    add_users(url, USERS, PASSWORD)
    return url


@pytest.fixture(scope="module")
def server(database_url: str):
    shutil.rmtree(SHOTS, ignore_errors=True)  # the folder shows this run only
    SHOTS.mkdir(parents=True)
    yield from serving(database_url, "streamlit-hotline.log")


@pytest.fixture(scope="module")
def story() -> dict:
    """What one step leaves for the next (the steps run in order, -x stops at the first failure)."""
    return {}


@pytest.fixture(scope="module")
def sign_in(server):
    """sign_in(role) -> (tab, recorder): a fresh profile signed in through the form, the recorder marked."""
    yield from signing_in(server, USERS, VIEW)


# --------------------------------------------------------------------------------------------
# driving the page
# --------------------------------------------------------------------------------------------

def visit(tab, server, url_path: str) -> None:
    tab.goto(view_url(server.base_url, url_path, **VIEW))
    wait_rendered(tab)
    assert_shown(tab, server, url_path)
    assert path_of(tab.url) == url_path, f"asked for {url_path}, landed on {tab.url}"


def open_hotline(tab, server) -> None:
    """/hotline at the view's as-of date, showing 2024年5月."""
    visit(tab, server, "/hotline")
    expect(tab.locator("h1").first).to_have_text("12388 通报")
    expect(tab.get_by_role("combobox", name="月份", exact=True)).to_have_value(MONTH_WORDS)


def screenshot(tab, name: str) -> None:
    assert tab.viewport_size == VIEWPORT
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


def button(tab, text: str):
    """The button showing `text` (its accessible name also holds the icon's ligature)."""
    return tab.locator("button").filter(has_text=text)


def answered(tab, server, answer: str | re.Pattern[str], where: str):
    """Wait for the page's answer to a click and for the run to end; the answer's element."""
    shown = tab.get_by_text(answer).first
    expect(shown).to_be_visible(timeout=UI_TIMEOUT_MS)
    wait_rendered(tab)
    assert_shown(tab, server, where)
    return shown


def kpi(tab, label: str):
    return tab.locator("[data-testid=stMetric]").filter(has_text=label).locator("[data-testid=stMetricValue]")


def form_of(tab, submit_text: str):
    """The st.form whose submit button shows `submit_text`."""
    form = tab.locator("[data-testid=stForm]").filter(has=tab.locator("button").filter(has_text=submit_text))
    expect(form).to_have_count(1)
    return form


def pick(tab, form, label: str, option: str) -> None:
    """Choose the option holding `option` in the form's selectbox labelled `label`."""
    box = form.locator("[data-testid=stSelectbox]").filter(has_text=label)
    expect(box).to_have_count(1)
    combobox, wanted = box.get_by_role("combobox"), tab.get_by_role("option").filter(has_text=option)
    for _ in range(3):  # a click while the focus moves can leave the list closed: open it again
        combobox.click()
        try:
            expect(wanted).to_be_visible(timeout=3_000)
            break
        except AssertionError:
            tab.keyboard.press("Escape")
    wanted.click()
    expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(option)))


def choose(form, label: str) -> None:
    """Click the radio option labelled exactly `label` (属实 / 不属实, 反馈属实 / 反馈不实)."""
    form.locator("[data-testid=stRadio]").get_by_text(label, exact=True).click()


def complaint_list(tab) -> list[str]:
    """The 来电编号 the 来电清单 grid shows (its cells are in the DOM for accessibility)."""
    heading = tab.locator("h3").filter(has_text=re.compile(r"^\s*来电清单"))
    expect(heading).to_have_count(1)
    grid = heading.locator("xpath=following::*[@data-testid='stDataFrame'][1]")
    grid.scroll_into_view_if_needed()
    cells = grid.locator("[role=gridcell]").all_inner_texts()
    return sorted({t.strip() for t in cells if re.fullmatch(r"HL2405-\d{4}", t.strip())})


def answer(tab, server, complaint_id: str, verdict: str, note: str) -> None:
    form = form_of(tab, "提交反馈")
    pick(tab, form, "来电", complaint_id)
    choose(form, verdict)
    form.get_by_label("核查情况说明").fill(note)
    button(form, "提交反馈").click()
    suffix = "，已挂账督办。" if verdict == "属实" else "。"
    answered(tab, server, f"已反馈：{complaint_id} {verdict}{suffix}", f"feedback {complaint_id}")


# --------------------------------------------------------------------------------------------
# the steps, in order
# --------------------------------------------------------------------------------------------

def test_province_issues_the_months_notices(sign_in, server, story) -> None:
    tab, recorder = sign_in("province")
    open_hotline(tab, server)
    expect(kpi(tab, f"{MONTH_WORDS}来电投诉")).to_have_text(f"{len(COMPLAINTS)} 件")
    expect(tab.locator("h3").filter(has_text="来电清单")).to_contain_text(f"（{len(COMPLAINTS)} 件）")
    assert complaint_list(tab) == sorted(c[0] for c in COMPLAINTS)

    button(tab, f"发出{MONTH_WORDS}通报").click()
    done = answered(tab, server, re.compile(r"^已发文 \d+ 个文件（文号：.+）；本次标记已通报 \d+ 件来电。$"), "pack")
    expect(done).to_contain_text(f"本次标记已通报 {len(COMPLAINTS)} 件来电")
    expect(tab.locator("h3").filter(has_text="地市反馈")).to_contain_text(f"待反馈 {len(COMPLAINTS)} 件")
    zip_button = button(tab, "下载本月通报（ZIP）")
    expect(zip_button).to_be_visible()
    zip_button.scroll_into_view_if_needed()
    wait_rendered(tab)
    screenshot(tab, "01-province-issues-notices")

    with tab.expect_download() as started:
        zip_button.click()
    download = started.value
    assert download.suggested_filename == f"12388月度通报_{MONTH}.zip", download.suggested_filename
    with zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())) as pack:
        names = pack.namelist()
        notices = [n for n in names if re.fullmatch(rf"12388通报_{MONTH}_.+市\.docx", n)]
        assert len(notices) == CITIES, names
        assert f"12388月度汇总_{MONTH}.docx" in names and f"12388月度台账_{MONTH}.xlsx" in names, names
        texts = {city: docx_text(pack.read(f"12388通报_{MONTH}_{city}.docx")) for city in ("济宁市", "济南市")}
    assert all(i in texts["济宁市"] for i in JINING_IDS) and not any(i in texts["济宁市"] for i in JINAN_IDS), texts["济宁市"]
    assert all(i in texts["济南市"] for i in JINAN_IDS) and not any(i in texts["济南市"] for i in JINING_IDS), texts["济南市"]
    recorder.assert_clean()


def docx_text(content: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_city_answers_its_complaints(sign_in, server, story) -> None:
    tab, recorder = sign_in("city")
    open_hotline(tab, server)
    expect(kpi(tab, f"{MONTH_WORDS}来电投诉")).to_have_text(f"{len(JINING_IDS)} 件")
    assert complaint_list(tab) == JINING_IDS  # its own city's only
    expect(button(tab, f"发出{MONTH_WORDS}通报")).to_have_count(0)
    expect(button(tab, "抽取本月抽查件")).to_have_count(0)
    heading = tab.locator("h3").filter(has_text="地市反馈")
    expect(heading).to_contain_text(f"待反馈 {len(JINING_IDS)} 件")

    form = form_of(tab, "提交反馈")
    pick(tab, form, "来电", TRUE_ID)
    choose(form, "属实")
    form.get_by_label("核查情况说明").fill(PHONE_NOTE)
    button(form, "提交反馈").click()
    refused = answered(tab, server, re.compile("疑似电话号码"), "feedback with a phone number")
    expect(refused).to_contain_text("未保存")
    expect(tab.get_by_text(re.compile("^已反馈："))).to_have_count(0)
    # nothing written: a fresh run still waits for all three
    open_hotline(tab, server)
    expect(tab.locator("h3").filter(has_text="地市反馈")).to_contain_text(f"待反馈 {len(JINING_IDS)} 件")

    answer(tab, server, TRUE_ID, "属实", TRUE_NOTE)
    for complaint_id in JINING_IDS[1:]:
        answer(tab, server, complaint_id, "不属实", UNTRUE_NOTE)
    expect(tab.locator("h3").filter(has_text="地市反馈")).to_contain_text("待反馈 0 件")
    expect(tab.get_by_text("本月没有待反馈的来电。")).to_be_visible()
    expect(kpi(tab, "属实占比")).to_have_text("33.3%")
    expect(kpi(tab, "挂账督办")).to_have_text("1 项")
    screenshot(tab, "02-city-answers")
    recorder.assert_clean()


def test_county_sees_the_page_read_only(sign_in, server, story) -> None:
    tab, recorder = sign_in("county")
    open_hotline(tab, server)
    ours = [c[0] for c in COMPLAINTS if c[2] == RENCHENG]
    expect(kpi(tab, f"{MONTH_WORDS}来电投诉")).to_have_text(f"{len(ours)} 件")
    assert complaint_list(tab) == ours
    expect(tab.locator("[data-testid=stMain] [data-testid=stForm]")).to_have_count(0)  # the sidebar's is the 件号 search
    for text in ("提交反馈", "抽取本月抽查件", f"发出{MONTH_WORDS}通报", "录入抽查结果", "导入"):
        expect(button(tab, text)).to_have_count(0)
    expect(tab.locator("h3").filter(has_text=re.compile("地市反馈|抽查|月度通报"))).to_have_count(0)
    screenshot(tab, "03-county-read-only")
    recorder.assert_clean()


def test_province_draws_and_records_a_spot_check(sign_in, server, story) -> None:
    tab, recorder = sign_in("province")
    open_hotline(tab, server)
    draw = button(tab, f"抽取本月抽查件（待抽 {len(JINING_IDS) - 1} 件不属实反馈）")
    expect(draw).to_have_count(1)
    draw.click()
    answered(tab, server, "已抽取并记录抽查件。", "draw")
    line = tab.get_by_text(re.compile(r"种子 \d+，比例 20%，从 2 件中抽中 1 件；按种子复现一致。")).first
    expect(line).to_be_visible()
    story["seed"] = int(re.search(r"种子 (\d+)", line.inner_text())[1])
    expect(button(tab, "抽取本月抽查件")).to_have_count(0)  # nothing left to draw

    form = form_of(tab, "录入抽查结果")
    box = form.locator("[data-testid=stSelectbox]").filter(has_text="抽查件（待录入 1 件）")
    expect(box).to_have_count(1)
    drawn = re.search(r"HL2405-\d{4}", box.get_by_role("combobox").input_value())[0]
    assert drawn in JINING_IDS[1:], drawn
    choose(form, "反馈不实")
    form.get_by_label("抽查情况").fill(CHECK_NOTE)
    button(form, "录入抽查结果").click()
    answered(tab, server, f"已录入抽查结果：{drawn} 反馈不实，已挂账督办。", "spot check")
    expect(kpi(tab, "抽查")).to_have_text("1/1 件")
    expect(kpi(tab, "挂账督办")).to_have_text("2 项")
    tab.get_by_text(re.compile("^已录入抽查结果")).first.scroll_into_view_if_needed()
    screenshot(tab, "04-province-spot-check")
    story["drawn"] = drawn
    recorder.assert_clean()


def test_the_ledger_lists_the_items_the_cycle_opened(sign_in, server, story) -> None:
    drawn = story["drawn"]
    tab, recorder = sign_in("province")
    visit(tab, server, "/ledger")
    expect(kpi(tab, "在办事项")).to_have_text("2 项")
    box = tab.locator("[data-testid=stSelectbox]").filter(has_text="办理事项")
    expect(box).to_have_count(1)
    box.click()
    options = tab.get_by_role("option")
    expect(options).to_have_count(2)
    texts = sorted(options.all_inner_texts())
    assert all("12388来电反映" in t for t in texts), texts
    assert any(f"（来电编号 {TRUE_ID}）属实" in t for t in texts), texts
    assert any(f"（来电编号 {drawn}），抽查发现反馈不实" in t for t in texts), texts
    options.filter(has_text=drawn).click()
    wait_rendered(tab)
    assert_shown(tab, server, "ledger, the 抽查 item picked")
    expect(tab.locator("h3").filter(has_text=f"来电编号 {drawn}")).to_be_visible()
    screenshot(tab, "05-province-ledger")
    recorder.assert_clean()


def test_the_stored_cycle(server, story) -> None:
    import sqlalchemy as sa

    from data_access.store.engine import make_engine
    from data_access.store.schema import audit_log, hotline_complaints, spot_check_draws, supervision_items

    server.stop()  # DuckDB: one process holds the file
    drawn = story["drawn"]
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            rows = {r.complaint_id: r for r in conn.execute(sa.select(hotline_complaints))}
            draws = conn.execute(sa.select(spot_check_draws)).all()
            items = {r.id: r for r in conn.execute(sa.select(supervision_items))}
            logged = conn.execute(sa.select(audit_log.c.username, audit_log.c.detail)
                                  .where(audit_log.c.action == "hotline").order_by(audit_log.c.at)).all()
    finally:
        engine.dispose()

    assert sorted(rows) == sorted(c[0] for c in COMPLAINTS)
    assert {r.notified_month for r in rows.values()} == {MONTH}
    assert {i: r.feedback for i, r in rows.items()} == {TRUE_ID: "true", **dict.fromkeys(JINING_IDS[1:], "untrue"),
                                                         **dict.fromkeys(JINAN_IDS)}
    assert all(rows[i].feedback_by == "jining" for i in JINING_IDS)
    assert rows[TRUE_ID].feedback_note == TRUE_NOTE and "13812345678" not in str([tuple(r) for r in rows.values()])

    assert len(draws) == 1 and (draws[0].month, draws[0].seed, draws[0].population, draws[0].sample) == (MONTH, story["seed"], 2, 1)
    assert {i: r.spot_check_draw for i, r in rows.items() if r.spot_check_draw} == {drawn: draws[0].id}
    assert {i: r.spot_check_result for i, r in rows.items() if r.spot_check_result} == {drawn: "false"}
    assert rows[drawn].spot_check_by == "sheng" and rows[drawn].spot_check_note == CHECK_NOTE

    linked = {i: r.supervision_item_id for i, r in rows.items() if r.supervision_item_id}
    assert sorted(linked) == sorted({TRUE_ID, drawn}), linked
    assert sorted(linked.values()) == sorted(items), (linked, list(items))
    assert items[linked[TRUE_ID]].title.startswith("12388来电反映") and items[linked[TRUE_ID]].case_id == "SD101-0000127"
    assert items[linked[drawn]].title.endswith("抽查发现反馈不实")
    assert {items[i].county_code for i in linked.values()} == {RENCHENG, rows[drawn].county_code}

    # 通报, three answers (the refused one wrote nothing), the draw, the 抽查 result
    assert [u for u, _ in logged] == ["sheng", "jining", "jining", "jining", "sheng", "sheng"], logged
    assert logged[0][1].startswith(f"通报 {MONTH}") and logged[4][1].startswith(f"抽查 {MONTH}"), logged
