"""督办台账 lifecycle on both engines: every allowed and refused step per role, scope by crafted call,
concurrent sign-off, notes with personal numbers refused, and an audit row per step."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from data_access import ledger
from data_access.audit import recent
from data_access.auth import Identity, OutOfScope, Role
from data_access.importer import import_bytes
from data_access.ledger import LedgerRefused, Method, StaleStep, Status
from data_access.schema import audit_log, supervision_events, supervision_items
from data_access.scope import WHOLE_PROVINCE, Scope
from tests.test_importer import case, csv_bytes

NOW = dt.datetime(2024, 6, 28, 9, 30)
DUE = dt.date(2024, 7, 5)
JINING, RENCHENG, WEISHAN, LIXIA = "370800", "370811", "370826", "370102"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
JINING_CITY = Identity("jining", Role.CITY, JINING, "济宁市纪委监委")
JINAN_CITY = Identity("jinan", Role.CITY, "370100", "济南市纪委监委")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, RENCHENG, "任城区纪委监委")
WEISHAN_COUNTY = Identity("weishan", Role.COUNTY, WEISHAN, "微山县纪委监委")


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        conn.execute(supervision_events.delete())
        conn.execute(supervision_items.delete())
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG), case("L-1", county_code=LIXIA)]), "cases.csv")
    return engine


def open_for_rencheng(db: sa.Engine, actor: Identity = JINING_CITY, **extra) -> str:
    values = {"county_code": RENCHENG, "title": "初次举报超期未办结 3 件", "reason": "请于期限内办结并反馈整改措施",
              "method": Method.PHONE, "reply_due": DUE, "now": NOW, **extra}
    return ledger.open_item(db, actor, **values)


def status_of(db: sa.Engine, item_id: str) -> str:
    with db.connect() as conn:
        return conn.execute(sa.select(supervision_items.c.status).where(supervision_items.c.id == item_id)).scalar_one()


def snapshot(db: sa.Engine) -> tuple:
    with db.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (supervision_items, supervision_events, audit_log))


def test_full_cycle_open_reply_return_reply_close(db: sa.Engine) -> None:
    item = open_for_rencheng(db, case_id="R-1")
    assert status_of(db, item) == Status.OPEN.value
    ledger.reply(db, RENCHENG_COUNTY, item, note="已约谈承办人，7 月 3 日前办结", promised_date=dt.date(2024, 7, 3),
                 now=NOW + dt.timedelta(days=1))
    assert status_of(db, item) == Status.REPLIED.value
    ledger.send_back(db, JINING_CITY, item, note="未说明超期原因", now=NOW + dt.timedelta(days=2))
    assert status_of(db, item) == Status.OPEN.value
    ledger.reply(db, RENCHENG_COUNTY, item, note="已办结，超期原因系调查取证周期长", now=NOW + dt.timedelta(days=3))
    ledger.close(db, PROVINCE, item, now=NOW + dt.timedelta(days=4))
    assert status_of(db, item) == Status.CLOSED.value
    steps = ledger.history(db, Scope(RENCHENG), item)
    assert list(steps["action"]) == ["open", "reply", "return", "reply", "close"]
    assert list(steps["username"]) == ["jining", "rencheng", "jining", "rencheng", "sheng"]
    assert steps["promised_date"].iloc[1] == dt.date(2024, 7, 3) and steps["note"].iloc[4] == "同意销号"
    details = list(recent(db, 5)["detail"])
    assert details[0] == f"销号 {RENCHENG}：初次举报超期未办结 3 件"
    assert details[-1].startswith(f"挂账督办 {RENCHENG} 件号 R-1：初次举报超期未办结 3 件（电话督办，反馈期限 2024-07-05）")
    assert list(recent(db, 5)["action"]) == ["supervision"] * 5


@pytest.mark.parametrize(("actor", "allowed"), [(PROVINCE, True), (JINING_CITY, True), (JINAN_CITY, False),
                                                (RENCHENG_COUNTY, False)], ids=["province", "own_city", "other_city", "county"])
def test_who_may_open_an_item_for_rencheng(db: sa.Engine, actor: Identity, allowed: bool) -> None:
    before = snapshot(db)
    if allowed:
        assert status_of(db, open_for_rencheng(db, actor)) == Status.OPEN.value
    else:
        with pytest.raises(OutOfScope):
            open_for_rencheng(db, actor)
        assert snapshot(db) == before


def test_a_case_item_names_a_case_of_that_county(db: sa.Engine) -> None:
    with pytest.raises(LedgerRefused, match="L-1"):
        open_for_rencheng(db, case_id="L-1")
    with pytest.raises(LedgerRefused, match="NOPE"):
        open_for_rencheng(db, case_id="NOPE")
    with pytest.raises(LedgerRefused, match="早于今天"):
        open_for_rencheng(db, reply_due=dt.date(2024, 6, 27))


STEPS = {"reply": lambda db, who, item: ledger.reply(db, who, item, note="已整改", now=NOW),
         "close": lambda db, who, item: ledger.close(db, who, item, now=NOW),
         "return": lambda db, who, item: ledger.send_back(db, who, item, note="不充分", now=NOW)}


@pytest.mark.parametrize(("step", "actor", "from_status", "outcome"), [
    ("reply", RENCHENG_COUNTY, "open", "replied"),
    ("reply", WEISHAN_COUNTY, "open", OutOfScope),  # another county's item
    ("reply", JINING_CITY, "open", OutOfScope),  # supervisors do not reply
    ("reply", RENCHENG_COUNTY, "replied", StaleStep),
    ("close", JINING_CITY, "replied", "closed"),
    ("close", PROVINCE, "replied", "closed"),
    ("close", JINAN_CITY, "replied", OutOfScope),
    ("close", RENCHENG_COUNTY, "replied", OutOfScope),  # a county cannot sign off its own item
    ("close", JINING_CITY, "open", StaleStep),  # nothing to sign off before a reply
    ("return", JINING_CITY, "replied", "open"),
    ("return", RENCHENG_COUNTY, "replied", OutOfScope),
    ("return", PROVINCE, "closed", StaleStep),
], ids=lambda v: v if isinstance(v, str) else getattr(v, "username", getattr(v, "__name__", None)))
def test_every_step_by_role_and_status(db: sa.Engine, step: str, actor: Identity, from_status: str, outcome) -> None:
    item = open_for_rencheng(db)
    if from_status in ("replied", "closed"):
        ledger.reply(db, RENCHENG_COUNTY, item, note="已整改", now=NOW)
    if from_status == "closed":
        ledger.close(db, PROVINCE, item, now=NOW)
    before = snapshot(db)
    if isinstance(outcome, str):
        STEPS[step](db, actor, item)
        assert status_of(db, item) == outcome
        assert snapshot(db)[1:] == (before[1] + 1, before[2] + 1)  # one event, one audit row
    else:
        with pytest.raises(outcome):
            STEPS[step](db, actor, item)
        assert status_of(db, item) == from_status and snapshot(db) == before


def test_two_supervisors_closing_at_once_one_wins(db: sa.Engine) -> None:
    item = open_for_rencheng(db)
    ledger.reply(db, RENCHENG_COUNTY, item, note="已整改", now=NOW)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def sign_off(who: Identity) -> None:
        start.wait()
        try:
            ledger.close(db, who, item, now=NOW)
            outcomes.append("closed")
        except StaleStep as told:
            outcomes.append(str(told))
        except sa.exc.DBAPIError:  # DuckDB may refuse the second writer outright: also "not twice"
            outcomes.append("conflict")

    threads = [threading.Thread(target=sign_off, args=(who,)) for who in (PROVINCE, JINING_CITY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0] == "closed" and outcomes.count("closed") == 1, outcomes
    assert status_of(db, item) == Status.CLOSED.value
    closes = ledger.history(db, WHOLE_PROVINCE, item)
    assert list(closes["action"]).count("close") == 1
    with pytest.raises(StaleStep, match="已销号"):
        ledger.close(db, PROVINCE, item, now=NOW)


def test_reading_is_scoped(db: sa.Engine) -> None:
    own = open_for_rencheng(db)
    other = ledger.open_item(db, PROVINCE, county_code=LIXIA, title="结而不服 2 件", reason="请复查", method="letter",
                             reply_due=DUE, now=NOW)
    assert set(ledger.items(db, WHOLE_PROVINCE, NOW.date())["id"]) == {own, other}
    assert set(ledger.items(db, Scope(JINING), NOW.date())["id"]) == {own}
    assert set(ledger.items(db, Scope(WEISHAN), NOW.date())["id"]) == set()
    assert ledger.history(db, Scope(JINING), other).empty  # a crafted call for another city's item reads nothing
    with pytest.raises(OutOfScope):
        ledger.close(db, JINING_CITY, other, now=NOW)


def test_overdue_replies_come_first(db: sa.Engine) -> None:
    late = open_for_rencheng(db, title="超期 40 天", reply_due=dt.date(2024, 6, 30))
    fresh = open_for_rencheng(db, title="结而不服", reply_due=dt.date(2024, 7, 20))
    answered = open_for_rencheng(db, title="已反馈", reply_due=dt.date(2024, 6, 29))
    ledger.reply(db, RENCHENG_COUNTY, answered, note="已整改", now=NOW)
    shown = ledger.items(db, WHOLE_PROVINCE, dt.date(2024, 7, 2))
    assert list(shown["id"]) == [late, fresh, answered]
    assert list(shown["overdue_reply"]) == [True, False, False]
    assert list(shown["age_days"]) == [4, 4, 4]


@pytest.mark.parametrize("note", ["联系人电话 13812345678", "请致电 0531-86123456", "举报人身份证 370102199001011234",
                                  "号码 138 1234 5678", "旧证 370102900101123"])
def test_notes_with_personal_numbers_are_refused(db: sa.Engine, note: str) -> None:
    item = open_for_rencheng(db)
    before = snapshot(db)
    with pytest.raises(LedgerRefused, match="共享屏幕"):
        ledger.reply(db, RENCHENG_COUNTY, item, note=note, now=NOW)
    with pytest.raises(LedgerRefused, match="共享屏幕"):
        open_for_rencheng(db, reason=note)
    assert snapshot(db) == before


@pytest.mark.parametrize("note", ["已于 2024-07-03 办结，涉及 12 件", "案号 2024 第 1378 号", "整改 3 项措施，7 月 15 日前完成"])
def test_ordinary_numbers_in_notes_are_fine(db: sa.Engine, note: str) -> None:
    item = open_for_rencheng(db)
    ledger.reply(db, RENCHENG_COUNTY, item, note=note, now=NOW)
    assert ledger.history(db, WHOLE_PROVINCE, item)["note"].iloc[-1] == note
