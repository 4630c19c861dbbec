"""越级重复举报专项治理 workflow on every engine: each step and who may take it, scope by crafted call, stale
steps refused, 包案 history kept, 案结事了 only when the data shows the matter settled, relapse found and
recorded, an audit row and a new data version per step, nothing written by a refused step."""
from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.audit import recent
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.store.changes import data_version
from data_access.store.schema import (
    audit_log,
    campaign_assignments,
    campaign_events,
    campaign_matters,
    campaign_notes,
    data_changes,
)
from data_access.supervision import campaign
from data_access.supervision.campaign import CampaignRefused, Screening, StaleStep, State
from data_access.supervision.ledger import LedgerRefused
from metrics.campaign import read_matters
from tests.test_importer import case, csv_bytes

NOW = dt.datetime(2024, 3, 2, 9, 30)
EARLY = dt.date(2024, 3, 1)  # the latest report 29 days old: screened, not settled
LATE = dt.date(2024, 6, 30)  # quiet for 150 days: settled in the data
DEADLINE = dt.date(2024, 6, 30)
JINING, RENCHENG, WEISHAN, LIXIA = "370800", "370811", "370826", "370102"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
JINING_CITY = Identity("jining", Role.CITY, JINING, "济宁市纪委监委")
JINAN_CITY = Identity("jinan", Role.CITY, "370100", "济南市纪委监委")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, RENCHENG, "任城区纪委监委")
WEISHAN_COUNTY = Identity("weishan", Role.COUNTY, WEISHAN, "微山县纪委监委")
SCREENING: Screening = read_matters
TABLES = (campaign_matters, campaign_assignments, campaign_notes, campaign_events)


def reports_of(matter: str, county: str, *, prefix: str | None = None, count: int = 3) -> list[dict[str, str]]:
    """`count` closed reports of one matter from 2023 to 2024-02, county → city → province, three doors."""
    days = ("2023-05-04", "2023-11-06", "2024-02-01", "2024-02-05")
    levels = ("county", "city", "province", "province")
    channels = ("letter", "visit", "online", "phone")
    return [case(f"{prefix or matter}-{i}", county_code=county, matter_id=matter, received_level=levels[i],
                 channel=channels[i], received_date=days[i], due_date="2024-04-30", accepted_notice_date=days[i],
                 closed_date=days[i], result_notice_date=days[i]) for i in range(count)]


DATA_END = "2024-12-31"  # the data's last day: every day the tests read is a past day of the data (steps_cutoff)


def data_end_case() -> dict[str, str]:
    """One case of no matter, received on DATA_END in 历城区 (a county no test counts)."""
    return case("DATA-END-1", county_code="370112", received_date=DATA_END, due_date="2025-02-28",
                accepted_notice_date=DATA_END, closed_date="", result_notice_date="", satisfaction="")


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(table.delete())
    rows = [*reports_of("M-REN", RENCHENG), *reports_of("M-WEI", WEISHAN), *reports_of("M-LIX", LIXIA),
            *reports_of("M-TWO", RENCHENG, count=2), data_end_case()]
    import_bytes(engine, csv_bytes(rows), "cases.csv")
    return engine


def new_report(db: sa.Engine, matter: str, county: str, day: str) -> None:
    import_bytes(db, csv_bytes([case(f"{matter}-new-{day}", county_code=county, matter_id=matter, received_date=day,
                                     closed_date="", due_date="", result_notice_date="", satisfaction="",
                                     accepted_notice_date=day)]), "more.csv")


def enrol_rencheng(db: sa.Engine, actor: Identity = PROVINCE) -> str:
    return campaign.enrol(db, actor, "M-REN", deadline=DEADLINE, as_of=EARLY, screening=SCREENING, now=NOW)


def assign(db: sa.Engine, row_id: str, actor: Identity = JINING_CITY, **extra) -> None:
    values = {"leader_name": "张某某", "leader_post": "任城区纪委书记", "team": "区纪委信访室、案管室、第二监督检查室",
              "plan": "约谈举报人所反映单位负责人，逐项核查，2 个月内答复", "now": NOW, **extra}
    campaign.assign(db, actor, row_id, **values)


def state_of(db: sa.Engine, row_id: str) -> State:
    with db.connect() as conn:
        return State(conn.execute(sa.select(campaign_matters.c.state).where(campaign_matters.c.id == row_id)).scalar_one())


def snapshot(db: sa.Engine) -> tuple[int, ...]:
    with db.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (*TABLES, audit_log, data_changes))


def version(db: sa.Engine) -> str:
    with db.connect() as conn:
        return data_version(conn)


