"""查找案件 and 案件档案 (issue 32) in Chromium at 1920x1080, on one signed-in server (server.py) over the golden cases:
the province (sheng), 济宁市 (jining) and 微山县 (weishan) each search the sidebar's box — a case in their region is
found and its dossier opens, a case outside it answers 无权查看该案件 and nothing of the case, an unknown number
未找到 — and 微山县 opens its case by a 12388 来电编号 and prints the dossier (window.print, allowed by the page's
Content-Security-Policy; the print layout saved as PDF). Screenshots into test-artifacts/dossier/.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    VIEWPORT,
    BrowserRecorder,
    add_users,
    browser_test_marks,
    build_golden_database,
    chromium,
    exception_texts,
    new_context,
    path_of,
    query_of,
    serving,
    sign_in_through_form,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES
from test_roles_browser import JINING, PASSWORD, SIGN_IN_TITLE, UI_TIMEOUT_MS, WEISHAN

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

SHOTS = ARTIFACTS / "dossier"
VIEW = {"period": "custom", "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
USERS = {"province": ("sheng", "PROVINCE", None), "city": ("jining", "CITY", JINING),
         "county": ("weishan", "COUNTY", WEISHAN)}
WEISHAN_CASE = "SD101-0000688"  # 微山县, open at 2024-06-30
RENCHENG_CASE = "SD101-0000057"  # 任城区: 济宁市's, not 微山县's
JINAN_CASE = "SD101-0001433"  # 历下区, 济南市
CALL = "12388-2406-0001"  # a call about WEISHAN_CASE
UNKNOWN = "SD999-NOSUCHCASE"
ITEM_TITLE = "件号 SD101-0000688 请按期办结"
# role -> [(number typed, what the page answers: a case id whose dossier opens, or the message)]
SEARCHES = {
    "province": [(JINAN_CASE, JINAN_CASE), (WEISHAN_CASE, WEISHAN_CASE), (UNKNOWN, "未找到")],
    "city": [(RENCHENG_CASE, RENCHENG_CASE), (JINAN_CASE, "无权查看该案件"), (UNKNOWN, "未找到")],
    "county": [(CALL, WEISHAN_CASE), (RENCHENG_CASE, "无权查看该案件"), (UNKNOWN, "未找到")],
}
# every print the page asks for is counted instead of opening a dialog; every CSP violation kept
INIT_SCRIPT = ("window.__printed = 0; window.print = () => { window.__printed += 1; };"
               "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', "
               "e => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`));")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """server.py on the golden cases with the three users (a cheap password hash) and one 12388 call."""
    from data_access.identity.auth import Identity, Role
    from data_access.store.engine import make_engine
    from data_access.store.schema import hotline_complaints
    from data_access.supervision.ledger import open_item

    shutil.rmtree(SHOTS, ignore_errors=True)  # the folder shows this run only
    SHOTS.mkdir(parents=True)
    path: Path = tmp_path_factory.mktemp("dossier_db") / "golden.duckdb"
    url = build_golden_database(path, GOLDEN_CASES)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(hotline_complaints.insert().values(complaint_id=CALL, received_date=dt.date(2024, 6, 12),
                                                            county_code=WEISHAN, kind="slow", case_id=WEISHAN_CASE))
        open_item(engine, Identity("sheng", Role.PROVINCE, None, "省级督导员"), county_code=WEISHAN, title=ITEM_TITLE,
                  reason="请于反馈期限内办结该件，并书面报告办理结果。", method="phone",
                  reply_due=dt.date.today() + dt.timedelta(days=7), case_id=WEISHAN_CASE)
    finally:
        engine.dispose()
    add_users(url, USERS, PASSWORD)
    yield from serving(url, "streamlit-dossier.log")


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def sign_in(browser, server, role: str):
    """A fresh profile signed in through the form as `role`'s user at the view's overview."""
    context = new_context(browser, UI_TIMEOUT_MS)
    context.add_init_script(INIT_SCRIPT)
    tab, recorder = context.new_page(), BrowserRecorder()
    recorder.attach(tab)
    tab.goto(view_url(server.base_url, "/", **VIEW))
    wait_rendered(tab)
    sign_in_through_form(tab, USERS[role][0], PASSWORD, UI_TIMEOUT_MS)
    wait_rendered(tab)
    assert SIGN_IN_TITLE not in tab.locator("h1").all_inner_texts()
    recorder.mark()
    return context, tab, recorder


def search(tab, server, number: str) -> None:
    """Type `number` into the sidebar's 查找案件 and submit; wait for the dossier page to be drawn."""
    sidebar = tab.locator("[data-testid=stSidebar]")
    sidebar.get_by_label("查找案件", exact=True).fill(number)
    expect(sidebar.get_by_text(re.compile("Press Enter|submit")).filter(visible=True)).to_have_count(0)  # no English
    sidebar.locator("button").filter(has_text="查找").click()
    tab.wait_for_url(lambda address: query_of(address).get("q") == number)
    expect(tab.locator("h1").first).to_have_text("案件档案")
    wait_rendered(tab)
    texts = exception_texts(tab)
    assert not texts, f"{number}: the page shows an exception: {texts}\n{server.tracebacks()[-4000:]}"
    assert path_of(tab.url) == "/dossier" and query_of(tab.url).get("q") == number, tab.url


