"""督办台账: supervision orders (督办事项) and their lifecycle, every step scoped, checked and audited.

An item is about one case or about a county as a whole. Its life (docs/contract/supervision-ledger.md):

    open (挂账) --reply (county)--> replied (已反馈) --close (supervisor)--> closed (销号)
                                     replied --return (supervisor)--> open (退回, open again)

An open item whose reply_due has passed is 逾期未反馈 (a reading, not a status).

Who may do what is decided here, not by the buttons that offer it: province and city supervisors open,
close and return items of counties within their region; a county user replies to its own county's
items only; nobody acts outside their region. Each step is one transaction: the status changes only
if it is still the one the step starts from (two supervisors closing the same item: one wins, the
other is told what happened), and the step's event row and audit row land with it or not at all.

Notes are typed by officials but land on shared screens: text that looks like a mobile or landline
number or a citizen ID number is refused, with the reason.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.identity.scope import Scope, counties_at_or_under
from data_access.reference.enums import LabelledEnum
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases, regions, supervision_events, supervision_items

NOTE_MAX = 1000
TITLE_MAX = 200


class Subject(LabelledEnum):
    """What an item is about."""

    CASE = ("case", "单件督办")
    COUNTY = ("county", "对县督办")


class Method(LabelledEnum):
    """How the order was given."""

    PHONE = ("phone", "电话督办")
    LETTER = ("letter", "发函督办")
    VISIT = ("visit", "派员督办")


class Status(LabelledEnum):
    """Where an item stands."""

    OPEN = ("open", "挂账")
    REPLIED = ("replied", "已反馈")
    CLOSED = ("closed", "已销号")


class Step(LabelledEnum):
    """The events of an item's history."""

    OPEN = ("open", "挂账督办")
    REPLY = ("reply", "县级反馈")
    CLOSE = ("close", "销号")
    RETURN = ("return", "退回")


class LedgerRefused(ValueError):
    """A step refused for its content (a note with a phone number, an empty reason, a wrong date)."""


class StaleStep(RuntimeError):
    """A step on an item that has moved on since the page was drawn (another user acted first)."""


# Shapes of personal numbers that must not reach a shared screen.
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)")
_CITIZEN_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])|(?<!\d)\d{15}(?!\d)")


def looks_like_personal_number(text: str) -> bool:
    """Whether `text` holds something shaped like a mobile or landline number or a citizen ID number."""
    return bool(_CITIZEN_ID.search(text) or _MOBILE.search(text) or _LANDLINE.search(text))


def check_note(text: str, what: str, *, required: bool = True, limit: int = NOTE_MAX) -> str:
    """The note stripped, or LedgerRefused naming why it may not be stored (in Chinese)."""
    note = (text or "").strip()
    if required and not note:
        raise LedgerRefused(f"{what}不能为空。")
    if len(note) > limit:
        raise LedgerRefused(f"{what}过长：{len(note)} 字，最多 {limit} 字。")
    if _CITIZEN_ID.search(note):
        raise LedgerRefused(f"{what}中有疑似身份证号码。本系统在共享屏幕上显示，不得录入举报人或他人身份信息，请删除后再提交。")
    if _MOBILE.search(note) or _LANDLINE.search(note):
        raise LedgerRefused(f"{what}中有疑似电话号码。本系统在共享屏幕上显示，不得录入举报人或他人联系方式，请删除后再提交。")
    return note


@dataclass(frozen=True)
class Item:
    """One supervision item as stored."""

    id: str
    subject: str
    case_id: str | None
    county_code: str
    title: str
    reason: str
    method: str
    reply_due: dt.date
    status: str
    opened_by: str
    opened_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _scope_code(actor: Identity) -> str:
    return actor.region_code or ""


def _county_in_scope(conn: sa.Connection, county_code: str, actor: Identity) -> bool:
    """Whether `county_code` is a county the actor's region covers (the whole province covers all)."""
    query = sa.select(regions.c.code).where(regions.c.code == county_code, regions.c.level == "county")
    if actor.region_code is not None:
        query = query.where(regions.c.code.in_(counties_at_or_under(actor.region_code)))
    return conn.execute(query).first() is not None


def _require_supervisor(actor: Identity, what: str) -> None:
    if actor.role not in (Role.PROVINCE, Role.CITY):
        raise OutOfScope(f"{actor.display_name or actor.username}无权{what}：仅省、市两级督导人员可以操作。")


def _event(conn: sa.Connection, item_id: str, actor: Identity, step: Step, note: str, at: dt.datetime,
           promised: dt.date | None = None) -> None:
    done = conn.execute(sa.select(sa.func.count()).select_from(supervision_events)
                        .where(supervision_events.c.item_id == item_id)).scalar_one()
    conn.execute(supervision_events.insert().values(
        id=uuid.uuid4().hex, item_id=item_id, seq=done + 1, at=at, username=actor.username, role=actor.role.value, action=step.value,
        note=note, promised_date=promised))


