"""周例会: the weekly report, the 通报 text, the charts, the deck, the ledger, the CLI and the page.

Every number is checked against the metrics layer computed directly (region_table, priority_counties,
overdue_cases) for a Sunday and a mid-week as-of date on the golden cases, on DuckDB and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text
from pptx import Presentation
from pptx.oxml.ns import qn
from streamlit.testing.v1 import AppTest

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports.importer import import_file
from data_access.reference.enums import Category, Level
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import cases
from metrics.caselists import overdue_cases
from metrics.priority import PriorityStatus, priority_counties
from metrics.registry import METRICS_BY_ID
from metrics.request import Period, TableRequest
from metrics.table import region_table
from metrics.weekly import LONG_OVERDUE_DAYS, SATISFACTION_METRICS, WEEKLY_HEADLINE_METRICS, Section, WeeklyReport, weekly_report
from presentation.bulletin import bulletin, bulletin_text, comparable
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS
from presentation.format import fmt_delta, fmt_value, pct, plain_markdown, rate_move, shown_change
from reports import charts
from reports.charts import (
    CHART_SECTIONS,
    CJK_FAMILIES,
    CJKFontMissing,
    cjk_font,
    cjk_style,
    covers,
    missing_glyphs,
    png,
    section_charts,
    section_figure,
)
from reports.cli import main as cli_main
from reports.deck import DECK_FONT, DECK_TITLE, build_deck, headline_title
from reports.pack import deck_name, workbook_name, write_pack
from reports.workbook import (
    CAMPAIGN_SHEET,
    CORE_SHEET,
    COUNTY_OVERDUE_SHEET,
    LEDGER_SHEET,
    NEWLY_OVERDUE_SHEET,
    NOTES_SHEET,
    OVERDUE_SHEET,
    OVERDUE_STOCK_SHEET,
    P_CHART_SHEET,
    PRIORITY_SHEET,
    SIGNALS_SHEET,
    WEEKS_SHEET,
    build_workbook,
    long_overdue_sheet,
)
from tests.apptest_support import switch_to
from tests.conftest import GOLDEN_CASES, REPO_ROOT
from tests.test_pages import CUSTOM  # how the sidebar encodes the custom period in the URL (owned by test_pages)

SUNDAY, WEDNESDAY = dt.date(2024, 6, 30), dt.date(2024, 6, 26)
AS_OF_DATES = (SUNDAY, WEDNESDAY)
CJK = re.compile(r"[\u4e00-\u9fff]")
DATE_CN = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
DATE_SPAN = re.compile(r"至(?:\d{1,2}月)?\d{1,2}日")  # the end of a week span: 2024年6月24日至30日
NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
RATE_HEADLINES = tuple(m for m in WEEKLY_HEADLINE_METRICS if METRICS_BY_ID[m].unit == "%")
APP = REPO_ROOT / "app.py"


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=AS_OF_DATES, ids=[d.isoformat() for d in AS_OF_DATES])
def as_of(request: pytest.FixtureRequest) -> dt.date:
    """A Sunday (a whole week) and a Wednesday (a week in progress)."""
    return request.param


@pytest.fixture(scope="module")
def report(golden_engine: sa.Engine, as_of: dt.date) -> WeeklyReport:
    """The weekly report of the golden cases as of `as_of`."""
    return weekly_report(golden_engine, as_of, scope=WHOLE_PROVINCE)


def heading(section: Section) -> str:
    """A section's heading on the province's meeting (the ranking names the cities)."""
    return "各市按期办结率排名" if section is Section.CITIES else section.label


def last_sunday(as_of: dt.date) -> dt.date:
    """The Sunday before the week holding as_of."""
    return as_of - dt.timedelta(days=as_of.weekday() + 1)


def province_row(engine: sa.Engine, period: Period) -> pd.Series:
    """The metrics layer's province row."""
    return region_table(engine, TableRequest(Level.PROVINCE, period, scope=WHOLE_PROVINCE)).iloc[0]


def same(a: object, b: object) -> bool:
    """Equal, both missing, or within float noise."""
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(np.isclose(float(a), float(b), rtol=0, atol=1e-12))


def case_ids(frame: pd.DataFrame) -> set[str]:
    """The case ids of a ledger."""
    return set(frame["case_id"])


# --- weeks and province rows -----------------------------------------------------------------------