def resolved_rencheng(db: sa.Engine) -> str:
    row_id = enrol_rencheng(db)
    assign(db, row_id)
    campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note="已逐项答复，所涉问题整改到位", now=NOW)
    return row_id


def test_one_matter_from_enrolment_to_settled(db: sa.Engine) -> None:
    versions = [version(db)]
    row_id = enrol_rencheng(db)
    assert state_of(db, row_id) is State.ENROLLED
    versions.append(version(db))
    assign(db, row_id)
    assert state_of(db, row_id) is State.ASSIGNED
    versions.append(version(db))
    campaign.note_progress(db, RENCHENG_COUNTY, row_id, note="已召开专班会议 2 次，核查 3 项问题", seen=State.ASSIGNED,
                           now=NOW + dt.timedelta(days=5))
    assert state_of(db, row_id) is State.ASSIGNED
    versions.append(version(db))
    campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note="3 项问题均已整改，书面答复并见面沟通",
                            now=NOW + dt.timedelta(days=20))
    assert state_of(db, row_id) is State.RESOLVED
    versions.append(version(db))
    with pytest.raises(CampaignRefused, match="仅 29 天"):  # resolved on paper, the data not yet quiet
        campaign.confirm_settled(db, PROVINCE, row_id, as_of=EARLY, screening=SCREENING, now=NOW)
    assert version(db) == versions[-1]
    campaign.confirm_settled(db, PROVINCE, row_id, as_of=LATE, screening=SCREENING, now=dt.datetime(2024, 7, 1, 9))
    assert state_of(db, row_id) is State.SETTLED
    versions.append(version(db))
    assert len(set(versions)) == len(versions)  # every step a new data version
    steps = campaign.history(db, Scope(RENCHENG), row_id)
    assert list(steps["action"]) == ["enrol", "assign", "progress", "resolve", "settle"]
    assert list(steps["seq"]) == [1, 2, 3, 4, 5]
    assert list(steps["username"]) == ["sheng", "jining", "rencheng", "rencheng", "sheng"]
    assert list(steps["to_state"]) == ["enrolled", "assigned", "assigned", "resolved", "settled"]
    assert pd.isna(steps["from_state"].iloc[0]) and steps["detail"].iloc[-1] == "确认案结事了"
    assert list(campaign.notes(db, WHOLE_PROVINCE, row_id)["kind"]) == ["progress", "resolve"]
    log = recent(db, 5)
    assert list(log["action"]) == ["supervision"] * 5
    assert log["detail"].iloc[-1] == f"专项治理纳入专项治理 {RENCHENG} 事项 M-REN：交办，限期 2024-06-30 办结（举报 3 件）"
    assert log["detail"].iloc[0] == f"专项治理案结事了 {RENCHENG} 事项 M-REN：确认案结事了"
    shown = campaign.matters(db, Scope(JINING), dt.date(2024, 7, 2))
    assert list(shown["matter"]) == ["M-REN"] and not shown["overdue"].iloc[0]


@pytest.mark.parametrize(("actor", "allowed"), [(PROVINCE, True), (JINING_CITY, True), (JINAN_CITY, False),
                                                (RENCHENG_COUNTY, False)], ids=["province", "own_city", "other_city", "county"])
def test_who_may_enrol_a_matter_of_rencheng(db: sa.Engine, actor: Identity, allowed: bool) -> None:
    before = snapshot(db)
    if allowed:
        assert state_of(db, enrol_rencheng(db, actor)) is State.ENROLLED
    else:
        with pytest.raises(OutOfScope):
            enrol_rencheng(db, actor)
        assert snapshot(db) == before


def test_only_screened_matters_not_yet_enrolled(db: sa.Engine) -> None:
    before = snapshot(db)
    with pytest.raises(CampaignRefused, match="未列入筛选"):  # two reports: below screen_min_reports
        campaign.enrol(db, PROVINCE, "M-TWO", deadline=DEADLINE, as_of=EARLY, screening=SCREENING, now=NOW)
    with pytest.raises(CampaignRefused, match="不是重复举报事项"):
        campaign.enrol(db, PROVINCE, "NOPE", deadline=DEADLINE, as_of=EARLY, screening=SCREENING, now=NOW)
    with pytest.raises(CampaignRefused, match="未列入筛选"):  # settled by then: no longer screened
        campaign.enrol(db, PROVINCE, "M-REN", deadline=DEADLINE, as_of=LATE, screening=SCREENING, now=NOW)
    with pytest.raises(CampaignRefused, match="早于今天"):
        campaign.enrol(db, PROVINCE, "M-REN", deadline=dt.date(2024, 3, 1), as_of=EARLY, screening=SCREENING, now=NOW)
    assert snapshot(db) == before
    enrol_rencheng(db)
    with pytest.raises(CampaignRefused, match="已纳入专项治理"):
        enrol_rencheng(db, JINING_CITY)