def open_item(engine: sa.Engine, actor: Identity, *, county_code: str, title: str, reason: str, method: Method | str,
              reply_due: dt.date, case_id: str | None = None, now: dt.datetime | None = None) -> str:
    """挂账: a supervisor orders a county (or one of its cases) to act and reply by `reply_due`; the new id."""
    with engine.begin() as conn:
        return open_item_in(conn, actor, county_code=county_code, title=title, reason=reason, method=method,
                            reply_due=reply_due, case_id=case_id, now=now)


def open_item_in(conn: sa.Connection, actor: Identity, *, county_code: str, title: str, reason: str,
                 method: Method | str, reply_due: dt.date, case_id: str | None = None,
                 now: dt.datetime | None = None) -> str:
    """open_item inside the caller's transaction (a step of another workflow that opens an item with its
    own change): the same checks, the item, its event and its audit row; the new id."""
    _require_supervisor(actor, "挂账督办")
    method = Method(method)
    title = check_note(title, "督办事项", limit=TITLE_MAX)
    reason = check_note(reason, "督办要求")
    at = now or _now()
    if reply_due < at.date():
        raise LedgerRefused(f"反馈期限 {reply_due} 早于今天 {at.date()}。")
    if not _county_in_scope(conn, county_code, actor):
        raise OutOfScope(f"{actor.display_name or actor.username}无权督办地区 {county_code}：不在本级管辖范围内。")
    if case_id is not None:
        owner = conn.execute(sa.select(cases.c.county_code).where(cases.c.case_id == case_id)).scalar_one_or_none()
        if owner != county_code:
            raise LedgerRefused(f"件号 {case_id} 不是地区 {county_code} 的案件。")
    item_id = uuid.uuid4().hex
    conn.execute(supervision_items.insert().values(
        id=item_id, subject=(Subject.CASE if case_id else Subject.COUNTY).value, case_id=case_id,
        county_code=county_code, title=title, reason=reason, method=method.value, reply_due=reply_due,
        status=Status.OPEN.value, opened_by=actor.username, opened_scope=_scope_code(actor), opened_at=at))
    _event(conn, item_id, actor, Step.OPEN, reason, at)
    audit.record_in(conn, actor, audit.AuditAction.SUPERVISION,
                    f"挂账督办 {county_code}{f' 件号 {case_id}' if case_id else ''}：{title}（{method.label}，"
                    f"反馈期限 {reply_due}）")
    return item_id


def _move(engine: sa.Engine, actor: Identity, item_id: str, step: Step, source: Status, target: Status, note: str,
          promised: dt.date | None, at: dt.datetime | None) -> None:
    """One transition: checked scope, then an UPDATE that only matches the expected current status."""
    at = at or _now()
    with engine.begin() as conn:
        item = conn.execute(sa.select(supervision_items.c.county_code, supervision_items.c.status, supervision_items.c.title)
                            .where(supervision_items.c.id == item_id)).first()
        if item is None or not _county_in_scope(conn, item.county_code, actor):
            # an item outside the actor's region is answered like one that does not exist
            raise OutOfScope(f"督办事项 {item_id} 不存在或不在本级管辖范围内。")
        if actor.role is Role.COUNTY and step is not Step.REPLY:
            raise OutOfScope("县级用户只能反馈本县的督办事项，不能销号或退回。")
        if actor.role is not Role.COUNTY and step is Step.REPLY:
            raise OutOfScope("反馈由被督办的县（市、区）填写；省、市督导人员可以销号或退回。")
        stamps: dict[str, Any] = {"replied_at": at} if target is Status.REPLIED else {}
        if target is Status.CLOSED:
            stamps["closed_at"] = at
        moved = conn.execute(supervision_items.update()
                             .where(supervision_items.c.id == item_id, supervision_items.c.status == source.value)
                             .values(status=target.value, **stamps)).rowcount
        if moved != 1:
            now_status = Status(item.status).label
            raise StaleStep(f"该督办事项当前状态为“{now_status}”，不能{step.label}：可能已由他人处理，请刷新后查看。")
        _event(conn, item_id, actor, step, note, at, promised)
        audit.record_in(conn, actor, audit.AuditAction.SUPERVISION, f"{step.label} {item.county_code}：{item.title}")


def reply(engine: sa.Engine, actor: Identity, item_id: str, *, note: str, promised_date: dt.date | None = None,
          now: dt.datetime | None = None) -> None:
    """已反馈: the county reports progress and measures (and the day it will finish) on an open item."""
    _move(engine, actor, item_id, Step.REPLY, Status.OPEN, Status.REPLIED, check_note(note, "反馈内容"), promised_date, now)


def close(engine: sa.Engine, actor: Identity, item_id: str, *, note: str = "", now: dt.datetime | None = None) -> None:
    """销号: the supervisor accepts the reply."""
    _move(engine, actor, item_id, Step.CLOSE, Status.REPLIED, Status.CLOSED,
          check_note(note, "销号意见", required=False) or "同意销号", None, now)


def send_back(engine: sa.Engine, actor: Identity, item_id: str, *, note: str, now: dt.datetime | None = None) -> None:
    """退回: the supervisor finds the reply insufficient; the item is open again, the reason noted."""
    _move(engine, actor, item_id, Step.RETURN, Status.REPLIED, Status.OPEN, check_note(note, "退回理由"), None, now)


