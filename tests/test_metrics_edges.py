"""Hand-built cases at the edges of metrics.md, on every backend.

Each test loads a few cases through the importer and checks one rule: empty rates, the overdue and
on-time boundaries, the default due date, working-day deadlines across holidays and 调休 days,
category scope, the priority thresholds and funnel z, filters, the as-of reading, and that no
reporter identity can reach a case list.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math

import chinese_calendar
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports.importer import import_bytes
from data_access.reference.enums import Level
from data_access.store.schema import CASE_COLUMNS, DEADLINE_COLUMNS, cases, workday_calendar
from metrics import cli
from metrics.caselists import OverdueOrder, case_list, overdue_cases
from metrics.matters import matter_reports
from metrics.priority import priority_counties, rank_counties
from metrics.registry import COUNT_IDS, METRICS, MetricKind
from metrics.request import CaseFilter, Period, TableRequest
from metrics.table import region_table

D = dt.date.fromisoformat
LIXIA, SHIZHONG = "370102", "370103"  # 济南市 历下区, 市中区
SHINAN, SHIBEI = "370202", "370203"  # 青岛市 市南区, 市北区
JINAN, QINGDAO, PROVINCE = "370100", "370200", "370000"
DERIVED_IDS = [m.id for m in METRICS if m.kind is not MetricKind.COUNT]
H1 = Period(D("2024-01-01"), D("2024-06-30"))


# ------------------------------------------------------------------------------------------ helpers

def case(case_id: str, **fields: object) -> dict[str, object]:
    """A closed-by-default-nothing accusation case in 历下区; fields override the defaults."""
    row: dict[str, object] = {
        "case_id": case_id, "county_code": LIXIA, "received_date": "2024-01-10", "channel": "online",
        "category": "accusation", "domain": "其他", "is_first_report": 0, "is_leapfrog": 0, "is_repeat": 0,
        "is_real_name": 0, "due_date": "", "closed_date": "", "satisfaction": "", "disputed": 0,
        "accepted_notice_date": "", "result_notice_date": "",
    }
    unknown = set(fields) - set(row)
    assert not unknown, unknown
    row.update(fields)
    return row


def load(engine: sa.Engine, rows: list[dict[str, object]], extra: dict[str, str] | None = None) -> tuple[str, ...]:
    """Import the rows as a CSV file (replacing the table); return the columns the importer dropped."""
    extra = extra or {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*CASE_COLUMNS, *extra])
    for row in rows:
        writer.writerow([row.get(c, "") for c in CASE_COLUMNS] + list(extra.values()))  # later optional columns empty
    report = import_bytes(engine, buf.getvalue().encode("utf-8"), "x.csv", mode="replace")
    assert report.rows == len(rows)
    return report.dropped_columns


def level_of(code: str) -> Level:
    if code == PROVINCE:
        return Level.PROVINCE
    return Level.CITY if code.endswith("00") else Level.COUNTY


def metrics_of(engine: sa.Engine, code: str, period: Period, filters: CaseFilter = CaseFilter()) -> pd.Series:
    """The metric row of one region."""
    frame = region_table(engine, TableRequest(level_of(code), period, filters=filters, scope=WHOLE_PROVINCE))
    return frame.set_index("code").loc[code]


def d15_independent(day: dt.date) -> dt.date:
    """The 15th working day strictly after `day`, counted here from chinese_calendar (not the project's table)."""
    count = 0
    while count < 15:
        day += dt.timedelta(days=1)
        count += chinese_calendar.is_workday(day)
    return day


def d15_monday_to_friday(day: dt.date) -> dt.date:
    """The same count ignoring holidays and 调休 (what a naive implementation would give)."""
    count = 0
    while count < 15:
        day += dt.timedelta(days=1)
        count += day.weekday() < 5
    return day


def run_cli(engine: sa.Engine, args: list[str], fmt: str) -> str:
    out = io.StringIO()
    assert cli.main([*args, "--db", engine.url.render_as_string(hide_password=False), "--format", fmt], out=out) == 0
    return out.getvalue()


# ------------------------------------------------------------------------------------------ empty denominators

def test_zero_denominator_gives_null_not_zero(engine: sa.Engine) -> None:
    load(engine, [case("OUT-1", category="out_of_scope", received_date="2024-03-01")])
    q1 = Period(D("2024-01-01"), D("2024-03-31"))
    row = metrics_of(engine, LIXIA, q1)
    assert row["received"] == 1 and row["accepted"] == 0
    for mid in DERIVED_IDS:
        assert math.isnan(row[mid]), f"{mid} should be null when its denominator is 0, got {row[mid]!r}"
    empty = metrics_of(engine, SHIZHONG, q1)  # a county without any case still has a row
    assert all(empty[mid] == 0 for mid in COUNT_IDS)
    assert all(math.isnan(empty[mid]) for mid in DERIVED_IDS)


def test_zero_numerator_gives_zero_not_null(engine: sa.Engine) -> None:
    load(engine, [case("A-1", closed_date="2024-02-01", received_date="2024-01-10")])
    row = metrics_of(engine, LIXIA, Period(D("2024-01-01"), D("2024-03-31")))
    assert row["closed"] == 1
    assert row["dispute_rate"] == 0.0 and row["rating_rate"] == 0.0 and row["leapfrog_rate"] == 0.0
    assert math.isnan(row["satisfaction_rate"])  # rated = 0


def test_cli_writes_empty_cells_and_json_null_for_zero_denominators(engine: sa.Engine) -> None:
    load(engine, [case("OUT-1", category="no_substance", received_date="2024-03-01")])
    args = ["table", "--level", "county", "--parent", JINAN, "--from", "2024-01-01", "--to", "2024-03-31"]
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(run_cli(engine, args, "csv")))}
    assert rows[LIXIA]["received"] == "1" and rows[LIXIA]["accepted"] == "0"
    assert all(rows[LIXIA][mid] == "" for mid in DERIVED_IDS)
    records = {r["code"]: r for r in json.loads(run_cli(engine, args, "json"))}
    assert records[LIXIA]["received"] == 1
    assert all(records[LIXIA][mid] is None for mid in DERIVED_IDS)


