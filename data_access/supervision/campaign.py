"""越级重复举报专项治理: the repeat matters the campaign takes on, followed from 纳入 to 案结事了.

A matter is a key of the screening (metrics.matters: the trimmed matter_id, else a case_id). Its life
(docs/contract/campaign.md):

    enrolled (已交办) --assign--> assigned (已包案) --resolve--> resolved (已化解) --settle--> settled (案结事了)
    any state --relapse (a new report on the matter)--> relapsed (反弹) --resolve--> resolved

Who may do what is decided here: the province enrols any matter, a city only those its counties hold;
the city or county holding a matter sets its 包案 (a change is a new record, the old ones kept); the
county notes progress and claims it resolved; the province confirms 案结事了, only when the data shows
the matter settled at the as-of date. Each step is one transaction that moves the matter's revision only
if it is still the one read (two users acting at once: one wins, the other is told), with its event row
and its audit row (which moves the data version).

This floor may not import metrics: the steps that read the screening take it as `screening`, a function
of (connection, as_of, keys) — metrics.campaign.read_matters in the app — run inside the step's transaction.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, assert_never

import pandas as pd
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.identity.scope import Scope, counties_at_or_under
from data_access.reference.enums import LabelledEnum
from data_access.store.engine import connect, result_frame
from data_access.store.schema import campaign_assignments, campaign_events, campaign_matters, campaign_notes, regions
from data_access.supervision.ledger import LedgerRefused, StaleStep, check_note

PLAN_MAX = 2000
TEAM_MAX = 500
LEADER_NAME_MAX = 32
LEADER_POST_MAX = 64
# Words that say a 包案领导 field holds a reporter rather than an official.
NOT_AN_OFFICIAL = ("举报人", "信访人", "控告人", "反映人", "检举人")


class State(LabelledEnum):
    """Where a campaign matter stands."""

    ENROLLED = ("enrolled", "已交办")
    ASSIGNED = ("assigned", "已包案")
    RESOLVED = ("resolved", "已化解")  # claimed by the county, awaiting the province's confirmation
    SETTLED = ("settled", "案结事了")
    RELAPSED = ("relapsed", "反弹")


class Step(LabelledEnum):
    """The events of a campaign matter's history."""

    ENROL = ("enrol", "纳入专项治理")
    ASSIGN = ("assign", "包案")
    PROGRESS = ("progress", "进展")
    RESOLVE = ("resolve", "化解")
    SETTLE = ("settle", "案结事了")
    RELAPSE = ("relapse", "反弹")


def next_state(state: State, step: Step) -> State | None:
    """The state `step` leads to from `state`; None when the step is not allowed there."""
    if step is Step.ENROL:
        return None  # only a matter not yet in the campaign is enrolled
    if step is Step.ASSIGN:
        # a 包案 set or changed keeps a relapse visible and is closed once resolved
        return {State.ENROLLED: State.ASSIGNED, State.ASSIGNED: State.ASSIGNED, State.RELAPSED: State.RELAPSED}.get(state)
    if step is Step.PROGRESS:
        return state if state in (State.ASSIGNED, State.RESOLVED, State.RELAPSED) else None
    if step is Step.RESOLVE:
        return State.RESOLVED if state in (State.ASSIGNED, State.RELAPSED) else None
    if step is Step.SETTLE:
        return State.SETTLED if state is State.RESOLVED else None
    if step is Step.RELAPSE:
        return State.RELAPSED  # a new report counts in every state
    assert_never(step)


def in_work(state: State) -> bool:
    """Whether the matter is still being worked on (not settled): what 在办 and 超期未化解 count."""
    if state is State.ENROLLED or state is State.ASSIGNED or state is State.RESOLVED or state is State.RELAPSED:
        return True
    if state is State.SETTLED:
        return False
    assert_never(state)


class CampaignRefused(LedgerRefused):
    """A step refused for its content or for what the data shows (not screened, not settled, no new report)."""


class MatterReading(Protocol):
    """What a step needs of the screening's row for one matter (metrics.matters.RepeatMatter has it)."""

    @property
    def matter(self) -> str: ...
    @property
    def county_code(self) -> str: ...
    @property
    def reports(self) -> int: ...
    @property
    def last_received(self) -> dt.date: ...
    @property
    def open(self) -> int: ...
    @property
    def disputed_last(self) -> bool: ...
    @property
    def quiet_days(self) -> int: ...
    @property
    def settled(self) -> bool: ...
    @property
    def screened(self) -> bool: ...


