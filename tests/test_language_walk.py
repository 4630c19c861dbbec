"""Every page of every role read for English (issue 32, the third "Done when"), in Chromium at 1920x1080 on one
signed-in server (server.py) over the golden cases: the province (sheng), 济宁市 (jining) and 微山县 (weishan),
each in one browser profile, open every page their menu offers, and the 周例会's 下一页, the ledger's item, the
data page's import preview (the province) and the sidebar's calendar.

On each screen the walk reads what a person reads — the text drawn at a size (text nodes with a width, the
data grids' cells and headers, which the grid draws on a canvas and keeps in its accessibility table), and the
aria-label, title and placeholder of every element that is rendered (a display:none toolbar is not) — and fails
on any Latin-letter word the allow-list below does not name with its reason. The server's log during the walk
(levels written by STREAMLIT_LOGGER_MESSAGE_FORMAT) must hold no WARNING, ERROR or traceback.

The users have display names: a username (sheng, weishan) on a page is a Latin word and fails the walk; the audit
page names a region code in its content (370826) with the region's name.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    REPO_ROOT,
    BrowserRecorder,
    StreamlitServer,
    add_users,
    browser_test_marks,
    build_golden_database,
    chromium,
    exception_texts,
    new_context,
    path_of,
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

SHOTS = ARTIFACTS / "language"
VIEW = {"period": "custom", "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
# role -> (username, role, region, display name)
USERS = {"province": ("sheng", "PROVINCE", None, "省纪委信访室"), "city": ("jining", "CITY", JINING, "济宁市纪委信访室"),
         "county": ("weishan", "COUNTY", WEISHAN, "微山县纪委信访室")}
ROLES = list(USERS)
PAGES = ["overview", "drilldown", "priority", "overdue", "satisfaction", "analysis", "weekly", "ledger", "hotline",
         "definitions"]
ROLE_PAGES = {"province": [*PAGES, "data", "audit"], "city": [*PAGES, "report"], "county": [*PAGES, "report"]}
WEISHAN_CASE = "SD101-0000688"  # 微山县, open at 2024-06-30
ITEM_TITLE = f"件号 {WEISHAN_CASE} 请按期办结"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# --------------------------------------------------------------------------------------------
# the allow-list: each entry a pattern and why it may stay on a Chinese screen
# --------------------------------------------------------------------------------------------

SETTINGS_KEYS = sorted({key for section in tomllib.loads((REPO_ROOT / "settings.toml").read_text(encoding="utf-8")).values()
                        if isinstance(section, dict) for key in section}, key=len, reverse=True)
# Cut out of visible text before its words are read.
ALLOWED_TEXT: dict[str, str] = {
    r"\bSD\d{3}-\d{7}\b": "件号 as the source systems number them",
    r"\b[0-9a-f]{32}\b": "督办事项编号 (an item's id, typed into 查找案件 as it is)",
    r"[\w./-]+\.(?:csv|xlsx|parquet|docx|pptx|pdf|md|toml)\b": "a file's name or path (uploaded, stored, or named in a note)",
    r"\b(?:CSV|XLSX|DOCX|PPTX|PDF|PNG|Parquet|PARQUET|Excel|Word)\b": "file types and the programs that open them",
    r"(?<![A-Za-z])[KMG]B\b|\bA4\b": "units and the paper size",
    r"python -m (?:data_access|metrics|reports)(?: [a-z_-]+)*": "a command an administrator types",
    r"(?<![\w-])--[a-z][a-z-]*": "a command-line option (命令行 --upsert)",
    r"\[[a-z_]+\] [a-z_]+": "a setting as the settings file writes it ([metrics] z_watch)",
    r"(?<![A-Za-z])[a-z](?:_[a-z])?(?![A-Za-z])": "a letter of a formula (z 值, z_q, 县 c, p、n)",
    r"\b(?:{})\b".format("|".join(SETTINGS_KEYS)): "the settings file's keys, which an administrator edits by name",
    r"\bDATABASE_URL\b|\bduckdb\b|\bpostgresql\b|\bmysql\b|\bmariadb\b": "the database setting and its engine's name",
    r"\bSpiegelhalter\b": "an author cited (漏斗图, Spiegelhalter 2005)",
}
# aria-label / title / placeholder values Streamlit 1.67 writes itself: Streamlit has no translation of its own
# frontend (streamlit/streamlit#1353, open), no parameter sets these, and changing them in the page would take a
# script the Content-Security-Policy does not allow. Screen-reader text, never drawn.
ALLOWED_ATTRIBUTES: dict[str, str] = {
    r"^Help for .+$|^Help$": "st.* help= tooltips' icon (Streamlit's aria-label)",
    r"^(?:year|month|day), .+$": "st.date_input's three fields (Streamlit 1.67's segmented date field)",
    r"^Choose date$": "st.date_input's calendar button",
    r"^Choose date, .+$|^(?:Next|Previous) month$|^Use arrow keys to navigate dates\. Enter to select\. Escape to close\.$":
        "st.date_input's calendar: its dialog, month buttons and keyboard hint (the days and months are Chinese: "
        "Chromium's zh-CN locale)",
    r"^\d+ options? available\.$": "st.selectbox's live region, read out when its list opens",
    r"^Open$": "st.selectbox / st.multiselect's dropdown arrow",
    r"^(?:Sidebar|Collapse sidebar|Expand sidebar|App pages|Main menu)$": "Streamlit's frame",
    r"^file upload$": "st.file_uploader's hidden input (its drawn text is Chinese: ui/style.uploader_css)",
    r"^Vega visualization$": "st.vega_lite_chart's container",
    r"^(?:Show|Hide) password$": "st.text_input(type='password')'s eye button",
    r"^Clear value$": "st.selectbox's clear button",
    r"^add icon$": "st.file_uploader's add button: a 1-px text beside its icon",
    r"^Add files$|^Remove .+$|^.+, [\d.]+[KMG]?B$": "st.file_uploader's chosen file: add, remove, its name and size",
}
# whole places whose text is the user's own data, shown as it is
ALLOWED_PLACES: dict[tuple[str, str], str] = {
    ("data-preview", r"^grid glide-cell-[02]-"): "the import preview's 文件中的列 and 示例值: the uploaded file's own "
                                                  "column names and values, shown as the file has them",
}
# the words of code: what sits in <code> or a code block (commands, paths, settings keys, metric ids)
CODE_SELECTOR = "code, pre, [data-testid=stCode]"


# 🔴🟡🟢 and their kin draw as empty boxes on Debian Chromium with Noto CJK: colours are words or CSS there
EMOJI = re.compile("[\U0001F300-\U0001FAFF]")


def latin_words(text: str, allowed: dict[str, str]) -> list[str]:
    """The Latin words of `text` once the allowed patterns are cut out, and any emoji."""
    for pattern in allowed:
        text = re.sub(pattern, " ", text)
    return re.findall(r"[A-Za-z]+", text) + EMOJI.findall(text)


def test_allow_list_reads_words_as_meant() -> None:
    assert latin_words("件号 SD101-0000688 已超期，导入 cases.csv：下载 CSV（Excel）1024 MB", ALLOWED_TEXT) == []
    assert latin_words("Upload 200MB per file", ALLOWED_TEXT) == ["Upload", "per", "file"]
    assert latin_words("件号（case_id）", ALLOWED_TEXT) == ["case", "id"]
    assert latin_words("[metrics] z_watch；默认 60 天，由 default_due_days 决定；z_q ≥ 1.96", ALLOWED_TEXT) == []
    assert latin_words("办理人：sheng", ALLOWED_TEXT) == ["sheng"]
    assert latin_words("Search", ALLOWED_TEXT) == ["Search"]
    assert latin_words("\U0001F534 已超期", ALLOWED_TEXT) == ["\U0001F534"]


# --------------------------------------------------------------------------------------------
# reading a screen
# --------------------------------------------------------------------------------------------

_READ_SCREEN = """(codeSelector) => {
  const root = document.body;  // popovers (a calendar, a dropdown) are drawn outside stApp
  const drawn = e => e.checkVisibility({visibilityProperty: true});
  const where = e => (e.closest('[data-testid]') || e).getAttribute('data-testid') || e.tagName;
  const texts = [], screenReader = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement, text = node.textContent.trim();
    if (!text || !/[A-Za-z\\u{1F300}-\\u{1FAFF}]/u.test(text)) continue;
    if (el.closest('style, script, svg, [data-testid=stIconMaterial], [data-testid=stExpanderIcon], .katex-mathml')) continue;
    if (el.closest(codeSelector)) continue;
    const grid = el.closest('[data-testid=stDataFrame]');
    if (grid) {  // a grid draws its cells on a canvas; its accessibility table holds the same text
      if (drawn(grid)) texts.push({text, where: 'grid ' + where(el)});
      continue;
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect(), own = el.getBoundingClientRect();
    if (!drawn(el) || box.width === 0) continue;
    if (own.width <= 1 || own.height <= 1) screenReader.push({text, where: where(el) + ' [screen-reader text]'});
    else texts.push({text, where: where(el)});
  }
  for (const el of root.querySelectorAll('*')) {  // text drawn by CSS
    for (const pseudo of ['::before', '::after']) {
      const style = getComputedStyle(el, pseudo);
      const content = style.content;
      if (content && content !== 'none' && /[A-Za-z]/.test(content) && parseFloat(style.fontSize) > 0 && drawn(el))
        texts.push({text: content, where: where(el) + pseudo});
    }
  }
  const attributes = screenReader;  // text clipped to 1 px: read out, never drawn, like an aria-label
  for (const el of root.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (!drawn(el) || el.closest('[aria-hidden=true]')) continue;  // neither drawn nor read out
    for (const name of ['aria-label', 'title', 'placeholder']) {
      if (name === 'placeholder' && el.value) continue;  // a placeholder is drawn only while the field is empty
      const value = el.getAttribute(name);
      if (value && /[A-Za-z]/.test(value)) attributes.push({text: value, where: `${where(el)} [${name}]`});
    }
  }
  return {texts, attributes};
}"""


@dataclass(frozen=True)
class Finding:
    screen: str
    where: str
    text: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.screen} · {self.where}: {' '.join(self.words)!r} in {self.text[:160]!r}"


def grouped(findings: list[Finding]) -> list[str]:
    """One line per distinct word run and place: the screens it was seen on and one text it was seen in."""
    seen: dict[tuple[str, tuple[str, ...]], list[Finding]] = {}
    for finding in findings:
        seen.setdefault((re.sub(r"\d+$", "", finding.where), finding.words), []).append(finding)
    return sorted(f"{' '.join(words)!r} · {where} · in {hits[0].text[:120]!r} · on "
                  f"{', '.join(sorted({h.screen for h in hits}))}" for (where, words), hits in seen.items())


def english_on_screen(tab, screen: str) -> list[Finding]:
    """What the screen shows in Latin letters beyond the allow-list."""
    found = tab.evaluate(_READ_SCREEN, CODE_SELECTOR)
    findings = []
    for item in found["texts"]:
        if any(screen.endswith(s) and re.search(w, item["where"]) for s, w in ALLOWED_PLACES):
            continue
        if words := latin_words(item["text"], ALLOWED_TEXT):
            findings.append(Finding(screen, item["where"], item["text"], tuple(words)))
    for item in found["attributes"]:
        if any(re.search(p, item["text"]) for p in ALLOWED_ATTRIBUTES):
            continue
        if words := latin_words(item["text"], ALLOWED_TEXT):
            findings.append(Finding(screen, item["where"], item["text"], tuple(words)))
    return findings


def log_trouble(text: str) -> list[str]:
    """The log's WARNING / ERROR / CRITICAL records and tracebacks (one entry per record)."""
    records = re.split(r"(?m)^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ )", text)
    return [r.strip() for r in records if re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) ", r) or "Traceback" in r]


