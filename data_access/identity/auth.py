"""Who may sign in and what they may see: roles, region scopes, the local user store, OIDC claims.

Passwords are hashed with argon2id through argon2-cffi's PasswordHasher (salted, never hand-rolled).
Times are naive local datetimes, like the rest of the database.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, assert_never

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from data_access.reference.enums import LabelledEnum, Level
from data_access.store.changes import note_change
from data_access.store.config import SettingsError, read_settings_file, section, setting
from data_access.store.engine import result_frame
from data_access.store.schema import audit_log, data_changes, regions, sign_in_events, user_sessions, users

USER_CHANGE = "user_admin"  # what a user change notes in data_changes

MIN_PASSWORD_LENGTH = 10

# argon2-cffi's defaults (argon2id). Tests replace this with a cheaper hasher; functions read it
# at call time, so replacing the module attribute is enough.
PASSWORD_HASHER: PasswordHasher = PasswordHasher()

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
DISPLAY_NAME_MAX = 64


@dataclass(frozen=True)
class SignInSettings:
    """The [sign_in] section of the settings file: the idle timeout and the brakes on password guessing
    (see "Signing in" below)."""

    idle_timeout_hours: float = setting(8.0, "无操作自动退出登录", "小时", 0.25, 72)
    session_lifetime_hours: float = setting(12.0, "登录后最长有效时间（无论是否操作，到时须重新登录）", "小时", 1, 168)
    account_client_failures: int = setting(5, "同一地址登录同一账户连续失败几次后，暂停该地址登录该账户", "次", 3, 50)
    client_failures: int = setting(30, "同一地址一小时内登录失败几次后，暂停该地址登录任何账户", "次", 5, 1000)
    account_failures: int = setting(20, "同一账户在各地址连续登录失败几次后，暂停近期未成功登录过的地址登录该账户",
                                    "次", 5, 1000)
    lockout_minutes: float = setting(1.0, "首次暂停时长，此后每次加倍", "分钟", 0.1, 60)
    max_lockout_minutes: float = setting(60.0, "暂停时长上限", "分钟", 1, 1440)
    known_client_days: int = setting(30, "账户在多少天内成功登录过的地址，不受该账户的暂停影响", "天", 0, 365)

    def __post_init__(self) -> None:
        if self.max_lockout_minutes < self.lockout_minutes:
            raise SettingsError(f"max_lockout_minutes（暂停时长上限）= {self.max_lockout_minutes} 不应小于 lockout_minutes"
                                f"（首次暂停时长）= {self.lockout_minutes} / the cap must not be below the first lock-out")


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
    """Why a sign-in was refused, as the audit log records it (the form says SIGN_IN_REFUSED to every one)."""

    WRONG_CREDENTIALS = ("wrong_credentials", "用户名或密码错误")
    LOCKED = ("locked", "登录暂停中（失败次数过多）")
    DISABLED = ("disabled", "账户已停用")

    @property
    def message(self) -> str:
        """What the sign-in form says: the same for every reason."""
        return SIGN_IN_REFUSED


# One answer for an unknown user, a wrong password, a lock-out and a disabled account: the form tells nobody
# which accounts exist, which are disabled, or that a password guessed during a lock-out was right.
SIGN_IN_REFUSED = "登录失败：用户名或密码错误，或尝试次数过多暂时不能登录。请核对后稍后再试；如仍无法登录，请联系管理员。"


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


class Brake(LabelledEnum):
    """What a lock-out holds back (the label says it in the audit log)."""

    ACCOUNT_CLIENT = ("account_client", "该地址登录该账户")
    CLIENT = ("client", "该地址登录任何账户")
    ACCOUNT = ("account", "近期未成功登录过的地址登录该账户")


class SignInEvent(LabelledEnum):
    """A row of sign_in_events."""

    FAILURE = ("failure", "登录失败")
    SUCCESS = ("success", "登录成功")
    LOCKOUT = ("lockout", "登录暂停")


@dataclass(frozen=True)
class Lockout:
    """A lock-out an attempt set: which brake, on which account and/or address, until when."""

    brake: Brake
    username: str  # '' for an address
    client: str  # '' for an account from every address
    failures: int
    level: int  # the step of the back-off: 0 for the first lock-out in a row
    minutes: float
    until: dt.datetime

    @property
    def detail(self) -> str:
        """The audit log's sentence."""
        what = {Brake.ACCOUNT_CLIENT: f"账户 {self.username} 自地址 {self.client} 连续登录失败 {self.failures} 次",
                Brake.CLIENT: f"地址 {self.client} 一小时内登录失败 {self.failures} 次",
                Brake.ACCOUNT: f"账户 {self.username} 在各地址连续登录失败 {self.failures} 次"}[self.brake]
        return (f"{what}：暂停{self.brake.label} {self.minutes:g} 分钟，至 {self.until:%Y-%m-%d %H:%M:%S}"
                f"（连续第 {self.level + 1} 次暂停）")


