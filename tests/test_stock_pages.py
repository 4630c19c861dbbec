"""Stock pages read at the sidebar's 截止日期, whatever the period (issue 26, item 8).

超期督办, its 临期预警 and the 督办台账 show the stock as of the 截止日期 and say so; with the default period 上周
they used to read it at last Sunday, so a case due since read 临期 ("0 天，今日到期") while it was overdue on
the day the sidebar names. The cases here are dated from today, the last one received today, so the
sidebar's 截止日期 opens on today as it does for a supervisor.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_access.identity.auth import Identity, Role
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports.importer import import_bytes
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import supervision_events, supervision_items
from data_access.supervision import ledger
from data_access.supervision.ledger import Method
from metrics.periods import Preset, preset_period
from presentation.format import cn_date, falls_due
from tests.apptest_support import switch_to
from tests.conftest import REPO_ROOT
from tests.test_importer import case, csv_bytes

APP = REPO_ROOT / "app.py"
TIMEOUT = 60
LIXIA = "370102"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
TODAY = dt.date.today()
LAST_SUNDAY = preset_period(Preset.LAST_WEEK, TODAY).as_of_date  # where the default period 上周 ends


def open_case(case_id: str, due: dt.date, received: dt.date | None = None) -> dict[str, str]:
    """An open, unrated accusation case of 历下区 due on `due`."""
    return case(case_id, county_code=LIXIA, received_date=str(received or TODAY - dt.timedelta(days=70)),
                due_date=str(due), closed_date="", satisfaction="", accepted_notice_date="", result_notice_date="")


CASES = {  # case id -> due date
    "DUE-LAST-SUNDAY": LAST_SUNDAY,  # 临期, 0 working days left, at last Sunday; overdue today
    "DUE-YESTERDAY": TODAY - dt.timedelta(days=1),  # overdue today (on a Monday: last Sunday too)
    "DUE-TODAY": TODAY,
    "DUE-IN-3-DAYS": TODAY + dt.timedelta(days=3),  # within 5 working days on any weekday
}


@pytest.fixture(scope="module")
def stock_db(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """A DuckDB file with the cases above and one received today; DATABASE_URL points at it."""
    url = f"duckdb:///{Path(tmp_path_factory.mktemp('stock')) / 'stock.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    rows = [open_case(i, due) for i, due in CASES.items()]
    rows.append(open_case("RECEIVED-TODAY", TODAY + dt.timedelta(days=60), received=TODAY))
    import_bytes(engine, csv_bytes(rows), "cases.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield engine
    engine.dispose()


def open_page(page: str, **params: str) -> AppTest:
    """The app as a first visit opens it (the default period, unless `params` say otherwise), then `page`."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    switch_to(at, page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def test_the_default_view_is_last_week_with_todays_date(stock_db: sa.Engine) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.selectbox(key="w_period").value == Preset.LAST_WEEK.value
    assert at.date_input(key="w_asof").value == TODAY


def test_the_overdue_page_reads_the_stock_at_the_sidebar_date(stock_db: sa.Engine) -> None:
    at = open_page("overdue")
    overdue = table_with(at, "超期天数")
    assert sorted(overdue["件号"]) == ["DUE-LAST-SUNDAY", "DUE-YESTERDAY"]
    days = dict(zip(overdue["件号"], overdue["超期天数"], strict=True))
    assert days["DUE-LAST-SUNDAY"] == (TODAY - LAST_SUNDAY).days and days["DUE-YESTERDAY"] == 1
    assert {m.label: m.value for m in at.metric}["超期未办结"] == "2"
    assert any(f"存量按截止日期 {cn_date(TODAY)} 计" in c.value for c in at.caption)


def test_the_yellow_list_never_says_due_today_for_an_overdue_case(stock_db: sa.Engine) -> None:
    at = open_page("overdue")
    yellow = table_with(at, "剩余工作日")
    assert list(yellow["件号"]) == ["DUE-TODAY", "DUE-IN-3-DAYS"]  # the cases overdue today are not 临期
    assert list(yellow["到期时间"]) == ["今日到期", "3 天后到期"]
    assert any(f"自截止日期 {TODAY:%Y-%m-%d} 起算" in m.value for m in at.markdown)


def test_a_chosen_date_moves_the_stock_and_says_so_in_the_words(stock_db: sa.Engine) -> None:
    """截止日期 set to last Sunday: the case due that day is 临期 on the day itself, not today."""
    at = open_page("overdue", period=Preset.THIS_WEEK.value, asof=str(LAST_SUNDAY))
    assert any(f"存量按截止日期 {cn_date(LAST_SUNDAY)} 计" in c.value for c in at.caption)
    yellow = table_with(at, "剩余工作日")
    words = dict(zip(yellow["件号"], yellow["到期时间"], strict=True))
    assert words["DUE-LAST-SUNDAY"] == "截止日期当日到期"  # last Sunday is never today
    assert "今日到期" not in words.values()


def test_the_ledger_counts_late_replies_at_the_sidebar_date(stock_db: sa.Engine) -> None:
    with stock_db.begin() as conn:
        conn.execute(supervision_events.delete())
        conn.execute(supervision_items.delete())
    opened = dt.datetime.combine(TODAY - dt.timedelta(days=20), dt.time(9, 30))
    ledger.open_item(stock_db, PROVINCE, county_code=LIXIA, title="初次举报超期未办结 2 件", reason="请于期限内办结并书面反馈",
                     method=Method.PHONE, reply_due=TODAY - dt.timedelta(days=5), now=opened)
    today = {m.label: m.value for m in open_page("ledger").metric}
    assert today["逾期未反馈"] == "1 项"
    earlier = TODAY - dt.timedelta(days=10)  # before its reply was due
    at = open_page("ledger", asof=str(earlier))
    assert {m.label: m.value for m in at.metric}["逾期未反馈"] == "0 项"
    assert any(f"存量按截止日期 {cn_date(earlier)} 计" in c.value for c in at.caption)
    (age,) = table_with(at, "已挂账天数")["已挂账天数"]
    assert age == 10
    with stock_db.connect() as conn:
        assert ledger.standing(conn, WHOLE_PROVINCE, earlier).overdue_replies == 0


@pytest.mark.parametrize(("due", "as_of", "words"), [
    (dt.date(2026, 12, 6), dt.date(2026, 12, 6), "今日到期"),
    (dt.date(2026, 12, 9), dt.date(2026, 12, 6), "3 天后到期"),
    (dt.date(2026, 12, 5), dt.date(2026, 12, 6), "已超期 1 天"),
    (dt.date(2026, 11, 29), dt.date(2026, 11, 29), "截止日期当日到期"),
    (dt.date(2026, 12, 5), dt.date(2026, 12, 4), "截止日期后 1 天到期"),  # a Saturday: 0 working days, not 今日
])
def test_falls_due_counts_from_the_as_of_date(due: dt.date, as_of: dt.date, words: str) -> None:
    assert falls_due(due, as_of, today=dt.date(2026, 12, 6)) == words
