"""12388 来电投诉 in figures (docs/contract/hotline-complaints.md): a month's complaints per region by kind and
where the monthly cycle stands (notified, answered 属实 / 不属实, answers missing after the deadline, 抽查 drawn
and found untrue, items opened), the months' trend, and complaints per 100 cases received.

Counted in the database, one grouped query each (SUM(CASE …), portable to every engine); a complaint
belongs to the month of its received_date and to the region of its county.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access import hotline
from data_access.engine import connect
from data_access.enums import ComplaintKind, Feedback, Level, SpotCheckResult
from data_access.hotline_settings import DEFAULT_HOTLINE_SETTINGS, HotlineSettings
from data_access.schema import hotline_complaints, regions
from data_access.scope import Scope, require_scope

from .caselists import CaseStatus, case_list
from .compiler import group_key, in_subtree, region_map
from .periods import trailing_months
from .priority import PriorityStatus, priority_counties
from .request import Period, TableRequest
from .settings import DEFAULT_SETTINGS, Settings
from .table import region_table

KIND_COLUMNS = tuple(k.value for k in ComplaintKind)  # slow, result, no_feedback, other
CYCLE_COLUMNS = ("notified", "answered", "confirmed", "denied", "missing", "drawn", "checked", "check_false", "items")
MONTH_COLUMNS = ("code", "name", "complaints", *KIND_COLUMNS, *CYCLE_COLUMNS)
LABELS = {"complaints": "来电投诉", "slow": ComplaintKind.SLOW.label, "result": ComplaintKind.RESULT.label,
          "no_feedback": ComplaintKind.NO_FEEDBACK.label, "other": ComplaintKind.OTHER.label, "notified": "已通报",
          "answered": "已反馈", "confirmed": "反馈属实", "denied": "反馈不属实", "missing": "逾期未反馈", "drawn": "抽查",
          "checked": "已抽查", "check_false": "抽查发现反馈不实", "items": "挂账督办", "confirmed_share": "属实占比",
          "per_100": "每百件收件来电投诉"}

c = hotline_complaints.c


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _counts(as_of: dt.date, feedback_due: sa.ColumnElement[Any] | dt.date) -> list[sa.ColumnElement[Any]]:
    """The kind and cycle counts of a group of complaints, as of `as_of` (a missing answer: notified, unanswered,
    and the feedback deadline passed)."""
    return [
        sa.func.count().label("complaints"),
        *(_count(c.kind == kind).label(kind) for kind in KIND_COLUMNS),
        _count(c.notified_month.is_not(None)).label("notified"),
        _count(c.feedback.is_not(None)).label("answered"),
        _count(c.feedback == Feedback.TRUE.value).label("confirmed"),
        _count(c.feedback == Feedback.UNTRUE.value).label("denied"),
        _count(sa.and_(c.notified_month.is_not(None), c.feedback.is_(None), sa.literal(as_of, sa.Date) > feedback_due)).label("missing"),
        _count(c.spot_check_draw.is_not(None)).label("drawn"),
        _count(c.spot_check_result.is_not(None)).label("checked"),
        _count(c.spot_check_result == SpotCheckResult.FALSE.value).label("check_false"),
        _count(c.supervision_item_id.is_not(None)).label("items"),
    ]


def _frame(conn: sa.Connection, query: sa.Executable) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def month_counts(engine: sa.Engine | sa.Connection, month: str, level: Level, *, scope: Scope, parent: str | None = None,
                 as_of: dt.date | None = None, settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> pd.DataFrame:
    """One row per region of `level` (under `parent`, within `scope`; every such region, none left out) with the
    month's complaints by kind and the cycle counts as of `as_of` (default: today); sorted by code."""
    start, following = hotline.month_bounds(month)
    as_of = as_of or dt.date.today()
    rmap = region_map()
    key = group_key(rmap, level).label("code")
    counts = (sa.select(key, *_counts(as_of, settings.feedback_due(month)))
              .select_from(hotline_complaints.join(rmap, rmap.c.county_code == c.county_code))
              .where(c.received_date >= start, c.received_date < following, c.received_date <= as_of,
                     in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code))
              .group_by(key)).subquery("counts")
    units = sa.select(group_key(rmap, level).label("code")).where(
        in_subtree(rmap, parent), in_subtree(rmap, scope.code)).distinct().subquery("units")
    query = (sa.select(units.c.code, regions.c.name,
                       *(sa.func.coalesce(counts.c[col], 0).label(col) for col in ("complaints", *KIND_COLUMNS, *CYCLE_COLUMNS)))
             .select_from(units.join(regions, regions.c.code == units.c.code).outerjoin(counts, counts.c.code == units.c.code))
             .order_by(units.c.code))
    with connect(engine) as conn:
        frame = _frame(conn, query)
    return _with_share(frame.astype(dict.fromkeys(MONTH_COLUMNS[2:], "int64")))


