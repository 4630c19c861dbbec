"""Deterioration signals (哪些县在变差): a p-chart reading of each county's weekly on-time rate.

metrics.md, "Deterioration signals": the recent weeks (8 complete Monday–Sunday weeks up to the last
Sunday on or before A) against a baseline (the 26 weeks before them). Each week's due and on-time
counts per county are counted by the database in one statement grouped by county and week (both
counts are fixed once the week's Sunday has passed); the rules run here over ~136 x 34 numbers.
Rules (NHS "Making Data Count"): a week below the lower limit p̄ − kσ; a run of weeks below p̄ (a
shift); a run of falling weeks (a trend). The numbers of weeks, k and the runs are settings.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, counties_at_or_under, require_scope
from data_access.reference.enums import Category, LabelledEnum, Level
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases, regions

from . import summary
from .compiler import filter_conditions, in_subtree, region_map
from .request import CaseFilter, Period
from .rules import effective_due
from .series import Grain, bucket_number
from .settings import DEFAULT_SETTINGS, Settings
from .table import summary_applies

SIGNAL_COLUMNS = ("code", "name", "baseline_due", "baseline_rate", "recent_due", "recent_rate", "status", "signals")


class Signal(LabelledEnum):
    """What a county's recent weeks show, in the order they are reported."""

    BELOW_LIMIT = ("below_limit", "单周低于控制下限")
    SHIFT = ("shift", "连续低于基线均值")
    TREND = ("trend", "连续下降")


def signal_weeks(as_of: dt.date, settings: Settings = DEFAULT_SETTINGS) -> tuple[list[Period], list[Period]]:
    """(baseline, recent): complete Monday–Sunday weeks, each read as of its own Sunday, oldest first."""
    last_sunday = as_of - dt.timedelta(days=(as_of.weekday() + 1) % 7)
    count = settings.spc_baseline_weeks + settings.spc_recent_weeks
    weeks = [Period(last_sunday - dt.timedelta(days=7 * k + 6), last_sunday - dt.timedelta(days=7 * k),
                    last_sunday - dt.timedelta(days=7 * k)) for k in reversed(range(count))]
    return weeks[:settings.spc_baseline_weeks], weeks[settings.spc_baseline_weeks:]


def weekly_counts(conn: sa.Connection, weeks: list[Period], *, scope: Scope, parent: str | None,
                  filters: CaseFilter, settings: Settings) -> pd.DataFrame:
    """due and on_time per county (rows) and week (columns 0..n-1), in one grouped statement.

    As metrics.md's table reads them for P = the week and A = its Sunday: `due` counts the accusation
    cases whose (effective) due date falls in the week and that were received by its Sunday, `on_time`
    those of them closed on or before their due date (which is on or before that Sunday)."""
    if summary_applies(conn, filters, ("due", "on_time"), settings):
        query = _weekly_from_summary(weeks, scope, parent)
    else:
        query = _weekly_from_cases(weeks, scope, parent, filters, settings)
    result = conn.execute(query)
    long = result_frame(result)
    if long.empty:
        return pd.DataFrame(columns=pd.MultiIndex.from_product([("due", "on_time"), range(len(weeks))]), dtype="int64")
    wide = long.astype({"week": "int64", "due": "int64", "on_time": "int64"}).pivot(index="code", columns="week",
                                                                                     values=["due", "on_time"])
    return wide.reindex(columns=pd.MultiIndex.from_product([("due", "on_time"), range(len(weeks))]), fill_value=0) \
        .fillna(0).astype("int64")


def _weekly_from_cases(weeks: list[Period], scope: Scope, parent: str | None, filters: CaseFilter,
                       settings: Settings) -> sa.Select[Any]:
    first = weeks[0].start
    rmap = region_map()
    due = effective_due(cases.c, settings)
    week = bucket_number(due, Grain.WEEK, first)
    received_week = bucket_number(cases.c.received_date, Grain.WEEK, first)
    on_time = sa.and_(cases.c.closed_date.is_not(None), cases.c.closed_date <= due)
    return (
        sa.select(cases.c.county_code.label("code"), week.label("week"), sa.func.count().label("due"),
                  sa.func.sum(sa.case((on_time, 1), else_=0)).label("on_time"))
        .select_from(cases.join(rmap, rmap.c.county_code == cases.c.county_code))
        .where(cases.c.category == Category.ACCUSATION.value, due >= first, due <= weeks[-1].end,
               received_week <= week, in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code),
               *filter_conditions(filters))
        .group_by(cases.c.county_code, week)
    )