@dataclass(frozen=True)
class AuthResult:
    """The outcome of authenticate(): ok with the identity, or the reason it was refused (for the audit log), the
    end of the lock-out that held it back, and the lock-outs this attempt set."""

    ok: bool
    reason: AuthFailure | None = None
    identity: Identity | None = None
    locked_until: dt.datetime | None = None
    lockouts: tuple[Lockout, ...] = ()

    @property
    def message(self) -> str:
        """The Chinese message for the sign-in form ('' on success), the same for every refusal."""
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
    """Allow the user to sign in again, clearing the account's lock-outs and failures (an address's stay)."""
    _update_user(engine, username, clearing_lockouts=True, disabled=False)


def set_password(engine: sa.Engine, username: str, password: str) -> None:
    """Replace the user's password (checked against the rules), clearing the account's lock-outs and failures."""
    check_password(password)
    _update_user(engine, username, ending_sessions="password", clearing_lockouts=True,
                 password_hash=PASSWORD_HASHER.hash(password))


def list_users(engine: sa.Engine, now: dt.datetime | None = None) -> pd.DataFrame:
    """Every user without password hashes: username, display_name, role, region_code, region_name,
    disabled, locked, locked_until (held back from every address but those it signed in from lately, see
    "Signing in"), created_at; sorted by username."""
    stmt = (sa.select(users.c.username, users.c.display_name, users.c.role, users.c.region_code,
                      regions.c.name.label("region_name"), users.c.disabled, users.c.created_at)
            .select_from(users.outerjoin(regions, regions.c.code == users.c.region_code))
            .order_by(users.c.username))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = result_frame(result)
    frame["disabled"] = frame["disabled"].astype(bool)
    for column in ("region_code", "region_name"):  # missing values as None, not NaN
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    locked = locked_accounts(engine, now)
    frame.insert(6, "locked", [name in locked for name in frame["username"]])
    frame.insert(7, "locked_until", pd.Series([locked.get(name) for name in frame["username"]], dtype=object))
    return frame


def display_names(engine: sa.Engine) -> dict[str, str]:
    """Every account's display name by username (disabled accounts too: a history still names who took a step);
    empty before the users table exists."""
    if not sa.inspect(engine).has_table(users.name):
        return {}
    with engine.connect() as conn:
        return {str(u): str(d) for u, d in conn.execute(sa.select(users.c.username, users.c.display_name))}


def any_user_exists(engine: sa.Engine) -> bool:
    """True when the local user store holds at least one user (disabled ones included).

    A database error propagates: the caller must not fall back to running without login.
    """
    if not sa.inspect(engine).has_table(users.name):
        return False
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.username).limit(1)).first() is not None


def ensure_auth_tables(engine: sa.Engine) -> None:
    """Create the users, sign_in_events, audit_log and data_changes tables (and an empty regions table) if missing;
    never touches rows.

    Unlike ensure_initialized() this never reloads the region tree, so it is safe on a database
    initialised with another province's regions.
    """
    users.metadata.create_all(engine, tables=[regions, users, user_sessions, sign_in_events, audit_log, data_changes])


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
#
# Three brakes on guessing, each counting the failed sign-ins of its own key; at its limit the key is held back
# for a while that doubles with each lock-out in a row (back-off: 1, 2, 4 ... minutes up to a cap, settings):
# - ACCOUNT_CLIENT, an account from one client address: one machine guessing is stopped after a few tries, and
#   the owner at another machine is not affected;
# - CLIENT, an address whatever the account (within CLIENT_WINDOW): one machine trying many accounts;
# - ACCOUNT, an account from every address: guessing spread over many machines. It holds back only addresses
#   the account has not signed in from within known_client_days, so nobody can lock the owner out of the
#   machine they use.
# An attempt while one of its keys is held back is refused without looking at the password and is not counted
# (hammering does not lengthen a lock-out). A right password resets the account's counts, not the address's
# (a user cannot clear their machine's brake by signing in to their own account). A key whose last lock-out
# ended more than BACKOFF_MEMORY ago starts again from the first step. Unknown user names are counted like
# existing ones, so the brakes behave alike for both and reveal nothing either.