def _with_share(frame: pd.DataFrame) -> pd.DataFrame:
    """属实占比 = confirmed / answered (empty when nothing was answered)."""
    answered = frame["answered"].where(frame["answered"] > 0)
    return frame.assign(confirmed_share=frame["confirmed"] / answered)


def month_series(engine: sa.Engine | sa.Connection, last_month: str, months: int, *, scope: Scope,
                 parent: str | None = None, as_of: dt.date | None = None,
                 settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> pd.DataFrame:
    """One row per month of the `months` months ending with `last_month` (months without a complaint too):
    month (YYYY-MM), complaints by kind, the cycle counts and 属实占比, within `scope` under `parent`."""
    labels = _months_back(last_month, months)
    first, _ = hotline.month_bounds(labels[0])
    _, following = hotline.month_bounds(labels[-1])
    as_of = as_of or dt.date.today()
    rmap = region_map()
    year, month_no = sa.extract("year", c.received_date), sa.extract("month", c.received_date)
    # the feedback deadline of each month: feedback_day of the next month, compared in SQL as a month number
    due_month = year * 12 + month_no  # the complaint's month; its answer is due in month + 1 on feedback_day
    as_of_month, late = as_of.year * 12 + as_of.month - 1, as_of.day > settings.feedback_day
    feedback_overdue = sa.or_(due_month < as_of_month, sa.and_(due_month == as_of_month, sa.literal(late)))
    counts = [col for col in _counts(as_of, as_of) if col.name != "missing"]
    missing = _count(sa.and_(c.notified_month.is_not(None), c.feedback.is_(None), feedback_overdue)).label("missing")
    query = (sa.select(year.label("y"), month_no.label("m"), *counts, missing)
             .select_from(hotline_complaints.join(rmap, rmap.c.county_code == c.county_code))
             .where(c.received_date >= first, c.received_date < following, c.received_date <= as_of,
                    in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code))
             .group_by(year, month_no))
    with connect(engine) as conn:
        found = _frame(conn, query)
    found["month"] = [f"{int(y):04d}-{int(m):02d}" for y, m in zip(found["y"], found["m"], strict=True)]
    out = pd.DataFrame({"month": labels}).merge(found.drop(columns=["y", "m"]), on="month", how="left").fillna(0)
    return _with_share(out.astype(dict.fromkeys(("complaints", *KIND_COLUMNS, *CYCLE_COLUMNS), "int64")))


def _months_back(last_month: str, months: int) -> list[str]:
    year, number = int(last_month[:4]), int(last_month[5:7])
    index = year * 12 + number - 1
    return [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index - months + 1, index + 1)]