def test_weeks_follow_the_spec(report: WeeklyReport, as_of: dt.date) -> None:
    monday = as_of - dt.timedelta(days=as_of.weekday())
    assert (report.this_week.start, report.this_week.end, report.this_week.as_of_date) == (
        monday, monday + dt.timedelta(days=6), as_of)
    sunday = last_sunday(as_of)
    assert (report.last_week.start, report.last_week.end, report.last_week.as_of_date) == (
        sunday - dt.timedelta(days=6), sunday, sunday)
    assert report.year_ago_week is not None  # the golden cases start in July 2022
    assert report.year_ago_week.start.weekday() == 0
    assert report.year_ago_week.as_of_date == as_of - dt.timedelta(days=364)


def test_year_ago_is_none_before_the_data(golden_engine: sa.Engine) -> None:
    early = weekly_report(golden_engine, dt.date(2023, 3, 5), scope=WHOLE_PROVINCE)  # a year earlier is before 2022-07
    assert early.year_ago_week is None and early.province_year_ago is None
    assert all(h.year_ago is None for h in early.headlines)


@pytest.mark.parametrize("metric_id", WEEKLY_HEADLINE_METRICS + SATISFACTION_METRICS)
def test_province_rows_equal_region_table(golden_engine: sa.Engine, report: WeeklyReport, metric_id: str) -> None:
    this = province_row(golden_engine, report.this_week)
    last = province_row(golden_engine, report.last_week)
    ago = province_row(golden_engine, report.year_ago_week)
    assert same(report.province[metric_id], this[metric_id])
    assert same(report.province_last[metric_id], last[metric_id])
    assert same(report.province_year_ago[metric_id], ago[metric_id])


def test_headline_changes(report: WeeklyReport) -> None:
    for h in report.headlines:
        assert same(h.this_week, report.province[h.metric_id])
        assert same(h.last_week, report.province_last[h.metric_id])
        assert same(h.change, float(h.this_week) - float(h.last_week))


# --- cities ---------------------------------------------------------------------------------------

def _ranks(table: pd.DataFrame, min_due: int) -> dict[str, int | None]:
    """1 + the number of ranked cities (>= min_due due cases) with a strictly better on-time rate; None unranked."""
    rates = table.set_index("code")["on_time_rate"].where(table.set_index("code")["due"] >= min_due)
    return {code: None if pd.isna(r) else int(1 + (rates > r).sum()) for code, r in rates.items()}


@pytest.mark.parametrize("min_due", [None, 1], ids=["default", "min_due_1"])
def test_city_ranking_and_rank_changes(golden_engine: sa.Engine, as_of: dt.date, min_due: int | None) -> None:
    report = weekly_report(golden_engine, as_of, scope=WHOLE_PROVINCE,
                           **({} if min_due is None else {"min_due_to_compare": min_due}))
    this = region_table(golden_engine, TableRequest(Level.CITY, report.this_week, scope=WHOLE_PROVINCE))
    last = region_table(golden_engine, TableRequest(Level.CITY, report.last_week, scope=WHOLE_PROVINCE))
    assert len(report.units) == len(this) == 16
    rank, rank_last = _ranks(this, report.min_due_to_compare), _ranks(last, report.min_due_to_compare)
    assert list(report.units["ranked"]) == [rank[c] is not None for c in report.units["code"]]
    ranked = report.units.dropna(subset=["rank"])
    assert list(ranked["tied"]) == list(ranked["rank"].duplicated(keep=False))
    for row in report.units.itertuples():
        expected = this.set_index("code").loc[row.code]
        assert same(row.on_time_rate, expected["on_time_rate"]) and row.due == expected["due"]
        assert (None if pd.isna(row.rank) else int(row.rank)) == rank[row.code]
        assert (None if pd.isna(row.rank_last) else int(row.rank_last)) == rank_last[row.code]
        if rank[row.code] is not None and rank_last[row.code] is not None:
            assert int(row.rank_change) == rank_last[row.code] - rank[row.code]
    shown = [r for r in report.units["rank"] if not pd.isna(r)]
    assert shown == sorted(shown), "best first"


# --- overdue --------------------------------------------------------------------------------------

