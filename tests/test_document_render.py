"""Every kind of Word document the dashboard issues, rendered as it would be printed: written by the official-document
writer on a demo province (DuckDB), converted by LibreOffice (headless) to PDF, read back with poppler (pdftotext's
boxes for text and geometry, pdftoppm at 100 dpi for colour; the PNGs land in test-artifacts/documents/<kind>/).

Checked on each: the 发文机关标志 is red, every page carries its number as “— n —”, a full body line of Han
characters holds 28 of them, no table row stands alone on a page, the 署名 is centred over the 成文日期 four
characters in from the right and shares its page with body text, the title breaks only between its phrases, and
the file's properties name the issuing office. Kinds: the 12388 pack (the summary, the city 通报 with the longest
来电清单, a point-to-point 通报), the weekly 通报, the 形势分析报告, the 督办通知单, and the 专项治理's 交办函 to a
city and a matter's 一案一档.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa

from data_access.demo.loading import load_demo
from data_access.identity import audit
from data_access.identity.auth import Identity, Role
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.supervision import campaign
from data_access.supervision.document_register import issue
from data_access.supervision.hotline_settings import DEFAULT_HOTLINE_SETTINGS
from metrics.analysis import analysis_facts
from metrics.campaign import read_matters
from metrics.campaign_week import CityLetter, MatterDossier, city_letter, matter_dossier
from metrics.hotline import monthly_facts
from metrics.matters import repeat_matters
from metrics.request import Period
from metrics.weekly import weekly_report
from presentation.bulletin import bulletin_draft, bulletin_title_parts
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS, Issuance
from presentation.format import cn_date
from presentation.situation import report_draft, report_title_parts
from reports.analysis_report import build_analysis_report
from reports.bulletin_doc import build_bulletin_document
from reports.campaign_docs import LETTER_TITLE, build_dossier, build_letter, letter_draft
from reports.docx_form import TEXT_WIDTH_PT, TITLE_PT, em_width, title_lines
from reports.monthly import (
    city_notice_title_parts,
    county_notice_title_parts,
    issue_monthly_pack,
    pack_dates,
    province_summary_title_parts,
)
from reports.notice import NoticeFacts, build_notice
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                reason="LibreOffice / poppler-utils not installed (scripts/test.sh installs them)")

ARTIFACTS = REPO_ROOT / "test-artifacts" / "documents"
END, DATED = dt.date(2026, 11, 20), dt.date(2026, 12, 7)
CAMPAIGN_DAY = dt.date(2026, 11, 16)  # the 专项治理's matters enrolled, assigned and noted on
DOSSIER_TITLE = ("越级重复举报专项治理", "一案一档")
PT_PER_MM = 72 / 25.4
LEFT_PT, RIGHT_PT = 28 * PT_PER_MM, (210 - 26) * PT_PER_MM  # the 版心's edges on the page
BODY_CHAR_PT = 16 - 0.4  # a body character: 三号, condensed 0.4 pt
HAN = re.compile(r"^[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+$")


@dataclass(frozen=True)
class Line:
    """One line of a rendered page: its text (spaces dropped) and box in points."""

    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Rendered:
    """A document as LibreOffice printed it."""

    kind: str
    docx_bytes: bytes
    lines: tuple[Line, ...]
    pages: int
    pngs: tuple[Path, ...]
    title: tuple[str, ...]
    issuer: str
    dated: dt.date

    def on(self, page: int) -> list[Line]:
        return [line for line in self.lines if line.page == page]


def render(kind: str, content: bytes, title: tuple[str, ...], issuer: str, dated: dt.date, work: Path) -> Rendered:
    """Write, convert to PDF, read the lines' boxes and draw each page at 100 dpi into test-artifacts/documents/kind."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"{kind}.docx"
    path.write_bytes(content)
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{work}/lo", "--headless", "--convert-to", "pdf",
                           "--outdir", str(work), str(path)], capture_output=True, text=True, timeout=240)
    pdf = path.with_suffix(".pdf")
    assert pdf.is_file(), done.stderr
    boxes = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines, page = [], 0
    for tag in re.finditer(r"<page |<line xMin=\"([\d.]+)\" yMin=\"([\d.]+)\" xMax=\"([\d.]+)\" yMax=\"([\d.]+)\">(.*?)</line>",
                           boxes, re.S):
        if tag.group(0) == "<page ":
            page += 1
            continue
        words = re.findall(r"<word[^>]*>(.*?)</word>", tag.group(5), re.S)
        text = html.unescape("".join(words)).replace(" ", "")
        lines.append(Line(page, text, *(float(tag.group(i)) for i in range(1, 5))))
    out = ARTIFACTS / kind
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-png", "-r", "100", str(pdf), str(out / "page")], check=True, timeout=240)
    pngs = tuple(sorted(out.glob("page-*.png")))
    assert len(pngs) == page
    return Rendered(kind, content, tuple(lines), page, pngs, title, issuer, dated)