# The repeat matters among `keys` at the end of `as_of`, by key (a key that is no repeat matter is absent).
Screening = Callable[[sa.Connection, dt.date, Sequence[str]], Mapping[str, MatterReading]]


@dataclass(frozen=True)
class Enrolment:
    """What one enrolment made: the batch id (集中交办; None for a single matter) and the campaign ids by key."""

    batch: str | None
    ids: dict[str, str]


@dataclass(frozen=True)
class Relapse:
    """A campaign matter with reports the campaign has not seen: a new report since enrolment or the last relapse."""

    campaign_matter_id: str
    matter: str
    county_code: str
    state: State
    known_reports: int
    reports: int
    last_received: dt.date


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _who(actor: Identity) -> str:
    return actor.display_name or actor.username


def _county_in_scope(conn: sa.Connection, county_code: str, actor: Identity) -> bool:
    query = sa.select(regions.c.code).where(regions.c.code == county_code, regions.c.level == "county")
    if actor.region_code is not None:
        query = query.where(regions.c.code.in_(counties_at_or_under(actor.region_code)))
    return conn.execute(query).first() is not None


def _may(actor: Identity, step: Step) -> None:
    """OutOfScope unless the actor's role takes `step` (the region is checked against the matter apart)."""
    allowed: tuple[Role, ...]
    if step is Step.ENROL:
        allowed, who = (Role.PROVINCE, Role.CITY), "省级或所辖市级"
    elif step is Step.ASSIGN:
        allowed, who = (Role.CITY, Role.COUNTY), "持有该事项的市、县"
    elif step is Step.PROGRESS or step is Step.RESOLVE:
        allowed, who = (Role.COUNTY,), "承办该事项的县（市、区）"
    elif step is Step.SETTLE:
        allowed, who = (Role.PROVINCE,), "省级"
    elif step is Step.RELAPSE:
        allowed, who = (Role.PROVINCE, Role.CITY, Role.COUNTY), "管辖该事项的各级"
    else:
        assert_never(step)
    if actor.role not in allowed:
        raise OutOfScope(f"{_who(actor)}无权{step.label}：此步骤由{who}纪委监委办理。")


def _event(conn: sa.Connection, row_id: str, actor: Identity, step: Step, source: State | None, target: State,
           detail: str, at: dt.datetime) -> None:
    done = conn.execute(sa.select(sa.func.count()).select_from(campaign_events)
                        .where(campaign_events.c.campaign_matter_id == row_id)).scalar_one()
    conn.execute(campaign_events.insert().values(
        id=uuid.uuid4().hex, campaign_matter_id=row_id, seq=done + 1, at=at, username=actor.username,
        role=actor.role.value, action=step.value, from_state=source.value if source else None, to_state=target.value,
        detail=detail[:500]))


def _audit(conn: sa.Connection, actor: Identity, step: Step, matter: str, county_code: str, detail: str) -> None:
    audit.record_in(conn, actor, audit.AuditAction.SUPERVISION, f"专项治理{step.label} {county_code} 事项 {matter}：{detail}")


# --- enrolment ----------------------------------------------------------------------------------------------

def enrol(engine: sa.Engine, actor: Identity, matter: str, *, deadline: dt.date, as_of: dt.date, screening: Screening,
          now: dt.datetime | None = None) -> str:
    """纳入专项治理: one screened matter, to be resolved by `deadline`; its campaign id."""
    return _enrol(engine, actor, [matter], deadline, as_of, screening, now, batch=None).ids[matter]


def enrol_batch(engine: sa.Engine, actor: Identity, matters: Sequence[str], *, deadline: dt.date, as_of: dt.date,
                screening: Screening, now: dt.datetime | None = None) -> Enrolment:
    """集中交办: screened matters enrolled together under one batch id and deadline, all or none."""
    return _enrol(engine, actor, matters, deadline, as_of, screening, now, batch=uuid.uuid4().hex)


def _enrol(engine: sa.Engine, actor: Identity, matters: Sequence[str], deadline: dt.date, as_of: dt.date,
           screening: Screening, now: dt.datetime | None, batch: str | None) -> Enrolment:
    _may(actor, Step.ENROL)
    keys = list(dict.fromkeys(matters))
    if not keys:
        raise CampaignRefused("未选择任何事项。")
    at = now or _now()
    if deadline < at.date():
        raise CampaignRefused(f"办结期限 {deadline} 早于今天 {at.date()}。")
    try:
        with engine.begin() as conn:
            readings = screening(conn, as_of, keys)
            return Enrolment(batch, {key: _enrol_one(conn, actor, key, deadline, as_of, readings, at, batch)
                                     for key in keys})
    except sa.exc.IntegrityError as clash:  # another user enrolled one of them meanwhile
        raise StaleStep("所选事项中有事项刚被他人纳入专项治理，请刷新后查看。") from clash