def test_newly_overdue_is_the_set_difference(golden_engine: sa.Engine, report: WeeklyReport, as_of: dt.date) -> None:
    now = overdue_cases(golden_engine, as_of, scope=WHOLE_PROVINCE)
    before = overdue_cases(golden_engine, last_sunday(as_of), scope=WHOLE_PROVINCE)
    expected = case_ids(now) - case_ids(before)
    assert case_ids(report.newly_overdue) == expected
    with golden_engine.connect() as conn:
        categories = {c for (c,) in conn.execute(sa.select(cases.c.category).where(cases.c.case_id.in_(expected)))}
    assert categories <= {Category.ACCUSATION.value}
    # equivalently: due in [last Sunday, as_of - 1] and still open at as_of
    due = pd.to_datetime(report.newly_overdue["due_date"]).dt.date
    assert due.between(last_sunday(as_of), as_of - dt.timedelta(days=1)).all()


def test_long_overdue_and_by_county(golden_engine: sa.Engine, report: WeeklyReport, as_of: dt.date) -> None:
    now = overdue_cases(golden_engine, as_of, scope=WHOLE_PROVINCE)
    assert case_ids(report.long_overdue) == case_ids(now[now["days_overdue"] > LONG_OVERDUE_DAYS])
    by_county = report.overdue_by_county
    assert by_county["newly_overdue"].sum() == len(report.newly_overdue)
    assert by_county["long_overdue"].sum() == len(report.long_overdue)
    expected = report.long_overdue.groupby("county_code").size()
    assert by_county.set_index("county_code")["long_overdue"].loc[expected.index].tolist() == expected.tolist()


# --- priority counties ----------------------------------------------------------------------------

def _listed(frame: pd.DataFrame) -> set[str]:
    return set(frame.loc[frame["status"] == PriorityStatus.PRIORITY.value, "code"])


def test_priority_counties_over_the_rolling_year(golden_engine: sa.Engine, report: WeeklyReport, as_of: dt.date) -> None:
    window = Period(as_of.replace(year=as_of.year - 1) + dt.timedelta(days=1), as_of, as_of)
    sunday = last_sunday(as_of)
    window_last = Period(sunday.replace(year=sunday.year - 1) + dt.timedelta(days=1), sunday, sunday)
    assert (report.priority_window, report.priority_window_last) == (window, window_last)
    now = _listed(priority_counties(golden_engine, window, scope=WHOLE_PROVINCE))
    before = _listed(priority_counties(golden_engine, window_last, scope=WHOLE_PROVINCE))
    assert set(report.priority["code"]) == now and now, "the golden cases hold a priority county"
    assert set(report.priority_entered["code"]) == now - before
    assert set(report.priority_left["code"]) == before - now


@pytest.mark.parametrize(("day", "entered", "left"), [(dt.date(2024, 3, 31), {"邹平市"}, set()),
                                                    (dt.date(2024, 4, 28), set(), {"栖霞市"})], ids=["entered", "left"])