def shot(tab, name: str) -> None:
    assert tab.viewport_size == VIEWPORT
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize("role", list(SEARCHES))
def test_search_as_each_role(browser, server, role: str) -> None:
    context, tab, recorder = sign_in(browser, server, role)
    try:
        for number, answer in SEARCHES[role]:
            search(tab, server, number)
            main = tab.locator("[data-testid=stMain]")
            if answer in ("未找到", "无权查看该案件"):
                expect(main).to_contain_text(answer)
                body = main.inner_text()
                assert "基本情况" not in body and "办理时间" not in body, body
                if answer == "无权查看该案件":  # nothing of the case: not its county, not its dates
                    assert number not in body, body
            else:
                expect(main.locator("h3").filter(has_text=f"件号 {answer}")).to_be_visible()
                for heading in ("基本情况", "办理时间", "督办事项", "12388 来电"):
                    expect(main).to_contain_text(heading)
            shot(tab, f"{role}-{number}")
        recorder.assert_clean()
        assert tab.evaluate("window.__cspViolations") == []
    finally:
        context.close()


def test_county_opens_by_call_number_and_prints(browser, server) -> None:
    context, tab, recorder = sign_in(browser, server, "county")
    try:
        search(tab, server, CALL)
        main = tab.locator("[data-testid=stMain]")
        expect(main.locator("h3").filter(has_text=f"件号 {WEISHAN_CASE}")).to_be_visible()
        expect(main).to_contain_text("按12388 来电编号查到")
        expect(main.locator("[data-testid=stTable]").filter(has_text=CALL)).to_be_visible()
        expect(main).to_contain_text(ITEM_TITLE)
        steps = main.locator("[data-testid=stTable]").filter(has_text="承诺办结日期")  # the item's history
        expect(steps).to_contain_text("挂账督办")
        tab.locator("button").filter(has_text="打印").click()
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000  # wait_for_function evaluates a string: the CSP refuses
        while tab.evaluate("window.__printed") == 0 and time.monotonic() < deadline:
            tab.wait_for_timeout(100)
        assert tab.evaluate("window.__printed") == 1, "打印 did not ask the browser to print"
        wait_rendered(tab)
        assert tab.evaluate("window.__cspViolations") == [], "the print script was blocked"
        tab.emulate_media(media="print")
        assert not tab.locator("[data-testid=stSidebar]").is_visible(), "the sidebar prints"
        assert not tab.locator("button").filter(has_text="打印").is_visible(), "the buttons print"
        tab.screenshot(path=str(SHOTS / "county-print-layout.png"), full_page=True)
        tab.pdf(path=str(SHOTS / "county-dossier.pdf"), format="A4", print_background=True)
        assert (SHOTS / "county-dossier.pdf").stat().st_size > 10_000
        tab.emulate_media(media="screen")
        assert not tab.locator("button").filter(has_text="济宁市地区下钻").count(), "a county user offered its city"
        tab.locator("button").filter(has_text="微山县地区下钻").click()
        tab.wait_for_url(lambda address: path_of(address) == "/drilldown" and query_of(address).get("region") == WEISHAN)
        wait_rendered(tab)
        assert not exception_texts(tab), server.tracebacks()[-4000:]
        shot(tab, "county-drilldown-from-dossier")
        recorder.assert_clean()
    finally:
        context.close()
