"""督办台账 end to end in Chromium at 1920x1080, on one signed-in server (server.py) over the golden cases:
a city supervisor (jining, 济宁市) opens an item from the 临期预警 list of 超期督办, the county (rencheng,
任城区) replies, the province (sheng) signs it off (销号) and downloads the 督办通知单.

The as-of date of the view is the latest one, on or before 2024-06-30, at which 任城区 has a 临期 case
(metrics.warnings on the golden data), so that the item lands on the county user's ledger. The steps
share the server and run in order; each signs in through the form in a fresh browser profile, checks
that its pages show no exception and that no request left localhost, and takes a screenshot of the
1920x1080 screen into test-artifacts/ledger/. The stored history is read last, with the server
stopped (DuckDB lets one process hold the file).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from dataclasses import dataclass
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
    copy_database,
    exception_texts,
    new_context,
    path_of,
    serving,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES
from test_browser import grid_row_point
from test_roles_browser import JINING, PASSWORD, SIGN_IN_TITLE, UI_TIMEOUT_MS

from metrics.periods import Preset

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

RENCHENG = "370811"  # 任城区, a county of 济宁市
USERS = {"province": ("sheng", "PROVINCE", None), "city": ("jining", "CITY", JINING), "county": ("rencheng", "COUNTY", RENCHENG)}
LATEST_AS_OF, EARLIEST_AS_OF = dt.date(2024, 6, 30), dt.date(2024, 1, 2)
PERIOD_FROM = "2024-01-01"
REASON = "请于反馈期限内办结该件，并书面报告办理结果。"
PHONE_REPLY = "请联系 13812345678"
REPLY = "已约谈承办人，本周内办结"
SHOTS = ARTIFACTS / "ledger"


@dataclass(frozen=True)
class YellowCase:
    """A 临期 case of 任城区 and where it sits in 济宁市's 临期预警 list at `as_of`."""

    as_of: dt.date
    row: int
    case_id: str
    due_date: dt.date

    @property
    def view(self) -> dict[str, str]:
        day = self.as_of.isoformat()
        return {"period": Preset.CUSTOM.value, "asof": day, "from": PERIOD_FROM, "to": day}


# --------------------------------------------------------------------------------------------
# the database, the case, the server, one signed-in tab per role
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def golden_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger_db") / "golden.duckdb"
    build_golden_database(path, GOLDEN_CASES)
    return path


@pytest.fixture(scope="module")
def yellow_case(golden_file: Path) -> YellowCase:
    """Walk back from 2024-06-30 to the first as-of date at which 济宁市's yellow list holds a 任城区 case."""
    from data_access.identity.scope import Scope
    from data_access.store.engine import make_engine
    from metrics.warnings import Colour, deadline_warnings

    engine = make_engine(f"duckdb:///{golden_file}")
    try:
        day = LATEST_AS_OF
        while day >= EARLIEST_AS_OF:
            listed = deadline_warnings(engine, day, scope=Scope(JINING), colours=(Colour.YELLOW.value,))
            ours = listed.index[listed["county_code"] == RENCHENG]
            if len(ours):
                found = listed.loc[ours[0]]
                return YellowCase(day, int(ours[0]), str(found["case_id"]), found["due_date"])
            day -= dt.timedelta(days=1)
    finally:
        engine.dispose()
    pytest.fail(f"任城区 has no 临期 case at any as-of date from {EARLIEST_AS_OF} to {LATEST_AS_OF} in the golden data")


@pytest.fixture(scope="module")
def server(golden_file: Path):
    """server.py on a copy of the golden cases with the three users (a cheap password hash); the last test stops it."""
    shutil.rmtree(SHOTS, ignore_errors=True)  # the folder shows this run only
    SHOTS.mkdir(parents=True)
    url = copy_database(golden_file, golden_file.with_name("app.duckdb"))
    add_users(url, USERS, PASSWORD)
    yield from serving(url, "streamlit-ledger.log")


@pytest.fixture(scope="module")
def story() -> dict:
    """What one step leaves for the next (the steps run in order, -x stops at the first failure)."""
    return {}


