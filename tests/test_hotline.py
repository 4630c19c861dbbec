"""12388 complaints on both engines: the import (good, bad, caller identity dropped, cases checked in the
database, a city's upload), every step of the monthly cycle per role and state, the ledger items it opens,
the draw re-run from its stored seed, the audit rows, and the demo's complaints."""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.cli import main as cli_main
from data_access.demo.hotline import ID_PREFIX
from data_access.demo.loading import load_demo, remove_demo_cases
from data_access.identity.audit import recent
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.reference.enums import ComplaintKind
from data_access.reference.privacy import HIDDEN_VALUE
from data_access.reference.problems import DataRejected
from data_access.store.config import DEFAULT_SETTINGS_FILE, SettingsError
from data_access.store.engine import make_engine
from data_access.store.schema import (
    cases,
    hotline_complaints,
    import_log,
    spot_check_draws,
    supervision_events,
    supervision_items,
)
from data_access.supervision import hotline
from data_access.supervision.hotline import CycleRefused, replay_draw, sample_size
from data_access.supervision.hotline_import import (
    HEADER_ALIASES,
    REPORTER_IDENTITY_HEADERS,
    WORKFLOW_ALIASES,
    import_complaints_bytes,
)
from data_access.supervision.hotline_settings import HotlineSettings, load_hotline_settings
from data_access.supervision.ledger import LedgerRefused, StaleStep
from tests.test_importer import case, csv_bytes, every_cell, table_columns, xlsx_bytes

NOW = dt.datetime(2024, 6, 5, 9, 30)
TODAY = dt.date(2024, 6, 30)
JINING, RENCHENG, WEISHAN, LIXIA, JINAN = "370800", "370811", "370826", "370102", "370100"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
JINING_CITY = Identity("jining", Role.CITY, JINING, "济宁市纪委监委")
JINAN_CITY = Identity("jinan", Role.CITY, JINAN, "济南市纪委监委")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, RENCHENG, "任城区纪委监委")
CALLER = {"来电人": "王小明", "联系电话": "13912345678", "身份证号": "370811198001011234",
          "家庭住址": "济宁市任城区某街道8号", "来电内容": "反映某所长收受红包一事三个月无人答复"}


def call(complaint_id: str, /, **cells: str) -> dict[str, str]:
    """One valid complaint row with Chinese headers (任城区, 办理缓慢, about case R-1); override any cell."""
    return {"来电编号": complaint_id, "来电日期": "2024-05-06", "市": "济宁市", "县（市、区）": "任城区",
            "投诉类型": "办理缓慢", "关联件号": "R-1", **cells}


def load(engine: sa.Engine, rows: list[dict[str, str]], actor: Identity | str = "program", name: str = "12388.csv"):
    return import_complaints_bytes(engine, csv_bytes(rows), name, actor=actor, today=TODAY)


def refused(engine: sa.Engine, rows: list[dict[str, str]], actor: Identity | str = "program") -> DataRejected:
    with pytest.raises(DataRejected) as caught:
        load(engine, rows, actor)
    return caught.value


def where(exc: DataRejected) -> list[tuple]:
    return [(p.row, p.column, p.value) for p in exc.problems]


def stored(engine: sa.Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(hotline_complaints).order_by(hotline_complaints.c.complaint_id)).mappings().all()
    return {r["complaint_id"]: dict(r) for r in rows}


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    """Cases R-1 (任城区), W-1 (微山县), L-1 (历下区), received 2024-03-01."""
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG), case("W-1", county_code=WEISHAN),
                                    case("L-1", county_code=LIXIA)]), "cases.csv")
    return engine


# ---------------------------------------------------------------- import

