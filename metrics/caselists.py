"""Case-level lists (overdue ledger, a county's cases): filtered and limited by the database.

These return the few thousand rows a supervisor reads, never the case table. No reporter identity
exists in the tables, so none can appear here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from enum import Enum
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Category, LabelledEnum
from data_access.store.dialects import days_between
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases, regions, supervision_items
from data_access.supervision.ledger import Status as ItemStatus

from .compiler import count_condition, filter_conditions, in_subtree, region_map
from .request import CaseFilter, Period
from .rules import Bounds, CaseContext, effective_due
from .settings import DEFAULT_SETTINGS, Settings


class OverdueOrder(str, Enum):
    """Sort orders of the overdue ledger."""

    MOST_OVERDUE = "most_overdue"
    CASE_ID = "case_id"
    COUNTY = "county"


class CaseStatus(LabelledEnum):
    """State of a case at the as-of date, for the case list."""

    CLOSED = ("closed", "已办结")
    OPEN = ("open", "在办")
    OVERDUE = ("overdue", "超期未办结")


def _with_names(rmap: sa.Subquery) -> tuple[sa.FromClause, sa.FromClause, sa.FromClause]:
    county, city = regions.alias("county"), regions.alias("city")
    source = (cases.join(rmap, rmap.c.county_code == cases.c.county_code)
              .join(county, county.c.code == cases.c.county_code)
              .join(city, city.c.code == rmap.c.city_code))
    return source, county, city


def under_supervision(case_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """已挂账: an open 督办 item (挂账 or 已反馈, not yet 销号) names the case. The ledger is read as it stands
    now, as data_access.supervision.ledger.standing counts 在办: an item opened today marks a case of any as-of date."""
    item = supervision_items.c
    return sa.exists().where(item.case_id == case_id, item.status != ItemStatus.CLOSED.value)


def supervision_flag(case_id: sa.ColumnElement[Any], ledger: bool) -> sa.ColumnElement[bool]:
    """The `supervised` column of a case list: under_supervision, or false where the database has no ledger."""
    return (under_supervision(case_id) if ledger else sa.false()).label("supervised")


def has_ledger(conn: sa.Connection) -> bool:
    """Whether the 督办台账 exists here (a database the app has not set up, read by the command line, has none)."""
    return sa.inspect(conn).has_table(supervision_items.name)


def overdue_query(as_of: dt.date, *, scope: Scope, parent: str | None = None,
                  filters: CaseFilter = CaseFilter(), order: OverdueOrder = OverdueOrder.MOST_OVERDUE,
                  limit: int | None = None, settings: Settings = DEFAULT_SETTINGS, ledger: bool = True) -> sa.Select[Any]:
    """Accusation cases received by `as_of`, past due and not closed at its end, under `parent`,
    within `scope` (required); `supervised` marks those 已挂账 (false for all when `ledger` is False)."""
    rmap = region_map()
    source, county, city = _with_names(rmap)
    a = sa.bindparam("as_of", as_of, type_=sa.Date)
    due = effective_due(cases.c, settings)
    days = days_between(a, due).label("days_overdue")
    stmt = (
        sa.select(cases.c.case_id, cases.c.county_code, county.c.name.label("county_name"), rmap.c.city_code,
                  city.c.name.label("city_name"), cases.c.received_date, due.label("due_date"), days,
                  cases.c.is_first_report, cases.c.channel, cases.c.domain,
                  supervision_flag(cases.c.case_id, ledger))
        .select_from(source)
        .where(cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a, due < a,
               sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date > a),
               in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code), *filter_conditions(filters))
    )
    match order:
        case OverdueOrder.MOST_OVERDUE:
            stmt = stmt.order_by(days.desc(), cases.c.case_id)
        case OverdueOrder.CASE_ID:
            stmt = stmt.order_by(cases.c.case_id)
        case OverdueOrder.COUNTY:
            stmt = stmt.order_by(cases.c.county_code, days.desc(), cases.c.case_id)
    return stmt.limit(limit) if limit else stmt


def overdue_cases(conn: sa.Engine | sa.Connection, as_of: dt.date, *, scope: Scope, parent: str | None = None,
                  filters: CaseFilter = CaseFilter(), order: OverdueOrder = OverdueOrder.MOST_OVERDUE,
                  limit: int | None = None, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The overdue ledger as a DataFrame (see overdue_query), `supervised` marking the cases 已挂账."""
    with connect(conn) as c:
        return flags_as_bool(_frame(c, overdue_query(as_of, scope=scope, parent=parent, filters=filters, order=order,
                                                     limit=limit, settings=settings, ledger=has_ledger(c))))


