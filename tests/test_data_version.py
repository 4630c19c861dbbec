"""Every write of the app moves the data version the caches key on, in the writing transaction: ledger steps,
12388 steps and draws, imports, user changes. A refused write leaves it where it was. On every engine."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from data_access.identity import auth
from data_access.identity.auth import Identity, Role
from data_access.imports.importer import import_bytes
from data_access.imports.inventory import data_version
from data_access.reference.problems import DataRejected
from data_access.supervision import hotline, ledger
from data_access.supervision.ledger import LedgerRefused, Method, StaleStep
from tests.test_hotline import call, load
from tests.test_importer import case, csv_bytes

NOW = dt.datetime(2024, 6, 5, 9, 30)
RENCHENG = "370811"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, RENCHENG, "任城区纪委监委")
JINING_CITY = Identity("jining", Role.CITY, "370800", "济宁市纪委监委")


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG)]), "cases.csv")
    load(engine, [call("H-1"), call("H-2")])
    return engine


def moves(db: sa.Engine, write: Callable[[], object]) -> bool:
    before = data_version(db)
    write()
    return data_version(db) != before


def open_item(db: sa.Engine) -> str:
    return ledger.open_item(db, PROVINCE, county_code=RENCHENG, title="初次举报超期未办结 1 件", reason="请办结并反馈",
                            method=Method.PHONE, reply_due=dt.date(2024, 6, 20), now=NOW)


def test_each_ledger_step_moves_the_version(db: sa.Engine) -> None:
    item = open_item(db)
    assert moves(db, lambda: open_item(db))
    assert moves(db, lambda: ledger.reply(db, RENCHENG_COUNTY, item, note="已办结", now=NOW + dt.timedelta(days=1)))
    assert moves(db, lambda: ledger.send_back(db, PROVINCE, item, note="反馈不充分", now=NOW + dt.timedelta(days=2)))
    assert moves(db, lambda: ledger.reply(db, RENCHENG_COUNTY, item, note="已整改", now=NOW + dt.timedelta(days=3)))
    assert moves(db, lambda: ledger.close(db, PROVINCE, item, now=NOW + dt.timedelta(days=4)))


def test_a_refused_step_leaves_the_version(db: sa.Engine) -> None:
    item = open_item(db)
    before = data_version(db)
    with pytest.raises((LedgerRefused, StaleStep)):
        ledger.close(db, PROVINCE, item, now=NOW)  # not replied yet
    with pytest.raises(LedgerRefused):
        ledger.reply(db, RENCHENG_COUNTY, item, note="联系电话 13912345678", now=NOW)  # a phone number
    assert data_version(db) == before


def test_12388_steps_and_imports_move_the_version(db: sa.Engine) -> None:
    assert moves(db, lambda: hotline.mark_notified(db, PROVINCE, "2024-05", now=NOW))
    assert moves(db, lambda: hotline.record_feedback(db, JINING_CITY, "H-1", "untrue", "经核查，已按期办结", now=NOW))
    assert moves(db, lambda: load(db, [call("H-3")]))
    assert moves(db, lambda: import_bytes(db, csv_bytes([case("R-2", county_code=RENCHENG)]), "more.csv"))
    before = data_version(db)
    with pytest.raises(DataRejected):
        import_bytes(db, csv_bytes([case("R-2", county_code=RENCHENG)]), "again.csv")  # R-2 is stored
    assert data_version(db) == before


def test_user_changes_move_the_version(db: sa.Engine) -> None:
    assert moves(db, lambda: auth.add_user(db, "jining", "Jining-2024-pw", Role.CITY, "370800"))
    assert moves(db, lambda: auth.disable_user(db, "jining"))
    assert moves(db, lambda: auth.set_password(db, "jining", "Jining-2025-pw!"))
    before = data_version(db)
    with pytest.raises(auth.UserRejected):
        auth.add_user(db, "jining", "Jining-2024-pw", Role.CITY, "370800")
    assert data_version(db) == before
