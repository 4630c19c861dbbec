"""Local users and sign-in (data_access.identity.auth) and `python -m data_access user ...`, on both engines.

Hashing uses a cheap argon2id hasher here (auth.PASSWORD_HASHER replaced); the production default
is checked separately against argon2-cffi's own defaults.
"""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from data_access.cli import main
from data_access.identity import audit, auth
from data_access.identity.auth import SIGN_IN_REFUSED, AuthFailure, Brake, Identity, Role, SignInSettings, UserRejected
from data_access.store.schema import audit_log, sign_in_events, users

REPO_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_HASHER = auth.PASSWORD_HASHER  # captured at import, before any fixture replaces it
PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
PROVINCE, JINAN, LIXIA, QINGDAO = "370000", "370100", "370102", "370200"  # Shandong; Lixia is in Jinan
HERE, THERE = "10.0.0.5", "10.0.0.9"  # two client addresses
LIMIT = SignInSettings().account_client_failures


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(auth, "PASSWORD_HASHER", cheap_hasher())


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    """The backend's database with no users and no audit rows (emptied again afterwards)."""
    _empty_auth_tables(engine)
    yield engine
    _empty_auth_tables(engine)


def _empty_auth_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(users.delete())
        conn.execute(audit_log.delete())
        conn.execute(sign_in_events.delete())


def stored_hash(engine: sa.Engine, name: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.password_hash).where(users.c.username == name)).scalar_one()


def add_city_user(engine: sa.Engine, name: str = "zhang") -> Identity:
    return auth.add_user(engine, name, PASSWORD, Role.CITY, JINAN, display_name="张三")


def fail(engine: sa.Engine, name: str, times: int, now: dt.datetime, client: str = HERE) -> list[AuthFailure]:
    """`times` wrong passwords from `client`, a second apart from `now` on."""
    return [auth.authenticate(engine, name, "wrong password!", client=client, now=now + dt.timedelta(seconds=i)).reason
            for i in range(times)]


# --- roles -----------------------------------------------------------------------------------

def test_roles_have_chinese_labels_and_levels():
    assert [(r.value, r.label, r.level.value) for r in Role] == [
        ("province", "省级", "province"), ("city", "市级", "city"), ("county", "县级", "county")]


def test_identity_is_frozen_and_hashable():
    a = Identity("zhang", Role.CITY, JINAN, "张三")
    assert {a: 1}[Identity("zhang", Role.CITY, JINAN, "张三")] == 1
    assert hash(a) != hash(Identity("zhang", Role.CITY, QINGDAO, "张三"))
    with pytest.raises(AttributeError):
        a.region_code = QINGDAO


# --- managing users --------------------------------------------------------------------------

def test_add_and_list(store):
    assert not auth.any_user_exists(store)
    who = add_city_user(store, "Zhang")
    auth.add_user(store, "sheng", PASSWORD, "province", None)
    auth.add_user(store, "lixia", PASSWORD, Role.COUNTY, LIXIA)
    assert who == Identity("zhang", Role.CITY, JINAN, "张三")  # names are stored lower-case
    assert auth.any_user_exists(store)

    listed = auth.list_users(store, now=T0)
    assert list(listed["username"]) == ["lixia", "sheng", "zhang"]
    assert "password_hash" not in listed.columns
    assert not listed.astype(str).apply(lambda col: col.str.contains("argon2")).any().any()
    row = listed.set_index("username").loc["zhang"]
    assert (row["role"], row["region_code"], row["region_name"], row["display_name"]) == ("city", JINAN, "济南市", "张三")
    assert not row["disabled"] and not row["locked"] and row["locked_until"] is None
    assert listed.set_index("username").loc["sheng", "region_code"] is None


def test_disable_and_enable(store):
    add_city_user(store)
    auth.disable_user(store, "zhang")
    assert auth.list_users(store)["disabled"].tolist() == [True]
    assert auth.authenticate(store, "zhang", PASSWORD).reason is AuthFailure.DISABLED
    assert auth.get_identity(store, "zhang") is None
    auth.enable_user(store, "ZHANG")
    assert auth.authenticate(store, "zhang", PASSWORD).ok
    assert auth.get_identity(store, "zhang") == Identity("zhang", Role.CITY, JINAN, "张三")


