"""信访举报督导看板: router and frame — page config, sign-in, navigation, the shared sidebar, banners.

The pages are the `render(view, data)` functions of the modules in pages/; each st.Page below calls
one with the view the sidebar made and the data access of this viewer. A page file that Streamlit
runs by itself (a fresh server's first deep link) hands over to this file: see pages/__init__.py.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from data_access.identity.auth import Role
from data_access.store.config import SettingsError
from data_access.store.database import DemoShare
from metrics.summary import Staleness
from pages import (
    analysis,
    audit,
    data,
    definitions,
    dossier,
    drilldown,
    hotline,
    ledger,
    matters,
    overdue,
    overview,
    priority,
    report,
    satisfaction,
    weekly,
)
from ui import access, runtime
from ui.case_search import DOSSIER_URL_PATH, search_box
from ui.guard import DB_ERRORS, database_down, guarded
from ui.navigation import DRILLDOWN_URL_PATH, LEDGER_URL_PATH
from ui.regions import tree
from ui.scoped import ScopedData, scoped
from ui.style import inject_style
from ui.view import View, current_view, render_sidebar

APP_TITLE = "信访举报督导看板"

st.set_page_config(page_title=APP_TITLE, page_icon="📊", layout="wide", initial_sidebar_state="expanded")
inject_style()


def page(render: Callable[[View, ScopedData], None], title: str, icon: str, url_path: str,
         default: bool = False, listed: bool = True) -> st.Page:
    """An st.Page drawing `render` with this run's view and data. st.navigation needs the pages before
    the sidebar can make the view, so the view (and the data, limited to its scope) is fetched when
    navigation.run() calls the page. An unlisted page is left out of the menu, reached by a link or a widget."""
    return st.Page(lambda: render(current_view(), scoped()), title=title, icon=icon, url_path=url_path,
                   default=default, visibility="visible" if listed else "hidden")


OVERVIEW_TITLES = {Role.PROVINCE: "全省总览", Role.CITY: "全市总览", Role.COUNTY: "全县总览"}
SUPERVISION = [
    page(drilldown.render, "地区下钻", ":material/account_tree:", DRILLDOWN_URL_PATH),
    page(priority.render, "重点督导县", ":material/flag:", "priority"),
    page(overdue.render, "超期督办", ":material/schedule:", "overdue"),
    page(satisfaction.render, "满意度", ":material/sentiment_satisfied:", "satisfaction"),
    page(analysis.render, "形势分析", ":material/insights:", "analysis"),
    page(weekly.render, "周例会", ":material/groups:", "weekly"),
    page(ledger.render, "督办台账", ":material/assignment_turned_in:", LEDGER_URL_PATH),
    page(matters.render, "积案化解", ":material/manage_history:", "matters"),  # 越级重复举报专项治理
    page(hotline.render, "12388通报", ":material/support_agent:", "hotline"),
    # opened by the sidebar's 查找案件 on every page; not in the menu, which Streamlit folds when it grows long
    page(dossier.render, "案件档案", ":material/folder_open:", DOSSIER_URL_PATH, listed=False),
]
DEFINITIONS = page(definitions.render, "指标口径", ":material/menu_book:", "definitions")
REPORT = page(report.render, "数据上报", ":material/upload_file:", "report")  # 分级上报: city and county users
PROVINCE_ONLY = [  # the database, its import and the audit trail: province supervisors only
    page(data.render, "数据", ":material/database:", "data"),
    page(audit.render, "审计日志", ":material/policy:", "audit"),
]


# pages whose region tables, series and signals may be summed from the per-county daily summary
SUMMARY_PAGES = {"overview", DRILLDOWN_URL_PATH, "priority", "satisfaction", "analysis", "weekly"}


def summary_notice(staleness: Staleness) -> str:
    """What a page that reads region tables says while the per-county daily summary is not current."""
    return (f"按县按日汇总表与案件表不一致（{staleness.label}），本页的地区表和趋势已改为直接统计案件表："
            "数字以案件表为准，加载较慢。管理员可运行 python -m metrics summary 重建汇总表。")


def demo_banner(share: DemoShare, whole_province: bool) -> str:
    """What the 演示数据 banner says: all demo, or how many demo cases remain among real ones and how to
    remove them (the counts are the whole database's: a province user's banner only)."""
    if share.all_demo:
        return "演示数据：当前显示的是系统生成的模拟数据，不是真实信访举报数据。"
    if not whole_province:
        return "演示数据未清除：数据库中仍有系统生成的模拟案件，与真实案件一并统计，数字不能作为正式结论。请联系省级管理员删除。"
    return (f"演示数据未清除：全部 {share.total:,} 件中有 {share.demo:,} 件是系统生成的模拟案件，与真实案件一并统计。"
            "删除：“数据”页的“删除演示数据”按钮，或命令 python -m data_access demo --remove（真实案件不受影响）。")


def pages_for(role: Role) -> dict[str, list[st.Page]]:
    """The navigation a role may use."""
    home = page(overview.render, OVERVIEW_TITLES[role], ":material/map:", "overview", default=True)
    about = [DEFINITIONS, *PROVINCE_ONLY] if role is Role.PROVINCE else [DEFINITIONS, REPORT]
    return {"督导": [home, *SUPERVISION], "说明与数据": about}


def signed_out_navigation() -> None:
    """Before the sign-in is drawn: every page registered but hidden, and none run. A deep link keeps
    its address through the sign-in, and Streamlit leaves its pages-folder mode (pages/__init__.py)
    at once. First, because that mode runs a page file under the page's own id: a form drawn before
    the navigation would get other widget ids in the next run, and its first submit would be lost."""
    st.navigation(pages_for(Role.PROVINCE), position="hidden")


try:  # the settings file is checked before anything else: a wrong value stops the app with its reason
    runtime.settings()
    runtime.sign_in_settings()
except SettingsError as wrong:
    st.error(f"设置文件有误，看板未启动。{wrong}\n\n请改正后刷新本页。", icon=":material/settings_alert:")
    st.stop()

try:
    runtime.fill_demo_on_first_start()
    version = runtime.refresh_data_version()
    identity = access.gate(before_sign_in=signed_out_navigation)
    # expanded: Streamlit folds a menu longer than ten entries behind 'View more' (the province's has thirteen)
    navigation = st.navigation(pages_for(identity.role), expanded=True)
    scope = access.scope_of(identity)
    search_box()  # 查找案件, at the top of every page's sidebar
    # the count and span the sidebar shows are the viewer's; the default as-of date is the data's
    coverage = ScopedData(runtime.database_url(), version, scope).coverage()
    anchor = min(dt.date.today(), runtime.latest_received(runtime.database_url(), version) or dt.date.today())
    render_sidebar(anchor, tree().province, navigation.url_path, scope)  # the view every page gets
except DB_ERRORS:
    database_down()
    st.stop()

access.user_box(identity)
st.sidebar.caption(f"数据范围：{coverage.first_received or '—'} 至 {coverage.last_received or '—'}，共 {coverage.cases:,} 件")
if identity == access.OPEN_IDENTITY:
    st.warning("演示模式，未启用登录：任何能打开本页的人都能看到全部数据。启用登录见 README。", icon=":material/lock_open:")
if (demo := runtime.demo_cases(runtime.database_url(), version)).demo:
    st.warning(demo_banner(demo, scope.is_whole_province), icon=":material/warning:")
if (kept := runtime.summary_in_this_run()) is not None and kept.staleness is not None and (
        navigation.url_path or "overview") in SUMMARY_PAGES and coverage.cases > 0:
    st.info(summary_notice(kept.staleness), icon=":material/sync_problem:")
if coverage.cases == 0 and scope.is_whole_province:
    st.info("数据库中还没有案件数据。请在“数据”页上传，或用命令 python -m data_access import 导入。")
elif coverage.cases == 0:
    st.info("本地区在数据库中还没有案件数据。")

with guarded("本页内容"):  # pages without guarded sections of their own: a message and 重试, never a traceback
    navigation.run()