@pytest.mark.parametrize("name", ["12388.csv", "12388.xlsx"])
def test_a_good_file_is_stored_with_its_aliases(db: sa.Engine, name: str) -> None:
    rows = [call("H-1", **CALLER),
            call("H-2", 来电日期="2024/05/20", 市="济南", **{"县（市、区）": "历下区"}, 投诉类型="对核查处理结果不满意",
                 关联件号="L-1", **CALLER),
            call("H-3", 市="", **{"县（市、区）": "370826"}, 投诉类型="实名举报长期不予反馈", 关联件号="", **CALLER)]
    data = csv_bytes(rows) if name.endswith(".csv") else xlsx_bytes(list(rows[0]), [list(r.values()) for r in rows])
    report = import_complaints_bytes(db, data, name, actor=PROVINCE, today=TODAY)
    assert (report.rows, report.written, report.dropped_columns) == (3, True, tuple(CALLER))
    got = stored(db)
    assert [(c, v["received_date"], v["county_code"], v["kind"], v["case_id"]) for c, v in got.items()] == [
        ("H-1", dt.date(2024, 5, 6), RENCHENG, "slow", "R-1"),
        ("H-2", dt.date(2024, 5, 20), LIXIA, "result", "L-1"),
        ("H-3", dt.date(2024, 5, 6), WEISHAN, "no_feedback", None)]
    assert all(v["notified_month"] is None and v["feedback"] is None and v["supervision_item_id"] is None for v in got.values())
    with db.connect() as conn:
        log = conn.execute(sa.select(import_log.c.kind, import_log.c.rows, import_log.c.dropped_columns)
                           .where(import_log.c.kind == "hotline")).one()
    assert tuple(log) == ("hotline", 3, ",".join(CALLER))
    last = recent(db, 1).iloc[0]
    assert (last["action"], last["username"], last["detail"]) == ("import", "sheng", f"导入12388来电投诉 {name}：3 件")


def test_english_headers_codes_and_a_title_row_above(db: sa.Engine) -> None:
    body = csv_bytes([{"complaint_id": "E-1", "received_date": "2024-05-31", "county_code": WEISHAN, "kind": "other",
                       "case_id": "W-1"}])
    report = import_complaints_bytes(db, "2024年5月12388来电投诉汇总\r\n".encode() + body, "e.csv", today=TODAY)
    assert (report.rows, report.header_row, report.skipped_rows) == (1, 2, (1,))
    assert stored(db)["E-1"]["kind"] == "other" and stored(db)["E-1"]["case_id"] == "W-1"


def test_a_bad_file_names_every_problem_and_writes_nothing(db: sa.Engine) -> None:
    rows = [call("H-1", 来电日期="2024-05-32"),
            call("H-2", 投诉类型="催办"),
            call("H-1", 市="青岛市"),
            call("", **{"县（市、区）": "不存在县"}),
            call("H-5", **{"县（市、区）": "市中区"}, 市=""),
            call("DEMO-12388-1"),
            call("13912345678"),
            call("H-8", 来电日期="2024-07-01")]
    exc = refused(db, rows)
    assert where(exc) == [
        (2, "来电日期", "2024-05-32"),
        (3, "投诉类型", "催办"),
        (4, "来电编号", "H-1"),
        (4, "市", "青岛市"),
        (5, "来电编号", ""),
        (5, "县（市、区）", "不存在县"),
        (6, "县（市、区）", "市中区"),
        (7, "来电编号", "DEMO-12388-1"),
        (8, "来电编号", HIDDEN_VALUE),  # shaped like a caller's number: not shown
        (9, "来电日期", "2024-07-01"),
    ]
    reasons = [p.reason_zh for p in exc.problems]
    assert reasons[2] == "来电编号在文件中重复（与第 2 行相同）" and reasons[3] == "所填市与该县（市、区）的所属市不符"
    assert "请在“市”列写明所属市" in reasons[6] and "晚于今天（2024-06-30）" in reasons[9]
    assert all(p.reason_en for p in exc.problems)
    assert count(db, hotline_complaints) == 0 and count(db, import_log) == 1  # the cases' import only
    assert recent(db, 1)["detail"].iloc[0] == "12388来电投诉导入被拒绝：12388.csv，10 个问题，未写入"


def test_missing_columns_and_cycle_columns_refuse_the_file(db: sa.Engine) -> None:
    rows = [{k: v for k, v in call("H-1").items() if k != "投诉类型"} | {"反馈结果": "属实", "抽查结果": ""}]
    exc = refused(db, rows)
    assert where(exc) == [(1, "投诉类型", None), (1, "反馈结果", None), (1, "抽查结果", None)]
    assert exc.problems[0].reason_zh == "缺少必需的列"
    assert exc.problems[1].reason_zh.startswith("此列由系统在通报、反馈、抽查时填写")


