"""越级重复举报专项治理 in the 周例会: the campaign's matters as they stood at an as-of date and the steps of its week.

One function, `campaign_week`, with an explicit as-of: the page's section, the deck's slide, the workbook's sheet,
the 交办函 of a city (reports/campaign_docs.py) all read its list. A matter's state at the as-of date is the state
its last step by then led to (data_access.supervision.campaign's events), so a meeting read for a past week does not see the
steps taken since.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from data_access.identity.auth import OutOfScope
from data_access.identity.scope import Scope, case_in_scope
from data_access.reference.enums import Level
from data_access.store.engine import connect, result_frame
from data_access.store.schema import campaign_events, campaign_matters, regions, supervision_items
from data_access.supervision import campaign
from data_access.supervision.campaign import State, Step

from .campaign import campaign_at, relapsed, screening_cte, steps_cutoff, with_screening
from .matters import matter_reports
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
    cutoff: dt.datetime  # the first moment whose steps it does not see (metrics.campaign.steps_cutoff)
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


def _campaign_rows(conn: sa.Connection, scope: Scope, as_of: dt.date, cutoff: dt.datetime, week_start: dt.date,
                   settings: Settings) -> pd.DataFrame:
    """The campaign matters in scope enrolled by `cutoff`, each with its state and 包案领导 then
    (metrics.campaign.campaign_at, as the 积案化解 page reads them), its reports at `as_of` and whether it relapsed
    (metrics.campaign.relapsed, the page's rule), and which steps fell in the week from `week_start` — one statement."""
    monday = dt.datetime.combine(week_start, dt.time())
    e = campaign_events.c
    then = campaign_at(cutoff)
    screening = screening_cte(conn, as_of, settings, among=sa.select(campaign_matters.c.matter))  # the campaign's only

    def in_week(step: Step) -> sa.ColumnElement[int]:
        return sa.func.max(sa.case((sa.and_(e.action == step.value, e.at >= monday), 1), else_=0))

    week = (sa.select(e.campaign_matter_id, in_week(Step.ENROL).label("enrolled_this_week"),
                      in_week(Step.RESOLVE).label("resolved_this_week"), in_week(Step.SETTLE).label("settled_this_week"))
            .where(e.at < cutoff).group_by(e.campaign_matter_id).subquery("week"))
    m = then.c
    reports = sa.func.coalesce(screening.c.reports, m.known_reports) if screening is not None else m.known_reports
    county, city = regions.alias("county"), regions.alias("city")
    stmt = (sa.select(m.id, m.matter, m.county_code, county.c.name.label("county_name"), city.c.code.label("city_code"),
                      city.c.name.label("city_name"), m.batch, m.deadline, m.enrolled_at, m.known_reports, m.state,
                      m.leader, reports.label("reports"), sa.case((relapsed(then, screening), 1), else_=0).label("relapse"),
                      week.c.enrolled_this_week, week.c.resolved_this_week, week.c.settled_this_week)
            .select_from(with_screening(then, screening)
                         .join(week, week.c.campaign_matter_id == m.id)
                         .outerjoin(county, county.c.code == m.county_code)
                         .outerjoin(city, city.c.code == county.c.parent_code))
            .where(case_in_scope(m.county_code, scope)))
    result = conn.execute(stmt)
    return result_frame(result)


def campaign_week(conn: sa.Engine | sa.Connection, scope: Scope, as_of: dt.date,
                  settings: Settings = DEFAULT_SETTINGS) -> CampaignWeek:
    """The campaign in `scope` at the end of `as_of` and in the Monday-to-Sunday week holding it: enrolled, resolved
    and settled this week, overdue (超期未化解), relapses, and the list behind them. Steps taken after `as_of` are not
    seen. A relapse is a matter recorded 反弹 at as_of or whose reports at as_of exceed those the campaign has seen
    (`known_reports`: a relapse recorded after as_of has already moved it, so such a matter shows only its state)."""
    week_start = as_of - dt.timedelta(days=as_of.weekday())
    with connect(conn) as c:
        cutoff = steps_cutoff(c, as_of)
        if not sa.inspect(c).has_table(campaign_matters.name):  # a database the app has not set up yet
            empty = pd.DataFrame(columns=list(WEEK_COLUMNS))
            return CampaignWeek(as_of, week_start, cutoff, empty, _counts(empty))
        rows = _campaign_rows(c, scope, as_of, cutoff, week_start, settings)
    matters = _campaign_list(rows, as_of)
    return CampaignWeek(as_of, week_start, cutoff, matters, _counts(matters))


def _campaign_list(rows: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The rows of _campaign_rows as WEEK_COLUMNS, in the list's order."""
    if rows.empty:
        return pd.DataFrame(columns=list(WEEK_COLUMNS))
    out = rows.copy()
    out["deadline"] = out["deadline"].map(_day)
    out["enrolled_on"] = pd.to_datetime(out["enrolled_at"]).dt.date
    out["reports"] = out["reports"].astype("int64")
    out["new_reports"] = (out["reports"] - out["known_reports"].astype("int64")).clip(lower=0)
    settled = out["state"] == State.SETTLED.value
    out["settled"] = settled
    out["overdue"] = ~settled & (out["deadline"] < as_of)
    for flag in ("relapse", "enrolled_this_week", "resolved_this_week", "settled_this_week"):
        out[flag] = out[flag].astype(int).astype(bool)
    out["leader"] = out["leader"].fillna("")
    for name in ("county_name", "city_name", "city_code", "batch"):
        out[name] = out[name].fillna("")
    out = out.sort_values(["overdue", "relapse", "deadline", "matter"], ascending=[False, False, True, True], kind="stable")
    return out[list(WEEK_COLUMNS)].reset_index(drop=True)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --- the documents of the campaign: a city's 交办函 and a matter's 一案一档 ----------------------------------------

class NotACity(ValueError):
    """The 交办函's recipient is not a city of the region reference (the reason in Chinese)."""


@dataclass(frozen=True)
class CityLetter:
    """The 交办函 to one city: its campaign matters not yet 案结事了 at as_of (the campaign list's rows), by county,
    deadline and key."""

    city_code: str
    city_name: str
    as_of: dt.date
    matters: pd.DataFrame  # WEEK_COLUMNS

    @property
    def without_leader(self) -> int:
        """Matters with no 包案领导 yet."""
        return int((self.matters["leader"] == "").sum()) if not self.matters.empty else 0


def city_letter(conn: sa.Engine | sa.Connection, city_code: str, as_of: dt.date, *, scope: Scope,
                settings: Settings = DEFAULT_SETTINGS) -> CityLetter:
    """The 交办函 of `city_code` at the end of `as_of`, read with campaign_week; OutOfScope when the city is not the
    viewer's region or under it (a county user writes to no city), NotACity for a code that is no city."""
    with connect(conn) as c:
        row = c.execute(sa.select(regions.c.name, regions.c.level).where(regions.c.code == city_code)).first()
        if row is None or row.level != Level.CITY.value:
            raise NotACity(f"{city_code} 不是地区参考表中的市级单位 / not a city code")
        if scope.code not in (None, city_code):
            raise OutOfScope(f"{row.name}（{city_code}）不在本账号的管辖范围内 / the city is outside the reader's scope")
        week = campaign_week(c, Scope(city_code), as_of, settings)
    working = week.matters[~week.matters["settled"].astype(bool)] if not week.matters.empty else week.matters
    ordered = working.sort_values(["county_code", "deadline", "matter"], kind="stable").reset_index(drop=True)
    return CityLetter(city_code, str(row.name), as_of, ordered)


DOSSIER_REPORT_COLUMNS = ("case_id", "county_name", "received_date", "received_level", "channel", "domain",
                          "closed_date", "disputed")
DOSSIER_ITEM_COLUMNS = ("id", "case_id", "title", "method", "reply_due", "status", "opened_at", "closed_at")


@dataclass(frozen=True)
class MatterDossier:
    """一案一档: one campaign matter at as_of — its row of the campaign list, its reports in order (those in the viewer's
    scope; the others only counted), the 包案 records, the steps, the progress notes and the 督办 items of its cases."""

    as_of: dt.date
    matter: pd.Series  # a row of CampaignWeek.matters
    reports: pd.DataFrame  # DOSSIER_REPORT_COLUMNS, oldest first
    reports_elsewhere: int  # its reports outside the viewer's scope
    assignments: pd.DataFrame  # data_access.supervision.campaign.assignments, set by as_of
    history: pd.DataFrame  # data_access.supervision.campaign.history, taken by as_of
    notes: pd.DataFrame  # data_access.supervision.campaign.notes, written by as_of
    items: pd.DataFrame  # DOSSIER_ITEM_COLUMNS: the 督办台账's items on its reports, oldest first


def matter_dossier(conn: sa.Engine | sa.Connection, campaign_matter_id: str, as_of: dt.date, *, scope: Scope,
                   settings: Settings = DEFAULT_SETTINGS) -> MatterDossier | None:
    """The 一案一档 of a campaign matter at the end of `as_of`; None when it lies outside `scope` or was not yet
    enrolled then."""
    with connect(conn) as c:
        week = campaign_week(c, scope, as_of, settings)
        found = week.matters[week.matters["id"] == campaign_matter_id]
        if found.empty:
            return None
        row = found.iloc[0]
        every = _matter_cases(c, str(row["matter"]), as_of)
        allowed = set(_in_scope_codes(c, scope, every["county_code"].tolist()))
        reports = every[every["county_code"].isin(allowed)].reset_index(drop=True)
        items = _items_of(c, reports["case_id"].tolist())
        cutoff = week.cutoff
        plans = _by(campaign.assignments(c, scope, campaign_matter_id), "set_at", cutoff)
        steps = _by(campaign.history(c, scope, campaign_matter_id), "at", cutoff)
        written = _by(campaign.notes(c, scope, campaign_matter_id), "written_at", cutoff)
    return MatterDossier(as_of, row, reports[list(DOSSIER_REPORT_COLUMNS)], len(every) - len(reports), plans, steps, written,
                         items)


def _by(frame: pd.DataFrame, column: str, cutoff: dt.datetime) -> pd.DataFrame:
    """The rows of `frame` whose moment `column` falls before `cutoff` (steps_cutoff)."""
    if frame.empty:
        return frame
    return frame[pd.to_datetime(frame[column]) < cutoff].reset_index(drop=True)


def _matter_cases(conn: sa.Connection, matter: str, as_of: dt.date) -> pd.DataFrame:
    """The reports of the matter at `as_of` (metrics.matters.matter_reports), with their county's name."""
    reports = matter_reports(conn, matter, as_of)
    codes = sorted(set(reports["county_code"]))
    names = {str(code): str(name) for code, name in
             conn.execute(sa.select(regions.c.code, regions.c.name).where(regions.c.code.in_(codes)))}
    reports["county_name"] = reports["county_code"].map(lambda code: names.get(code, code))
    reports["received_level"] = reports["received_level"].fillna("")
    return reports


def _in_scope_codes(conn: sa.Connection, scope: Scope, codes: list[str]) -> list[str]:
    """Those of the county `codes` the viewer of `scope` may see."""
    if not codes:
        return []
    query = sa.select(regions.c.code).where(regions.c.code.in_(sorted(set(codes))), case_in_scope(regions.c.code, scope))
    return [str(code) for code in conn.execute(query).scalars()]


def _items_of(conn: sa.Connection, case_ids: list[str]) -> pd.DataFrame:
    """The 督办台账's items on `case_ids`, oldest first (none where the app has not set up the ledger)."""
    if not case_ids or not sa.inspect(conn).has_table(supervision_items.name):
        return pd.DataFrame(columns=list(DOSSIER_ITEM_COLUMNS))
    s = supervision_items.c
    stmt = (sa.select(*(s[name] for name in DOSSIER_ITEM_COLUMNS)).where(s.case_id.in_(case_ids))
            .order_by(s.opened_at, s.id))
    result = conn.execute(stmt)
    return result_frame(result, DOSSIER_ITEM_COLUMNS)