def _enrol_one(conn: sa.Connection, actor: Identity, key: str, deadline: dt.date, as_of: dt.date,
               readings: Mapping[str, MatterReading], at: dt.datetime, batch: str | None) -> str:
    reading = readings.get(key)
    if reading is None:
        raise CampaignRefused(f"事项 {key} 截至 {as_of} 不是重复举报事项。")
    if not reading.screened:
        raise CampaignRefused(f"事项 {key} 截至 {as_of} 未列入筛选，不能纳入专项治理。")
    if not _county_in_scope(conn, reading.county_code, actor):
        raise OutOfScope(f"{_who(actor)}无权将事项 {key} 纳入专项治理：其最新举报在地区 {reading.county_code}，不在本级管辖范围内。")
    if conn.execute(sa.select(campaign_matters.c.id).where(campaign_matters.c.matter == key)).first() is not None:
        raise CampaignRefused(f"事项 {key} 已纳入专项治理。")
    row_id = uuid.uuid4().hex
    conn.execute(campaign_matters.insert().values(
        id=row_id, matter=key, county_code=reading.county_code, batch=batch, deadline=deadline,
        state=State.ENROLLED.value, revision=1, known_reports=reading.reports, enrolled_by=actor.username,
        enrolled_scope=actor.region_code or "", enrolled_at=at, updated_at=at))
    detail = f"{'集中交办' if batch else '交办'}，限期 {deadline} 办结（举报 {reading.reports} 件）"
    _event(conn, row_id, actor, Step.ENROL, None, State.ENROLLED, detail, at)
    _audit(conn, actor, Step.ENROL, key, reading.county_code, detail)
    return row_id


# --- the steps on an enrolled matter --------------------------------------------------------------------------

def _take(conn: sa.Connection, actor: Identity, row_id: str, step: Step, seen: State | None) -> tuple[sa.Row[Any], State]:
    """The matter's row and the state the step leads to, or the refusal (out of scope, wrong role, stale)."""
    row = conn.execute(sa.select(campaign_matters).where(campaign_matters.c.id == row_id)).first()
    if row is None or not _county_in_scope(conn, row.county_code, actor):
        # a matter outside the actor's region is answered like one that does not exist
        raise OutOfScope(f"专项治理事项 {row_id} 不存在或不在本级管辖范围内。")
    _may(actor, step)
    current = State(row.state)
    target = next_state(current, step)
    if (seen is not None and seen is not current) or target is None:
        raise StaleStep(f"该事项当前状态为“{current.label}”，不能{step.label}：可能已由他人处理，请刷新后查看。")
    return row, target


def _advance(conn: sa.Connection, actor: Identity, row: sa.Row[Any], step: Step, target: State, detail: str,
             at: dt.datetime, **values: Any) -> None:
    """The move itself: an UPDATE that matches only the revision read, its event and its audit row."""
    moved = conn.execute(campaign_matters.update()
                         .where(campaign_matters.c.id == row.id, campaign_matters.c.revision == row.revision)
                         .values(state=target.value, revision=row.revision + 1, updated_at=at, **values)).rowcount
    if moved != 1:
        raise StaleStep(f"该事项刚由他人办理了其他步骤，不能{step.label}，请刷新后查看。")
    _event(conn, row.id, actor, step, State(row.state), target, detail, at)
    _audit(conn, actor, step, row.matter, row.county_code, detail)


def _has_assignment(conn: sa.Connection, row_id: str) -> bool:
    return conn.execute(sa.select(campaign_assignments.c.id)
                        .where(campaign_assignments.c.campaign_matter_id == row_id).limit(1)).first() is not None


def _official(text: str, what: str, limit: int) -> str:
    value = check_note(text, what, limit=limit)
    if any(word in value for word in NOT_AN_OFFICIAL):
        raise CampaignRefused(f"{what}应填写包案的纪检监察机关领导干部，不得填写举报人等信息。")
    return value


