"""周例会: this week against last week, a year ago, the ranking of the units below (a province's cities, a city's
counties), new and long overdue cases, priority counties entering or leaving the list, and the 通报 paragraph —
every number from the metrics layer.

Weeks follow the spec: a review week runs Monday to Sunday; "this week" as of A is the week holding A,
read as of A; "last week" is the week before it, read as of its own Sunday.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope
from data_access.reference.enums import LabelledEnum, Level
from data_access.store.engine import connect
from data_access.store.schema import cases, regions, supervision_items
from data_access.supervision.ledger import WeekCounts, week_counts
from data_access.supervision.ledger import items as ledger_items

from .campaign_week import CampaignWeek, campaign_week
from .caselists import OverdueOrder, county_overdue_stock, overdue_cases
from .periods import Preset, preset_period
from .priority import PriorityStatus, priority_list, priority_window
from .registry import METRICS_BY_ID, Direction, MetricKind
from .request import CaseFilter, Period, TableRequest
from .settings import DEFAULT_SETTINGS, Settings
from .signals import SignalReading, explain_signal, read_signals
from .table import region_table

WEEKLY_HEADLINE_METRICS = ("on_time_rate", "satisfaction_rate", "overdue", "leapfrog_rate", "dispute_rate", "received",
                    "first_on_time_rate", "disputed")
SATISFACTION_METRICS = ("closed", "rated", "satisfied", "satisfaction_rate", "rating_rate", "disputed", "dispute_rate")
UNIT_METRICS = ("due", "on_time", "on_time_rate", "overdue", *SATISFACTION_METRICS)
COUNTY_METRICS = ("due", "on_time", "on_time_rate")
LONG_OVERDUE_DAYS = 90  # 长期超期: more than this many days past due
MIN_DUE_TO_COMPARE = 10  # a unit is ranked with this many due cases, named as improving or slipping with them in both weeks
TREND_WEEKS = 6  # the small trend lines: this week and the five before it
SIGNAL_CHARTS = 8  # p-charts drawn for at most this many counties with a signal (the worst first)
STOCK_COUNTIES = 8  # counties with the most overdue first reports listed on the meeting's slide (the rest in a note)
YEAR_AGO_DAYS = 364  # 52 weeks: the same Monday-to-Sunday week a year earlier
UNIT_NOUNS = {Level.CITY: "市", Level.COUNTY: "县（市、区）"}


class Section(LabelledEnum):
    """The sections of the meeting, in the order they are shown (page, deck)."""

    KPIS = ("kpis", "核心指标")
    CITIES = ("cities", "按期办结率排名")  # the units one level below the viewer's region: see WeeklyReport.section_title
    OVERDUE = ("overdue", "超期未办结")
    PRIORITY = ("priority", "重点督导县")
    SATISFACTION = ("satisfaction", "满意度与结而不服")
    CAMPAIGN = ("campaign", "越级重复举报专项治理")
    BULLETIN = ("bulletin", "通报")


class Trend(str, Enum):
    """Whether a week-on-week change is an improvement, given the metric's direction."""

    BETTER = "better"
    WORSE = "worse"
    SAME = "same"
    NEUTRAL = "neutral"  # a change with no better/worse (volumes)
    UNKNOWN = "unknown"  # a value is missing in one of the weeks


@dataclass(frozen=True)
class HeadlineChange:
    """One headline metric this week, last week and a year ago."""

    metric_id: str
    this_week: float | None
    last_week: float | None
    year_ago: float | None

    @property
    def change(self) -> float | None:
        """This week minus last week (None when either is missing)."""
        if self.this_week is None or self.last_week is None:
            return None
        return self.this_week - self.last_week

    @property
    def trend(self) -> Trend:
        """Better or worse than last week, by the metric's direction."""
        return trend_of(self.metric_id, self.change)