def test_log_trouble_finds_warnings_and_tracebacks() -> None:
    log = ("2026-12-07 03:15:14.333 INFO streamlit: ok\n"
           "2026-12-07 03:15:14.334 WARNING streamlit.x: No runtime found\n"
           "2026-12-07 03:15:15.000 ERROR app: boom\nTraceback (most recent call last):\n  File ...\n")
    assert [t.split(" ", 3)[2] for t in log_trouble(log)] == ["WARNING", "ERROR"]


# --------------------------------------------------------------------------------------------
# the server and the walk
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """server.py on the golden cases, the three users with display names, one 督办 item on 微山县's case that
    微山县 has answered (its history names two people; its audit rows name 370826)."""
    from data_access.store.engine import make_engine
    from data_access.supervision import ledger

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    path: Path = tmp_path_factory.mktemp("language_db") / "golden.duckdb"
    url = build_golden_database(path, GOLDEN_CASES)
    people = add_users(url, USERS, PASSWORD)
    engine = make_engine(url)
    try:
        item = ledger.open_item(engine, people["province"], county_code=WEISHAN, title=ITEM_TITLE,
                                reason="请于反馈期限内办结该件，并书面报告办理结果。", method="phone",
                                reply_due=dt.date.today() + dt.timedelta(days=7), case_id=WEISHAN_CASE)
        ledger.reply(engine, people["county"], item, note="已约谈承办人，本周内办结")
    finally:
        engine.dispose()
    # the level in every line
    yield from serving(url, "streamlit-language.log", env={"STREAMLIT_LOGGER_MESSAGE_FORMAT": LOG_FORMAT})


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