def test_a_batch_is_enrolled_together_or_not_at_all(db: sa.Engine) -> None:
    before = snapshot(db)
    with pytest.raises(OutOfScope, match="M-LIX"):  # 济宁 may not hand over a 济南 matter, so none is
        campaign.enrol_batch(db, JINING_CITY, ["M-REN", "M-WEI", "M-LIX"], deadline=DEADLINE, as_of=EARLY,
                             screening=SCREENING, now=NOW)
    assert snapshot(db) == before
    made = campaign.enrol_batch(db, JINING_CITY, ["M-REN", "M-WEI"], deadline=DEADLINE, as_of=EARLY,
                                screening=SCREENING, now=NOW)
    shown = campaign.matters(db, WHOLE_PROVINCE, EARLY)
    assert set(shown["matter"]) == {"M-REN", "M-WEI"} and set(shown["batch"]) == {made.batch}
    assert set(shown["county_code"]) == {RENCHENG, WEISHAN} and set(made.ids) == {"M-REN", "M-WEI"}
    assert list(campaign.matters(db, Scope(WEISHAN), EARLY)["matter"]) == ["M-WEI"]
    assert list(campaign.matters(db, Scope(JINING), dt.date(2024, 7, 1))["overdue"]) == [True, True]
    assert recent(db, 2)["detail"].str.contains("集中交办").all()


def take(step: str, db: sa.Engine, who: Identity, row_id: str) -> None:
    if step == "assign":
        assign(db, row_id, who)
    elif step == "progress":
        campaign.note_progress(db, who, row_id, note="已约谈相关单位", now=NOW)
    elif step == "resolve":
        campaign.claim_resolved(db, who, row_id, note="已化解", now=NOW)
    elif step == "settle":
        campaign.confirm_settled(db, who, row_id, as_of=LATE, screening=SCREENING, now=NOW)


@pytest.mark.parametrize(("step", "actor", "from_state", "outcome"), [
    ("assign", JINING_CITY, State.ENROLLED, State.ASSIGNED),
    ("assign", RENCHENG_COUNTY, State.ENROLLED, State.ASSIGNED),
    ("assign", RENCHENG_COUNTY, State.ASSIGNED, State.ASSIGNED),  # a change of 包案
    ("assign", PROVINCE, State.ENROLLED, OutOfScope),  # set by the city or county holding it
    ("assign", JINAN_CITY, State.ENROLLED, OutOfScope),
    ("assign", WEISHAN_COUNTY, State.ENROLLED, OutOfScope),  # another county's matter
    ("assign", JINING_CITY, State.RESOLVED, StaleStep),
    ("progress", RENCHENG_COUNTY, State.ASSIGNED, State.ASSIGNED),
    ("progress", WEISHAN_COUNTY, State.ASSIGNED, OutOfScope),
    ("progress", JINING_CITY, State.ASSIGNED, OutOfScope),  # the county writes its progress
    ("progress", RENCHENG_COUNTY, State.SETTLED, StaleStep),
    ("resolve", RENCHENG_COUNTY, State.ASSIGNED, State.RESOLVED),
    ("resolve", WEISHAN_COUNTY, State.ASSIGNED, OutOfScope),
    ("resolve", PROVINCE, State.ASSIGNED, OutOfScope),
    ("resolve", RENCHENG_COUNTY, State.ENROLLED, StaleStep),  # nothing to resolve before a 包案
    ("settle", PROVINCE, State.RESOLVED, State.SETTLED),
    ("settle", JINING_CITY, State.RESOLVED, OutOfScope),  # the province confirms
    ("settle", RENCHENG_COUNTY, State.RESOLVED, OutOfScope),
    ("settle", PROVINCE, State.ASSIGNED, StaleStep),  # nothing claimed yet
    ("settle", PROVINCE, State.SETTLED, StaleStep),
], ids=lambda v: v if isinstance(v, str) else getattr(v, "username", getattr(v, "value", getattr(v, "__name__", None))))
def test_every_step_by_role_and_state(db: sa.Engine, step: str, actor: Identity, from_state: State, outcome) -> None:
    row_id = enrol_rencheng(db)
    if from_state is not State.ENROLLED:
        assign(db, row_id)
    if from_state in (State.RESOLVED, State.SETTLED):
        campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note="已化解", now=NOW)
    if from_state is State.SETTLED:
        campaign.confirm_settled(db, PROVINCE, row_id, as_of=LATE, screening=SCREENING, now=NOW)
    assert state_of(db, row_id) is from_state
    before, moved = snapshot(db), version(db)
    if isinstance(outcome, State):
        take(step, db, actor, row_id)
        assert state_of(db, row_id) is outcome
        assert snapshot(db)[3:5] == (before[3] + 1, before[4] + 1)  # one event, one audit row
        assert version(db) != moved
    else:
        with pytest.raises(outcome):
            take(step, db, actor, row_id)
        assert state_of(db, row_id) is from_state and snapshot(db) == before and version(db) == moved


