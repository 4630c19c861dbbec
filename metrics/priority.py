"""Priority counties (重点督导县): a funnel-plot test of each county against the pooled province.

Spiegelhalter (2005): z_quality = (θ - p_c) / sqrt(θ(1-θ)/n_c) for first-report on-time handling,
z_leapfrog = (q_c - φ) / sqrt(φ(1-φ)/m_c) for leapfrog reports; positive is worse than the province.
Inputs are the county table computed by the database; this module only combines ~100 rows.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope, require_scope
from data_access.reference.enums import LabelledEnum, Level

from .periods import trailing_months
from .request import CaseFilter, Period, TableRequest
from .settings import DEFAULT_SETTINGS, Settings
from .table import counties_under, region_table

PRIORITY_INPUTS = ("first_due", "first_on_time", "first_on_time_rate", "accepted", "leapfrog", "leapfrog_rate",
                   "first_overdue", "disputed")
PRIORITY_COLUMNS = ("code", "name", "city_code", "first_due", "first_on_time", "first_on_time_rate", "accepted",
                    "leapfrog", "leapfrog_rate", "z_quality", "z_leapfrog", "score", "status", "first_overdue", "disputed")


class PriorityStatus(LabelledEnum):
    """Outcome of the two funnel tests for one county."""

    PRIORITY = ("priority", "重点督导")
    WATCH = ("watch", "关注")
    NORMAL = ("normal", "正常")
    INSUFFICIENT = ("insufficient", "样本不足")


def pooled_rates(counties: pd.DataFrame) -> tuple[float | None, float | None]:
    """θ = Σ first_on_time / Σ first_due and φ = Σ leapfrog / Σ accepted over all counties."""
    first_due, accepted = counties["first_due"].sum(), counties["accepted"].sum()
    theta = counties["first_on_time"].sum() / first_due if first_due else None
    phi = counties["leapfrog"].sum() / accepted if accepted else None
    return theta, phi


def funnel_z(rate: float, pooled: float, n: int) -> float:
    """(rate - pooled) / sqrt(pooled(1-pooled)/n); NaN (empty) when the pooled rate is 0 or 1: with no
    spread there is nothing to test against."""
    variance = pooled * (1 - pooled) / n
    if variance == 0:
        return math.nan
    return (rate - pooled) / math.sqrt(variance)


def classify(z_quality: float, z_leapfrog: float, settings: Settings = DEFAULT_SETTINGS) -> PriorityStatus:
    """priority when both tests fail at the 95% limit; watch when either fails at 99.8%; else normal.
    An empty z (NaN, no spread) fails no test."""
    if z_quality >= settings.z_priority and z_leapfrog >= settings.z_priority:
        return PriorityStatus.PRIORITY
    if z_quality >= settings.z_watch or z_leapfrog >= settings.z_watch:
        return PriorityStatus.WATCH
    return PriorityStatus.NORMAL


def rank_counties(counties: pd.DataFrame, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """Add z_quality, z_leapfrog, score, status to a county table; sort by score, insufficient last."""
    theta, phi = pooled_rates(counties)
    out = counties.copy()
    sufficient = (out["first_due"] >= settings.min_volume) & (out["accepted"] >= settings.min_volume)
    # a sufficient county has cases (min_volume >= 1), so the pooled rate it is tested against exists
    zq = [-funnel_z(r, theta, n) if ok and theta is not None else np.nan
          for ok, r, n in zip(sufficient, out["first_on_time_rate"], out["first_due"], strict=True)]
    zl = [funnel_z(r, phi, n) if ok and phi is not None else np.nan
          for ok, r, n in zip(sufficient, out["leapfrog_rate"], out["accepted"], strict=True)]
    out["z_quality"] = np.asarray(zq, dtype=float)
    out["z_leapfrog"] = np.asarray(zl, dtype=float)
    out["score"] = (out["z_quality"] + out["z_leapfrog"]) / 2
    out["status"] = [classify(q, lf, settings).value if ok else PriorityStatus.INSUFFICIENT.value
                     for ok, q, lf in zip(sufficient, out["z_quality"], out["z_leapfrog"], strict=True)]
    out["_insufficient"] = ~sufficient
    out = out.sort_values(["_insufficient", "score", "code"], ascending=[True, False, True], kind="stable")
    out.attrs.update(theta=theta, phi=phi)
    return out.drop(columns="_insufficient").reset_index(drop=True)


def priority_counties(conn: sa.Engine | sa.Connection, period: Period, filters: CaseFilter = CaseFilter(), *,
                      scope: Scope, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The ranking of every county, pooled over the whole province (the funnel's reference), of which
    only the counties within `scope` (required) are returned."""
    require_scope(scope)
    # the pooled rates are the province's whatever the viewer's scope: read every county, keep the scope's
    request = TableRequest(Level.COUNTY, period, filters=filters, metrics=PRIORITY_INPUTS, scope=WHOLE_PROVINCE)
    counties = region_table(conn, request, settings).rename(columns={"parent_code": "city_code"})
    ranked = rank_counties(counties, settings)
    if scope.code is not None:  # not the whole province
        attrs = ranked.attrs
        ranked = ranked[ranked["code"].isin(counties_under(conn, scope.code))].reset_index(drop=True)
        ranked.attrs.update(attrs)
    theta, phi = ranked.attrs["theta"], ranked.attrs["phi"]
    rows = ranked[list(RankedCounty._fields)].itertuples(index=False, name=None)
    ranked["sentence"] = [explain(RankedCounty._make(row), theta, phi, settings) for row in rows]
    return ranked


