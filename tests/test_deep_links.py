"""A copied link as the very first request of a freshly started server, in Chromium, for every page.

Until some run of a server calls st.navigation, Streamlit serves a request for /data by running
pages/data.py alone (its pages-folder mode, see pages/__init__.py); each page file then only hands
over to app.py. So every url path gets a server of its own, started for it and asked nothing
before the link:
- with sign-in enabled and signed out, the sign-in form shows and nothing of the page does: no
  title, figures, tables, charts, sidebar or menu; the address is kept;
- the province-only pages (数据, 审计日志) signed in as a county or city user are not reachable (the
  viewer lands on their overview, without those pages in the menu), while a province user signed in
  from the same link does land on the page;
- in open demo mode (no user, no [auth]) the deep-linked page is drawn inside the frame: sidebar
  filters, menu, 演示模式 banner.

Servers start ahead, two at a time, while the previous link is checked (tests/browser_support.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    FreshServers,
    StreamlitServer,
    add_users,
    browser_test_marks,
    build_golden_database,
    chromium,
    copy_database,
    exception_texts,
    group_alive,
    new_context,
    path_of,
    serving,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES

from metrics.periods import Preset

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

UI_TIMEOUT_MS = 30_000
H1 = {"period": Preset.CUSTOM.value, "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
JINING, RENCHENG = "370800", "370811"
SIGN_IN_TITLE = "信访举报督导看板"
PASSWORD = "Shandong-2024!"
PAGE_TITLES = {  # url path (app.py) -> the page's own title, which must not show before sign-in
    "overview": "山东省 信访举报督导总览",
    "drilldown": "山东省",
    "priority": "重点督导县（市、区）",
    "overdue": "超期督办",
    "satisfaction": "群众满意度",
    "analysis": "形势分析",
    "weekly": "周例会",
    "ledger": "督办台账",
    "matters": "积案化解",
    "hotline": "12388 通报",
    "dossier": "案件档案",
    "definitions": "指标口径",
    "data": "数据",
    "audit": "审计日志",
}
NARROWER_USER = {"data": ("xian", "任城区 信访举报督导总览"), "audit": ("shi", "济宁市 信访举报督导总览")}
PROVINCE_MENU = ["全省总览", "地区下钻", "重点督导县", "超期督办", "满意度", "形势分析", "周例会", "督办台账", "积案化解",
                 "12388通报",
                 "指标口径",
                 "数据", "审计日志"]
SIGN_IN, OPEN = "sign-in", "open"  # the database a server reads: with users, or with none (open demo mode)


# --------------------------------------------------------------------------------------------
# databases, servers, browser
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Closed DuckDB files with the golden cases: one without users, one with a province, a city and a
    county user (a cheap password hash: the hash carries its own cost, so sign-in is quick too)."""
    folder = tmp_path_factory.mktemp("deep_link_db")
    open_db = folder / "open.duckdb"
    build_golden_database(open_db, GOLDEN_CASES)
    users = {"province": ("sheng", "PROVINCE", None), "city": ("shi", "CITY", JINING), "county": ("xian", "COUNTY", RENCHENG)}
    add_users(copy_database(open_db, folder / "sign_in.duckdb"), users, PASSWORD)
    return {OPEN: open_db, SIGN_IN: folder / "sign_in.duckdb"}


@pytest.fixture(scope="module")
def fresh_servers(request: pytest.FixtureRequest, databases: dict[str, Path],
                  tmp_path_factory: pytest.TempPathFactory):
    """One fresh server per selected test of this module, started ahead in the order the tests run."""
    order = [item.callspec.params["server"] for item in request.session.items
             if item.module is request.module and "server" in getattr(getattr(item, "callspec", None), "params", {})]

    folders = {key: tmp_path_factory.mktemp("fresh") for key in order}  # made here: starts run in threads

    def start(key: tuple[str, str]) -> StreamlitServer:
        kind, url_path = key
        url = copy_database(databases[kind], folders[key] / "app.duckdb")
        return StreamlitServer(url, ARTIFACTS / f"streamlit-fresh-{kind}-{url_path}.log").start()

    servers = FreshServers(order, start)
    yield servers
    servers.close()