def test_cases_are_checked_in_the_database(db: sa.Engine) -> None:
    load(db, [call("H-1")])
    exc = refused(db, [call("H-1"), call("H-2", 关联件号="NOPE"), call("H-3", 关联件号="L-1"), call("H-4")])
    assert where(exc) == [(2, "来电编号", "H-1"), (3, "关联件号", "NOPE"), (4, "关联件号", "L-1")]
    assert exc.problems[1].reason_zh == "关联件号在案件表中不存在"
    assert exc.problems[2].reason_zh == f"关联件号是地区 {LIXIA} 的案件，不是本来电所涉县（市、区）{RENCHENG} 的案件"
    assert list(stored(db)) == ["H-1"]


def test_a_check_reads_everything_and_writes_nothing(db: sa.Engine) -> None:
    audit_rows = len(recent(db, 100))
    report = import_complaints_bytes(db, csv_bytes([call("H-1")]), "c.csv", check=True, today=TODAY)
    assert (report.rows, report.written) == (1, False)
    with pytest.raises(DataRejected):
        import_complaints_bytes(db, csv_bytes([call("H-1", 关联件号="NOPE")]), "c.csv", check=True, today=TODAY)
    assert count(db, hotline_complaints) == 0 and len(recent(db, 100)) == audit_rows


def test_caller_identity_is_never_stored(db: sa.Engine) -> None:
    load(db, [call("H-1", **CALLER), call("H-2", **{k: v + "乙" for k, v in CALLER.items()})])
    assert table_columns(db, "hotline_complaints") == [c.name for c in hotline_complaints.columns]
    cells = every_cell(db)
    assert "H-1" in cells and "H-2" in cells
    for value in CALLER.values():
        assert not any(value in cell for cell in cells), value
    assert not set(REPORTER_IDENTITY_HEADERS) & (set(HEADER_ALIASES) | set(WORKFLOW_ALIASES))
    assert set(CALLER) <= set(REPORTER_IDENTITY_HEADERS)


@pytest.mark.parametrize(("actor", "allowed"), [(JINING_CITY, True), (RENCHENG_COUNTY, False), (JINAN_CITY, False)],
                         ids=["own_city", "county_other_county", "other_city"])
def test_a_city_or_county_uploads_only_its_own_region(db: sa.Engine, actor: Identity, allowed: bool) -> None:
    rows = [call("H-1"), call("H-2", **{"县（市、区）": "微山县"}, 关联件号="W-1")]
    if allowed:
        assert load(db, rows, actor).rows == 2
        return
    exc = refused(db, rows, actor)
    outside = [(2, "县（市、区）", "任城区"), (3, "县（市、区）", "微山县")] if actor is JINAN_CITY else [(3, "县（市、区）", "微山县")]
    assert where(exc) == outside
    assert exc.problems[0].reason_zh.startswith("不属于本账号的管辖范围")
    assert count(db, hotline_complaints) == 0


# ---------------------------------------------------------------- the cycle

@pytest.fixture
def notified(db: sa.Engine) -> sa.Engine:
    """May's complaints, notified: H-1 任城 (case R-1), H-2 任城 (no case), H-3 微山, H-4 历下; H-9 is June's."""
    load(db, [call("H-1"), call("H-2", 关联件号="", 投诉类型="其他"), call("H-3", **{"县（市、区）": "微山县"}, 关联件号="W-1"),
              call("H-4", 市="济南市", **{"县（市、区）": "历下区"}, 关联件号="L-1"), call("H-9", 来电日期="2024-06-03")])
    assert hotline.mark_notified(db, PROVINCE, "2024-05") == 4
    return db


def item_of(db: sa.Engine, complaint_id: str) -> dict:
    with db.connect() as conn:
        item_id = conn.execute(sa.select(hotline_complaints.c.supervision_item_id)
                               .where(hotline_complaints.c.complaint_id == complaint_id)).scalar_one()
        return dict(conn.execute(sa.select(supervision_items).where(supervision_items.c.id == item_id)).mappings().one())