def test_entering_and_leaving_are_marked(golden_engine: sa.Engine, day: dt.date, entered: set[str], left: set[str]) -> None:
    """Weeks of the golden data in which a county joined or left the list."""
    r = weekly_report(golden_engine, day, scope=WHOLE_PROVINCE)
    before = _listed(priority_counties(golden_engine, r.priority_window_last, scope=WHOLE_PROVINCE))
    assert set(r.priority_entered["code"]) == set(r.priority["code"]) - before
    assert set(r.priority_left["code"]) == before - set(r.priority["code"])
    assert (set(r.priority_entered["name"]), set(r.priority_left["name"])) == (entered, left)
    assert (r.priority_left["status"] != PriorityStatus.PRIORITY.value).all()
    text = bulletin_text(r)
    assert (f"本周新列入 {len(entered)} 个" in text) == bool(entered) and (f"移出 {len(left)} 个" in text) == bool(left)
    assert "新列入 0" not in text and "移出 0" not in text
    for row in pd.concat([r.priority_entered, r.priority_left]).itertuples():
        assert f"{row.city_name}{row.name}" in text
    sheet = openpyxl.load_workbook(io.BytesIO(build_workbook(r)))[PRIORITY_SHEET]
    changes = {row[1]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {n for n, c in changes.items() if c == "新列入"} == entered
    assert {n for n, c in changes.items() if c == "本周移出"} == left


# --- the 通报 text --------------------------------------------------------------------------------

def allowed_numbers(report: WeeklyReport) -> set[str]:
    """Every number the 通报 may state, formatted as it states them, from the report's fields."""
    out: set[str] = set()
    for h in report.headlines:
        unit = METRICS_BY_ID[h.metric_id].unit
        for value in (h.this_week, h.last_week):
            if value is not None:
                out.add(pct(value) if unit == "%" else str(int(value)))
        if h.change is not None:  # a rate's change as the two shown percentages give it (95.7% → 88.2%: 7.5)
            shown = shown_change(h.metric_id, h.this_week, h.last_week) or 0.0
            out.add(f"{abs(shown) * 100:.1f}" if unit == "%" else str(abs(int(h.change))))
    p = report.province
    out |= {str(int(p[m])) for m in ("received", "due", "rated", "disputed")}
    for frame in (report.units, report.counties):
        for column in ("on_time_rate", "on_time_rate_last"):
            out |= {pct(v) for v in frame[column].dropna()}
        out |= {f"{abs(shown_change('on_time_rate', now, before) or 0.0) * 100:.1f}"
                for now, before in zip(frame["on_time_rate"], frame["on_time_rate_last"], strict=True)}
    out |= {str(n) for n in (len(report.newly_overdue), len(report.long_overdue), report.long_overdue_days,
                             report.priority_window_months, report.min_due_to_compare, len(report.priority),
                             len(report.priority_entered), len(report.priority_left))}
    for frame in (report.units, report.counties):  # the movers' due cases and how many units were compared
        out |= {str(int(v)) for v in frame["due"].dropna()}
        out.add(str(len(comparable(frame, report.min_due_to_compare))))
    for h in report.headlines:  # a year ago, where far from this week
        if h.year_ago is not None and h.this_week is not None:
            unit = METRICS_BY_ID[h.metric_id].unit
            out |= {pct(h.year_ago), f"{abs(shown_change(h.metric_id, h.this_week, h.year_ago) or 0.0) * 100:.1f}"} if unit == "%" else \
                {str(int(h.year_ago)), str(abs(int(h.this_week - h.year_ago)))}
            if unit != "%" and h.year_ago:
                out.add(f"{(h.this_week / h.year_ago - 1) * 100:+.0f}%".lstrip("+-"))
    number = bulletin(report).number  # the 通报's document number (a draft's: the year, the number left blank)
    out |= set(NUMBER.findall(number))
    return out


@pytest.mark.parametrize("min_due", [None, 1], ids=["default", "min_due_1"])
def test_every_number_in_the_bulletin_is_a_report_field(golden_engine: sa.Engine, as_of: dt.date,
                                                        min_due: int | None) -> None:
    r = weekly_report(golden_engine, as_of, scope=WHOLE_PROVINCE, **({} if min_due is None else {"min_due_to_compare": min_due}))
    text = bulletin_text(r)
    dates = {(int(y), int(m), int(d)) for y, m, d in re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)}
    periods = (r.this_week.start, r.this_week.end, r.as_of, r.priority_window.start, r.priority_window.end,
               DEFAULT_DOCUMENT_SETTINGS.reply_due(r.as_of))
    assert dates <= {(d.year, d.month, d.day) for d in periods}
    numbers = NUMBER.findall(DATE_SPAN.sub("", DATE_CN.sub("", text)))
    assert numbers, text
    assert set(numbers) <= allowed_numbers(r), set(numbers) - allowed_numbers(r)


def test_bulletin_states_the_headline_numbers(report: WeeklyReport) -> None:
    text = bulletin_text(report)
    for metric_id in RATE_HEADLINES:
        label, h = METRICS_BY_ID[metric_id].label, report.headline(metric_id)
        found = re.search(rf"(?<!初次举报){label} (\d+\.\d%)，较上周（(\d+\.\d%)）", text)
        assert found, label
        assert found.groups() == (pct(h.this_week), pct(h.last_week))
    assert re.search(r"本周收件 (\d+) 件", text).group(1) == str(int(report.province["received"]))
    overdue = report.headline("overdue")
    assert f"超期未办结 {overdue.this_week} 件，较上周末（{overdue.last_week} 件）" in text
    assert f"本周新增超期 {len(report.newly_overdue)} 件" in text
    assert f"超期 {LONG_OVERDUE_DAYS} 天以上 {len(report.long_overdue)} 件" in text


