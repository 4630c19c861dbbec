"""Sessions of local users (data_access.identity.sessions): a one-time handoff code becomes the cookie's token
once; the token opens its user's identity until sign-out, the idle timeout, a disabled user or a new
password; only hashes are stored. On both backends."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from data_access.identity import auth, sessions
from data_access.identity.auth import Identity, Role
from data_access.store.schema import user_sessions

T0 = dt.datetime(2026, 11, 2, 9, 0, 0)
EIGHT_HOURS = dt.timedelta(hours=8)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def li(engine: sa.Engine) -> Identity:
    return auth.add_user(engine, "li.si", PASSWORD, Role.CITY, "370800", display_name="李四")


def signed_in(engine: sa.Engine, who: Identity, at: dt.datetime = T0) -> tuple[str, str]:
    """(session id, cookie token) of a completed sign-in."""
    started = sessions.start_session(engine, who, at)
    token = sessions.bind_session(engine, started.handoff_code, at + dt.timedelta(seconds=1))
    assert token is not None
    return started.session_id, token


def row(engine: sa.Engine, session_id: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.select(user_sessions).where(user_sessions.c.id == session_id)).one()


def test_the_cookie_opens_its_users_identity_and_only_hashes_are_stored(engine: sa.Engine, li: Identity) -> None:
    started = sessions.start_session(engine, li, T0)
    token = sessions.bind_session(engine, started.handoff_code, T0)
    assert token is not None and len(token) >= 43 and token != started.handoff_code  # 32 random bytes
    resumed = sessions.resume_by_token(engine, token, EIGHT_HOURS, T0 + dt.timedelta(minutes=5))
    assert resumed == sessions.Resumed(started.session_id, li)
    with engine.connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(sa.select(user_sessions)).one())
    assert token not in stored and started.handoff_code not in stored and sessions.digest(token) in stored


def test_a_handoff_code_works_once_and_only_for_a_minute(engine: sa.Engine, li: Identity) -> None:
    started = sessions.start_session(engine, li, T0)
    assert sessions.bind_session(engine, started.handoff_code, T0 + dt.timedelta(seconds=61)) is None  # expired
    fresh = sessions.start_session(engine, li, T0)
    assert sessions.bind_session(engine, fresh.handoff_code, T0 + dt.timedelta(seconds=60)) is not None
    assert sessions.bind_session(engine, fresh.handoff_code, T0 + dt.timedelta(seconds=61)) is None  # spent
    assert sessions.bind_session(engine, "made-up", T0) is None


def test_an_unknown_token_opens_nothing(engine: sa.Engine, li: Identity) -> None:
    signed_in(engine, li)
    assert sessions.resume_by_token(engine, "not-a-token", EIGHT_HOURS, T0) is None


def test_activity_keeps_a_session_and_idleness_ends_it(engine: sa.Engine, li: Identity) -> None:
    session_id, token = signed_in(engine, li)
    later = T0 + dt.timedelta(hours=7, minutes=59)
    assert sessions.check_session(engine, session_id, EIGHT_HOURS, later) == li  # touches last_seen
    assert row(engine, session_id).last_seen == later
    assert sessions.resume_by_token(engine, token, EIGHT_HOURS, later + dt.timedelta(hours=7)) is not None
    idle = later + dt.timedelta(hours=7) + EIGHT_HOURS + dt.timedelta(seconds=1)
    assert sessions.resume_by_token(engine, token, EIGHT_HOURS, idle) is None
    assert row(engine, session_id).end_reason == "idle"
    assert sessions.check_session(engine, session_id, EIGHT_HOURS, idle) is None  # ended stays ended


def test_last_seen_is_written_at_most_once_a_minute(engine: sa.Engine, li: Identity) -> None:
    session_id, _ = signed_in(engine, li)
    seen = row(engine, session_id).last_seen
    sessions.check_session(engine, session_id, EIGHT_HOURS, seen + dt.timedelta(seconds=30))
    assert row(engine, session_id).last_seen == seen
    sessions.check_session(engine, session_id, EIGHT_HOURS, seen + dt.timedelta(seconds=61))
    assert row(engine, session_id).last_seen == seen + dt.timedelta(seconds=61)


def test_sign_out_ends_that_session_only(engine: sa.Engine, li: Identity) -> None:
    (first, first_token), (second, _) = signed_in(engine, li), signed_in(engine, li)
    assert sessions.end_session(engine, first, T0) is True
    assert sessions.end_session(engine, first, T0) is False  # already ended
    assert sessions.resume_by_token(engine, first_token, EIGHT_HOURS, T0) is None
    assert sessions.check_session(engine, second, EIGHT_HOURS, T0) == li  # another browser stays in
    assert row(engine, first).end_reason == "logout"


@pytest.mark.parametrize(("change", "reason"), [
    (lambda engine: auth.disable_user(engine, "li.si"), "disabled"),
    (lambda engine: auth.set_password(engine, "li.si", "another long password"), "password"),
])
def test_disabling_or_a_new_password_ends_every_session(engine: sa.Engine, li: Identity, change, reason: str) -> None:
    pairs = [signed_in(engine, li) for _ in range(3)]
    assert sessions.open_sessions(engine, "li.si") == 3
    change(engine)
    assert sessions.open_sessions(engine, "li.si") == 0
    assert all(sessions.resume_by_token(engine, token, EIGHT_HOURS, T0) is None for _, token in pairs)
    assert {row(engine, session_id).end_reason for session_id, _ in pairs} == {reason}


def test_a_user_disabled_behind_the_stores_back_is_refused_at_the_next_check(engine: sa.Engine, li: Identity) -> None:
    """Even a row edited directly (no end_sessions_statement) cannot keep a session alive."""
    session_id, _ = signed_in(engine, li)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET disabled = TRUE WHERE username = 'li.si'"))
    assert sessions.check_session(engine, session_id, EIGHT_HOURS, T0) is None
    assert row(engine, session_id).end_reason == "disabled"


TWELVE_HOURS = sessions.lifetime_of(12)


def test_a_session_ends_at_its_lifetime_however_active(engine: sa.Engine, li: Identity) -> None:
    """The absolute lifetime (session_lifetime_hours) counts from the sign-in: a user active every hour is
    still signed out after it, by the tab's check and by the cookie alike; ended as expired."""
    session_id, token = signed_in(engine, li)
    for hour in range(1, 12):
        assert sessions.check_session(engine, session_id, EIGHT_HOURS, T0 + dt.timedelta(hours=hour),
                                      lifetime=TWELVE_HOURS) == li
    assert sessions.resume_by_token(engine, token, EIGHT_HOURS, T0 + dt.timedelta(hours=12),
                                    lifetime=TWELVE_HOURS) is not None
    late = T0 + dt.timedelta(hours=12, seconds=1)
    assert sessions.resume_by_token(engine, token, EIGHT_HOURS, late, lifetime=TWELVE_HOURS) is None
    assert row(engine, session_id).end_reason == "expired"
    assert sessions.check_session(engine, session_id, EIGHT_HOURS, late) is None  # ended stays ended


def test_the_lifetime_is_a_sign_in_setting_of_twelve_hours(tmp_path) -> None:
    from data_access.store.config import SettingsError

    assert auth.SignInSettings().session_lifetime_hours == 12
    path = tmp_path / "settings.toml"
    path.write_text("[sign_in]\nsession_lifetime_hours = 4\n", encoding="utf-8")
    assert auth.load_sign_in_settings(path).session_lifetime_hours == 4
    path.write_text("[sign_in]\nsession_lifetime_hours = 0.5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="session_lifetime_hours"):
        auth.load_sign_in_settings(path)