def test_mark_notified_by_the_province_only(db: sa.Engine) -> None:
    load(db, [call("H-0", 来电日期="2024-04-02")])
    assert hotline.mark_notified(db, PROVINCE, "2024-04", now=NOW) == 1
    load(db, [call("H-1", 来电日期="2024-04-30"), call("H-2"), call("H-3", 来电日期="2024-06-01")])
    with pytest.raises(OutOfScope):
        hotline.mark_notified(db, JINING_CITY, "2024-05")
    with pytest.raises(CycleRefused, match="格式不对"):
        hotline.mark_notified(db, PROVINCE, "2024-5")
    with pytest.raises(CycleRefused, match="尚未开始"):
        hotline.mark_notified(db, PROVINCE, "2024-07", now=NOW)
    assert hotline.mark_notified(db, PROVINCE, "2024-05", now=NOW) == 2  # April's late one joins May's notice
    assert hotline.mark_notified(db, PROVINCE, "2024-05", now=NOW) == 0
    assert {k: v["notified_month"] for k, v in stored(db).items()} == {"H-0": "2024-04", "H-1": "2024-05", "H-2": "2024-05",
                                                                      "H-3": None}
    assert recent(db, 1)[["action", "detail"]].iloc[0].tolist() == ["hotline", "通报 2024-05：12388来电投诉 2 件（含逾期补录 1 件）"]


def notice_ids(db: sa.Engine, month: str, today: dt.date) -> tuple[bool, dict[str, bool]]:
    """Whether the month's notice is issued, and its complaints (id -> late), by NoticeMonth's condition."""
    with db.connect() as conn:
        notice = hotline.notice_month(conn, month, today)
        rows = conn.execute(sa.select(hotline_complaints.c.complaint_id, notice.late()).where(notice.condition())).all()
    return notice.issued, {cid: bool(late) for cid, late in rows}


def test_a_late_complaint_joins_the_next_notice_and_an_issued_notice_stays_as_issued(db: sa.Engine) -> None:
    load(db, [call("H-1"), call("H-2", 来电日期="2024-05-20")])
    assert notice_ids(db, "2024-05", NOW.date()) == (False, {"H-1": False, "H-2": False})
    assert hotline.mark_notified(db, PROVINCE, "2024-05", now=NOW) == 2
    # imported after May's notice: one call of May (late), one of June
    load(db, [call("H-L", 来电日期="2024-05-28"), call("H-J", 来电日期="2024-06-03")])
    assert notice_ids(db, "2024-05", NOW.date()) == (True, {"H-1": False, "H-2": False})  # May's notice as issued
    assert hotline.mark_notified(db, PROVINCE, "2024-05", now=NOW) == 0  # issued: nothing more joins it
    assert notice_ids(db, "2024-06", NOW.date()) == (False, {"H-L": True, "H-J": False})
    with pytest.raises(CycleRefused, match="尚未开始"):
        notice_ids(db, "2024-07", NOW.date())
    with pytest.raises(StaleStep, match="重新生成"):  # the documents listed one, the notice holds two: nothing marked
        hotline.mark_notified(db, PROVINCE, "2024-06", now=NOW, listed=["H-J"])
    assert {k: v["notified_month"] for k, v in stored(db).items()}["H-L"] is None
    assert hotline.mark_notified(db, PROVINCE, "2024-06", now=NOW, listed=["H-J", "H-L"]) == 2
    assert {k: v["notified_month"] for k, v in stored(db).items()} == {
        "H-1": "2024-05", "H-2": "2024-05", "H-J": "2024-06", "H-L": "2024-06"}
    assert recent(db, 1)["detail"].iloc[0] == "通报 2024-06：12388来电投诉 2 件（含逾期补录 1 件）"
    assert notice_ids(db, "2024-06", NOW.date()) == (True, {"H-L": True, "H-J": False})


@pytest.mark.parametrize(("actor", "allowed"), [(PROVINCE, True), (JINING_CITY, True), (JINAN_CITY, False),
                                                (RENCHENG_COUNTY, False)], ids=["province", "own_city", "other_city", "county"])