@pytest.fixture
def server(request: pytest.FixtureRequest, fresh_servers: FreshServers) -> StreamlitServer:
    """The fresh server of this test (parametrized as ("sign-in" | "open", url path)); nothing has asked it anything."""
    srv = fresh_servers.take(request.param)
    yield srv
    fresh_servers.done(srv)
    assert not group_alive(srv.process.pid), "streamlit left a process behind"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def new_tab(browser):
    """Tabs in fresh profiles (signed out), closed after the test."""
    contexts = []

    def open_tab():
        contexts.append(new_context(browser, UI_TIMEOUT_MS))
        return contexts[-1].new_page()

    yield open_tab
    for context in contexts:
        context.close()


def fresh_server_per_link(kind: str, url_paths) -> pytest.MarkDecorator:
    """Parametrize a test by url path, each with a fresh server of its own reading the `kind` database."""
    return pytest.mark.parametrize(("server", "url_path"), [pytest.param((kind, u), u, id=u) for u in url_paths],
                                   indirect=["server"])


# --------------------------------------------------------------------------------------------
# driving and reading the page
# --------------------------------------------------------------------------------------------

def open_link(tab, server: StreamlitServer, url_path: str, **params: str) -> None:
    tab.goto(view_url(server.base_url, f"/{url_path}", **params))
    wait_rendered(tab)
    assert not exception_texts(tab), f"/{url_path}: {exception_texts(tab)}\n{server.tracebacks()[-3000:]}"


def sign_in(tab, username: str) -> None:
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录").click()
    expect(tab.locator("h1").first).not_to_have_text(SIGN_IN_TITLE, timeout=UI_TIMEOUT_MS)
    wait_rendered(tab)


def titles(tab) -> list[str]:
    return [t.strip() for t in tab.locator("h1").all_inner_texts()]


def menu(tab) -> list[str]:
    """The navigation's page names (the icon name before each is dropped)."""
    return [t.split()[-1] for t in tab.locator("[data-testid=stSidebarNav] a").all_inner_texts()]


def assert_only_the_sign_in(tab, url_path: str) -> None:
    """The sign-in form and nothing of the page: no title, figures, tables, charts, map, sidebar or menu."""
    assert titles(tab) == [SIGN_IN_TITLE], titles(tab)
    expect(tab.get_by_label("用户名")).to_be_visible()
    expect(tab.get_by_label("密码")).to_be_visible()
    for testid in ("stMetric", "stDataFrame", "stTable", "stVegaLiteChart", "stDeckGlJsonChart", "stFileUploader",
                   "stSidebar", "stSidebarNav"):
        assert tab.locator(f"[data-testid={testid}]").count() == 0, f"/{url_path} signed out shows {testid}"
    assert PAGE_TITLES[url_path] not in tab.locator("[data-testid=stMain]").inner_text()


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------

@fresh_server_per_link(SIGN_IN, PAGE_TITLES)
def test_first_request_signed_out_shows_only_the_sign_in(server, url_path, new_tab) -> None:
    tab = new_tab()
    open_link(tab, server, url_path, **H1)
    assert_only_the_sign_in(tab, url_path)
    if url_path != "overview":  # the overview is the default page: its own address is /
        assert path_of(tab.url) == f"/{url_path}", tab.url
    if url_path in NARROWER_USER:
        username, their_overview = NARROWER_USER[url_path]
        sign_in(tab, username)
        assert titles(tab) == [their_overview] and path_of(tab.url) != f"/{url_path}", (titles(tab), tab.url)
        assert not {"数据", "审计日志"} & set(menu(tab)), menu(tab)
        assert tab.locator("[data-testid=stFileUploader]").count() == 0
        # the same link, signed in as a province user, is the page itself
        tab = new_tab()
        open_link(tab, server, url_path, **H1)
        sign_in(tab, "sheng")
        assert titles(tab) == [PAGE_TITLES[url_path]] and path_of(tab.url) == f"/{url_path}", (titles(tab), tab.url)