class Walk:
    """One role's profile going from screen to screen, keeping what each screen showed in Latin letters."""

    def __init__(self, tab, server: StreamlitServer, role: str):
        self.tab, self.server, self.role = tab, server, role
        self.findings: list[Finding] = []
        self.problems: list[str] = []  # what a screen shows wrongly beyond English: reported with the findings
        self.recorder = BrowserRecorder()
        self.recorder.attach(tab)

    def settle(self, screen: str, signed_in: bool = True) -> None:
        wait_rendered(self.tab)
        texts = exception_texts(self.tab)
        assert not texts, f"{screen}: the page shows an exception: {texts}\n{self.server.tracebacks()[-4000:]}"
        headings = self.tab.locator("h1").all_inner_texts()
        assert (SIGN_IN_TITLE not in headings) == signed_in, f"{screen}: {'signed out' if signed_in else headings}"

    def read(self, screen: str, signed_in: bool = True) -> None:
        self.settle(screen, signed_in)
        self.findings += english_on_screen(self.tab, f"{self.role}/{screen}")
        self.tab.screenshot(path=str(SHOTS / f"{self.role}-{screen}.png"))

    def open(self, url_path: str, **params: str) -> None:
        self.tab.goto(view_url(self.server.base_url, "/" if url_path == "overview" else f"/{url_path}", **VIEW, **params))
        self.settle(url_path)
        wanted = "/" if url_path == "overview" else f"/{url_path}"
        assert path_of(self.tab.url) == wanted, f"asked for {wanted}, landed on {self.tab.url}"

    def grid_text(self) -> str:
        return " ".join(self.tab.locator("[data-testid=stDataFrame] [data-testid^=glide-cell-]").all_inner_texts())


