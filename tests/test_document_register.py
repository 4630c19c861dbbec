"""The 文号 register on every engine: numbers run per pattern and year, are never given twice (concurrent issuers in
threads included), a re-issue takes a new number naming the one it replaces, who may issue to whom is checked, a
deadline before the document's date is refused, and each number is in the audit log with the document it numbers."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from data_access.identity.audit import recent
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.store.changes import data_version
from data_access.store.schema import document_numbers
from data_access.supervision import document_register as register
from data_access.supervision.document_register import DocumentKind, DocumentRefused, Draft, issue
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS

DATED = dt.date(2026, 12, 7)
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
JINING_CITY = Identity("jining", Role.CITY, "370800", "济宁市纪委监委")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, "370811", "任城区纪委监委")
RENCHENG, LIXIA = "370811", "370102"


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        conn.execute(document_numbers.delete())
    return engine


def notice(subject: str = "item-1", county: str = RENCHENG, issuer: str = "全省", due: dt.date | None = None) -> Draft:
    return Draft(DocumentKind.NOTICE, DEFAULT_DOCUMENT_SETTINGS.series(DocumentKind.NOTICE, issuer), subject,
                 "督办通知单", "任城区纪委监委", county, due)


def numbers(db: sa.Engine) -> list[str]:
    with db.connect() as conn:
        return list(conn.execute(sa.select(document_numbers.c.number)).scalars())


def test_numbers_run_per_pattern_and_year(db: sa.Engine) -> None:
    first, _ = issue(db, PROVINCE, [notice("a"), notice("b")], DATED)
    again, _ = issue(db, PROVINCE, [notice("c")], DATED)
    assert [d.number for d in first + again] == ["鲁纪信督〔2026〕1号", "鲁纪信督〔2026〕2号", "鲁纪信督〔2026〕3号"]
    next_year, _ = issue(db, PROVINCE, [notice("d")], dt.date(2027, 1, 4))
    assert next_year[0].number == "鲁纪信督〔2027〕1号"
    weekly = Draft(DocumentKind.WEEKLY, DEFAULT_DOCUMENT_SETTINGS.series(DocumentKind.WEEKLY, "全省"), "2026-12-06/",
                   "关于……的通报", "各市纪委监委", "")
    assert issue(db, PROVINCE, [weekly], DATED)[0][0].number == "鲁纪信通〔2026〕1号"
    city, _ = issue(db, JINING_CITY, [notice("e", issuer="济宁市")], DATED)
    assert city[0].number == "济宁纪信督〔2026〕1号" and city[0].issued_scope == "370800"


def test_concurrent_issuers_get_distinct_numbers(db: sa.Engine) -> None:
    """Eight issuers at once, three documents each: 24 numbers, none twice, none skipped."""
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def run(who: int) -> None:
        start.wait()
        try:
            issue(db, PROVINCE, [notice(f"t{who}-{i}") for i in range(3)], DATED)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    taken = numbers(db)
    assert len(taken) == len(set(taken)) == 24
    assert sorted(taken) == sorted(f"鲁纪信督〔2026〕{n}号" for n in range(1, 25))


def test_a_reissue_takes_a_new_number_and_names_the_one_it_replaces(db: sa.Engine) -> None:
    first = issue(db, PROVINCE, [notice("item-9")], DATED)[0][0]
    again = issue(db, PROVINCE, [notice("item-9")], DATED + dt.timedelta(days=1))[0][0]
    assert first.replaces is None and again.replaces == first.number and again.number != first.number
    assert register.latest(db, DocumentKind.NOTICE, ["item-9"])["item-9"].number == again.number


def test_who_may_issue_to_whom(db: sa.Engine) -> None:
    with pytest.raises(OutOfScope, match="无权发文"):
        issue(db, RENCHENG_COUNTY, [notice()], DATED)
    with pytest.raises(OutOfScope, match="不在本级管辖范围内"):
        issue(db, JINING_CITY, [notice(county=LIXIA, issuer="济宁市")], DATED)  # 历下区 is 济南's
    with pytest.raises(OutOfScope):
        issue(db, JINING_CITY, [notice(county="", issuer="济宁市")], DATED)  # the whole province is not the city's
    assert numbers(db) == []
    assert issue(db, JINING_CITY, [notice(issuer="济宁市")], DATED)[0][0].recipient_code == RENCHENG


def test_a_deadline_before_the_date_is_refused(db: sa.Engine) -> None:
    with pytest.raises(DocumentRefused, match="早于成文日期"):
        issue(db, PROVINCE, [notice(due=DATED - dt.timedelta(days=1))], DATED)
    assert numbers(db) == []
    assert issue(db, PROVINCE, [notice(due=DATED)], DATED)[0][0].reply_due == DATED


def test_the_number_lands_with_its_record_and_audit_row_or_not_at_all(db: sa.Engine) -> None:
    with db.connect() as conn:
        before = data_version(conn)

    def failing(conn: sa.Connection, issued: list[register.Issued]) -> None:
        raise RuntimeError("the record could not be written")

    with pytest.raises(RuntimeError):
        issue(db, PROVINCE, [notice()], DATED, record=failing)
    assert numbers(db) == []
    issued, seen = issue(db, PROVINCE, [notice()], DATED, record=lambda conn, docs: [d.number for d in docs])
    assert seen == [issued[0].number] == ["鲁纪信督〔2026〕1号"]
    log = recent(db, 10)
    assert log.iloc[0]["action"] == "document" and "鲁纪信督〔2026〕1号" in log.iloc[0]["detail"]
    assert "成文日期 2026-12-07" in log.iloc[0]["detail"]
    with db.connect() as conn:
        assert data_version(conn) != before


def test_two_documents_never_share_a_number(db: sa.Engine) -> None:
    """Every kind, two issuing offices, re-issues and two years: the register holds each number once."""
    for kind in DocumentKind:
        for office, actor in (("全省", PROVINCE), ("济宁市", JINING_CITY)):
            series = DEFAULT_DOCUMENT_SETTINGS.series(kind, office)
            drafts = [Draft(kind, series, f"s{i}", "标题", "任城区纪委监委", RENCHENG) for i in range(3)]
            issue(db, actor, drafts, DATED)
            issue(db, actor, drafts[:1], dt.date(2027, 1, 5))
    taken = numbers(db)
    assert len(taken) == len(DocumentKind) * 2 * 4 and len(set(taken)) == len(taken)
    frame = register.register(db)
    assert frame["replaces"].notna().sum() == len(DocumentKind) * 2
