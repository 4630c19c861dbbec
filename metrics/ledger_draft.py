"""The 反馈期限 a new 督办 item is drafted with (issue 29): the settings' working days from today, but for a case
still open and not yet overdue — a yellow (临期) one above all — never after the case's own due date, so the county
is asked to reply while the case can still be finished in time."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from data_access.identity.scope import Scope, case_in_scope
from data_access.store.engine import connect
from data_access.store.schema import cases

from .rules import effective_due
from .settings import DEFAULT_SETTINGS, Settings


def open_case_due(bind: sa.Engine | sa.Connection, case_id: str, today: dt.date, *, scope: Scope,
                  settings: Settings = DEFAULT_SETTINGS) -> dt.date | None:
    """The effective due date of `case_id` when it is a case of `scope` still open on `today`; None otherwise."""
    due = effective_due(cases.c, settings)
    stmt = sa.select(due).where(cases.c.case_id == case_id, case_in_scope(cases.c.county_code, scope),
                                sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date > today))
    with connect(bind) as conn:
        found = conn.execute(stmt).scalar_one_or_none()
    return found.date() if isinstance(found, dt.datetime) else found


def clamped_reply_due(standard: dt.date, case_due: dt.date | None, today: dt.date) -> dt.date:
    """`standard`, moved back to `case_due` when the case is due on or after today and before `standard`."""
    if case_due is None or case_due < today:
        return standard  # no case, or already overdue (red): the usual period to reply
    return min(standard, case_due)


def draft_reply_due(bind: sa.Engine | sa.Connection, case_id: str | None, today: dt.date, standard: dt.date, *,
                    scope: Scope, settings: Settings = DEFAULT_SETTINGS) -> dt.date:
    """The default 反馈期限 of an item drafted for `case_id` (or for a county: None): see clamped_reply_due."""
    due = open_case_due(bind, case_id, today, scope=scope, settings=settings) if case_id else None
    return clamped_reply_due(standard, due, today)
