"""What the database holds: row counts, date coverage, last load, data-quality warnings (for the 数据 page)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from data_access.identity.audit import AuditAction
from data_access.identity.scope import Scope, case_in_scope
from data_access.reference.enums import Category
from data_access.reference.workdays import DEADLINE_REACH_DAYS, official_range
from data_access.store import changes
from data_access.store.database import latest_load
from data_access.store.schema import audit_log, cases, regions


@dataclass(frozen=True)
class Coverage:
    """Row counts and the span of dates in the case table."""

    cases: int
    regions: int
    first_received: dt.date | None
    last_received: dt.date | None
    last_closed: dt.date | None


@dataclass(frozen=True)
class QualityWarning:
    """One data-quality observation: what, how many, and why it matters (Chinese)."""

    key: str
    label: str
    count: int
    explanation: str


def coverage(engine: sa.Engine, scope: Scope) -> Coverage:
    """Counts and date span of the cases within `scope` (required), one query each."""
    with engine.connect() as conn:
        n_cases, first, last, last_closed = conn.execute(
            sa.select(sa.func.count(), sa.func.min(cases.c.received_date), sa.func.max(cases.c.received_date),
                      sa.func.max(cases.c.closed_date)).where(case_in_scope(cases.c.county_code, scope))).one()
        n_regions = conn.execute(sa.select(sa.func.count()).select_from(regions)).scalar_one()
    return Coverage(n_cases, n_regions, first, last, last_closed)


def data_version(engine: sa.Engine) -> str:
    """Changes with every write of the app (loads, ledger and 12388 steps, user changes): part of every
    cache key (data_access.store.changes)."""
    with engine.connect() as conn:
        return changes.data_version(conn)


def quality_warnings(engine: sa.Engine, as_of: dt.date, default_due_days: int) -> list[QualityWarning]:
    """Observations a supervisor should know before trusting the numbers (`default_due_days`: the
    setting that fills an empty due date)."""
    acc = cases.c.category == Category.ACCUSATION.value
    closed = cases.c.closed_date.is_not(None)
    checks = (
        ("no_due_date", "未填写办理期限", acc & cases.c.due_date.is_(None),
         f"按收件日期后 {default_due_days} 天计算期限；如有批准延期而未录入，按期办结率会偏低。"),
        ("closed_unrated", "已办结但未评价", acc & closed & cases.c.satisfaction.is_(None),
         "不计入群众满意率的分母，参评率因此降低。"),
        ("real_name_no_notice", "实名举报未录入受理告知日期", acc & cases.c.is_real_name.is_(True)
         & cases.c.accepted_notice_date.is_(None), "计入应受理告知件但不算及时，受理告知及时率会偏低。"),
        ("real_name_no_feedback", "实名举报已办结未录入结果反馈日期", acc & cases.c.is_real_name.is_(True) & closed
         & cases.c.result_notice_date.is_(None), "计入应结果反馈件但不算及时，结果反馈及时率会偏低。"),
        ("future_dates", "日期晚于截止日期", (cases.c.received_date > as_of) | (cases.c.closed_date > as_of),
         "截止日期之后的收件或办结不计入当前统计；如非预期，请检查数据日期。"),
    )
    columns = [sa.func.count().filter(cond).label(key) for key, _, cond, _ in checks]
    with engine.connect() as conn:
        row = conn.execute(sa.select(*columns).select_from(cases)).one()
    return [QualityWarning(key, label, int(getattr(row, key)), why) for key, label, _, why in checks]


def calendar_note(period_end: dt.date) -> str | None:
    """A Chinese note when deadlines may fall beyond the official holiday calendar's years."""
    _, last = official_range()
    if period_end + dt.timedelta(days=DEADLINE_REACH_DAYS) > last:
        return (f"节假日日历仅覆盖至 {last.year} 年；{last.year + 1} 年起的工作日暂按周一至周五计算，"
                "受理告知、结果反馈期限可能与实际放假安排略有出入。")
    return None


__all__ = ["Coverage", "QualityWarning", "coverage", "data_version", "quality_warnings", "calendar_note",
           "latest_load"]


def reporting_status(engine: sa.Engine) -> list[dict[str, object]]:
    """上报情况: for every city, the latest received_date among its cases and its last import by a user
    of the city or one of its counties (when, who) — what the province checks before trusting a city's
    figures. Cities in code order."""
    county, city = regions.alias("county"), regions.alias("city")
    latest = dict(conn_rows(engine, sa.select(city.c.code, sa.func.max(cases.c.received_date))
                            .select_from(cases.join(county, county.c.code == cases.c.county_code)
                                         .join(city, city.c.code == county.c.parent_code))
                            .group_by(city.c.code)))
    imports = sa.select(audit_log.c.scope, audit_log.c.at, audit_log.c.username).where(
        audit_log.c.action == AuditAction.IMPORT.value, audit_log.c.scope != "", audit_log.c.detail.like("导入 %"))
    tree = {code: (level, parent) for code, level, parent in
            conn_rows(engine, sa.select(regions.c.code, regions.c.level, regions.c.parent_code))}

    def city_of(code: str) -> str | None:
        level, parent = tree.get(code, (None, None))
        if level == "city":
            return code
        return parent if level == "county" and parent is not None and tree.get(parent, (None,))[0] == "city" else None

    last: dict[str, tuple[dt.datetime, str]] = {}
    for scope, at, username in conn_rows(engine, imports):
        if (city_code := city_of(scope)) is not None and (city_code not in last or at > last[city_code][0]):
            last[city_code] = (at, username)
    out = []
    for code, name in conn_rows(engine, sa.select(regions.c.code, regions.c.name).where(regions.c.level == "city")
                                .order_by(regions.c.code)):
        when, who = last.get(code, (None, None))
        out.append({"code": code, "name": name, "latest_received": latest.get(code), "last_import": when, "by": who})
    return out


def conn_rows(engine: sa.Engine, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of a small query as a tuple."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]