def test_bulletin_names_the_cities_that_moved_most(golden_engine: sa.Engine, as_of: dt.date) -> None:
    r = weekly_report(golden_engine, as_of, min_due_to_compare=1, scope=WHOLE_PROVINCE)
    text = bulletin_text(r)
    this = region_table(golden_engine, TableRequest(Level.CITY, r.this_week, scope=WHOLE_PROVINCE)).set_index("name")
    last = region_table(golden_engine, TableRequest(Level.CITY, r.last_week, scope=WHOLE_PROVINCE)).set_index("name")
    change = (this["on_time_rate"] - last["on_time_rate"])[(this["due"] >= 1) & (last["due"] >= 1)].dropna()
    best = re.search(r"个市中，按期办结率提升最多的是(\S+?市)（应办结 \d+ 件，由 (\S+) 升至 (\S+)，上升 (\S+) 个百分点）", text)
    worst = re.search(r"下降最多的是(\S+?市)（应办结 \d+ 件，由 (\S+) 降至 (\S+)，下降 (\S+) 个百分点）", text)
    assert best and worst, text  # both weeks of the golden data have cities rising and falling
    for found, extreme in ((best, change.max()), (worst, change.min())):
        name = found.group(1)
        assert same(change[name], extreme)
        assert found.groups()[1:] == (pct(last.at[name, "on_time_rate"]), pct(this.at[name, "on_time_rate"]),
                                      f"{abs(extreme) * 100:.1f}")


def test_bulletin_lists_the_priority_counties(report: WeeklyReport) -> None:
    text = bulletin_text(report)
    assert f"列为重点督导的县（市、区）共 {len(report.priority)} 个" in text
    for row in report.priority.itertuples():
        assert f"{row.city_name}{row.name}" in text


# --- charts ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chart_images(report: WeeklyReport) -> dict[Section, bytes]:
    """The PNG of every chart section."""
    return section_charts(report)


def test_every_chart_is_a_non_blank_png(chart_images: dict[Section, bytes]) -> None:
    assert set(chart_images) == set(CHART_SECTIONS)
    for section, data in chart_images.items():
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")[..., :3]
        assert pixels.shape[0] > 400 and pixels.shape[1] > 600, section
        assert pixels.std() > 0.05, f"{section}: blank image"
        assert (pixels.min(axis=2) < 0.9).mean() > 0.02, f"{section}: almost nothing drawn"


def test_the_chosen_font_has_chinese_glyphs() -> None:
    font = cjk_font()
    assert font.family in CJK_FAMILIES
    resolved = str(font_manager.findfont(font_manager.FontProperties(family=font.family), fallback_to_default=False))
    assert resolved == font.path and covers(resolved, "督导信访举报")
    assert not covers(str(font_manager.findfont("DejaVu Sans")), "督导"), "the check would not tell tofu from glyphs"


@pytest.mark.parametrize("section", CHART_SECTIONS)
def test_chart_text_is_drawn_with_the_cjk_font(report: WeeklyReport, section: Section) -> None:
    fig = section_figure(report, section)
    with cjk_style() as font:
        assert missing_glyphs(fig) == []
        chinese = [t for t in fig.findobj(Text) if CJK.search(t.get_text())]
        assert chinese, "every chart has Chinese labels"
        family_files = {entry.fname for entry in font_manager.fontManager.ttflist if entry.name == font.family}
        for text in chinese:
            resolved = str(font_manager.findfont(text.get_fontproperties()))
            assert resolved in family_files and covers(resolved, text.get_text()), text.get_text()


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # matplotlib's own warning: the tofu we refuse
def test_tofu_is_refused_not_drawn() -> None:
    fig = Figure()
    fig.text(0.5, 0.5, "督导", family="DejaVu Sans")
    with cjk_style():
        assert missing_glyphs(fig) == ["督导"]
    with pytest.raises(CJKFontMissing):
        png(fig)


def test_missing_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such Font CJK",))
    monkeypatch.setattr(charts, "_register_system_cjk", lambda: None)
    cjk_font.cache_clear()
    try:
        with pytest.raises(CJKFontMissing) as error:
            cjk_font()
        message = str(error.value)
        assert "中文" in message and "fonts-noto-cjk" in message and "No CJK font" in message
    finally:
        cjk_font.cache_clear()


# --- deck -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deck(report: WeeklyReport) -> Presentation:
    """The deck, read back with python-pptx."""
    return Presentation(io.BytesIO(build_deck(report)))


def _runs(deck: Presentation):
    for slide in deck.slides:
        for shape in slide.shapes:
            frames = [shape.text_frame] if shape.has_text_frame else []
            if shape.has_table:
                frames += [cell.text_frame for row in shape.table.rows for cell in row.cells]
            for frame in frames:
                for paragraph in frame.paragraphs:
                    yield from paragraph.runs