# ------------------------------------------------------------------------------------------ due / overdue boundaries

def test_due_on_as_of_is_not_overdue_due_the_day_before_is(engine: sa.Engine) -> None:
    a = D("2024-03-31")
    load(engine, [case("DUE-A", due_date="2024-03-31"), case("DUE-A-1", due_date="2024-03-30")])
    row = metrics_of(engine, LIXIA, Period(D("2024-01-01"), a))
    assert row["overdue"] == 1
    listed = overdue_cases(engine, a, order=OverdueOrder.CASE_ID, scope=WHOLE_PROVINCE)
    assert list(listed["case_id"]) == ["DUE-A-1"]
    assert int(listed["days_overdue"].iloc[0]) == 1
    assert str(listed["due_date"].iloc[0]) == "2024-03-30"


def test_closed_on_due_date_is_on_time_one_day_later_is_not(engine: sa.Engine) -> None:
    load(engine, [
        case("ON-DUE", due_date="2024-03-15", closed_date="2024-03-15"),
        case("DAY-LATE", due_date="2024-03-15", closed_date="2024-03-16"),
    ])
    row = metrics_of(engine, LIXIA, Period(D("2024-03-01"), D("2024-03-31")))
    assert (row["due"], row["on_time"], row["on_time_rate"]) == (2, 1, 0.5)


def test_empty_due_date_means_received_plus_60_days(engine: sa.Engine) -> None:
    received = D("2024-01-01")
    day60 = received + dt.timedelta(days=60)
    assert day60 == D("2024-03-01")  # 2024 is a leap year
    load(engine, [
        case("OPEN", received_date="2024-01-01"),
        case("CLOSED-60", county_code=SHIZHONG, received_date="2024-01-01", closed_date="2024-03-01"),
        case("CLOSED-61", county_code=SHIZHONG, received_date="2024-01-01", closed_date="2024-03-02"),
    ])
    # overdue only from day 61
    assert metrics_of(engine, LIXIA, Period(D("2024-01-01"), day60))["overdue"] == 0
    assert overdue_cases(engine, day60, scope=WHOLE_PROVINCE).empty
    day61 = day60 + dt.timedelta(days=1)
    assert metrics_of(engine, LIXIA, Period(D("2024-01-01"), day61))["overdue"] == 1
    listed = overdue_cases(engine, day61, scope=WHOLE_PROVINCE)
    assert list(listed["case_id"]) == ["OPEN"] and int(listed["days_overdue"].iloc[0]) == 1
    assert str(listed["due_date"].iloc[0]) == "2024-03-01"
    # due on day 60: closed on day 60 is on time, on day 61 late
    march = metrics_of(engine, SHIZHONG, Period(D("2024-03-01"), D("2024-03-31")))
    assert (march["due"], march["on_time"]) == (2, 1)
    february = metrics_of(engine, SHIZHONG, Period(D("2024-02-01"), D("2024-02-29")))
    assert february["due"] == 0


# ------------------------------------------------------------------------------------------ working-day deadlines

