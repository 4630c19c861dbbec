"""Every workbook the product writes is ready for paper and for the eye: A4 landscape, one page wide (as many
tall as it takes), the header row printed on every page and frozen on screen, whole-number counts shown
as whole numbers. Written on a demo province (DuckDB); one workbook also printed by LibreOffice to count
its pages (the weekly ledger once printed as 460 pages, two-column sheets split across pages)."""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl.worksheet.worksheet import Worksheet

from data_access.identity.scope import WHOLE_PROVINCE
from metrics.hotline import monthly_facts
from metrics.weekly import weekly_report
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS
from presentation.spreadsheet import COUNT_FORMAT
from reports.import_template import GUIDE_SHEET, import_template_xlsx
from reports.ledger_book import build_ledger_workbook
from reports.monthly import build_province_ledger
from reports.workbook import build_workbook
from tests.test_document_render import demo_province


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A demo province in DuckDB (cases and 12388 complaints up to 2026-11-20)."""
    yield from demo_province(tmp_path_factory.mktemp("workbooks"), 30_000)


@pytest.fixture(scope="module")
def workbooks(engine: sa.Engine) -> dict[str, bytes]:
    """Each workbook the product writes, by name."""
    report = weekly_report(engine, dt.date(2026, 11, 15), scope=WHOLE_PROVINCE)
    items = pd.DataFrame({"督办事项": ["初次举报超期未办结 3 件"], "挂账天数": [12], "反馈期限": [dt.date(2026, 11, 30)]})
    steps = pd.DataFrame({"序号": [1, 2], "步骤": ["挂账", "反馈"], "说明": ["请于期限内办结", "已整改"]})
    return {"weekly": build_workbook(report), "ledger": build_ledger_workbook(items, steps),
            "monthly": build_province_ledger(monthly_facts(engine, "2026-10", scope=WHOLE_PROVINCE),
                                             DEFAULT_DOCUMENT_SETTINGS.issuer("全省")),
            "template": import_template_xlsx()}


def header_row(ws: Worksheet) -> int:
    return int(str(ws.print_title_rows).split(":")[0].lstrip("$"))


@pytest.mark.parametrize("name", ["weekly", "ledger", "monthly", "template"])
def test_every_sheet_prints_landscape_one_page_wide_with_its_header_on_each_page(workbooks: dict[str, bytes],
                                                                                   name: str) -> None:
    book = openpyxl.load_workbook(io.BytesIO(workbooks[name]))
    for ws in book.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", (name, ws.title)
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), (name, ws.title)
        assert ws.sheet_properties.pageSetUpPr.fitToPage, (name, ws.title)
        row = 1 if ws.title != GUIDE_SHEET else header_row(ws)
        assert ws.print_title_rows == f"${row}:${row}", (name, ws.title)
        assert ws.freeze_panes == f"A{row + 1}", (name, ws.title)


@pytest.mark.parametrize("name", ["weekly", "ledger", "monthly"])
def test_whole_number_counts_show_as_whole_numbers(workbooks: dict[str, bytes], name: str) -> None:
    book = openpyxl.load_workbook(io.BytesIO(workbooks[name]))
    counts = 0
    for ws in book.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, int) and not isinstance(cell.value, bool):
                    # a change on last week is signed: +0.0 (points), +#,##0 (cases)
                    signed = cell.number_format.startswith(("+0", "+#,##0"))
                    assert cell.number_format in (COUNT_FORMAT, "0") or "%" in cell.number_format or signed, (
                        name, ws.title, cell.coordinate, cell.number_format)
                    counts += cell.number_format == COUNT_FORMAT
                if isinstance(cell.value, float) and cell.value.is_integer() and cell.number_format == "General":
                    raise AssertionError(f"{name} {ws.title} {cell.coordinate}: {cell.value} shown as a float")
    assert counts


def test_the_weekly_ranking_shows_counts_as_counts(workbooks: dict[str, bytes]) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(workbooks["weekly"]))["各市排名"]
    headers = [c.value for c in ws[1]]
    for header in ("应办结件", "上周应办结件", "超期未办结", "办结件", "参评件"):
        cells = [row[headers.index(header)] for row in ws.iter_rows(min_row=2)]
        assert cells and all(c.number_format == COUNT_FORMAT for c in cells), header
    rates = [row[headers.index("按期办结率")] for row in ws.iter_rows(min_row=2)]
    assert all(c.number_format == "0.0%" for c in rates)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (scripts/test.sh installs it)")
def test_the_weekly_ledger_prints_on_few_pages(workbooks: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "weekly.xlsx"
    path.write_bytes(workbooks["weekly"])
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], capture_output=True, timeout=300, check=True)
    info = subprocess.run(["pdfinfo", str(path.with_suffix(".pdf"))], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    book = openpyxl.load_workbook(path)
    rows = sum(ws.max_row for ws in book.worksheets)
    assert pages <= len(book.worksheets) + rows // 25, (pages, rows)  # one page wide: a page holds 25 rows or more


@pytest.mark.parametrize("name", ["weekly", "ledger", "monthly", "template"])
def test_a_workbook_names_its_author_and_title(workbooks: dict[str, bytes], name: str) -> None:
    props = openpyxl.load_workbook(io.BytesIO(workbooks[name])).properties
    assert props.creator and props.creator != "openpyxl" and props.title, (name, props.creator, props.title)
    assert props.created is not None and props.created.year >= 2026
    if name in ("weekly", "monthly"):
        assert props.creator == "山东省纪委监委信访室"