def _title(slide) -> str:
    return next(s.text_frame.text for s in slide.shapes if s.name == "Title")


def _tables(slide) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in shape.table.rows] for shape in slide.shapes if shape.has_table]


def test_deck_has_the_expected_slides(deck: Presentation, report: WeeklyReport) -> None:
    titles = [_title(s) for s in deck.slides]
    assert titles[0] == DECK_TITLE
    assert titles[1] == headline_title(report)  # the takeaway, not the section's name
    assert any(t.startswith("督办台账") for t in titles) and titles[-1].startswith("会议决定与后续事项")
    assert any(t.startswith("通报（") for t in titles)
    assert all(t and "\n" not in t for t in titles)


def test_every_deck_run_has_an_east_asian_font(deck: Presentation) -> None:
    runs = [r for r in _runs(deck) if r.text]
    assert any(CJK.search(r.text) for r in runs)
    for run in runs:
        ea = run._r.find(qn("a:rPr")).find(qn("a:ea"))
        assert ea is not None and ea.get("typeface") == DECK_FONT, run.text


def test_deck_numbers_equal_the_report(deck: Presentation, report: WeeklyReport) -> None:
    slides = list(deck.slides)
    kpis = {row[0]: row[1:3] for row in _tables(slides[1])[0][1:]}
    assert kpis == {METRICS_BY_ID[m].label: [fmt_value(m, report.province[m]), fmt_value(m, report.province_last[m])]
                    for m in WEEKLY_HEADLINE_METRICS}
    ranking = [row for s in slides for t in _tables(s) if t[0][0] == "名次" for row in t[1:]]
    assert [(row[1], row[2], row[3]) for row in ranking] == [
        (r.name, str(int(r.due)), fmt_value("on_time_rate", r.on_time_rate)) for r in report.units.itertuples()]
    unranked = report.units[~report.units["ranked"]]
    assert all(row[0] == "不排名" for row in ranking if row[1] in set(unranked["name"]))
    listed = pd.concat([report.priority, report.priority_left])
    priority = [row[0] for s in slides for t in _tables(s) if t[0][1] == "较上周" and t[0][0] == "县（市、区）" for row in t[1:]]
    assert priority == list(listed["city_name"] + listed["name"])
    body = "\n".join(s.text_frame.text for slide in slides for s in slide.shapes if s.name == "Bulletin")
    assert [line.strip("\u3000") for line in body.replace("\v", "\n").split("\n")] == bulletin_text(report).split("\n")


# --- workbook -------------------------------------------------------------------------------------

def test_workbook_reads_back(golden_engine: sa.Engine, report: WeeklyReport, as_of: dt.date) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(report)))
    assert wb.sheetnames == [NOTES_SHEET, CORE_SHEET, WEEKS_SHEET, "各市排名", OVERDUE_SHEET, NEWLY_OVERDUE_SHEET,
                             long_overdue_sheet(report), COUNTY_OVERDUE_SHEET, OVERDUE_STOCK_SHEET, PRIORITY_SHEET,
                             SIGNALS_SHEET,
                             P_CHART_SHEET, LEDGER_SHEET, CAMPAIGN_SHEET]
    assert long_overdue_sheet(report) == "长期超期（>90天）"
    for ws in wb.worksheets:
        headers = [c.value for c in ws[1] if c.value is not None]
        assert all(CJK.search(h) for h in headers), headers
        assert ws.freeze_panes == "A2"
        for i, header in enumerate(headers, start=1):  # wide enough for the header, CJK counted double
            assert ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width >= min(2 * len(header), 50), header
    for sheet in (OVERDUE_SHEET, NEWLY_OVERDUE_SHEET, COUNTY_OVERDUE_SHEET, PRIORITY_SHEET, "各市排名"):
        assert wb[sheet].auto_filter.ref, sheet

    def column(sheet: str, header: str) -> set[str]:
        ws = wb[sheet]
        index = [c.value for c in ws[1]].index(header)
        return {row[index] for row in ws.iter_rows(min_row=2, values_only=True)}

    now = overdue_cases(golden_engine, as_of, scope=WHOLE_PROVINCE)
    before = overdue_cases(golden_engine, last_sunday(as_of), scope=WHOLE_PROVINCE)
    assert column(NEWLY_OVERDUE_SHEET, "件号") == case_ids(now) - case_ids(before)
    assert column(long_overdue_sheet(report), "件号") == case_ids(now[now["days_overdue"] > LONG_OVERDUE_DAYS])
    assert column(PRIORITY_SHEET, "县级代码") == set(report.priority["code"]) | set(report.priority_left["code"])
    assert column(OVERDUE_SHEET, "件号") == case_ids(now)  # the whole overdue stock: every slide's count reconciles
    assert len(case_ids(now)) == report.headline("overdue").this_week
    ranking = {row[1]: row for row in wb["各市排名"].iter_rows(min_row=2, values_only=True)}
    assert {name: row[4] for name, row in ranking.items()} == dict(zip(report.units["name"], report.units["due"], strict=True))