NOTICE_CASES = [
    # (received_date, expected D1 or None to take it from chinese_calendar, holiday it crosses)
    ("2024-09-25", "2024-10-21", "National Day 2024"),
    ("2024-02-01", None, "Spring Festival 2024"),
    ("2024-10-08", "2024-10-28", "the 调休 Saturday 2024-10-12"),
    ("2024-01-29", None, "the 调休 Sunday 2024-02-04"),
]


@pytest.mark.parametrize(("received", "deadline", "crossing"), NOTICE_CASES, ids=[c[2] for c in NOTICE_CASES])
def test_acceptance_notice_deadline_counts_official_working_days(engine: sa.Engine, received: str,
                                                                deadline: str | None, crossing: str) -> None:
    d1 = d15_independent(D(received))
    if deadline is not None:
        assert d1 == D(deadline)
    assert d1 != d15_monday_to_friday(D(received)), f"{crossing} should move the deadline"
    late = d1 + dt.timedelta(days=1)
    load(engine, [
        case("ON-TIME", received_date=received, is_real_name=1, accepted_notice_date=d1.isoformat()),
        case("LATE", received_date=received, is_real_name=1, accepted_notice_date=late.isoformat()),
        case("NOT-NOTIFIED", received_date=received, is_real_name=1),
        case("ANONYMOUS", received_date=received, is_real_name=0, accepted_notice_date=late.isoformat()),
    ])
    month = Period(d1.replace(day=1), d1.replace(day=28))
    row = metrics_of(engine, LIXIA, month)
    assert (row["notice_due"], row["notice_on_time"]) == (3, 1)
    # D1 outside the window [from, min(to, A)]: not yet due
    assert metrics_of(engine, LIXIA, Period(month.start, d1 - dt.timedelta(days=1)))["notice_due"] == 0
    assert metrics_of(engine, LIXIA, Period(month.start, month.end, d1 - dt.timedelta(days=1)))["notice_due"] == 0
    assert metrics_of(engine, LIXIA, Period(d1 + dt.timedelta(days=1), late + dt.timedelta(days=30)))["notice_due"] == 0


@pytest.mark.parametrize(("closed", "deadline", "crossing"), NOTICE_CASES, ids=[c[2] for c in NOTICE_CASES])
def test_result_feedback_deadline_counts_from_closed_date(engine: sa.Engine, closed: str, deadline: str | None,
                                                         crossing: str) -> None:
    d2 = d15_independent(D(closed))
    if deadline is not None:
        assert d2 == D(deadline)
    received = (D(closed) - dt.timedelta(days=20)).isoformat()
    late = d2 + dt.timedelta(days=1)
    common = dict(received_date=received, closed_date=closed, due_date=closed)
    load(engine, [
        case("ON-TIME", is_real_name=1, result_notice_date=d2.isoformat(), **common),
        case("LATE", is_real_name=1, result_notice_date=late.isoformat(), **common),
        case("NO-FEEDBACK", is_real_name=1, **common),
        case("ANONYMOUS", is_real_name=0, result_notice_date=late.isoformat(), **common),
        case("STILL-OPEN", is_real_name=1, received_date=received),
    ])
    month = Period(d2.replace(day=1), d2.replace(day=28))
    row = metrics_of(engine, LIXIA, month)
    assert (row["feedback_due"], row["feedback_on_time"]) == (3, 1)
    assert metrics_of(engine, LIXIA, Period(month.start, d2 - dt.timedelta(days=1)))["feedback_due"] == 0
    # read as of a day before the closure: not closed at A, so no feedback is due
    before_closure = Period(month.start, month.end, D(closed) - dt.timedelta(days=1))
    assert metrics_of(engine, LIXIA, before_closure)["feedback_due"] == 0


@pytest.mark.parametrize("day", ["2024-10-12", "2024-09-29", "2024-02-04", "2024-02-18"])
def test_adjusted_weekend_days_are_working_days(engine: sa.Engine, day: str) -> None:
    assert D(day).weekday() >= 5 and chinese_calendar.is_workday(D(day))
    with engine.connect() as conn:
        is_workday = conn.execute(sa.select(workday_calendar.c.is_workday)
                                  .where(workday_calendar.c.day == D(day))).scalar_one()
    assert is_workday is True


# ------------------------------------------------------------------------------------------ category scope

def _everything(case_id: str, county: str, category: str) -> list[dict[str, object]]:
    """Two cases of a category that would count in every metric if they were accusations."""
    flags = dict(county_code=county, category=category, is_first_report=1, is_leapfrog=1, is_repeat=1, is_real_name=1)
    return [
        case(f"{case_id}-closed", received_date="2024-02-01", due_date="2024-03-01", closed_date="2024-02-20",
             satisfaction="satisfied", disputed=1, accepted_notice_date="2024-02-05", result_notice_date="2024-02-25",
             **flags),
        case(f"{case_id}-open", received_date="2024-01-05", due_date="2024-02-01", **flags),
    ]


