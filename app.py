"""信访举报督导看板: router and frame — page config, navigation, the shared sidebar and banners."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from ui import runtime
from ui.regions import tree
from ui.style import inject_style
from ui.view import render_sidebar

APP_TITLE = "信访举报督导看板"

st.set_page_config(page_title=APP_TITLE, page_icon="📊", layout="wide", initial_sidebar_state="expanded")
inject_style()

PAGES = {
    "督导": [
        st.Page("app_pages/overview.py", title="全省总览", icon=":material/map:", url_path="overview", default=True),
        st.Page("app_pages/drilldown.py", title="地区下钻", icon=":material/account_tree:", url_path="drilldown"),
        st.Page("app_pages/priority.py", title="重点督导县", icon=":material/flag:", url_path="priority"),
        st.Page("app_pages/overdue.py", title="超期督办", icon=":material/schedule:", url_path="overdue"),
        st.Page("app_pages/satisfaction.py", title="满意度", icon=":material/sentiment_satisfied:", url_path="satisfaction"),
        st.Page("app_pages/weekly.py", title="周例会", icon=":material/groups:", url_path="weekly"),
    ],
    "说明与数据": [
        st.Page("app_pages/definitions.py", title="指标口径", icon=":material/menu_book:", url_path="definitions"),
        st.Page("app_pages/data.py", title="数据", icon=":material/database:", url_path="data"),
    ],
}

navigation = st.navigation(PAGES)
runtime.fill_demo_on_first_start()
version = runtime.data_version()
coverage = runtime.coverage(runtime.database_url(), version)
anchor = min(dt.date.today(), coverage.last_received or dt.date.today())
view = render_sidebar(anchor, tree().province, navigation.url_path)

st.sidebar.caption(f"数据范围：{coverage.first_received or '—'} 至 {coverage.last_received or '—'}，共 {coverage.cases:,} 件")
if runtime.demo_loaded(runtime.database_url(), version):
    st.warning("演示数据：当前显示的是系统生成的模拟数据，不是真实信访举报数据。", icon=":material/warning:")
if coverage.cases == 0:
    st.info("数据库中还没有案件数据。请在“数据”页上传，或用命令 python -m data_access import 导入。")

navigation.run()
