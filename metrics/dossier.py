"""The case dossier (案件档案, issue 32): one case found by 件号, 12388 来电编号, 督办事项编号 or 督办通知单文号, within
the viewer's scope.

`find_case` resolves what a supervisor typed to a case and checks the scope in the database before anything about
the case is read: a case (or a call or item pointing at one) outside the scope answers FORBIDDEN and nothing else,
an unknown number NOT_FOUND. A found case comes with its dates, its deadline colour (case_warning: the
statement of metrics.warnings itself), its 督办 items and their steps, the 12388 calls about it, and the other reports of its
matter at the as-of date (metrics.matters.matter_reports, the spec's "Repeat matters" keying) within the scope. No reporter identity:
the case table holds none, and the calls are read without the officials' free text fields beyond the answers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, case_in_scope, require_scope
from data_access.reference.enums import LabelledEnum
from data_access.store.engine import connect, result_frame
from data_access.store.schema import (
    cases,
    document_numbers,
    hotline_complaints,
    regions,
    supervision_events,
    supervision_items,
)
from data_access.supervision.document_register import DocumentKind

from .matter_keys import KEY_BLANKS
from .matters import matter_reports
from .request import CaseFilter
from .rules import effective_due
from .settings import DEFAULT_SETTINGS, Settings
from .warnings import Colour, open_cases_query, yellow_limit

SEARCH_MAX_CHARS = 64  # the longest id any of the three tables stores


class Outcome(LabelledEnum):
    """What a search answers. FORBIDDEN says nothing more than that (not which kind of number matched)."""

    FOUND = ("found", "已找到")
    FORBIDDEN = ("forbidden", "无权查看该案件")
    NOT_FOUND = ("not_found", "未找到")


class MatchedBy(LabelledEnum):
    """Which kind of number found the case."""

    CASE = ("case", "件号")
    COMPLAINT = ("complaint", "12388 来电编号")
    ITEM = ("item", "督办事项编号")
    NOTICE = ("notice", "督办通知单文号")


CALL_COLUMNS = ("complaint_id", "received_date", "kind", "notified_month", "feedback", "feedback_note",
                "spot_check_result", "supervision_item_id")
ITEM_COLUMNS = ("id", "title", "reason", "method", "reply_due", "status", "opened_at", "replied_at", "closed_at")
STEP_COLUMNS = ("item_id", "seq", "at", "role", "action", "note", "promised_date")
MATTER_COLUMNS = ("case_id", "county_code", "county_name", "received_date", "channel", "closed_date", "disputed")


@dataclass(frozen=True)
class Dossier:
    """One case as the dossier shows it; `case` holds the case row with county_name, city_code, city_name and
    effective_due added."""

    case: dict[str, Any]
    matched_by: MatchedBy
    as_of: dt.date
    colour: Colour | None  # None: closed or not yet received at as_of, or not an accusation (no deadline)
    working_days_left: int | None
    items: pd.DataFrame = field(repr=False)  # its 督办 items, oldest first
    steps: pd.DataFrame = field(repr=False)  # their steps, item by item in order
    calls: pd.DataFrame = field(repr=False)  # 12388 calls about it, oldest first
    matter_key: str | None = None  # the key it shares with other reports, when some other report shares it
    matter_reports: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # those reports in scope


@dataclass(frozen=True)
class Lookup:
    """A search's answer: the outcome, and the dossier when found."""

    outcome: Outcome
    dossier: Dossier | None = None


def normalize_term(term: str) -> str:
    """What is searched for: the typed text without blanks at either end (a pasted 件号 often carries some)."""
    return term.strip().strip(KEY_BLANKS)[:SEARCH_MAX_CHARS + 1]