def county_overdue_stock(conn: sa.Engine | sa.Connection, as_of: dt.date, before: dt.date, *, scope: Scope,
                         filters: CaseFilter = CaseFilter(), settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """Each county's overdue first reports (overdue_query, first reports only) at the end of `as_of` and of
    `before` (the 周例会: last week's Sunday), the change, and how many of those at `as_of` are 已挂账
    (under_supervision) — counted by the database. Columns county_code, county_name, city_code, city_name,
    overdue, overdue_before, overdue_change, supervised; counties with none at either date are absent;
    the most overdue first."""
    first = replace(filters, first_report_only=True)
    keys = ("county_code", "county_name", "city_code", "city_name")
    with connect(conn) as c:
        now = overdue_query(as_of, scope=scope, filters=first, settings=settings, ledger=has_ledger(c)).order_by(None)
        then = overdue_query(before, scope=scope, filters=first, settings=settings, ledger=False).order_by(None)
        counted = []
        for stmt, name in ((now, "overdue"), (then, "overdue_before")):
            q = stmt.subquery()
            marked = sa.func.sum(sa.case((q.c.supervised, 1), else_=0)).label("supervised")
            counted.append(_frame(c, sa.select(*(q.c[k] for k in keys), sa.func.count().label(name), marked)
                                  .group_by(*(q.c[k] for k in keys))))
    at, earlier = counted[0], counted[1].drop(columns="supervised")
    out = at.merge(earlier, on=list(keys), how="outer")
    counts = ("overdue", "overdue_before", "supervised")
    out = out.astype(dict.fromkeys(keys, "object")).fillna(dict.fromkeys(counts, 0)).astype(dict.fromkeys(counts, "int64"))
    out["overdue_change"] = out["overdue"] - out["overdue_before"]
    out = out[[*keys, "overdue", "overdue_before", "overdue_change", "supervised"]]
    return out.sort_values(["overdue", "county_code"], ascending=[False, True], kind="stable").reset_index(drop=True)


def overdue_first_reports(conn: sa.Engine | sa.Connection, county_code: str, as_of: dt.date, *, scope: Scope,
                          settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """A county's overdue first reports at the end of `as_of`: the overdue ledger (overdue_cases, what
    `python -m metrics overdue` prints) of the county, first reports only — the cases `first_overdue` counts;
    most overdue first."""
    return overdue_cases(conn, as_of, scope=scope, parent=county_code, filters=CaseFilter(first_report_only=True),
                         settings=settings)


def disputed_cases(conn: sa.Engine | sa.Connection, period: Period, *, scope: Scope, parent: str | None = None,
                   settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The cases the metric `disputed` (结而不服件) counts for the period under `parent`: accusation cases closed
    in it (by its as-of date) whose reporter contested the result; case_id, county_code, received_date,
    closed_date, by closed_date then case_id."""
    rmap = region_map()
    bounds = Bounds.of_dates(period.start, period.end, period.as_of_date)
    # the metric's own rule chain (closed in the period, then disputed); neither reads a working-day deadline
    ctx = CaseContext(bounds, cases.c, effective_due(cases.c, settings), sa.null(), sa.null())
    stmt = (sa.select(cases.c.case_id, cases.c.county_code, cases.c.received_date, cases.c.closed_date)
            .select_from(cases.join(rmap, rmap.c.county_code == cases.c.county_code))
            .where(count_condition("disputed", ctx), in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code))
            .order_by(cases.c.closed_date, cases.c.case_id))
    return _frame(conn, stmt)


class OverdueBucket(LabelledEnum):
    """How long past due an overdue case is (days overdue >= 1 by construction)."""

    UP_TO_7 = ("d1_7", "1–7 天")
    UP_TO_30 = ("d8_30", "8–30 天")
    UP_TO_90 = ("d31_90", "31–90 天")
    OVER_90 = ("d90_plus", "90 天以上")

    @property
    def max_days(self) -> float:
        """The bucket's upper bound in days, inclusive (inf for the last one)."""
        return {"d1_7": 7, "d8_30": 30, "d31_90": 90, "d90_plus": float("inf")}[self.value]


def overdue_bucket(days_overdue: pd.Series) -> pd.Series:
    """The OverdueBucket value of each number of days overdue (1–7, 8–30, 31–90, over 90)."""
    edges = [0, *(b.max_days for b in OverdueBucket)]
    return pd.cut(pd.to_numeric(days_overdue), bins=edges, labels=[b.value for b in OverdueBucket]).astype(str)


def overdue_buckets(ledger: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """Overdue cases per group of `by` columns: one count column per bucket, total and first_report; largest first."""
    bucket_ids = [b.value for b in OverdueBucket]
    columns = [*by, *bucket_ids, "total", "first_report"]
    if ledger.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c not in by else "object") for c in columns})
    frame = ledger.assign(bucket=overdue_bucket(ledger["days_overdue"]),
                          first=ledger["is_first_report"].astype(bool).astype(int))
    counts = (frame.groupby([*by, "bucket"]).size().unstack("bucket", fill_value=0)
              .reindex(columns=bucket_ids, fill_value=0))
    counts["total"] = counts.sum(axis=1)
    counts["first_report"] = frame.groupby(list(by))["first"].sum()
    out = counts.reset_index()
    out.columns.name = None
    return out.sort_values(["total", *by], ascending=[False, *([True] * len(by))]).reset_index(drop=True)[columns]


# Chinese headers of the case-level lists (screen and downloads).
COLUMN_LABELS = {
    "case_id": "件号", "county_code": "县级代码", "county_name": "承办县（市、区）", "city_code": "市代码",
    "city_name": "所属市", "received_date": "收件日期", "due_date": "办理期限", "closed_date": "办结日期",
    "status": "状态", "days_overdue": "超期天数", "channel": "渠道", "category": "类别", "domain": "领域",
    "is_first_report": "初次举报", "is_leapfrog": "越级举报", "is_repeat": "重复举报", "is_real_name": "实名举报",
    "satisfaction": "满意度", "disputed": "结而不服", "supervised": "已挂账",
}


def case_list_query(county_code: str, period: Period, *, scope: Scope, filters: CaseFilter = CaseFilter(),
                    limit: int | None = 5000, settings: Settings = DEFAULT_SETTINGS, ledger: bool = True) -> sa.Select[Any]:
    """A county's cases that matter for the period: received in it, closed in it, or open at its as-of date;
    `supervised` marks those 已挂账 (false for all when `ledger` is False)."""
    rmap = region_map()
    start, end = sa.bindparam("p_start", period.start, sa.Date), sa.bindparam("p_end", period.end, sa.Date)
    a = sa.bindparam("as_of", period.as_of_date, type_=sa.Date)
    due = effective_due(cases.c, settings)
    open_at = sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date > a)
    status = sa.case((~open_at, CaseStatus.CLOSED.value), (due < a, CaseStatus.OVERDUE.value), else_=CaseStatus.OPEN.value)
    days = sa.case((sa.and_(open_at, due < a), days_between(a, due)), else_=sa.null())
    stmt = (
        sa.select(cases.c.case_id, cases.c.received_date, due.label("due_date"),
                  sa.case((open_at, sa.null()), else_=cases.c.closed_date).label("closed_date"),
                  status.label("status"), days.label("days_overdue"), cases.c.channel, cases.c.category,
                  cases.c.domain, cases.c.is_first_report, cases.c.is_leapfrog, cases.c.is_repeat,
                  cases.c.is_real_name, sa.case((open_at, sa.null()), else_=cases.c.satisfaction).label("satisfaction"),
                  sa.and_(~open_at, cases.c.disputed).label("disputed"), supervision_flag(cases.c.case_id, ledger))
        .select_from(cases.join(rmap, rmap.c.county_code == cases.c.county_code))
        .where(cases.c.county_code == county_code, in_subtree(rmap, require_scope(scope).code),
               cases.c.received_date <= a,
               sa.or_(sa.and_(cases.c.received_date >= start, cases.c.received_date <= end),
                      sa.and_(cases.c.closed_date >= start, cases.c.closed_date <= end, cases.c.closed_date <= a),
                      open_at),
               *filter_conditions(filters))
        .order_by(cases.c.received_date.desc(), cases.c.case_id)
    )
    return stmt.limit(limit) if limit else stmt


def case_list(conn: sa.Engine | sa.Connection, county_code: str, period: Period, *, scope: Scope,
              filters: CaseFilter = CaseFilter(), limit: int | None = 5000,
              settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """A county's case list as a DataFrame (see case_list_query)."""
    with connect(conn) as c:
        return flags_as_bool(_frame(c, case_list_query(county_code, period, scope=scope, filters=filters, limit=limit,
                                                       settings=settings, ledger=has_ledger(c))))


def _frame(conn: sa.Engine | sa.Connection, stmt: sa.Select[Any]) -> pd.DataFrame:
    with connect(conn) as c:
        result = c.execute(stmt)
        return result_frame(result)


def flags_as_bool(frame: pd.DataFrame) -> pd.DataFrame:
    """A case list with its `supervised` flag as bool (the MySQL family answers 0/1)."""
    if "supervised" in frame:
        frame["supervised"] = frame["supervised"].astype(bool)
    return frame