def assign(engine: sa.Engine, actor: Identity, campaign_matter_id: str, *, leader_name: str, leader_post: str,
           team: str, plan: str, seen: State | None = None, now: dt.datetime | None = None) -> None:
    """包案: the leader (an official: name and post), the 工作专班 and the 化解方案; a change is a new record."""
    leader_name = _official(leader_name, "包案领导姓名", LEADER_NAME_MAX)
    leader_post = _official(leader_post, "包案领导职务", LEADER_POST_MAX)
    team = check_note(team, "工作专班", limit=TEAM_MAX)
    plan = check_note(plan, "化解方案", limit=PLAN_MAX)
    at = now or _now()
    with engine.begin() as conn:
        row, target = _take(conn, actor, campaign_matter_id, Step.ASSIGN, seen)
        done = conn.execute(sa.select(sa.func.count()).select_from(campaign_assignments)
                            .where(campaign_assignments.c.campaign_matter_id == row.id)).scalar_one()
        conn.execute(campaign_assignments.insert().values(
            id=uuid.uuid4().hex, campaign_matter_id=row.id, seq=done + 1, leader_name=leader_name,
            leader_post=leader_post, team=team, plan=plan, set_by=actor.username, set_scope=actor.region_code or "",
            set_at=at))
        _advance(conn, actor, row, Step.ASSIGN, target,
                 f"{'变更' if done else '确定'}包案领导 {leader_post}{leader_name}", at)


def _write_note(engine: sa.Engine, actor: Identity, campaign_matter_id: str, step: Step, note: str,
                seen: State | None, at: dt.datetime | None) -> None:
    at = at or _now()
    with engine.begin() as conn:
        row, target = _take(conn, actor, campaign_matter_id, step, seen)
        if not _has_assignment(conn, row.id):
            raise CampaignRefused(f"该事项尚未包案，不能{step.label}：请先确定包案领导、工作专班和化解方案。")
        conn.execute(campaign_notes.insert().values(id=uuid.uuid4().hex, campaign_matter_id=row.id, kind=step.value,
                                                    note=note, written_by=actor.username, written_at=at))
        _advance(conn, actor, row, step, target, note, at)


def note_progress(engine: sa.Engine, actor: Identity, campaign_matter_id: str, *, note: str, seen: State | None = None,
                  now: dt.datetime | None = None) -> None:
    """进展: the county notes what it has done on its matter (the state is kept)."""
    _write_note(engine, actor, campaign_matter_id, Step.PROGRESS, check_note(note, "进展情况"), seen, now)


def claim_resolved(engine: sa.Engine, actor: Identity, campaign_matter_id: str, *, note: str,
                   seen: State | None = None, now: dt.datetime | None = None) -> None:
    """化解: the county says the matter is resolved, with what was done; the province confirms it later."""
    _write_note(engine, actor, campaign_matter_id, Step.RESOLVE, check_note(note, "化解情况"), seen, now)


def _unsettled_reason(reading: MatterReading | None, known_reports: int) -> str | None:
    """Why the data does not show the matter settled (in Chinese), or None when it does."""
    if reading is None:
        return "数据中已无该事项的重复举报"
    if reading.reports > known_reports:
        return f"又有 {reading.reports - known_reports} 件新举报，应先记录反弹"
    if reading.settled:
        return None
    if reading.open:
        return f"尚有 {reading.open} 件举报未办结"
    if reading.disputed_last:
        return "最新一件举报办结后举报人不服"
    return f"距最新一件举报（{reading.last_received}）仅 {reading.quiet_days} 天，未满无新举报的观察期"


def confirm_settled(engine: sa.Engine, actor: Identity, campaign_matter_id: str, *, as_of: dt.date,
                    screening: Screening, seen: State | None = None, note: str = "",
                    now: dt.datetime | None = None) -> None:
    """案结事了: the province confirms a resolved matter, only when the data shows it settled at `as_of`."""
    opinion = check_note(note, "确认意见", required=False) or "确认案结事了"
    at = now or _now()
    with engine.begin() as conn:
        row, target = _take(conn, actor, campaign_matter_id, Step.SETTLE, seen)
        reason = _unsettled_reason(screening(conn, as_of, [row.matter]).get(row.matter), row.known_reports)
        if reason is not None:
            raise CampaignRefused(f"截至 {as_of}，事项 {row.matter} 尚不能确认案结事了：{reason}。")
        _advance(conn, actor, row, Step.SETTLE, target, opinion, at)


# --- relapse ---------------------------------------------------------------------------------------------------

def find_relapses(conn: sa.Engine | sa.Connection, scope: Scope, as_of: dt.date, screening: Screening) -> list[Relapse]:
    """The campaign matters of the counties in `scope` with more reports at `as_of` than the campaign has seen."""
    with connect(conn) as c:
        rows = c.execute(sa.select(campaign_matters).where(_in_scope(scope)).order_by(campaign_matters.c.matter)).all()
        readings = screening(c, as_of, [row.matter for row in rows]) if rows else {}
    found = []
    for row in rows:
        reading = readings.get(row.matter)
        if reading is not None and reading.reports > row.known_reports:
            found.append(Relapse(row.id, row.matter, row.county_code, State(row.state), row.known_reports,
                                 reading.reports, reading.last_received))
    return found