def test_who_may_answer_a_complaint(notified: sa.Engine, actor: Identity, allowed: bool) -> None:
    if allowed:
        assert hotline.record_feedback(notified, actor, "H-2", "不属实", "已按期办结并告知", now=NOW) is None
        row = stored(notified)["H-2"]
        assert (row["feedback"], row["feedback_note"], row["feedback_at"], row["feedback_by"]) == (
            "untrue", "已按期办结并告知", NOW, actor.username)
    else:
        with pytest.raises(OutOfScope):
            hotline.record_feedback(notified, actor, "H-2", "不属实", "已按期办结并告知", now=NOW)
        assert stored(notified)["H-2"]["feedback"] is None


def test_feedback_only_once_and_only_after_the_notice(notified: sa.Engine) -> None:
    with pytest.raises(StaleStep, match="尚未通报"):
        hotline.record_feedback(notified, JINING_CITY, "H-9", "不属实", "已办结", now=NOW)
    hotline.record_feedback(notified, JINING_CITY, "H-2", "untrue", "已办结", now=NOW)
    before = (count(notified, supervision_items), len(recent(notified, 100)))
    with pytest.raises(StaleStep, match="已反馈（不属实）"):
        hotline.record_feedback(notified, PROVINCE, "H-2", "属实", "复核属实", now=NOW)
    assert stored(notified)["H-2"]["feedback"] == "untrue"
    assert (count(notified, supervision_items), len(recent(notified, 100))) == before
    with pytest.raises(CycleRefused, match="反馈结果“大概”无效"):
        hotline.record_feedback(notified, JINING_CITY, "H-1", "大概", "说明", now=NOW)
    with pytest.raises(LedgerRefused, match="电话号码"):
        hotline.record_feedback(notified, JINING_CITY, "H-1", "属实", "来电人电话 13912345678", now=NOW)
    assert stored(notified)["H-1"]["feedback"] is None