@pytest.mark.parametrize("category", ["out_of_scope", "no_substance"])
def test_non_accusation_cases_count_only_in_received(engine: sa.Engine, category: str) -> None:
    load(engine, _everything("X", SHIZHONG, category) + _everything("CONTROL", LIXIA, "accusation"))
    control = metrics_of(engine, LIXIA, H1)
    assert all(control[mid] >= 1 for mid in COUNT_IDS if mid != "first_overdue") and control["first_overdue"] == 1
    row = metrics_of(engine, SHIZHONG, H1)
    assert row["received"] == 2
    assert all(row[mid] == 0 for mid in COUNT_IDS if mid != "received"), row[list(COUNT_IDS)].to_dict()
    assert list(overdue_cases(engine, H1.end, scope=WHOLE_PROVINCE)["case_id"]) == ["CONTROL-open"]
    ranked = priority_counties(engine, H1, scope=WHOLE_PROVINCE).set_index("code")
    assert ranked.at[SHIZHONG, "first_due"] == 0 and ranked.at[SHIZHONG, "accepted"] == 0


# ------------------------------------------------------------------------------------------ priority counties

def _first_reports(prefix: str, county: str, n: int, first: bool = True, received: str = "2024-01-10",
                   closed: str = "2024-02-01", leapfrog: int = 0) -> list[dict[str, object]]:
    return [case(f"{prefix}-{i:02d}", county_code=county, received_date=received, due_date="2024-02-10",
                 closed_date=closed, is_first_report=int(first), is_leapfrog=int(i < leapfrog)) for i in range(n)]


def test_priority_needs_ten_first_reports_due_and_ten_accepted(engine: sa.Engine) -> None:
    load(engine, [
        *_first_reports("TEN", LIXIA, 10),  # first_due 10, accepted 10
        *_first_reports("NINE", SHIZHONG, 9), *_first_reports("NINE-X", SHIZHONG, 1, first=False),  # 9 / 10
        # first_due 10 from cases received before P, but only 9 accepted in P
        *_first_reports("EARLY", SHINAN, 10, received="2023-12-20"), *_first_reports("LATE", SHINAN, 9, first=False),
        *_first_reports("MANY", SHIBEI, 12, leapfrog=3),
    ])
    ranked = priority_counties(engine, H1, scope=WHOLE_PROVINCE).set_index("code")
    assert (ranked.at[LIXIA, "first_due"], ranked.at[LIXIA, "accepted"]) == (10, 10)
    assert (ranked.at[SHIZHONG, "first_due"], ranked.at[SHIZHONG, "accepted"]) == (9, 10)
    assert (ranked.at[SHINAN, "first_due"], ranked.at[SHINAN, "accepted"]) == (10, 9)
    assert ranked.at[LIXIA, "status"] != "insufficient" and not math.isnan(ranked.at[LIXIA, "z_leapfrog"])
    for code in (SHIZHONG, SHINAN):
        assert ranked.at[code, "status"] == "insufficient"
        assert all(math.isnan(ranked.at[code, c]) for c in ("z_quality", "z_leapfrog", "score"))
        assert "样本不足" in ranked.at[code, "sentence"]
    order = list(priority_counties(engine, H1, scope=WHOLE_PROVINCE)["code"])
    assert order.index(LIXIA) < order.index(SHIZHONG) and order.index(SHIBEI) < order.index(SHINAN)


def _hand_counties() -> pd.DataFrame:
    first_due, first_on_time = [20, 50, 30, 40, 5], [10, 48, 27, 22, 5]
    accepted, leapfrog = [40, 60, 50, 40, 8], [12, 3, 5, 5, 0]
    frame = pd.DataFrame({"code": ["A", "B", "C", "E", "D"], "name": list("ABCED"), "first_due": first_due,
                          "first_on_time": first_on_time, "accepted": accepted, "leapfrog": leapfrog})
    frame["first_on_time_rate"] = frame["first_on_time"] / frame["first_due"]
    frame["leapfrog_rate"] = frame["leapfrog"] / frame["accepted"]
    return frame


