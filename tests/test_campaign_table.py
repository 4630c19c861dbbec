"""The 积案化解 page's numbers on every engine (metrics.campaign.campaign_table; metrics.matters.matter_reports):
screened matters per 100 accusations, the campaign's matters counted by 包案, state and deadline, per county and
rolled up to cities and the province, within a viewer's scope; a matter's reports in order with the screening's
keying."""
from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from data_access import campaign
from data_access.enums import Level
from data_access.scope import WHOLE_PROVINCE, Scope
from metrics.campaign import CAMPAIGN_COLUMNS, campaign_table
from metrics.matters import matter_reports
from tests.test_campaign import (  # noqa: F401 (db: the campaign tests' fixture)
    EARLY,
    JINING,
    LIXIA,
    NOW,
    PROVINCE,
    RENCHENG,
    RENCHENG_COUNTY,
    SCREENING,
    WEISHAN,
    assign,
    db,
    enrol_rencheng,
    new_report,
)

MID_MARCH = dt.date(2024, 3, 20)  # the latest reports 48 days old: every three-report matter still screened
SHORT_DEADLINE = dt.date(2024, 3, 10)  # passed by MID_MARCH


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
    assert campaign.record_relapses(db, PROVINCE, MID_MARCH, SCREENING) == [row_id]
    shown = row(campaign_table(db, Level.COUNTY, MID_MARCH, scope=Scope(RENCHENG)), RENCHENG)
    assert (shown["cases"], shown["relapsed"], shown["resolved"]) == (6, 1, 0)
    campaign.claim_resolved(db, RENCHENG_COUNTY, row_id, note="新反映的问题已核实并答复", now=NOW)
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
