"""积案化解 end to end in Chromium at 1920x1080, on one signed-in server (server.py) over the golden matters' cases
(tests/data/golden/matters): one matter of 微山县 from screening to 案结事了 across the province (sheng), the city
(jining, 济宁市) and the county (weishan, 微山县), and one relapse (任城区's matter, a fourth report on 2024-04-01).

At the 截止日期 2024-03-01 the province enrols both matters together (集中交办), the city sets the 包案 of 微山县's, the
county's note with a phone number is refused and its progress and resolution land, and the province's confirmation
is refused while two reports are open. At 2024-06-30 the data shows the matter settled: the province opens the page
(任城区's new report is recorded as 反弹 at once) and confirms 案结事了. Each step signs in through the form in a fresh
profile, checks that no exception shows and no request left localhost, and takes a screenshot into
test-artifacts/matters/. The stored history is read last, with the server stopped (DuckDB: one process).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
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
from conftest import GOLDEN
from test_ledger_browser import assert_shown, kpi, signing_in, submit
from test_roles_browser import PASSWORD

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

MATTERS_CASES = GOLDEN / "matters" / "cases.csv"
pytestmark = browser_test_marks(MATTERS_CASES)

JINING, WEISHAN = "370800", "370826"
# with display names, as the page names people (the screenshots show them; the stored steps keep the usernames)
USERS = {"province": ("sheng", "PROVINCE", None, "省纪委监委信访室 王某"), "city": ("jining", "CITY", JINING, "济宁市纪委监委 张某"),
         "county": ("weishan", "COUNTY", WEISHAN, "微山县纪委监委 刘某")}
EARLY, LATE = dt.date(2024, 3, 1), dt.date(2024, 6, 30)
SETTLING = "XF202312-0072"  # 微山县: screened at EARLY (two reports open), settled in the data at LATE
RELAPSING = "SD303-0000445"  # 任城区: three reports at EARLY, a fourth on 2024-04-01
LEADER = ("李某某", "微山县纪委书记")
PHONE_NOTE = "已联系举报人，电话 13812345678"
PROGRESS = "专班已核查 3 项问题，2 项已整改"
RESOLVED = "3 项问题均已整改到位，已书面答复并见面沟通"
SHOTS = ARTIFACTS / "matters"
STEP_CLOCK_PATH = Path(__file__).resolve().parent / "step_clock"  # its sitecustomize stamps the server's steps


def view(day: dt.date) -> dict[str, str]:
    return {"period": "custom", "asof": day.isoformat(), "from": "2024-01-01", "to": day.isoformat()}


def steps_on(clock: Path, day: dt.date) -> None:
    """The server's campaign steps from here on are taken on `day` (10:00), the 截止日期 they are read at: the page
    counts the campaign as it stood at the end of its 截止日期, as the 周例会 does (tests/step_clock)."""
    clock.write_text(dt.datetime.combine(day, dt.time(10)).isoformat(), encoding="utf-8")


@pytest.fixture(scope="module")
def step_clock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clock = tmp_path_factory.mktemp("step_clock") / "now"
    steps_on(clock, EARLY)
    return clock


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, step_clock: Path):
    """server.py on the golden matters' cases with the three users (a cheap password hash), its campaign steps
    stamped by `step_clock`."""
    shutil.rmtree(SHOTS, ignore_errors=True)  # the folder shows this run only
    SHOTS.mkdir(parents=True)
    url = build_golden_database(tmp_path_factory.mktemp("matters_db") / "matters.duckdb", MATTERS_CASES)
    add_users(url, USERS, PASSWORD)
    python_path = os.pathsep.join(filter(None, (str(STEP_CLOCK_PATH), str(STEP_CLOCK_PATH.parents[1]),
                                                os.environ.get("PYTHONPATH"))))
    yield from serving(url, "streamlit-matters.log", env={"PYTHONPATH": python_path, "CAMPAIGN_STEP_CLOCK": str(step_clock)})


@pytest.fixture(scope="module")
def sign_in(server):
    """sign_in(role, day) -> (tab, recorder): a fresh profile signed in through the form (test_ledger_browser's), then
    on the 积案化解 page at the 截止日期 `day`; every profile closed at the end."""
    profiles = signing_in(server, USERS, view(EARLY))
    signed_in = next(profiles)

    def on_the_page(role: str, day: dt.date):
        tab, recorder = signed_in(role)
        visit(tab, server, day)
        expect(tab.locator("h1").first).to_have_text("积案化解")
        assert path_of(tab.url) == "/matters", tab.url
        return tab, recorder

    yield on_the_page
    next(profiles, None)  # the profiles and the browser closed


def visit(tab, server, day: dt.date) -> None:
    tab.goto(view_url(server.base_url, "/matters", **view(day)))
    wait_rendered(tab)
    assert_shown(tab, server, f"积案化解 at {day}")


def screenshot(tab, name: str) -> None:
    assert tab.viewport_size == VIEWPORT
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


def open_matter(tab, server, key: str) -> None:
    """Choose `key` in the 查看事项 selectbox and wait for its timeline."""
    box = tab.locator("[data-testid=stSelectbox]").filter(has_text="查看事项")
    expect(box).to_have_count(1)
    box.click()
    tab.keyboard.type(key)
    tab.get_by_role("option").filter(has_text=key).click()
    wait_rendered(tab)
    assert_shown(tab, server, f"matter {key}")
    expect(tab.locator("h3").filter(has_text=f"事项 {key}")).to_be_visible()


def state_line(tab):
    return tab.get_by_text(re.compile(r"当前状态：")).first


# --------------------------------------------------------------------------------------------
# the steps, in order
# --------------------------------------------------------------------------------------------

def test_province_enrols_two_matters_together(sign_in, server) -> None:
    tab, recorder = sign_in("province", EARLY)
    expect(kpi(tab, "纳入专项治理")).to_have_text("0 件")
    pick = tab.locator("[data-testid=stMultiSelect]").filter(has_text="选择纳入专项治理的事项")
    for key in (SETTLING, RELAPSING):
        pick.click()
        tab.keyboard.type(key)  # typed: the long list draws only the options in view
        tab.get_by_role("option").filter(has_text=key).click()
        tab.keyboard.press("Escape")
        wait_rendered(tab)
    done = submit(tab, server, "纳入专项治理（集中交办2 件）", re.compile(r"^已纳入专项治理（集中交办）：2 件"),
                  "matters, batch enrolled")
    expect(done).to_contain_text(f"限期 {dt.date.today() + dt.timedelta(days=60)} 办结")
    expect(kpi(tab, "纳入专项治理")).to_have_text("2 件")
    expect(kpi(tab, "包案率")).to_have_text("0.0%")
    screenshot(tab, "01-province-enrols")
    recorder.assert_clean()


def test_city_sets_the_leader_team_and_plan(sign_in, server) -> None:
    tab, recorder = sign_in("city", EARLY)
    open_matter(tab, server, SETTLING)
    expect(state_line(tab)).to_contain_text("当前状态：已交办")
    tab.get_by_label("包案领导姓名").fill(LEADER[0])
    tab.get_by_label("包案领导职务").fill(LEADER[1])
    tab.get_by_label("工作专班").fill("县纪委信访室、第一监督检查室、乡镇纪委")
    tab.get_by_label("化解方案").fill("逐项核查所反映的乡村振兴项目资金问题，两个月内书面答复")
    submit(tab, server, "保存包案", "已保存包案。", "matters, 包案 saved")
    expect(state_line(tab)).to_contain_text("当前状态：已包案")
    expect(kpi(tab, "包案率")).to_have_text("50.0%")
    expect(tab.get_by_text("包案记录")).to_be_visible()
    screenshot(tab, "02-city-assigns")
    recorder.assert_clean()


def test_county_notes_progress_and_reports_it_resolved(sign_in, server) -> None:
    tab, recorder = sign_in("county", EARLY)
    open_matter(tab, server, SETTLING)
    note = tab.get_by_label(re.compile("^进展情况或化解情况"))
    note.fill(PHONE_NOTE)
    refused = submit(tab, server, "报送进展", re.compile("疑似电话号码"), "matters, a phone number")
    expect(refused).to_contain_text("未保存")
    screenshot(tab, "03-county-phone-refused")
    note.fill(PROGRESS)
    submit(tab, server, "报送进展", "已报送进展。", "matters, progress")
    note.fill(RESOLVED)
    submit(tab, server, "报告已化解", "已报告化解，待省级确认案结事了。", "matters, resolved")
    expect(state_line(tab)).to_contain_text("当前状态：已化解")
    expect(kpi(tab, "化解率")).to_have_text("100.0%")  # the county's own: one matter, resolved
    screenshot(tab, "04-county-resolves")
    recorder.assert_clean()


def test_province_confirms_when_the_data_shows_it_settled(sign_in, server, step_clock: Path) -> None:
    tab, recorder = sign_in("province", EARLY)
    open_matter(tab, server, SETTLING)
    submit(tab, server, "确认案结事了", f"未保存：截至 {EARLY}，事项 {SETTLING} 尚不能确认案结事了：尚有 2 件举报未办结。",
           "matters, confirmation refused")
    expect(state_line(tab)).to_contain_text("当前状态：已化解")
    screenshot(tab, "05-province-refused-early")

    steps_on(step_clock, LATE)
    visit(tab, server, LATE)  # the other matter's new report: 反弹, recorded as the page opens
    expect(tab.get_by_text(f"截至 {LATE}，1 个专项治理事项有新举报，已记录为反弹。")).to_be_visible()
    expect(kpi(tab, "反弹")).to_have_text("1 件")
    screenshot(tab, "06-relapse-recorded")
    open_matter(tab, server, SETTLING)
    submit(tab, server, "确认案结事了", "已确认案结事了。", "matters, settled")
    expect(state_line(tab)).to_contain_text("当前状态：案结事了")
    expect(kpi(tab, "化解率")).to_have_text("50.0%")
    screenshot(tab, "07-province-settles")
    recorder.assert_clean()


def test_the_stored_history(server) -> None:
    from data_access.identity.scope import WHOLE_PROVINCE
    from data_access.store.engine import make_engine
    from data_access.supervision import campaign

    server.stop()  # DuckDB: one process holds the file
    engine = make_engine(server.database_url)
    try:
        rows = campaign.matters(engine, WHOLE_PROVINCE, LATE).set_index("matter")
        settled = campaign.history(engine, WHOLE_PROVINCE, rows.at[SETTLING, "id"])
        relapsed = campaign.history(engine, WHOLE_PROVINCE, rows.at[RELAPSING, "id"])
        plans = campaign.assignments(engine, WHOLE_PROVINCE, rows.at[SETTLING, "id"])
        notes = campaign.notes(engine, WHOLE_PROVINCE, rows.at[SETTLING, "id"])
    finally:
        engine.dispose()
    assert (rows.at[SETTLING, "state"], rows.at[RELAPSING, "state"]) == ("settled", "relapsed")
    assert list(settled["action"]) == ["enrol", "assign", "progress", "resolve", "settle"], settled
    assert list(settled["username"]) == ["sheng", "jining", "weishan", "weishan", "sheng"], settled
    assert list(relapsed["action"]) == ["enrol", "relapse"] and relapsed["username"].iloc[-1] == "sheng", relapsed
    assert list(plans[["leader_name", "leader_post"]].iloc[0]) == list(LEADER)
    assert list(notes["note"]) == [PROGRESS, RESOLVED]  # the refused note was never written
    assert all(Path(SHOTS / f"{name}.png").exists() for name in ("01-province-enrols", "07-province-settles"))
