"""形势分析报告: the facts of a half-year (or any period's) situation report, every one from the metrics layer.

One region (the province, or the city or county of the user who makes it) over a period read as of A
(metrics.md, "Concentration and change" for the windows): its core figures this period, the equal span
before, the calendar period before (prior_window) and the same dates a year earlier, its units below by
received and handling, the domains and channels of its reports, the rising hot spots, the priority counties
and the deterioration signals. The document writer (reports/analysis_report.py) only words and draws these
numbers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from data_access.identity.auth import OutOfScope
from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Level
from data_access.store.engine import connect
from data_access.store.schema import regions

from .matter_domains import screened_by_domain
from .priority import PriorityStatus, priority_list, priority_window
from .request import Period, TableRequest
from .settings import DEFAULT_SETTINGS, Settings
from .signals import deterioration_signals
from .table import region_table
from .trends import TrendBy, trends, windows

CORE_METRICS = ("received", "accepted", "due", "on_time", "on_time_rate", "first_due", "first_on_time_rate", "rated",
                "satisfaction_rate", "closed", "disputed", "dispute_rate", "leapfrog", "leapfrog_rate", "repeat",
                "repeat_rate", "overdue", "first_overdue")
UNIT_METRICS = ("received", "due", "on_time_rate", "first_due", "first_on_time_rate", "satisfaction_rate", "leapfrog",
                "repeat", "disputed", "overdue")


class UnknownRegion(ValueError):
    """The region asked for is not in the region reference."""


@dataclass(frozen=True)
class AnalysisFacts:
    """Everything the report says, as the metrics layer computed it."""

    region_code: str
    region_name: str
    region_level: Level
    unit_level: Level | None  # None for a county: it has no units below
    period: Period
    window: tuple[dt.date, dt.date]
    previous_window: tuple[dt.date, dt.date]
    current: pd.Series  # CORE_METRICS of the region over the window
    previous: pd.Series  # the same over the previous window, read as of the same A
    units: pd.DataFrame  # code, name, UNIT_METRICS, previous_received, change (empty for a county)
    domains: pd.DataFrame  # metrics.trends at the region's own level by domain
    channels: pd.DataFrame  # the same by channel
    hot_spots: pd.DataFrame  # metrics.trends of the units by domain, rising only, highest z first
    priority: pd.DataFrame  # metrics.priority.priority_list rows of status 重点督导 or 关注 within the region
    priority_window: Period  # the rolling window that list was tested over (metrics.priority.priority_window)
    signals: pd.DataFrame  # metrics.signals rows with a signal within the region
    prior_window: tuple[dt.date, dt.date]  # the calendar month, quarter, half-year or year before one (prior_window)
    prior: pd.Series  # CORE_METRICS over prior_window, read as of the same A
    year_ago_window: tuple[dt.date, dt.date]  # the window's dates a year earlier (去年同期)
    year_ago: pd.Series  # CORE_METRICS over year_ago_window, read as of the same A
    matter_domains: pd.DataFrame = field(default_factory=pd.DataFrame)  # the screened repeat matters at A by domain
    # (metrics.matter_domains.screened_by_domain, the 形势分析 page's table too)


def region_of(conn: sa.Connection, code: str) -> tuple[str, Level]:
    """The name and level of a region code (UnknownRegion when the reference has no such code)."""
    row = conn.execute(sa.select(regions.c.name, regions.c.level).where(regions.c.code == code)).first()
    if row is None:
        raise UnknownRegion(f"地区代码 {code} 不在地区参考表中 / unknown region code {code}")
    return str(row.name), Level(row.level)


def within(conn: sa.Connection, code: str, ancestor: str) -> bool:
    """True when `code` is `ancestor` or lies under it (the region tree has three levels)."""
    while code:
        if code == ancestor:
            return True
        code = conn.execute(sa.select(regions.c.parent_code).where(regions.c.code == code)).scalar_one_or_none() or ""
    return False


def province_code(conn: sa.Connection) -> str:
    """The code of the reference's one province."""
    code = conn.execute(sa.select(regions.c.code).where(regions.c.level == Level.PROVINCE.value)).scalar_one_or_none()
    if code is None:
        raise UnknownRegion("地区参考表中没有省级单位 / the region reference has no province")
    return str(code)


