"""形势分析's own period choice (issue 32): 上半年, 下半年, 全年 of a year or 近12个月, opening on the last complete
half-year at the sidebar's 截止日期."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports.importer import import_file
from data_access.reference.enums import Level
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from metrics.periods import Span, last_complete_half, span_period
from metrics.request import Period
from metrics.trends import TrendBy, trends
from tests.apptest_support import switch_to
from tests.conftest import GOLDEN_CASES, REPO_ROOT
from tests.test_pages import CUSTOM

APP = REPO_ROOT / "app.py"
D = dt.date


@pytest.mark.parametrize(("anchor", "span", "year"), [
    (D(2024, 6, 29), Span.SECOND_HALF, 2023), (D(2024, 6, 30), Span.FIRST_HALF, 2024),
    (D(2024, 12, 30), Span.FIRST_HALF, 2024), (D(2024, 12, 31), Span.SECOND_HALF, 2024),
    (D(2025, 1, 1), Span.SECOND_HALF, 2024)])
def test_last_complete_half(anchor: dt.date, span: Span, year: int) -> None:
    assert last_complete_half(anchor) == (span, year)


def test_spans() -> None:
    anchor = D(2024, 8, 15)
    assert span_period(Span.FIRST_HALF, 2024, anchor) == Period(D(2024, 1, 1), D(2024, 6, 30), D(2024, 6, 30))
    assert span_period(Span.SECOND_HALF, 2024, anchor) == Period(D(2024, 7, 1), D(2024, 12, 31), anchor)
    assert span_period(Span.FULL_YEAR, 2023, anchor) == Period(D(2023, 1, 1), D(2023, 12, 31), D(2023, 12, 31))
    assert span_period(Span.LAST_12_MONTHS, 1999, anchor) == Period(D(2023, 8, 16), anchor, anchor)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """A DuckDB file with the golden cases; DATABASE_URL points at it."""
    url = f"duckdb:///{tmp_path_factory.mktemp('analysis') / 'golden.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield engine
    engine.dispose()


def open_analysis(as_of: str, period: str = "last_week") -> AppTest:
    """形势分析 with the sidebar's 截止日期 `as_of` (and a sidebar period the page does not use)."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"period": period, "asof": as_of, "from": "2024-06-01", "to": as_of})
    at.run()
    switch_to(at, "analysis").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_window(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("本期 "))


@pytest.mark.parametrize("period", ["last_week", CUSTOM])
def test_opens_on_the_last_complete_half_year(golden: sa.Engine, period: str) -> None:
    at = open_analysis("2024-08-20", period)
    assert at.segmented_control(key="analysis_span").value == Span.FIRST_HALF.value
    assert at.selectbox(key="analysis_year").value == 2024
    assert shown_window(at).startswith("本期 2024-01-01 至 2024-06-30，与等长的上期 2023-07-03 至 2023-12-31")
    rows = trends(golden, Level.CITY, TrendBy.DOMAIN, Period(D(2024, 1, 1), D(2024, 6, 30), D(2024, 6, 30)),
                  scope=WHOLE_PROVINCE)
    assert len([m for m in at.markdown if m.value.startswith("**▲ 上升**")]) == int(rows["rising"].sum())
    assert "关于2024年上半年山东省信访举报形势的分析报告" in "".join(c.value for c in at.caption)


def test_every_span_can_be_chosen(golden: sa.Engine) -> None:
    at = open_analysis("2024-08-20")
    at.segmented_control(key="analysis_span").set_value(Span.FULL_YEAR.value).run()
    at.selectbox(key="analysis_year").set_value(2023).run()
    assert shown_window(at).startswith("本期 2023-01-01 至 2023-12-31")
    at.segmented_control(key="analysis_span").set_value(Span.SECOND_HALF.value).run()
    assert shown_window(at).startswith("本期 2023-07-01 至 2023-12-31")
    at.segmented_control(key="analysis_span").set_value(Span.LAST_12_MONTHS.value).run()
    assert shown_window(at).startswith("本期 2023-08-21 至 2024-08-20")
    assert at.selectbox(key="analysis_year").disabled


def test_a_span_not_yet_begun_says_so(golden: sa.Engine) -> None:
    at = open_analysis("2024-06-15")
    assert (at.segmented_control(key="analysis_span").value, at.selectbox(key="analysis_year").value) == ("h2", 2023)
    at.segmented_control(key="analysis_span").set_value(Span.SECOND_HALF.value).run()
    at.selectbox(key="analysis_year").set_value(2024).run()
    assert not at.exception and any("尚无数据" in i.value for i in at.info)
