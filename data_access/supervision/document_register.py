"""The 文号 register: every document the app issues gets its number here, in the transaction that records it.

A number is the kind's pattern (the [documents] settings, e.g. 鲁纪信督〔{year}〕{seq}号, with the issuing office's
代字 already filled in by the caller) formatted with the year of the 成文日期 and the next sequence of that pattern
and year. Rows are only ever inserted: a number once taken is never given again, and a document issued again (a
re-issue) takes a new number and names the one it replaces. Two issuers at once: both read the same highest
sequence, both insert the same number, the database's primary key lets one commit and the other's transaction is
run again from the start (issue() retries it), so concurrent issuers get distinct numbers on every engine.

Who may issue: province and city supervisors (and the command line, as the province), for recipients within their
region; a county user issues nothing. Each document's audit row (action 发文) carries its number and lands with it.
Contract: docs/contract/document-numbers.md.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.auth import Identity, OutOfScope, Role
from data_access.reference.enums import LabelledEnum
from data_access.store.engine import connect, result_frame
from data_access.store.schema import document_numbers, regions

T = TypeVar("T")
TITLE_MAX = 200
RECIPIENT_MAX = 200
SUBJECT_MAX = 64
NUMBER_MAX = 64
ATTEMPTS = 40  # transactions run again after losing a race for a number (each loses to a committed issuer)
_RACE_WORDS = ("conflict", "deadlock", "could not serialize", "lock wait timeout", "duplicate key")


class DocumentKind(LabelledEnum):
    """What kind of document a number is given to; each kind has its own pattern (and so its own sequence)."""

    WEEKLY = ("weekly", "周例会通报")
    HOTLINE_CITY = ("hotline_city", "12388来电通报")
    HOTLINE_COUNTY = ("hotline_county", "点对点通报")
    HOTLINE_SUMMARY = ("hotline_summary", "12388月度汇总")
    NOTICE = ("notice", "督办通知单")
    ANALYSIS = ("analysis", "形势分析报告")
    CAMPAIGN_LETTER = ("campaign_letter", "专项治理交办函")


class DocumentRefused(ValueError):
    """A document that cannot be issued as asked (a deadline before its date, an empty title); the reason in Chinese."""


@dataclass(frozen=True)
class Draft:
    """A document about to be issued: everything the register records but its number."""

    kind: DocumentKind
    series: str  # the number's pattern with {year} and {seq} still open: 鲁纪信督〔{year}〕{seq}号
    subject: str  # what the document is about, the same when it is issued again: 2026-10/370800, a ledger item's id
    title: str
    recipient: str  # 主送: 济宁市纪委监委
    recipient_code: str  # the recipient's region, '' for recipients across the whole province
    reply_due: dt.date | None = None  # the 答复 / 反馈期限 the document states


@dataclass(frozen=True)
class Issued:
    """One row of the register: a document with its number."""

    number: str
    kind: DocumentKind
    year: int
    seq: int
    subject: str
    title: str
    recipient: str
    recipient_code: str
    dated: dt.date  # 成文日期
    reply_due: dt.date | None
    issued_by: str
    issued_scope: str  # the issuing office's region, '' for the province
    issued_at: dt.datetime
    replaces: str | None  # the number of the same document issued before, for a re-issue


def format_number(series: str, year: int, seq: int | str) -> str:
    """The number of `seq` in `series` and `year`: 鲁纪信督〔2026〕3号."""
    return series.format(year=year, seq=seq)


def _issuer_scope(actor: Identity | str) -> str:
    """The issuing office's region ('' for the province); refuses a user who may not issue."""
    if not isinstance(actor, Identity):
        return ""  # the command line acts for the province
    if actor.role not in (Role.PROVINCE, Role.CITY):
        raise OutOfScope(f"{actor.display_name or actor.username}无权发文：仅省、市两级督导人员可以发文。")
    return actor.region_code or ""