def _year_earlier(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else dt.date(day.year - 1, 2, 28)


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def prior_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The span a report compares its period with: for a whole calendar month, quarter, half-year or year the one
    before it (2026年上半年 → 2025年下半年); for any other span the equal span just before (metrics.trends.windows)."""
    following = end + dt.timedelta(days=1)
    months = (following.year - start.year) * 12 + following.month - start.month
    if start.day == 1 and following.day == 1 and months in (1, 3, 6, 12) and (start.month - 1) % months == 0:
        return _month_start(start.year, start.month - months), start - dt.timedelta(days=1)
    n = dt.timedelta(days=(end - start).days + 1)
    return start - n, end - n


def _own_row(conn: sa.Connection, level: Level, period: Period, code: str, scope: Scope, settings: Settings) -> pd.Series:
    frame = region_table(conn, TableRequest(level, period, metrics=CORE_METRICS, scope=scope), settings)
    row = frame[frame["code"] == code]
    return row.iloc[0][list(CORE_METRICS)] if len(row) else pd.Series(dict.fromkeys(CORE_METRICS, 0))


def _units(conn: sa.Connection, level: Level, period: Period, previous: Period, parent: str | None, scope: Scope,
           settings: Settings) -> pd.DataFrame:
    now = region_table(conn, TableRequest(level, period, parent=parent, metrics=UNIT_METRICS, scope=scope), settings)
    before = region_table(conn, TableRequest(level, previous, parent=parent, metrics=("received",), scope=scope), settings)
    out = now[["code", "name", *UNIT_METRICS]].merge(
        before[["code", "received"]].rename(columns={"received": "previous_received"}), on="code", how="left")
    out["previous_received"] = out["previous_received"].fillna(0).astype("int64")
    out["change"] = out["received"].astype("int64") - out["previous_received"]
    return out.sort_values(["received", "code"], ascending=[False, True]).reset_index(drop=True)


def analysis_facts(engine: sa.Engine | sa.Connection, period: Period, *, scope: Scope, region: str | None = None,
                   settings: Settings = DEFAULT_SETTINGS, priority_as_of: dt.date | None = None) -> AnalysisFacts:
    """The facts of the report on `region` (default: the scope's own region, or the province) for `period`; its
    重点督导 list is the one at `priority_as_of` (default: the period's as-of date), as every other surface names it."""
    require_scope(scope)
    tested = priority_window(priority_as_of or period.as_of_date, settings)
    (w_start, w_end), (p_start, p_end) = windows(period)
    current_p = Period(w_start, w_end, period.as_of_date)
    previous_p = Period(p_start, p_end, period.as_of_date)
    # a window cut at A compares with the equal span before it; a whole calendar period with the one before
    prior = prior_window(period.start, period.end) if w_end == period.end else (p_start, p_end)
    ago = (_year_earlier(w_start), _year_earlier(w_end))
    with connect(engine) as conn:
        code = region or scope.code or province_code(conn)
        name, level = region_of(conn, code)
        if scope.code is not None and not within(conn, code, scope.code):
            raise OutOfScope(f"地区 {name}（{code}）不在本账号的管辖范围内 / region {code} is outside the reader's scope")
        own_scope = Scope(code) if level is not Level.PROVINCE else scope
        current = _own_row(conn, level, current_p, code, own_scope, settings)
        previous = _own_row(conn, level, previous_p, code, own_scope, settings)
        prior_row = _own_row(conn, level, Period(*prior, period.as_of_date), code, own_scope, settings)
        year_ago = _own_row(conn, level, Period(*ago, period.as_of_date), code, own_scope, settings)
        unit_level = level.child()
        parent = code if level is not Level.PROVINCE else None
        units = (_units(conn, unit_level, current_p, previous_p, parent, own_scope, settings) if unit_level is not None
                 else pd.DataFrame(columns=["code", "name", *UNIT_METRICS, "previous_received", "change"]))
        domains = trends(conn, level, TrendBy.DOMAIN, period, scope=own_scope)
        channels = trends(conn, level, TrendBy.CHANNEL, period, scope=own_scope)
        hot = (trends(conn, unit_level, TrendBy.DOMAIN, period, scope=own_scope, parent=parent)
               if unit_level is not None else domains)
        hot_spots = hot[hot["rising"].astype(bool)].sort_values(["z", "code"], ascending=[False, True]).reset_index(drop=True)
        ranked = priority_list(conn, tested.as_of_date, scope=own_scope, settings=settings)
        focus = ranked[ranked["status"].isin((PriorityStatus.PRIORITY.value, PriorityStatus.WATCH.value))].reset_index(drop=True)
        signals = deterioration_signals(conn, period.as_of_date, scope=own_scope, settings=settings)
        matter_domains = screened_by_domain(conn, period.as_of_date, parent=parent, settings=settings)
        tree = pd.DataFrame(conn.execute(sa.select(regions.c.code, regions.c.name, regions.c.parent_code)).fetchall(),
                            columns=["code", "name", "parent_code"])
    names, parents = dict(zip(tree["code"], tree["name"], strict=True)), dict(zip(tree["code"], tree["parent_code"], strict=True))
    # county names repeat across cities (市中区): the lists carry each county's city
    focus = focus.assign(city_name=focus["city_code"].map(names))
    signals = signals.assign(city_name=signals["code"].map(parents).map(names))
    return AnalysisFacts(code, name, level, unit_level, period, (w_start, w_end), (p_start, p_end),
                         current, previous, units, _sorted(domains), _sorted(channels), hot_spots, focus, tested,
                         signals[signals["signals"].astype(str) != ""].reset_index(drop=True), prior, prior_row, ago, year_ago,
                         matter_domains)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """A region's own trend rows, most received first (ties by value)."""
    return frame.sort_values(["received", "value"], ascending=[False, True]).reset_index(drop=True)
