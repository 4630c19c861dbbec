"""Sessions of local users (data_access.sessions): a token opens its user's identity until sign-out, the
idle timeout, a disabled user or a new password; only the token's hash is stored. On both backends."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from data_access import auth, sessions
from data_access.auth import Identity, Role
from data_access.schema import user_sessions

T0 = dt.datetime(2026, 11, 2, 9, 0, 0)
EIGHT_HOURS = dt.timedelta(hours=8)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def li(engine: sa.Engine) -> Identity:
    return auth.add_user(engine, "li.si", PASSWORD, Role.CITY, "370800", display_name="李四")


def row(engine: sa.Engine, token: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.select(user_sessions).where(
            user_sessions.c.token_hash == sessions.token_hash(token))).one()


def test_a_token_opens_its_users_identity_and_only_its_hash_is_stored(engine: sa.Engine, li: Identity) -> None:
    token = sessions.open_session(engine, li, T0)
    assert len(token) >= 43  # 32 random bytes
    assert sessions.resume_session(engine, token, EIGHT_HOURS, T0 + dt.timedelta(minutes=5)) == li
    with engine.connect() as conn:
        stored = conn.execute(sa.select(user_sessions.c.token_hash)).scalars().all()
    assert stored == [sessions.token_hash(token)] and token not in stored


def test_an_unknown_token_opens_nothing(engine: sa.Engine, li: Identity) -> None:
    sessions.open_session(engine, li, T0)
    assert sessions.resume_session(engine, "not-a-token", EIGHT_HOURS, T0) is None


def test_activity_keeps_a_session_and_idleness_ends_it(engine: sa.Engine, li: Identity) -> None:
    token = sessions.open_session(engine, li, T0)
    later = T0 + dt.timedelta(hours=7, minutes=59)
    assert sessions.resume_session(engine, token, EIGHT_HOURS, later) == li  # touches last_seen
    assert row(engine, token).last_seen == later
    assert sessions.resume_session(engine, token, EIGHT_HOURS, later + dt.timedelta(hours=7)) == li
    idle = later + dt.timedelta(hours=7) + EIGHT_HOURS + dt.timedelta(seconds=1)
    assert sessions.resume_session(engine, token, EIGHT_HOURS, idle) is None
    assert row(engine, token).end_reason == "idle"
    assert sessions.resume_session(engine, token, EIGHT_HOURS, idle) is None  # ended stays ended


def test_last_seen_is_written_at_most_once_a_minute(engine: sa.Engine, li: Identity) -> None:
    token = sessions.open_session(engine, li, T0)
    sessions.resume_session(engine, token, EIGHT_HOURS, T0 + dt.timedelta(seconds=30))
    assert row(engine, token).last_seen == T0
    sessions.resume_session(engine, token, EIGHT_HOURS, T0 + dt.timedelta(seconds=61))
    assert row(engine, token).last_seen == T0 + dt.timedelta(seconds=61)


def test_sign_out_ends_that_session_only(engine: sa.Engine, li: Identity) -> None:
    first, second = sessions.open_session(engine, li, T0), sessions.open_session(engine, li, T0)
    assert sessions.end_session(engine, first, T0) == "li.si"
    assert sessions.end_session(engine, first, T0) is None  # already ended
    assert sessions.resume_session(engine, first, EIGHT_HOURS, T0) is None
    assert sessions.resume_session(engine, second, EIGHT_HOURS, T0) == li  # another browser stays in
    assert row(engine, first).end_reason == "logout"


@pytest.mark.parametrize(("change", "reason"), [
    (lambda engine: auth.disable_user(engine, "li.si"), "disabled"),
    (lambda engine: auth.set_password(engine, "li.si", "another long password"), "password"),
])
def test_disabling_or_a_new_password_ends_every_session(engine: sa.Engine, li: Identity, change, reason: str) -> None:
    tokens = [sessions.open_session(engine, li, T0) for _ in range(3)]
    assert sessions.open_sessions(engine, "li.si") == 3
    change(engine)
    assert sessions.open_sessions(engine, "li.si") == 0
    assert all(sessions.resume_session(engine, t, EIGHT_HOURS, T0) is None for t in tokens)
    assert {row(engine, t).end_reason for t in tokens} == {reason}


def test_a_user_disabled_behind_the_stores_back_is_refused_at_the_next_check(engine: sa.Engine, li: Identity) -> None:
    """Even a row edited directly (no end_sessions_statement) cannot keep a session alive."""
    token = sessions.open_session(engine, li, T0)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET disabled = TRUE WHERE username = 'li.si'"))
    assert sessions.resume_session(engine, token, EIGHT_HOURS, T0) is None
    assert row(engine, token).end_reason == "disabled"


def test_end_sessions_of_counts_what_it_ended(engine: sa.Engine, li: Identity) -> None:
    for _ in range(2):
        sessions.open_session(engine, li, T0)
    assert sessions.end_sessions_of(engine, "li.si", "disabled", T0) == 2
    assert sessions.end_sessions_of(engine, "li.si", "disabled", T0) == 0