def find_case(conn: sa.Engine | sa.Connection, term: str, as_of: dt.date, *, scope: Scope,
              settings: Settings = DEFAULT_SETTINGS) -> Lookup:
    """The dossier of the case `term` names (a case id, else a 12388 complaint id, a 督办 item id or the 文号 of an
    item's 督办通知单) at `as_of` when it lies in `scope` (required); FORBIDDEN when it lies outside, NOT_FOUND when
    no such number exists."""
    require_scope(scope)
    wanted = normalize_term(term)
    if not wanted or len(wanted) > SEARCH_MAX_CHARS:
        return Lookup(Outcome.NOT_FOUND)
    with connect(conn) as c:
        resolved = _resolve(c, wanted)
        if resolved is None:
            return Lookup(Outcome.NOT_FOUND)
        case_id, matched_by = resolved
        row = _case_row(c, case_id, scope)
        if row is None:
            return Lookup(Outcome.FORBIDDEN)
        return Lookup(Outcome.FOUND, _dossier(c, row, matched_by, as_of, scope, settings))


def _resolve(conn: sa.Connection, wanted: str) -> tuple[str, MatchedBy] | None:
    """The case id `wanted` names and how, whatever the scope (checked next, on the case itself); a call or an item
    without a case (or whose case is gone) counts as not found."""
    if conn.execute(sa.select(cases.c.case_id).where(cases.c.case_id == wanted)).first() is not None:
        return wanted, MatchedBy.CASE
    lookups = ((hotline_complaints, hotline_complaints.c.complaint_id, MatchedBy.COMPLAINT),
               (supervision_items, supervision_items.c.id, MatchedBy.ITEM))
    for table, key, matched_by in lookups:
        if not sa.inspect(conn).has_table(table.name):
            continue
        found = conn.execute(sa.select(table.c.case_id).join(cases, cases.c.case_id == table.c.case_id)
                             .where(key == wanted)).scalar()
        if found is not None:
            return str(found), matched_by
    return _resolve_notice(conn, wanted)


def _resolve_notice(conn: sa.Connection, wanted: str) -> tuple[str, MatchedBy] | None:
    """The case of the 督办 item whose 督办通知单 bears the 文号 `wanted` (the register's subject is the item's id)."""
    if not all(sa.inspect(conn).has_table(t.name) for t in (document_numbers, supervision_items)):
        return None
    found = conn.execute(
        sa.select(supervision_items.c.case_id)
        .join(document_numbers, document_numbers.c.subject == supervision_items.c.id)
        .join(cases, cases.c.case_id == supervision_items.c.case_id)
        .where(document_numbers.c.kind == DocumentKind.NOTICE.value, document_numbers.c.number == wanted)).scalar()
    return None if found is None else (str(found), MatchedBy.NOTICE)


def _case_row(conn: sa.Connection, case_id: str, scope: Scope) -> dict[str, Any] | None:
    """The case with its county and city names, or None when it lies outside `scope` (the check is the query's)."""
    county, city = regions.alias("county"), regions.alias("city")
    stmt = (sa.select(cases, county.c.name.label("county_name"), city.c.code.label("city_code"),
                      city.c.name.label("city_name"))
            .select_from(cases.join(county, county.c.code == cases.c.county_code)
                         .outerjoin(city, city.c.code == county.c.parent_code))
            .where(cases.c.case_id == case_id, case_in_scope(cases.c.county_code, scope)))
    row = conn.execute(stmt).mappings().first()
    return None if row is None else dict(row)


def case_warning(conn: sa.Connection, case_id: str, as_of: dt.date, *, scope: Scope,
                 settings: Settings = DEFAULT_SETTINGS) -> tuple[Colour, int] | None:
    """One case's warning colour and working days left at `as_of`, or None when it has none (closed or not yet
    received at `as_of`, not an accusation, outside `scope`): metrics.warnings' own statement of the open cases
    and their colours, narrowed to the case, so the dossier never decides 红/黄/绿 by a rule of its own."""
    y, at = yellow_limit(conn, as_of, settings)
    stmt, _ = open_cases_query(as_of, y, at, scope=scope, parent=None, filters=CaseFilter(), settings=settings)
    row = conn.execute(stmt.where(cases.c.case_id == case_id)).first()
    return None if row is None else (Colour(row.colour), int(row.working_days_left))


