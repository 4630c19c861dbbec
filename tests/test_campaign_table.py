"""The 积案化解 page's numbers on every engine (metrics.campaign.campaign_table; metrics.matters.matter_reports):
screened matters per 100 accusations, the campaign's matters counted by 包案, state and deadline, per county and
rolled up to cities and the province, within a viewer's scope, as they stood at the 截止日期 — equal to the 周例会's
(metrics.campaign_week) at every date of a matter's steps; a matter's reports in order with the screening's
keying."""
from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.reference.enums import Level
from data_access.store.schema import cases
from data_access.supervision import campaign
from metrics.campaign import CAMPAIGN_COLUMNS, campaign_table
from metrics.campaign_week import campaign_week
from metrics.matters import matter_reports
from tests.test_campaign import (  # noqa: F401 (db: the campaign tests' fixture)
    EARLY,
    JINING,
    JINING_CITY,
    LIXIA,
    NOW,
    PROVINCE,
    RENCHENG,
    RENCHENG_COUNTY,
    SCREENING,
    WEISHAN,
    assign,
    data_end_case,
    db,
    enrol_rencheng,
    new_report,
)

MID_MARCH = dt.date(2024, 3, 20)  # the latest reports 48 days old: every three-report matter still screened
SHORT_DEADLINE = dt.date(2024, 3, 10)  # passed by MID_MARCH
RELAPSE_RECORDED = dt.datetime(2024, 3, 20, 9)  # on MID_MARCH: its steps are read at that day's end


def row(frame, code: str) -> dict:
    return frame.set_index("code").loc[code].to_dict()


def test_screened_per_100_and_the_campaign_by_county(db: sa.Engine) -> None:  # noqa: F811 (the fixture imported above)
    assign(db, enrol_rencheng(db))
    campaign.enrol(db, PROVINCE, "M-WEI", deadline=SHORT_DEADLINE, as_of=EARLY, screening=SCREENING, now=NOW)
    counties = campaign_table(db, Level.COUNTY, MID_MARCH, scope=Scope(JINING), parent=JINING)
    assert list(counties.columns) == list(CAMPAIGN_COLUMNS) and len(counties) == 11  # every county of 济宁市
    rencheng, weishan = row(counties, RENCHENG), row(counties, WEISHAN)
    # 任城区: M-REN (3 reports, screened) and M-TWO (2 reports): 5 accusations
    assert {k: rencheng[k] for k in ("cases", "screened", "enrolled", "assigned", "resolved", "overdue", "relapsed")} == \
        {"cases": 5, "screened": 1, "enrolled": 1, "assigned": 1, "resolved": 0, "overdue": 0, "relapsed": 0}
    assert rencheng["per_100"] == 20.0 and rencheng["assigned_rate"] == 1.0 and rencheng["resolved_rate"] == 0.0
    assert (weishan["cases"], weishan["screened"], weishan["enrolled"], weishan["assigned"], weishan["overdue"]) == (3, 1, 1, 0, 1)
    assert weishan["assigned_rate"] == 0.0
    quiet = row(counties, "370812")  # 兖州区: no case at all
    assert quiet["cases"] == 0 and math.isnan(quiet["per_100"]) and math.isnan(quiet["assigned_rate"])
    # the province's row and its cities: the same counts, summed
    (whole,) = campaign_table(db, Level.PROVINCE, MID_MARCH, scope=WHOLE_PROVINCE).to_dict("records")
    assert (whole["cases"], whole["screened"], whole["enrolled"], whole["assigned"], whole["overdue"]) == (11, 3, 2, 1, 1)
    assert whole["assigned_rate"] == 0.5 and whole["per_100"] == pytest.approx(300 / 11)
    cities = campaign_table(db, Level.CITY, MID_MARCH, scope=WHOLE_PROVINCE)
    assert len(cities) == 16 and row(cities, JINING)["screened"] == 2 and row(cities, "370100")["screened"] == 1
    # a city viewer asking for the province gets its own city alone
    assert list(campaign_table(db, Level.CITY, MID_MARCH, scope=Scope(JINING))["code"]) == [JINING]
    # on the deadline's day the matter is not yet overdue; after the data shows it settled it is no longer screened
    assert row(campaign_table(db, Level.COUNTY, SHORT_DEADLINE, scope=WHOLE_PROVINCE, parent=WEISHAN), WEISHAN)["overdue"] == 0
    assert row(campaign_table(db, Level.COUNTY, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE, parent=LIXIA), LIXIA)["screened"] == 0


