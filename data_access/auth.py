"""Who may sign in and what they may see: roles, region scopes, the local user store, OIDC claims.

Passwords are hashed with argon2id through argon2-cffi's PasswordHasher (salted, never hand-rolled).
Times are naive local datetimes, like the rest of the database.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .changes import note_change
from .config import read_settings_file, section, setting
from .enums import LabelledEnum, Level
from .schema import audit_log, data_changes, regions, user_sessions, users

USER_CHANGE = "user_admin"  # what a user change notes in data_changes

# Brute-force protection and password rules.
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10

# argon2-cffi's defaults (argon2id). Tests replace this with a cheaper hasher; functions read it
# at call time, so replacing the module attribute is enough.
PASSWORD_HASHER: PasswordHasher = PasswordHasher()

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
DISPLAY_NAME_MAX = 64


@dataclass(frozen=True)
class SignInSettings:
    """The [sign_in] section of the settings file."""

    idle_timeout_hours: float = setting(8.0, "无操作自动退出登录", "小时", 0.25, 72)


def load_sign_in_settings(path: Path | None = None) -> SignInSettings:
    """The [sign_in] section of the settings file in force (SettingsError when a value is not allowed)."""
    return section(read_settings_file(path), "sign_in", SignInSettings, path)


class Role(LabelledEnum):
    """What a signed-in user may see: the whole province, one city's subtree, or one county."""

    PROVINCE = ("province", "省级")
    CITY = ("city", "市级")
    COUNTY = ("county", "县级")

    @property
    def level(self) -> Level:
        """The region level the role's region_code must have."""
        return Level(self.value)


class AuthFailure(LabelledEnum):
    """Why a sign-in was refused (the label is the reason as the audit log shows it)."""

    WRONG_CREDENTIALS = ("wrong_credentials", "用户名或密码错误")
    LOCKED = ("locked", "账户已锁定")
    DISABLED = ("disabled", "账户已停用")

    @property
    def message(self) -> str:
        """What the sign-in form says."""
        return AUTH_FAILURE_MESSAGES[self]


AUTH_FAILURE_MESSAGES = {
    # one message for unknown users and wrong passwords: the form must not reveal who exists
    AuthFailure.WRONG_CREDENTIALS: "用户名或密码错误。",
    AuthFailure.LOCKED: f"连续登录失败次数过多，账户已临时锁定，请 {int(LOCKOUT.total_seconds() // 60)} 分钟后再试。",
    AuthFailure.DISABLED: "该账户已停用，请联系管理员。",
}


@dataclass(frozen=True)
class Identity:
    """A signed-in user; hashable, so it can be part of a cache key."""

    username: str
    role: Role
    region_code: str | None  # None only for a province user: the whole province
    display_name: str


class OutOfScope(PermissionError):
    """A write the actor's region does not cover (a city user importing cases for the province)."""


def require_whole_province(actor: Identity | str, what: str) -> None:
    """Refuse `what` unless the actor is a province user (or the command line, a bare name): a write
    over the whole case table, checked here and not only by the pages that offer it."""
    if isinstance(actor, Identity) and (actor.role is not Role.PROVINCE or actor.region_code is not None):
        raise OutOfScope(f"{actor.display_name or actor.username}无权{what}：仅省级用户可以操作。")


@dataclass(frozen=True)
class AuthResult:
    """The outcome of authenticate(): ok with the identity, or the reason it was refused."""

    ok: bool
    reason: AuthFailure | None = None
    identity: Identity | None = None
    locked_until: dt.datetime | None = None

    @property
    def message(self) -> str:
        """The Chinese message for the sign-in form ('' on success)."""
        return self.reason.message if self.reason else ""


class UserRejected(ValueError):
    """A user-store change refused for bad data (unknown region, weak password, duplicate user...)."""

    def __init__(self, message_zh: str, message_en: str):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en


# ---------------------------------------------------------------------------------------------
# Managing users


