"""The weekly meeting pack as the meeting sees it: the deck rendered by LibreOffice (headless, to PDF, then
PNG per slide into test-artifacts/deck/), and the deck read back with python-pptx and checked — no text
run under 18 pt except footnotes, no text box or table overflowing its room (estimated from font size and
characters per line, CJK 1 em), every number on a slide found in the workbook, ties kept as ties, 16:9
declared, speaker notes and slide numbers on every slide.

Packs: the province on the golden cases as of 2024-03-31 (a week with a deterioration signal and a county
entering the priority list; ranking every city with a due case, so that ties occur) with two 督办 items,
and a city user's pack (济宁市) as of 2024-06-30 with the default ranking rule.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from pptx import Presentation
from pptx.util import Emu

from data_access.identity.auth import Identity, Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.supervision import ledger
from metrics.weekly import WeeklyReport, weekly_report
from presentation.bulletin import bulletin
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS
from reports.deck import DECK_TITLE, FOOTNOTE, MIN_PT
from reports.pack import write_pack
from reports.workbook import NOTES_SHEET, ranking_sheet
from tests.conftest import GOLDEN_CASES, REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "deck"
PROVINCE_DAY, CITY_DAY = dt.date(2024, 3, 31), dt.date(2024, 6, 30)
JINING, RENCHENG = "370800", "370811"
SUPERVISOR = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
EMU_PER_PT = 12700
NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
DATES = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日|\d{1,2}日|\d{4}年")
LINE = 1.45  # line height of a CJK font (Noto Sans CJK) as a multiple of its size


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A DuckDB file with the golden cases and two 督办 items (one replied late, one open past its reply date)."""
    engine = make_engine(f"duckdb:///{tmp_path_factory.mktemp('deck') / 'golden.duckdb'}")
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    opened = dt.datetime(2024, 3, 25, 9)
    ledger.open_item(engine, SUPERVISOR, county_code=RENCHENG, title="初次举报超期未办结 3 件", reason="请于期限内办结并反馈",
                     method=ledger.Method.PHONE, reply_due=dt.date(2024, 3, 29), now=opened)
    ledger.open_item(engine, SUPERVISOR, county_code="371625", title="越级举报率偏高", reason="请分析原因并反馈整改措施",
                     method=ledger.Method.LETTER, reply_due=dt.date(2024, 4, 10), now=opened)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=["province", "city"])
def report(request: pytest.FixtureRequest, engine: sa.Engine) -> WeeklyReport:
    """The province's report (every city with a due case ranked) and 济宁市's (the default rule)."""
    if request.param == "province":
        return weekly_report(engine, PROVINCE_DAY, scope=WHOLE_PROVINCE, min_due_to_compare=1)
    return weekly_report(engine, CITY_DAY, scope=Scope(JINING))


@pytest.fixture(scope="module")
def pack(report: WeeklyReport, tmp_path_factory: pytest.TempPathFactory) -> tuple[Presentation, openpyxl.Workbook, Path]:
    """The deck and workbook written by write_pack, read back."""
    paths = write_pack(report, tmp_path_factory.mktemp("pack"), DEFAULT_DOCUMENT_SETTINGS)
    return Presentation(paths.deck), openpyxl.load_workbook(paths.workbook), paths.deck


def frames(slide) -> Iterator[tuple[object, object, Emu, Emu]]:
    """(shape, text frame, width, height) of every text box and table cell of a slide."""
    for shape in slide.shapes:
        if shape.has_text_frame:
            yield shape, shape.text_frame, shape.width, shape.height
        if shape.has_table:
            table = shape.table
            for i, row in enumerate(table.rows):
                for j, cell in enumerate(row.cells):
                    yield shape, cell.text_frame, table.columns[j].width, table.rows[i].height


def is_footnote(shape) -> bool:
    """Footnotes (footer line, slide number) are the only runs allowed below 18 pt."""
    return shape.name.startswith(FOOTNOTE)