def test_a_step_on_a_state_the_page_no_longer_shows_is_stale(db: sa.Engine) -> None:
    row_id = enrol_rencheng(db)
    assign(db, row_id, seen=State.ENROLLED)
    before = snapshot(db)
    with pytest.raises(StaleStep, match="已包案"):  # a second user, still looking at the enrolled matter
        assign(db, row_id, RENCHENG_COUNTY, seen=State.ENROLLED)
    assert snapshot(db) == before
    other = campaign.enrol(db, PROVINCE, "M-WEI", deadline=DEADLINE, as_of=EARLY, screening=SCREENING, now=NOW)
    new_report(db, "M-WEI", WEISHAN, "2024-02-20")
    campaign.record_relapse(db, PROVINCE, other, as_of=EARLY, screening=SCREENING, now=NOW)
    assert state_of(db, other) is State.RELAPSED
    with pytest.raises(CampaignRefused, match="尚未包案"):  # relapsed before any 包案: nothing to report on yet
        campaign.note_progress(db, WEISHAN_COUNTY, other, note="已核查", now=NOW)


def test_two_provincial_users_confirming_at_once_one_wins(db: sa.Engine) -> None:
    row_id = resolved_rencheng(db)
    outcomes: list[str] = []
    start = threading.Barrier(2)
    second = Identity("sheng2", Role.PROVINCE, None, "省纪委监委信访室")

    def confirm(who: Identity) -> None:
        start.wait()
        try:
            campaign.confirm_settled(db, who, row_id, as_of=LATE, screening=SCREENING, now=NOW)
            outcomes.append("settled")
        except StaleStep:
            outcomes.append("stale")
        except sa.exc.DBAPIError:  # DuckDB may refuse the second writer outright: also "not twice"
            outcomes.append("conflict")

    threads = [threading.Thread(target=confirm, args=(who,)) for who in (PROVINCE, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("settled") == 1, outcomes
    assert list(campaign.history(db, WHOLE_PROVINCE, row_id)["action"]).count("settle") == 1


def test_a_change_of_baoan_is_a_new_record_the_old_kept(db: sa.Engine) -> None:
    row_id = enrol_rencheng(db)
    assign(db, row_id)
    assign(db, row_id, RENCHENG_COUNTY, leader_name="李某某", leader_post="任城区纪委副书记", plan="调整方案：增加回访",
           now=NOW + dt.timedelta(days=3))
    records = campaign.assignments(db, Scope(RENCHENG), row_id)
    assert list(records["seq"]) == [1, 2]
    assert list(records["leader_name"]) == ["张某某", "李某某"] and list(records["set_by"]) == ["jining", "rencheng"]
    assert records["plan"].iloc[0] == "约谈举报人所反映单位负责人，逐项核查，2 个月内答复"
    assert list(campaign.history(db, WHOLE_PROVINCE, row_id)["detail"])[1:] == [
        "确定包案领导 任城区纪委书记张某某", "变更包案领导 任城区纪委副书记李某某"]
    assert campaign.assignments(db, Scope(WEISHAN), row_id).empty  # a crafted read of another county's matter
    assert campaign.history(db, Scope("370100"), row_id).empty


@pytest.mark.parametrize(("field", "text", "reason"), [
    ("leader_name", "举报人王某", "不得填写举报人"), ("leader_post", "信访人", "不得填写举报人"),
    ("team", "联系 13812345678", "电话号码"), ("plan", "核对身份证 370102199001011234", "身份证"),
    ("leader_name", "", "不能为空"), ("plan", "方" * 2001, "过长")])
def test_baoan_is_an_official_and_no_personal_number(db: sa.Engine, field: str, text: str, reason: str) -> None:
    row_id = enrol_rencheng(db)
    before = snapshot(db)
    with pytest.raises(LedgerRefused, match=reason):
        assign(db, row_id, **{field: text})
    assert snapshot(db) == before


@pytest.mark.parametrize("note", ["联系人电话 13812345678", "请致电 0531-86123456", "举报人身份证 370102199001011234"])
def test_notes_with_personal_numbers_are_refused(db: sa.Engine, note: str) -> None:
    row_id = enrol_rencheng(db)
    assign(db, row_id)
    before = snapshot(db)
    with pytest.raises(LedgerRefused, match="共享屏幕"):
        campaign.note_progress(db, RENCHENG_COUNTY, row_id, note=note, now=NOW)
    with pytest.raises(LedgerRefused, match="共享屏幕"):
        campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note=note, now=NOW)
    assert snapshot(db) == before


def test_settled_only_when_the_data_shows_it(db: sa.Engine) -> None:
    row_id = resolved_rencheng(db)
    new_report(db, "M-REN", RENCHENG, "2024-06-20")  # an open report after the claim
    with pytest.raises(CampaignRefused, match="新举报，应先记录反弹"):
        campaign.confirm_settled(db, PROVINCE, row_id, as_of=LATE, screening=SCREENING, now=NOW)
    campaign.record_relapse(db, PROVINCE, row_id, as_of=LATE, screening=SCREENING, now=NOW)
    campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note="新反映问题已答复", now=NOW)
    with pytest.raises(CampaignRefused, match="尚有 1 件举报未办结"):
        campaign.confirm_settled(db, PROVINCE, row_id, as_of=LATE, screening=SCREENING, now=NOW)
    assert state_of(db, row_id) is State.RESOLVED


