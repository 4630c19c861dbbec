"""The 周例会 in presentation mode as the shared screen shows it (issue 32): Chromium at 1920x1080, signed in as the
province's user (sheng) over the golden cases, steps through every meeting section with 下一页 and measures what the
browser draws — every visible text node of the page and every text of the Vega charts' SVG at least 18 px, the
tables' canvas text (the size the grid draws it, times the zoom) at least 18 px, and the section within one
1920x1080 screen (nothing below the fold, nothing to scroll). In the ranking chart an unranked unit (too few due cases,
metrics.weekly.ranked_units: the rule the deck greys its rows by) is drawn grey, a ranked one blue.
Screenshots into test-artifacts/presentation/.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    BrowserRecorder,
    add_users,
    browser_test_marks,
    build_golden_database,
    chromium,
    exception_texts,
    new_context,
    serving,
    sign_in_through_form,
    view_url,
    wait_rendered,
)
from conftest import GOLDEN_CASES
from test_roles_browser import PASSWORD, UI_TIMEOUT_MS

from metrics.weekly import Section, WeeklyReport
from presentation.palette import BLUE, GREY

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = browser_test_marks(GOLDEN_CASES)

SHOTS = ARTIFACTS / "presentation"
AS_OF = dt.date(2024, 6, 30)  # every city has fewer than 10 due cases this week: none ranked
ONE_RANKED = dt.date(2024, 3, 10)  # one city has 10 due cases this week: ranked, the others not
VIEW = {"period": "custom", "asof": AS_OF.isoformat(), "from": "2024-01-01", "to": AS_OF.isoformat()}
MIN_PX = 18.0
SCREEN_H = 1080

# Every fillText of a canvas (the tables' glide grid) recorded with the size it is drawn at, in CSS px of the canvas
# (the font's px times the context's scale, over the device pixel ratio); the grid's zoom is applied when measured.
CANVAS_TEXT_RECORDER = """(() => {
  window.__canvasText = [];
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    const size = /(\\d+(?:\\.\\d+)?)px/.exec(this.font);
    if (size && String(text).trim() && this.canvas.isConnected) {
      const t = this.getTransform();
      window.__canvasText.push({canvas: this.canvas, text: String(text).slice(0, 40),
                                px: parseFloat(size[1]) * Math.hypot(t.c, t.d) / (window.devicePixelRatio || 1)});
    }
    return fillText.call(this, text, ...rest);
  };
})();"""

# What the main area shows: every visible text node (its computed size times the zoom, or for SVG text the scale
# of its screen matrix), the canvas texts drawn since the last reset (times their canvas's zoom), and how far down
# the content reaches.
MEASURE = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const texts = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    const el = n.parentElement;
    if (!text || !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const rects = [...range.getClientRects()].filter(r => r.width > 1 && r.height > 1);
    if (!rects.length) continue;
    const svg = el instanceof SVGElement;
    const scale = svg ? Math.hypot(el.getScreenCTM().c, el.getScreenCTM().d) : (el.currentCSSZoom || 1);
    texts.push({text: text.slice(0, 40), px: parseFloat(getComputedStyle(el).fontSize) * scale, svg,
                where: (el.closest('[data-testid]') || el).dataset.testid || el.tagName});
  }
  const canvas = (window.__canvasText || []).filter(c => c.canvas.isConnected && c.canvas.checkVisibility())
    .map(c => ({text: c.text, px: c.px * (c.canvas.currentCSSZoom || 1), svg: false, where: 'canvas'}));
  const blocks = [...main.querySelectorAll('[data-testid=stElementContainer], [data-testid=stExpander]')]
    .filter(e => e.checkVisibility());
  return {texts, canvas, bottom: Math.max(...blocks.map(e => e.getBoundingClientRect().bottom)),
          scrollHeight: main.scrollHeight, clientHeight: main.clientHeight, innerHeight: window.innerHeight,
          grids: [...main.querySelectorAll('[data-testid=stDataFrame]')].filter(g => g.checkVisibility()).length,
          charts: main.querySelectorAll('[data-testid=stVegaLiteChart] svg').length};
}"""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The golden cases and the province's user (a cheap password hash)."""
    path: Path = tmp_path_factory.mktemp("presentation_db") / "golden.duckdb"
    url = build_golden_database(path, GOLDEN_CASES)
    add_users(url, {"province": ("sheng", "PROVINCE", None)}, PASSWORD)
    return url


@pytest.fixture(scope="module")
def reports(database: str) -> dict[dt.date, WeeklyReport]:
    """The weeks the page shows, computed directly on the server's database."""
    from data_access.identity.scope import WHOLE_PROVINCE
    from data_access.store.engine import make_engine
    from metrics.weekly import weekly_report

    engine = make_engine(database)
    try:
        return {day: weekly_report(engine, day, scope=WHOLE_PROVINCE) for day in (AS_OF, ONE_RANKED)}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def report(reports: dict[dt.date, WeeklyReport]) -> WeeklyReport:
    return reports[AS_OF]


@pytest.fixture(scope="module")
def server(database: str, reports: dict[dt.date, WeeklyReport]):  # reports first: DuckDB's file is the server's once it runs
    shutil.rmtree(SHOTS, ignore_errors=True)  # the folder shows this run only
    SHOTS.mkdir(parents=True)
    yield from serving(database, "streamlit-presentation.log")


