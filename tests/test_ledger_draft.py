"""The default 反馈期限 of a new 督办 item (issue 29): for an open case not yet overdue (临期, yellow) it is on or
before the case's due date; otherwise the settings' working days from today. On every engine, and on the page."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from metrics.ledger_draft import clamped_reply_due, draft_reply_due
from metrics.settings import DEFAULT_SETTINGS
from presentation.format import plain_markdown
from tests.test_importer import case, csv_bytes

TODAY = dt.date(2024, 6, 28)
STANDARD = dt.date(2024, 7, 5)  # five working days on
OPEN = {"closed_date": "", "satisfaction": "", "result_notice_date": ""}


@pytest.mark.parametrize(("case_due", "expected"), [
    (None, STANDARD),  # a county item, or no such case
    (dt.date(2024, 7, 2), dt.date(2024, 7, 2)),  # yellow: due before the usual deadline
    (TODAY, TODAY),  # due today: reply today
    (dt.date(2024, 6, 27), STANDARD),  # red, already overdue: the usual period
    (dt.date(2024, 8, 30), STANDARD),  # green: the usual deadline comes first
])
def test_clamped_reply_due(case_due: dt.date | None, expected: dt.date) -> None:
    assert clamped_reply_due(STANDARD, case_due, TODAY) == expected


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    import_bytes(engine, csv_bytes([
        case("YELLOW", due_date="2024-07-02", **OPEN),
        case("RED", due_date="2024-06-20", **OPEN),
        case("CLOSED", due_date="2024-07-02", closed_date="2024-06-20", result_notice_date="2024-06-24"),
        case("NODUE", received_date="2024-05-01", due_date="", accepted_notice_date="", **OPEN),  # due 60 days on: 06-30
        case("QINGDAO", county_code="370212", due_date="2024-07-02", **OPEN),
    ]), "cases.csv", today=TODAY)
    return engine


@pytest.mark.parametrize(("case_id", "scope", "expected"), [
    ("YELLOW", WHOLE_PROVINCE, dt.date(2024, 7, 2)),
    ("NODUE", WHOLE_PROVINCE, dt.date(2024, 6, 30)),
    ("RED", WHOLE_PROVINCE, STANDARD),
    ("CLOSED", WHOLE_PROVINCE, STANDARD),
    ("MISSING", WHOLE_PROVINCE, STANDARD),
    (None, WHOLE_PROVINCE, STANDARD),
    ("QINGDAO", Scope("370200"), dt.date(2024, 7, 2)),
    ("QINGDAO", Scope("370100"), STANDARD),  # another city's case: nothing read from it
])
def test_draft_reply_due_of_a_case(db: sa.Engine, case_id: str | None, scope: Scope, expected: dt.date) -> None:
    assert DEFAULT_SETTINGS.default_due_days == 60
    assert draft_reply_due(db, case_id, TODAY, STANDARD, scope=scope) == expected


def test_the_ledger_form_drafts_a_yellow_case_due_by_its_due_date(tmp_path, monkeypatch) -> None:
    """督办台账 (AppTest, open mode): a link drafted for a case due in two days proposes that day, not five
    working days on; a link naming no county of the province is refused with its reason."""
    from streamlit.testing.v1 import AppTest

    from data_access.store.database import init_database
    from data_access.store.engine import make_engine
    from tests.apptest_support import switch_to
    from tests.conftest import REPO_ROOT

    today = dt.date.today()
    due = today + dt.timedelta(days=1)
    url = f"duckdb:///{tmp_path / 'draft.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    received = (today - dt.timedelta(days=3)).isoformat()
    import_bytes(engine, csv_bytes([case("Y-1", received_date=received, due_date=due.isoformat(), accepted_notice_date="",
                                         **OPEN)]), "cases.csv")
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"new": "1", "county": "370102", "case": "Y-1", "title": "件号 Y-1 临期"})
    at.run()
    switch_to(at, "ledger").run()
    assert not at.exception and not at.error
    (deadline,) = [d for d in at.date_input if d.label == "反馈期限"]
    assert deadline.value == due
    crafted = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    link = "[x](http://e.cn)"  # shown literally, never as a link
    crafted.query_params.update({"new": "1", "county": link, "title": "x"})
    crafted.run()
    switch_to(crafted, "ledger").run()
    assert [e.value for e in crafted.error] == [f"链接中的县（区）{plain_markdown(link)} 不是本省的县（市、区），未打开。"]
    assert plain_markdown(link).startswith("\\[x\\]")