def _weekly_from_summary(weeks: list[Period], scope: Scope, parent: str | None) -> sa.Select[Any]:
    """The same counts summed from the per-county daily summary (metrics/summary.py), whose `due` and
    `on_time` columns count the cases by their due date. A current summary has no case due before its
    receipt, so "received by the week's Sunday" holds for every case due that week, as in the case scan."""
    s = summary.county_day_counts
    week = bucket_number(s.c.day, Grain.WEEK, weeks[0].start)
    return (
        sa.select(s.c.county_code.label("code"), week.label("week"), sa.func.sum(s.c.due).label("due"),
                  sa.func.sum(s.c.on_time).label("on_time"))
        .where(s.c.day >= weeks[0].start, s.c.day <= weeks[-1].end, summary.in_region(parent), summary.in_scope(scope))
        .group_by(s.c.county_code, week)
        .having(sa.func.sum(s.c.due) > 0)
    )


def _rules(recent: list[tuple[int, int]], pooled: Fraction | None, settings: Settings) -> list[str]:
    """The signals of one county from its recent (on_time, due) weeks and its baseline rate."""
    points = [(Fraction(on, due), due) for on, due in recent if due >= 1]
    found: list[str] = []
    if pooled is not None and 0 < pooled < 1:
        p = float(pooled)
        if any(float(rate) < p - settings.spc_sigma * math.sqrt(p * (1 - p) / due) for rate, due in points):
            found.append(Signal.BELOW_LIMIT.value)
    if pooled is not None and _longest_run(points, lambda prev, cur: cur[0] < pooled, start=lambda cur: cur[0] < pooled) \
            >= settings.spc_shift_run:
        found.append(Signal.SHIFT.value)
    if _longest_run(points, lambda prev, cur: cur[0] < prev[0], start=lambda cur: True) >= settings.spc_trend_run:
        found.append(Signal.TREND.value)
    return found


Point = tuple[Fraction, int]  # a week's rate and its due count


def _longest_run(points: list[Point], step: Callable[[Point, Point], bool], start: Callable[[Point], bool]) -> int:
    """The longest run of points where the first satisfies `start` and each next `step(previous, point)`."""
    best = run = 0
    previous: Point | None = None
    for point in points:
        if run and previous is not None and step(previous, point):
            run += 1
        else:
            run = 1 if start(point) else 0
        best = max(best, run)
        previous = point
    return best


@dataclass(frozen=True)
class SignalReading:
    """The deterioration signals at one as-of date and the weekly counts they were read from, so the p-charts of the
    flagged counties (the 周例会's) come from the same numbers without counting them again."""

    signals: pd.DataFrame  # SIGNAL_COLUMNS, by code
    counts: pd.DataFrame  # weekly_counts: due and on_time per county (rows) and week (columns)
    baseline: list[Period]
    recent: list[Period]
    settings: Settings

    def chart(self, county: str) -> pd.DataFrame:
        """The county's p-chart, as p_chart reads it."""
        return _chart(self.counts, county, self.baseline, self.recent, self.settings)