LOCAL_CLIENT = "127.0.0.1"  # loopback, and the address of a caller that does not know it
CLIENT_WINDOW = dt.timedelta(hours=1)  # the CLIENT brake counts the failures of the last hour
ACCOUNT_WINDOW = dt.timedelta(hours=24)  # the others count back to the last success, at most this far
BACKOFF_MEMORY = dt.timedelta(hours=24)
_E = sign_in_events.c


def authenticate(engine: sa.Engine, username: str, password: str, *, client: str | None = None,
                 settings: SignInSettings | None = None, now: dt.datetime | None = None) -> AuthResult:
    """Check a local user's password from the client address `client`, behind the brakes above.

    Unknown users get the same answer as a wrong password, after verifying against a dummy hash so that the
    time taken is comparable; a held-back attempt, and a disabled account even with the right password, too.
    The caller records the attempt and the lock-outs it set (result.lockouts) in the audit log."""
    now, settings = _naive(now), settings or SignInSettings()
    name, client = _normal_username(username)[:64], _client_key(client)
    with engine.connect() as conn:
        row = _user_row(conn, name) if name else None
        held = _held_until(conn, name, client, settings, now)
    if held is not None:
        _verify(_dummy_hash(), password)
        return AuthResult(ok=False, reason=AuthFailure.LOCKED, locked_until=held)
    right = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    if right and row is not None and not row.disabled:
        _record_success(engine, name, row.password_hash, password, client, settings, now)
        return AuthResult(ok=True, identity=_identity(row))
    lockouts = _count_failure(engine, name, client, settings, now)
    reason = AuthFailure.DISABLED if right else AuthFailure.WRONG_CREDENTIALS
    return AuthResult(ok=False, reason=reason, lockouts=lockouts,
                      locked_until=max((lockout.until for lockout in lockouts), default=None))


