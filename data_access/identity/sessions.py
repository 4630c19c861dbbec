"""Signed-in sessions of local users: what lets F5, a new tab and a bookmark stay signed in.

The flow, and why each step is sound:
  1. The sign-in form checks the password and calls start_session(): a session row, and a one-time
     handoff code (random, valid HANDOFF_SECONDS, stored only as its hash) for the browser.
  2. The page posts that code to the server's /auth/session route (a POST body: never in the URL,
     which the meeting room's projector shows). bind_session() swaps the code, once, for the session
     token: 256 random bits, stored only as its SHA-256, sent back in an HttpOnly cookie that the
     page's scripts cannot read.
  3. Every later run reads the cookie (F5, a new tab, a bookmark) and resume_by_token() verifies it
     server-side; the tab that signed in re-checks its session by id (check_session). Either check
     fails — and ends the session, with the reason — when the session ended, was idle longer than
     the timeout, is older than the absolute lifetime (however active: a cookie copied off a machine
     does not last), or its user no longer exists or is disabled.
Sign-out ends one session; disabling a user or changing their password ends all of theirs
(auth.end_sessions_statement, in that same transaction). Another browser has no cookie: it signs in.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from data_access.identity.auth import Identity, get_identity
from data_access.store.schema import user_sessions

TOKEN_BYTES = 32
HANDOFF_SECONDS = 60
# last_seen is written at most this often: a page of many reruns does not write on each one
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Started:
    """A session just started by a sign-in: its id (kept by the tab) and the browser's handoff code."""

    session_id: str
    handoff_code: str


@dataclass(frozen=True)
class Resumed:
    """A session a cookie opened: its id and whose it is."""

    session_id: str
    identity: Identity


def digest(secret: str) -> str:
    """What the database stores of a token or a handoff code."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(engine: sa.Engine, identity: Identity, now: dt.datetime | None = None) -> Started:
    """A session for a user who has just signed in, waiting for its browser to fetch the cookie."""
    now = now or dt.datetime.now()
    started = Started(uuid.uuid4().hex, secrets.token_urlsafe(TOKEN_BYTES))
    with engine.begin() as conn:
        conn.execute(user_sessions.insert().values(
            id=started.session_id, token_hash=None, handoff_hash=digest(started.handoff_code),
            handoff_until=now + dt.timedelta(seconds=HANDOFF_SECONDS), username=identity.username,
            created_at=now, last_seen=now, ended_at=None, end_reason=None))
    return started


def bind_session(engine: sa.Engine, handoff_code: str, now: dt.datetime | None = None) -> str | None:
    """The cookie's token for a valid, unused, unexpired handoff code (None otherwise). The code is
    spent in the same statement that stores the token's hash: a second use finds nothing."""
    now = now or dt.datetime.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    s = user_sessions.c
    with engine.begin() as conn:
        bound = conn.execute(
            user_sessions.update()
            .where(s.handoff_hash == digest(handoff_code), s.handoff_until >= now, s.ended_at.is_(None))
            .values(token_hash=digest(token), handoff_hash=None, handoff_until=None, last_seen=now)).rowcount
    return token if bound == 1 else None


def lifetime_of(hours: float) -> dt.timedelta:
    """The absolute session lifetime of the sign-in settings' session_lifetime_hours."""
    return dt.timedelta(hours=hours)


def resume_by_token(engine: sa.Engine, token: str, idle_timeout: dt.timedelta,
                    now: dt.datetime | None = None, lifetime: dt.timedelta | None = None) -> Resumed | None:
    """The session a cookie's token opens, or None (see check_session for when a session fails)."""
    if (session_id := _session_of(engine, token)) is None:
        return None
    identity = check_session(engine, session_id, idle_timeout, now, lifetime)
    return Resumed(session_id, identity) if identity is not None else None


def check_session(engine: sa.Engine, session_id: str, idle_timeout: dt.timedelta,
                  now: dt.datetime | None = None, lifetime: dt.timedelta | None = None) -> Identity | None:
    """Whose the session is, or None: unknown or ended; idle longer than `idle_timeout` (then ended
    as idle); started longer than `lifetime` ago, however active (then ended as expired; None: no
    limit); a user who no longer exists or is disabled (then ended as disabled)."""
    now = now or dt.datetime.now()
    with engine.connect() as conn:
        row = conn.execute(sa.select(user_sessions).where(user_sessions.c.id == session_id)).first()
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen > idle_timeout:
        _end(engine, session_id, "idle", now)
        return None
    if lifetime is not None and now - row.created_at > lifetime:
        _end(engine, session_id, "expired", now)
        return None
    identity = get_identity(engine, row.username)
    if identity is None:
        _end(engine, session_id, "disabled", now)
        return None
    if now - row.last_seen >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(user_sessions.update()
                         .where(user_sessions.c.id == session_id, user_sessions.c.ended_at.is_(None))
                         .values(last_seen=now))
    return identity


def end_session(engine: sa.Engine, session_id: str, now: dt.datetime | None = None) -> bool:
    """Sign-out: end that session; False when it was not open."""
    return _end(engine, session_id, "logout", now or dt.datetime.now())


def end_session_by_token(engine: sa.Engine, token: str, now: dt.datetime | None = None) -> bool:
    """Sign-out from the cookie alone (the /auth/signout route): end the token's session."""
    session_id = _session_of(engine, token)
    return session_id is not None and end_session(engine, session_id, now)


def open_sessions(engine: sa.Engine, username: str) -> int:
    """How many sessions of the user are open (not ended; idle ones count until they are next checked)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(user_sessions).where(
            user_sessions.c.username == username, user_sessions.c.ended_at.is_(None))).scalar_one())


def _session_of(engine: sa.Engine, token: str) -> str | None:
    """The id of the session a cookie's token was issued for (ended or not), None for an unknown token."""
    with engine.connect() as conn:
        return conn.execute(sa.select(user_sessions.c.id).where(
            user_sessions.c.token_hash == digest(token))).scalar_one_or_none()


def _end(engine: sa.Engine, session_id: str, reason: str, now: dt.datetime) -> bool:
    with engine.begin() as conn:
        return conn.execute(
            user_sessions.update().where(user_sessions.c.id == session_id, user_sessions.c.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason)).rowcount == 1