def test_relapsed_then_resolved(db: sa.Engine) -> None:  # noqa: F811 (the fixture imported above)
    row_id = enrol_rencheng(db)
    assign(db, row_id)
    new_report(db, "M-REN", RENCHENG, "2024-03-15")
    # before it is recorded the new report already counts as 反弹 (as in the 周例会)
    shown = row(campaign_table(db, Level.COUNTY, MID_MARCH, scope=Scope(RENCHENG)), RENCHENG)
    assert (shown["cases"], shown["relapsed"], shown["resolved"]) == (6, 1, 0)
    assert campaign.record_relapses(db, PROVINCE, MID_MARCH, SCREENING, now=RELAPSE_RECORDED) == [row_id]
    shown = row(campaign_table(db, Level.COUNTY, MID_MARCH, scope=Scope(RENCHENG)), RENCHENG)
    assert (shown["cases"], shown["relapsed"], shown["resolved"]) == (6, 1, 0)
    campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note="新反映的问题已核实并答复", now=RELAPSE_RECORDED + dt.timedelta(hours=2))
    shown = row(campaign_table(db, Level.COUNTY, MID_MARCH, scope=Scope(RENCHENG)), RENCHENG)
    assert (shown["relapsed"], shown["resolved"], shown["resolved_rate"]) == (0, 1, 1.0)
    assert campaign_table(db, Level.COUNTY, MID_MARCH, scope=Scope(JINING), parent=LIXIA).empty


def test_a_matters_reports_in_order(db: sa.Engine) -> None:  # noqa: F811 (the fixture imported above)
    reports = matter_reports(db, "M-REN", EARLY)
    assert list(reports["case_id"]) == ["M-REN-0", "M-REN-1", "M-REN-2"]
    assert list(reports["received_level"]) == ["county", "city", "province"]
    assert list(reports["channel"]) == ["letter", "visit", "online"]
    assert [str(d) for d in reports["received_date"]] == ["2023-05-04", "2023-11-06", "2024-02-01"]
    assert matter_reports(db, "M-REN", dt.date(2023, 12, 31))["case_id"].tolist() == ["M-REN-0", "M-REN-1"]
    assert matter_reports(db, "m-ren", EARLY).empty  # keys compare in binary


# --- the page and the 周例会 agree at every 截止日期 (issue 31) ----------------------------------------------------

AGREED = ("enrolled", "overdue", "relapsed")  # the counts the page and the meeting both show
VIEWERS = ((WHOLE_PROVINCE, Level.PROVINCE, None), (Scope(JINING), Level.CITY, JINING),
           (Scope(RENCHENG), Level.COUNTY, RENCHENG), (Scope(WEISHAN), Level.COUNTY, WEISHAN))
STEP_DEADLINE = dt.date(2024, 3, 31)


def page_and_meeting(engine: sa.Engine, day: dt.date) -> list[tuple[dict[str, int], dict[str, int]]]:
    """For each viewer, the page's headline (campaign_table at the viewer's own level, as pages/matters.py reads it)
    and the meeting's counts at `day` (metrics.campaign_week), with resolved and assigned counted from its list."""
    pairs = []
    for scope, level, parent in VIEWERS:
        (page,) = campaign_table(engine, level, day, scope=scope, parent=parent).to_dict("records")
        week = campaign_week(engine, scope, day)
        listed = week.matters
        meeting = {"enrolled": week.counts.enrolled, "overdue": week.counts.overdue, "relapsed": week.counts.relapsed,
                   "resolved": int(listed["state"].isin(["resolved", "settled"]).sum()) if not listed.empty else 0,
                   "assigned": int((listed["leader"] != "").sum()) if not listed.empty else 0}
        pairs.append(({k: int(page[k]) for k in meeting}, meeting))
    return pairs


def the_provinces(engine: sa.Engine, day: dt.date) -> dict[str, int]:
    """The province's page and meeting at `day`, checked equal for every viewer first."""
    pairs = page_and_meeting(engine, day)
    for page, meeting in pairs:
        assert page == meeting, day
    return pairs[0][0]