def add_user(engine: sa.Engine, username: str, password: str, role: Role | str, region_code: str | None,
             display_name: str | None = None) -> Identity:
    """Create a local user; raise UserRejected on a bad name, weak password, unfit region or duplicate."""
    name = _checked_username(username)
    role = _checked_role(role)
    check_password(password)
    display = (display_name or name).strip()[:DISPLAY_NAME_MAX] or name
    with engine.begin() as conn:
        region_code = _checked_region(conn, role, region_code)
        if _user_row(conn, name) is not None:
            raise UserRejected(f"用户已存在：{name}", f"user already exists: {name}")
        try:
            conn.execute(users.insert().values(
                username=name, display_name=display, role=role.value, region_code=region_code,
                password_hash=PASSWORD_HASHER.hash(password), disabled=False,
                created_at=dt.datetime.now().replace(microsecond=0), failed_attempts=0, locked_until=None))
        except sa.exc.IntegrityError:  # added by someone else in the meantime
            raise UserRejected(f"用户已存在：{name}", f"user already exists: {name}") from None
        note_change(conn, USER_CHANGE)
    return Identity(name, role, region_code, display)


def disable_user(engine: sa.Engine, username: str) -> None:
    """Refuse every further sign-in of the user and end their sessions (their rows and audit trail stay)."""
    _update_user(engine, username, ending_sessions="disabled", disabled=True)


def enable_user(engine: sa.Engine, username: str) -> None:
    """Allow the user to sign in again, clearing any lock-out."""
    _update_user(engine, username, disabled=False, failed_attempts=0, locked_until=None)


def set_password(engine: sa.Engine, username: str, password: str) -> None:
    """Replace the user's password (checked against the rules), clearing any lock-out."""
    check_password(password)
    _update_user(engine, username, ending_sessions="password", password_hash=PASSWORD_HASHER.hash(password),
                 failed_attempts=0, locked_until=None)


def list_users(engine: sa.Engine, now: dt.datetime | None = None) -> pd.DataFrame:
    """Every user without password hashes: username, display_name, role, region_code, region_name,
    disabled, locked, locked_until, failed_attempts, created_at; sorted by username."""
    now = _naive(now)
    stmt = (sa.select(users.c.username, users.c.display_name, users.c.role, users.c.region_code,
                      regions.c.name.label("region_name"), users.c.disabled, users.c.locked_until,
                      users.c.failed_attempts, users.c.created_at)
            .select_from(users.outerjoin(regions, regions.c.code == users.c.region_code))
            .order_by(users.c.username))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame["disabled"] = frame["disabled"].astype(bool)
    for column in ("region_code", "region_name", "locked_until"):  # missing values as None, not NaN/NaT
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame.insert(6, "locked", [until is not None and until > now for until in frame["locked_until"]])
    return frame


def any_user_exists(engine: sa.Engine) -> bool:
    """True when the local user store holds at least one user (disabled ones included).

    A database error propagates: the caller must not fall back to running without login.
    """
    if not sa.inspect(engine).has_table(users.name):
        return False
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.username).limit(1)).first() is not None


def ensure_auth_tables(engine: sa.Engine) -> None:
    """Create the users, audit_log and data_changes tables (and an empty regions table) if missing; never
    touches rows.

    Unlike ensure_initialized() this never reloads the region tree, so it is safe on a database
    initialised with another province's regions.
    """
    users.metadata.create_all(engine, tables=[regions, users, user_sessions, audit_log, data_changes])


def check_password(password: str) -> None:
    """Raise UserRejected unless the password follows the rules (at least MIN_PASSWORD_LENGTH characters)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise UserRejected(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符",
                           f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def region_fits_role(engine: sa.Engine, role: Role, region_code: str | None) -> bool:
    """True when region_code exists in the regions table at the role's level (None: province only)."""
    try:
        with engine.connect() as conn:
            _checked_region(conn, role, region_code)
    except UserRejected:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Signing in


