"""Every page as each role sees it, in Chromium at 1920x1080, on one signed-in server (server.py) over the
golden cases: a province user (sheng), a city user (jining, 济宁市) and a county user (weishan, 微山县).

Each role signs in through the form in a fresh browser profile and opens every page it has: no exception,
no console error, no request off localhost, and a screenshot of exactly the 1920x1080 screen in
test-artifacts/roles/<role>-<page>.png. Then what each role must see:
- the county user's map: one legend swatch with 微山县's 按期办结率, the county drawn in that colour;
- the city user's 周例会 ranking: 济宁市's counties against 济宁市, not against the province;
- every role's 周例会 opens on 核心指标, shown selected in the agenda;
- the province user's 数据 page: the file uploader reads Chinese, its English is not shown.
"""
from __future__ import annotations

import re

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
    drawn_fraction,
    exception_texts,
    new_context,
    path_of,
    serving,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN, GOLDEN_CASES

from metrics.periods import Preset

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

UI_TIMEOUT_MS = 30_000
H1 = {"period": Preset.CUSTOM.value, "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
PASSWORD = "Shandong-2024!"
SIGN_IN_TITLE = "信访举报督导看板"
JINING, WEISHAN = "370800", "370826"
USERS = {"province": ("sheng", "PROVINCE", None), "city": ("jining", "CITY", JINING), "county": ("weishan", "COUNTY", WEISHAN)}
ROLES = list(USERS)
PAGES = ["overview", "drilldown", "priority", "overdue", "satisfaction", "analysis", "weekly", "ledger", "matters", "hotline",
         "definitions"]
PROVINCE_PAGES = [*PAGES, "data", "audit"]
CITIES_SECTION = "按期办结率排名"
SHOTS = ARTIFACTS / "roles"


# --------------------------------------------------------------------------------------------
# database, server, one signed-in tab per role
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """server.py on a DuckDB copy of the golden cases with the three users (a cheap password hash)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    folder = tmp_path_factory.mktemp("roles_db")
    build_golden_database(folder / "golden.duckdb", GOLDEN_CASES)
    url = copy_database(folder / "golden.duckdb", folder / "app.duckdb")
    add_users(url, USERS, PASSWORD)
    yield from serving(url, "streamlit-roles.log")


@pytest.fixture(scope="module")
def signed_in(server):
    """signed_in(role) -> (tab, recorder): a fresh profile per role, signed in through the form once."""
    tabs: dict[str, tuple] = {}
    with chromium() as browser:
        def tab_of(role: str):
            if role not in tabs:
                context = new_context(browser, UI_TIMEOUT_MS)
                tab, recorder = context.new_page(), BrowserRecorder()
                recorder.attach(tab)
                tab.goto(view_url(server.base_url, "/", **H1))
                wait_rendered(tab)
                tab.get_by_label("用户名").fill(USERS[role][0])
                tab.get_by_label("密码").fill(PASSWORD)
                tab.get_by_role("button", name="登录").click()
                expect(tab.locator("h1").first).not_to_have_text(SIGN_IN_TITLE, timeout=UI_TIMEOUT_MS)
                wait_rendered(tab)
                tabs[role] = (tab, recorder)
            tabs[role][1].mark()
            return tabs[role]

        yield tab_of
        for tab, _ in tabs.values():
            tab.context.close()


def open_page(tab, server, url_path: str, **params: str) -> None:
    """Open a page by its address (the overview, the default page, is / : /overview is not one)."""
    tab.goto(view_url(server.base_url, "/" if url_path == "overview" else f"/{url_path}", **H1, **params))
    wait_rendered(tab)
    texts = exception_texts(tab)
    assert not texts, f"/{url_path}: the page shows an exception: {texts}\n{server.tracebacks()[-4000:]}"
    assert SIGN_IN_TITLE not in tab.locator("h1").all_inner_texts(), f"/{url_path}: signed out"
    wanted = "/" if url_path == "overview" else f"/{url_path}"
    assert path_of(tab.url) == wanted, f"asked for {wanted}, landed on {tab.url}"


def screenshot(tab, name: str) -> None:
    assert tab.viewport_size == VIEWPORT
    tab.screenshot(path=str(SHOTS / f"{name}.png"))


# --------------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_renders_offline(signed_in, server, role) -> None:
    tab, recorder = signed_in(role)
    menu = [t.split()[-1] for t in tab.locator("[data-testid=stSidebarNav] a").all_inner_texts()]
    has_province_pages = {"数据", "审计日志"} <= set(menu)
    assert has_province_pages == (role == "province"), f"{role} menu: {menu}"
    for url_path in PROVINCE_PAGES if role == "province" else PAGES:
        open_page(tab, server, url_path)
        screenshot(tab, f"{role}-{url_path}")
        recorder.assert_clean()
    open_page(tab, server, "weekly", section=CITIES_SECTION)
    screenshot(tab, f"{role}-weekly-cities")
    recorder.assert_clean()


def test_county_overview_map_shows_its_county_in_its_colour(signed_in, server) -> None:
    from presentation.format import fmt_value

    tab, recorder = signed_in("county")
    open_page(tab, server, "overview")
    legend = tab.locator("[data-testid=stMarkdown]").filter(has=tab.locator(".legend-swatch")).filter(has_text="颜色越深")
    expect(legend).to_have_count(1)
    swatches = legend.locator(".legend-swatch")
    expect(swatches).to_have_count(1)
    rate = fmt_value("on_time_rate", golden_county_rate(WEISHAN))  # 0.8 -> 80.0%
    text = legend.inner_text()
    assert rate in text and "–" not in text, f"legend reads {text!r}, 微山县's 按期办结率 is {rate}"
    rgb = re.search(r"rgb\((\d+),\s*(\d+),\s*(\d+)\)", swatches.first.get_attribute("style") or "")
    assert rgb, swatches.first.get_attribute("style")

    png = tab.locator("[data-testid=stDeckGlJsonChart] canvas").first.screenshot()
    filled = drawn_fraction(png)  # 微山县 alone is a thin strip along the lake: ~4% of the wide canvas
    assert filled > 0.02, f"the map canvas looks blank ({filled:.1%} of its pixels drawn)"
    coloured = 1 - drawn_fraction(png, background=tuple(int(v) for v in rgb.groups()))  # pixels of the swatch's colour
    assert coloured > 0.9 * filled, f"微山县 is not drawn in its legend colour {rgb.group(0)} ({coloured:.1%} of {filled:.1%} drawn)"
    recorder.assert_clean()


def golden_county_rate(code: str) -> float:
    import pandas as pd

    frame = pd.read_csv(GOLDEN / "expected_h1_county.csv", dtype={"code": str}).set_index("code")
    return float(frame.at[code, "on_time_rate"])


def test_city_weekly_ranks_the_citys_counties_against_the_city(signed_in, server) -> None:
    from data_access.reference.regions import default_regions_file, read_regions_file

    regions = read_regions_file(default_regions_file())
    counties = set(regions.loc[regions["parent_code"] == JINING, "name"])
    assert len(counties) == 11, counties
    tab, recorder = signed_in("city")
    open_page(tab, server, "weekly", section=CITIES_SECTION)
    expect(tab.locator("h2").first).to_have_text("各县（市、区）按期办结率排名")
    text = tab.locator("[data-testid=stMain]").inner_text()
    assert "虚线为济宁市整体水平" in text and "全省整体" not in text, text
    grid = tab.locator("[data-testid=stDataFrame]").first
    cells = {t.strip() for t in grid.locator("[data-testid^=glide-cell-]").all_inner_texts()}
    listed = cells & set(regions["name"])
    assert listed == counties, f"the table lists {sorted(listed)}; 济宁市's counties are {sorted(counties)}"
    recorder.assert_clean()


_LOOKS = "bs => bs.map(b => { const c = getComputedStyle(b); return c.backgroundColor + ' ' + c.color; })"


@pytest.mark.parametrize("role", ROLES)
def test_weekly_agenda_opens_on_the_core_metrics(signed_in, server, role) -> None:
    """Streamlit 1.67 marks the chosen option of a segmented control as a checked radio (aria-checked,
    data-selected) and styles it apart from the others."""
    tab, recorder = signed_in(role)
    open_page(tab, server, "weekly")
    agenda = tab.get_by_role("radiogroup", name="议程")
    options = [t.strip() for t in agenda.get_by_role("radio").all_inner_texts()]
    assert options and options[0] == "核心指标", options
    checked = [t.strip() for t in agenda.get_by_role("radio", checked=True).all_inner_texts()]
    assert checked == ["核心指标"], f"{role}: the agenda marks {checked} as selected on first load"
    expect(agenda.get_by_role("radio").first).to_have_attribute("data-selected", "true")
    looks = agenda.get_by_role("radio").evaluate_all(_LOOKS)
    assert looks[0] not in looks[1:] and len(set(looks[1:])) == 1, f"{role}: the selected option does not stand out: {looks}"
    expect(tab.locator("h2").first).to_have_text("核心指标")
    recorder.assert_clean()


_DROPZONE = """() => {
  const zone = document.querySelector('[data-testid=stFileUploaderDropzone]');
  const walker = document.createTreeWalker(zone, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim() || node.parentElement.closest('[data-testid=stIconMaterial]')) continue;  // icon ligature
    const range = document.createRange();
    range.selectNodeContents(node);
    texts.push({text: node.textContent.trim(), width: range.getBoundingClientRect().width,
                fontSize: getComputedStyle(node.parentElement).fontSize});
  }
  const after = [...zone.querySelectorAll('*')].map(e => getComputedStyle(e, '::after'))
    .filter(c => c.content !== 'none' && parseFloat(c.fontSize) > 0).map(c => c.content);
  return {texts, after};
}"""


def test_province_data_page_uploader_reads_chinese(signed_in, server) -> None:
    """inner_text() keeps text drawn at font-size 0, and ::after content is no DOM text: so the text on
    screen is the text nodes with a width plus the ::after content drawn at a size."""
    tab, recorder = signed_in("province")
    open_page(tab, server, "data")
    expect(tab.locator("[data-testid=stFileUploaderDropzone]")).to_be_visible()
    found = tab.evaluate(_DROPZONE)
    on_screen = " ".join([t["text"] for t in found["texts"] if t["width"] > 0] + found["after"])
    for chinese in ("选择文件", "每个文件不超过"):
        assert chinese in on_screen, f"{chinese!r} is not on screen in the uploader: {found}"
    english = [t for t in found["texts"] if t["width"] > 0 and re.search(r"Upload|per file", t["text"])]
    assert not english, f"English left on screen in the file uploader: {english}; on screen: {on_screen!r}"
    recorder.assert_clean()