@dataclass(frozen=True)
class WeeklyReport:
    """Everything the weekly review meeting shows; frames are sorted for display."""

    as_of: dt.date
    this_week: Period
    last_week: Period
    year_ago_week: Period | None  # None when the data does not reach back that far
    province: pd.Series  # this week's province row (every metric)
    province_last: pd.Series
    province_year_ago: pd.Series | None
    headlines: tuple[HeadlineChange, ...]
    units: pd.DataFrame  # the units one level below the region (unit_level): `ranked` (due >= min_due_to_compare),
    # rank / rank_last among the ranked units only (ties share the better rank, `tied` marks them), rank_change,
    # rate_change, overdue / overdue_last / overdue_change, satisfaction columns; a county viewer's is its county alone
    counties: pd.DataFrame  # every county of the region: on_time_rate this and last week, rate_change
    newly_overdue: pd.DataFrame  # overdue at as_of, not at last Sunday (the overdue ledger's columns)
    long_overdue: pd.DataFrame  # overdue more than LONG_OVERDUE_DAYS at as_of
    overdue_by_county: pd.DataFrame  # county_code, county_name, city_name, newly_overdue, long_overdue
    priority_ranking: pd.DataFrame  # every county's funnel test over the rolling year up to as_of (with city_name)
    priority: pd.DataFrame  # this week's 重点督导 counties, with `entered` (not on last week's list)
    priority_left: pd.DataFrame  # last week's priority counties no longer listed (their status now)
    priority_window: Period
    priority_window_last: Period
    settings: Settings = DEFAULT_SETTINGS
    min_due_to_compare: int = MIN_DUE_TO_COMPARE
    long_overdue_days: int = LONG_OVERDUE_DAYS
    region_name: str = "全省"  # the viewer's region as captions name it: 全省, 济宁市, 微山县
    region_level: Level = Level.PROVINCE
    supervision: WeekCounts = WeekCounts(0, 0, 0, 0, 0, 0)  # the 督办台账's week
    signals: pd.DataFrame = field(default_factory=pd.DataFrame)  # counties with a deterioration signal, with `sentence`
    signal_charts: dict[str, pd.DataFrame] = field(default_factory=dict)  # p_chart frame per flagged county code
    overdue: pd.DataFrame = field(default_factory=pd.DataFrame)  # the whole overdue ledger at as_of, most overdue first
    recent_weeks: pd.DataFrame = field(default_factory=pd.DataFrame)  # the last TREND_WEEKS weeks' province rows, oldest
    # first: week_start, week_end, as_of_date and every metric
    ledger_items: pd.DataFrame = field(default_factory=pd.DataFrame)  # the 督办台账's items in scope with county_name,
    # city_name (data_access.supervision.ledger.items' order: overdue replies first, then the oldest)
    overdue_stock: pd.DataFrame = field(default_factory=pd.DataFrame)  # each county's overdue first reports at as_of
    # and at last week's Sunday, the change and how many are 已挂账 (metrics.caselists.county_overdue_stock)
    campaign: CampaignWeek | None = None  # 越级重复举报专项治理 at as_of (metrics.campaign_week); None: not read

    @property
    def overdue_stock_totals(self) -> tuple[int, int, int]:
        """The overdue first reports of all counties: now, the change on last week, how many are 已挂账."""
        s = self.overdue_stock
        if s.empty:
            return 0, 0, 0
        return int(s["overdue"].sum()), int(s["overdue_change"].sum()), int(s["supervised"].sum())

    @property
    def overdue_stock_listed(self) -> pd.DataFrame:
        """The counties with overdue first reports now, most first (overdue_stock without those down to none)."""
        s = self.overdue_stock
        return s if s.empty else s[s["overdue"] > 0].reset_index(drop=True)

    @property
    def overdue_stock_rest(self) -> tuple[int, int, int]:
        """Counties, cases and 已挂账 cases beyond the STOCK_COUNTIES the slide lists."""
        rest = self.overdue_stock_listed.iloc[STOCK_COUNTIES:]
        return (len(rest), int(rest["overdue"].sum()), int(rest["supervised"].sum())) if not rest.empty else (0, 0, 0)

    @property
    def unit_level(self) -> Level:
        """The level of the units ranked and compared: cities for the province, counties below."""
        return units_below(self.region_level)

    @property
    def unit_noun(self) -> str:
        """市 or 县（市、区）, as in 各市 / 各县（市、区）."""
        return UNIT_NOUNS[self.unit_level]

    @property
    def ranks_units(self) -> bool:
        """Whether there are units below the region to rank (not for a county viewer)."""
        return self.region_level is not Level.COUNTY

    def section_title(self, section: Section) -> str:
        """A section's heading for this region: 各市按期办结率排名, 各县（市、区）按期办结率排名, 微山县按期办结率."""
        if section is Section.CITIES:
            return f"各{self.unit_noun}按期办结率排名" if self.ranks_units else f"{self.region_name}按期办结率"
        return section.label

    @property
    def priority_window_months(self) -> int:
        """How many months the priority test looks back (a setting)."""
        return self.settings.priority_window_months

    def headline(self, metric_id: str) -> HeadlineChange:
        """The headline entry of one metric."""
        return next(h for h in self.headlines if h.metric_id == metric_id)

    @property
    def priority_entered(self) -> pd.DataFrame:
        """Priority counties this week that were not listed last week."""
        return self.priority[self.priority["entered"]]