@pytest.mark.parametrize("change", [auth.disable_user, auth.enable_user,
                                    lambda e, n: auth.set_password(e, n, "another long one")])
def test_changing_an_unknown_user_is_refused(store, change):
    with pytest.raises(UserRejected, match="no such user"):
        change(store, "nobody")


def test_duplicate_user_refused_case_insensitively(store):
    add_city_user(store)
    with pytest.raises(UserRejected, match="用户已存在.*already exists"):
        auth.add_user(store, " ZHANG ", PASSWORD, Role.CITY, QINGDAO)


@pytest.mark.parametrize("name", ["", "   ", "has space", "张三", "-leading", "x" * 65])
def test_bad_user_names_refused(store, name):
    with pytest.raises(UserRejected):
        auth.add_user(store, name, PASSWORD, Role.CITY, JINAN)


@pytest.mark.parametrize("password", ["", "short", "123456789", " " * 9])
def test_weak_password_refused(store, password):
    with pytest.raises(UserRejected, match="至少需要 10 个字符.*at least 10 characters"):
        auth.add_user(store, "zhang", password, Role.CITY, JINAN)
    add_city_user(store)
    with pytest.raises(UserRejected):
        auth.set_password(store, "zhang", password)
    assert auth.authenticate(store, "zhang", PASSWORD).ok  # the old password still stands


def test_ten_characters_are_enough(store):
    auth.add_user(store, "zhang", "0123456789", Role.CITY, JINAN)
    assert auth.authenticate(store, "zhang", "0123456789").ok


@pytest.mark.parametrize(("role", "region", "words"), [
    (Role.CITY, LIXIA, ["县级", "市级", "county", "city"]),
    (Role.CITY, PROVINCE, ["省级", "province"]),
    (Role.COUNTY, JINAN, ["市级", "县级", "city", "county"]),
    (Role.PROVINCE, JINAN, ["市级", "city"]),
    (Role.PROVINCE, LIXIA, ["县级", "county"]),
    (Role.CITY, None, ["必须指定地区", "needs a region"]),
    (Role.COUNTY, "  ", ["必须指定地区", "needs a region"]),
    (Role.CITY, "999900", ["地区代码不存在", "unknown region code: 999900"]),
    (Role.COUNTY, "abc", ["地区代码不存在", "unknown region code"]),
])
def test_region_must_fit_the_role(store, role, region, words):
    with pytest.raises(UserRejected) as info:
        auth.add_user(store, "zhang", PASSWORD, role, region)
    for word in words:
        assert word in str(info.value)
    assert not auth.any_user_exists(store)
    assert not auth.region_fits_role(store, role, region)


@pytest.mark.parametrize(("role", "region", "stored"), [
    (Role.PROVINCE, None, None), (Role.PROVINCE, PROVINCE, PROVINCE),
    (Role.CITY, QINGDAO, QINGDAO), (Role.COUNTY, f" {LIXIA} ", LIXIA)])
def test_region_fitting_the_role_accepted(store, role, region, stored):
    assert auth.add_user(store, "zhang", PASSWORD, role, region).region_code == stored
    assert auth.region_fits_role(store, role, region)


def test_unknown_role_refused(store):
    with pytest.raises(UserRejected, match="unknown role"):
        auth.add_user(store, "zhang", PASSWORD, "mayor", JINAN)


# --- hashes ----------------------------------------------------------------------------------

def test_hashes_are_salted_argon2id(store):
    add_city_user(store, "a")
    add_city_user(store, "b")
    first, second = stored_hash(store, "a"), stored_hash(store, "b")
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert PASSWORD not in first
    assert first != second  # same password, different salt


def test_production_hasher_is_argon2_cffi_default():
    default = PasswordHasher()
    params = ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len", "type")
    assert [getattr(PRODUCTION_HASHER, p) for p in params] == [getattr(default, p) for p in params]
    assert PRODUCTION_HASHER.type.name == "ID"


