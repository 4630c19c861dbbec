"""Signed-in sessions of local users: what lets F5, a new tab and a bookmark stay signed in.

The browser keeps a random token (256 bits, URL-safe text) in an HttpOnly cookie; the database keeps
only its SHA-256 in `user_sessions`, so the server verifies every request and can end any session.
A session is good while it has not ended, was seen within the idle timeout, and its user exists and
is enabled; every check that fails ends it, with the reason. Sign-out ends one session; disabling a
user or changing their password ends all of theirs (auth.end_sessions_statement, in that same
transaction).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from .auth import Identity, end_sessions_statement, get_identity
from .schema import user_sessions

TOKEN_BYTES = 32
# last_seen is written at most this often: a page of many reruns does not write on each one
TOUCH_EVERY = dt.timedelta(minutes=1)


def token_hash(token: str) -> str:
    """What the database stores of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(engine: sa.Engine, identity: Identity, now: dt.datetime | None = None) -> str:
    """Start a session for a user who has just signed in; the token for the cookie (never stored)."""
    now = now or dt.datetime.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with engine.begin() as conn:
        conn.execute(user_sessions.insert().values(token_hash=token_hash(token), username=identity.username,
                                                   created_at=now, last_seen=now, ended_at=None, end_reason=None))
    return token


def resume_session(engine: sa.Engine, token: str, idle_timeout: dt.timedelta,
                   now: dt.datetime | None = None) -> Identity | None:
    """The identity a cookie's token stands for, or None: unknown or ended token, idle longer than
    `idle_timeout` (the session is then ended as idle), or a user no longer enabled (ended as disabled)."""
    now = now or dt.datetime.now()
    key = token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(sa.select(user_sessions).where(user_sessions.c.token_hash == key)).first()
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen > idle_timeout:
        _end(engine, key, "idle", now)
        return None
    identity = get_identity(engine, row.username)
    if identity is None:
        _end(engine, key, "disabled", now)
        return None
    if now - row.last_seen >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(user_sessions.update()
                         .where(user_sessions.c.token_hash == key, user_sessions.c.ended_at.is_(None))
                         .values(last_seen=now))
    return identity


def end_session(engine: sa.Engine, token: str, now: dt.datetime | None = None) -> str | None:
    """Sign-out: end the session of this token; the username it belonged to (None if it was not open)."""
    key = token_hash(token)
    with engine.begin() as conn:
        username = conn.execute(sa.select(user_sessions.c.username).where(
            user_sessions.c.token_hash == key, user_sessions.c.ended_at.is_(None))).scalar_one_or_none()
        if username is not None:
            conn.execute(_ending(key, "logout", now or dt.datetime.now()))
    return username


def end_sessions_of(engine: sa.Engine, username: str, reason: str, now: dt.datetime | None = None) -> int:
    """End every open session of a user; how many were open."""
    with engine.begin() as conn:
        return conn.execute(end_sessions_statement(username, reason, now or dt.datetime.now())).rowcount


def open_sessions(engine: sa.Engine, username: str) -> int:
    """How many sessions of the user are open (not ended; idle ones count until they are next checked)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(user_sessions).where(
            user_sessions.c.username == username, user_sessions.c.ended_at.is_(None))).scalar_one())


def _ending(key: str, reason: str, now: dt.datetime) -> sa.Update:
    return (user_sessions.update().where(user_sessions.c.token_hash == key, user_sessions.c.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))


def _end(engine: sa.Engine, key: str, reason: str, now: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(_ending(key, reason, now))
