"""The 12388通报 page on a demo province (AppTest, open demo mode: the viewer is a province supervisor): the
page opens on the last complete month, the month's figures are metrics.hotline's whatever the sidebar's period,
the month-end 通报 marks exactly what its documents list (a late call included) and offers the pack, a feedback
of 属实 opens a supervision item, and 地区下钻 shows the 12388 calls per 100 cases."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
import sqlalchemy as sa
from apptest_support import switch_to
from streamlit.testing.v1 import AppTest

from data_access.demo.loading import load_demo
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import hotline_complaints, supervision_items
from data_access.supervision.hotline_import import import_complaints_bytes
from metrics.hotline import complaints_per_100, month_counts, notice_complaints
from metrics.request import Period
from pages.hotline import PACK_KEY
from tests.conftest import REPO_ROOT
from tests.test_importer import csv_bytes

APP = REPO_ROOT / "app.py"
TIMEOUT = 90
END = dt.date(2026, 11, 20)
PARAMS = {"asof": END.isoformat()}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("hotline") / "demo.duckdb"
    url = f"duckdb:///{path}"
    engine = make_engine(url)
    init_database(engine)
    load_demo(engine, 60_000, seed=11, end_date=END)
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield url


@pytest.fixture(scope="module")
def demo(demo_url: str) -> sa.Engine:
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


def open_hotline(params: dict[str, str] = PARAMS) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    switch_to(at, "hotline").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_the_month_reads_the_metrics_layer(demo_url: str, demo: sa.Engine) -> None:
    at = open_hotline()
    assert at.title[0].value == "12388 通报"
    assert at.selectbox(key="hotline_month").value == "2026-10"  # the last complete month at the sidebar's date
    at.selectbox(key="hotline_month").set_value("2026-09").run()
    counts = month_counts(demo, "2026-09", Level.CITY, scope=WHOLE_PROVINCE)
    assert metric(at, "2026年9月来电投诉") == f"{int(counts['complaints'].sum()):,} 件"
    assert metric(at, "逾期未反馈") == f"{int(counts['missing'].sum()):,} 件"
    answered, confirmed = int(counts["answered"].sum()), int(counts["confirmed"].sum())
    assert metric(at, "属实占比") == f"{confirmed / answered * 100:.1f}%"
    table = next(d.value for d in at.dataframe if "complaints" in d.value.columns)
    assert dict(zip(table["name"], table["complaints"], strict=True)) == dict(zip(counts["name"], counts["complaints"], strict=True))


def test_the_page_opens_on_the_last_complete_month(demo_url: str) -> None:
    """On Sunday 6 December (上周 reads as of 29 November) the page opens on November, and says so."""
    at = open_hotline({"asof": "2026-12-06"})
    assert at.selectbox(key="hotline_month").value == "2026-11"
    assert any("默认显示最近一个完整月份（截至 2026-12-06：2026年11月）" in c.value for c in at.caption)


@pytest.mark.parametrize("period", ["last_week", "this_week", "this_month"])
def test_a_months_count_does_not_depend_on_the_sidebar_period(demo_url: str, demo: sa.Engine, period: str) -> None:
    """November read with 上周 (9–15 Nov), 本周 (16–22 Nov, as of the 20th) or 本月: one count, its notice's."""
    at = open_hotline({**PARAMS, "period": period})
    at.selectbox(key="hotline_month").set_value("2026-11").run()
    assert not at.exception, [e.value for e in at.exception]
    listed = notice_complaints(demo, "2026-11", scope=WHOLE_PROVINCE)
    assert metric(at, "2026年11月来电投诉") == f"{len(listed):,} 件"
    assert any(h.value == f"来电清单（{len(listed)} 件）" for h in at.subheader)