def trend_of(metric_id: str, change: float | None) -> Trend:
    """Trend of a change of a metric (rates compared at the shown precision, 0.1 percentage point)."""
    if change is None or change != change:
        return Trend.UNKNOWN
    m = METRICS_BY_ID[metric_id]
    if m.direction is Direction.NEUTRAL:
        return Trend.NEUTRAL
    unchanged = f"{abs(change) * 100:.1f}" == "0.0" if m.kind is MetricKind.RATE else change == 0
    if unchanged:
        return Trend.SAME
    return Trend.BETTER if (change > 0) == (m.direction is Direction.HIGHER_BETTER) else Trend.WORSE


def review_weeks(as_of: dt.date) -> tuple[Period, Period]:
    """This week (Monday..Sunday holding as_of, read as of as_of) and last week (read as of its Sunday)."""
    return preset_period(Preset.THIS_WEEK, as_of), preset_period(Preset.LAST_WEEK, as_of)


def year_ago(week: Period) -> Period:
    """The same Monday-to-Sunday week 52 weeks earlier, read as of the same weekday."""
    shift = dt.timedelta(days=YEAR_AGO_DAYS)
    return Period(week.start - shift, week.end - shift, week.as_of_date - shift)


def first_received(conn: sa.Connection) -> dt.date | None:
    """The earliest received_date in the case table (where the data begins)."""
    earliest: dt.date | None = conn.execute(sa.select(sa.func.min(cases.c.received_date))).scalar_one()
    return earliest


def _value(row: pd.Series | None, metric_id: str) -> float | None:
    """A metric of a row as a plain Python number (None when the row or the value is missing)."""
    if row is None or pd.isna(row[metric_id]):
        return None
    value = row[metric_id]
    number: float = value.item() if hasattr(value, "item") else value  # numpy scalar -> int / float
    return number


def headline_changes(this: pd.Series, last: pd.Series, ago: pd.Series | None) -> tuple[HeadlineChange, ...]:
    """The headline metrics with their week-on-week change and year-ago value."""
    return tuple(HeadlineChange(m, _value(this, m), _value(last, m), _value(ago, m)) for m in WEEKLY_HEADLINE_METRICS)


def on_time_rank(rates: pd.Series) -> pd.Series:
    """Rank by on-time rate, best first; ties share the better rank; no rate, no rank."""
    return rates.rank(method="min", ascending=False).astype("Int64")


def units_below(region_level: Level) -> Level:
    """The level a region's meeting ranks: the province's cities, a city's (or a county's own) counties."""
    return Level.CITY if region_level is Level.PROVINCE else Level.COUNTY


def ranked_units(this: pd.DataFrame, last: pd.DataFrame, min_due: int = MIN_DUE_TO_COMPARE) -> pd.DataFrame:
    """Units (cities, or a city's counties) ranked by on-time rate among those with at least `min_due` due
    cases (this week's rank, last week's among last week's such units, the change: positive moved up); the
    others are kept, unranked (`ranked` False), after the ranked ones. Ties share the better rank (`tied`)."""
    columns = ["code", "due", "on_time_rate"] + (["overdue"] if "overdue" in last else [])
    previous = last[columns].rename(columns={c: f"{c}_last" for c in columns if c != "code"})
    out = this.merge(previous, on="code", how="left")
    out["ranked"] = (out["due"] >= min_due) & out["on_time_rate"].notna()
    ranked_last = (out["due_last"] >= min_due) & out["on_time_rate_last"].notna()
    out["rank"] = on_time_rank(out["on_time_rate"].where(out["ranked"]))
    out["rank_last"] = on_time_rank(out["on_time_rate_last"].where(ranked_last))
    out["tied"] = out["rank"].notna() & out["rank"].duplicated(keep=False)
    out["rank_change"] = out["rank_last"] - out["rank"]
    out["rate_change"] = out["on_time_rate"] - out["on_time_rate_last"]
    if "overdue" in out and "overdue_last" in out:
        out["overdue_change"] = out["overdue"] - out["overdue_last"]
    return out.sort_values(["rank", "code"], na_position="last", kind="stable").reset_index(drop=True)


