"""审计日志: who signed in, failed to, imported and downloaded what, when and in which scope (province only)."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from data_access.audit import AuditAction, recent
from ui import runtime
from ui.downloads import download_buttons
from ui.guard import guarded
from ui.tables import show_table

LIMIT = 5000
HEADERS = {"at": "时间", "username": "用户", "role": "角色", "scope": "范围", "action": "操作", "detail": "内容"}

st.title("审计日志")
st.caption("登录、登录失败、退出、导入和每一次下载都记录在此（谁、何时、权限范围、做了什么）。仅省级用户可见。")
days = st.segmented_control("时间范围", (7, 30, 90, 365), default=30, format_func=lambda d: f"近 {d} 天",
                            key="audit_days") or 30
with guarded("审计日志"):
    since = dt.datetime.now() - dt.timedelta(days=days)
    rows = recent(runtime.engine(), LIMIT, since=since)
    if rows.empty:
        st.info("所选时间范围内没有审计记录。")
    else:
        labels = {a.value: a.label for a in AuditAction}
        shown = rows[list(HEADERS)].assign(action=rows["action"].map(lambda a: labels.get(a, a)))
        shown = shown.rename(columns=HEADERS)
        st.caption(f"共 {len(shown):,} 条（最多显示最近 {LIMIT:,} 条）")
        show_table(shown, hide_index=True, width="stretch", height=560)
        download_buttons(shown, f"审计日志_近{days}天", key="audit")
