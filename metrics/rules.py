"""The per-case rules of ../shared/spec/metrics.md: what a case must satisfy to count, as SQL over one row.

A Rule is a condition on one case, written against a CaseContext (the case's columns, the period's
bounds, the derived dates), together with what the compiler must know to place it: the case columns
it reads, the working-day deadline it needs, and — for a flow anchor — the date that must fall in a
bucket for the case to count there. A Quantity is a per-case number an average is taken of. The
registry (registry.py) names a rule beside each count metric; the compiler (compiler.py) derives
every lookup from those declarations.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeAlias, assert_never

import sqlalchemy as sa

from data_access.reference.enums import Category, Satisfaction
from data_access.reference.workdays import DEADLINE_REACH_DAYS
from data_access.store.dialects import add_days, days_between
from data_access.store.schema import cases

from .settings import Settings

# The columns of a case (of `cases`, or of a subquery selecting them), read by name.
CaseColumns: TypeAlias = sa.ColumnCollection[str, sa.ColumnElement[Any]]


@dataclass(frozen=True)
class Bounds:
    """The period as SQL expressions: start, end, as_of and window_end = min(end, as_of)."""

    start: sa.ColumnElement[dt.date]
    end: sa.ColumnElement[dt.date]
    as_of: sa.ColumnElement[dt.date]
    window_end: sa.ColumnElement[dt.date]

    @classmethod
    def of_dates(cls, start: dt.date, end: dt.date, as_of: dt.date) -> Bounds:
        """Bounds bound as date parameters."""
        def lit(day: dt.date, name: str) -> sa.BindParameter[dt.date]:
            return sa.bindparam(name, day, type_=sa.Date)

        return cls(lit(start, "p_start"), lit(end, "p_end"), lit(as_of, "p_as_of"),
                   lit(min(end, as_of), "p_window_end"))


@dataclass(frozen=True)
class CaseContext:
    """What a rule can refer to: case columns `c`, the period, and the derived dates."""

    bounds: Bounds
    c: CaseColumns
    due: sa.ColumnElement[dt.date]  # due_date, or received_date + the default number of days
    # the deadlines are ColumnElement[Any]: a date column, or NULL where a query reads none
    notice_deadline: sa.ColumnElement[Any]  # D1: 15th working day after received_date
    feedback_deadline: sa.ColumnElement[Any]  # D2: 15th working day after closed_date


class Deadline(str, Enum):
    """The working-day deadlines (15th working day after a case date), stored or looked up in the calendar."""

    NOTICE = "notice"  # D1, after received_date
    FEEDBACK = "feedback"  # D2, after closed_date

    @property
    def follows(self) -> str:
        """The case column the deadline is counted from."""
        match self:
            case Deadline.NOTICE:
                return "received_date"
            case Deadline.FEEDBACK:
                return "closed_date"
        assert_never(self)


class AnchorDate(str, Enum):
    """The date a flow anchor is about: a case can count in a bucket only if this date lies in it."""

    RECEIVED = "received"
    DUE = "due"
    CLOSED = "closed"
    NOTICE = "notice"
    FEEDBACK = "feedback"

    def of(self, x: CaseContext) -> sa.ColumnElement[Any]:
        """This date of the case in `x`."""
        match self:
            case AnchorDate.RECEIVED:
                return x.c.received_date
            case AnchorDate.DUE:
                return x.due
            case AnchorDate.CLOSED:
                return x.c.closed_date
            case AnchorDate.NOTICE:
                return x.notice_deadline
            case AnchorDate.FEEDBACK:
                return x.feedback_deadline
        assert_never(self)


@dataclass(frozen=True)
class Rule:
    """A condition on one case, with what it reads and, for a flow anchor, its anchor date.

    A count metric's cases satisfy its rule and its parents' (registry.Metric.parent); the first rule
    of that chain is its anchor. An anchor with `anchor` None is a stock (true over a run of buckets,
    e.g. overdue at each bucket's as-of date); a rule lower in a chain (a plain restriction) has none.
    """

    name: str  # unique among the registered rules: the flag column p_<name> of the compiled SQL
    sql: Callable[[CaseContext], sa.ColumnElement[bool]]
    columns: tuple[str, ...]  # the case columns `sql` reads through x.c (x.due is always at hand)
    anchor: AnchorDate | None = None
    deadline: Deadline | None = None  # the working-day deadline `sql` reads, if any


@dataclass(frozen=True)
class Quantity:
    """A number per case that an average metric takes the mean of, with the case columns it reads."""

    name: str  # the column q_<name> of the compiled SQL
    sql: Callable[[CaseContext], sa.ColumnElement[Any]]
    columns: tuple[str, ...]


def is_true(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """column IS TRUE (false, not null, for a null flag)."""
    return column.is_(sa.true())


def _between(value: sa.ColumnElement[Any], lo: sa.ColumnElement[Any], hi: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return sa.and_(value >= lo, value <= hi)


def _in_window(x: CaseContext, day: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """day in W = [from, min(to, A)]."""
    return _between(day, x.bounds.start, x.bounds.window_end)


def _accusation(x: CaseContext) -> sa.ColumnElement[bool]:
    return x.c.category == Category.ACCUSATION.value


def _closed_at(x: CaseContext) -> sa.ColumnElement[bool]:
    return x.c.closed_date <= x.bounds.as_of


def _open_at(x: CaseContext) -> sa.ColumnElement[bool]:
    return sa.or_(x.c.closed_date.is_(None), x.c.closed_date > x.bounds.as_of)


# W = [from, min(to, A)]: a case received after A did not exist at A
RECEIVED_IN_PERIOD = Rule("received_in_period", lambda x: _in_window(x, x.c.received_date), ("received_date",),
                          AnchorDate.RECEIVED)
ACCEPTED_IN_PERIOD = Rule("accepted_in_period", lambda x: sa.and_(_accusation(x), _in_window(x, x.c.received_date)),
                          ("category", "received_date"), AnchorDate.RECEIVED)
DUE_IN_WINDOW = Rule("due_in_window", lambda x: sa.and_(_accusation(x), _in_window(x, x.due)), ("category",),
                     AnchorDate.DUE)
CLOSED_BY_DUE = Rule("closed_by_due", lambda x: sa.and_(x.c.closed_date <= x.due, _closed_at(x)), ("closed_date",))
FIRST_REPORT = Rule("first_report", lambda x: is_true(x.c.is_first_report), ("is_first_report",))
# a stock at A: no date of the case need lie in the period
OVERDUE_AT_AS_OF = Rule("overdue_at_as_of", lambda x: sa.and_(_accusation(x), x.due < x.bounds.as_of, _open_at(x)),
                        ("category", "closed_date"))
CLOSED_IN_PERIOD = Rule(
    "closed_in_period",
    lambda x: sa.and_(_accusation(x), _between(x.c.closed_date, x.bounds.start, x.bounds.end), _closed_at(x)),
    ("category", "closed_date"), AnchorDate.CLOSED)
RATED = Rule("rated", lambda x: x.c.satisfaction.is_not(None), ("satisfaction",))
SATISFIED = Rule("satisfied", lambda x: x.c.satisfaction.in_([Satisfaction.SATISFIED.value, Satisfaction.BASIC.value]),
                 ("satisfaction",))
DISPUTED = Rule("disputed", lambda x: is_true(x.c.disputed), ("disputed",))
LEAPFROG = Rule("leapfrog", lambda x: is_true(x.c.is_leapfrog), ("is_leapfrog",))
REPEAT = Rule("repeat", lambda x: is_true(x.c.is_repeat), ("is_repeat",))
NOTICE_DUE_IN_WINDOW = Rule(
    "notice_due_in_window",
    lambda x: sa.and_(_accusation(x), is_true(x.c.is_real_name), _in_window(x, x.notice_deadline)),
    ("category", "is_real_name"), AnchorDate.NOTICE, Deadline.NOTICE)
NOTICE_ON_TIME = Rule("notice_on_time", lambda x: x.c.accepted_notice_date <= x.notice_deadline,
                      ("accepted_notice_date",), deadline=Deadline.NOTICE)
FEEDBACK_DUE_IN_WINDOW = Rule(
    "feedback_due_in_window",
    lambda x: sa.and_(_accusation(x), is_true(x.c.is_real_name), _closed_at(x), _in_window(x, x.feedback_deadline)),
    ("category", "is_real_name", "closed_date"), AnchorDate.FEEDBACK, Deadline.FEEDBACK)
FEEDBACK_ON_TIME = Rule("feedback_on_time", lambda x: x.c.result_notice_date <= x.feedback_deadline,
                        ("result_notice_date",), deadline=Deadline.FEEDBACK)

HANDLING_DAYS = Quantity("handling_days", lambda x: days_between(x.c.closed_date, x.c.received_date),
                         ("closed_date", "received_date"))


def effective_due(c: CaseColumns, settings: Settings) -> sa.ColumnElement[dt.date]:
    """due_date, or received_date + the default number of days when it is empty."""
    return sa.func.coalesce(c.due_date, add_days(c.received_date, sa.literal(settings.default_due_days, sa.Integer)))




def relevant_cases(first_day: dt.date, earliest_as_of: dt.date, latest_as_of: dt.date,
                   settings: Settings) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses keeping a superset of the cases that can count in a period (or the buckets of a
    series) starting on `first_day`, read as of dates between `earliest_as_of` and `latest_as_of`.
    Cheap, and it spares the per-row rules most of a long history.

    Why nothing that counts is dropped, anchor by anchor (F = first_day, reach = F - 40 days):
      - no case received after its as-of date counts anywhere (received_date <= latest_as_of);
      - received / accepted: received_date >= F; due: due >= F; closed: closed_date >= F;
      - notice: D1 >= F and D1 <= received_date + 40 days, so received_date >= reach;
      - feedback: D2 >= F and D2 <= closed_date + 40 days, so closed_date >= reach;
      - overdue (a stock at A, however far A lies from the period): open at A, i.e. closed_date is
        empty or later than A >= earliest_as_of.
    Every AnchorDate is covered; a new stock (a rule heading a chain without an anchor) must be
    argued here too.
    """
    reach = first_day - dt.timedelta(days=DEADLINE_REACH_DAYS)
    closed_since = min(reach, earliest_as_of + dt.timedelta(days=1))
    return [
        cases.c.received_date <= latest_as_of,
        sa.or_(cases.c.closed_date.is_(None), cases.c.closed_date >= closed_since, cases.c.received_date >= reach,
               effective_due(cases.c, settings) >= first_day),
    ]