def authenticate(engine: sa.Engine, username: str, password: str, now: dt.datetime | None = None) -> AuthResult:
    """Check a local user's password, with lock-out after MAX_FAILED_ATTEMPTS consecutive failures.

    Unknown users get the same answer as a wrong password, after verifying against a dummy hash so
    that the time taken is comparable. A locked or disabled account is refused even with the right password.
    """
    now = _naive(now)
    name = _normal_username(username)
    with engine.connect() as conn:
        row = _user_row(conn, name) if name else None
    if row is None:
        _verify(_dummy_hash(), password)
        return AuthResult(ok=False, reason=AuthFailure.WRONG_CREDENTIALS)
    if row.locked_until is not None and row.locked_until > now:
        _verify(_dummy_hash(), password)
        return AuthResult(ok=False, reason=AuthFailure.LOCKED, locked_until=row.locked_until)
    if not _verify(row.password_hash, password):
        locked_until = _count_failure(engine, name, now)
        if locked_until is not None:
            return AuthResult(ok=False, reason=AuthFailure.LOCKED, locked_until=locked_until)
        return AuthResult(ok=False, reason=AuthFailure.WRONG_CREDENTIALS)
    if row.disabled:
        return AuthResult(ok=False, reason=AuthFailure.DISABLED)
    _record_success(engine, name, row.password_hash, password)
    return AuthResult(ok=True, identity=_identity(row))


def get_identity(engine: sa.Engine, username: str) -> Identity | None:
    """The identity of an enabled local user, or None (unknown or disabled): for re-checking a session."""
    with engine.connect() as conn:
        row = _user_row(conn, _normal_username(username))
    if row is None or row.disabled:
        return None
    return _identity(row)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    """A hash made with the current hasher's parameters, for unknown users to be checked against."""
    global _dummy
    if _dummy is None or _dummy[0] is not PASSWORD_HASHER:
        _dummy = (PASSWORD_HASHER, PASSWORD_HASHER.hash(secrets.token_hex(16)))
    return _dummy[1]


def _count_failure(engine: sa.Engine, name: str, now: dt.datetime) -> dt.datetime | None:
    """Add one failure in a single UPDATE (safe against concurrent attempts); the lock end if it locked."""
    until = now + LOCKOUT
    reached = users.c.failed_attempts + 1 >= MAX_FAILED_ATTEMPTS
    with engine.begin() as conn:
        # the count restarts once the lock is set, so after the lock ends there are again 5 tries. MySQL
        # assigns left to right, a later SET reading the new values of earlier ones: the lock goes first.
        conn.execute(users.update().where(users.c.username == name).ordered_values(
            (users.c.locked_until, sa.case((reached, sa.literal(until, sa.DateTime)), else_=users.c.locked_until)),
            (users.c.failed_attempts, sa.case((reached, 0), else_=users.c.failed_attempts + 1))))
        locked_until = conn.execute(sa.select(users.c.locked_until).where(users.c.username == name)).scalar_one()
    return locked_until if locked_until is not None and locked_until > now else None


def _record_success(engine: sa.Engine, name: str, password_hash: str, password: str) -> None:
    values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if PASSWORD_HASHER.check_needs_rehash(password_hash):
        values["password_hash"] = PASSWORD_HASHER.hash(password)
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == name).values(**values))


# ---------------------------------------------------------------------------------------------
# OIDC (Streamlit's st.login / st.user): claims to an identity

DEFAULT_CLAIM_MAPPING: dict[str, Any] = {
    "role_claim": "role",  # claim holding the role (a string, or a list such as a groups claim)
    "region_claim": "region_code",  # claim holding the 6-digit region code
    "username_claim": "email",  # falls back to "sub" when absent
    "display_name_claim": "name",
    "role_values": {},  # extra claim values -> role, e.g. {"jw-city-admins": "city"}
}


def identity_from_claims(claims: Mapping[str, Any], mapping: Mapping[str, Any] | None = None) -> Identity | None:
    """The identity an OIDC login maps to, or None (no access) when the role or region is missing or unknown.

    `mapping` (from secrets) overrides DEFAULT_CLAIM_MAPPING key by key. The region is only checked
    for form here; check it against the regions table with region_fits_role() before granting access.
    """
    conf = {**DEFAULT_CLAIM_MAPPING, **dict(mapping or {})}
    role = _role_from_claim(claims.get(conf["role_claim"]), conf.get("role_values") or {})
    username = _claim_text(claims.get(conf["username_claim"])) or _claim_text(claims.get("sub"))
    if role is None or not username:
        return None
    region = _claim_text(claims.get(conf["region_claim"])) or None
    if region is not None and not (len(region) == 6 and region.isdigit()):
        return None
    if region is None and role is not Role.PROVINCE:
        return None
    display = _claim_text(claims.get(conf["display_name_claim"])) or username
    return Identity(username=username, role=role, region_code=region, display_name=display[:DISPLAY_NAME_MAX])


