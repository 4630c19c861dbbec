"""领导简报: one A4 page (PDF with its font embedded, or PNG) holding the 总览's numbers for the same period and as-of
date, read back with poppler (pdfinfo, pdffonts, pdftotext); the facts equal the functions the 总览 calls on every
engine; the 总览's button builds it for the viewer's region and records the download; the command line refuses bad
input with a Chinese reason."""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from PIL import Image
from streamlit.testing.v1 import AppTest

import pages.overview
from data_access.identity.audit import AuditAction, recent
from data_access.identity.auth import OutOfScope
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.reference.enums import Level
from metrics.brief import HEADLINE_METRICS, BriefFacts, brief_facts
from metrics.priority import PriorityStatus, priority_list
from metrics.request import Period, TableRequest
from metrics.table import region_table
from metrics.warnings import warning_counts
from presentation.format import fmt_value
from reports import cli as reports_cli
from reports.brief import PDF, PNG, PNG_DPI, brief_bytes, brief_figure
from reports.charts import cjk_style
from tests.test_pages import APP, H1, H1_PARAMS, TIMEOUT, golden_url, metrics_shown  # noqa: F401 (golden_url: a fixture)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")

PROVINCE, JINING, RENCHENG = "370000", "370800", "370811"
A4_PX = (1240, 1753)  # 210 x 297 mm at 150 dpi, cut to whole pixels


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])], capture_output=True,
                          text=True, check=True, timeout=60).stdout


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    return poppler("pdftotext", pdf, tmp_path)


def card_texts(facts: BriefFacts) -> list[str]:
    return [fmt_value(m, facts.current[m]) for m in HEADLINE_METRICS]


# --- the facts are the 总览's, on every engine ----------------------------------------------------

@pytest.mark.parametrize("scope", [WHOLE_PROVINCE, Scope(JINING), Scope(RENCHENG)], ids=["province", "city", "county"])
def test_the_facts_equal_the_overview_s_functions(golden_engine: sa.Engine, scope: Scope) -> None:
    facts = brief_facts(golden_engine, H1, scope=scope)
    root = scope.code or PROVINCE
    level = {PROVINCE: Level.PROVINCE, JINING: Level.CITY, RENCHENG: Level.COUNTY}[root]
    # what pages/overview.py asks through ui.scoped: the root's row, the row of the period before, the warnings
    for period, row in ((H1, facts.current), (H1.previous(), facts.previous)):
        shown = region_table(golden_engine, TableRequest(level, period, parent=root, scope=scope)).iloc[0]
        for metric in HEADLINE_METRICS:
            assert fmt_value(metric, row[metric]) == fmt_value(metric, shown[metric]), metric
    colours = warning_counts(golden_engine, H1.as_of_date, level, scope=scope, parent=root)
    assert (facts.warnings.red, facts.warnings.yellow, facts.warnings.green) == tuple(
        int(colours[c].sum()) for c in ("red", "yellow", "green"))
    ranked = priority_list(golden_engine, H1.as_of_date, scope=scope)
    flagged = ranked[ranked["status"].isin((PriorityStatus.PRIORITY.value, PriorityStatus.WATCH.value))]
    assert list(facts.priority["code"]) == list(flagged["code"])
    counties = region_table(golden_engine, TableRequest(Level.COUNTY, H1, parent=root, scope=scope))
    assert sorted(facts.counties["code"]) == sorted(counties["code"])
    if level is Level.COUNTY:
        assert facts.unit_level is None and facts.units.empty
    else:
        units = region_table(golden_engine, TableRequest(level.child(), H1, parent=root, scope=scope))
        assert sorted(facts.units["code"]) == sorted(units["code"])