def demo_province(folder: Path, cases: int = 60_000) -> Iterator[sa.Engine]:
    """A demo province in DuckDB in `folder` (cases and 12388 complaints up to 2026-11-20), disposed after."""
    engine = make_engine(f"duckdb:///{folder / 'demo.duckdb'}")
    init_database(engine)
    load_demo(engine, cases, seed=7, end_date=END)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A demo province in DuckDB (cases and 12388 complaints up to 2026-11-20)."""
    yield from demo_province(tmp_path_factory.mktemp("documents"))


KINDS = ("summary", "city", "county", "weekly", "analysis", "notice", "letter", "dossier")


@pytest.fixture(scope="module")
def documents(engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Each kind issued (numbers from the register) and rendered."""
    work = tmp_path_factory.mktemp("rendered")
    settings = DEFAULT_DOCUMENT_SETTINGS
    issuer = settings.issuer("全省")
    out: dict[str, Rendered] = {}
    facts = monthly_facts(engine, "2026-10", scope=WHOLE_PROVINCE)
    dates = pack_dates(DATED, settings)
    pack, _, _, _ = issue_monthly_pack(engine, audit.PROGRAM_ACTOR, facts, dates, documents=settings,
                                       hotline_settings=DEFAULT_HOTLINE_SETTINGS, write=lambda pack: None)
    files = dict(pack.files)
    busiest = max(facts.city_notices, key=lambda n: len(n.complaints))
    out["summary"] = render("summary", files["12388月度汇总_2026-10.docx"], province_summary_title_parts(facts), issuer,
                            DATED, work)
    out["city"] = render("city", files[f"12388通报_2026-10_{busiest.name}.docx"], city_notice_title_parts(facts, busiest),
                         issuer, DATED, work)
    if facts.county_notices:
        county = max(facts.county_notices, key=lambda n: len(n.overdue_first))
        out["county"] = render("county", files[f"点对点通报_2026-10_{county.city_name}{county.name}.docx"],
                               county_notice_title_parts(facts, county), issuer, DATED, work)
    report = weekly_report(engine, dt.date(2026, 11, 15), scope=WHOLE_PROVINCE)
    due = settings.reply_due(DATED)
    (weekly,), _ = issue(engine, audit.PROGRAM_ACTOR, [bulletin_draft(report, settings, None, due)], DATED)
    out["weekly"] = render("weekly", build_bulletin_document(report, settings, Issuance(DATED, weekly.number, due)),
                           bulletin_title_parts(report), issuer, DATED, work)
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30), dt.date(2026, 6, 30))
    analysis = analysis_facts(engine, period, scope=WHOLE_PROVINCE)
    draft = report_draft(settings, analysis.region_code, analysis.region_name, analysis.region_level, period.start, period.end)
    (numbered,), _ = issue(engine, audit.PROGRAM_ACTOR, [draft], DATED)
    out["analysis"] = render("analysis", build_analysis_report(analysis, issuance=Issuance(DATED, numbered.number)),
                             report_title_parts(analysis.region_name, period.start, period.end), issuer, DATED, work)
    notice = NoticeFacts(number="鲁纪信督〔2026〕1号", issuer=issuer, recipient="济宁市任城区纪委监委", subject="case",
                         case_id="DEMO-00000427", title="件号DEMO-00000427超期12天未办结", reason="请立即督促办结，并书面反馈超期原因和"
                         "整改措施；对承办人员履职情况一并核查，于反馈时说明。", method="letter", opened_on=dt.date(2026, 12, 4),
                         reply_due=settings.reply_due(DATED), issued_on=DATED, copy_to=("济宁市纪委监委",))
    out["notice"] = render("notice", build_notice(notice), ("督办通知单",), issuer, DATED, work)
    letter, dossier = campaign_documents(engine)
    due = settings.reply_due(DATED)
    (numbered,), _ = issue(engine, audit.PROGRAM_ACTOR, [letter_draft(letter, settings, "全省", due)], DATED)
    out["letter"] = render("letter", build_letter(letter, settings, Issuance(DATED, numbered.number, due)), LETTER_TITLE,
                           issuer, DATED, work)
    out["dossier"] = render("dossier", build_dossier(dossier, settings, dated=DATED), DOSSIER_TITLE, issuer, DATED, work)
    return out


