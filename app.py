"""信访举报督导看板: router and frame — page config, sign-in, navigation, the shared sidebar, banners."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from data_access.auth import Role
from ui import access, runtime
from ui.guard import DB_ERRORS, database_down, guarded
from ui.regions import tree
from ui.scoped import ScopedData
from ui.style import inject_style
from ui.view import render_sidebar

APP_TITLE = "信访举报督导看板"

st.set_page_config(page_title=APP_TITLE, page_icon="📊", layout="wide", initial_sidebar_state="expanded")
inject_style()

OVERVIEW_TITLES = {Role.PROVINCE: "全省总览", Role.CITY: "全市总览", Role.COUNTY: "全县总览"}
SUPERVISION = [
    st.Page("app_pages/drilldown.py", title="地区下钻", icon=":material/account_tree:", url_path="drilldown"),
    st.Page("app_pages/priority.py", title="重点督导县", icon=":material/flag:", url_path="priority"),
    st.Page("app_pages/overdue.py", title="超期督办", icon=":material/schedule:", url_path="overdue"),
    st.Page("app_pages/satisfaction.py", title="满意度", icon=":material/sentiment_satisfied:", url_path="satisfaction"),
    st.Page("app_pages/weekly.py", title="周例会", icon=":material/groups:", url_path="weekly"),
]
DEFINITIONS = st.Page("app_pages/definitions.py", title="指标口径", icon=":material/menu_book:", url_path="definitions")
PROVINCE_ONLY = [  # data import and the audit trail: province supervisors only
    st.Page("app_pages/data.py", title="数据", icon=":material/database:", url_path="data"),
    st.Page("app_pages/audit.py", title="审计日志", icon=":material/policy:", url_path="audit"),
]


def pages_for(role: Role) -> dict[str, list]:
    """The navigation a role may use."""
    overview = st.Page("app_pages/overview.py", title=OVERVIEW_TITLES[role], icon=":material/map:",
                       url_path="overview", default=True)
    about = [DEFINITIONS, *PROVINCE_ONLY] if role is Role.PROVINCE else [DEFINITIONS]
    return {"督导": [overview, *SUPERVISION], "说明与数据": about}


try:
    runtime.fill_demo_on_first_start()
    version = runtime.refresh_data_version()
    identity = access.gate()
    navigation = st.navigation(pages_for(identity.role))
    scope = access.scope_of(identity)
    # the count and span the sidebar shows are the viewer's; the default as-of date is the data's
    coverage = ScopedData(runtime.database_url(), version, scope).coverage()
    anchor = min(dt.date.today(), runtime.latest_received(runtime.database_url(), version) or dt.date.today())
    view = render_sidebar(anchor, tree().province, navigation.url_path, scope)
except DB_ERRORS:
    database_down()
    st.stop()

access.user_box(identity)
st.sidebar.caption(f"数据范围：{coverage.first_received or '—'} 至 {coverage.last_received or '—'}，共 {coverage.cases:,} 件")
if identity == access.OPEN_IDENTITY:
    st.warning("演示模式，未启用登录：任何能打开本页的人都能看到全部数据。启用登录见 README。", icon=":material/lock_open:")
if runtime.demo_loaded(runtime.database_url(), version):
    st.warning("演示数据：当前显示的是系统生成的模拟数据，不是真实信访举报数据。", icon=":material/warning:")
if coverage.cases == 0 and scope.is_whole_province:
    st.info("数据库中还没有案件数据。请在“数据”页上传，或用命令 python -m data_access import 导入。")
elif coverage.cases == 0:
    st.info("本地区在数据库中还没有案件数据。")

with guarded("本页内容"):  # pages without guarded sections of their own: a message and 重试, never a traceback
    navigation.run()