def _covers(conn: sa.Connection, issuer: str, recipient_code: str) -> bool:
    """Whether the office of region `issuer` ('' the province) may write to a recipient of region `recipient_code`."""
    if not issuer:
        return True
    if not recipient_code:
        return False
    found = conn.execute(sa.select(regions.c.code).where(
        regions.c.code == recipient_code, sa.or_(regions.c.code == issuer, regions.c.parent_code == issuer))).first()
    return found is not None


def _checked(draft: Draft, dated: dt.date) -> Draft:
    title, recipient = draft.title.strip(), draft.recipient.strip()
    if not title or len(title) > TITLE_MAX:
        raise DocumentRefused(f"文件标题应为 1 至 {TITLE_MAX} 个字：{draft.title!r}")
    if not recipient or len(recipient) > RECIPIENT_MAX:
        raise DocumentRefused(f"主送机关应为 1 至 {RECIPIENT_MAX} 个字：{draft.recipient!r}")
    if not draft.subject or len(draft.subject) > SUBJECT_MAX:
        raise DocumentRefused(f"文件事由标识应为 1 至 {SUBJECT_MAX} 个字符：{draft.subject!r}")
    if draft.reply_due is not None and draft.reply_due < dated:
        raise DocumentRefused(f"反馈期限 {draft.reply_due} 早于成文日期 {dated}，请改正日期。")
    try:
        sample = format_number(draft.series, dated.year, 1)
    except (KeyError, IndexError, ValueError) as exc:
        raise DocumentRefused(f"文号格式 {draft.series!r} 只可使用 {{year}} 与 {{seq}}") from exc
    if len(sample) + 4 > NUMBER_MAX or "{seq}" not in draft.series:
        raise DocumentRefused(f"文号格式 {draft.series!r} 应含 {{seq}}，且不超过 {NUMBER_MAX - 4} 个字")
    return Draft(draft.kind, draft.series, draft.subject, title, recipient, draft.recipient_code, draft.reply_due)


def issue_in(conn: sa.Connection, actor: Identity | str, drafts: Sequence[Draft], dated: dt.date,
             now: dt.datetime | None = None) -> list[Issued]:
    """Number and record `drafts`, dated `dated` (成文日期), inside the caller's transaction, with an audit row each.

    OutOfScope for an actor who may not issue or a recipient outside the actor's region; DocumentRefused for a
    deadline before the date or a malformed draft. Run through issue() unless the caller retries a lost race itself."""
    issuer = _issuer_scope(actor)
    checked = [_checked(d, dated) for d in drafts]
    for draft in checked:
        if not _covers(conn, issuer, draft.recipient_code):
            who = actor.display_name or actor.username if isinstance(actor, Identity) else actor
            raise OutOfScope(f"{who}无权向{draft.recipient}发文：不在本级管辖范围内。")
    at = (now or dt.datetime.now()).replace(microsecond=0)
    username = actor.username if isinstance(actor, Identity) else str(actor)
    d = document_numbers.c
    taken: dict[str, int] = {}
    out = []
    for draft in checked:
        if draft.series not in taken:
            taken[draft.series] = conn.execute(sa.select(sa.func.coalesce(sa.func.max(d.seq), 0))
                                               .where(d.series == draft.series, d.year == dated.year)).scalar_one()
        taken[draft.series] += 1
        seq = taken[draft.series]
        replaces = conn.execute(sa.select(d.number).where(d.kind == draft.kind.value, d.subject == draft.subject,
                                                          d.issued_scope == issuer)
                                .order_by(d.issued_at.desc(), d.year.desc(), d.seq.desc()).limit(1)).scalar_one_or_none()
        row = Issued(format_number(draft.series, dated.year, seq), draft.kind, dated.year, seq, draft.subject, draft.title,
                     draft.recipient, draft.recipient_code, dated, draft.reply_due, username, issuer, at, replaces)
        conn.execute(document_numbers.insert().values(_values(row, draft.series)))
        audit.record_in(conn, actor, audit.AuditAction.DOCUMENT, audit_detail(row), scope=issuer)
        out.append(row)
    return out


