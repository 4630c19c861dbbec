"""越级重复举报专项治理 in the 周例会: the campaign's matters as they stood at an as-of date and the steps of its week.

One function, `campaign_week`, with an explicit as-of: the page's section, the deck's slide, the workbook's sheet,
the 交办函 of a city (reports/campaign_docs.py) all read its list. A matter's state at the as-of date is the state
its last step by then led to (data_access.campaign's events), so a meeting read for a past week does not see the
steps taken since.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from data_access.campaign import State, Step
from data_access.engine import connect
from data_access.schema import campaign_assignments, campaign_events, campaign_matters, regions
from data_access.scope import Scope, case_in_scope

from .campaign import read_matters
from .matters import RepeatMatter
from .settings import DEFAULT_SETTINGS, Settings

WEEK_COLUMNS = ("id", "matter", "county_code", "county_name", "city_code", "city_name", "batch", "deadline",
                "enrolled_on", "state", "leader", "reports", "new_reports", "overdue", "relapse",
                "enrolled_this_week", "resolved_this_week", "settled_this_week", "settled")


# The week's counts in the order page, slide and workbook show them, with their labels.
COUNT_LABELS = {"enrolled": "纳入专项治理", "enrolled_this_week": "本周新纳入", "resolved_this_week": "本周化解",
                "settled_this_week": "本周案结事了", "overdue": "超期未化解", "relapsed": "反弹"}


@dataclass(frozen=True)
class CampaignCounts:
    """The week's numbers, each counted from the list (CampaignWeek.matters)."""

    enrolled: int  # enrolled (纳入专项治理) by the end of as_of, in every state
    enrolled_this_week: int  # enrolled from the week's Monday to as_of
    resolved_this_week: int  # claimed 化解 by their county in the week
    settled_this_week: int  # confirmed 案结事了 by the province in the week
    overdue: int  # 超期未化解: not 案结事了 at as_of, deadline before it (docs/contract/campaign.md)
    relapsed: int  # 反弹: recorded as relapsed, or with a report the campaign has not seen yet

    def labelled(self) -> dict[str, int]:
        """Label -> count, in COUNT_LABELS' order."""
        return {label: int(getattr(self, name)) for name, label in COUNT_LABELS.items()}


@dataclass(frozen=True)
class CampaignWeek:
    """越级重复举报专项治理 in the meeting's week: the matters of the campaign in scope as they stood at the end of
    `as_of` (`matters`: WEEK_COLUMNS, overdue first, then relapses, then by deadline and key) and their counts."""

    as_of: dt.date
    week_start: dt.date  # the Monday of the week holding as_of
    matters: pd.DataFrame
    counts: CampaignCounts

    @property
    def attention(self) -> pd.DataFrame:
        """The matters the meeting names: overdue or relapsed (the list's order)."""
        m = self.matters
        return m if m.empty else m[m["overdue"] | m["relapse"]].reset_index(drop=True)


def _counts(matters: pd.DataFrame) -> CampaignCounts:
    """The counts of the list."""
    def count(column: str) -> int:
        return int(matters[column].sum()) if not matters.empty else 0
    return CampaignCounts(len(matters), count("enrolled_this_week"), count("resolved_this_week"),
                          count("settled_this_week"), count("overdue"), count("relapse"))