def walk_extras(walk: Walk, url_path: str) -> None:
    """What a page shows only after a click: read it too."""
    tab = walk.tab
    if url_path == "overview":  # the sidebar's calendar (its day buttons carry labels)
        tab.locator("[data-testid=stSidebar] [data-testid=stDateInputCalendarButton]").first.click()
        expect(tab.locator("[data-baseweb=calendar], [role=dialog]").first).to_be_visible()
        walk.findings += english_on_screen(tab, f"{walk.role}/calendar")
        tab.keyboard.press("Escape")
    elif url_path == "weekly":
        tab.get_by_role("button", name="下一页").click()
        expect(tab.locator("h2").first).not_to_have_text("核心指标")
        walk.read("weekly-next")
    elif url_path == "ledger":
        box = tab.locator("[data-testid=stSelectbox]").filter(has_text="办理事项")
        box.click()
        tab.get_by_role("option").filter(has_text=ITEM_TITLE).click()
        expect(tab.locator("h3").filter(has_text=ITEM_TITLE)).to_be_visible()
        walk.read("ledger-item")
        shown = walk.grid_text()
        if not (USERS["province"][3] in shown and USERS["county"][3] in shown):
            walk.problems.append(f"the item's history names not both {USERS['province'][3]} and {USERS['county'][3]}: {shown}")
    elif url_path == "audit":
        shown = walk.grid_text()
        if USERS["province"][3] not in shown:
            walk.problems.append(f"the audit log does not name {USERS['province'][3]}: {shown[:1500]}")
        if f"微山县（{WEISHAN}）" not in shown:
            walk.problems.append(f"the audit log's content leaves {WEISHAN} without its name: {shown[:1500]}")
    elif url_path == "data":
        sample = GOLDEN_CASES.read_bytes().splitlines()[:4]
        tab.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
            {"name": "cases.csv", "mimeType": "text/csv", "buffer": b"\n".join(sample) + b"\n"})
        expect(tab.get_by_text("导入预览（尚未写入数据库）", exact=True)).to_be_visible(timeout=UI_TIMEOUT_MS)
        walk.read("data-preview")