def audit_detail(row: Issued) -> str:
    """发文 鲁纪信督〔2026〕3号《…》主送…，成文日期 2026-12-07（替代 …）: the audit row of an issued document."""
    due = f"，反馈期限 {row.reply_due}" if row.reply_due else ""
    again = f"（替代 {row.replaces}）" if row.replaces else ""
    return f"发文 {row.number} {row.kind.label}《{row.title}》主送{row.recipient}，成文日期 {row.dated}{due}{again}"


def _values(row: Issued, series: str) -> dict[str, Any]:
    return {"number": row.number, "series": series, "year": row.year, "seq": row.seq, "kind": row.kind.value,
            "subject": row.subject, "title": row.title, "recipient": row.recipient, "recipient_code": row.recipient_code,
            "dated": row.dated, "reply_due": row.reply_due, "issued_by": row.issued_by[:64], "issued_scope": row.issued_scope,
            "issued_at": row.issued_at, "replaces": row.replaces}


def _lost_race(exc: sa.exc.DBAPIError) -> bool:
    """A transaction that lost to a concurrent one (the same number inserted, a write conflict, a deadlock)."""
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    message = str(exc.orig).lower()
    return any(word in message for word in _RACE_WORDS)


def issue(engine: sa.Engine, actor: Identity | str, drafts: Sequence[Draft], dated: dt.date, *,
          record: Callable[[sa.Connection, list[Issued]], T] | None = None,
          now: dt.datetime | None = None) -> tuple[list[Issued], T | None]:
    """Issue `drafts` in one transaction that also runs `record(conn, issued)` (the write that records the documents,
    e.g. marking a month's complaints notified): the numbers and the record land together or not at all. A
    transaction that loses a race for a number is run again; what `record` raises (other than a lost race) ends it."""
    for attempt in range(ATTEMPTS):
        try:
            with engine.begin() as conn:
                issued = issue_in(conn, actor, drafts, dated, now)
                result = record(conn, issued) if record is not None else None
            return issued, result
        except sa.exc.DBAPIError as exc:
            if not _lost_race(exc) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05) * (1 + attempt))
    raise AssertionError("unreachable")


COLUMNS = tuple(c.name for c in document_numbers.columns if c.name != "series")


def _issued(row: sa.Row[Any]) -> Issued:
    return Issued(row.number, DocumentKind(row.kind), int(row.year), int(row.seq), row.subject, row.title, row.recipient,
                  row.recipient_code, row.dated, row.reply_due, row.issued_by, row.issued_scope, row.issued_at, row.replaces)


def latest(bind: sa.Engine | sa.Connection, kind: DocumentKind, subjects: Sequence[str]) -> dict[str, Issued]:
    """The document last issued of `kind` about each of `subjects` (whoever issued it), by subject; absent if none."""
    d = document_numbers.c
    if not subjects:
        return {}
    query = (sa.select(document_numbers).where(d.kind == kind.value, d.subject.in_(list(subjects)))
             .order_by(d.issued_at, d.year, d.seq))
    with connect(bind) as conn:
        return {row.subject: _issued(row) for row in conn.execute(query)}  # later rows overwrite earlier ones


def register(bind: sa.Engine | sa.Connection, issuer_scope: str | None = None) -> pd.DataFrame:
    """The register, newest first (one issuing office's rows when `issuer_scope` is given, '' the province)."""
    d = document_numbers.c
    query = sa.select(*(d[c] for c in COLUMNS)).order_by(d.issued_at.desc(), d.year.desc(), d.seq.desc())
    if issuer_scope is not None:
        query = query.where(d.issued_scope == issuer_scope)
    with connect(bind) as conn:
        return result_frame(conn.execute(query), COLUMNS)