def test_rehash_on_success_when_parameters_changed(store, monkeypatch):
    add_city_user(store)
    old = stored_hash(store, "zhang")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(auth, "PASSWORD_HASHER", stronger)
    assert not auth.authenticate(store, "zhang", "wrong password!").ok
    assert stored_hash(store, "zhang") == old  # a failure never rehashes
    assert auth.authenticate(store, "zhang", PASSWORD).ok
    new = stored_hash(store, "zhang")
    assert new != old and "m=16,t=2,p=1" in new and not stronger.check_needs_rehash(new)
    assert auth.authenticate(store, "zhang", PASSWORD).ok
    assert stored_hash(store, "zhang") == new  # up to date: left alone


def test_set_password(store):
    add_city_user(store)
    auth.set_password(store, "zhang", "a brand new secret")
    assert not auth.authenticate(store, "zhang", PASSWORD).ok
    assert auth.authenticate(store, "zhang", "a brand new secret").ok


# --- signing in ------------------------------------------------------------------------------

def test_right_password(store):
    add_city_user(store)
    result = auth.authenticate(store, " Zhang", PASSWORD)
    assert result.ok and result.reason is None and result.message == ""
    assert result.identity == Identity("zhang", Role.CITY, JINAN, "张三")


def test_wrong_password(store):
    add_city_user(store)
    result = auth.authenticate(store, "zhang", PASSWORD + "x")
    assert not result.ok and result.identity is None
    assert result.reason is AuthFailure.WRONG_CREDENTIALS
    assert result.message == SIGN_IN_REFUSED


def test_unknown_user_answered_like_a_wrong_password(store, monkeypatch):
    add_city_user(store)
    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(auth, "PASSWORD_HASHER", CountingHasher(time_cost=1, memory_cost=8, parallelism=1))
    unknown = auth.authenticate(store, "nobody", PASSWORD)
    wrong = auth.authenticate(store, "zhang", "wrong password!")
    assert unknown == wrong
    assert (unknown.reason, unknown.message) == (AuthFailure.WRONG_CREDENTIALS, SIGN_IN_REFUSED)
    assert len(calls) == 2 and calls[0].startswith("$argon2id$")  # the unknown user cost a verification too
    assert auth.authenticate(store, "", PASSWORD).reason is AuthFailure.WRONG_CREDENTIALS


def test_disabled_user_refused_even_with_the_right_password_and_told_nothing_more(store):
    add_city_user(store)
    auth.disable_user(store, "zhang")
    right = auth.authenticate(store, "zhang", PASSWORD)
    assert (right.ok, right.reason, right.identity) == (False, AuthFailure.DISABLED, None)  # the audit log's reason
    wrong = auth.authenticate(store, "zhang", "wrong password!")
    assert wrong.reason is AuthFailure.WRONG_CREDENTIALS
    assert right.message == wrong.message == SIGN_IN_REFUSED  # the form does not confirm the password


def test_lock_out_of_one_address_after_five_failures_then_doubling(store):
    add_city_user(store)
    assert fail(store, "zhang", LIMIT - 1, T0) == [AuthFailure.WRONG_CREDENTIALS] * (LIMIT - 1)
    fifth = auth.authenticate(store, "zhang", "wrong password!", client=HERE, now=T0 + dt.timedelta(seconds=10))
    assert fifth.reason is AuthFailure.WRONG_CREDENTIALS and fifth.message == SIGN_IN_REFUSED
    (lockout,) = fifth.lockouts
    assert (lockout.brake, lockout.username, lockout.client, lockout.failures, lockout.level, lockout.minutes) == (
        Brake.ACCOUNT_CLIENT, "zhang", HERE, LIMIT, 0, 1.0)
    assert lockout.until == fifth.locked_until == T0 + dt.timedelta(seconds=70)
    assert lockout.detail == (f"账户 zhang 自地址 {HERE} 连续登录失败 5 次：暂停该地址登录该账户 1 分钟，"
                              "至 2026-03-02 09:01:10（连续第 1 次暂停）")

    held = auth.authenticate(store, "zhang", PASSWORD, client=HERE, now=T0 + dt.timedelta(seconds=69))
    assert (held.ok, held.reason, held.message) == (False, AuthFailure.LOCKED, SIGN_IN_REFUSED)  # even the right one
    assert auth.authenticate(store, "zhang", PASSWORD, client=THERE, now=T0 + dt.timedelta(seconds=69)).ok  # elsewhere

    after = T0 + dt.timedelta(seconds=70)
    fail(store, "zhang", LIMIT, after)  # five more, after the first lock-out: twice as long
    second = auth.authenticate(store, "zhang", PASSWORD, client=HERE, now=after + dt.timedelta(seconds=10))
    assert second.reason is AuthFailure.LOCKED and second.locked_until == after + dt.timedelta(seconds=4, minutes=2)