def _role_from_claim(value: object, role_values: Mapping[str, Any]) -> Role | None:
    """One role from a string or list claim; None when there is none or more than one."""
    values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
    aliases = {r.value: r for r in Role} | {r.label: r for r in Role}
    extra = {str(k).strip().lower(): str(v).strip().lower() for k, v in dict(role_values).items()}
    found = set()
    for item in values:
        text = _claim_text(item).lower()
        text = extra.get(text, text)
        if text in aliases:
            found.add(aliases[text])
    return found.pop() if len(found) == 1 else None


def _claim_text(value: object) -> str:
    if value is None or isinstance(value, (dict, list, tuple, set, bool)):
        return ""
    return str(value).strip()


# ---------------------------------------------------------------------------------------------
# Helpers


def _normal_username(username: str) -> str:
    """User names are compared case-insensitively, stored lower-case."""
    return username.strip().lower() if isinstance(username, str) else ""


def _checked_username(username: str) -> str:
    name = _normal_username(username)
    if not USERNAME_PATTERN.fullmatch(name):
        raise UserRejected("用户名须为 1–64 个字符，仅含字母、数字及 . _ @ -，且以字母或数字开头",
                           "user names are 1-64 characters: letters, digits, . _ @ -, starting with a letter or digit")
    return name


def _checked_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserRejected(f"未知角色：{role}（应为 province/city/county）",
                           f"unknown role: {role} (expected province, city or county)") from None


def _checked_region(conn: sa.Connection, role: Role, region_code: str | None) -> str | None:
    """The region code if it exists at the role's level; None stays None for a province user."""
    code = (region_code or "").strip() or None
    if code is None:
        if role is Role.PROVINCE:
            return None
        raise UserRejected(f"{role.label}用户必须指定地区代码", f"a {role.value} user needs a region code")
    row = None
    if sa.inspect(conn).has_table(regions.name):
        row = conn.execute(sa.select(regions.c.name, regions.c.level).where(regions.c.code == code)).first()
    if row is None:
        raise UserRejected(f"地区代码不存在：{code}（如尚未初始化，请先运行 python -m data_access init）",
                           f"unknown region code: {code} (run `python -m data_access init` first if needed)")
    if row.level != role.level.value:
        raise UserRejected(
            f"地区 {code}（{row.name}）是{Role(row.level).label}地区，与角色「{role.label}」不符",
            f"region {code} is a {row.level}, but role {role.value} needs a {role.level.value}")
    return code


def _user_row(conn: sa.Connection, name: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(users).where(users.c.username == name)).first()


def _update_user(engine: sa.Engine, username: str, ending_sessions: str | None = None, **values: Any) -> None:
    """Change the user's row; with `ending_sessions` (the reason), end their open sessions in the same
    transaction."""
    name = _normal_username(username)
    with engine.begin() as conn:
        if conn.execute(users.update().where(users.c.username == name).values(**values)).rowcount == 0:
            raise UserRejected(f"用户不存在：{name}", f"no such user: {name}")
        if ending_sessions is not None:
            conn.execute(end_sessions_statement(name, ending_sessions, _naive(None)))
        note_change(conn, USER_CHANGE)


def end_sessions_statement(username: str, reason: str, now: dt.datetime) -> sa.Update:
    """End every open session of a user (an UPDATE, to run in the caller's transaction)."""
    s = user_sessions.c
    return (user_sessions.update().where(s.username == username, s.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))


def _identity(row: sa.Row[Any]) -> Identity:
    return Identity(username=row.username, role=Role(row.role), region_code=row.region_code,
                    display_name=row.display_name)


def _naive(now: dt.datetime | None) -> dt.datetime:
    """Now, or the given time as a naive local datetime (how the database stores times)."""
    if now is None:
        return dt.datetime.now()
    return now.astimezone().replace(tzinfo=None) if now.tzinfo else now
