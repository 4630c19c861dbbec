"""Deadline warnings (三色预警): every open case coloured by how close its deadline is, counted by the database.

metrics.md, "Deadline warnings": for an as-of date A, every accusation case (检举控告件, the cases with a
deadline, as for 超期未办结) received on or before A and not closed at A is red (due_date < A, 已超期),
yellow (A <= due_date <= Y, 临期) or green (due_date > Y), where Y is the N-th working day after A (A is
day 0; N is the setting `warning_workdays`, 5).

working_days_left = (working days d with A < d <= due) - (working days d with due < d <= A). With
W(x) = the number of working days on or before x, that is W(due) - W(A) in both cases (one of the two
counts is always 0), so it is one subtraction over a running count of the working-day calendar: a
window sum over a table of a few thousand days, standard SQL on every engine.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import Scope, require_scope
from data_access.reference.enums import Category, LabelledEnum, Level
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases, workday_calendar

from .caselists import flags_as_bool, has_ledger, supervision_flag
from .compiler import filter_conditions, group_key, in_subtree, region_map
from .request import CaseFilter
from .rules import effective_due
from .settings import DEFAULT_SETTINGS, Settings

WARNING_COLUMNS = ("case_id", "county_code", "received_date", "due_date", "colour", "working_days_left")


class Colour(LabelledEnum):
    """A case's warning colour at the as-of date, worst first."""

    RED = ("red", "已超期")
    YELLOW = ("yellow", "临期")
    GREEN = ("green", "未临期")


COLOUR_ORDER = tuple(c.value for c in Colour)


def workday_counts() -> sa.Subquery:
    """day -> W(day), the number of working days on or before it in the calendar table."""
    cal = workday_calendar
    running = sa.func.sum(sa.case((cal.c.is_workday, 1), else_=0)).over(order_by=cal.c.day)
    return sa.select(cal.c.day, cal.c.is_workday, running.label("workdays")).subquery("workday_counts")


def yellow_limit(conn: sa.Connection, as_of: dt.date, settings: Settings = DEFAULT_SETTINGS) -> tuple[dt.date, int]:
    """(Y, W(A)): the last day of the yellow window, and the working days counted up to the as-of date."""
    w = workday_counts()
    at = sa.select(w.c.workdays).where(w.c.day == as_of).scalar_subquery()
    y = sa.select(sa.func.min(w.c.day)).where(w.c.is_workday, w.c.workdays == at + settings.warning_workdays).scalar_subquery()
    row = conn.execute(sa.select(y.label("y"), at.label("at"))).one()
    if row.y is None or row.at is None:
        raise ValueError(f"{as_of} lies outside the working-day calendar / 截止日期超出工作日日历范围")
    return row.y, int(row.at)


def open_cases_query(as_of: dt.date, y: dt.date, at: int, *, scope: Scope, parent: str | None, filters: CaseFilter,
                     settings: Settings) -> tuple[sa.Select[Any], sa.Subquery]:
    """Every open accusation case of the scope at `as_of` with its effective due date, colour and working days left
    (`y`, `at`: yellow_limit's answer for `as_of`), and the region map it joins (to group by a level)."""
    rmap, w = region_map(), workday_counts()
    a = sa.bindparam("as_of", as_of, type_=sa.Date)
    limit = sa.bindparam("yellow_until", y, type_=sa.Date)
    due = effective_due(cases.c, settings)
    colour = sa.case((due < a, Colour.RED.value), (due <= limit, Colour.YELLOW.value), else_=Colour.GREEN.value)
    stmt = (
        sa.select(cases.c.case_id, cases.c.county_code, cases.c.received_date, due.label("due_date"),
                  colour.label("colour"), (w.c.workdays - sa.literal(at, sa.Integer)).label("working_days_left"))
        .select_from(cases.join(rmap, rmap.c.county_code == cases.c.county_code).join(w, w.c.day == due))
        .where(cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a,
               sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date > a),
               in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code), *filter_conditions(filters))
    )
    return stmt, rmap


def deadline_warnings(conn: sa.Engine | sa.Connection, as_of: dt.date, *, scope: Scope, parent: str | None = None,
                      filters: CaseFilter = CaseFilter(), colours: tuple[str, ...] = COLOUR_ORDER,
                      limit: int | None = None, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """The open cases at `as_of` under `parent` within `scope` (required), with their colour, sorted by
    due date then case_id (the spec's order: the most pressing first); only `colours`, at most `limit`;
    `supervised` marks the cases 已挂账 (metrics.caselists.under_supervision)."""
    with connect(conn) as c:
        y, at = yellow_limit(c, as_of, settings)
        stmt, _ = open_cases_query(as_of, y, at, scope=scope, parent=parent, filters=filters, settings=settings)
        inner = stmt.subquery("warned")
        query = (sa.select(inner, supervision_flag(inner.c.case_id, has_ledger(c))).where(inner.c.colour.in_(colours))
                 .order_by(inner.c.due_date, inner.c.case_id))
        result = c.execute(query.limit(limit) if limit else query)
        frame = flags_as_bool(result_frame(result))
    return frame.astype({"working_days_left": "int64"}) if not frame.empty else frame


def warning_counts(conn: sa.Engine | sa.Connection, as_of: dt.date, level: Level, *, scope: Scope,
                   parent: str | None = None, filters: CaseFilter = CaseFilter(),
                   settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """Open cases per region of `level` under `parent` (within `scope`) by colour: code, red, yellow,
    green, open — grouped by the database; regions without open cases are absent."""
    with connect(conn) as c:
        y, at = yellow_limit(c, as_of, settings)
        stmt, rmap = open_cases_query(as_of, y, at, scope=scope, parent=parent, filters=filters, settings=settings)
        key = group_key(rmap, level).label("code")
        inner = stmt.add_columns(key).subquery("warned")
        counts = [sa.func.sum(sa.case((inner.c.colour == colour, 1), else_=0)).label(colour) for colour in COLOUR_ORDER]
        query = sa.select(inner.c.code, *counts, sa.func.count().label("open")).group_by(inner.c.code).order_by(inner.c.code)
        result = c.execute(query)
        frame = result_frame(result)
    return frame.astype(dict.fromkeys([*COLOUR_ORDER, "open"], "int64"))