def test_back_off_is_capped_and_forgotten_after_a_quiet_day(store):
    add_city_user(store)
    settings = SignInSettings(lockout_minutes=1, max_lockout_minutes=5)
    now, minutes = T0, []
    for _ in range(5):
        for _ in range(LIMIT):
            result = auth.authenticate(store, "zhang", "wrong!", client=HERE, settings=settings, now=now)
            now += dt.timedelta(seconds=1)
        minutes.append(result.lockouts[0].minutes)
        now = result.locked_until
    assert minutes == [1, 2, 4, 5, 5]
    now += auth.BACKOFF_MEMORY + dt.timedelta(seconds=1)
    for _ in range(LIMIT):
        result = auth.authenticate(store, "zhang", "wrong!", client=HERE, settings=settings, now=now)
        now += dt.timedelta(seconds=1)
    assert (result.lockouts[0].level, result.lockouts[0].minutes) == (0, 1)


def test_attempts_while_held_back_are_not_counted(store):
    add_city_user(store)
    fail(store, "zhang", LIMIT, T0)
    fail(store, "zhang", 20, T0 + dt.timedelta(seconds=10))  # all refused unchecked: the lock-out does not grow
    assert auth.authenticate(store, "zhang", PASSWORD, client=HERE, now=T0 + dt.timedelta(minutes=1, seconds=5)).ok


def test_success_resets_the_account_counts(store):
    add_city_user(store)
    fail(store, "zhang", LIMIT - 1, T0)
    assert auth.authenticate(store, "zhang", PASSWORD, client=HERE, now=T0 + dt.timedelta(seconds=30)).ok
    later = T0 + dt.timedelta(minutes=1)
    assert fail(store, "zhang", LIMIT - 1, later) == [AuthFailure.WRONG_CREDENTIALS] * (LIMIT - 1)
    assert auth.authenticate(store, "zhang", PASSWORD, client=HERE, now=later + dt.timedelta(seconds=30)).ok


@pytest.mark.parametrize(("unlock", "password"), [
    (auth.enable_user, PASSWORD),
    (lambda e, n: auth.set_password(e, n, "a brand new secret"), "a brand new secret")])
def test_admin_can_clear_a_lock(store, unlock, password):
    add_city_user(store)
    fail(store, "zhang", LIMIT, T0)
    unlock(store, "zhang")
    assert auth.authenticate(store, "zhang", password, client=HERE, now=T0 + dt.timedelta(seconds=10)).ok


def test_timezone_aware_now_is_accepted(store):
    add_city_user(store)
    assert auth.authenticate(store, "zhang", PASSWORD, now=dt.datetime.now(dt.UTC)).ok


# --- OIDC claims -----------------------------------------------------------------------------

DEFAULT_MAPPING = {"role_claim": "role", "region_claim": "region_code"}