def _dossier(conn: sa.Connection, row: dict[str, Any], matched_by: MatchedBy, as_of: dt.date, scope: Scope,
             settings: Settings) -> Dossier:
    case_id = str(row["case_id"])
    row["effective_due"] = conn.execute(sa.select(effective_due(cases.c, settings))
                                        .where(cases.c.case_id == case_id)).scalar()
    try:
        warning = case_warning(conn, case_id, as_of, scope=scope, settings=settings)
    except ValueError:  # an as-of date outside the working-day calendar: no colour rather than a wrong one
        warning = None
    items, steps = _items(conn, case_id, scope)
    key, matter = _matter_reports(conn, row, as_of, scope)
    return Dossier(case=row, matched_by=matched_by, as_of=as_of, colour=warning[0] if warning else None,
                   working_days_left=warning[1] if warning else None, items=items, steps=steps,
                   calls=_calls(conn, case_id, scope), matter_key=key, matter_reports=matter)


def _frame(conn: sa.Connection, stmt: sa.Select[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    return result_frame(conn.execute(stmt), columns)


def _items(conn: sa.Connection, case_id: str, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The case's 督办 items in `scope` and their steps."""
    if not sa.inspect(conn).has_table(supervision_items.name):
        return pd.DataFrame(columns=list(ITEM_COLUMNS)), pd.DataFrame(columns=list(STEP_COLUMNS))
    mine = sa.and_(supervision_items.c.case_id == case_id, case_in_scope(supervision_items.c.county_code, scope))
    items = _frame(conn, sa.select(*(supervision_items.c[c] for c in ITEM_COLUMNS)).where(mine)
                   .order_by(supervision_items.c.opened_at, supervision_items.c.id), ITEM_COLUMNS)
    steps = _frame(conn, sa.select(*(supervision_events.c[c] for c in STEP_COLUMNS))
                   .join(supervision_items, supervision_items.c.id == supervision_events.c.item_id).where(mine)
                   .order_by(supervision_items.c.opened_at, supervision_events.c.item_id, supervision_events.c.seq),
                   STEP_COLUMNS)
    return items, steps


def _calls(conn: sa.Connection, case_id: str, scope: Scope) -> pd.DataFrame:
    """The 12388 calls about the case in `scope` (no caller identity exists in the table)."""
    if not sa.inspect(conn).has_table(hotline_complaints.name):
        return pd.DataFrame(columns=list(CALL_COLUMNS))
    h = hotline_complaints
    return _frame(conn, sa.select(*(h.c[c] for c in CALL_COLUMNS))
                  .where(h.c.case_id == case_id, case_in_scope(h.c.county_code, scope))
                  .order_by(h.c.received_date, h.c.complaint_id), CALL_COLUMNS)


def _matter_reports(conn: sa.Connection, row: dict[str, Any], as_of: dt.date,
                    scope: Scope) -> tuple[str | None, pd.DataFrame]:
    """The case's matter key at `as_of` and its other reports in `scope` (metrics.matters.matter_reports: the
    screening's keying, accusations received by `as_of`, closed and disputed as at `as_of`), oldest first — (None,
    empty) when the case is in no matter at `as_of` or no other report of it lies in `scope`."""
    empty = pd.DataFrame(columns=list(MATTER_COLUMNS))
    key = str(row.get("matter_id") or "").strip(KEY_BLANKS) or str(row["case_id"])
    reports = matter_reports(conn, key, as_of)
    if row["case_id"] not in set(reports["case_id"]):  # another category, or received after as_of: in no matter
        return None, empty
    others = reports[reports["case_id"] != row["case_id"]]
    if others.empty:
        return None, empty
    county = regions.alias("county")
    named = {r.case_id: r.name for r in conn.execute(
        sa.select(cases.c.case_id, county.c.name).select_from(cases.join(county, county.c.code == cases.c.county_code))
        .where(cases.c.case_id.in_(list(others["case_id"])), case_in_scope(cases.c.county_code, scope)))}
    shown = others[others["case_id"].isin(list(named))].assign(county_name=lambda f: f["case_id"].map(named))
    if shown.empty:
        return None, empty
    return key, shown[list(MATTER_COLUMNS)].reset_index(drop=True)
