"""督办台账 lifecycle on both engines: every allowed and refused step per role, scope by crafted call,
concurrent sign-off, notes with personal numbers refused, and an audit row per step."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from data_access.identity.audit import recent
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.store.schema import audit_log, supervision_events, supervision_items
from data_access.supervision import ledger
from data_access.supervision.ledger import LedgerRefused, Method, StaleStep, Status
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


# --- the documents ------------------------------------------------------------------------------

def test_notice_is_an_official_form_word_document() -> None:
    import io

    from docx import Document

    from presentation.documents import DocumentSettings
    from reports.notice import RECEIPT, TO_FILL, NoticeFacts, build_notice, notice_name

    facts = NoticeFacts(number="济宁纪信督〔2024〕3号", issuer=DocumentSettings().issuer("济宁市"), recipient="济宁市任城区纪委监委",
                        subject="case", case_id="SD101-0000042", title="件号 SD101-0000042 超期 12 天未办结",
                        reason="请立即督促办结，并书面反馈超期原因。", method="letter", opened_on=dt.date(2024, 6, 28),
                        reply_due=dt.date(2024, 7, 5), issued_on=dt.date(2024, 6, 28))
    doc = Document(io.BytesIO(build_notice(facts)))
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    assert texts[:4] == ["济宁市纪委监委信访室", "济宁纪信督〔2024〕3号", "督办通知单", "济宁市任城区纪委监委："]
    assert "2024年6月28日，济宁市纪委监委信访室对件号SD101-0000042的检举控告件进行发函督办" in texts[4]
    assert texts[5:9] == ["一、督办事项", "件号SD101-0000042超期12天未办结。", "二、督办要求", "请立即督促办结，并书面反馈超期原因。"]
    assert texts[10].startswith("请于2024年7月5日前") and texts[11] == f"附件：{RECEIPT}"
    assert [t.strip() for t in texts[12:14]] == ["济宁市纪委监委信访室", "2024年6月28日"]
    assert texts[14] == f"（联系人：{TO_FILL}，联系电话：{TO_FILL}）"  # the 附注 under the date, blanks to fill in
    assert texts[15:17] == ["附件", RECEIPT]  # the 回执 on a page of its own
    assert "联系人及电话" in [row.cells[0].text for row in doc.tables[0].rows]  # the county's, on the 回执
    receipt = [[cell.text for cell in row.cells] for row in doc.tables[0].rows]
    assert receipt[1] == ["督办通知单文号", "济宁纪信督〔2024〕3号"]
    body = doc.paragraphs[[p.text for p in doc.paragraphs].index(texts[4])].runs[0]
    assert body.font.size.pt == 16 and body.element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    assert notice_name(facts) == "督办通知单_济宁市任城区纪委监委_2024-06-28.docx"
    named = Document(io.BytesIO(build_notice(dataclasses.replace(facts, contact="王某", phone="0537-2345678"))))
    assert "（联系人：王某，联系电话：0537-2345678）" in [p.text for p in named.paragraphs]


def test_ledger_workbook_has_items_and_steps(db: sa.Engine) -> None:
    import io

    import pandas as pd
    from openpyxl import load_workbook

    from reports.ledger_book import build_ledger_workbook

    item = open_for_rencheng(db)
    ledger.reply(db, RENCHENG_COUNTY, item, note="已整改", now=NOW)
    items = ledger.items(db, WHOLE_PROVINCE, NOW.date())[["title", "status"]].rename(columns={"title": "督办事项", "status": "状态"})
    steps = ledger.history(db, WHOLE_PROVINCE)[["seq", "action", "note"]]
    book = load_workbook(io.BytesIO(build_ledger_workbook(items, steps)))
    assert book.sheetnames == ["督办事项", "办理记录"]
    assert [c.value for c in book["督办事项"][2]] == ["初次举报超期未办结 3 件", "replied"]
    assert [[c.value for c in row] for row in book["办理记录"].iter_rows(min_row=2)] == [
        [1, "open", "请于期限内办结并反馈整改措施"], [2, "reply", "已整改"]]
    assert book["督办事项"].auto_filter.ref == "A1:B2" and isinstance(items, pd.DataFrame)


def test_the_weekly_meeting_counts_the_ledgers_week(db: sa.Engine) -> None:
    from metrics.weekly import weekly_report
    from presentation.bulletin import bulletin_text

    monday = dt.datetime(2024, 6, 24, 10)
    late = open_for_rencheng(db, reply_due=dt.date(2024, 6, 26), now=monday)
    done = open_for_rencheng(db, now=monday)
    ledger.reply(db, RENCHENG_COUNTY, done, note="已整改", now=monday + dt.timedelta(days=1))
    ledger.close(db, PROVINCE, done, now=monday + dt.timedelta(days=2))
    open_for_rencheng(db, now=monday - dt.timedelta(days=7))  # last week's: still in progress, not opened this week
    report = weekly_report(db, dt.date(2024, 6, 30), scope=Scope(JINING))
    assert report.supervision == ledger.WeekCounts(opened=2, replied=1, closed=1, returned=0, in_progress=2, overdue_replies=1)
    assert "本周新挂账督办 2 项，县级反馈 1 项，销号 1 项；目前在办 2 项，其中逾期未反馈 1 项" in bulletin_text(report)
    assert weekly_report(db, dt.date(2024, 6, 30), scope=Scope("370100")).supervision.any is False
    assert late