# --- pack and command line -------------------------------------------------------------------------

def test_pack_names(tmp_path: Path, report: WeeklyReport) -> None:
    paths = write_pack(report, tmp_path / "pack")
    assert paths.deck.name == f"周例会_{report.as_of}.pptx" == deck_name(report.as_of)
    assert paths.workbook.name == f"周例会台账_{report.as_of}.xlsx" == workbook_name(report.as_of)
    assert paths.deck.stat().st_size > 0 and paths.workbook.stat().st_size > 0


def test_cli_weekly_writes_the_pack(golden_engine: sa.Engine, tmp_path: Path) -> None:
    out = io.StringIO()
    url = golden_engine.url.render_as_string(hide_password=False)
    assert cli_main(["weekly", "--as-of", "2024-06-30", "--out", str(tmp_path), "--db", url], out=out) == 0
    printed = [Path(line) for line in out.getvalue().splitlines()]
    assert printed == [tmp_path / "周例会_2024-06-30.pptx", tmp_path / "周例会台账_2024-06-30.xlsx",
                       tmp_path / "周例会通报_2024-06-30.docx"]
    assert len(Presentation(printed[0]).slides) > len(Section)
    assert openpyxl.load_workbook(printed[1]).sheetnames[0] == NOTES_SHEET
    import docx

    texts = [p.text.replace("\n", "") for p in docx.Document(str(printed[2])).paragraphs]
    number = next(t for t in texts if re.fullmatch(r"鲁纪信通〔\d{4}〕\d+号", t))  # issued: a number from the register
    notes = dict(openpyxl.load_workbook(printed[1])[NOTES_SHEET].iter_rows(min_row=2, values_only=True))
    assert notes["通报文号"] == number and "关于2024年6月24日至30日信访举报办理情况的通报" in texts


def _golden_file(path: Path) -> str:
    url = f"duckdb:///{path}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    engine.dispose()
    return url