def read_signals(conn: sa.Engine | sa.Connection, as_of: dt.date, *, scope: Scope, parent: str | None = None,
                 filters: CaseFilter = CaseFilter(), settings: Settings = DEFAULT_SETTINGS) -> SignalReading:
    """deterioration_signals with the counts behind them (SignalReading)."""
    require_scope(scope)
    baseline, recent = signal_weeks(as_of, settings)
    with connect(conn) as c:
        counties = sa.select(regions.c.code, regions.c.name).where(regions.c.level == Level.COUNTY.value)
        for code in (scope.code, parent):
            if code is not None:
                counties = counties.where(regions.c.code.in_(counties_at_or_under(code)))
        names = dict(tuple(row) for row in c.execute(counties.order_by(regions.c.code)))
        counts = weekly_counts(c, [*baseline, *recent], scope=scope, parent=parent, filters=filters, settings=settings)
    counts = counts.reindex(list(names), fill_value=0)
    n_base = len(baseline)
    rows = []
    for code, row in counts.iterrows():
        due, on = row["due"].tolist(), row["on_time"].tolist()
        base_due, base_on = sum(due[:n_base]), sum(on[:n_base])
        recent_due, recent_on = sum(due[n_base:]), sum(on[n_base:])
        insufficient = base_due < settings.spc_min_baseline_due
        pooled = Fraction(base_on, base_due) if base_due else None
        found = [] if insufficient else _rules(list(zip(on[n_base:], due[n_base:], strict=True)), pooled, settings)
        rows.append({"code": code, "name": names[code], "baseline_due": base_due,
                     "baseline_rate": base_on / base_due if base_due else math.nan, "recent_due": recent_due,
                     "recent_rate": recent_on / recent_due if recent_due else math.nan,
                     "status": "insufficient" if insufficient else "ok", "signals": ",".join(found)})
    return SignalReading(pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS)), counts, baseline, recent, settings)


def deterioration_signals(conn: sa.Engine | sa.Connection, as_of: dt.date, *, scope: Scope, parent: str | None = None,
                          filters: CaseFilter = CaseFilter(), settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """One row per county under `parent` within `scope` (one with no cases too), by code: the baseline and
    recent due counts and rates, `insufficient` or `ok`, and the signals that hold (comma-joined)."""
    return read_signals(conn, as_of, scope=scope, parent=parent, filters=filters, settings=settings).signals


SIGNAL_WORDS = {Signal.BELOW_LIMIT.value: "有一周按期办结率低于控制下限", Signal.SHIFT.value: "连续多周低于基线平均水平",
                Signal.TREND.value: "按期办结率连续下降"}


def explain_signal(row: pd.Series, settings: Settings = DEFAULT_SETTINGS) -> str:
    """One sentence for the meeting: the county, its recent and baseline rates, and which rule fired."""
    fired = [s for s in str(row["signals"]).split(",") if s]
    if not fired:
        return ""
    words = "；".join(SIGNAL_WORDS[s] for s in fired)
    return (f"{row['name']}：近 {settings.spc_recent_weeks} 周按期办结率 {row['recent_rate'] * 100:.1f}%（应办结 {row['recent_due']} 件），"
            f"基线 {settings.spc_baseline_weeks} 周为 {row['baseline_rate'] * 100:.1f}%；{words}。")


def p_chart(conn: sa.Engine | sa.Connection, as_of: dt.date, county: str, *, scope: Scope,
            filters: CaseFilter = CaseFilter(), settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """A county's p-chart: week_start, phase (baseline/recent), due, on_time, rate, centre (p̄ of the
    baseline), lower (its lower limit for the week's due, where p̄ has spread) and below (rate < lower)."""
    baseline, recent = signal_weeks(as_of, settings)
    with connect(conn) as c:
        counts = weekly_counts(c, [*baseline, *recent], scope=scope, parent=county, filters=filters, settings=settings)
    return _chart(counts, county, baseline, recent, settings)


def _chart(counts: pd.DataFrame, county: str, baseline: list[Period], recent: list[Period],
           settings: Settings) -> pd.DataFrame:
    """The p-chart of `county` from weekly_counts over baseline + recent (no row: no cases, every week 0)."""
    weeks = [*baseline, *recent]
    row = counts.loc[county] if county in counts.index else None
    due = [int(row[("due", i)]) if row is not None else 0 for i in range(len(weeks))]
    on = [int(row[("on_time", i)]) if row is not None else 0 for i in range(len(weeks))]
    base_due, base_on = sum(due[:len(baseline)]), sum(on[:len(baseline)])
    centre = base_on / base_due if base_due else math.nan
    spread = 0 < centre < 1
    frame = pd.DataFrame({
        "week_start": [w.start for w in weeks], "phase": ["baseline"] * len(baseline) + ["recent"] * len(recent),
        "due": due, "on_time": on, "rate": [o / d if d else math.nan for o, d in zip(on, due, strict=True)],
        "centre": centre,
        "lower": [max(0.0, centre - settings.spc_sigma * math.sqrt(centre * (1 - centre) / d)) if spread and d else math.nan
                  for d in due],
    })
    frame["below"] = frame["rate"] < frame["lower"]
    return frame