@pytest.mark.parametrize(("claims", "mapping", "expected"), [
    ({"email": "a@jw.gov.cn", "name": "甲", "role": "city", "region_code": JINAN}, DEFAULT_MAPPING,
     Identity("a@jw.gov.cn", Role.CITY, JINAN, "甲")),
    ({"sub": "u-1", "role": "Province"}, {}, Identity("u-1", Role.PROVINCE, None, "u-1")),
    ({"sub": "u-1", "role": "省级", "region_code": PROVINCE}, {}, Identity("u-1", Role.PROVINCE, PROVINCE, "u-1")),
    ({"sub": "u-2", "jw_role": "县级", "jw_region": int(LIXIA)}, {"role_claim": "jw_role", "region_claim": "jw_region"},
     Identity("u-2", Role.COUNTY, LIXIA, "u-2")),
    ({"preferred_username": "wang", "groups": ["staff", "jw-city"], "region_code": QINGDAO},
     {"role_claim": "groups", "username_claim": "preferred_username", "role_values": {"JW-City": "city"}},
     Identity("wang", Role.CITY, QINGDAO, "wang")),
])
def test_identity_from_claims(claims, mapping, expected):
    assert auth.identity_from_claims(claims, mapping) == expected


@pytest.mark.parametrize(("claims", "mapping"), [
    ({"sub": "u", "region_code": JINAN}, {}),  # no role
    ({"sub": "u", "role": "mayor", "region_code": JINAN}, {}),  # unknown role
    ({"sub": "u", "role": "", "region_code": JINAN}, {}),
    ({"sub": "u", "role": ["city", "province"], "region_code": JINAN}, {}),  # ambiguous
    ({"sub": "u", "role": "city"}, {}),  # city without a region
    ({"sub": "u", "role": "county", "region_code": "lixia"}, {}),  # malformed region
    ({"role": "province"}, {}),  # no user name at all
    ({"sub": "u", "role": "city", "region_code": JINAN}, {"role_claim": "jw_role"}),  # role elsewhere
    ({"sub": "u", "role": {"name": "city"}, "region_code": JINAN}, {}),
])
def test_claims_without_a_usable_role_give_no_access(claims, mapping):
    assert auth.identity_from_claims(claims, mapping) is None


# --- command line ----------------------------------------------------------------------------

@pytest.fixture
def db_url(store) -> str:
    return store.url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)


def run_cli(monkeypatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def admin_rows(engine: sa.Engine) -> list[str]:
    frame = audit.recent(engine, 100)
    assert set(frame["action"]) <= {"user_admin"}
    return list(reversed(frame["detail"].tolist()))


def test_cli_user_lifecycle_with_audit(store, db_url, monkeypatch, capsys):
    db = ["--db", db_url]
    assert run_cli(monkeypatch, ["user", "add", "Zhang", "--role", "city", "--region", JINAN,
                                 "--display-name", "张三", "--password-stdin", *db], PASSWORD + "\n") == 0
    assert auth.authenticate(store, "zhang", PASSWORD).ok  # the newline is not part of the password
    assert run_cli(monkeypatch, ["user", "add", "sheng", "--role", "province", "--password-stdin", *db], PASSWORD) == 0
    assert run_cli(monkeypatch, ["user", "disable", "zhang", *db]) == 0
    assert auth.authenticate(store, "zhang", PASSWORD).reason is AuthFailure.DISABLED
    assert run_cli(monkeypatch, ["user", "enable", "zhang", *db]) == 0
    assert run_cli(monkeypatch, ["user", "passwd", "zhang", "--password-stdin", *db], "a brand new secret\r\n") == 0
    assert auth.authenticate(store, "zhang", "a brand new secret").ok
    capsys.readouterr()

    assert run_cli(monkeypatch, ["user", "list", *db]) == 0
    out = capsys.readouterr().out
    for word in ("username", "role", "region", "disabled", "locked", "created", "zhang", "370100 济南市",
                 "sheng", "全省"):
        assert word in out
    assert "argon2" not in out

    assert admin_rows(store) == [f"user add zhang role=city region={JINAN}", "user add sheng role=province region=-",
                                 "user disable zhang", "user enable zhang", "user passwd zhang"]
    rows = audit.recent(store, 100)
    assert rows["username"].str.startswith("cli").all() and rows["scope"].eq("").all()


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (["user", "add", "zhang", "--role", "city", "--region", "999900", "--password-stdin"], PASSWORD, "unknown region"),
    (["user", "add", "zhang", "--role", "city", "--region", LIXIA, "--password-stdin"], PASSWORD, "needs a city"),
    (["user", "add", "zhang", "--role", "county", "--password-stdin"], PASSWORD, "needs a region"),
    (["user", "add", "zhang", "--role", "city", "--region", JINAN, "--password-stdin"], "short\n", "at least 10"),
    (["user", "add", "zhang", "--role", "city", "--region", JINAN, "--password-stdin"], "", "at least 10"),
    (["user", "disable", "nobody"], "", "no such user"),
    (["user", "enable", "nobody"], "", "no such user"),
    (["user", "passwd", "nobody", "--password-stdin"], PASSWORD, "no such user"),
    (["user", "passwd", "existing", "--password-stdin"], "short", "at least 10"),
    (["user", "add", "existing", "--role", "city", "--region", JINAN, "--password-stdin"], PASSWORD, "already exists"),
])
def test_cli_bad_data_exits_1_and_writes_nothing(store, db_url, monkeypatch, capsys, argv, stdin, message):
    auth.add_user(store, "existing", PASSWORD, Role.CITY, JINAN)
    before = auth.list_users(store)
    assert run_cli(monkeypatch, [*argv, "--db", db_url], stdin) == 1
    assert message in capsys.readouterr().err
    assert auth.list_users(store).equals(before)
    assert auth.authenticate(store, "existing", PASSWORD).ok
    assert audit.recent(store, 10).empty


