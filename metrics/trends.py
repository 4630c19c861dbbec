"""形势分析: where reports concentrate and where they rise, by region and by domain (领域) or channel.

metrics.md, "Concentration and change": for a period [from, to] of n days read as of A, W = [from, e]
with e = min(to, A), and the same span n days earlier. The database counts every case (any category)
received in either span, per region of the level and value of the column; the few hundred rows that
come back get their share, change and z (two Poisson counts over equal spans) here.
"""
from __future__ import annotations

import datetime as dt
import math
from enum import Enum

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Level
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases, regions

from .compiler import filter_conditions, group_key, in_subtree, region_map
from .request import CaseFilter, Period

TREND_COLUMNS = ("code", "name", "level", "value", "received", "previous", "change", "change_rate", "share", "z", "rising")
RISING_Z = 1.96
RISING_MIN_RECEIVED = 10
OTHER_DOMAIN = "其他"


class TrendBy(str, Enum):
    """The column reports are broken down by."""

    DOMAIN = "domain"
    CHANNEL = "channel"


def windows(period: Period) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """W = [from, min(to, A)] and the span of W n days earlier (n = the period's length in days)."""
    end = min(period.end, period.as_of_date)
    n = dt.timedelta(days=(period.end - period.start).days + 1)
    return (period.start, end), (period.start - n, end - n)


def trends(conn: sa.Engine | sa.Connection, level: Level, by: TrendBy, period: Period, *, scope: Scope,
           parent: str | None = None, filters: CaseFilter = CaseFilter()) -> pd.DataFrame:
    """One row per region of `level` (under `parent`, within `scope`) and value of `by` that has cases in
    either span: received, previous, change, change_rate, share, z, rising; sorted by code, value."""
    (w_start, w_end), (p_start, p_end) = windows(period)
    rmap = region_map()
    key = group_key(rmap, level).label("code")
    column = cases.c[by.value]
    value = (sa.func.coalesce(sa.func.nullif(column, ""), OTHER_DOMAIN) if by is TrendBy.DOMAIN else column).label("value")
    received = cases.c.received_date
    in_w = sa.and_(received >= w_start, received <= w_end)
    in_p = sa.and_(received >= p_start, received <= p_end)
    counts = (
        sa.select(key, value, sa.func.sum(sa.case((in_w, 1), else_=0)).label("received"),
                  sa.func.sum(sa.case((in_p, 1), else_=0)).label("previous"))
        .select_from(cases.join(rmap, rmap.c.county_code == cases.c.county_code))
        .where(sa.or_(in_w, in_p), in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code),
               *filter_conditions(filters))
        .group_by(key, value)
    ).subquery("counts")
    query = (sa.select(counts.c.code, regions.c.name, regions.c.level, counts.c.value, counts.c.received, counts.c.previous)
             .join(regions, regions.c.code == counts.c.code))
    with connect(conn) as c:
        result = c.execute(query)
        frame = result_frame(result)
    return _derived(frame)


def _derived(frame: pd.DataFrame) -> pd.DataFrame:
    """change, change_rate, share, z and rising from the two counts (empty where the spec says so)."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TREND_COLUMNS})
    out = frame.astype({"received": "int64", "previous": "int64"})
    out = out[(out["received"] > 0) | (out["previous"] > 0)].reset_index(drop=True)
    out["change"] = out["received"] - out["previous"]
    out["change_rate"] = [c / p if p else math.nan for c, p in zip(out["change"], out["previous"], strict=True)]
    totals = out.groupby("code")["received"].transform("sum")
    out["share"] = np.where(totals > 0, out["received"] / totals.where(totals > 0, 1), math.nan)
    both = out["received"] + out["previous"]
    out["z"] = np.where(both > 0, out["change"] / np.sqrt(both.where(both > 0, 1)), math.nan)
    out["rising"] = (out["z"] >= RISING_Z) & (out["received"] >= RISING_MIN_RECEIVED)
    # by code point, as Python sorts: the database's collation of Chinese text differs between engines
    return out.sort_values(["code", "value"], kind="stable").reset_index(drop=True)[list(TREND_COLUMNS)]