@fresh_server_per_link(OPEN, ["drilldown"])
def test_first_request_in_open_demo_mode_draws_the_page_in_the_frame(server, url_path, new_tab) -> None:
    tab = new_tab()
    open_link(tab, server, url_path, **H1, region=JINING)
    assert titles(tab) == ["济宁市"]
    expect(tab.get_by_text("2024-01-01 至 2024-06-30").first).to_be_visible()
    expect(tab.locator("[data-testid=stMetric]")).to_have_count(6)
    sidebar = tab.locator("[data-testid=stSidebar]")
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_text("筛选条件")).to_be_visible()
    assert menu(tab) == PROVINCE_MENU
    expect(tab.get_by_text("演示模式，未启用登录").first).to_be_visible()


# --------------------------------------------------------------------------------------------
# a sign-in that lasts: the session cookie (server.py, data_access/identity/sessions.py)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lasting(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A server on a PostgreSQL database of its own (golden cases, a province and a city user): the test
    can disable a user while the server runs (a DuckDB file admits one process)."""
    from conftest import database_of_its_own

    from data_access.imports.importer import import_file
    from data_access.store.database import init_database

    engine = database_of_its_own("postgresql", "signin", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    url = engine.url.render_as_string(hide_password=False)
    add_users(url, {"province": ("sheng", "PROVINCE", None), "city": ("shi", "CITY", JINING)}, PASSWORD)
    for srv in serving(url, "streamlit-sign-in.log"):
        yield srv, engine


def session_cookie(context) -> dict | None:
    """The browser's session cookie, waited for up to a few seconds (the page fetches it after sign-in)."""
    from ui.session_routes import SESSION_COOKIE

    for _ in range(50):
        found = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
        if found:
            return found[0]
        import time
        time.sleep(0.1)
    return None


def test_a_sign_in_lasts_through_reloads_and_tabs_until_sign_out(lasting, browser) -> None:
    server, _ = lasting
    context = new_context(browser, UI_TIMEOUT_MS)
    try:
        tab = context.new_page()
        open_link(tab, server, "priority", **H1)
        assert_only_the_sign_in(tab, "priority")
        sign_in(tab, "sheng")
        assert titles(tab) == [PAGE_TITLES["priority"]] and path_of(tab.url) == "/priority"
        assert "from=2024-01-01" in tab.url  # the link's parameters survive the sign-in
        cookie = session_cookie(context)
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert cookie["value"] not in tab.url and cookie["name"] not in tab.evaluate("document.cookie")  # HttpOnly
        tab.reload()  # F5
        wait_rendered(tab)
        assert titles(tab) == [PAGE_TITLES["priority"]]
        second = context.new_page()  # a new tab of the same browser
        open_link(second, server, "weekly", **H1)
        assert titles(second) == [PAGE_TITLES["weekly"]]
        other = new_context(browser, UI_TIMEOUT_MS)  # another browser must sign in
        try:
            stranger = other.new_page()
            open_link(stranger, server, "priority", **H1)
            assert_only_the_sign_in(stranger, "priority")
        finally:
            other.close()
        tab.locator("[data-testid=stSidebar]").get_by_role("button", name="退出登录").click()
        expect(tab.get_by_label("用户名")).to_be_visible()
        for _ in range(50):  # the page deletes the cookie after signing out
            if session_cookie(context) is None:
                break
        assert session_cookie(context) is None
        second.reload()
        wait_rendered(second)
        assert_only_the_sign_in(second, "weekly")
        tab.reload()
        wait_rendered(tab)
        assert_only_the_sign_in(tab, "priority")
    finally:
        context.close()


def test_a_disabled_user_meets_the_sign_in_at_the_next_action(lasting, browser) -> None:
    from data_access.identity import auth

    server, engine = lasting
    context = new_context(browser, UI_TIMEOUT_MS)
    try:
        tab = context.new_page()
        tab.goto(view_url(server.base_url, "/", **H1))
        wait_rendered(tab)
        sign_in(tab, "shi")
        assert titles(tab) == ["济宁市 信访举报督导总览"]
        assert session_cookie(context) is not None
        auth.disable_user(engine, "shi")
        tab.locator("[data-testid=stSidebarNav] a").filter(has_text="超期督办").click()  # any action
        expect(tab.get_by_label("用户名")).to_be_visible()
        expect(tab.get_by_text("登录已失效")).to_be_visible()
        tab.reload()  # and the cookie opens nothing either
        wait_rendered(tab)
        assert_only_the_sign_in(tab, "overview")
    finally:
        context.close()
