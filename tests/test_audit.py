"""The audit trail (data_access.identity.audit) on both engines, and its refusal to break the caller."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from data_access.identity import audit
from data_access.identity.audit import AuditAction
from data_access.identity.auth import Identity, Role
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import audit_log

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
CITY_USER = Identity("zhang", Role.CITY, "370100", "张三")
PROVINCE_USER = Identity("sheng", Role.PROVINCE, None, "省纪委")


@pytest.fixture
def log(engine: sa.Engine) -> sa.Engine:
    """The backend's database with an empty audit log (emptied again afterwards)."""
    _empty(engine)
    yield engine
    _empty(engine)


def _empty(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(audit_log.delete())


def test_actions_have_chinese_labels():
    assert {a.value: a.label for a in AuditAction} == {
        "login": "登录", "login_failed": "登录失败", "logout": "退出", "import": "导入", "download": "下载",
        "user_admin": "用户管理", "supervision": "督办", "hotline": "12388来电",
        "backup": "备份", "restore": "恢复", "document": "发文", "lockout": "登录暂停",
        "refused_request": "拒绝请求"}


def test_record_an_identity(log):
    assert audit.record(log, CITY_USER, AuditAction.DOWNLOAD, "overdue.xlsx from 超期 page, 120 rows", at=T0)
    row = audit.recent(log, 10).iloc[0]
    assert (row["at"], row["username"], row["role"], row["scope"], row["action"], row["detail"]) == (
        T0, "zhang", "city", "370100", "download", "overdue.xlsx from 超期 page, 120 rows")
    assert len(row["id"]) == 32 and int(row["id"], 16) >= 0


@pytest.mark.parametrize(("who", "scope", "expected"), [
    (PROVINCE_USER, None, ("sheng", "province", "")),
    (PROVINCE_USER, "370200", ("sheng", "province", "370200")),  # the scope asked for overrides
    ("nobody", None, ("nobody", None, "")),  # a failed login: a bare name, no role
    ("cli:root", "", ("cli:root", None, "")),
])
def test_who_and_scope(log, who, scope, expected):
    assert audit.record(log, who, "login_failed", "", scope=scope)
    row = audit.recent(log, 1).iloc[0]
    assert (row["username"], row["role"], row["scope"]) == expected
    assert row["action"] == "login_failed"


def test_every_action_can_be_recorded(log):
    for i, action in enumerate(AuditAction):
        assert audit.record(log, CITY_USER, action, action.value, at=T0 + dt.timedelta(seconds=i))
    assert audit.recent(log, 100)["action"].tolist() == [a.value for a in reversed(AuditAction)]


def test_detail_is_cut_and_kept_on_one_line(log):
    assert audit.record(log, CITY_USER, AuditAction.IMPORT, "a.csv\nb\r\tc" + "x" * 600)
    detail = audit.recent(log, 1).iloc[0]["detail"]
    assert len(detail) == audit.DETAIL_MAX == 500
    assert detail.startswith("a.csv b  c") and "\n" not in detail


def test_recent_is_newest_first_with_limit_and_since(log):
    for minute in range(5):
        audit.record(log, CITY_USER, AuditAction.DOWNLOAD, f"file {minute}", at=T0 + dt.timedelta(minutes=minute))
    frame = audit.recent(log, 3)
    assert list(frame.columns) == ["at", "username", "role", "scope", "action", "detail", "id"]
    assert frame["detail"].tolist() == ["file 4", "file 3", "file 2"]
    since = audit.recent(log, 100, since=T0 + dt.timedelta(minutes=3))
    assert since["detail"].tolist() == ["file 4", "file 3"]


def test_recent_on_an_empty_log(log):
    frame = audit.recent(log, 10)
    assert frame.empty and list(frame.columns) == list(audit.AUDIT_COLUMNS)


def test_unknown_action_is_logged_not_raised(log, caplog):
    with caplog.at_level(logging.ERROR, logger="data_access.identity.audit"):
        assert audit.record(log, CITY_USER, "delete_everything", "x") is False
    assert "unknown action" in caplog.text
    assert audit.recent(log, 10).empty


def test_missing_table_is_logged_not_raised(tmp_path, caplog):
    engine = make_engine(f"duckdb:///{tmp_path / 'throwaway.duckdb'}")
    try:
        init_database(engine)
        audit_log.drop(engine)
        with caplog.at_level(logging.ERROR, logger="data_access.identity.audit"):
            assert audit.record(engine, CITY_USER, AuditAction.LOGIN, "login page") is False
    finally:
        engine.dispose()
    assert "audit row not written: zhang login login page" in caplog.text
    assert caplog.records[-1].exc_info is not None  # the database error is in the log


def test_unreachable_database_is_logged_not_raised(caplog):
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with caplog.at_level(logging.ERROR, logger="data_access.identity.audit"):
            assert audit.record(engine, "nobody", AuditAction.LOGIN_FAILED, "login page") is False
    finally:
        engine.dispose()
    assert "audit row not written" in caplog.text


def test_display_names_name_every_account(engine: sa.Engine) -> None:
    """Where people read who did something (审计日志, 督办台账's 办理人 and 挂账人), they read the account's display name."""
    from data_access.identity.auth import add_user, disable_user, display_names

    add_user(engine, "sheng.gan", "Shandong-2024!", Role.PROVINCE, None, "省纪委信访室")
    add_user(engine, "demo-370200", "Shandong-2024!", Role.CITY, "370200")  # no display name given: the username
    disable_user(engine, "sheng.gan")  # a history still names who took a step
    assert display_names(engine) == {"sheng.gan": "省纪委信访室", "demo-370200": "demo-370200"}


def test_audit_page_names_people_and_regions() -> None:
    """The audit page's 用户 by display name and each region code of its 内容 with the region's name."""
    from data_access.reference.regions import default_regions_file, read_regions_file
    from pages.audit import content_label, user_label
    from ui.regions import RegionTree

    names = {"sheng.gan": "省纪委信访室"}
    assert [user_label(u, names) for u in ("sheng.gan", "gone", "cli:root", "system")] == [
        "省纪委信访室", "gone", "命令行（操作系统用户 root）", "系统"]
    regions = RegionTree(read_regions_file(default_regions_file()).set_index("code", drop=False))
    assert content_label("挂账 370826：件号 SD101-0000688 请按期办结", regions) == "挂账 微山县（370826）：件号 SD101-0000688 请按期办结"
    assert content_label("微山县（370826）与 370999、1370826", regions) == "微山县（370826）与 370999、1370826"