def em(text: str) -> float:
    """Width in em: CJK and full-width 1, the rest 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.6 for ch in text)


def slide_text(slide) -> str:
    """All text of a slide but its footnotes."""
    return "\n".join(frame.text for shape, frame, _, _ in frames(slide) if not is_footnote(shape))


def test_16_9_declared_and_every_slide_numbered_with_notes(pack) -> None:
    deck, _, _ = pack
    props = deck.core_properties
    assert props.author == props.last_modified_by and props.author.endswith("纪委监委信访室")
    assert props.title.startswith(DECK_TITLE) and props.created.year >= 2026
    size = deck.part._element.find("{http://schemas.openxmlformats.org/presentationml/2006/main}sldSz")
    assert (deck.slide_width, deck.slide_height) == (12192000, 6858000)
    assert size.get("type") in (None, "custom"), "the template's screen4x3 must not stay"
    total = len(deck.slides)
    for number, slide in enumerate(deck.slides, start=1):
        pages = [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.name == f"{FOOTNOTE} page"]
        assert pages == [f"{number} / {total}"]
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()


def test_cover_says_who_issues_it(pack, report: WeeklyReport) -> None:
    text = slide_text(pack[0].slides[0])
    assert DECK_TITLE in text and DEFAULT_DOCUMENT_SETTINGS.issuer(report.region_name) in text


def test_no_run_under_18_pt_except_footnotes(pack) -> None:
    deck, _, _ = pack
    for number, slide in enumerate(deck.slides, start=1):
        for shape, frame, _, _ in frames(slide):
            for paragraph in frame.paragraphs:
                for run in paragraph.runs:
                    if run.text.strip() and not is_footnote(shape):
                        assert run.font.size is not None and run.font.size.pt >= MIN_PT, (number, run.text)


def test_no_text_overflows_its_box(pack) -> None:
    deck, _, _ = pack
    for number, slide in enumerate(deck.slides, start=1):
        bottoms = []
        for shape, frame, width, height in frames(slide):
            usable = width - (frame.margin_left + frame.margin_right)
            lines_pt = 0.0
            for paragraph in frame.paragraphs:
                size = max((r.font.size.pt for r in paragraph.runs if r.font.size), default=MIN_PT)
                per_line = usable / EMU_PER_PT / size * 0.92  # what line breaking wastes
                text = "".join(r.text for r in paragraph.runs)
                lines = max(1, math.ceil(em(text) / per_line))
                if shape.has_table:
                    assert lines == 1, (number, text, "a table cell must not wrap")
                lines_pt += lines * size * LINE
            needed = lines_pt * EMU_PER_PT + frame.margin_top + frame.margin_bottom
            assert needed <= height * 1.02 + EMU_PER_PT * 4, (number, frame.text[:40], needed / 914400, height / 914400)
            bottoms.append((shape, shape.top + shape.height))
        body = [bottom for shape, bottom in bottoms if not is_footnote(shape)]
        assert max(body) <= deck.slide_height - Emu(914400 * 0.5), (number, "the body runs into the footer")


def workbook_numbers(book: openpyxl.Workbook) -> set[str]:
    """Every number the workbook shows, formatted as its cells show it (and the numbers inside its texts)."""
    out: set[str] = set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value, fmt = cell.value, cell.number_format
                if value is None or isinstance(value, dt.date | dt.datetime):
                    continue
                if isinstance(value, bool):
                    continue
                if isinstance(value, int | float):
                    if "%" in fmt:
                        places = len(fmt.split(".")[1].split("%")[0]) if "." in fmt.split(";")[0] else 0
                        shown = f"{value * 100:.{places}f}%"
                    elif "0.00" in fmt:
                        shown = f"{value:.2f}"
                    elif "0.0" in fmt:
                        shown = f"{value:.1f}"
                    else:
                        shown = f"{value:.0f}" if float(value).is_integer() else str(value)
                    out |= set(NUMBER.findall(shown))
                else:
                    out |= set(NUMBER.findall(DATES.sub("", str(value))))
                    out |= set(NUMBER.findall(str(value)))
    return out


def test_every_number_on_a_slide_is_in_the_workbook(pack) -> None:
    deck, book, _ = pack
    known = workbook_numbers(book)
    for number, slide in enumerate(deck.slides, start=1):
        text = DATES.sub("", slide_text(slide))
        text = re.sub(r"^\d+\. ", "", text, flags=re.MULTILINE)  # the closing slide's item numbers
        missing = set(NUMBER.findall(text)) - known
        assert not missing, (number, missing, text[:200])


def test_ties_are_shown_as_ties(pack, report: WeeklyReport) -> None:
    deck, book, _ = pack
    ranked = report.units[report.units["ranked"]]
    tied = ranked[ranked["rank"].duplicated(keep=False)]
    tables = [[[cell.text for cell in row.cells] for row in shape.table.rows]
              for slide in deck.slides for shape in slide.shapes if shape.has_table]
    shown = {row[1]: row[0] for rows in tables if rows[0][0] == "名次" for row in rows[1:]}
    for row in ranked.itertuples():
        expected = f"并列{int(row.rank)}" if row.code in set(tied["code"]) else str(int(row.rank))
        assert shown.get(row.name) == expected, (row.name, shown.get(row.name), expected)
    sheet = book[ranking_sheet(report)]
    ranks = {r[1]: r[0] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert all(ranks[row.name] == shown[row.name] for row in ranked.itertuples())
    if report.region_level.value == "province":
        assert not tied.empty, "the golden week has cities tied at 100%"


def test_no_cut_splits_a_tie_silently(pack, report: WeeklyReport) -> None:
    deck, _, _ = pack
    counties = report.overdue_by_county[report.overdue_by_county["long_overdue"] > 0]
    slide = next(s for s in deck.slides if "天以上的件分布在" in slide_text(s))
    table = next(s for s in slide.shapes if s.has_table).table
    shown = [int(row.cells[2].text) for row in list(table.rows)[1:]]
    if len(shown) < len(counties):
        following = int(counties["long_overdue"].iloc[len(shown)])
        tied_out = following == shown[-1]
        assert not tied_out or f"同为 {following} 件" in slide_text(slide)
        assert f"同为 {following} 件" in slide_text(slide) or following < shown[-1]


def test_the_bulletin_slides_hold_the_official_notice(pack, report: WeeklyReport) -> None:
    deck, _, _ = pack
    b = bulletin(report, DEFAULT_DOCUMENT_SETTINGS)
    text = "\n".join(s.text_frame.text for slide in deck.slides for s in slide.shapes if s.name == "Bulletin")
    assert [line.strip("　") for line in text.replace("\v", "\n").split("\n")] == list(b.lines)
    assert b.title.startswith("关于") and b.title.endswith("情况的通报")
    assert re.fullmatch(r"(鲁|济宁)纪信通〔\d{4}〕(\d+|　　)号", b.number)  # a draft: the number left blank
    assert "报送" in b.requirements and "年" in b.requirements and b.issuer in b.requirements
    assert "新列入 0" not in b.text and "没有可比较的升降" not in b.text


def test_the_pack_shows_the_ledger_signals_and_a_closing_slide(pack, report: WeeklyReport) -> None:
    deck, _, _ = pack
    titles = [slide_text(s).split("\n")[0] for s in deck.slides]
    assert any(t.startswith("督办台账") for t in titles)
    assert titles[-1].startswith("会议决定与后续事项")
    if report.region_level.value == "province":
        assert not report.signals.empty and report.signal_charts
        assert any("变差信号" in t for t in titles)
        pictures = [s for slide in deck.slides if "变差信号" in slide_text(slide) for s in slide.shapes if s.shape_type == 13]
        assert pictures, "the signal slide carries the p-charts"
        assert "越级举报率偏高" in slide_text(deck.slides[-1])


def test_a_city_pack_covers_its_counties(pack, report: WeeklyReport) -> None:
    if report.region_level.value != "city":
        return
    deck, book, _ = pack
    text = "\n".join(slide_text(s) for s in deck.slides)
    assert "济宁市纪委监委信访室" in text and "各县（市、区）纪委监委" in text
    assert set(report.units["name"]) <= {r[1] for r in book[ranking_sheet(report)].iter_rows(min_row=2, values_only=True)}
    assert NOTES_SHEET in book.sheetnames


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice / poppler-utils not installed (scripts/test.sh installs them)")
def test_the_deck_renders_and_every_slide_is_screenshot(pack, report: WeeklyReport, tmp_path: Path) -> None:
    deck, _, path = pack
    out = ARTIFACTS / ("province" if report.region_level.value == "province" else "city")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=240)
    pdf = tmp_path / path.with_suffix(".pdf").name
    assert pdf.is_file(), done.stderr
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(out / "slide")], check=True, timeout=240)
    images = sorted(out.glob("slide-*.png"))
    assert len(images) == len(deck.slides)
    import matplotlib.image
    for image in images:
        pixels = matplotlib.image.imread(image)[..., :3]
        assert pixels.shape[1] / pixels.shape[0] == pytest.approx(16 / 9, rel=0.01)
        assert (pixels.min(axis=2) < 0.5).mean() > 0.002, f"{image.name}: almost blank"
    pd.DataFrame({"slide": [i.name for i in images]}).to_csv(out / "index.csv", index=False)


def test_document_settings_are_read_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The [documents] section: issuer and number patterns as text, the deadlines as checked numbers of working days."""
    from data_access.store import config
    from data_access.store.config import SettingsError
    from data_access.supervision.document_register import DocumentKind
    from presentation.documents import DocumentSettings, load_document_settings

    monkeypatch.setattr(config, "SECTIONS", (*config.SECTIONS, "documents"))  # until data_access lists the section
    path = tmp_path / "settings.toml"
    path.write_text('[documents]\nprovince_name = "某省"\nprovince_code_word = "某纪信"\n'
                    'number_pattern = "{org}通〔{year}〕{seq}号"\nreply_workdays = 3\n', encoding="utf-8")
    documents = load_document_settings(path)
    assert documents == DocumentSettings(province_name="某省", province_code_word="某纪信", reply_workdays=3)
    assert documents.issuer("全省") == "某省纪委监委信访室"
    assert documents.draft_number(DocumentKind.WEEKLY, "全省", dt.date(2024, 6, 30)) == "某纪信通〔2024〕　　号"
    assert documents.series(DocumentKind.NOTICE, "济宁市") == "济宁纪信督〔{year}〕{seq}号"
    assert documents.reply_due(dt.date(2024, 6, 28)) == dt.date(2024, 7, 3)  # a Friday: three working days on
    for bad in ('reply_workdays = 0', 'number_pattern = "{nope}"', 'number_pattern = "某纪信通〔{year}〕{week}号"',
                'notice_number_pattern = "某纪信督〔{year}〕"', 'issuer_suffix = ""', 'colour = 1'):
        path.write_text(f"[documents]\n{bad}\n", encoding="utf-8")
        with pytest.raises(SettingsError):
            load_document_settings(path)