def test_server_start_logged_no_warning(server) -> None:
    """A fresh start writes no WARNING (e.g. Streamlit's 'No runtime found' when a cached function is defined
    before the runtime exists)."""
    trouble = log_trouble(server.log_path.read_text(encoding="utf-8", errors="replace"))
    assert not trouble, "the server logged:\n" + "\n\n".join(trouble)[-6000:]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_chinese(server, browser, role) -> None:
    log_start = server.log_path.stat().st_size
    context = new_context(browser, UI_TIMEOUT_MS)
    try:
        tab = context.new_page()
        walk = Walk(tab, server, role)
        tab.goto(view_url(server.base_url, "/", **VIEW))
        walk.read("sign-in", signed_in=False)
        sign_in_through_form(tab, USERS[role][0], PASSWORD)
        walk.recorder.mark()
        menu = {t.split()[-1] for t in tab.locator("[data-testid=stSidebarNav] a").all_inner_texts()}
        assert ({"数据", "审计日志"} <= menu) == (role == "province"), menu
        for url_path in ROLE_PAGES[role]:
            walk.open(url_path)
            walk.read(url_path)
            walk_extras(walk, url_path)
        walk.open("dossier", q=WEISHAN_CASE)  # 案件档案: not in the menu, opened by the sidebar's 查找案件
        walk.read("dossier")
        walk.recorder.assert_clean()
    finally:
        context.close()
    with server.log_path.open("rb") as log:
        log.seek(log_start)
        trouble = log_trouble(log.read().decode("utf-8", errors="replace"))
    english = grouped(walk.findings)
    assert not english and not trouble and not walk.problems, (
        f"{len(english)} Latin words on {role}'s screens:\n" + "\n".join(english) + "\n\nother problems:\n"
        + "\n".join(walk.problems) + "\n\nthe server logged during the walk:\n" + "\n\n".join(trouble)[-6000:])
