"""The 周例会's per-county overdue stock (issue 32) and the 已挂账 flag of every case list.

The metric is checked against the overdue ledger itself (metrics.caselists.overdue_cases) on the golden
cases, on every engine; the 督办 items are written inside a transaction that is rolled back, so the
golden database stays as it was.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from pptx import Presentation
from streamlit.testing.v1 import AppTest

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import supervision_items
from data_access.supervision.ledger import Status
from metrics.caselists import case_list, county_overdue_stock, overdue_cases
from metrics.request import CaseFilter, Period
from metrics.warnings import deadline_warnings
from metrics.weekly import STOCK_COUNTIES, Section, WeeklyReport, weekly_report
from reports.deck import build_deck, overdue_stock_title
from reports.workbook import OVERDUE_SHEET, OVERDUE_STOCK_SHEET, build_workbook
from tests.apptest_support import switch_to
from tests.conftest import GOLDEN_CASES, REPO_ROOT
from tests.test_pages import CUSTOM

APP = REPO_ROOT / "app.py"
SUNDAY, LAST_SUNDAY = dt.date(2024, 6, 30), dt.date(2024, 6, 23)
FIRST_ONLY = CaseFilter(first_report_only=True)


def per_county(ledger: pd.DataFrame) -> dict[str, int]:
    """Overdue first reports per county, counted from the ledger's rows."""
    first = ledger[ledger["is_first_report"].astype(bool)]
    return {str(k): int(v) for k, v in first.groupby("county_code").size().items()}


def add_item(conn: sa.Connection, case: pd.Series, status: Status) -> None:
    """A 督办 item about one case, in the given status."""
    conn.execute(supervision_items.insert().values(
        id=f"t{case['case_id']}{status.value}"[:32], subject="case", case_id=case["case_id"],
        county_code=case["county_code"], title="测试督办", reason="测试", method="phone", reply_due=SUNDAY,
        status=status.value, opened_by="test", opened_scope="", opened_at=dt.datetime(2024, 6, 25, 9)))


@pytest.fixture
def supervised(golden_engine: sa.Engine) -> Iterator[tuple[sa.Connection, set[str]]]:
    """A connection on the golden cases with three items — open, replied (both 挂账) and closed (销号) — on the
    three most overdue first reports of the biggest county's stock; the case ids still under 督办. Rolled back."""
    with golden_engine.connect() as conn:
        trans = conn.begin()
        ledger = overdue_cases(conn, SUNDAY, scope=WHOLE_PROVINCE, filters=FIRST_ONLY)
        top = ledger["county_code"].value_counts().index[0]
        mine = ledger[ledger["county_code"] == top].head(3)
        for (_, case), status in zip(mine.iterrows(), (Status.OPEN, Status.REPLIED, Status.CLOSED), strict=True):
            add_item(conn, case, status)
        try:
            yield conn, set(mine["case_id"].iloc[:2])
        finally:
            trans.rollback()


def test_stock_is_the_overdue_ledger_by_county(golden_engine: sa.Engine) -> None:
    stock = county_overdue_stock(golden_engine, SUNDAY, LAST_SUNDAY, scope=WHOLE_PROVINCE)
    now = per_county(overdue_cases(golden_engine, SUNDAY, scope=WHOLE_PROVINCE))
    before = per_county(overdue_cases(golden_engine, LAST_SUNDAY, scope=WHOLE_PROVINCE))
    assert dict(zip(stock["county_code"], stock["overdue"], strict=True)) == {c: now.get(c, 0) for c in now | before}
    assert dict(zip(stock["county_code"], stock["overdue_before"], strict=True)) == {c: before.get(c, 0)
                                                                                     for c in now | before}
    assert (stock["overdue_change"] == stock["overdue"] - stock["overdue_before"]).all()
    assert (stock["supervised"] == 0).all()  # no 督办 item on the golden cases
    # the real values of the golden week: 88 overdue first reports in 54 counties, 3 more than last Sunday
    assert (int(stock["overdue"].sum()), int((stock["overdue"] > 0).sum()), int(stock["overdue_change"].sum())) == (88, 54, 3)
    assert list(stock["overdue"]) == sorted(stock["overdue"], reverse=True)
    assert stock.iloc[0]["county_name"] == "嘉祥县" and stock.iloc[0]["overdue"] == 6


def test_supervised_cases_are_counted_and_flagged(supervised: tuple[sa.Connection, set[str]]) -> None:
    conn, under = supervised
    stock = county_overdue_stock(conn, SUNDAY, LAST_SUNDAY, scope=WHOLE_PROVINCE)
    assert int(stock["supervised"].sum()) == 2  # the closed (销号) item does not count
    county = overdue_cases(conn, SUNDAY, scope=WHOLE_PROVINCE)
    assert county["supervised"].dtype == bool
    assert set(county.loc[county["supervised"], "case_id"]) == under
    code = str(county.loc[county["case_id"].isin(under), "county_code"].iloc[0])
    assert stock.set_index("county_code").at[code, "supervised"] == 2
    listed = case_list(conn, code, Period(dt.date(2024, 6, 1), SUNDAY, SUNDAY), scope=WHOLE_PROVINCE, limit=None)
    assert set(listed.loc[listed["supervised"], "case_id"]) == under
    warned = deadline_warnings(conn, SUNDAY, scope=WHOLE_PROVINCE, colours=("red",))
    assert set(warned.loc[warned["supervised"], "case_id"]) == under


def test_a_city_sees_its_own_counties(golden_engine: sa.Engine) -> None:
    stock = county_overdue_stock(golden_engine, SUNDAY, LAST_SUNDAY, scope=Scope("370800"))
    assert not stock.empty and set(stock["city_code"]) == {"370800"}