def test_the_decisions_are_this_weeks_items_whole_over_as_many_slides_as_they_need(report: WeeklyReport) -> None:
    import dataclasses
    import io

    from reports.deck import BODY_BOTTOM, Deck, decision_slides

    week = report.this_week
    opened = [dt.datetime.combine(week.start + dt.timedelta(days=i % 7), dt.time(9, i)) for i in range(14)]
    decided = [f"第{i}项：初次举报超期未办结（含越级举报{i}件、结而不服〔复查〕{i + 1}件）的{'原因分析' * 3}和整改措施"
               for i in range(14)]
    rows = [{"city_name": "济宁市", "county_name": "任城区", "title": t, "reply_due": week.end + dt.timedelta(days=10),
             "status": ledger.Status.OPEN.value, "opened_at": at} for t, at in zip(decided, opened, strict=True)]
    before = dt.datetime.combine(week.start - dt.timedelta(days=3), dt.time(9))
    rows += [{"city_name": "济南市", "county_name": "历下区", "title": f"上周挂账事项{k}", "reply_due": week.end,
              "status": status, "opened_at": before} for k, status in enumerate(("open", "replied", "closed"))]
    deck = Deck(dataclasses.replace(report, ledger_items=pd.DataFrame(rows)))
    decision_slides(deck)
    slides = list(Presentation(io.BytesIO(deck.save())).slides)
    titles = [next(shape.text_frame.text for shape in s.shapes if shape.name == "Title") for s in slides]
    assert len(slides) >= 2 and titles[0].startswith("会议决定与后续事项：") and titles[1] == titles[0] + "（续）"
    count = 1 + (not report.priority.empty) + (not report.signals.empty) + len(decided)
    assert titles[0].startswith(f"会议决定与后续事项：{count}项，")
    paragraphs = [p.text for s in slides for shape in s.shapes if shape.name != "Title" and not is_footnote(shape)
                  for p in shape.text_frame.paragraphs]
    for title in decided:  # whole, once, each on its own numbered line
        assert sum(title in p for p in paragraphs) == 1, title
    for p in paragraphs:
        for left, right in ("（）", "〔〕", "“”"):
            assert p.count(left) == p.count(right), p
        assert "…" not in p
    text = "\n".join(paragraphs)
    assert "上周挂账事项" not in text and "此前挂账、仍在办的督办事项2项" in text
    assert [int(p.split(".")[0]) for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    for s in slides:
        assert all(shape.top + shape.height <= BODY_BOTTOM for shape in s.shapes if not is_footnote(shape))