def test_two_users_answering_at_once_one_wins(notified: sa.Engine) -> None:
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def answer(who: Identity, verdict: str) -> None:
        start.wait()
        try:
            hotline.record_feedback(notified, who, "H-1", verdict, "核查情况", now=NOW)
            outcomes.append(verdict)
        except StaleStep:
            outcomes.append("stale")
        except sa.exc.DBAPIError:  # DuckDB may refuse the second writer outright: also "not twice"
            outcomes.append("conflict")

    threads = [threading.Thread(target=answer, args=args) for args in ((PROVINCE, "属实"), (JINING_CITY, "不属实"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [o for o in outcomes if o in ("属实", "不属实")]
    assert len(answered) == 1 and len(outcomes) == 2 and set(outcomes) - set(answered) <= {"stale", "conflict"}, outcomes
    won = stored(notified)["H-1"]["feedback"]
    assert won == {"属实": "true", "不属实": "untrue"}[answered[0]]
    assert count(notified, supervision_items) == (1 if won == "true" else 0)


def test_a_true_answer_opens_a_supervision_item_for_the_case(notified: sa.Engine) -> None:
    item_id = hotline.record_feedback(notified, JINING_CITY, "H-1", "属实", "承办人拖延，已约谈", now=NOW)
    item = item_of(notified, "H-1")
    assert item["id"] == item_id
    assert (item["subject"], item["case_id"], item["county_code"], item["status"], item["method"]) == (
        "case", "R-1", RENCHENG, "open", "letter")
    assert item["title"] == "12388来电反映办理缓慢（来电编号 H-1）属实"
    assert item["reason"] == "12388来电（2024年5月通报）经核查反馈属实，请整改并按期反馈。核查情况：承办人拖延，已约谈"
    assert item["reply_due"] == dt.date(2024, 6, 20)  # 10 working days: 端午 (6-10) is a holiday
    assert (item["opened_by"], item["opened_scope"], item["opened_at"]) == ("jining", JINING, NOW)
    details = list(recent(notified, 2)["detail"])
    assert details == [f"反馈 来电编号 H-1（{RENCHENG}）：属实，已挂账督办",
                       f"挂账督办 {RENCHENG} 件号 R-1：12388来电反映办理缓慢（来电编号 H-1）属实（发函督办，反馈期限 2024-06-20）"]
    # without a case, the county is the subject
    hotline.record_feedback(notified, PROVINCE, "H-2", "属实", "属实", now=NOW)
    other = item_of(notified, "H-2")
    assert (other["subject"], other["case_id"], other["county_code"], other["opened_scope"]) == ("county", None, RENCHENG, "")
    assert other["title"] == "12388来电反映其他问题（来电编号 H-2）属实"


def test_reply_workdays_come_from_the_settings(notified: sa.Engine) -> None:
    hotline.record_feedback(notified, JINING_CITY, "H-1", "属实", "属实", now=NOW, settings=HotlineSettings(reply_workdays=3))
    assert item_of(notified, "H-1")["reply_due"] == dt.date(2024, 6, 11)


def answer_may(db: sa.Engine, untrue: tuple[str, ...] = ("H-1", "H-2", "H-3", "H-4")) -> None:
    for complaint_id in untrue:
        who = PROVINCE if complaint_id == "H-4" else JINING_CITY
        hotline.record_feedback(db, who, complaint_id, "不属实", "已按期办结", now=NOW)


def test_the_draw_takes_at_least_one_per_city_and_replays_from_its_seed(notified: sa.Engine) -> None:
    answer_may(notified)
    with pytest.raises(OutOfScope):
        hotline.draw_spot_checks(notified, JINING_CITY, "2024-05", seed=7)
    draw = hotline.draw_spot_checks(notified, PROVINCE, "2024-05", seed=7, now=NOW)
    assert (draw.month, draw.seed, draw.share, draw.population, draw.sample) == ("2024-05", 7, 0.2, 4, 2)
    assert sorted(draw.chosen) == [JINAN, JINING] and draw.chosen[JINAN] == ["H-4"] and len(draw.chosen[JINING]) == 1
    with notified.connect() as conn:
        row = conn.execute(sa.select(spot_check_draws)).mappings().one()
    assert (row["id"], row["seed"], row["share"], row["population"], row["sample"], row["drawn_by"], row["drawn_at"]) == (
        draw.id, 7, 0.2, 4, 2, "sheng", NOW)
    # anyone re-runs it from the stored seed and share over the population
    population = {JINING: ["H-3", "H-1", "H-2"], JINAN: ["H-4"]}
    assert replay_draw(population, row["seed"], row["share"]) == draw.chosen
    chosen = {k for k, v in stored(notified).items() if v["spot_check_draw"] == draw.id}
    assert chosen == {i for ids in draw.chosen.values() for i in ids}
    assert recent(notified, 1)["detail"].iloc[0] == f"抽查 2024-05：4 件中抽取 2 件（比例 0.2，种子 7，批次 {draw.id}）"
    with pytest.raises(CycleRefused, match="没有待抽查"):  # the two not chosen were in this draw's population
        hotline.draw_spot_checks(notified, PROVINCE, "2024-05", seed=8, now=NOW + dt.timedelta(hours=1))
    # an answer recorded after the draw is drawn by the next one
    hotline.mark_notified(notified, PROVINCE, "2024-06", now=dt.datetime(2024, 7, 1))
    hotline.record_feedback(notified, JINING_CITY, "H-9", "不属实", "已办结", now=NOW + dt.timedelta(hours=2))
    later = hotline.draw_spot_checks(notified, PROVINCE, "2024-06", seed=8, now=NOW + dt.timedelta(hours=3))
    assert later.chosen == {JINING: ["H-9"]}
    # both recorded draws re-run from the tables alone (the page's check), and a tampered mark is caught
    assert hotline.replays(notified, draw.id) and hotline.replays(notified, later.id)
    with notified.begin() as conn:
        conn.execute(hotline_complaints.update().where(hotline_complaints.c.complaint_id == "H-4").values(spot_check_draw=None))
    assert not hotline.replays(notified, draw.id)


def test_replay_draw_and_sample_size() -> None:
    assert [sample_size(n, 0.2) for n in (0, 1, 4, 5, 6, 15, 16)] == [0, 1, 1, 1, 2, 3, 4]
    assert sample_size(3, 1.0) == 3
    ids = {"370100": [f"A-{i:02d}" for i in range(30)], "370800": [f"B-{i:02d}" for i in range(7)], "370200": []}
    first = replay_draw(ids, 12345, 0.2)
    assert first == replay_draw({k: list(reversed(v)) for k, v in ids.items()}, 12345, 0.2)  # order of ids is irrelevant
    assert {k: len(v) for k, v in first.items()} == {"370100": 6, "370800": 2}
    assert first != replay_draw(ids, 12346, 0.2)
    assert set(first["370100"]) <= set(ids["370100"]) and first["370100"] == sorted(first["370100"])


def test_spot_check_results_by_the_province(notified: sa.Engine) -> None:
    answer_may(notified)
    draw = hotline.draw_spot_checks(notified, PROVINCE, "2024-05", share=1.0, seed=1, now=NOW)
    assert draw.sample == 4
    later = NOW + dt.timedelta(days=10)
    with pytest.raises(OutOfScope):
        hotline.record_spot_check(notified, JINING_CITY, "H-1", "反馈不实", "调卷发现超期", now=later)
    assert hotline.record_spot_check(notified, PROVINCE, "H-1", "反馈属实", "调卷核实", now=later) is None
    item_id = hotline.record_spot_check(notified, PROVINCE, "H-3", "false", "调卷发现超期未告知", now=later)
    item = item_of(notified, "H-3")
    assert (item["id"], item["subject"], item["case_id"], item["county_code"], item["opened_scope"]) == (
        item_id, "case", "W-1", WEISHAN, "")
    assert item["title"] == "12388来电反映办理缓慢（来电编号 H-3），抽查发现反馈不实"
    row = stored(notified)["H-3"]
    assert (row["spot_check_result"], row["spot_check_note"], row["spot_check_at"], row["spot_check_by"]) == (
        "false", "调卷发现超期未告知", later, "sheng")
    assert stored(notified)["H-1"]["supervision_item_id"] is None
    with pytest.raises(StaleStep, match="已录入抽查结果（反馈属实）"):
        hotline.record_spot_check(notified, PROVINCE, "H-1", "反馈不实", "改判", now=later)
    assert recent(notified, 2)["detail"].iloc[0] == f"抽查结果 来电编号 H-3（{WEISHAN}）：反馈不实，已挂账督办"


def test_a_complaint_not_drawn_takes_no_result(notified: sa.Engine) -> None:
    answer_may(notified, ("H-1",))
    with pytest.raises(StaleStep, match="未被抽中"):
        hotline.record_spot_check(notified, PROVINCE, "H-1", "反馈属实", "核实", now=NOW)
    with pytest.raises(OutOfScope, match="不存在"):
        hotline.record_spot_check(notified, PROVINCE, "NOPE", "反馈属实", "核实", now=NOW)


def test_the_complaints_frame_is_scoped(notified: sa.Engine) -> None:
    frame = hotline.complaints(notified, Scope(JINING))
    assert list(frame["complaint_id"]) == ["H-1", "H-2", "H-3", "H-9"]
    assert list(frame.columns) == [*(c.name for c in hotline_complaints.columns), "city_code"]
    assert set(frame["city_code"]) == {JINING}
    assert list(hotline.complaints(notified, Scope(WEISHAN))["complaint_id"]) == ["H-3"]
    with pytest.raises(TypeError):
        hotline.complaints(notified, None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- settings

def test_hotline_settings(tmp_path: Path) -> None:
    assert load_hotline_settings(DEFAULT_SETTINGS_FILE) == HotlineSettings()  # the shipped file holds the defaults
    path = tmp_path / "s.toml"
    path.write_text("[hotline]\nspot_check_share = 0.5\nfeedback_day = 5\n", encoding="utf-8")
    settings = load_hotline_settings(path)
    assert (settings.spot_check_share, settings.feedback_day, settings.reply_workdays) == (0.5, 5, 10)
    assert settings.feedback_due("2024-12") == dt.date(2025, 1, 5)
    path.write_text("[metrics]\nmin_volume = 5\n", encoding="utf-8")
    assert load_hotline_settings(path) == HotlineSettings()
    path.write_text("[hotline]\nfeedback_day = 30\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="feedback_day"):
        load_hotline_settings(path)


# ---------------------------------------------------------------- the demo

def test_the_demo_brings_consistent_complaints(engine: sa.Engine) -> None:
    end = dt.date(2024, 9, 15)
    load_demo(engine, 3000, 3, end)
    frame = hotline.complaints(engine, WHOLE_PROVINCE)
    with engine.connect() as conn:
        case_rows = pd.DataFrame(conn.execute(sa.select(cases.c.case_id, cases.c.county_code, cases.c.received_date)).all(),
                                 columns=["case_id", "case_county", "case_received"])
        items = pd.DataFrame(conn.execute(sa.select(supervision_items)).mappings().all())
        steps = conn.execute(sa.select(sa.func.count()).select_from(supervision_events)).scalar_one()
    per_county_month = len(frame) / frame["county_code"].nunique() / 28
    assert 1.0 < per_county_month < 4.0 and frame["complaint_id"].str.startswith(ID_PREFIX).all()
    assert set(frame["kind"]) == {k.value for k in ComplaintKind}
    linked = frame.merge(case_rows, on="case_id")
    assert len(linked) == frame["case_id"].notna().sum() and 0.7 < len(linked) / len(frame) < 0.9
    assert (linked["case_county"] == linked["county_code"]).all()
    assert (linked["case_received"] < linked["received_date"]).all()
    month = pd.to_datetime(frame["received_date"]).dt.strftime("%Y-%m")
    assert frame.loc[month >= "2024-08", "notified_month"].isna().all()
    assert (frame.loc[month < "2024-08", "notified_month"] == month[month < "2024-08"]).all()
    answered = frame["feedback"].notna()
    assert 0.28 < (frame.loc[answered, "feedback"] == "true").mean() < 0.42
    draws = hotline.draws(engine)
    assert list(draws["month"]) == sorted(set(month[month < "2024-08"]))
    for draw in draws.itertuples():
        untrue = frame[(frame["notified_month"] == draw.month) & (frame["feedback"] == "untrue")]
        population = {str(c): list(g["complaint_id"]) for c, g in untrue.groupby("city_code")}
        chosen = replay_draw(population, draw.seed, draw.share)
        assert sorted(i for ids in chosen.values() for i in ids) == sorted(frame.loc[frame["spot_check_draw"] == draw.id, "complaint_id"])
        assert draw.sample == sum(len(v) for v in chosen.values()) and set(chosen) == set(population)
    opened = frame[(frame["feedback"] == "true") | (frame["spot_check_result"] == "false")]
    assert opened["supervision_item_id"].notna().all() and frame["supervision_item_id"].notna().sum() == len(opened)
    joined = opened.merge(items, left_on="supervision_item_id", right_on="id", suffixes=("", "_item"))
    assert len(joined) == len(items) == len(opened)
    assert (joined["county_code"] == joined["county_code_item"]).all()
    assert ((joined["subject"] == "case") == joined["case_id"].notna()).all()
    old = joined[pd.to_datetime(joined["opened_at"]) < pd.Timestamp(end) - pd.Timedelta(days=120)]
    assert (old["status"] == "closed").mean() > 0.85
    assert steps == len(items) + items["replied_at"].notna().sum() + items["closed_at"].notna().sum()
    # removed with the demo cases, items and draws included; a real complaint stays
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG)]), "c.csv")
    load(engine, [call("H-1")])
    remove_demo_cases(engine)
    assert list(stored(engine)) == ["H-1"]
    assert (count(engine, supervision_items), count(engine, supervision_events), count(engine, spot_check_draws)) == (0, 0, 0)


def test_the_command_line_imports_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    assert cli_main(["init", "--db", url]) == 0
    path = tmp_path / "12388.csv"
    path.write_bytes(csv_bytes([call("H-1", 关联件号="", **CALLER)]))
    assert cli_main(["import-complaints", "--db", url, str(path), "--check"]) == 0
    assert "校验通过：12388来电投诉 1 件，未写入数据库" in capsys.readouterr().out
    assert cli_main(["import-complaints", "--db", url, str(path)]) == 0
    assert "来电人, 联系电话, 身份证号, 家庭住址, 来电内容" in capsys.readouterr().out
    assert cli_main(["import-complaints", "--db", url, str(path)]) == 1
    assert '第 2 行，来电编号，"H-1"：来电编号已存在于数据库中' in capsys.readouterr().err
    assert cli_main(["import-complaints", "--db", url, str(tmp_path / "none.csv")]) == 2
    engine = make_engine(url)
    assert list(stored(engine)) == ["H-1"]
    engine.dispose()