@pytest.fixture(scope="module")
def screen(server):
    """The province's user, signed in, on the 周例会 in presentation mode at its first section."""
    with chromium() as browser:
        context = new_context(browser, UI_TIMEOUT_MS)
        context.add_init_script(CANVAS_TEXT_RECORDER)
        tab, recorder = context.new_page(), BrowserRecorder()
        recorder.attach(tab)
        tab.goto(view_url(server.base_url, "/", **VIEW))
        wait_rendered(tab)
        sign_in_through_form(tab, "sheng", PASSWORD, UI_TIMEOUT_MS)
        wait_rendered(tab)
        recorder.mark()
        tab.goto(view_url(server.base_url, "/weekly", **VIEW, present="true", section=Section.KPIS.label))
        wait_rendered(tab)
        yield tab, recorder
        context.close()


def small_texts(measured: dict) -> list[str]:
    return sorted({f"{t['px']:.1f}px {t['where']}: {t['text']}" for t in measured["texts"] + measured["canvas"]
                   if t["px"] < MIN_PX - 0.01})


# Each bar of the ranking chart with its fill and the y-axis label level with it (the bars carry no aria-label).
BAR_FILLS = """(chart) => {
  const middle = e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; };
  const labels = [...chart.querySelectorAll('.role-axis-label text')].map(t => ({name: t.textContent, y: middle(t)}));
  return [...chart.querySelectorAll('g.mark-rect path')].map(bar => {
    const y = middle(bar);
    const level = labels.filter(l => Math.abs(l.y - y) < 4);
    return {name: level.length === 1 ? level[0].name : null, fill: (bar.getAttribute('fill') || '').toUpperCase(), y};
  });
}"""


def bar_fills(tab) -> list[dict]:
    """The ranking chart's bars, top to bottom: the unit's name and the bar's fill."""
    chart = tab.locator("[data-testid=stVegaLiteChart]").first
    return sorted(chart.evaluate(BAR_FILLS), key=lambda bar: bar["y"])


def test_every_section_reads_at_three_metres_on_one_screen(screen, server, report: WeeklyReport) -> None:
    tab, recorder = screen
    expect(tab.locator("[data-testid=stSidebar]")).to_be_hidden()
    for number, section in enumerate(Section, start=1):
        if number > 1:
            tab.evaluate("() => { window.__canvasText = []; }")  # this section's drawing only
            tab.get_by_role("button", name="下一页").click()
        expect(tab.locator("h2").first).to_have_text(report.section_title(section))
        wait_rendered(tab)
        where = f"{number} {section.label}"
        assert not exception_texts(tab), f"{where}: {exception_texts(tab)}\n{server.tracebacks()[-3000:]}"
        tab.screenshot(path=str(SHOTS / f"{number:02d}-{section.value}.png"))
        measured = tab.evaluate(MEASURE)
        assert len(measured["texts"]) > 10, f"{where}: too little text measured to mean anything"
        if measured["grids"]:
            assert measured["canvas"], f"{where}: the tables drew no text the recorder saw"
        if section is Section.CITIES:
            assert measured["charts"] and any(t["svg"] for t in measured["texts"]), f"{where}: no chart text measured"
        assert not small_texts(measured), f"{where}: text under {MIN_PX:.0f} px:\n" + "\n".join(small_texts(measured))
        assert measured["bottom"] <= SCREEN_H, f"{where}: the content reaches {measured['bottom']:.0f} px"
        assert measured["scrollHeight"] <= measured["clientHeight"] == SCREEN_H, f"{where}: scrolls {measured}"
    expect(tab.get_by_role("button", name="下一页")).to_be_disabled()
    recorder.assert_clean()


@pytest.mark.parametrize("day", [AS_OF, ONE_RANKED], ids=["none-ranked", "one-ranked"])
def test_the_ranking_chart_greys_the_units_too_small_to_rank(screen, server, reports, day: dt.date) -> None:
    tab, _ = screen
    report = reports[day]
    tab.goto(view_url(server.base_url, "/weekly", **{**VIEW, "asof": day.isoformat()}, present="true",
                      section=Section.CITIES.label))
    expect(tab.locator("h2").first).to_have_text(report.section_title(Section.CITIES))
    wait_rendered(tab)
    bars = bar_fills(tab)
    units = report.units.set_index("name")
    drawn = units[units["on_time_rate"].notna()]  # a unit with no due case has no bar
    assert sorted(bar["name"] for bar in bars) == sorted(drawn.index)
    assert {bar["name"]: bar["fill"] for bar in bars} == {
        name: (BLUE if ranked else GREY).upper() for name, ranked in drawn["ranked"].items()}
    ranked = [bool(drawn.loc[bar["name"], "ranked"]) for bar in bars]
    assert ranked == sorted(ranked, reverse=True)  # the unranked after the ranked, as in the table and the deck
    assert int(drawn["ranked"].sum()) == (1 if day == ONE_RANKED else 0)
    tab.screenshot(path=str(SHOTS / f"ranking-{day.isoformat()}.png"))
