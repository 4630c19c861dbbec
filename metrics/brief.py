"""领导简报: the facts of the one-page brief of the 总览 for leaders who do not open the dashboard.

The same numbers the 总览 page shows, asked the same way for the same period: the KPI cards of the viewer's region
against the period before, its 三色预警 at the period's as-of date, the units below ranked, the counties for the
map. The 重点督导 list is metrics.priority.priority_list at the chosen date, as every other surface names it. The
writer (reports/brief.py) only draws these numbers; the 总览 page's button and `python -m reports brief` both call
`brief_facts`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from data_access.identity.auth import OutOfScope
from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Level
from data_access.store.engine import connect
from data_access.store.schema import regions

from .analysis import province_code, region_of, within
from .priority import PriorityStatus, priority_list, priority_window
from .request import CaseFilter, Period, TableRequest
from .settings import DEFAULT_SETTINGS, Settings
from .table import region_table
from .warnings import warning_counts

# the 总览's KPI cards, in their order (ui/kpi.py draws these)
HEADLINE_METRICS = ("on_time_rate", "satisfaction_rate", "overdue", "leapfrog_rate", "dispute_rate", "received")
RANKING_METRIC = "on_time_rate"  # the 总览's ranking and map open on it
MIN_DUE_TO_RANK = 10  # a unit with fewer due cases is listed after the ranked ones (as the 周例会 does)


@dataclass(frozen=True)
class WarningTally:
    """三色预警 of the region's open cases at `as_of`: overdue (red), due within `workdays` working days (yellow)."""

    as_of: dt.date
    red: int
    yellow: int
    green: int
    workdays: int


@dataclass(frozen=True)
class BriefFacts:
    """Everything the brief shows, as the metrics layer computed it for the 总览 of one region."""

    province: str
    region_code: str
    region_name: str
    region_level: Level
    period: Period
    previous_period: Period
    filters: CaseFilter
    current: pd.Series  # HEADLINE_METRICS of the region over the period (the 总览's cards)
    previous: pd.Series  # the same over period.previous(), the cards' change
    warnings: WarningTally
    unit_level: Level | None  # None for a county: it has no units below
    units: pd.DataFrame  # code, name, due, RANKING_METRIC, ranked: the units below, best ranked first
    counties: pd.DataFrame  # code, name, RANKING_METRIC of every county of the region (the map)
    priority: pd.DataFrame  # priority_list rows of status 重点督导 or 关注 within the region, with city_name
    priority_window: Period


def _headline(conn: sa.Connection, level: Level, period: Period, root: str, scope: Scope, filters: CaseFilter,
              settings: Settings) -> pd.Series:
    """The region's row exactly as the 总览 asks for it (ScopedData.table at the root's level under the root)."""
    frame = region_table(conn, TableRequest(level, period, parent=root, filters=filters, scope=scope), settings)
    return frame.iloc[0][list(HEADLINE_METRICS)]


def _ranked_units(frame: pd.DataFrame) -> pd.DataFrame:
    """The units by RANKING_METRIC, best first; those with fewer than MIN_DUE_TO_RANK due cases after them."""
    units = frame[["code", "name", "due", RANKING_METRIC]].assign(ranked=frame["due"] >= MIN_DUE_TO_RANK)
    return units.sort_values(["ranked", RANKING_METRIC, "code"], ascending=[False, False, True], na_position="last",
                             kind="stable").reset_index(drop=True)


def brief_facts(engine: sa.Engine | sa.Connection, period: Period, *, scope: Scope, filters: CaseFilter = CaseFilter(),
                settings: Settings = DEFAULT_SETTINGS, region: str | None = None,
                priority_as_of: dt.date | None = None) -> BriefFacts:
    """The brief of `region` (default: the scope's own region, or the province) over `period`, as its 总览 shows it
    to a viewer of that region; the 重点督导 list is the one at `priority_as_of` (default: the period's as-of date)."""
    require_scope(scope)
    tested = priority_window(priority_as_of or period.as_of_date, settings)
    with connect(engine) as conn:
        province = province_code(conn)
        root = region or scope.code or province
        name, level = region_of(conn, root)
        if scope.code is not None and not within(conn, root, scope.code):
            raise OutOfScope(f"地区 {name}（{root}）不在本账号的管辖范围内 / region {root} is outside the reader's scope")
        own = Scope(root) if level is not Level.PROVINCE else scope
        current = _headline(conn, level, period, root, own, filters, settings)
        previous = _headline(conn, level, period.previous(), root, own, filters, settings)
        colours = warning_counts(conn, period.as_of_date, level, scope=own, parent=root, filters=filters, settings=settings)
        unit_level = level.child()
        units = (region_table(conn, TableRequest(unit_level, period, parent=root, filters=filters, scope=own), settings)
                 if unit_level is not None else pd.DataFrame(columns=["code", "name", "due", RANKING_METRIC]))
        counties = region_table(conn, TableRequest(Level.COUNTY, period, parent=root, filters=filters, scope=own,
                                                   metrics=("due", RANKING_METRIC)), settings)
        ranked = priority_list(conn, tested.as_of_date, scope=own, settings=settings)
        cities = dict(conn.execute(sa.select(regions.c.code, regions.c.name).where(regions.c.level == Level.CITY.value)).all())
    flagged = ranked[ranked["status"].isin((PriorityStatus.PRIORITY.value, PriorityStatus.WATCH.value))]
    red, yellow, green = (int(colours[c].sum()) for c in ("red", "yellow", "green"))
    tally = WarningTally(period.as_of_date, red, yellow, green, settings.warning_workdays)
    return BriefFacts(province, root, name, level, period, period.previous(), filters, current, previous, tally,
                      unit_level, _ranked_units(units), counties[["code", "name", RANKING_METRIC]].reset_index(drop=True),
                      flagged.assign(city_name=flagged["city_code"].map(cities)).reset_index(drop=True), tested)
