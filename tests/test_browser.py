"""Browser tests: Debian's Chromium (Playwright) against `streamlit run app.py` on a free localhost
port, over a DuckDB file holding the golden cases.

The overview shows its KPI cards, charts and map canvas; a click on a city bar, a table row, a
breadcrumb or a map shape (overview and drill-down) drills down and changes the URL; Back goes up; the browser logs no
console error; no request leaves localhost; every page renders without an exception, does not
scroll sideways at 1920x1080 and is screenshotted at 1920 px wide into test-artifacts/screenshots/.

The view is fixed by the URL: the sidebar filters are kept in step with query parameters
(ui/view.py), e.g. `period=custom&asof=…&from=…&to=…`.
"""
from __future__ import annotations

import re
import time

import pandas as pd
import pytest
from browser_support import (
    BrowserRecorder,
    browser_test_marks,
    build_golden_database,
    chromium,
    clear_screenshots,
    copy_database,
    drawn_fraction,
    exception_texts,
    new_context,
    path_of,
    query_of,
    save_screenshots,
    serving,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN, GOLDEN_CASES

from metrics.periods import Preset

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

H1 = {"period": Preset.CUSTOM.value, "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
PROVINCE = "370000"
UI_TIMEOUT_MS = 30_000

OTHER_PAGES = [  # url_path in app.py -> screenshot name: render-only checks (their numbers: test_pages.py)
    ("priority", "04-priority"),
    ("overdue", "05-overdue"),
    ("satisfaction", "06-satisfaction"),
    ("analysis", "06-analysis"),
    ("weekly", "07-weekly"),
    ("ledger", "07-ledger"),
    ("hotline", "07-hotline"),
    ("definitions", "08-definitions"),
    ("data", "09-data"),
    ("audit", "10-audit"),
]


# --------------------------------------------------------------------------------------------
# reference values
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    from data_access.reference.regions import default_regions_file, read_regions_file

    return read_regions_file(default_regions_file()).set_index("code", drop=False)


@pytest.fixture(scope="module")
def expected_province() -> pd.Series:
    frame = pd.read_csv(GOLDEN / "expected_h1_province.csv", dtype={"code": str})
    return frame.set_index("code").loc[PROVINCE]


@pytest.fixture(scope="module")
def best_city_by_on_time_rate() -> str:
    """The city the ranking chart (按期办结率, best first) puts on top."""
    frame = pd.read_csv(GOLDEN / "expected_h1_city.csv", dtype={"code": str})
    return str(frame.sort_values("on_time_rate", ascending=False).iloc[0]["code"])


# --------------------------------------------------------------------------------------------
# server, browser, page
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def golden_db_file(tmp_path_factory: pytest.TempPathFactory):
    """A closed DuckDB file with the golden cases; servers get copies (DuckDB locks its file)."""
    path = tmp_path_factory.mktemp("browser_db") / "golden.duckdb"
    build_golden_database(path, GOLDEN_CASES)
    return path


@pytest.fixture(scope="module")
def server(golden_db_file, tmp_path_factory: pytest.TempPathFactory):
    url = copy_database(golden_db_file, tmp_path_factory.mktemp("server_db") / "app.duckdb")
    clear_screenshots()
    yield from serving(url, "streamlit-server.log")


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def context(browser):
    ctx = new_context(browser, UI_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def recorder() -> BrowserRecorder:
    return BrowserRecorder()


@pytest.fixture(scope="module")
def page(context, server, recorder):
    """The one page of the session (tests share it; each opens its own view first)."""
    pg = context.new_page()
    recorder.attach(pg)
    yield pg
    pg.close()


@pytest.fixture(autouse=True)
def _mark_recorder(request):
    """Each test checks the console and requests of its own steps."""
    if "recorder" in request.fixturenames:
        request.getfixturevalue("recorder").mark()


def open_view(page, server, path: str = "/", **params: str) -> None:
    page.goto(view_url(server.base_url, path, **H1, **params))
    wait_rendered(page)


def assert_no_exception(page, server, where: str) -> None:
    texts = exception_texts(page)
    assert not texts, f"{where}: the page shows an exception: {texts}\nserver tracebacks:\n{server.tracebacks()[-4000:]}"


def assert_no_horizontal_scroll(page, where: str) -> None:
    """Nothing on the page is wider than the 1920 px screen (wide tables scroll inside their grid)."""
    widths = page.evaluate("""() => {
      const main = document.querySelector('[data-testid=stMain]');
      return {page: document.documentElement.scrollWidth, screen: window.innerWidth,
              main: main.scrollWidth, mainShown: main.clientWidth};
    }""")
    assert widths["page"] <= widths["screen"] and widths["main"] <= widths["mainShown"], f"{where}: scrolls sideways {widths}"


def expect_title(page, text: str) -> None:
    expect(page.locator("h1").first).to_have_text(text, timeout=UI_TIMEOUT_MS)


def wait_for_region(page, code: str, path: str = "/drilldown") -> None:
    page.wait_for_url(lambda u: path_of(u) == path and query_of(u).get("region") == code,
                      timeout=UI_TIMEOUT_MS, wait_until="commit")


def ranking_chart(page):
    """The 各市排名 chart: the Vega chart with bars whose axis names 济南市 (the charts' English aria labels are off,
    ui/vega.py, so a mark is named by the axis label level with it)."""
    return page.locator("[data-testid=stVegaLiteChart]").filter(has=page.locator("g.mark-rect path")).filter(
        has=page.locator(".role-axis-label text", has_text="济南市")).first


# The axis labels level with a mark: its row's label (same height) and its column's label (same x), each or null.
MARK_LABELS = """(mark) => {
  const chart = mark.closest('[data-testid=stVegaLiteChart]');
  const box = mark.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const labels = [...chart.querySelectorAll('.role-axis-label text')].map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, x: r.left + r.width / 2, y: r.top + r.height / 2};
  });
  const only = found => found.length === 1 ? found[0].text : null;
  return {row: only(labels.filter(l => Math.abs(l.y - y) < box.height / 2 && (l.x < box.left || l.x > box.right))),
          column: only(labels.filter(l => Math.abs(l.x - x) < box.width / 2 && (l.y < box.top || l.y > box.bottom)))};
}"""


def mark_labels(mark) -> dict:
    """The row and column axis labels of a chart mark (a bar's region; a heat-map cell's region and domain)."""
    return mark.evaluate(MARK_LABELS)


def bar_name(bar) -> str:
    name = mark_labels(bar)["row"]
    assert name, "no region name level with the bar"
    return name.strip()


def grid_row_point(grid, row: int) -> tuple[float, float]:
    """Where to click the row-selection checkbox of data row `row` of an st.dataframe (a canvas grid)."""
    canvases = grid.locator("canvas")
    body = canvases.first.bounding_box()
    header_h = canvases.nth(1).bounding_box()["height"] if canvases.count() > 1 else 36
    row_h = 35  # st.dataframe's default row height
    return body["x"] + 18, body["y"] + header_h + row_h * row + row_h / 2


# --------------------------------------------------------------------------------------------
# the overview
# --------------------------------------------------------------------------------------------

def test_overview_shows_kpis_charts_and_map(page, server, recorder, expected_province):
    from metrics.registry import METRICS_BY_ID
    from presentation.format import fmt_value
    from ui.kpi import KPI_CARD_METRICS

    started = time.monotonic()
    open_view(page, server, "/")
    elapsed = time.monotonic() - started
    assert_no_exception(page, server, "overview")
    expect(page.locator("h1").first).to_contain_text("总览")
    expect(page.get_by_text("2024-01-01 至 2024-06-30").first).to_be_visible()

    cards = page.locator("[data-testid=stMetric]")
    expect(cards).to_have_count(len(KPI_CARD_METRICS))
    shown = {c.locator("[data-testid=stMetricLabel]").inner_text().strip(): c.locator("[data-testid=stMetricValue]").inner_text().strip()
             for c in cards.all()}
    wanted = {METRICS_BY_ID[m].label: fmt_value(m, expected_province[m]) for m in KPI_CARD_METRICS}
    assert shown == wanted, f"KPI cards {shown} != golden {wanted}"
    assert shown["按期办结率"] == "89.9%"

    charts = page.locator("[data-testid=stVegaLiteChart]")
    assert charts.count() >= 2, "trend and ranking charts expected"
    for chart in charts.all():
        expect(chart.locator("svg, canvas").first).to_be_visible()
    bars = ranking_chart(page).locator("g.mark-rect path")
    expect(bars).to_have_count(16)  # the 16 cities of Shandong

    deck = page.locator("[data-testid=stDeckGlJsonChart]")
    expect(deck).to_have_count(1)
    canvas = deck.locator("canvas").first
    canvas.scroll_into_view_if_needed()
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box["width"] > 800 and box["height"] > 400, f"map canvas too small: {box}"
    filled = drawn_fraction(canvas.screenshot())
    assert filled > 0.05, f"the map canvas looks blank ({filled:.1%} of its pixels drawn)"

    assert_no_horizontal_scroll(page, "overview")
    save_screenshots(page, "01-overview")
    print(f"overview rendered in {elapsed:.2f} s (golden data, first page of the module)")
    recorder.assert_clean()


def test_overview_brief_downloads_as_one_a4_page_of_the_cards(page, server, recorder, expected_province):
    """总览's 领导简报: its PDF button downloads one A4 page holding the KPI cards' numbers as text (pdftotext)."""
    import shutil
    import subprocess
    from pathlib import Path

    from presentation.format import fmt_value
    from ui.kpi import KPI_CARD_METRICS

    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext, pdfinfo) not installed")
    open_view(page, server, "/")
    button = page.get_by_role("button", name="下载简报（PDF）")
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=2 * UI_TIMEOUT_MS) as started:
        button.click()
    download = started.value
    assert download.suggested_filename == "督导简报_山东省_20240101-20240630.pdf"
    pdf = str(Path(download.path()))
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info, info
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout
    assert "山东省信访举报督导简报" in text
    for metric in KPI_CARD_METRICS:
        assert fmt_value(metric, expected_province[metric]) in text, metric
    recorder.assert_clean()


def test_city_bar_click_drills_down(page, server, recorder, regions, best_city_by_on_time_rate):
    open_view(page, server, "/")
    first_bar = ranking_chart(page).locator("g.mark-rect path").first
    name = bar_name(first_bar)
    code = best_city_by_on_time_rate
    assert name == regions.at[code, "name"], f"top bar is {name}, golden best on-time city is {regions.at[code, 'name']}"

    first_bar.click()
    wait_for_region(page, code)
    expect_title(page, name)
    wait_rendered(page)
    assert_no_exception(page, server, f"drill-down at {name}")
    crumbs = page.locator("[data-testid=stBaseButton-tertiary]").all_inner_texts()
    assert [c.replace("›", "").strip() for c in crumbs] == ["山东省", name], crumbs
    query = query_of(page.url)
    assert query.get("period") == H1["period"] and query.get("from") == H1["from"], f"filters lost: {page.url}"
    expect(page.get_by_text("2024-01-01 至 2024-06-30").first).to_be_visible()

    # Back leaves the drill-down and lands on the overview with the original view (see the xfail
    # test below: today this takes several presses)
    for _ in range(6):
        page.go_back(wait_until="commit")
        wait_rendered(page)
        q = query_of(page.url)
        if path_of(page.url) == "/" and "region" not in q and q.get("from") == H1["from"]:
            break
    else:
        pytest.fail(f"Back never returned to the overview's view; last URL {page.url}")
    expect(page.locator("h1").first).to_contain_text("总览")
    recorder.assert_clean()


def test_one_back_from_city_returns_to_overview(page, server, recorder):
    open_view(page, server, "/")
    before = query_of(page.url)
    ranking_chart(page).locator("g.mark-rect path").first.click()
    page.wait_for_url(lambda u: path_of(u) == "/drilldown" and query_of(u).get("from") == H1["from"],
                      timeout=UI_TIMEOUT_MS, wait_until="commit")
    wait_rendered(page)
    page.go_back(wait_until="commit")
    wait_rendered(page)
    # Streamlit's switch_page first sets the query string on the current page, so the entry Back
    # lands on may carry the region too; the overview ignores it and shows the same view
    after = query_of(page.url)
    assert path_of(page.url) == "/" and {k: after.get(k) for k in H1} == {k: before.get(k) for k in H1}, page.url
    expect(page.locator("h1").first).to_contain_text("总览")


# --------------------------------------------------------------------------------------------
# the drill-down
# --------------------------------------------------------------------------------------------

def test_drilldown_row_click_breadcrumb_and_back(page, server, recorder, regions, best_city_by_on_time_rate):
    city = best_city_by_on_time_rate
    city_name = regions.at[city, "name"]
    open_view(page, server, "/drilldown", region=city)
    expect_title(page, city_name)
    assert_no_exception(page, server, f"drill-down at {city_name}")
    expect(page.locator("[data-testid=stMetric]")).to_have_count(6)
    counties = regions[regions["parent_code"] == city]
    expect(page.get_by_text(f"（{len(counties)} 个）").first).to_be_visible()
    assert_no_horizontal_scroll(page, "drill-down at a city")
    save_screenshots(page, "02-drilldown-city")

    # a click on the row-selection checkbox of the first row of the child table goes one level down
    grid = page.locator("[data-testid=stDataFrame]").first
    first_name = grid.locator("[data-testid=glide-cell-1-0]").inner_text().strip()
    matches = counties[counties["name"] == first_name]
    assert len(matches) == 1, f"first row {first_name!r} is not one county of {city_name}"
    county = str(matches.index[0])
    grid.scroll_into_view_if_needed()
    page.mouse.click(*grid_row_point(grid, 0))
    wait_for_region(page, county)
    expect_title(page, first_name)
    wait_rendered(page)
    assert_no_exception(page, server, f"drill-down at {first_name}")
    expect(page.get_by_text(f"{first_name} 案件清单").first).to_be_visible()
    crumbs = [c.replace("›", "").strip() for c in page.locator("[data-testid=stBaseButton-tertiary]").all_inner_texts()]
    assert crumbs == ["山东省", city_name, first_name], crumbs
    assert_no_horizontal_scroll(page, "drill-down at a county")
    save_screenshots(page, "03-drilldown-county")

    # Back goes up one level
    page.go_back(wait_until="commit")
    wait_for_region(page, city)
    expect_title(page, city_name)
    wait_rendered(page)

    # the breadcrumb goes up to the province; Back returns to the city
    page.locator("[data-testid=stBaseButton-tertiary]").filter(has_text="山东省").click()
    wait_for_region(page, PROVINCE)
    expect_title(page, "山东省")
    wait_rendered(page)
    expect(page.get_by_text("（16 个）").first).to_be_visible()
    page.go_back(wait_until="commit")
    wait_for_region(page, city)
    expect_title(page, city_name)
    wait_rendered(page)
    assert query_of(page.url).get("from") == H1["from"], f"filters lost: {page.url}"
    recorder.assert_clean()


def click_map_centre(page, canvas) -> str:
    """Hover the centre of a map canvas (deck.gl's tooltip names the shape there), click it until the
    page navigates to a drill-down; the hovered name."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    centre = {"x": box["width"] / 2, "y": box["height"] / 2}  # the units are fitted around the centre
    canvas.hover(position=centre)  # deck.gl picks on hover first: its tooltip shows the unit
    tooltip = page.locator(".deck-tooltip")
    expect(tooltip).to_be_visible()
    hovered = tooltip.inner_text().splitlines()[0].strip()
    start = page.url
    # deck.gl (mjolnir.js) counts a press as a click only when it is released within a short time; on
    # a CPU-starved machine the release can be handled too late and the click is dropped, as a person
    # would notice and click again. So: up to three clicks, each given 10 s to navigate.
    for attempt in range(3):
        canvas.click(position=centre)
        try:
            page.wait_for_url(lambda u: u != start and path_of(u) == "/drilldown" and "region" in query_of(u),
                              timeout=UI_TIMEOUT_MS // 3, wait_until="commit")
            break
        except playwright_api.TimeoutError:
            assert attempt < 2, f"three clicks on the map did not drill down (still at {page.url})"
    return hovered


@pytest.mark.parametrize(("path", "params", "unit_level"), [
    ("/", {}, "county"),  # the overview's county map
    ("/drilldown", {"region": PROVINCE}, "city"),  # the drill-down's map of the province's cities
], ids=["overview-county", "drilldown-city"])
def test_map_click_goes_to_the_unit(page, server, recorder, regions, path, params, unit_level):
    open_view(page, server, path, **params)
    deck = page.locator("[data-testid=stDeckGlJsonChart]")
    expect(deck).to_have_count(1)
    hovered = click_map_centre(page, deck.locator("canvas").first)
    code = query_of(page.url)["region"]
    assert code in regions.index and regions.at[code, "level"] == unit_level, f"map click chose {code!r}"
    assert regions.at[code, "name"] == hovered, f"clicked {hovered}, drilled to {regions.at[code, 'name']}"
    expect_title(page, hovered)
    wait_rendered(page)
    assert_no_exception(page, server, f"drill-down at {code}")
    if unit_level == "city":
        expect(page.locator("[data-testid=stDeckGlJsonChart]")).to_have_count(1)  # the city's counties
    recorder.assert_clean()


def test_benchmark_probe_times_the_overview(browser, server):
    """bench_browser's measure, on the golden data: the overview's last change (a DOM mutation or a
    WebGL draw of the map) is painted, confirmed after a quiet second, in a fresh profile."""
    from benchmarks.bench_browser import QUIET_MS, new_tab, overview_load

    tab = new_tab(browser, fresh_profile=True)
    try:
        drawn, confirmed = overview_load(tab, view_url(server.base_url, "/", **H1), settle_s=0.5)
        paint = tab.evaluate("() => window.__paint")
        assert paint["gl"] > 0, "the probe saw no WebGL draw of the map"
        assert paint["last"] >= paint["gl"] and paint["painted"] > paint["last"]
        assert drawn == pytest.approx(paint["painted"] / 1000)
        assert 0.1 < drawn < confirmed and confirmed > QUIET_MS / 1000
        expect(tab.locator("[data-testid=stMetric]")).to_have_count(6)
    finally:
        tab.context.close()


# --------------------------------------------------------------------------------------------
# every other page
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url_path", "shot"), OTHER_PAGES, ids=[p for p, _ in OTHER_PAGES])
def test_page_renders_and_is_screenshotted(page, server, recorder, url_path, shot):
    open_view(page, server, f"/{url_path}")
    assert path_of(page.url) == f"/{url_path}"
    assert_no_exception(page, server, url_path)
    assert_no_horizontal_scroll(page, url_path)
    save_screenshots(page, shot)
    recorder.assert_clean()


def test_analysis_cell_opens_its_cases_and_the_report_downloads(page, server, recorder, regions):
    """形势分析: a click on a heat-map cell (a corner, not its number) opens that region's drill-down filtered to
    that domain; back on the page, the 形势分析报告 downloads as a Word file of the sidebar's period."""
    import io
    from pathlib import Path

    import docx

    open_view(page, server, "/analysis")
    cell = page.locator("[data-testid=stVegaLiteChart]").filter(has=page.locator(".role-axis-title text", has_text="领域")).locator(
        "g.mark-rect path").first
    labels = mark_labels(cell)
    name, domain = labels["row"], labels["column"]
    assert name and domain, f"the cell's axis labels: {labels}"
    cell.click(position={"x": 3, "y": 3})
    page.wait_for_url(lambda u: path_of(u) == "/drilldown" and query_of(u).get("dom") == domain,
                      timeout=UI_TIMEOUT_MS, wait_until="commit")
    code = query_of(page.url)["region"]
    assert regions.at[code, "name"] == name, f"clicked {name}, opened {regions.at[code, 'name']}"
    expect_title(page, name)
    wait_rendered(page)
    assert_no_exception(page, server, f"drill-down at {code} for {domain}")
    open_view(page, server, "/analysis")
    with page.expect_download() as started:
        page.get_by_role("button", name="下载形势分析报告（Word）").click()
    download = started.value
    assert download.suggested_filename == "形势分析报告_山东省_2024-01-01_2024-06-30.docx"
    document = docx.Document(io.BytesIO(Path(download.path()).read_bytes()))
    texts = [p.text.replace("\n", "") for p in document.paragraphs]  # a long title breaks between phrases
    title = texts.index("关于2024年上半年山东省信访举报形势的分析报告")  # under the masthead and the 文号
    assert texts[0] == "山东省纪委监委信访室" and title < texts.index("四、意见建议")
    recorder.assert_clean()


def test_weekly_presentation_mode_hides_the_sidebar(page, server, recorder):
    open_view(page, server, "/weekly", present="true")
    assert_no_exception(page, server, "weekly (presentation mode)")
    expect(page.locator("[data-testid=stSidebar]")).to_be_hidden(timeout=UI_TIMEOUT_MS)
    save_screenshots(page, "07-weekly-present")
    recorder.assert_clean()


def test_presentation_mode_enlarges_tables_without_overflow(page, server, recorder):
    """A table on the projector is zoomed (its canvas type cannot be sized by CSS) and still fits the width."""
    open_view(page, server, "/weekly", present="true", section="满意度与结而不服")
    assert_no_exception(page, server, "weekly satisfaction (presentation mode)")
    grid = page.locator("[data-testid=stDataFrame]").first
    expect(grid).to_be_visible(timeout=UI_TIMEOUT_MS)
    zoom = page.evaluate("""() => getComputedStyle(document.querySelector('[data-testid=stDataFrame]')
        .closest('[data-testid=stElementContainer]')).zoom""")
    assert float(zoom) == pytest.approx(1.45)
    box = grid.bounding_box()
    main = page.locator("[data-testid=stMainBlockContainer]").bounding_box()
    assert box is not None and main is not None and box["x"] + box["width"] <= main["x"] + main["width"] + 1
    assert_no_horizontal_scroll(page, "weekly satisfaction (presentation mode)")
    save_screenshots(page, "07-weekly-present-table")
    recorder.assert_clean()


def test_tables_offer_no_export_of_their_own(page, server, recorder):
    """The overdue ledger's grid, hovered: no toolbar (Download as CSV, Search, Fullscreen in English);
    the audited download buttons are there instead."""
    open_view(page, server, "/overdue")
    assert_no_exception(page, server, "overdue")
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.hover()
    page.wait_for_timeout(500)
    assert page.locator("[data-testid=stElementToolbar]").filter(visible=True).count() == 0
    for english in ("Download as CSV", "Search", "Fullscreen"):
        assert page.get_by_role("button", name=english).filter(visible=True).count() == 0, english
    assert page.locator("[data-testid=stDownloadButton]").count() >= 2
    recorder.assert_clean()


def test_no_request_left_localhost_during_the_session(page, recorder):
    assert len(recorder.requests) > 50, "the recorder saw too few requests to mean anything"
    assert any(u.startswith("ws://127.0.0.1") for u in recorder.requests), "the app's websocket was not recorded"
    outside = recorder.outside_requests()
    assert not outside, "requests that left localhost:\n" + "\n".join(sorted(set(outside)))
    errors = recorder.unexpected_console_errors(since_mark=False)
    assert not errors, "console errors in the browser:\n" + "\n".join(errors)