def campaign_documents(engine: sa.Engine) -> tuple[CityLetter, MatterDossier]:
    """The 专项治理 of the demo city with the most screened matters at CAMPAIGN_DAY: all of them enrolled by the province,
    the first assigned by the city and noted on by its county; that city's 交办函 and the first matter's 一案一档."""
    screened = [m for m in repeat_matters(engine, CAMPAIGN_DAY) if m.screened]
    city = Counter(m.county_code[:4] + "00" for m in screened).most_common(1)[0][0]
    mine = [m for m in screened if m.county_code.startswith(city[:4])]
    at = dt.datetime.combine(CAMPAIGN_DAY, dt.time(9))
    province = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
    ids = campaign.enrol_batch(engine, province, [m.matter for m in mine], deadline=dt.date(2026, 12, 31), as_of=CAMPAIGN_DAY,
                               screening=read_matters, now=at).ids
    first = mine[0]
    campaign.assign(engine, Identity("city", Role.CITY, city, "市纪委监委"), ids[first.matter], leader_name="王某某",
                    leader_post="区纪委书记", team="区纪委信访室、案件监督管理室、第一监督检查室",
                    plan="逐项核查反映问题，当面答复举报所涉单位负责人，两个月内化解到位", now=at + dt.timedelta(hours=1))
    campaign.note_progress(engine, Identity("county", Role.COUNTY, first.county_code, "县纪委监委"), ids[first.matter],
                           note="已召开专班会议，逐项核查反映问题，约谈有关单位负责人", now=at + dt.timedelta(days=1))
    letter = city_letter(engine, city, CAMPAIGN_DAY + dt.timedelta(days=1), scope=WHOLE_PROVINCE)
    dossier = matter_dossier(engine, ids[first.matter], CAMPAIGN_DAY + dt.timedelta(days=1), scope=WHOLE_PROVINCE)
    assert dossier is not None and len(letter.matters) == len(mine)
    return letter, dossier


@pytest.fixture(params=KINDS)
def rendered(request: pytest.FixtureRequest, documents: dict[str, Rendered]) -> Rendered:
    if request.param not in documents:
        pytest.skip(f"no {request.param} document in the demo month")
    return documents[request.param]


