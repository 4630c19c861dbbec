"""The campaign's week (metrics.campaign_week) on every engine: the matters as they stood at an as-of date — a step
taken after it unseen — the week's 化解 and 案结事了, 超期未化解 past the deadline, a relapse before it is recorded,
the 包案领导 then in force, and the scope."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.supervision import campaign
from data_access.supervision.campaign import State
from metrics.campaign_week import CampaignCounts, campaign_week
from tests import test_campaign
from tests.test_campaign import (
    JINING,
    JINING_CITY,
    LATE,
    PROVINCE,
    RENCHENG,
    RENCHENG_COUNTY,
    SCREENING,
    WEISHAN,
    assign,
    new_report,
)

db = test_campaign.db  # its matters' reports, the campaign's tables emptied
ENROLLED_ON = dt.datetime(2024, 3, 4, 9)  # a Monday
MONTH_LATER = dt.datetime(2024, 4, 3, 15)  # a Wednesday
DEADLINE = dt.date(2024, 3, 31)


def run_campaign(db: sa.Engine) -> tuple[str, str, str]:
    """M-REN enrolled, assigned, resolved on 2024-04-03 and settled on 2024-07-02; M-WEI enrolled by the city and
    left; M-LIX (济南) enrolled with a later deadline."""
    ren = campaign.enrol(db, PROVINCE, "M-REN", deadline=DEADLINE, as_of=ENROLLED_ON.date(), screening=SCREENING,
                         now=ENROLLED_ON)
    wei = campaign.enrol(db, JINING_CITY, "M-WEI", deadline=DEADLINE, as_of=ENROLLED_ON.date(), screening=SCREENING,
                         now=ENROLLED_ON)
    lix = campaign.enrol(db, PROVINCE, "M-LIX", deadline=dt.date(2024, 12, 31), as_of=ENROLLED_ON.date(),
                         screening=SCREENING, now=ENROLLED_ON + dt.timedelta(days=7))
    assign(db, ren, now=ENROLLED_ON + dt.timedelta(days=1))
    assign(db, ren, leader_name="李某某", leader_post="济宁市纪委副书记", now=ENROLLED_ON + dt.timedelta(days=20))
    campaign.claim_resolved(db, RENCHENG_COUNTY, ren, note="已逐项答复，所涉问题整改到位", now=MONTH_LATER)
    campaign.confirm_settled(db, PROVINCE, ren, as_of=LATE, screening=SCREENING, now=dt.datetime(2024, 7, 2, 10))
    return ren, wei, lix


def test_the_week_of_enrolment(db: sa.Engine) -> None:
    ren, wei, lix = run_campaign(db)
    week = campaign_week(db, WHOLE_PROVINCE, dt.date(2024, 3, 6))
    assert week.week_start == dt.date(2024, 3, 4)
    assert week.counts == CampaignCounts(2, 2, 0, 0, 0, 0)  # M-LIX came the week after
    rows = week.matters.set_index("id")
    assert rows.loc[ren, "state"] == State.ASSIGNED.value and rows.loc[ren, "leader"] == "任城区纪委书记张某某"
    assert rows.loc[wei, "state"] == State.ENROLLED.value and rows.loc[wei, "leader"] == ""
    assert rows.loc[ren, ["county_name", "city_name", "reports"]].tolist() == ["任城区", "济宁市", 3]
    assert lix not in rows.index


def test_the_week_of_resolution_past_the_deadline(db: sa.Engine) -> None:
    ren, wei, lix = run_campaign(db)
    week = campaign_week(db, WHOLE_PROVINCE, MONTH_LATER.date())  # 2024-04-01 .. 04-03
    assert week.counts == CampaignCounts(3, 0, 1, 0, 2, 0)
    assert week.matters["id"].tolist() == [ren, wei, lix]  # overdue first (by deadline, then key)
    rows = week.matters.set_index("id")
    assert rows.loc[ren, "state"] == State.RESOLVED.value and rows.loc[ren, "leader"] == "济宁市纪委副书记李某某"
    assert rows.loc[ren, "overdue"] and rows.loc[wei, "overdue"] and not rows.loc[lix, "overdue"]
    assert list(week.attention["matter"]) == ["M-REN", "M-WEI"]
    # the day before the claim: nothing resolved that week yet
    assert campaign_week(db, WHOLE_PROVINCE, dt.date(2024, 4, 2)).counts.resolved_this_week == 0


def test_the_week_of_settlement_and_a_relapse_before_it_is_recorded(db: sa.Engine) -> None:
    ren, wei, lix = run_campaign(db)
    week = campaign_week(db, WHOLE_PROVINCE, dt.date(2024, 7, 3))
    assert week.counts == CampaignCounts(3, 0, 0, 1, 1, 0)
    new_report(db, "M-WEI", WEISHAN, "2024-07-03")
    week = campaign_week(db, WHOLE_PROVINCE, dt.date(2024, 7, 3))
    assert week.counts.relapsed == 1 and week.matters.set_index("id").loc[wei, "new_reports"] == 1
    assert week.attention["matter"].tolist() == ["M-WEI"]  # overdue and relapsed
    campaign.record_relapse(db, JINING_CITY, wei, as_of=dt.date(2024, 7, 3), screening=SCREENING,
                            now=dt.datetime(2024, 7, 3, 16))
    after = campaign_week(db, WHOLE_PROVINCE, dt.date(2024, 7, 3)).matters.set_index("id").loc[wei]
    assert (after["state"], after["new_reports"], bool(after["relapse"])) == (State.RELAPSED.value, 0, True)


def test_scope(db: sa.Engine) -> None:
    run_campaign(db)
    day = dt.date(2024, 4, 10)
    assert campaign_week(db, Scope(JINING), day).matters["matter"].tolist() == ["M-REN", "M-WEI"]
    assert campaign_week(db, Scope(RENCHENG), day).matters["matter"].tolist() == ["M-REN"]
    assert campaign_week(db, Scope("370100"), day).matters["matter"].tolist() == ["M-LIX"]
    assert campaign_week(db, Scope(WEISHAN), dt.date(2024, 3, 1)).counts.enrolled == 0  # before any enrolment