def complaints_per_100(engine: sa.Engine | sa.Connection, level: Level, period: Period, *, scope: Scope,
                       parent: str | None = None, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """code, complaints (received in the period's window), received (cases), per_100 (empty without cases):
    one row per region of `level` under `parent` within `scope`."""
    end = min(period.end, period.as_of_date)
    rmap = region_map()
    key = group_key(rmap, level).label("code")
    query = (sa.select(key, sa.func.count().label("complaints"))
             .select_from(hotline_complaints.join(rmap, rmap.c.county_code == c.county_code))
             .where(c.received_date >= period.start, c.received_date <= end, in_subtree(rmap, parent),
                    in_subtree(rmap, require_scope(scope).code))
             .group_by(key))
    with connect(engine) as conn:
        counts = _frame(conn, query)
        received = region_table(conn, TableRequest(level, period, parent=parent, metrics=("received",), scope=scope), settings)
    out = received[["code", "received"]].merge(counts, on="code", how="left")
    out["complaints"] = out["complaints"].fillna(0).astype("int64")
    out["per_100"] = out["complaints"] * 100 / out["received"].where(out["received"] > 0)
    return out[["code", "complaints", "received", "per_100"]]


@dataclass(frozen=True)
class CityNotice:
    """What one city's monthly 通报 holds: its complaints of the month and its handling against the province."""

    code: str
    name: str
    counts: pd.Series  # the city's row of month_counts
    counties: pd.DataFrame  # month_counts of its counties (every county, complaints or not)
    handling: pd.Series  # HANDLING_METRICS of the city over the month
    complaints: pd.DataFrame  # complaint_id, received_date, county_code, county_name, kind, case_id: the list to answer


@dataclass(frozen=True)
class CountyNotice:
    """What one priority county's point-to-point notice holds: case numbers only."""

    code: str
    name: str
    city_name: str
    overdue_first: pd.DataFrame  # case_id, received_date, due_date, days_overdue: first reports overdue at month end
    disputed: pd.DataFrame  # case_id, closed_date: closed in the month and contested (结而不服)


@dataclass(frozen=True)
class MonthlyFacts:
    """The month-end 通报 of the 12388 cycle: every figure and list of every recipient's document."""

    month: str
    start: dt.date
    end: dt.date  # the month's last day: everything is read as of it
    feedback_due: dt.date
    province_code: str
    province_name: str
    province: pd.Series  # HANDLING_METRICS of the province over the month
    province_counts: pd.Series  # the month's complaints by kind, the whole province
    cities: pd.DataFrame  # month_counts of every city, with HANDLING_METRICS beside
    city_notices: tuple[CityNotice, ...]
    county_notices: tuple[CountyNotice, ...]  # the priority counties (重点督导) of the rolling window
    priority_window: Period


HANDLING_METRICS = ("received", "due", "on_time_rate", "first_due", "first_on_time_rate", "rated", "satisfaction_rate",
                    "overdue", "first_overdue", "closed", "disputed")


def monthly_facts(engine: sa.Engine | sa.Connection, month: str, *, scope: Scope, settings: Settings = DEFAULT_SETTINGS,
                  hotline_settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> MonthlyFacts:
    """The facts of the month-end pack, read as of the month's last day (the province's pack: scope must be
    the whole province)."""
    if not require_scope(scope).is_whole_province:
        raise PermissionError("12388 月度通报由省级生成 / the monthly pack is the province's")
    start, following = hotline.month_bounds(month)
    end = following - dt.timedelta(days=1)
    period = Period(start, end, end)
    window = trailing_months(end, settings.priority_window_months)
    with connect(engine) as conn:
        province_code, province_name = conn.execute(
            sa.select(regions.c.code, regions.c.name).where(regions.c.level == Level.PROVINCE.value)).one()
        province = region_table(conn, TableRequest(Level.PROVINCE, period, metrics=HANDLING_METRICS, scope=scope), settings).iloc[0]
        city_rates = region_table(conn, TableRequest(Level.CITY, period, metrics=HANDLING_METRICS, scope=scope), settings)
        cities = month_counts(conn, month, Level.CITY, scope=scope, as_of=end, settings=hotline_settings).merge(
            city_rates[["code", *HANDLING_METRICS]], on="code", how="left")
        counties = month_counts(conn, month, Level.COUNTY, scope=scope, as_of=end, settings=hotline_settings)
        listed = hotline.complaints(conn, scope, month)
        names = dict(conn.execute(sa.select(regions.c.code, regions.c.name)).all())
        rmap = region_map()
        city_of = dict(conn.execute(sa.select(rmap.c.county_code, rmap.c.city_code)).all())
        ranked = priority_counties(conn, window, scope=scope, settings=settings)
        chosen = ranked[ranked["status"] == PriorityStatus.PRIORITY.value]
        county_notices = tuple(_county_notice(conn, row.code, row.name, names.get(row.city_code, ""), period, settings)
                               for row in chosen.itertuples())
    listed = listed.assign(county_name=listed["county_code"].map(names), city_code=listed["county_code"].map(city_of))
    counties = counties.assign(city_code=counties["code"].map(city_of))
    notices = tuple(
        CityNotice(str(row["code"]), str(row["name"]), row, counties[counties["city_code"] == row["code"]].reset_index(drop=True),
                   row[list(HANDLING_METRICS)], listed[listed["city_code"] == row["code"]][list(NOTICE_COLUMNS)].reset_index(drop=True))
        for _, row in cities.iterrows())
    totals = cities[["complaints", *KIND_COLUMNS]].sum()
    return MonthlyFacts(month, start, end, hotline_settings.feedback_due(month), str(province_code), str(province_name),
                        province[list(HANDLING_METRICS)], totals, cities, notices, county_notices, window)


NOTICE_COLUMNS = ("complaint_id", "received_date", "county_code", "county_name", "kind", "case_id")


def _county_notice(conn: sa.Connection, code: str, name: str, city_name: str, period: Period,
                   settings: Settings) -> CountyNotice:
    cases = case_list(conn, code, period, scope=Scope(code), limit=None, settings=settings)
    overdue = cases[(cases["status"] == CaseStatus.OVERDUE.value) & cases["is_first_report"].astype(bool)]
    closed = pd.to_datetime(cases["closed_date"]).dt.date
    disputed = cases[cases["disputed"].fillna(False).astype(bool) & (closed >= period.start) & (closed <= period.end)]
    return CountyNotice(code, name, city_name,
                        overdue.sort_values(["days_overdue", "case_id"], ascending=[False, True])[
                            ["case_id", "received_date", "due_date", "days_overdue"]].reset_index(drop=True),
                        disputed.sort_values(["closed_date", "case_id"])[["case_id", "closed_date"]].reset_index(drop=True))