def test_the_masthead_and_its_rule_are_red(rendered: Rendered) -> None:
    import matplotlib.image

    pixels = matplotlib.image.imread(rendered.pngs[0])[..., :3]
    top = pixels[: pixels.shape[0] // 2]
    red = (top[..., 0] > 0.75) & (top[..., 1] < 0.45) & (top[..., 2] < 0.45)
    rows = red.any(axis=1).nonzero()[0]
    assert red.sum() > 2000, f"{rendered.kind}: {red.sum()} red pixels in the masthead"
    ruled = [r for r in rows if red[r].sum() > 0.8 * (RIGHT_PT - LEFT_PT) / 72 * 100]  # a red line across the 版心
    assert ruled, f"{rendered.kind}: no red separator line"
    first = rendered.on(1)
    assert first[0].text == rendered.issuer and first[0].height > 30  # the 发文机关标志, larger than the title


def test_every_page_is_numbered_dash_n_dash(rendered: Rendered) -> None:
    for page in range(1, rendered.pages + 1):
        numbers = [line for line in rendered.on(page) if re.fullmatch(r"—\d+—", line.text)]
        assert [line.text for line in numbers] == [f"—{page}—"], (rendered.kind, page)
        outside = numbers[0].x1 > 400 if page % 2 else numbers[0].x0 < 200  # odd pages at the right, even at the left
        assert outside, (rendered.kind, page, numbers[0])


def full_lines(rendered: Rendered) -> list[Line]:
    """Body lines of Han characters only that run from the left edge of the 版心 to its right edge."""
    return [line for line in rendered.lines if HAN.match(line.text) and abs(line.x0 - LEFT_PT) < 3
            and line.x1 > RIGHT_PT - BODY_CHAR_PT and 14 < line.height < 24]


def next_line(rendered: Rendered, line: Line) -> Line | None:
    """The line under `line` on its page (None at the foot of the page)."""
    below = [other for other in rendered.on(line.page) if other.y0 > line.y1 - 1]
    if not below:
        return None
    top = min(other.y0 for other in below)
    return min((other for other in below if other.y0 < top + 8), key=lambda other: other.x0)  # its first piece


def test_a_full_body_line_holds_28_characters(rendered: Rendered) -> None:
    """A line that breaks between two Han characters holds 28; one that ends early because what follows may not be
    split or may not begin a line (a number, a bracketed group, a mark such as ，。) holds 25 to 27."""
    def allowed(line: Line) -> bool:
        if len(line.text) == 28:
            return True
        following = next_line(rendered, line)
        head = following.text[:2] if following is not None else ""
        return 25 <= len(line.text) < 28 and any(not ("\u4e00" <= ch <= "\u9fff") for ch in head)

    lines = full_lines(rendered)
    assert all(allowed(line) for line in lines), [(line.page, line.text) for line in lines if not allowed(line)]
    assert sum(len(line.text) == 28 for line in lines) >= len(lines) / 2, rendered.kind
    if rendered.kind in ("city", "analysis", "weekly"):
        assert lines, f"{rendered.kind}: no full line of Han characters to count"


def test_lines_are_22_to_a_page(documents: dict[str, Rendered]) -> None:
    """Body lines are 28.95 pt apart: 22 to the 225 mm 版心."""
    gaps = [round(b.y0 - a.y0, 1) for r in documents.values() for a, b in zip(full_lines(r), full_lines(r)[1:], strict=False)
            if a.page == b.page and 20 < b.y0 - a.y0 < 35]
    assert gaps and all(abs(gap - 28.95) < 0.6 for gap in gaps), sorted(set(gaps))


def table_keys(content: bytes) -> list[list[str]]:
    """For each table of several rows, the values of a text column whose cells are all distinct (each row's key):
    the first such column (names, ids), the 版记 left out."""
    out = []
    for table in docx.Document(io.BytesIO(content)).tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
        if len(rows) < 2 or len(rows[0]) < 2:
            continue
        columns = [[row[c] for row in rows] for c in range(len(rows[0]))]
        unique = [col for col in columns if len(set(col)) == len(col) and all(re.search(r"[^\d.,%+\-—]", v) for v in col)]
        if unique:
            out.append(unique[0])
    return out


def test_no_table_row_stands_alone_on_a_page(rendered: Rendered) -> None:
    """Each row found in the table text (lines smaller than the body's 三号) on one page; no page holds one row alone."""
    cells = [line for line in rendered.lines if line.height < 18.5]
    for keys in table_keys(rendered.docx_bytes):
        pages: dict[int, int] = {}
        for key in keys:
            found = [line.page for line in cells if key.replace(" ", "") in line.text]
            if found:
                pages[found[0]] = pages.get(found[0], 0) + 1
        assert sum(pages.values()) == len(keys), (rendered.kind, len(keys), pages)  # every row printed
        assert all(n > 1 for n in pages.values()), (rendered.kind, pages)


def test_the_signature_is_centred_over_the_date_and_kept_with_the_text(rendered: Rendered) -> None:
    date = cn_date(rendered.dated).replace(" ", "")
    dated = [line for line in rendered.lines if line.text == date and line.x0 > 250]
    assert len(dated) == 1, (rendered.kind, date)
    date_line = dated[0]
    signer = [line for line in rendered.on(date_line.page) if line.text == rendered.issuer and line.y1 <= date_line.y0 + 1]
    assert signer, (rendered.kind, "no 署名 over the date")
    name = signer[-1]
    assert abs((name.x0 + name.x1) / 2 - (date_line.x0 + date_line.x1) / 2) < 3, (rendered.kind, name, date_line)
    # the date's right end four characters in from the right edge, for a date as wide as 仿宋_GB2312 sets it (its digits
    # half a character): the two are centred where such a date's centre falls, whatever the font drew here
    planned = em_width(date) * BODY_CHAR_PT
    assert abs(RIGHT_PT - 4 * BODY_CHAR_PT - planned / 2 - (date_line.x0 + date_line.x1) / 2) < 3, (rendered.kind, date_line)
    body = [line for line in rendered.on(date_line.page) if line.y1 < name.y0 and len(line.text) >= 8
            and not line.text.startswith("附件")]
    assert body, f"{rendered.kind}: the signature stands on page {date_line.page} without the text it signs"


def test_the_title_breaks_only_between_its_phrases(rendered: Rendered) -> None:
    expected = title_lines(rendered.title, TEXT_WIDTH_PT / TITLE_PT)
    first = [line.text for line in rendered.on(1)]
    found = [text for text in first if text in expected]
    assert found == expected, (rendered.kind, expected, first[:8])


def test_attachments_open_a_page_under_their_label(documents: dict[str, Rendered]) -> None:
    """附件说明 before the signature; each 附件 starts a page with its label at the top left and its title."""
    for kind, name in (("city", "来电清单"), ("notice", "督办事项办理情况回执")):
        rendered = documents[kind]
        said = [line for line in rendered.lines if line.text == f"附件：{name}"]
        signed = [line for line in rendered.lines if line.text == rendered.issuer and line.x0 > 250]
        assert said and signed and (said[0].page, said[0].y0) < (signed[0].page, signed[0].y0), kind
        opening = [page for page in range(1, rendered.pages + 1) if rendered.on(page)[0].text == "附件"]
        assert len(opening) == 1 and abs(rendered.on(opening[0])[0].x0 - LEFT_PT) < 3, kind
        assert any(line.text == name for line in rendered.on(opening[0])[1:3]), kind


def test_the_record_closes_the_document(rendered: Rendered) -> None:
    """The 版记 on the last page: 印发机关 and 印发日期 on one line (and 抄送 above them when there is one)."""
    last = rendered.on(rendered.pages)
    printed = f"{rendered.issuer}{cn_date(rendered.dated)}印发"
    dates = [line for line in last if line.text.endswith(f"{cn_date(rendered.dated)}印发")]
    assert len(dates) == 1, (rendered.kind, [line.text for line in last][-4:])
    row = "".join(line.text for line in sorted(last, key=lambda line: line.x0) if abs(line.y0 - dates[0].y0) < 3)
    assert row == printed and dates[0].x1 > RIGHT_PT - 2 * BODY_CHAR_PT, (rendered.kind, row)
    if rendered.kind in ("county", "notice"):
        assert any(line.text.startswith("抄送：") for line in last), rendered.kind


def test_the_properties_name_the_issuing_office(rendered: Rendered) -> None:
    props = docx.Document(io.BytesIO(rendered.docx_bytes)).core_properties
    assert props.author == rendered.issuer and props.last_modified_by == rendered.issuer
    assert props.title == "".join(rendered.title) and props.created.year >= 2026
    assert "python-docx" not in (props.author + props.comments + props.last_modified_by)
