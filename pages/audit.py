"""审计日志: who signed in, failed to, imported and downloaded what, when and in which scope (province only)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from data_access.identity.audit import PROGRAM_ACTOR, AuditAction
from data_access.identity.auth import Role
from pages import hand_over
from ui.downloads import download_buttons
from ui.guard import guarded
from ui.regions import RegionTree, tree
from ui.scoped import ScopedData
from ui.tables import show_table
from ui.view import View

LIMIT = 5000
ACTION_LABELS = {a.value: a.label for a in AuditAction}


def action_label(action: str) -> str:
    """操作 in Chinese (an unknown stored value as it is)."""
    return ACTION_LABELS.get(action, action)


def user_label(username: str, names: Mapping[str, str]) -> str:
    """用户: the account's display name (the username of an account no longer stored); the command line and
    programs said in Chinese."""
    if username.startswith("cli:") or username == "cli":
        return f"命令行（操作系统用户 {username[4:] or '未知'}）"
    return {PROGRAM_ACTOR: "程序调用", "system": "系统"}.get(username) or names.get(username, username)


REGION_CODE = re.compile(r"(?<![0-9A-Za-z（])(\d{6})(?![0-9）])")


def content_label(detail: str, regions: RegionTree) -> str:
    """内容 as a reader says it: each region code (370826) with its name, 微山县（370826）; a code already named and
    other six-digit numbers stay as they are."""
    return REGION_CODE.sub(lambda m: f"{regions.name(m[1])}（{m[1]}）" if regions.exists(m[1]) else m[1], str(detail))


def role_label(role: str | None) -> str:
    """角色 in Chinese: 省级 / 市级 / 县级 users; command line and failed sign-ins have none."""
    if role is None or role != role or role == "":
        return "—"
    try:
        return Role(role).label
    except ValueError:
        return str(role)


def scope_label(code: str | None, regions: RegionTree) -> str:
    """范围 as a reader says it: the region's name with its code, 全省 for the whole province."""
    if not code or code != code:
        return "全省"
    return f"{regions.name(code)}（{code}）" if regions.exists(code) else str(code)


def sign_in_trouble(rows: pd.DataFrame) -> str:
    """'，其中登录失败 N 条、登录暂停 M 条' when there were any ('' otherwise): guessing shows at a glance."""
    counts = rows["action"].value_counts()
    parts = [f"{a.label} {int(counts[a.value]):,} 条" for a in (AuditAction.LOGIN_FAILED, AuditAction.LOCKOUT)
             if counts.get(a.value, 0)]
    return f"，其中{'、'.join(parts)}" if parts else ""


HEADERS = {"at": "时间", "username": "用户", "role": "角色", "scope": "范围", "action": "操作", "detail": "内容"}


def render(view: View, data: ScopedData) -> None:
    """The audit rows of the chosen span, newest first, in Chinese; with downloads (the view does not apply)."""
    st.title("审计日志")
    st.caption("登录、登录失败、登录暂停（失败次数过多，暂停某地址或某账户登录一段时间）、退出、导入和每一次下载都记录在此"
               "（谁、何时、权限范围、做了什么）。仅省级用户可见。")
    days = st.segmented_control("时间范围", (7, 30, 90, 365), default=30, format_func=lambda d: f"近 {d} 天",
                                key="audit_days") or 30
    regions = tree()
    with guarded("审计日志"):
        since = dt.datetime.now() - dt.timedelta(days=days)
        rows = data.audit_rows(LIMIT, since)
        names = data.display_names()
        if rows.empty:
            st.info("所选时间范围内没有审计记录。")
            return
        shown = rows[list(HEADERS)].assign(action=rows["action"].map(action_label), role=rows["role"].map(role_label),
                                           username=rows["username"].map(lambda u: user_label(u, names)),
                                           detail=rows["detail"].map(lambda d: content_label(d, regions)),
                                           scope=rows["scope"].map(lambda code: scope_label(code, regions)))
        shown = shown.rename(columns=HEADERS)
        st.caption(f"共 {len(shown):,} 条（最多显示最近 {LIMIT:,} 条）" + sign_in_trouble(rows))
        show_table(shown, hide_index=True, width="stretch", height=560)
        download_buttons(shown, f"审计日志_近{days}天", key="audit")


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