def test_funnel_z_on_hand_computed_example() -> None:
    frame = _hand_counties()
    theta = 112 / 145  # Σ first_on_time / Σ first_due, the insufficient county D included
    phi = 25 / 198  # Σ leapfrog / Σ accepted
    ranked = rank_counties(frame).set_index("code")
    assert ranked.attrs["theta"] == pytest.approx(theta, abs=1e-15)
    assert ranked.attrs["phi"] == pytest.approx(phi, abs=1e-15)
    for code, row in frame.set_index("code").drop(index="D").iterrows():
        p, n = row["first_on_time"] / row["first_due"], row["first_due"]
        q, m = row["leapfrog"] / row["accepted"], row["accepted"]
        z_quality = (theta - p) / math.sqrt(theta * (1 - theta) / n)
        z_leapfrog = (q - phi) / math.sqrt(phi * (1 - phi) / m)
        assert ranked.at[code, "z_quality"] == pytest.approx(z_quality, abs=1e-9)
        assert ranked.at[code, "z_leapfrog"] == pytest.approx(z_leapfrog, abs=1e-9)
        assert ranked.at[code, "score"] == pytest.approx((z_quality + z_leapfrog) / 2, abs=1e-9)
    # the numbers themselves (worked by hand: θ = 112/145, φ = 25/198)
    assert ranked.at["A", "z_quality"] == pytest.approx(2.905668813786467, abs=1e-9)
    assert ranked.at["A", "z_leapfrog"] == pytest.approx(3.3082276134202933, abs=1e-9)
    assert ranked.at["E", "z_quality"] == pytest.approx(3.3550093386364304, abs=1e-9)
    assert ranked["status"].to_dict() == {"A": "priority", "B": "normal", "C": "normal", "E": "watch",
                                          "D": "insufficient"}
    assert list(ranked.index) == ["A", "E", "C", "B", "D"]  # by score, insufficient last


def test_priority_county_gets_status_and_a_sentence_naming_both_tests(engine: sa.Engine) -> None:
    rows = [case(f"X-{i:02d}", received_date="2024-01-10", due_date="2024-03-10", is_first_report=1,
                 closed_date="2024-03-01" if i < 5 else "2024-03-20", is_leapfrog=int(i < 15)) for i in range(20)]
    for county in (SHIZHONG, SHINAN, SHIBEI):
        rows += [case(f"{county}-{i:02d}", county_code=county, received_date="2024-01-10", due_date="2024-03-10",
                      is_first_report=1, closed_date="2024-03-01") for i in range(20)]
    load(engine, rows)
    ranked = priority_counties(engine, H1, scope=WHOLE_PROVINCE)
    top = ranked.iloc[0]
    assert top["code"] == LIXIA and top["status"] == "priority"
    theta, phi = 65 / 80, 15 / 80  # pooled over the four counties: 5 + 3 × 20 on time of 80; 15 leapfrog of 80
    z_quality = (theta - 0.25) / math.sqrt(theta * (1 - theta) / 20)
    z_leapfrog = (0.75 - phi) / math.sqrt(phi * (1 - phi) / 20)
    assert top["z_quality"] == pytest.approx(z_quality, abs=1e-9)
    assert top["z_leapfrog"] == pytest.approx(z_leapfrog, abs=1e-9)
    sentence = top["sentence"]
    for words in ("历下区", "初次举报按期办结率", "越级举报率", "25.0%", "75.0%", f"z={z_quality:.2f}",
                  f"z={z_leapfrog:.2f}", "重点督导"):
        assert words in sentence, f"{words!r} missing from {sentence!r}"
    assert set(ranked["status"].iloc[1:4]) == {"normal"}


# ------------------------------------------------------------------------------------------ filters

def _filter_cases() -> list[dict[str, object]]:
    common = dict(received_date="2024-01-10", due_date="2024-02-01")
    return [
        case("C1", channel="letter", domain="教育医疗", is_first_report=1, is_real_name=1, **common),
        case("C2", channel="visit", domain="生态环保", is_first_report=0, is_real_name=1, **common),
        case("C3", channel="online", domain="教育医疗", is_first_report=1, is_real_name=0, **common),
        case("C4", channel="online", domain="其他", category="out_of_scope", **common),
    ]


FILTER_EXPECTATIONS = [
    # filter, received, accepted (= overdue here: every accusation case is open and past due)
    (CaseFilter(), 4, 3),
    (CaseFilter(channels=("online",)), 2, 1),
    (CaseFilter(channels=("letter", "visit")), 2, 2),
    (CaseFilter(first_report_only=True), 2, 2),
    (CaseFilter(real_name_only=True), 2, 2),
    (CaseFilter(domains=("教育医疗",)), 2, 2),
    (CaseFilter(domains=("其他",)), 1, 0),
    (CaseFilter(first_report_only=True, real_name_only=True), 1, 1),
    (CaseFilter(channels=("qr",)), 0, 0),
]


