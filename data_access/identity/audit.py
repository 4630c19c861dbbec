"""The audit trail: sign-ins, lock-outs, imports, downloads and user administration, who/when/scope/what.

Writing a row must never break the page or command that does the audited thing: record() logs a
database error and returns False instead of raising.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pandas as pd
import sqlalchemy as sa

from data_access.identity.auth import Identity
from data_access.reference.enums import LabelledEnum
from data_access.store.changes import note_change
from data_access.store.engine import result_frame
from data_access.store.schema import audit_log

logger = logging.getLogger(__name__)

DETAIL_MAX = 500
# Who writes when a program calls a writer without naming a person (tests, benchmarks).
PROGRAM_ACTOR = "program"
USERNAME_CHARS = 255  # the widths of audit_log.username and .scope
SCOPE_CHARS = 6
AUDIT_COLUMNS = ("at", "username", "role", "scope", "action", "detail", "id")


class AuditAction(LabelledEnum):
    """What was done."""

    LOGIN = ("login", "登录")
    LOGIN_FAILED = ("login_failed", "登录失败")
    LOCKOUT = ("lockout", "登录暂停")  # failures reached a limit: an account, an address or both held back a while
    LOGOUT = ("logout", "退出")
    REFUSED_REQUEST = ("refused_request", "拒绝请求")  # a POST to /auth/* from a page of another site
    IMPORT = ("import", "导入")
    DOWNLOAD = ("download", "下载")
    USER_ADMIN = ("user_admin", "用户管理")
    SUPERVISION = ("supervision", "督办")
    HOTLINE = ("hotline", "12388来电")
    BACKUP = ("backup", "备份")
    RESTORE = ("restore", "恢复")
    DOCUMENT = ("document", "发文")  # a document issued with its 文号 (data_access.supervision.document_register)


def record(engine: sa.Engine, identity_or_username: Identity | str, action: AuditAction | str, detail: str,
           scope: str | None = None, at: dt.datetime | None = None) -> bool:
    """Write one audit row; True when written, False (logged, never raised) when it could not be.

    `identity_or_username` is an Identity (its role and region fill role and scope) or a bare name (a failed login,
    the command line). `scope` overrides the identity's region; `detail` is cut to DETAIL_MAX characters.
    """
    try:
        row = _row(identity_or_username, AuditAction(action), detail, scope, at)
    except ValueError:
        logger.error("audit row not written: unknown action %r", action)
        return False
    try:
        with engine.begin() as conn:
            conn.execute(audit_log.insert().values(**row))
    except Exception:  # any database failure: the audited action itself must go on
        logger.exception("audit row not written: %s %s %s", row["username"], row["action"], row["detail"])
        return False
    return True


def record_in(conn: sa.Connection, identity_or_username: Identity | str, action: AuditAction, detail: str,
              scope: str | None = None) -> None:
    """Write one audit row inside the caller's transaction: it lands with the change it records, or
    neither does (a write of the app, such as an import). It moves the data version in the same transaction:
    whatever the write changed, every cache keyed on the version reads anew."""
    action = AuditAction(action)
    conn.execute(audit_log.insert().values(**_row(identity_or_username, action, detail, scope, None)))
    note_change(conn, action.value)


def recent(engine: sa.Engine, limit: int, since: dt.datetime | None = None) -> pd.DataFrame:
    """The latest audit rows, newest first: at, username, role, scope, action, detail, id."""
    stmt = sa.select(*(audit_log.c[c] for c in AUDIT_COLUMNS))
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    stmt = stmt.order_by(audit_log.c.at.desc(), audit_log.c.id).limit(limit)
    with engine.connect() as conn:
        return result_frame(conn.execute(stmt), AUDIT_COLUMNS)


def _row(who: Identity | str, action: AuditAction, detail: str, scope: str | None, at: dt.datetime | None) -> dict[str, Any]:
    if isinstance(who, Identity):
        username, role, region = who.username, who.role.value, who.region_code
    else:
        username, role, region = str(who), None, None
    return {
        "id": uuid.uuid4().hex,
        "at": (at.astimezone().replace(tzinfo=None) if at.tzinfo else at) if at else dt.datetime.now(),
        "username": username[:USERNAME_CHARS],
        "role": role,
        "scope": (scope if scope is not None else region or "")[:SCOPE_CHARS],
        "action": action.value,
        "detail": _one_line(detail)[:DETAIL_MAX],
    }


def _one_line(text: str) -> str:
    """Control characters (newlines included) become spaces, so an exported log keeps one row per line."""
    return "".join(" " if ch < " " or ch == "\x7f" else ch for ch in str(text or ""))