def test_the_golden_province_numbers(golden_engine: sa.Engine) -> None:
    facts = brief_facts(golden_engine, H1, scope=WHOLE_PROVINCE)
    assert fmt_value("on_time_rate", facts.current["on_time_rate"]) == "89.9%"  # golden expected_h1_province: 986 / 1097
    assert int(facts.current["overdue"]) == 139 == facts.warnings.red  # every overdue case is open and red at A
    assert facts.region_name == "山东省" and facts.unit_level is Level.CITY and len(facts.units) == 16
    ranked = facts.units[facts.units["ranked"]]
    assert ranked["on_time_rate"].is_monotonic_decreasing  # best first, as the 总览's chart
    assert list(facts.priority["name"]) == ["邹平市", "栖霞市"]


def test_a_region_outside_the_scope_is_refused(golden_engine: sa.Engine) -> None:
    with pytest.raises(OutOfScope):
        brief_facts(golden_engine, H1, scope=Scope(JINING), region="370100")


# --- the page: one A4 sheet, the numbers as text, the font embedded -------------------------------

@pytest.fixture(scope="module")
def province_facts(golden_url: str) -> BriefFacts:  # noqa: F811 (the fixture imported above)
    return brief_facts(sa.create_engine(golden_url), H1, scope=WHOLE_PROVINCE)