def test_filters_change_counts_as_expected(engine: sa.Engine) -> None:
    load(engine, _filter_cases())
    for f, received, accepted in FILTER_EXPECTATIONS:
        for code in (LIXIA, JINAN, PROVINCE):
            row = metrics_of(engine, code, H1, f)
            assert (row["received"], row["accepted"], row["overdue"]) == (received, accepted, accepted), (f, code)
        assert len(overdue_cases(engine, H1.end, filters=f, scope=WHOLE_PROVINCE)) == accepted, f


# ------------------------------------------------------------------------------------------ as-of reading

def test_as_of_before_period_end_excludes_later_closures(engine: sa.Engine) -> None:
    load(engine, [
        case("LATE-CLOSE", received_date="2024-01-10", due_date="2024-03-10", closed_date="2024-04-15",
             satisfaction="satisfied", disputed=1),
        case("DUE-MAY", received_date="2024-03-01", due_date="2024-05-01"),
    ])
    early = Period(H1.start, H1.end, D("2024-03-31"))
    row = metrics_of(engine, LIXIA, early)
    assert (row["closed"], row["rated"], row["disputed"]) == (0, 0, 0)
    assert (row["due"], row["on_time"], row["overdue"]) == (1, 0, 1)  # due window ends at A; open at A
    assert math.isnan(row["avg_handling_days"])
    row = metrics_of(engine, LIXIA, H1)
    assert (row["closed"], row["rated"], row["disputed"]) == (1, 1, 1)
    assert (row["due"], row["on_time"], row["overdue"]) == (2, 0, 1)
    assert row["avg_handling_days"] == (D("2024-04-15") - D("2024-01-10")).days
    listed = case_list(engine, LIXIA, early, scope=WHOLE_PROVINCE).set_index("case_id")
    assert listed.at["LATE-CLOSE", "status"] == "overdue"
    assert pd.isna(listed.at["LATE-CLOSE", "closed_date"]) and pd.isna(listed.at["LATE-CLOSE", "satisfaction"])
    assert listed.at["LATE-CLOSE", "days_overdue"] == (D("2024-03-31") - D("2024-03-10")).days
    assert list(overdue_cases(engine, early.as_of_date, scope=WHOLE_PROVINCE)["case_id"]) == ["LATE-CLOSE"]


# ------------------------------------------------------------------------------------------ reporter identity

# Every column a case list may show: contract fields that carry no identity, and derived ones.
CASE_LIST_ALLOWED = {
    "case_id", "county_code", "county_name", "city_code", "city_name", "received_date", "due_date", "closed_date",
    "status", "days_overdue", "channel", "category", "domain", "is_first_report", "is_leapfrog", "is_repeat",
    "is_real_name", "satisfaction", "disputed",
    "supervised",  # 已挂账: an open 督办 item names the case (the ledger's, never the reporter's)
    "received_level",  # 受理层级: a repeat matter's reports on the 积案化解 page (metrics.matters.matter_reports)
}
IDENTITY = {"举报人姓名": "张三丰", "联系电话": "13812345678", "身份证号": "370102198001011234",
            "住址": "济南市历下区某路1号", "reporter_name": "Zhang San", "phone": "+86-531-0000000",
            "summary": "反映某局长收受贿赂"}


def test_case_lists_never_hold_reporter_identity(engine: sa.Engine) -> None:
    dropped = load(engine, [case("ID-1", due_date="2024-02-01", is_real_name=1),
                            case("ID-2", closed_date="2024-02-01", satisfaction="basic")], extra=IDENTITY)
    assert set(dropped) == set(IDENTITY)
    with engine.connect() as conn:
        columns = conn.execute(sa.select(sa.text("*")).select_from(sa.table("cases")).limit(0)).keys()
        assert set(columns) == {*CASE_COLUMNS, *DEADLINE_COLUMNS}
    lists = {
        "case_list": case_list(engine, LIXIA, H1, scope=WHOLE_PROVINCE),
        "overdue": overdue_cases(engine, H1.end, scope=WHOLE_PROVINCE),
        "cli overdue": pd.read_csv(io.StringIO(run_cli(engine, ["overdue", "--as-of", "2024-06-30"], "csv")), dtype=str),
        "matter_reports": matter_reports(engine, "ID-1", H1.end),
    }
    assert len(lists["case_list"]) == 2 and len(lists["overdue"]) == 1 and len(lists["matter_reports"]) == 1
    for name, frame in lists.items():
        assert set(frame.columns) <= CASE_LIST_ALLOWED, f"{name}: {set(frame.columns) - CASE_LIST_ALLOWED}"
        text = frame.astype(str).to_csv()
        for value in IDENTITY.values():
            assert value not in text, f"{name} shows {value!r}"
    with engine.connect() as conn:
        stored = conn.execute(sa.select(cases)).fetchall()
    assert not any(v in str(stored) for v in IDENTITY.values())