def signing_in(server, users: dict[str, tuple[str, str, str | None]], view: dict[str, str]):
    """Yield sign_in(role) -> (tab, recorder): a fresh profile signed in through the form as `users[role]`
    at the view's overview, the recorder marked; every profile closed at the end."""
    with chromium() as browser:
        contexts = []

        def signed_in(role: str):
            context = new_context(browser, UI_TIMEOUT_MS)
            contexts.append(context)
            tab, recorder = context.new_page(), BrowserRecorder()
            recorder.attach(tab)
            tab.goto(view_url(server.base_url, "/", **view))
            wait_rendered(tab)
            for label, value in (("用户名", users[role][0]), ("密码", PASSWORD)):
                tab.get_by_label(label).fill(value)
            tab.get_by_role("button", name="登录").click()
            expect(tab.locator("h1").first).not_to_have_text(SIGN_IN_TITLE)
            wait_rendered(tab)
            recorder.mark()
            return tab, recorder

        yield signed_in
        for context in contexts:
            context.close()


@pytest.fixture(scope="module")
def sign_in(server, yellow_case):
    """sign_in(role) -> (tab, recorder): a fresh profile signed in through the form, the recorder marked."""
    yield from signing_in(server, USERS, yellow_case.view)


# --------------------------------------------------------------------------------------------
# driving the pages
# --------------------------------------------------------------------------------------------

def assert_shown(tab, server, where: str) -> None:
    """The page drew without an exception, and the viewer is still signed in."""
    texts = exception_texts(tab)
    assert not texts, f"{where}: the page shows an exception: {texts}\n{server.tracebacks()[-4000:]}"
    assert SIGN_IN_TITLE not in tab.locator("h1").all_inner_texts(), f"{where}: signed out"


def visit(tab, server, yellow_case: YellowCase, url_path: str) -> None:
    tab.goto(view_url(server.base_url, url_path, **yellow_case.view))
    wait_rendered(tab)
    assert_shown(tab, server, url_path)
    assert path_of(tab.url) == url_path, f"asked for {url_path}, landed on {tab.url}"


def screenshot(tab, name: str) -> None:
    assert tab.viewport_size == VIEWPORT
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


def button(tab, text: str):
    """The button showing `text` (its accessible name also holds the icon's ligature)."""
    return tab.locator("button").filter(has_text=text)


def submit(tab, server, text: str, answer: str | re.Pattern[str], where: str):
    """Click a form's submit button, wait for the page's answer and the run to end; the answer's element."""
    button(tab, text).click()
    shown = tab.get_by_text(answer).first
    expect(shown).to_be_visible(timeout=UI_TIMEOUT_MS)
    wait_rendered(tab)
    assert_shown(tab, server, where)
    return shown


def pick_item(tab, server, case_id: str) -> None:
    """Choose the item of `case_id` in the 办理事项 selectbox and wait for its panel."""
    box = tab.locator("[data-testid=stSelectbox]").filter(has_text="办理事项")
    expect(box).to_have_count(1)
    box.click()
    tab.get_by_role("option").filter(has_text=f"件号 {case_id}").click()
    wait_rendered(tab)
    assert_shown(tab, server, "ledger, an item picked")
    expect(tab.locator("h3").filter(has_text=f"件号 {case_id}")).to_be_visible()


def state_line(tab):
    return tab.get_by_text(re.compile(r"当前状态：")).first


def kpi(tab, label: str):
    return tab.locator("[data-testid=stMetric]").filter(has_text=label).locator("[data-testid=stMetricValue]")


# --------------------------------------------------------------------------------------------
# the steps, in order
# --------------------------------------------------------------------------------------------

def test_city_opens_an_item_from_the_yellow_list(sign_in, server, yellow_case, story) -> None:
    case = yellow_case
    tab, recorder = sign_in("city")
    visit(tab, server, case, "/overdue")
    heading = tab.locator("h3").filter(has_text=re.compile(r"^\s*临期预警"))
    expect(heading).to_have_count(1)
    grid = heading.locator("xpath=following::*[@data-testid='stDataFrame'][1]")
    grid.scroll_into_view_if_needed()
    # glide-cell-<column>-<row>: column 0 is the row-selection marker, then 件号, 所属市, 县（市、区）
    expect(grid.locator(f"[data-testid=glide-cell-1-{case.row}]")).to_have_text(case.case_id)
    expect(grid.locator(f"[data-testid=glide-cell-3-{case.row}]")).to_have_text("任城区")

    tab.mouse.click(*grid_row_point(grid, case.row))
    supervise = button(tab, f"对所选案件挂账督办（件号 {case.case_id}）")
    expect(supervise).to_be_enabled(timeout=UI_TIMEOUT_MS)
    wait_rendered(tab)
    supervise.click()
    tab.wait_for_url(lambda u: path_of(u) == "/ledger", wait_until="commit")
    wait_rendered(tab)
    assert_shown(tab, server, "ledger with a draft")
    expect(tab.get_by_label("件号（对单件督办时填写，否则留空）")).to_have_value(case.case_id)
    expect(tab.get_by_label("督办事项", exact=True)).to_have_value(re.compile(rf"^件号 {re.escape(case.case_id)} 将于"))
    expect(tab.get_by_role("combobox", name="被督办县（市、区）")).to_have_value("济宁市 任城区")

    tab.get_by_label("督办要求").fill(REASON)
    done = submit(tab, server, "挂账督办", re.compile(r"^已挂账："), "ledger, item opened")
    expect(done).to_contain_text("任城区")
    expect(kpi(tab, "在办事项")).to_have_text("1 项")
    screenshot(tab, "01-city-opens")
    story["case_id"] = case.case_id
    recorder.assert_clean()