def _cutoff(as_of: dt.date) -> dt.datetime:
    """The first moment after the end of `as_of`: a step at or after it had not happened at as_of."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def _campaign_rows(conn: sa.Connection, scope: Scope, as_of: dt.date, week_start: dt.date) -> pd.DataFrame:
    """The campaign matters in scope enrolled by the end of `as_of`, each with its state then (its last step's),
    the 包案领导 then in force and which steps fell in the week from `week_start` — one statement."""
    cutoff, monday = _cutoff(as_of), dt.datetime.combine(week_start, dt.time())
    m, e, a = campaign_matters.c, campaign_events.c, campaign_assignments.c
    before = e.at < cutoff
    last = sa.func.row_number().over(partition_by=e.campaign_matter_id, order_by=e.seq.desc())
    states = (sa.select(e.campaign_matter_id, e.to_state, last.label("recency")).where(before).subquery("states"))

    def in_week(step: Step) -> sa.ColumnElement[int]:
        return sa.func.max(sa.case((sa.and_(e.action == step.value, e.at >= monday), 1), else_=0))

    week = (sa.select(e.campaign_matter_id, in_week(Step.ENROL).label("enrolled_this_week"),
                      in_week(Step.RESOLVE).label("resolved_this_week"), in_week(Step.SETTLE).label("settled_this_week"))
            .where(before).group_by(e.campaign_matter_id).subquery("week"))
    newest = sa.func.row_number().over(partition_by=a.campaign_matter_id, order_by=a.seq.desc())
    leaders = (sa.select(a.campaign_matter_id, (a.leader_post + a.leader_name).label("leader"), newest.label("recency"))
               .where(a.set_at < cutoff).subquery("leaders"))
    county, city = regions.alias("county"), regions.alias("city")
    stmt = (sa.select(m.id, m.matter, m.county_code, county.c.name.label("county_name"), city.c.code.label("city_code"),
                      city.c.name.label("city_name"), m.batch, m.deadline, m.enrolled_at, m.known_reports,
                      states.c.to_state.label("state"), leaders.c.leader, week.c.enrolled_this_week,
                      week.c.resolved_this_week, week.c.settled_this_week)
            .select_from(campaign_matters
                         .join(states, sa.and_(states.c.campaign_matter_id == m.id, states.c.recency == 1))
                         .join(week, week.c.campaign_matter_id == m.id)
                         .outerjoin(leaders, sa.and_(leaders.c.campaign_matter_id == m.id, leaders.c.recency == 1))
                         .outerjoin(county, county.c.code == m.county_code)
                         .outerjoin(city, city.c.code == county.c.parent_code))
            .where(m.enrolled_at < cutoff, case_in_scope(m.county_code, scope)))
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def campaign_week(conn: sa.Engine | sa.Connection, scope: Scope, as_of: dt.date,
                  settings: Settings = DEFAULT_SETTINGS) -> CampaignWeek:
    """The campaign in `scope` at the end of `as_of` and in the Monday-to-Sunday week holding it: enrolled, resolved
    and settled this week, overdue (超期未化解), relapses, and the list behind them. Steps taken after `as_of` are not
    seen. A relapse is a matter recorded 反弹 at as_of or whose reports at as_of exceed those the campaign has seen
    (`known_reports`: a relapse recorded after as_of has already moved it, so such a matter shows only its state)."""
    week_start = as_of - dt.timedelta(days=as_of.weekday())
    with connect(conn) as c:
        if not sa.inspect(c).has_table(campaign_matters.name):  # a database the app has not set up yet
            empty = pd.DataFrame(columns=list(WEEK_COLUMNS))
            return CampaignWeek(as_of, week_start, empty, _counts(empty))
        rows = _campaign_rows(c, scope, as_of, week_start)
        readings = read_matters(c, as_of, [str(k) for k in rows["matter"]], settings) if not rows.empty else {}
    matters = _campaign_list(rows, readings, as_of)
    return CampaignWeek(as_of, week_start, matters, _counts(matters))


def _campaign_list(rows: pd.DataFrame, readings: dict[str, RepeatMatter], as_of: dt.date) -> pd.DataFrame:
    """The rows of _campaign_rows as WEEK_COLUMNS, in the list's order."""
    if rows.empty:
        return pd.DataFrame(columns=list(WEEK_COLUMNS))
    out = rows.copy()
    out["deadline"] = out["deadline"].map(_day)
    out["enrolled_on"] = pd.to_datetime(out["enrolled_at"]).dt.date
    out["reports"] = [readings[k].reports if k in readings else int(n) for k, n in zip(out["matter"], out["known_reports"],
                                                                                    strict=True)]
    out["new_reports"] = (out["reports"] - out["known_reports"].astype("int64")).clip(lower=0)
    settled = out["state"] == State.SETTLED.value
    out["settled"] = settled
    out["overdue"] = ~settled & (out["deadline"] < as_of)
    out["relapse"] = (out["state"] == State.RELAPSED.value) | (out["new_reports"] > 0)
    for flag in ("enrolled_this_week", "resolved_this_week", "settled_this_week"):
        out[flag] = out[flag].astype(int).astype(bool)
    out["leader"] = out["leader"].fillna("")
    for name in ("county_name", "city_name", "city_code", "batch"):
        out[name] = out[name].fillna("")
    out = out.sort_values(["overdue", "relapse", "deadline", "matter"], ascending=[False, False, True, True], kind="stable")
    return out[list(WEEK_COLUMNS)].reset_index(drop=True)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