@pytest.mark.parametrize("argv", [
    ["user"],
    ["user", "add", "zhang", "--region", JINAN],  # no role
    ["user", "add", "zhang", "--role", "mayor", "--region", JINAN],
    ["user", "remove", "zhang"],
    ["user", "disable"],
])
def test_cli_bad_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_cli_without_a_terminal_needs_password_stdin(store, db_url, monkeypatch, capsys):
    argv = ["user", "add", "zhang", "--role", "city", "--region", JINAN, "--db", db_url]
    assert run_cli(monkeypatch, argv, PASSWORD) == 2
    assert "--password-stdin" in capsys.readouterr().err
    assert not auth.any_user_exists(store)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "code"), [([PASSWORD, PASSWORD], 0), ([PASSWORD, PASSWORD + "!"], 1)])
def test_cli_prompts_twice_on_a_terminal(store, db_url, monkeypatch, capsys, typed, code):
    answers = iter(typed)
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["user", "add", "zhang", "--role", "city", "--region", JINAN, "--db", db_url]) == code
    assert auth.any_user_exists(store) is (code == 0)
    if code:
        assert "differ" in capsys.readouterr().err


def test_cli_list_of_no_users(store, db_url, monkeypatch, capsys):
    assert run_cli(monkeypatch, ["user", "list", "--db", db_url]) == 0
    assert "no users" in capsys.readouterr().out


def test_cli_creates_the_user_tables_if_missing(tmp_path, monkeypatch, capsys):
    url = f"duckdb:///{tmp_path / 'fresh.duckdb'}"
    assert run_cli(monkeypatch, ["user", "list", "--db", url]) == 0
    assert run_cli(monkeypatch, ["user", "add", "zhang", "--role", "city", "--region", JINAN, "--password-stdin",
                                 "--db", url], PASSWORD) == 1  # no regions loaded yet
    assert "python -m data_access init" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "words"), [
    (["--help"], ["user", "init", "import", "demo"]),
    (["user", "--help"], ["add", "disable", "enable", "passwd", "list", "Exit status"]),
    (["user", "add", "--help"], ["--role", "--region", "--display-name", "--password-stdin", "--db"]),
    (["user", "passwd", "--help"], ["--password-stdin"]),
])
def test_cli_help(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for word in words:
        assert word in out


def test_module_entry_point_user_help():
    proc = subprocess.run([sys.executable, "-m", "data_access", "user", "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "passwd" in proc.stdout