def record_relapse(engine: sa.Engine, actor: Identity, campaign_matter_id: str, *, as_of: dt.date,
                   screening: Screening, now: dt.datetime | None = None) -> None:
    """反弹: a new report on the matter at `as_of`, recorded (the reports it now has become the ones seen)."""
    at = now or _now()
    with engine.begin() as conn:
        row, target = _take(conn, actor, campaign_matter_id, Step.RELAPSE, None)
        reading = screening(conn, as_of, [row.matter]).get(row.matter)
        if reading is None or reading.reports <= row.known_reports:
            raise StaleStep(f"截至 {as_of}，事项 {row.matter} 没有未记录的新举报：可能已由他人记录，请刷新后查看。")
        detail = (f"新增举报 {reading.reports - row.known_reports} 件（共 {reading.reports} 件，"
                  f"最新 {reading.last_received}），原状态“{State(row.state).label}”")
        _advance(conn, actor, row, Step.RELAPSE, target, detail, at, known_reports=reading.reports)


def record_relapses(engine: sa.Engine, actor: Identity, as_of: dt.date, screening: Screening,
                    now: dt.datetime | None = None) -> list[str]:
    """Every relapse found in the actor's region at `as_of` recorded, each in its own step; the ids recorded
    (one recorded meanwhile by another user is skipped)."""
    recorded = []
    for relapse in find_relapses(engine, Scope(actor.region_code), as_of, screening):
        try:
            record_relapse(engine, actor, relapse.campaign_matter_id, as_of=as_of, screening=screening, now=now)
        except StaleStep:
            continue
        recorded.append(relapse.campaign_matter_id)
    return recorded


# --- reading ---------------------------------------------------------------------------------------------------

def _in_scope(scope: Scope) -> sa.ColumnElement[bool]:
    return campaign_matters.c.county_code.in_(counties_at_or_under(scope.code)) if scope.code else sa.true()


def _frame(conn: sa.Connection, query: sa.Select[Any]) -> pd.DataFrame:
    result = conn.execute(query)
    return result_frame(result)


def matters(engine: sa.Engine | sa.Connection, scope: Scope, as_of: dt.date) -> pd.DataFrame:
    """The campaign matters of the counties in `scope`, with `overdue` (in work past the deadline at `as_of`);
    overdue first, then by deadline and key."""
    with connect(engine) as conn:
        frame = _frame(conn, sa.select(campaign_matters).where(_in_scope(scope)))
    if frame.empty:
        return frame.assign(overdue=pd.Series(dtype=bool))
    working = frame["state"].map(lambda value: in_work(State(value)))
    frame["overdue"] = working & (pd.to_datetime(frame["deadline"]) < pd.Timestamp(as_of))
    return (frame.sort_values(["overdue", "deadline", "matter"], ascending=[False, True, True]).reset_index(drop=True))


def _of_matter(engine: sa.Engine | sa.Connection, scope: Scope, table: sa.Table, campaign_matter_id: str,
               *order: sa.ColumnElement[Any]) -> pd.DataFrame:
    """The rows of `table` about one matter, in `order` (none when the matter lies outside `scope`)."""
    query = (sa.select(table).join(campaign_matters, campaign_matters.c.id == table.c.campaign_matter_id)
             .where(table.c.campaign_matter_id == campaign_matter_id, _in_scope(scope)).order_by(*order))
    with connect(engine) as conn:
        return _frame(conn, query)


def history(engine: sa.Engine | sa.Connection, scope: Scope, campaign_matter_id: str) -> pd.DataFrame:
    """The steps of one matter in order (empty when it lies outside `scope`)."""
    return _of_matter(engine, scope, campaign_events, campaign_matter_id, campaign_events.c.seq)


def assignments(engine: sa.Engine | sa.Connection, scope: Scope, campaign_matter_id: str) -> pd.DataFrame:
    """The 包案 records of one matter, oldest first (the last is in force; empty outside `scope`)."""
    return _of_matter(engine, scope, campaign_assignments, campaign_matter_id, campaign_assignments.c.seq)


def notes(engine: sa.Engine | sa.Connection, scope: Scope, campaign_matter_id: str) -> pd.DataFrame:
    """The progress notes and resolve claims of one matter, in order (empty outside `scope`)."""
    return _of_matter(engine, scope, campaign_notes, campaign_matter_id, campaign_notes.c.written_at, campaign_notes.c.id)