# ------------------------------------------------------------------------------------------ windows cut at A

def test_overdue_is_the_stock_at_an_as_of_long_before_the_period(engine: sa.Engine) -> None:
    """Received 2025-06-01, due 2025-07-31, closed 2025-09-10: open and past due on 2025-09-02, whatever
    the period (a pruning by the period's start alone dropped it)."""
    load(engine, [case("STOCK-1", received_date="2025-06-01", due_date="2025-07-31", closed_date="2025-09-10")])
    november = Period(D("2025-11-01"), D("2025-11-30"), D("2025-09-02"))
    row = metrics_of(engine, LIXIA, november)
    assert row["overdue"] == 1
    assert all(row[m] == 0 for m in COUNT_IDS if m != "overdue"), "W is empty when A < from"
    assert all(math.isnan(row[m]) for m in DERIVED_IDS)
    assert list(overdue_cases(engine, D("2025-09-02"), scope=WHOLE_PROVINCE)["case_id"]) == ["STOCK-1"]
    args = ["table", "--level", "county", "--parent", JINAN, "--from", "2025-11-01", "--to", "2025-11-30",
            "--as-of", "2025-09-02"]
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(run_cli(engine, args, "csv")))}
    assert rows[LIXIA]["overdue"] == "1"
    assert metrics_of(engine, LIXIA, Period(D("2025-11-01"), D("2025-11-30"), D("2025-09-10")))["overdue"] == 0


def test_cases_received_after_the_as_of_date_count_nowhere(engine: sa.Engine) -> None:
    load(engine, [
        case("BEFORE-A", received_date="2024-02-10", is_leapfrog=1, is_repeat=1),
        case("ON-A", received_date="2024-02-15", is_leapfrog=1),
        case("AFTER-A", received_date="2024-02-16", is_leapfrog=1, is_repeat=1),
        case("AFTER-A-OTHER", received_date="2024-03-01", category="no_substance"),
    ])
    q1_feb15 = Period(D("2024-01-01"), D("2024-03-31"), D("2024-02-15"))
    row = metrics_of(engine, LIXIA, q1_feb15)
    assert (row["received"], row["accepted"], row["leapfrog"], row["repeat"]) == (2, 2, 2, 1)
    assert row["leapfrog_rate"] == 1.0 and row["repeat_rate"] == 0.5
    full = metrics_of(engine, LIXIA, Period(D("2024-01-01"), D("2024-03-31")))
    assert (full["received"], full["accepted"], full["leapfrog"], full["repeat"]) == (4, 3, 3, 2)


@pytest.mark.parametrize("as_of", ["2023-11-30", "2024-01-01", "2024-02-15", "2024-03-31", "2024-09-30"])
def test_no_as_of_counts_a_case_received_after_it(engine: sa.Engine, as_of: str) -> None:
    a = D(as_of)
    load(engine, [case(f"R-{m:02d}", received_date=f"2024-{m:02d}-05", due_date=f"2024-{m:02d}-06")
                  for m in range(1, 13)])
    row = metrics_of(engine, LIXIA, Period(D("2024-01-01"), D("2024-03-31"), a))
    received_by_a = sum(1 for m in range(1, 4) if dt.date(2024, m, 5) <= a)
    assert row["received"] == row["accepted"] == received_by_a
    assert row["overdue"] == sum(1 for m in range(1, 13) if dt.date(2024, m, 6) < a)


# ------------------------------------------------------------------------------------------ --parent and level

@pytest.mark.parametrize(("level", "parent"), [("city", LIXIA), ("province", JINAN), ("province", LIXIA),
                                               ("county", "379999"), ("city", "abc")])
def test_cli_parent_below_the_level_or_unknown_is_bad_usage(engine: sa.Engine, level: str, parent: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    args = ["table", "--level", level, "--parent", parent, "--from", "2024-01-01", "--to", "2024-03-31",
            "--db", engine.url.render_as_string(hide_password=False)]
    with pytest.raises(SystemExit) as exit_:
        cli.main(args, out=io.StringIO())
    assert exit_.value.code == 2
    assert parent in capsys.readouterr().err


def test_cli_overdue_with_an_unknown_parent_is_bad_usage(engine: sa.Engine) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["overdue", "--parent", "379999", "--db", engine.url.render_as_string(hide_password=False)],
                 out=io.StringIO())
    assert exit_.value.code == 2