@pytest.fixture
def report(supervised: tuple[sa.Connection, set[str]]) -> WeeklyReport:
    """The golden week's report with the items above."""
    return weekly_report(supervised[0], SUNDAY, scope=WHOLE_PROVINCE)


def test_deck_and_workbook_show_the_stock(report: WeeklyReport) -> None:
    assert report.overdue_stock_totals == (88, 3, 2)
    deck = Presentation(io.BytesIO(build_deck(report)))
    slide = next(s for s in deck.slides if any(sh.has_text_frame and sh.text_frame.text == overdue_stock_title(report)
                                              for sh in s.shapes))
    assert overdue_stock_title(report) == "超期未办结初次举报 88 件（54 个县（市、区）），较上周末增 3 件，已挂账督办 2 件"
    rows = [[c.text for c in row.cells] for sh in slide.shapes if sh.has_table for row in sh.table.rows]
    assert rows[0] == ["县（市、区）", "所属市", "超期未办结初次举报", "较上周末", "已挂账督办"]
    top = report.overdue_stock.head(STOCK_COUNTIES)
    assert [(r[0], r[2], r[4]) for r in rows[1:]] == [(n, str(o), str(s)) for n, o, s in
                                                      zip(top["county_name"], top["overdue"], top["supervised"], strict=True)]
    assert len(rows) == 1 + STOCK_COUNTIES and "2" in {r[4] for r in rows[1:]}
    text = "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    assert "另有 46 个县（市、区）共" in text and "各县超期初次举报" in text

    wb = openpyxl.load_workbook(io.BytesIO(build_workbook(report)))
    sheet = list(wb[OVERDUE_STOCK_SHEET].iter_rows(values_only=True))
    assert sheet[0] == ("县（市、区）", "所属市", "超期未办结初次举报", "上周末", "较上周末", "其中已挂账督办")
    assert [(r[0], r[2], r[5]) for r in sheet[1:]] == list(zip(report.overdue_stock["county_name"],
                                                               report.overdue_stock["overdue"],
                                                               report.overdue_stock["supervised"], strict=True))
    cases = list(wb[OVERDUE_SHEET].iter_rows(values_only=True))
    flag = cases[0].index("已挂账")
    assert sum(row[flag] == "是" for row in cases[1:]) == 2


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, set[str]]]:
    """A DuckDB file with the golden cases and 督办 items on two overdue first reports (one 挂账, one 销号);
    DATABASE_URL points at it. Yields the url and the case id under 督办."""
    url = f"duckdb:///{tmp_path_factory.mktemp('stock_pages') / 'golden.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    ledger = overdue_cases(engine, SUNDAY, scope=WHOLE_PROVINCE, filters=FIRST_ONLY)
    with engine.begin() as conn:
        add_item(conn, ledger.iloc[0], Status.OPEN)
        add_item(conn, ledger.iloc[1], Status.CLOSED)
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield url, {str(ledger.iloc[0]["case_id"])}


def open_page(page: str, **params: str) -> AppTest:
    """The app at the golden Sunday, then `page`."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"period": CUSTOM, "asof": SUNDAY.isoformat(), "from": "2024-06-01", "to": SUNDAY.isoformat()})
    at.run()
    at.query_params.update(params)
    switch_to(at, page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page with `column`."""
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def test_overdue_page_marks_supervised_cases(page_db: tuple[str, set[str]]) -> None:
    at = open_page("overdue")
    cases = frame_with(at, "超期区间")
    assert set(cases.loc[cases["已挂账"] == "是", "件号"]) == page_db[1]
    assert (cases["已挂账"] == "否").sum() == len(cases) - 1


def test_weekly_page_shows_the_stock(page_db: tuple[str, set[str]]) -> None:
    at = open_page("weekly", section=Section.OVERDUE.label)
    assert at.header[0].value == Section.OVERDUE.label
    stock = frame_with(at, "其中已挂账督办")
    assert int(stock["超期未办结初次举报"].sum()) == 88 and int(stock["其中已挂账督办"].sum()) == 1
    assert list(stock["超期未办结初次举报"]) == sorted(stock["超期未办结初次举报"], reverse=True)
    assert (stock["较上周末"] == stock["超期未办结初次举报"] - stock["上周末"]).all()
    title = "**超期未办结初次举报 88 件（54 个县（市、区）），较上周末增 3 件，已挂账督办 1 件**"
    assert title in [m.value for m in at.markdown]


def test_stepping_sections_logs_no_warning(page_db: tuple[str, set[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """上一页/下一页 set the section in Session State; the control then must not be given a default too
    (Streamlit logged a warning with a stack trace on every step)."""
    from streamlit.elements.lib import policies

    logged: list[str] = []
    monkeypatch.setattr(policies.runtime, "exists", lambda: True)  # AppTest has no Runtime: the check is skipped
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda message, *args, **kwargs: logged.append(message % args))
    at = open_page("weekly")
    at.button(key="next_section").click().run()
    assert at.header[0].value == "各市按期办结率排名"
    at.button(key="prev_section").click().run()
    assert at.header[0].value == Section.KPIS.label
    assert not [m for m in logged if "default value" in m], logged


def test_county_case_list_marks_supervised_cases(page_db: tuple[str, set[str]]) -> None:
    url, under = page_db
    engine = make_engine(url)
    try:
        county = str(overdue_cases(engine, SUNDAY, scope=WHOLE_PROVINCE).set_index("case_id").at[next(iter(under)),
                                                                                                "county_code"])
    finally:
        engine.dispose()
    at = open_page("drilldown", region=county)
    cases = frame_with(at, "三色预警")
    assert set(cases.loc[cases["已挂账"] == "是", "件号"]) == under