def priority_window(as_of: dt.date, settings: Settings = DEFAULT_SETTINGS) -> Period:
    """The window the 重点督导 test reads at `as_of`: the `priority_window_months` months up to and including it
    (a week alone leaves most counties untestable)."""
    return trailing_months(as_of, settings.priority_window_months)


def priority_list(conn: sa.Engine | sa.Connection, as_of: dt.date, filters: CaseFilter = CaseFilter(), *, scope: Scope,
                  settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The 重点督导 ranking at `as_of`, tested over priority_window(as_of): the one list the 重点督导县 page, the
    周例会 and its deck and workbook, the 形势分析报告 and the 12388 monthly notices name."""
    return priority_counties(conn, priority_window(as_of, settings), filters, scope=scope, settings=settings)


class RankedCounty(NamedTuple):
    """The columns of a ranked county that its sentence reads."""

    name: str
    status: str
    first_due: int
    accepted: int
    first_on_time_rate: float
    leapfrog_rate: float
    z_quality: float
    z_leapfrog: float


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _limit_name(z: float, settings: Settings) -> str:
    if z >= settings.z_watch:
        return "超出 99.8% 控制限"
    if z >= settings.z_priority:
        return "超出 95% 控制限"
    return "在控制限内"


def _test_result(z: float, pooled: float, settings: Settings) -> str:
    """z and its limit, or why there is no test (a pooled rate of 0 or 1 has no spread)."""
    if math.isnan(z):
        return f"全省均为 {_pct(pooled)}，无差异可检验"
    return f"z={z:.2f}，{_limit_name(z, settings)}"


def explain(row: RankedCounty, theta: float | None, phi: float | None, settings: Settings = DEFAULT_SETTINGS) -> str:
    """One Chinese sentence a supervisor can read out: which test the county failed and by how much."""
    status = PriorityStatus(row.status)
    if status is PriorityStatus.INSUFFICIENT:
        return (f"{row.name}：初次举报应办结 {row.first_due} 件、检举控告 {row.accepted} 件，"
                f"不足 {settings.min_volume} 件，样本不足，不参与排名。")
    assert theta is not None and phi is not None, "a tested county has cases, so the pooled rates exist"
    quality = (f"初次举报按期办结率 {_pct(row.first_on_time_rate)}，比全省 {_pct(theta)} "
               f"{'低' if row.first_on_time_rate < theta else '高'} {abs(theta - row.first_on_time_rate) * 100:.1f} 个百分点"
               f"（{_test_result(row.z_quality, theta, settings)}）")
    leap = (f"越级举报率 {_pct(row.leapfrog_rate)}，比全省 {_pct(phi)} "
            f"{'高' if row.leapfrog_rate > phi else '低'} {abs(row.leapfrog_rate - phi) * 100:.1f} 个百分点"
            f"（{_test_result(row.z_leapfrog, phi, settings)}）")
    verdict = {
        PriorityStatus.PRIORITY: "两项均超出 95% 控制限，列为重点督导。",
        PriorityStatus.WATCH: "一项超出 99.8% 控制限，列为关注。",
        PriorityStatus.NORMAL: "未达到督导标准。",
    }[status]
    return f"{row.name}：{quality}；{leap}。{verdict}"


def funnel_limits(pooled: float, n_max: int, settings: Settings = DEFAULT_SETTINGS, points: int = 120) -> pd.DataFrame:
    """Funnel-plot control limits around a pooled rate for volumes 1..n_max (95% and 99.8%), clipped to [0, 1]."""
    n = np.unique(np.geomspace(1, max(n_max, 2), points).round().astype(int))
    sd = np.sqrt(pooled * (1 - pooled) / n)
    frame = pd.DataFrame({"n": n, "pooled": pooled})
    for name, z in (("95", settings.z_priority), ("998", settings.z_watch)):
        frame[f"lower_{name}"] = np.clip(pooled - z * sd, 0, 1)
        frame[f"upper_{name}"] = np.clip(pooled + z * sd, 0, 1)
    return frame