@pytest.mark.parametrize(("level", "parent"), [(Level.CITY, LIXIA), (Level.PROVINCE, JINAN)])
def test_region_table_refuses_a_parent_below_its_level(engine: sa.Engine, level: Level, parent: str) -> None:
    from metrics.table import BadParent

    with pytest.raises(BadParent):
        region_table(engine, TableRequest(level, H1, parent=parent, scope=WHOLE_PROVINCE))


@pytest.mark.parametrize(("level", "parent", "rows"), [(Level.COUNTY, LIXIA, [LIXIA]), (Level.CITY, JINAN, [JINAN]),
                                                       (Level.CITY, PROVINCE, None), (Level.COUNTY, PROVINCE, None)])
def test_parent_at_or_above_the_level_is_accepted(engine: sa.Engine, level: Level, parent: str,
                                                  rows: list[str] | None) -> None:
    frame = region_table(engine, TableRequest(level, H1, parent=parent, scope=WHOLE_PROVINCE))
    assert (frame["level"] == level.value).all()
    if rows is not None:
        assert list(frame["code"]) == rows


# ------------------------------------------------------------------------------------------ pooled rate 0 or 1

def test_pooled_rate_of_zero_or_one_leaves_that_z_and_the_score_empty(engine: sa.Engine) -> None:
    """No leapfrog anywhere (φ = 0) and every first report on time (θ = 1): nothing to test against."""
    load(engine, [*_first_reports("A", LIXIA, 12), *_first_reports("B", SHIZHONG, 15)])
    ranked = priority_counties(engine, H1, scope=WHOLE_PROVINCE).set_index("code")
    assert ranked.attrs["theta"] == 1.0 and ranked.attrs["phi"] == 0.0
    for code in (LIXIA, SHIZHONG):
        assert all(math.isnan(ranked.at[code, c]) for c in ("z_quality", "z_leapfrog", "score")), code
        assert ranked.at[code, "status"] == "normal"
        assert "无差异可检验" in ranked.at[code, "sentence"] and "nan" not in ranked.at[code, "sentence"]
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(run_cli(engine, ["priority", "--from", "2024-01-01",
                                                                               "--to", "2024-06-30"], "csv")))}
    assert all(rows[LIXIA][c] == "" for c in ("z_quality", "z_leapfrog", "score"))
    assert all(r["z_quality"] not in ("0.0", "-0.0") for r in rows.values())


def test_pooled_rate_of_zero_on_one_axis_can_still_watch_through_the_other(engine: sa.Engine) -> None:
    """φ = 0 (no leapfrog anywhere): z_leapfrog empty, score empty, but a county far below θ is `watch`."""
    late = [case(f"LATE-{i:02d}", county_code=LIXIA, due_date="2024-02-10", closed_date="2024-03-01",
                 is_first_report=1) for i in range(20)]
    on_time = [c for n in (SHIZHONG, SHINAN, SHIBEI) for c in _first_reports(f"OK-{n}", n, 20)]
    load(engine, [*late, *on_time])
    ranked = priority_counties(engine, H1, scope=WHOLE_PROVINCE).set_index("code")
    assert ranked.attrs["phi"] == 0.0 and 0 < ranked.attrs["theta"] < 1
    assert ranked.at[LIXIA, "z_quality"] >= 3.09 and math.isnan(ranked.at[LIXIA, "z_leapfrog"])
    assert math.isnan(ranked.at[LIXIA, "score"])
    assert ranked.at[LIXIA, "status"] == "watch"
    assert all(ranked.at[c, "status"] == "normal" for c in (SHIZHONG, SHINAN, SHIBEI))


# ------------------------------------------------------------------------------------------ scope is required

def test_a_request_without_a_scope_fails() -> None:
    from data_access.identity.scope import Scope

    with pytest.raises(TypeError):
        TableRequest(Level.CITY, H1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        TableRequest(Level.CITY, H1, scope="370800")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TableRequest(Level.CITY, H1, scope=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Scope("3708")
    assert TableRequest(Level.CITY, H1, scope=Scope("370800")).scope.code == "370800"


def test_data_functions_without_a_scope_fail(engine: sa.Engine) -> None:
    from metrics.distribution import rating_distribution
    from metrics.series import Grain, SeriesRequest
    from metrics.weekly import weekly_report

    calls = [
        lambda: priority_counties(engine, H1),
        lambda: priority_counties(engine, H1, scope=None),
        lambda: overdue_cases(engine, H1.end),
        lambda: overdue_cases(engine, H1.end, scope="370100"),
        lambda: case_list(engine, LIXIA, H1),
        lambda: rating_distribution(engine, H1),
        lambda: weekly_report(engine, H1.end),
        lambda: SeriesRequest(H1, Grain.MONTH),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