def test_the_pdf_is_one_a4_page_with_its_font_embedded_and_the_numbers_as_text(province_facts: BriefFacts,
                                                                                  tmp_path: Path) -> None:
    pdf = brief_bytes(province_facts, PDF)
    assert brief_bytes(province_facts, PDF) == pdf  # no creation time: built twice, the same file
    info = poppler("pdfinfo", pdf, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    width, height = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (round(width), round(height)) == (595, 842)  # A4 portrait in points
    fonts = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb: every font embedded
    assert any("CJK" in line for line in fonts)
    text = pdf_text(pdf, tmp_path)
    for needed in ["山东省信访举报督导简报", *card_texts(province_facts), "红 · 已超期 139 件", "黄 · 5 个工作日内到期 5 件",
                   "绿 · 未临期 184 件", "邹平市", "栖霞市", "聊城市", "枣庄市", "较上一期 +39"]:
        assert needed in text, needed


def test_the_png_is_a4_at_its_resolution(province_facts: BriefFacts) -> None:
    image = Image.open(io.BytesIO(brief_bytes(province_facts, PNG)))
    assert image.format == "PNG" and image.size == A4_PX
    assert A4_PX == (int(210 / 25.4 * PNG_DPI), int(297 / 25.4 * PNG_DPI))


@pytest.mark.parametrize("scope", [WHOLE_PROVINCE, Scope(JINING), Scope(RENCHENG)], ids=["province", "city", "county"])
def test_every_text_lies_inside_the_page(golden_url: str, scope: Scope) -> None:  # noqa: F811
    facts = brief_facts(sa.create_engine(golden_url), H1, scope=scope)
    with cjk_style():
        fig = brief_figure(facts)
        canvas = FigureCanvasAgg(fig)  # the renderer the PNG is drawn by
        canvas.draw()
        renderer = canvas.get_renderer()
        page = fig.bbox
        hidden = {id(label) for ax in fig.axes if not ax.axison  # the tick labels of an axes drawn without axes
                  for axis in (ax.xaxis, ax.yaxis) for label in axis.get_ticklabels(which="both")}
        for text in fig.findobj(Text):
            if text.get_visible() and text.get_text() and id(text) not in hidden:
                box = text.get_window_extent(renderer)
                assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, text.get_text()


def test_a_county_brief_has_no_ranking_and_names_no_other_county(golden_url: str, tmp_path: Path) -> None:  # noqa: F811
    facts = brief_facts(sa.create_engine(golden_url), H1, scope=Scope(RENCHENG))
    text = pdf_text(brief_bytes(facts, PDF), tmp_path)
    assert "任城区信访举报督导简报" in text and "县级无下级单位排名" in text
    assert all(value in text for value in card_texts(facts))
    assert "兖州区" not in text and "济南市" not in text


# --- the 总览's button ------------------------------------------------------------------------------

def test_the_overview_button_builds_the_brief_of_the_cards_shown_and_records_it(golden_url: str,  # noqa: F811
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    built: list[tuple[str, object]] = []
    real = pages.overview.recorded_download

    def spy(make, file_name):
        build = real(make, file_name)
        built.append((file_name, build))
        return build

    monkeypatch.setattr(pages.overview, "recorded_download", spy)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(H1_PARAMS)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [name for name, _ in built] == ["督导简报_山东省_20240101-20240630.pdf", "督导简报_山东省_20240101-20240630.png"]
    engine = sa.create_engine(golden_url)
    before = len(recent(engine, 100_000))
    text = pdf_text(built[0][1](), tmp_path)
    rows = recent(engine, 100_000)
    assert len(rows) == before + 1
    assert (rows["action"][0], rows["detail"][0]) == (AuditAction.DOWNLOAD.value, f"下载 {built[0][0]}")
    shown = metrics_shown(at)
    assert len(shown) == len(HEADLINE_METRICS)
    for label, value in shown.items():  # every card of the page, label and value, is on the sheet
        assert label in text and value in text, (label, value)
    strip = next(m.value for m in at.markdown if "三色预警" in m.value)
    for count in re.findall(r"([\d,]+) 件\]", strip):
        assert f"{count} 件" in text
    assert Image.open(io.BytesIO(built[1][1]())).size == A4_PX


# --- the command line -----------------------------------------------------------------------------

def run_cli(golden_url: str, *args: str) -> int:  # noqa: F811
    return reports_cli.main(["brief", "--db", golden_url, *args], out=io.StringIO())


def test_the_cli_writes_the_brief_of_a_region_for_the_sidebar_s_period(golden_url: str, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "济宁.pdf"
    assert run_cli(golden_url, "--as-of", "2024-06-30", "--from", "2024-01-01", "--to", "2024-06-30", "--region", JINING,
                   "--out", str(out)) == 0
    facts = brief_facts(sa.create_engine(golden_url), H1, scope=Scope(JINING))
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "济宁市信访举报督导简报" in text and all(value in text for value in card_texts(facts))
    # the dashboard's default period: 上周 at the 截止日期 (2024-06-17 .. 23, read as of its Sunday)
    week = brief_facts(sa.create_engine(golden_url), Period(dt.date(2024, 6, 17), dt.date(2024, 6, 23)),
                       scope=WHOLE_PROVINCE, priority_as_of=dt.date(2024, 6, 30))
    for suffix in (".png", ".pdf"):
        assert run_cli(golden_url, "--as-of", "2024-06-30", "--out", str(tmp_path / f"上周{suffix}")) == 0
    assert Image.open(tmp_path / "上周.png").size == A4_PX
    text = pdf_text((tmp_path / "上周.pdf").read_bytes(), tmp_path)
    assert "2024-06-17 至 2024-06-23" in text and all(value in text for value in card_texts(week))


@pytest.mark.parametrize(("args", "reason"), [
    (["--as-of", "2024-06-30", "--region", "379999", "--out", "x.pdf"], "地区代码 379999 不在地区参考表中"),
    (["--as-of", "2024-06-30", "--out", "x.docx"], "输出文件应以 .pdf 或 .png 结尾"),
    (["--as-of", "2024-06-30", "--from", "2024-01-01", "--out", "x.pdf"], "--from 与 --to 须同时给出"),
    (["--as-of", "2024-06-30", "--from", "2024-06-30", "--to", "2024-01-01", "--out", "x.pdf"], "早于 --from"),
], ids=["unknown_region", "file_type", "half_a_period", "reversed_period"])
def test_the_cli_refuses_bad_input_in_chinese(golden_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                              args: list[str], reason: str) -> None:
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    assert run_cli(golden_url, *args) == reports_cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert reason in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_cli_refuses_a_date_that_is_not_one(golden_url: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    with pytest.raises(SystemExit) as exit_:
        run_cli(golden_url, "--as-of", "2024-06-31", "--out", "x.pdf")
    assert exit_.value.code == 2
    assert "日期应为 YYYY-MM-DD" in capsys.readouterr().err

