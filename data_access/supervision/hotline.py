"""The 12388 monthly cycle (docs/contract/hotline-complaints.md), every step scoped, checked and audited.

    imported --通报 (province, month end)--> notified --feedback (city)--> 属实: a supervision item is opened
                                                                      --> 不属实 --draw (province)--> drawn
    drawn --抽查 result (province)--> 反馈属实 (done) | 反馈不实: a supervision item is opened

Who may do what is decided here, not by the buttons that offer it: the province marks a month notified,
draws and records 抽查 results; a city answers for its own counties' complaints (the province may too);
a county does none of it. Each step is one transaction whose UPDATE only matches the state it starts
from (two users answering the same complaint: one wins, the other is told what happened), and the
ledger item and the audit row it brings land with it or not at all.

The draw is reproducible: replay_draw gives the same sample from the stored seed and share.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import secrets
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity, OutOfScope, Role, require_whole_province
from data_access.identity.scope import Scope, counties_at_or_under, require_scope
from data_access.reference.enums import ComplaintKind, Feedback, LabelledEnum, SpotCheckResult, alias_map
from data_access.reference.workdays import workday_after
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases, hotline_complaints, regions, spot_check_draws
from data_access.supervision import document_register, ledger
from data_access.supervision.document_register import Draft, Issued
from data_access.supervision.hotline_settings import HotlineSettings, load_hotline_settings
from data_access.supervision.ledger import LedgerRefused, StaleStep, check_note

SEED_MAX = 2**31 - 1  # seeds fit spot_check_draws.seed (a 32-bit integer)
SHARE_RANGE = (0.01, 1.0)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
E = TypeVar("E", bound=LabelledEnum)
T = TypeVar("T")

__all__ = ["CycleRefused", "Draw", "NoticeMonth", "StaleStep", "complaints", "draw_spot_checks", "draws", "item_reason",
           "item_title", "replays", "mark_notified", "month_bounds", "notice_month", "notice_months", "record_feedback",
           "record_spot_check", "replay_draw", "reply_due", "sample_size"]


class CycleRefused(LedgerRefused):
    """A step refused for its content (a bad month, verdict or share; nothing to draw)."""


@dataclass(frozen=True)
class Draw:
    """One recorded 抽查 draw and the complaints it chose, city by city."""

    id: str
    month: str
    seed: int
    share: float
    population: int
    chosen: dict[str, list[str]]  # city code -> complaint ids, sorted

    @property
    def sample(self) -> int:
        """How many complaints were chosen."""
        return sum(len(ids) for ids in self.chosen.values())


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first day of `month` (YYYY-MM) and of the month after; CycleRefused for another shape."""
    match = _MONTH.match(month or "")
    if match is None:
        raise CycleRefused(f"月份“{month}”格式不对，应为 YYYY-MM，例如 2024-06。")
    year, number = int(match[1]), int(match[2])
    return dt.date(year, number, 1), dt.date(year + number // 12, number % 12 + 1, 1)


def sample_size(n: int, share: float) -> int:
    """How many of a city's n complaints a draw takes: ceil(share × n), at least 1, at most n (0 for none).
    The product is rounded to 9 decimals first, so 0.2 × 15 is 3, not 4."""
    return 0 if n <= 0 else min(n, max(1, math.ceil(round(share * n, 9))))


def replay_draw(ids_by_city: Mapping[str, Sequence[str]], seed: int, share: float) -> dict[str, list[str]]:
    """The draw's sample from its population (complaint ids by 6-digit city code), seed and share: per city,
    the ids sorted, numpy.random.default_rng([seed, int(city)]).permutation(n), the first sample_size
    positions; each city's chosen ids sorted. Pure: the same arguments always give the same sample."""
    chosen: dict[str, list[str]] = {}
    for city in sorted(ids_by_city):
        ids = sorted(ids_by_city[city])
        take = sample_size(len(ids), share)
        if take:
            order = np.random.default_rng([seed, int(city)]).permutation(len(ids))
            chosen[city] = sorted(ids[int(i)] for i in order[:take])
    return chosen


@dataclass(frozen=True)
class NoticeMonth:
    """Which complaints the 通报 of one month holds (docs/contract/hotline-complaints.md, 通报).

    Issued (some complaint is notified in the month): exactly the complaints it marked; the list is fixed, and a
    complaint imported afterwards waits for the next notice. Not issued yet: the complaints its notice would
    mark now. A complaint not yet notified belongs to the first month not yet issued on or after its own month:
    so the notice holds the month's own complaints (to `read_to`) and those of the issued months just before it,
    imported after their notice (late: received before `start`); a complaint of an earlier month whose own
    notice was never issued stays with that month, and no complaint is counted in two months.
    """

    month: str
    start: dt.date  # the month's first day
    read_to: dt.date  # the month's last day, or today while the month runs
    issued: bool
    read_from: dt.date  # not issued: the first day of the issued run of months just before this one (else start)

    def condition(self) -> sa.ColumnElement[bool]:
        """The WHERE clause on hotline_complaints selecting the notice's complaints."""
        c = hotline_complaints.c
        if self.issued:
            return c.notified_month == self.month
        return sa.and_(c.notified_month.is_(None), c.received_date >= self.read_from, c.received_date <= self.read_to)

    def late(self) -> sa.ColumnElement[bool]:
        """True for a complaint received before the month (逾期补录: it joins this notice late)."""
        return hotline_complaints.c.received_date < self.start


def notice_months(conn: sa.Connection, months: Sequence[str], today: dt.date) -> list[NoticeMonth]:
    """The notices of `months` as the tables stand (see NoticeMonth); CycleRefused for a month not begun by `today`."""
    bounds = [month_bounds(month) for month in months]
    if not_begun := [m for m, (start, _) in zip(months, bounds, strict=True) if start > today]:
        raise CycleRefused(f"{not_begun[0]} 尚未开始，不能通报。")
    c = hotline_complaints.c
    issued = set(conn.execute(sa.select(c.notified_month).where(c.notified_month.is_not(None)).distinct()).scalars())
    return [NoticeMonth(month, start, min(following - dt.timedelta(days=1), today), month in issued,
                        _first_of_issued_run(start, issued))
            for month, (start, following) in zip(months, bounds, strict=True)]


def _first_of_issued_run(start: dt.date, issued: set[str]) -> dt.date:
    """The first day of the run of issued months that ends just before the month starting on `start` (`start`
    itself when the month before is not issued): the earliest day a complaint of this month's notice was received."""
    first = start
    while True:
        before = (first - dt.timedelta(days=1)).replace(day=1)
        if f"{before:%Y-%m}" not in issued:
            return first
        first = before


def notice_month(conn: sa.Connection, month: str, today: dt.date) -> NoticeMonth:
    """The notice of `month` as the tables stand (see NoticeMonth); CycleRefused for a month not begun by `today`."""
    return notice_months(conn, [month], today)[0]


def mark_notified(engine: sa.Engine, actor: Identity | str, month: str, now: dt.datetime | None = None, *,
                  listed: Collection[str] | None = None) -> int:
    """通报: mark the complaints of the notice of `month` (NoticeMonth: every complaint not yet notified and received
    by the month's end — a late import joins the next notice) as notified in `month`; province only; how many were
    marked (0 for a month already issued: its list is fixed). With `listed` (the ids the issued documents list),
    StaleStep and nothing marked unless exactly those are marked."""
    with engine.begin() as conn:
        return mark_notified_in(conn, actor, month, now, listed=listed)


def issue_notice(engine: sa.Engine, actor: Identity | str, month: str, listed: Collection[str], drafts: Sequence[Draft],
                 dated: dt.date, then: Callable[[list[Issued]], T] | None = None) -> tuple[list[Issued], int, T | None]:
    """The month-end 通报 in one transaction: a 文号 for each of its documents (`drafts`, dated `dated`), exactly the
    `listed` complaints marked notified (mark_notified_in), and `then(issued)` (building and writing the files
    with their numbers: what it raises takes the numbers and the marks back). The numbers, how many were marked,
    what `then` returned."""
    def record(conn: sa.Connection, issued: list[Issued]) -> tuple[int, T | None]:
        marked = mark_notified_in(conn, actor, month, listed=listed)
        return marked, then(issued) if then is not None else None

    issued, done = document_register.issue(engine, actor, drafts, dated, record=record)
    assert done is not None
    return issued, done[0], done[1]


def mark_notified_in(conn: sa.Connection, actor: Identity | str, month: str, now: dt.datetime | None = None, *,
                     listed: Collection[str] | None = None) -> int:
    """mark_notified inside the caller's transaction (the one that numbers the month's documents)."""
    require_whole_province(actor, "通报12388来电")
    c = hotline_complaints.c
    notice = notice_month(conn, month, (now or _now()).date())
    if notice.issued:
        return 0
    pending = conn.execute(sa.select(c.complaint_id, notice.late().label("late")).where(notice.condition())).all()
    if listed is not None and {row.complaint_id for row in pending} != set(listed):
        raise StaleStep(_NOTICE_MOVED)
    marked = conn.execute(hotline_complaints.update().where(notice.condition()).values(notified_month=month)).rowcount
    if marked != len(pending):
        raise StaleStep(_NOTICE_MOVED)
    if marked:
        late = sum(1 for row in pending if row.late)
        audit.record_in(conn, actor, audit.AuditAction.HOTLINE,
                        f"通报 {month}：12388来电投诉 {marked} 件" + (f"（含逾期补录 {late} 件）" if late else ""))
    return int(marked)


_NOTICE_MOVED = "通报文件生成后又有来电导入或被通报，本次未标记：请重新生成通报。"


def record_feedback(engine: sa.Engine, actor: Identity, complaint_id: str, verdict: Feedback | str, note: str,
                    now: dt.datetime | None = None, settings: HotlineSettings | None = None) -> str | None:
    """反馈: the city answers a notified complaint 属实 or 不属实, with its explanation; 属实 opens a
    supervision item in the same transaction. The item's id, or None for 不属实."""
    if actor.role is Role.COUNTY:
        raise OutOfScope("12388来电的核查反馈由市纪委监委填写，县级用户不能填写。")
    verdict = _member(Feedback, verdict, "反馈结果")
    note = check_note(note, "反馈说明")
    at = now or _now()

    def stale(row: sa.Row[Any]) -> str:  # as it stands now (another user may just have answered)
        if row.notified_month is None:
            return "该来电尚未通报，不能反馈。"
        answer = f"（{Feedback(row.feedback).label}）" if row.feedback else ""
        return f"该来电已反馈{answer}，不能重复反馈：可能已由他人处理，请刷新后查看。"

    c = hotline_complaints.c
    return _step(engine, actor, complaint_id, ready=[c.notified_month.is_not(None), c.feedback.is_(None)],
                 values={"feedback": verdict.value, "feedback_note": note, "feedback_at": at, "feedback_by": actor.username},
                 stale=stale, item=(lambda row: (item_title(row.kind, complaint_id), item_reason(row.notified_month, note)))
                 if verdict is Feedback.TRUE else None,
                 audit_text=f"反馈 来电编号 {complaint_id}：{verdict.label}", at=at, settings=settings)


def draw_spot_checks(engine: sa.Engine, actor: Identity | str, month: str, share: float | None = None,
                     seed: int | None = None, now: dt.datetime | None = None,
                     settings: HotlineSettings | None = None) -> Draw:
    """抽查: draw, city by city, a share of the complaints notified in `month` that were answered 不属实 (after
    the month's last draw, if any; at least one per city that has any); record the draw; province only."""
    require_whole_province(actor, "抽查12388来电")
    month_bounds(month)
    share = (settings or load_hotline_settings()).spot_check_share if share is None else float(share)
    if not SHARE_RANGE[0] <= share <= SHARE_RANGE[1]:
        raise CycleRefused(f"抽查比例 {share} 应在 {SHARE_RANGE[0]} 至 {SHARE_RANGE[1]} 之间。")
    seed = secrets.randbelow(SEED_MAX + 1) if seed is None else int(seed)
    if not 0 <= seed <= SEED_MAX:
        raise CycleRefused(f"随机种子 {seed} 应在 0 至 {SEED_MAX} 之间。")
    at = now or _now()
    with engine.begin() as conn:
        population = _draw_population(conn, month)
        if not population:
            raise CycleRefused(f"{month} 通报的来电中没有待抽查的“不属实”反馈。")
        chosen = replay_draw(population, seed, share)
        draw = Draw(uuid.uuid4().hex, month, seed, share, sum(len(v) for v in population.values()), chosen)
        conn.execute(spot_check_draws.insert().values(
            id=draw.id, month=month, seed=seed, share=share, population=draw.population, sample=draw.sample,
            drawn_at=at, drawn_by=_username(actor)))
        ids = [i for city in chosen.values() for i in city]
        moved = conn.execute(hotline_complaints.update()
                             .where(hotline_complaints.c.complaint_id.in_(ids), hotline_complaints.c.spot_check_draw.is_(None))
                             .values(spot_check_draw=draw.id)).rowcount
        if moved != len(ids):
            raise StaleStep("另一次抽查刚刚抽取了其中的来电，本次未记录，请刷新后查看。")
        audit.record_in(conn, actor, audit.AuditAction.HOTLINE,
                        f"抽查 {month}：{draw.population} 件中抽取 {draw.sample} 件（比例 {share:g}，种子 {seed}，批次 {draw.id}）")
    return draw


def record_spot_check(engine: sa.Engine, actor: Identity, complaint_id: str, result: SpotCheckResult | str, note: str,
                      now: dt.datetime | None = None, settings: HotlineSettings | None = None) -> str | None:
    """抽查结果: the province records what its check of a drawn complaint found; 反馈不实 opens a supervision
    item in the same transaction. The item's id, or None for 反馈属实."""
    if actor.role is not Role.PROVINCE:
        raise OutOfScope(f"{actor.display_name or actor.username}无权录入抽查结果：仅省级用户可以操作。")
    result = _member(SpotCheckResult, result, "抽查结果")
    note = check_note(note, "抽查说明")
    at = now or _now()

    def stale(row: sa.Row[Any]) -> str:
        if row.spot_check_draw is None:
            return "该来电未被抽中，不能录入抽查结果。"
        found = f"（{SpotCheckResult(row.spot_check_result).label}）" if row.spot_check_result else ""
        return f"该来电已录入抽查结果{found}，不能重复录入：可能已由他人处理，请刷新后查看。"

    c = hotline_complaints.c
    return _step(engine, actor, complaint_id, ready=[c.spot_check_draw.is_not(None), c.spot_check_result.is_(None)],
                 values={"spot_check_result": result.value, "spot_check_note": note, "spot_check_at": at,
                         "spot_check_by": actor.username},
                 stale=stale, item=(lambda row: (item_title(row.kind, complaint_id, spot_check=True),
                                                 item_reason(row.notified_month, note, spot_check=True)))
                 if result is SpotCheckResult.FALSE else None,
                 audit_text=f"抽查结果 来电编号 {complaint_id}：{result.label}", at=at, settings=settings)


def _step(engine: sa.Engine, actor: Identity, complaint_id: str, *, ready: list[sa.ColumnElement[bool]],
          values: dict[str, Any], stale: Callable[[sa.Row[Any]], str],
          item: Callable[[sa.Row[Any]], tuple[str, str]] | None, audit_text: str, at: dt.datetime,
          settings: HotlineSettings | None) -> str | None:
    """One step on one complaint in one transaction: the update matches only the state it starts from (else
    StaleStep saying what happened), the supervision item it opens (title, reason from `item`) and the audit row."""
    with engine.begin() as conn:
        row = _complaint(conn, complaint_id, actor)
        moved = conn.execute(hotline_complaints.update()
                             .where(hotline_complaints.c.complaint_id == complaint_id, *ready).values(**values)).rowcount
        if moved != 1:
            raise StaleStep(stale(_complaint(conn, complaint_id, actor)))
        opened = None
        if item is not None:
            title, reason = item(row)
            opened = _open_item(conn, actor, row, title, reason, at, settings)
        where = audit_text.replace("：", f"（{row.county_code}）：", 1)
        audit.record_in(conn, actor, audit.AuditAction.HOTLINE, where + ("，已挂账督办" if opened else ""))
    return opened


def complaints(engine: sa.Engine | sa.Connection, scope: Scope) -> pd.DataFrame:
    """Every complaint of the counties in `scope`, with its city_code; by received_date, then id. The table holds
    no caller identity, and nor does this. (A month's notice: metrics.hotline.notice_complaints.)"""
    code = require_scope(scope).code
    query = (sa.select(hotline_complaints, regions.c.parent_code.label("city_code"))
             .select_from(hotline_complaints.join(regions, regions.c.code == hotline_complaints.c.county_code))
             .order_by(hotline_complaints.c.received_date, hotline_complaints.c.complaint_id))
    if code is not None:
        query = query.where(hotline_complaints.c.county_code.in_(counties_at_or_under(code)))
    with connect(engine) as conn:
        result = conn.execute(query)
        return result_frame(result)


def draws(engine: sa.Engine | sa.Connection, month: str | None = None) -> pd.DataFrame:
    """The recorded draws (of `month` when given), oldest first: what anyone needs to re-run them."""
    query = sa.select(spot_check_draws).order_by(spot_check_draws.c.drawn_at, spot_check_draws.c.id)
    if month is not None:
        query = query.where(spot_check_draws.c.month == month)
    with connect(engine) as conn:
        result = conn.execute(query)
        return result_frame(result)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _username(actor: Identity | str) -> str:
    return (actor.username if isinstance(actor, Identity) else str(actor))[:64]


def _member(enum_cls: type[E], value: E | str, what: str) -> E:
    """A member from itself, its stored value or its Chinese label; CycleRefused otherwise."""
    stored = alias_map(enum_cls).get(str(getattr(value, "value", value)).strip().lower())
    if stored is None:
        allowed = "、".join(m.label for m in enum_cls)
        raise CycleRefused(f"{what}“{value}”无效，应为 {allowed}。")
    return enum_cls(stored)


def _complaint(conn: sa.Connection, complaint_id: str, actor: Identity) -> sa.Row[Any]:
    """The complaint's row; OutOfScope, as if it did not exist, when it lies outside the actor's region."""
    query = sa.select(hotline_complaints).where(hotline_complaints.c.complaint_id == complaint_id)
    if actor.region_code is not None:
        query = query.where(hotline_complaints.c.county_code.in_(counties_at_or_under(actor.region_code)))
    row = conn.execute(query).first()
    if row is None:
        raise OutOfScope(f"来电编号 {complaint_id} 不存在或不在本级管辖范围内。")
    return row


def item_title(kind: ComplaintKind | str, complaint_id: str, spot_check: bool = False) -> str:
    """The title of the supervision item a complaint opens: fed back 属实, or found 反馈不实 by a 抽查."""
    member = ComplaintKind(kind)
    what = "其他问题" if member is ComplaintKind.OTHER else member.label
    about = f"12388来电反映{what}（来电编号 {complaint_id}）"
    return f"{about}，抽查发现反馈不实" if spot_check else f"{about}属实"


def item_reason(month: str, note: str, spot_check: bool = False) -> str:
    """The reason of that item: the month's notice, what is asked, and the finding (cut to the ledger's limit)."""
    notice = f"{int(month[:4])}年{int(month[5:7])}月通报"  # months in words: the reason is printed on the 督办通知单
    if spot_check:
        text = f"12388来电（{notice}）地市反馈不属实，经省级抽查反馈不实，请重新核查处理并按期反馈。抽查情况：{note}"
    else:
        text = f"12388来电（{notice}）经核查反馈属实，请整改并按期反馈。核查情况：{note}"
    return text[:ledger.NOTE_MAX]


def reply_due(opened: dt.date, workdays: int) -> dt.date:
    """The reply deadline of an item the cycle opens on `opened`: the `workdays`-th working day after it."""
    return workday_after(opened, workdays)


def _open_item(conn: sa.Connection, actor: Identity, row: sa.Row[Any], title: str, reason: str, at: dt.datetime,
               settings: HotlineSettings | None) -> str:
    """Open the complaint's supervision item (about its case while the case is still the county's) and link it."""
    due = reply_due(at.date(), (settings or load_hotline_settings()).reply_workdays)
    owner = None if row.case_id is None else conn.execute(
        sa.select(cases.c.county_code).where(cases.c.case_id == row.case_id)).scalar_one_or_none()
    item = ledger.open_item_in(conn, actor, county_code=row.county_code, title=title, reason=reason,
                               method=ledger.Method.LETTER, reply_due=due,
                               case_id=row.case_id if owner == row.county_code else None, now=at)
    conn.execute(hotline_complaints.update().where(hotline_complaints.c.complaint_id == row.complaint_id)
                 .values(supervision_item_id=item))
    return item


def _draw_population(conn: sa.Connection, month: str) -> dict[str, list[str]]:
    """Complaint ids by city (the county's parent) that a draw of `month` chooses from: answered 不属实 and,
    when the month was drawn before, answered after its last draw (the others were in that draw's population)."""
    last = conn.execute(sa.select(sa.func.max(spot_check_draws.c.drawn_at)).where(spot_check_draws.c.month == month)).scalar()
    query = (sa.select(regions.c.parent_code, hotline_complaints.c.complaint_id)
             .select_from(hotline_complaints.join(regions, regions.c.code == hotline_complaints.c.county_code))
             .where(hotline_complaints.c.notified_month == month, hotline_complaints.c.feedback == Feedback.UNTRUE.value,
                    hotline_complaints.c.spot_check_draw.is_(None)))
    if last is not None:
        query = query.where(hotline_complaints.c.feedback_at > last)
    population: dict[str, list[str]] = {}
    for city, complaint_id in conn.execute(query):
        population.setdefault(str(city), []).append(complaint_id)
    return population


def replays(engine: sa.Engine | sa.Connection, draw_id: str) -> bool:
    """Whether the recorded draw `draw_id` re-runs to its own sample: its population rebuilt from the tables
    (its month's 不属实 answers recorded after the month's previous draw and by its own time), replay_draw
    with its stored seed and share, compared with the complaints it marked."""
    with connect(engine) as conn:
        draw = conn.execute(sa.select(spot_check_draws).where(spot_check_draws.c.id == draw_id)).one()
        before = conn.execute(sa.select(sa.func.max(spot_check_draws.c.drawn_at))
                              .where(spot_check_draws.c.month == draw.month, spot_check_draws.c.drawn_at < draw.drawn_at)).scalar()
        c = hotline_complaints.c
        query = (sa.select(regions.c.parent_code, c.complaint_id)
                 .select_from(hotline_complaints.join(regions, regions.c.code == c.county_code))
                 .where(c.notified_month == draw.month, c.feedback == Feedback.UNTRUE.value, c.feedback_at <= draw.drawn_at))
        if before is not None:
            query = query.where(c.feedback_at > before)
        population: dict[str, list[str]] = {}
        for city, complaint_id in conn.execute(query):
            population.setdefault(str(city), []).append(complaint_id)
        marked = sorted(conn.execute(sa.select(c.complaint_id).where(c.spot_check_draw == draw_id)).scalars())
    chosen = replay_draw(population, int(draw.seed), float(draw.share))
    return sorted(i for ids in chosen.values() for i in ids) == marked