def test_cli_weekly_as_a_process(tmp_path: Path) -> None:
    """What the cron runs: a separate process, exit status 0, the three paths on stdout."""
    url = _golden_file(tmp_path / "golden.duckdb")
    done = subprocess.run([sys.executable, "-m", "reports", "weekly", "--as-of", "2024-06-30", "--out",
                           str(tmp_path / "out"), "--db", url], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    paths = [Path(p) for p in done.stdout.split()]
    assert [p.name for p in paths] == ["周例会_2024-06-30.pptx", "周例会台账_2024-06-30.xlsx", "周例会通报_2024-06-30.docx"]
    assert all(p.is_file() for p in paths)


def test_cli_weekly_requires_as_of_and_out() -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main(["weekly", "--out", "x"])
    assert exit_.value.code == 2


@pytest.mark.parametrize("day", [dt.date(2021, 1, 31), dt.date(2030, 1, 30)], ids=["before_data", "after_data"])
def test_a_week_without_cases_still_makes_a_pack(golden_engine: sa.Engine, tmp_path: Path, day: dt.date) -> None:
    r = weekly_report(golden_engine, day, scope=WHOLE_PROVINCE)
    assert r.province["due"] == 0 and r.headline("on_time_rate").this_week is None and r.priority.empty
    text = bulletin_text(r)
    assert "按期办结率无数据" in text
    assert set(NUMBER.findall(DATE_SPAN.sub("", DATE_CN.sub("", text)))) <= allowed_numbers(r)
    paths = write_pack(r, tmp_path)
    assert len(Presentation(paths.deck).slides) > len(Section)
    assert openpyxl.load_workbook(paths.workbook)[PRIORITY_SHEET].max_row == 1  # the header only


# --- the page -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """DATABASE_URL of a DuckDB file with the golden cases, set for the module's page tests."""
    url = _golden_file(tmp_path_factory.mktemp("weekly_page") / "golden.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield url


def open_weekly(as_of: dt.date, **params: str) -> AppTest:
    """The app opened on the 周例会 page with the as-of date (and `params`) in the URL."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"period": CUSTOM, "asof": as_of.isoformat(), "from": "2024-06-01",
                            "to": as_of.isoformat()})
    at.run()
    at.query_params.update(params)
    switch_to(at, "weekly").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_report(url: str, as_of: dt.date) -> WeeklyReport:
    """The report computed directly on the page's database."""
    engine = make_engine(url)
    try:
        return weekly_report(engine, as_of, scope=WHOLE_PROVINCE)
    finally:
        engine.dispose()


@pytest.mark.parametrize("present", [False, True], ids=["screen", "presentation"])
@pytest.mark.parametrize("day", AS_OF_DATES, ids=[d.isoformat() for d in AS_OF_DATES])
def test_page_kpis_equal_the_report(page_url: str, day: dt.date, present: bool) -> None:
    at = open_weekly(day, **({"present": "true"} if present else {}))
    expected = page_report(page_url, day)
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    for metric_id in WEEKLY_HEADLINE_METRICS:
        this, last = expected.province[metric_id], expected.province_last[metric_id]
        assert shown[METRICS_BY_ID[metric_id].label] == (fmt_value(metric_id, this), fmt_delta(metric_id, this, last))
    assert [h.value for h in at.header] == [Section.KPIS.label]
    css = [m.value for m in at.markdown if 'data-testid="stSidebar"' in m.value]
    assert bool(css) == present
    assert at.toggle(key="present").value == present


@pytest.mark.parametrize("present", [False, True], ids=["screen", "presentation"])
def test_page_steps_through_every_section(page_url: str, present: bool) -> None:
    at = open_weekly(SUNDAY, **({"present": "true"} if present else {}))
    seen = [at.header[0].value]
    for _ in range(len(Section) - 1):
        at.button(key="next_section").click().run()
        assert not at.exception, [e.value for e in at.exception]
        seen.append(at.header[0].value)
    assert seen == [heading(s) for s in Section]
    assert at.button(key="next_section").disabled
    at.button(key="prev_section").click().run()
    assert at.header[0].value == heading(list(Section)[-2])


@pytest.mark.parametrize("section", list(Section), ids=[s.value for s in Section])
def test_page_sections_for_a_week_without_cases(page_url: str, section: Section) -> None:
    at = open_weekly(dt.date(2021, 1, 31), section=section.label, present="true")
    assert at.header[0].value == heading(section)
    assert not at.error, [e.value for e in at.error]


def test_page_opens_on_the_section_in_the_url(page_url: str) -> None:
    at = open_weekly(SUNDAY, section=Section.BULLETIN.label)
    assert at.header[0].value == Section.BULLETIN.label
    paragraphs = bulletin_text(page_report(page_url, SUNDAY)).split("\n")
    shown = [m.value for m in at.markdown]
    assert all(plain_markdown(p) in shown for p in paragraphs)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["下载演示稿（PPTX）", "下载台账（XLSX）", "下载通报（Word）"]


@pytest.mark.parametrize("period", ["last_week", "last_month", "this_week", "custom"])
def test_page_follows_the_chosen_date_whatever_the_period(page_url: str, period: str) -> None:
    """The 周例会 is the week holding the sidebar's 截止日期: 上周 or 上月 in the sidebar do not move it."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"period": period, "asof": "2024-06-30", "from": "2024-06-01", "to": "2024-06-30"})
    at.run()
    switch_to(at, "weekly").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "本周 2024-06-24 至 2024-06-30（数据截至 2024-06-30）" in captions, captions
    assert "不受“统计期”选择影响" in captions


def test_a_change_is_the_difference_of_the_values_shown() -> None:
    """95.7% → 88.2% reads as 7.5 points down, although the unrounded rates differ by 7.46 (issue 18)."""
    now, before = 0.88204, 0.95664
    assert (pct(now), pct(before)) == ("88.2%", "95.7%")
    assert round((before - now) * 100, 2) == 7.46  # rounded once, the unrounded drop would read 7.5 only by luck
    assert rate_move(shown_change("on_time_rate", now, before)) == "下降 7.5 个百分点"
    assert fmt_delta("on_time_rate", now, before) == "-7.5 个百分点"
    assert shown_change("overdue", 450, 256) == 194