def test_the_month_end_pack_marks_the_month_and_a_true_answer_opens_an_item(demo_url: str, demo: sa.Engine) -> None:
    # September was notified (the demo): a September call imported only now joins October's notice
    import_complaints_bytes(demo, csv_bytes([{"complaint_id": "LATE-9", "received_date": "2026-09-25",
                                              "county_code": "370811", "kind": "slow"}]), "late.csv", today=END)
    at = open_hotline()
    month = at.selectbox(key="hotline_month").value
    with demo.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(hotline_complaints)
                              .where(hotline_complaints.c.notified_month == month)).scalar_one()
        items_before = conn.execute(sa.select(sa.func.count()).select_from(supervision_items)).scalar_one()
    assert before == 0
    listed = notice_complaints(demo, month, scope=WHOLE_PROVINCE)
    assert listed.loc[listed["late"], "complaint_id"].tolist() == ["LATE-9"]
    at.button(key="hotline_pack").click().run()
    assert not at.exception, [e.value for e in at.exception]
    said = next(s.value for s in at.success if "已发文" in s.value)
    assert re.fullmatch(r"已发文 \d+ 个文件（文号：鲁纪信报〔\d{4}〕\d+号、.+）；本次标记已通报 \d+ 件来电。", said), said
    marked = int(re.search(r"本次标记已通报 (\d+) 件", said)[1])
    assert any(b.label == "下载本月通报（ZIP）" for b in at.get("download_button"))
    with demo.connect() as conn:
        notified = conn.execute(sa.select(hotline_complaints.c.complaint_id)
                                .where(hotline_complaints.c.notified_month == month)).scalars().all()
    # the message, the marks, the counts and every document's list: one number
    assert marked == len(notified) == len(listed) == int(month_counts(demo, month, Level.CITY, scope=WHOLE_PROVINCE)["complaints"].sum())
    with zipfile.ZipFile(io.BytesIO(at.session_state[PACK_KEY][1])) as pack:
        book = openpyxl.load_workbook(io.BytesIO(pack.read(f"12388月度台账_{month}.xlsx")))
        in_book = [row[0] for row in book["来电清单"].iter_rows(min_row=2, values_only=True)]
        in_cities = [row.cells[1].text for name in pack.namelist() if name.startswith(f"12388通报_{month}_")
                     for table in docx.Document(io.BytesIO(pack.read(name))).tables
                     if len(table.columns) > 1 and table.rows[0].cells[1].text == "来电编号"
                     for row in table.rows[1:]]
        headings = {p.text for name in pack.namelist() if name.startswith(f"12388通报_{month}_")
                    for p in docx.Document(io.BytesIO(pack.read(name))).paragraphs}
    assert sorted(in_book) == sorted(in_cities) == sorted(notified)
    # the page's city 通报 report the answers to last month's (September's, notified by the demo), as the CLI's do
    assert {"三、上月通报反馈和抽查情况", "四、存在问题"} <= headings
    picked = at.selectbox(key="hotline_feedback_pick").value
    at.radio(key="hotline_feedback_verdict").set_value("true")
    at.text_area(key="hotline_feedback_note").input("经核查，该件办理超期，已督促整改。")
    at.button(key="FormSubmitter:hotline_feedback-提交反馈").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with demo.connect() as conn:
        row = conn.execute(sa.select(hotline_complaints).where(hotline_complaints.c.complaint_id == picked)).one()
        items_after = conn.execute(sa.select(sa.func.count()).select_from(supervision_items)).scalar_one()
    assert row.feedback == "true" and row.supervision_item_id is not None and items_after == items_before + 1


def test_drilldown_shows_calls_per_100_cases(demo_url: str, demo: sa.Engine) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update({**PARAMS, "period": "custom", "from": "2026-01-01", "to": "2026-10-31"})
    at.run()
    at.query_params.update({"region": "370000"})
    switch_to(at, "drilldown").run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "per_100" in getattr(d.value, "columns", []))
    want = complaints_per_100(demo, Level.CITY, Period(dt.date(2026, 1, 1), dt.date(2026, 10, 31), END), scope=WHOLE_PROVINCE)
    got = dict(zip(table["code"], table["complaints"], strict=True))
    assert got == dict(zip(want["code"], want["complaints"], strict=True)) and sum(got.values()) > 0