def county_changes(this: pd.DataFrame, last: pd.DataFrame, city_names: dict[str, str]) -> pd.DataFrame:
    """Every county's on-time rate this week and last week, with the change."""
    previous = last[["code", "due", "on_time_rate"]].rename(columns={"due": "due_last", "on_time_rate": "on_time_rate_last"})
    out = this.rename(columns={"parent_code": "city_code"}).merge(previous, on="code", how="left")
    out["city_name"] = out["city_code"].map(city_names)
    out["rate_change"] = out["on_time_rate"] - out["on_time_rate_last"]
    return out.reset_index(drop=True)


def movers(frame: pd.DataFrame, min_due: int) -> tuple[pd.Series | None, pd.Series | None]:
    """The region whose on-time rate rose most and the one whose rate fell most (both weeks >= min_due due)."""
    comparable = frame[(frame["due"] >= min_due) & (frame["due_last"] >= min_due) & frame["rate_change"].notna()]
    comparable = comparable.sort_values(["rate_change", "code"], kind="stable")
    rising, falling = comparable[comparable["rate_change"] > 0], comparable[comparable["rate_change"] < 0]
    best = rising.iloc[-1] if not rising.empty else None
    worst = falling.iloc[0] if not falling.empty else None
    return best, worst


def newly_overdue(now: pd.DataFrame, before: dt.date) -> pd.DataFrame:
    """Cases in the overdue ledger `now` that were not overdue at the end of `before` (an earlier day).

    A case overdue now is open now, so it was open then too; it was overdue then exactly when its due
    date lay before that day. So the earlier ledger is never read: the ones due on or after it are new."""
    due = pd.to_datetime(now["due_date"])
    return now[due >= pd.Timestamp(before)].reset_index(drop=True)