def locked_accounts(engine: sa.Engine, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """The accounts held back from every address but those they signed in from lately, with the end of the lock-out."""
    stmt = (sa.select(_E.username, sa.func.max(_E.locked_until))
            .where(_E.kind == SignInEvent.LOCKOUT.value, _E.client == "", _E.locked_until > _naive(now))
            .group_by(_E.username))
    with engine.connect() as conn:
        return {row.username: row[1] for row in conn.execute(stmt)}


def _client_key(client: str | None) -> str:
    return (client or "").strip()[:64] or LOCAL_CLIENT


def _key(brake: Brake, name: str, client: str) -> tuple[str, str]:
    """(username, client) of the brake's lock-out rows."""
    match brake:
        case Brake.ACCOUNT_CLIENT:
            return name, client
        case Brake.CLIENT:
            return "", client
        case Brake.ACCOUNT:
            return name, ""
        case _:
            assert_never(brake)


def _brakes(name: str) -> tuple[Brake, ...]:
    return (Brake.ACCOUNT_CLIENT, Brake.CLIENT, Brake.ACCOUNT) if name else (Brake.CLIENT,)


def _held_until(conn: sa.Connection, name: str, client: str, settings: SignInSettings,
                now: dt.datetime) -> dt.datetime | None:
    """The end of the latest lock-out holding this attempt back, None when none does."""
    brakes = [b for b in _brakes(name) if b is not Brake.ACCOUNT or not _known_client(conn, name, client, settings, now)]
    keys = [sa.and_(_E.username == u, _E.client == c) for u, c in (_key(b, name, client) for b in brakes)]
    held: dt.datetime | None = conn.execute(sa.select(sa.func.max(_E.locked_until)).where(
        _E.kind == SignInEvent.LOCKOUT.value, _E.locked_until > now, sa.or_(*keys))).scalar()
    return held


def _known_client(conn: sa.Connection, name: str, client: str, settings: SignInSettings, now: dt.datetime) -> bool:
    """Whether the account signed in from this address within known_client_days."""
    if not settings.known_client_days:
        return False
    since = now - dt.timedelta(days=settings.known_client_days)
    return conn.execute(sa.select(_E.id).where(_E.kind == SignInEvent.SUCCESS.value, _E.username == name,
                                               _E.client == client, _E.at > since).limit(1)).first() is not None


def _count_failure(engine: sa.Engine, name: str, client: str, settings: SignInSettings,
                   now: dt.datetime) -> tuple[Lockout, ...]:
    """Record one failure; the lock-outs it brings about, recorded too."""
    with engine.begin() as conn:
        conn.execute(_event(SignInEvent.FAILURE, name, client, now))
        lockouts = tuple(lockout for brake in _brakes(name)
                         if (lockout := _lockout_due(conn, brake, name, client, settings, now)) is not None)
        for lockout in lockouts:
            conn.execute(_event(SignInEvent.LOCKOUT, lockout.username, lockout.client, now).values(
                locked_until=lockout.until, level=lockout.level))
    return lockouts


def _lockout_due(conn: sa.Connection, brake: Brake, name: str, client: str, settings: SignInSettings,
                 now: dt.datetime) -> Lockout | None:
    """The lock-out the brake sets now, if the failures it counts have reached its limit."""
    username, key_client = _key(brake, name, client)
    last = conn.execute(sa.select(_E.at, _E.locked_until, _E.level).where(
        _E.kind == SignInEvent.LOCKOUT.value, _E.username == username, _E.client == key_client)
        .order_by(_E.at.desc()).limit(1)).first()
    starts = [now - (CLIENT_WINDOW if brake is Brake.CLIENT else ACCOUNT_WINDOW)] + ([last.at] if last else [])
    counted = _E.client == client if brake is Brake.CLIENT else _E.username == name
    if brake is not Brake.CLIENT:  # a right password resets the account's counts
        success = _E.client == client if brake is Brake.ACCOUNT_CLIENT else sa.true()
        starts.append(conn.execute(sa.select(sa.func.max(_E.at)).where(
            _E.kind == SignInEvent.SUCCESS.value, _E.username == name, success)).scalar() or starts[0])
        counted = sa.and_(counted, _E.client == client) if brake is Brake.ACCOUNT_CLIENT else counted
    failures = conn.execute(sa.select(sa.func.count()).select_from(sign_in_events).where(
        _E.kind == SignInEvent.FAILURE.value, counted, _E.at > max(starts))).scalar_one()
    limit = {Brake.ACCOUNT_CLIENT: settings.account_client_failures, Brake.CLIENT: settings.client_failures,
             Brake.ACCOUNT: settings.account_failures}[brake]
    if failures < limit:
        return None
    level = last.level + 1 if last is not None and last.locked_until > now - BACKOFF_MEMORY else 0
    minutes = min(settings.lockout_minutes * 2 ** min(level, 30), settings.max_lockout_minutes)
    return Lockout(brake, username, key_client, failures, level, minutes, now + dt.timedelta(minutes=minutes))


def _record_success(engine: sa.Engine, name: str, password_hash: str, password: str, client: str,
                    settings: SignInSettings, now: dt.datetime) -> None:
    """Record the success (it resets the account's counts and makes the address known), rehash the password when the
    hasher's parameters changed, and prune the events no brake looks at any more."""
    values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if PASSWORD_HASHER.check_needs_rehash(password_hash):
        values["password_hash"] = PASSWORD_HASHER.hash(password)
    # the brakes look back over a window, a lock-out and the back-off memory; the known addresses over their days
    kept = max(dt.timedelta(days=settings.known_client_days),
               ACCOUNT_WINDOW + dt.timedelta(minutes=settings.max_lockout_minutes) + BACKOFF_MEMORY)
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == name).values(**values))
        conn.execute(_event(SignInEvent.SUCCESS, name, client, now))
        conn.execute(sign_in_events.delete().where(_E.at < now - kept))


def _event(kind: SignInEvent, username: str, client: str, now: dt.datetime) -> sa.Insert:
    return sign_in_events.insert().values(id=uuid.uuid4().hex, at=now, kind=kind.value, username=username, client=client)


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


def _update_user(engine: sa.Engine, username: str, ending_sessions: str | None = None, clearing_lockouts: bool = False,
                 **values: Any) -> None:
    """Change the user's row; with `ending_sessions` (the reason), end their open sessions, and with
    `clearing_lockouts` forget the account's failures and lock-outs (by any address), in the same transaction."""
    name = _normal_username(username)
    with engine.begin() as conn:
        if conn.execute(users.update().where(users.c.username == name).values(**values)).rowcount == 0:
            raise UserRejected(f"用户不存在：{name}", f"no such user: {name}")
        if ending_sessions is not None:
            conn.execute(end_sessions_statement(name, ending_sessions, _naive(None)))
        if clearing_lockouts:
            conn.execute(sign_in_events.delete().where(_E.username == name, _E.kind != SignInEvent.SUCCESS.value))
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