def test_a_new_report_is_a_relapse_found_then_recorded(db: sa.Engine) -> None:
    settled = resolved_rencheng(db)
    campaign.confirm_settled(db, PROVINCE, settled, as_of=LATE, screening=SCREENING, now=NOW)
    working = campaign.enrol(db, JINING_CITY, "M-WEI", deadline=DEADLINE, as_of=EARLY, screening=SCREENING, now=NOW)
    assert campaign.find_relapses(db, WHOLE_PROVINCE, LATE, SCREENING) == []
    new_report(db, "M-REN", RENCHENG, "2024-07-10")
    new_report(db, "M-WEI", WEISHAN, "2024-07-12")
    as_of = dt.date(2024, 7, 15)
    assert campaign.find_relapses(db, WHOLE_PROVINCE, LATE, SCREENING) == []  # not yet received at that date
    found = campaign.find_relapses(db, Scope(JINING), as_of, SCREENING)
    assert [(r.matter, r.state, r.known_reports, r.reports) for r in found] == [
        ("M-REN", State.SETTLED, 3, 4), ("M-WEI", State.ENROLLED, 3, 4)]
    assert [r.matter for r in campaign.find_relapses(db, Scope(WEISHAN), as_of, SCREENING)] == ["M-WEI"]
    with pytest.raises(OutOfScope):  # a county records its own relapses only
        campaign.record_relapse(db, WEISHAN_COUNTY, settled, as_of=as_of, screening=SCREENING, now=NOW)
    moved = version(db)
    assert campaign.record_relapses(db, JINING_CITY, as_of, SCREENING, now=NOW) == [found[0].campaign_matter_id,
                                                                                   found[1].campaign_matter_id]
    assert version(db) != moved
    assert state_of(db, settled) is State.RELAPSED and state_of(db, working) is State.RELAPSED
    assert campaign.find_relapses(db, WHOLE_PROVINCE, as_of, SCREENING) == []
    before = snapshot(db)
    with pytest.raises(StaleStep, match="没有未记录的新举报"):
        campaign.record_relapse(db, PROVINCE, settled, as_of=as_of, screening=SCREENING, now=NOW)
    assert snapshot(db) == before
    last = campaign.history(db, WHOLE_PROVINCE, settled).iloc[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == ("relapse", "settled", "relapsed")
    assert last["detail"] == "新增举报 1 件（共 4 件，最新 2024-07-10），原状态“案结事了”"
    campaign.claim_resolved(db, RENCHENG_COUNTY, settled, note="再次答复并回访", now=NOW)  # back to work: it has a 包案
    assert state_of(db, settled) is State.RESOLVED


@pytest.mark.parametrize("state", list(State))
def test_every_state_has_its_steps(state: State) -> None:
    allowed = {step for step in campaign.Step if campaign.next_state(state, step) is not None}
    assert campaign.Step.RELAPSE in allowed and campaign.Step.ENROL not in allowed
    assert campaign.in_work(state) is (state is not State.SETTLED)