def overdue_by_county(new: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """Newly overdue and long-overdue cases per county, most long-overdue first."""
    keys = ["county_code", "county_name", "city_name"]
    counts = [frame.groupby(keys).size().rename(name) for frame, name in ((new, "newly_overdue"), (long, "long_overdue"))]
    out = pd.concat(counts, axis=1).fillna(0).astype("int64").reset_index()
    if out.empty:
        return pd.DataFrame({c: pd.Series(dtype="object" if c in keys else "int64")
                             for c in (*keys, "newly_overdue", "long_overdue")})
    return out.sort_values(["long_overdue", "newly_overdue", "county_code"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


def priority_changes(now: pd.DataFrame, before: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """This week's priority counties (with `entered`) and last week's that left the list (as they stand now)."""
    listed = PriorityStatus.PRIORITY.value
    was_listed = set(before.loc[before["status"] == listed, "code"])
    current = now[now["status"] == listed].reset_index(drop=True)
    current["entered"] = ~current["code"].isin(was_listed)
    left = now[now["code"].isin(was_listed) & (now["status"] != listed)].reset_index(drop=True)
    return current, left


def overdue_by_unit(r: WeeklyReport) -> pd.DataFrame:
    """Each unit's overdue now and at last Sunday, with the long-overdue and newly overdue among them."""
    key = "city_code" if r.unit_level is Level.CITY else "county_code"
    units = r.units[["code", "name", "overdue", "overdue_last"]].copy()
    for column, frame in (("long_overdue", r.long_overdue), ("newly_overdue", r.newly_overdue)):
        counts = frame.groupby(key).size() if not frame.empty else pd.Series(dtype="int64")
        units[column] = units["code"].map(counts).fillna(0).astype("int64")
    units["overdue_change"] = units["overdue"] - units["overdue_last"]
    return units.sort_values(["overdue", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)


def trend_weeks(this_week: Period) -> list[Period]:
    """The TREND_WEEKS weeks ending with this week, oldest first: earlier weeks read as of their Sunday,
    this week as of its own as-of date (last week comes out as review_weeks' last week)."""
    weeks = [this_week]
    for k in range(1, TREND_WEEKS):
        sunday = this_week.start - dt.timedelta(days=7 * (k - 1) + 1)
        weeks.append(Period(sunday - dt.timedelta(days=6), sunday, sunday))
    return weeks[::-1]


def week_rows(rows: list[pd.DataFrame], weeks: list[Period]) -> pd.DataFrame:
    """One province row per week (oldest first) with the week's start, end and as-of date."""
    frame = pd.concat([row.iloc[[0]] for row in rows], ignore_index=True)
    frame.insert(0, "week_start", [w.start for w in weeks])
    frame.insert(1, "week_end", [w.end for w in weeks])
    frame.insert(2, "as_of_date", [w.as_of_date for w in weeks])
    return frame


def worst_signals(flagged: pd.DataFrame) -> list[str]:
    """Codes of the flagged counties, the largest fall from baseline to recent rate first."""
    if flagged.empty:
        return []
    fall = flagged["baseline_rate"] - flagged["recent_rate"]
    return list(flagged.assign(fall=fall).sort_values(["fall", "code"], ascending=[False, True], kind="stable")["code"])


def supervision_list(conn: sa.Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """The 督办台账's items in scope with their county's and city's names (empty where the app has not
    set up the ledger yet: a report read by the command line creates no table)."""
    if not sa.inspect(conn).has_table(supervision_items.name):
        return pd.DataFrame()
    frame = ledger_items(conn, scope, as_of)
    if frame.empty:
        return frame
    names = {str(code): (str(name), str(parent or "")) for code, name, parent in
             conn.execute(sa.select(regions.c.code, regions.c.name, regions.c.parent_code))}
    frame["county_name"] = frame["county_code"].map(lambda c: names.get(c, (c, ""))[0])
    frame["city_name"] = frame["county_code"].map(lambda c: names.get(names.get(c, ("", ""))[1], ("", ""))[0])
    return frame


@dataclass(frozen=True)
class _Scope:
    """What every query of one report shares."""

    conn: sa.Connection
    filters: CaseFilter
    scope: Scope
    settings: Settings

    def table(self, level: Level, period: Period, metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
        """region_table for this report's filters and scope."""
        request = TableRequest(level, period, filters=self.filters, metrics=metrics, scope=self.scope)
        return region_table(self.conn, request, self.settings)

    def overdue(self, as_of: dt.date) -> pd.DataFrame:
        """The overdue ledger at the end of `as_of`, most overdue first."""
        return overdue_cases(self.conn, as_of, scope=self.scope, filters=self.filters,
                             order=OverdueOrder.MOST_OVERDUE, settings=self.settings)

    def priority(self, as_of: dt.date) -> pd.DataFrame:
        """The 重点督导 ranking at `as_of` (metrics.priority.priority_list)."""
        return priority_list(self.conn, as_of, self.filters, scope=self.scope, settings=self.settings)


def _region(conn: sa.Connection, scope: Scope) -> tuple[str, Level]:
    """The name and level of the scope's region (全省 for the whole province)."""
    if scope.code is None:
        return "全省", Level.PROVINCE
    row = conn.execute(sa.select(regions.c.name, regions.c.level).where(regions.c.code == scope.code)).one()
    return str(row.name), Level(row.level)


def _city_names(conn: sa.Connection) -> dict[str, str]:
    return {str(code): str(name) for code, name in
            conn.execute(sa.select(regions.c.code, regions.c.name).where(regions.c.level == Level.CITY.value))}


def _year_ago_week(conn: sa.Connection, this_week: Period) -> Period | None:
    """The same week a year earlier, if the data reaches back that far."""
    start, ago = first_received(conn), year_ago(this_week)
    return ago if start is not None and start <= ago.start else None


# Queries of one report run side by side on their own connections (when given an Engine): each is
# small, and DuckDB and PostgreSQL work while Python waits.
REPORT_WORKERS = 3


def _run_all(conn: sa.Engine | sa.Connection, jobs: dict[str, Callable[[_Scope], Any]], filters: CaseFilter,
             scope: Scope, settings: Settings) -> dict[str, Any]:
    """Every job's frame: concurrently on connections of their own from an Engine, else in turn on
    the given Connection (one transaction, as the caller asked)."""
    if isinstance(conn, sa.Connection):
        q = _Scope(conn, filters, scope, settings)
        return {name: job(q) for name, job in jobs.items()}

    def run(job: Callable[[_Scope], Any]) -> Any:
        with conn.connect() as c:
            return job(_Scope(c, filters, scope, settings))

    with ThreadPoolExecutor(max_workers=REPORT_WORKERS) as pool:
        futures = {name: pool.submit(run, job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def _province_job(week: Period) -> Callable[[_Scope], pd.DataFrame]:
    """A job reading the province row of one week."""
    return lambda q: q.table(Level.PROVINCE, week)


def weekly_report(conn: sa.Engine | sa.Connection, as_of: dt.date, filters: CaseFilter = CaseFilter(), *,
                  scope: Scope, settings: Settings = DEFAULT_SETTINGS,
                  min_due_to_compare: int = MIN_DUE_TO_COMPARE) -> WeeklyReport:
    """The weekly review of the week holding `as_of` against the week before, from the metrics layer."""
    this_week, last_week = review_weeks(as_of)
    with connect(conn) as c:
        ago_week = _year_ago_week(c, this_week)
        region_name, region_level = _region(c, scope)
        city_names = _city_names(c)
        supervision = week_counts(c, scope, this_week.start, this_week.end, as_of)
    unit_level = units_below(region_level)
    jobs: dict[str, Callable[[_Scope], Any]] = {
        "province": lambda q: q.table(Level.PROVINCE, this_week),
        "province_last": lambda q: q.table(Level.PROVINCE, last_week),
        "units": lambda q: q.table(unit_level, this_week, UNIT_METRICS),
        "units_last": lambda q: q.table(unit_level, last_week, UNIT_METRICS),
        "counties": lambda q: q.table(Level.COUNTY, this_week, COUNTY_METRICS),
        "counties_last": lambda q: q.table(Level.COUNTY, last_week, COUNTY_METRICS),
        "ledger": lambda q: q.overdue(as_of),
        "overdue_stock": lambda q: county_overdue_stock(q.conn, as_of, last_week.as_of_date, scope=scope, filters=filters,
                                                        settings=settings),
        "ranked": lambda q: q.priority(as_of),
        "ranked_last": lambda q: q.priority(last_week.end),
        "signals": lambda q: read_signals(q.conn, as_of, scope=scope, filters=filters, settings=settings),
        "items": lambda q: supervision_list(q.conn, scope, as_of),
        "campaign": lambda q: campaign_week(q.conn, scope, as_of, settings),
    }
    earlier = trend_weeks(this_week)[:-2]  # this week and last week are read above
    for k, week in enumerate(earlier):
        jobs[f"week_{k}"] = _province_job(week)
    if ago_week:
        jobs["province_ago"] = lambda q: q.table(Level.PROVINCE, ago_week)
    r = _run_all(conn, jobs, filters, scope, settings)
    province, province_last = r["province"].iloc[0], r["province_last"].iloc[0]
    province_ago = r["province_ago"].iloc[0] if ago_week else None
    units = ranked_units(r["units"], r["units_last"], min_due_to_compare)
    counties = county_changes(r["counties"], r["counties_last"], city_names)
    ledger, ranked, ranked_last = r["ledger"], r["ranked"], r["ranked_last"]
    new = newly_overdue(ledger, last_week.end)
    long = ledger[ledger["days_overdue"] > LONG_OVERDUE_DAYS].reset_index(drop=True)
    ranked = ranked.assign(city_name=ranked["city_code"].map(city_names))
    reading: SignalReading = r["signals"]
    flagged = reading.signals[reading.signals["signals"] != ""].reset_index(drop=True)
    flagged = flagged.assign(sentence=[explain_signal(row, settings) for _, row in flagged.iterrows()])
    priority, left = priority_changes(ranked, ranked_last)
    weeks = [r[f"week_{k}"] for k in range(len(earlier))] + [r["province_last"], r["province"]]
    recent = week_rows(weeks, trend_weeks(this_week))
    charts = {code: reading.chart(code) for code in worst_signals(flagged)[:SIGNAL_CHARTS]}
    return WeeklyReport(
        as_of=as_of, this_week=this_week, last_week=last_week, year_ago_week=ago_week, province=province,
        province_last=province_last, province_year_ago=province_ago,
        headlines=headline_changes(province, province_last, province_ago), units=units, counties=counties,
        newly_overdue=new, long_overdue=long, overdue_by_county=overdue_by_county(new, long), priority_ranking=ranked,
        priority=priority, priority_left=left, priority_window=priority_window(as_of, settings),
        priority_window_last=priority_window(last_week.end, settings), settings=settings,
        min_due_to_compare=min_due_to_compare, region_name=region_name, region_level=region_level, supervision=supervision,
        signals=flagged, signal_charts=charts, overdue=ledger, recent_weeks=recent, ledger_items=r["items"],
        overdue_stock=r["overdue_stock"], campaign=r["campaign"],
    )