def test_county_replies_and_a_phone_number_is_refused(sign_in, server, yellow_case, story) -> None:
    case_id = story["case_id"]
    tab, recorder = sign_in("county")
    visit(tab, server, yellow_case, "/ledger")
    pick_item(tab, server, case_id)
    expect(state_line(tab)).to_contain_text("当前状态：挂账")
    note = tab.get_by_label("反馈内容（办理进展、整改措施）")

    note.fill(PHONE_REPLY)
    refused = submit(tab, server, "提交反馈", re.compile("疑似电话号码"), "ledger, reply with a phone number")
    expect(refused).to_contain_text("未保存")
    expect(tab.get_by_text("已提交反馈。")).to_have_count(0)
    # nothing written: a new session reads the item as still 挂账
    visit(tab, server, yellow_case, "/ledger")
    pick_item(tab, server, case_id)
    expect(state_line(tab)).to_contain_text("当前状态：挂账")

    note.fill(REPLY)
    submit(tab, server, "提交反馈", "已提交反馈。", "ledger, reply")
    expect(state_line(tab)).to_contain_text("当前状态：已反馈")
    expect(note).to_have_count(0)  # a replied item asks the county for nothing more
    screenshot(tab, "02-county-replies")
    recorder.assert_clean()


def test_province_signs_off_and_downloads_the_notice(sign_in, server, yellow_case, story) -> None:
    import docx

    case_id = story["case_id"]
    tab, recorder = sign_in("province")
    visit(tab, server, yellow_case, "/ledger")
    pick_item(tab, server, case_id)
    expect(state_line(tab)).to_contain_text("当前状态：已反馈")
    submit(tab, server, "发出督办通知单", re.compile(r"^督办通知单已发文：鲁纪信督〔\d{4}〕\d+号"), "ledger, notice issued")
    submit(tab, server, "销号", "已销号。", "ledger, signed off")
    expect(kpi(tab, "销号率")).to_have_text("100.0%")
    expect(state_line(tab)).to_contain_text("当前状态：已销号")
    screenshot(tab, "03-province-signs-off")

    with tab.expect_download() as started:
        button(tab, "下载督办通知单（Word）").click()
    download = started.value
    assert download.suggested_filename.endswith(".docx"), download.suggested_filename
    document = docx.Document(io.BytesIO(Path(download.path()).read_bytes()))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "督办通知单" in text and case_id in text, f"{download.suggested_filename}:\n{text}"
    assert re.search(r"鲁纪信督〔\d{4}〕\d+号", text), text
    recorder.assert_clean()


def test_the_stored_history_is_open_reply_close(server, story) -> None:
    from data_access.identity.scope import WHOLE_PROVINCE
    from data_access.store.engine import make_engine
    from data_access.supervision.ledger import history, items

    server.stop()  # DuckDB: one process holds the file
    engine = make_engine(server.database_url)
    try:
        stored = items(engine, WHOLE_PROVINCE, dt.date.today())
        assert list(stored["case_id"]) == [story["case_id"]], stored
        assert list(stored["county_code"]) == [RENCHENG] and list(stored["status"]) == ["closed"], stored
        steps = history(engine, WHOLE_PROVINCE, stored.at[0, "id"])
    finally:
        engine.dispose()
    assert list(steps["action"]) == ["open", "reply", "close"], steps
    assert list(steps["username"]) == ["jining", "rencheng", "sheng"], steps
    assert list(steps["note"])[:2] == [REASON, REPLY], steps