def items(engine: sa.Engine | sa.Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """Every item of the counties in `scope`, with `overdue_reply` (open past its reply_due at `as_of`)
    and `age_days` (days from its opening to `as_of`; 0 for one opened later, as when `as_of` is the
    sidebar's 截止日期 and the cases lag behind today); overdue replies first, then the oldest."""
    query = sa.select(supervision_items)
    query = query.where(_in_scope(scope))
    with connect(engine) as conn:
        result = conn.execute(query)
        frame = result_frame(result)
    if frame.empty:
        return frame.assign(overdue_reply=pd.Series(dtype=bool), age_days=pd.Series(dtype="int64"))
    frame["overdue_reply"] = (frame["status"] == Status.OPEN.value) & (pd.to_datetime(frame["reply_due"]) < pd.Timestamp(as_of))
    age = (pd.Timestamp(as_of) - pd.to_datetime(frame["opened_at"]).dt.normalize()).dt.days
    frame["age_days"] = age.clip(lower=0).astype("int64")
    rank = frame["status"].map({Status.OPEN.value: 1, Status.REPLIED.value: 2, Status.CLOSED.value: 3})
    frame["_rank"] = rank.where(~frame["overdue_reply"], 0)
    return frame.sort_values(["_rank", "opened_at", "id"], ascending=[True, True, True]).drop(columns="_rank").reset_index(drop=True)


def history(engine: sa.Engine, scope: Scope, item_id: str | None = None) -> pd.DataFrame:
    """The steps of one item in order (empty when the item lies outside `scope`), or of every item in
    scope (item_id None) item by item."""
    query = (sa.select(supervision_events).join(supervision_items, supervision_items.c.id == supervision_events.c.item_id)
             .order_by(supervision_events.c.item_id, supervision_events.c.seq))
    if item_id is not None:
        query = query.where(supervision_events.c.item_id == item_id)
    query = query.where(_in_scope(scope))
    with engine.connect() as conn:
        result = conn.execute(query)
        return result_frame(result)



@dataclass(frozen=True)
class Standing:
    """Where a region's 督办 items stand at a date: the one source of 在办 and 逾期未反馈 on every surface."""

    in_progress: int  # not yet closed (open or replied)
    overdue_replies: int  # open (挂账 or 退回) past their reply_due at the as-of date
    total: int  # every item, closed ones included
    closed: int


def standing(conn: sa.Connection, scope: Scope, as_of: dt.date) -> Standing:
    """The items of the counties in `scope` in progress, overdue for a reply at `as_of`, in all and closed — counted
    by the database (all 0 on a database the app has not yet set up the ledger in: a report read by the command
    line creates no table)."""
    if not sa.inspect(conn).has_table(supervision_items.name):
        return Standing(0, 0, 0, 0)
    open_now = supervision_items.c.status != Status.CLOSED.value
    late = sa.and_(supervision_items.c.status == Status.OPEN.value, supervision_items.c.reply_due < as_of)
    row = conn.execute(sa.select(sa.func.sum(sa.case((open_now, 1), else_=0)), sa.func.sum(sa.case((late, 1), else_=0)),
                                 sa.func.count()).where(_in_scope(scope))).one()
    in_progress, overdue, total = (int(v or 0) for v in row)
    return Standing(in_progress, overdue, total, total - in_progress)


def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    return supervision_items.c.county_code.in_(counties_at_or_under(scope.code)) if scope.code else sa.true()


@dataclass(frozen=True)
class WeekCounts:
    """The ledger's week for the 周例会: steps taken in the week, and where the items stand now."""

    opened: int
    replied: int
    closed: int
    returned: int
    in_progress: int  # not yet closed (open or replied), now
    overdue_replies: int  # open past their reply_due at the as-of date

    @property
    def any(self) -> bool:
        """Whether the ledger holds anything to report."""
        return bool(self.opened or self.replied or self.closed or self.returned or self.in_progress)


def week_counts(conn: sa.Connection, scope: Scope, start: dt.date, end: dt.date, as_of: dt.date) -> WeekCounts:
    """Items opened, replied, closed and returned from `start` to `end` (inclusive) in `scope`, and where the
    items stand at `as_of` (standing()); all 0 where the app has not set up the ledger."""
    now = standing(conn, scope, as_of)
    if not now.total:
        return WeekCounts(0, 0, 0, 0, 0, 0)
    steps = (sa.select(supervision_events.c.action, sa.func.count().label("n"))
             .join(supervision_items, supervision_items.c.id == supervision_events.c.item_id)
             .where(_in_scope(scope), supervision_events.c.at >= dt.datetime.combine(start, dt.time()),
                    supervision_events.c.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
             .group_by(supervision_events.c.action))
    done = {row.action: int(row.n) for row in conn.execute(steps)}
    return WeekCounts(opened=done.get(Step.OPEN.value, 0), replied=done.get(Step.REPLY.value, 0),
                      closed=done.get(Step.CLOSE.value, 0), returned=done.get(Step.RETURN.value, 0),
                      in_progress=now.in_progress, overdue_replies=now.overdue_replies)