def test_the_page_and_the_meeting_agree_at_every_date(db: sa.Engine) -> None:  # noqa: F811 (the fixture imported above)
    def at(day: str, hour: int = 9) -> dt.datetime:
        return dt.datetime.fromisoformat(day) + dt.timedelta(hours=hour)

    live: dict[dt.date, dict[str, int]] = {}

    def read(day: str) -> None:
        live[dt.date.fromisoformat(day)] = the_provinces(db, dt.date.fromisoformat(day))

    # the fixture's data runs to its DATA_END, so every day read here is a past day of the data, read as it stood at
    # its end; at the data's last day the campaign is read as it is now (next test)
    read("2024-03-03")
    ren = campaign.enrol(db, PROVINCE, "M-REN", deadline=STEP_DEADLINE, as_of=dt.date(2024, 3, 4), screening=SCREENING,
                         now=at("2024-03-04"))
    read("2024-03-04")
    assign(db, ren, now=at("2024-03-05"))
    campaign.enrol(db, JINING_CITY, "M-WEI", deadline=STEP_DEADLINE, as_of=dt.date(2024, 3, 11), screening=SCREENING,
                   now=at("2024-03-11"))
    read("2024-03-12")
    new_report(db, "M-REN", RENCHENG, "2024-03-15")
    read("2024-03-16")  # the new report not yet recorded: 反弹 on both
    assert campaign.record_relapses(db, PROVINCE, dt.date(2024, 3, 20), SCREENING, now=at("2024-03-20")) == [ren]
    read("2024-03-20")
    read("2024-04-01")  # past the deadline
    campaign.claim_resolved(db, RENCHENG_COUNTY, ren, note="新反映的问题已核实并答复", now=at("2024-04-03", 15))
    read("2024-04-03")
    keys = ("enrolled", "assigned", "resolved", "overdue", "relapsed")
    assert {day.isoformat(): tuple(counts[k] for k in keys) for day, counts in live.items()} == {
        "2024-03-03": (0, 0, 0, 0, 0), "2024-03-04": (1, 0, 0, 0, 0), "2024-03-12": (2, 1, 0, 0, 0),
        "2024-03-16": (2, 1, 0, 0, 1), "2024-03-20": (2, 1, 0, 0, 1), "2024-04-01": (2, 1, 0, 2, 1),
        "2024-04-03": (2, 1, 1, 2, 0)}
    # read again afterwards, each date as it stood then: the same, but for the relapse recorded on 03-20, which at
    # 03-16 no longer reads as a report the campaign has not seen (docs/contract/campaign.md)
    again = {day: the_provinces(db, day) for day in live}
    assert again == {**live, dt.date(2024, 3, 16): {**live[dt.date(2024, 3, 16)], "relapsed": 0}}
    # by region as well: each city's row on the province's page is the meeting's list counted by city
    for day in live:
        cities = campaign_table(db, Level.CITY, day, scope=WHOLE_PROVINCE).set_index("code")
        listed = campaign_week(db, WHOLE_PROVINCE, day).matters
        by_city = listed.groupby("city_code")[["overdue", "relapse"]].sum() if not listed.empty else None
        for code, shown in cities.iterrows():
            enrolled = int((listed["city_code"] == code).sum()) if not listed.empty else 0
            expected = (enrolled, *(int(by_city.loc[code].iloc[i]) if by_city is not None and code in by_city.index
                                    else 0 for i in (0, 1)))
            assert (int(shown["enrolled"]), int(shown["overdue"]), int(shown["relapsed"])) == expected, (day, code)


def test_at_the_datas_last_day_the_campaign_is_read_as_it_is_now(db: sa.Engine) -> None:  # noqa: F811
    """Steps are stamped with the clock, cases with the day: at the data's last day (the sidebar's default 截止日期)
    a step taken afterwards — today, after yesterday's load — counts on the page and in the meeting, and a relapse
    recorded as the page opens stays counted; at an earlier day of the data it does not."""
    with db.begin() as conn:  # the fixture's data-end case out: the data ends with M-REN's fourth report
        conn.execute(cases.delete().where(cases.c.case_id == data_end_case()["case_id"]))
    last_day = dt.date(2024, 3, 15)
    new_report(db, "M-REN", RENCHENG, last_day.isoformat())  # the data's last day: a fourth report of M-REN
    later = dt.datetime(2024, 3, 18, 9)  # steps taken three days after the data's last day
    ren = campaign.enrol(db, PROVINCE, "M-REN", deadline=STEP_DEADLINE, as_of=last_day, screening=SCREENING, now=later)
    assert the_provinces(db, last_day)["enrolled"] == 1  # shown at once at the default 截止日期
    assert the_provinces(db, dt.date(2024, 3, 14))["enrolled"] == 0  # a past day of the data: not yet enrolled then
    assert campaign.record_relapses(db, PROVINCE, last_day, SCREENING, now=later) == []  # enrolled with 4 reports
    new_report(db, "M-REN", RENCHENG, "2024-03-19")  # the next load: a fifth report, and a new last day
    assert the_provinces(db, dt.date(2024, 3, 19))["relapsed"] == 1  # not yet recorded: the meeting names it
    assert campaign.record_relapses(db, PROVINCE, dt.date(2024, 3, 19), SCREENING,
                                    now=dt.datetime(2024, 3, 20, 9)) == [ren]
    assert the_provinces(db, dt.date(2024, 3, 19))["relapsed"] == 1  # recorded: still counted where it was recorded
    # 03-15 is now a past day of the data: read as it stood at its end, before the enrolment of 03-18
    assert the_provinces(db, last_day)["enrolled"] == 0
