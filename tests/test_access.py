"""Who may see what, through the running app (Streamlit's AppTest on the golden cases, embedded DuckDB).

- The sign-in form: wrong password, disabled user, lock-out, logout, each with its audit row.
- A city user (济宁市 370800) and a county user (任城区 370811), page by page and route by route
  (URL parameters included), see nothing outside their region: KPIs, tables, charts, the map,
  downloads; the 数据 and 审计日志 pages are neither listed nor reachable.
- Cache entries filled by a province user are never served to a city user.
- Open mode (no user, no [auth]) says so on every page; the audit page shows the trail.

Charts and the map are unknown elements to AppTest: the frames they are built from are captured by
wrapping the chart builders the pages call. Downloads are deferred callables, built on click: they
are captured by wrapping ui.downloads.recorded_download and then called as the browser would.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

import pages.matters
import pages.overview
import pages.weekly
import ui.charts
import ui.downloads
import ui.geo
import ui.vega
from data_access.identity import auth
from data_access.identity.audit import AuditAction, recent
from data_access.identity.auth import Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.reference.enums import Level
from data_access.store.database import case_count, init_database, regions_frame
from data_access.store.engine import make_engine
from data_access.store.schema import supervision_events, supervision_items
from data_access.supervision import ledger
from metrics.caselists import case_list, overdue_cases
from metrics.priority import PriorityStatus, priority_counties
from metrics.registry import METRICS_BY_ID
from metrics.request import Period, TableRequest
from metrics.table import region_table
from metrics.warnings import deadline_warnings, warning_counts
from metrics.weekly import WEEKLY_HEADLINE_METRICS as WEEKLY_HEADLINE
from metrics.weekly import Section, weekly_report
from presentation.format import fmt_value
from presentation.palette import NO_DATA_RGB
from tests.apptest_support import switch_to
from tests.conftest import GOLDEN_CASES, REPO_ROOT
from ui import access
from ui.kpi import KPI_CARD_METRICS

APP = REPO_ROOT / "app.py"
TIMEOUT = 60
H1 = Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 6, 30))
H1_PARAMS = {"period": "custom", "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"}
AS_OF = H1.as_of_date

PROVINCE, JINING, RENCHENG, YANZHOU = "370000", "370800", "370811", "370812"
JINAN, LIXIA, QINGDAO = "370100", "370102", "370200"
PASSWORD = "Shandong-2024!"
USERS = {  # username -> (role, region)
    "sheng": (Role.PROVINCE, None),
    "jining": (Role.CITY, JINING),
    "rencheng": (Role.COUNTY, RENCHENG),
    "tingyong": (Role.CITY, JINING),  # disabled at setup
    "suoding": (Role.CITY, JINING),  # locked out by its test
    "cuowu": (Role.COUNTY, RENCHENG),  # wrong passwords
}
LOGIN_TITLE = "信访举报督导看板"
OPEN_BANNER = "演示模式，未启用登录"
PRODUCTION_DELAY = access.FAILED_LOGIN_DELAY_S
SCOPED_PAGES = ("overview", "drilldown", "priority", "overdue", "satisfaction", "analysis", "weekly", "ledger", "matters",
                "hotline", "definitions")
PROVINCE_ONLY = ("data", "audit")
REPORT_PAGE = "report"  # 数据上报: city and county users
UNLISTED = ("dossier",)  # 案件档案: registered for every role, opened from the sidebar's search box, never listed


def cheap_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """A DuckDB file with the golden cases and the users above; DATABASE_URL points at it for the module."""
    url = f"duckdb:///{tmp_path_factory.mktemp('access') / 'golden.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "PASSWORD_HASHER", cheap_hasher())
        mp.setattr(access, "FAILED_LOGIN_DELAY_S", 0.0)
        mp.setenv("DATABASE_URL", url)
        engine = make_engine(url)
        init_database(engine)
        import_file(engine, GOLDEN_CASES)
        for name, (role, region) in USERS.items():
            auth.add_user(engine, name, PASSWORD, role, region)
        auth.disable_user(engine, "tingyong")
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def regions(golden: sa.Engine) -> pd.DataFrame:
    return regions_frame(golden).set_index("code", drop=False)


def counties_of(regions: pd.DataFrame, city: str) -> set[str]:
    return set(regions.loc[(regions["level"] == "county") & (regions["parent_code"] == city), "code"])


def foreign_names(regions: pd.DataFrame, scope: str) -> set[str]:
    """Names of cities (and, for a county viewer, of sibling counties) the viewer must never see."""
    own_city = scope if regions.at[scope, "level"] == "city" else regions.at[scope, "parent_code"]
    names = set(regions.loc[(regions["level"] == "city") & (regions["code"] != own_city), "name"])
    if regions.at[scope, "level"] == "county":
        siblings = counties_of(regions, own_city) - {scope}
        names |= set(regions.loc[list(siblings), "name"])
    return names - {regions.at[scope, "name"]}


# --- driving the app -----------------------------------------------------------------------------

def fill_login(at: AppTest, username: str, password: str) -> AppTest:
    """Type into the login form and submit it."""
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def new_session(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(params if params is not None else H1_PARAMS)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in(username: str) -> AppTest:
    """A session signed in through the form, on the overview with the half-year view."""
    at = new_session()
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    fill_login(at, username, PASSWORD)
    assert at.title and at.title[0].value != LOGIN_TITLE, [e.value for e in at.error]
    return at


def go(at: AppTest, page: str, **params: str) -> AppTest:
    """Open `page` (its url path) with extra URL parameters."""
    at.query_params.update(params)
    switch_to(at, page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_as(username: str, page: str, **params: str) -> AppTest:
    at = sign_in(username)
    return at if page == "overview" and not params else go(at, page, **params)


def metrics_shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_cards(row: pd.Series, metric_ids: tuple[str, ...] = KPI_CARD_METRICS) -> dict[str, str]:
    return {METRICS_BY_ID[m].label: fmt_value(m, row[m]) for m in metric_ids}


def row_of(engine: sa.Engine, level: Level, code: str, period: Period = H1) -> pd.Series:
    frame = region_table(engine, TableRequest(level, period, scope=WHOLE_PROVINCE))
    return frame[frame["code"] == code].iloc[0]


def all_text(at: AppTest) -> str:
    """Every piece of text the page shows: headings, markdown, messages, metrics, widgets, table cells."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "code", "latex"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("selectbox", "multiselect", "radio"):
        parts += [" ".join(map(str, w.options)) for w in getattr(at, kind)]
    for frame in [*(d.value for d in at.dataframe), *(t.value for t in at.table)]:
        frame = frame.data if hasattr(frame, "data") else frame  # a Styler
        parts += [" ".join(map(str, frame.columns)), frame.astype(str).to_string()]
    return "\n".join(parts)


def audit_rows(engine: sa.Engine, username: str | None = None, action: AuditAction | None = None) -> pd.DataFrame:
    rows = recent(engine, 100_000)
    if username is not None:
        rows = rows[rows["username"] == username]
    if action is not None:
        rows = rows[rows["action"] == action.value]
    return rows.reset_index(drop=True)


class Spy:
    """Wraps module functions, keeping the arguments of every call (the function still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.monkeypatch = monkeypatch
        self.calls: dict[str, list[tuple]] = {}

    def wrap(self, module, name: str) -> None:
        real = getattr(module, name)
        calls = self.calls.setdefault(name, [])

        @functools.wraps(real)  # keeps __name__: ui.vega looks chart builders up by name
        def spy(*args, **kwargs):
            result = real(*args, **kwargs)
            calls.append((args, kwargs, result))
            return result

        self.monkeypatch.setattr(module, name, spy)


@pytest.fixture
def charts(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """The frames the pages draw their charts and map from."""
    st.cache_data.clear()  # a chart spec cached by an earlier test would spare its builder the call
    spy = Spy(monkeypatch)
    for name in ("ranking_chart", "funnel_chart", "trend_chart", "bar_chart", "stacked_bar_chart"):
        spy.wrap(ui.charts, name)
    spy.wrap(ui.geo, "choropleth")
    return spy


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """The file builders the download buttons hold (calls of recorded_download: make, file_name -> build),
    where they are made: ui.downloads, and the 周例会, 总览 and 积案化解 pages, which imported the function by name."""
    spy = Spy(monkeypatch)
    spy.wrap(ui.downloads, "recorded_download")
    spy.wrap(pages.weekly, "recorded_download")
    spy.wrap(pages.overview, "recorded_download")
    spy.wrap(pages.matters, "recorded_download")
    return spy


# --- the sign-in form --------------------------------------------------------------------------

def test_wrong_password_is_refused_with_the_generic_message_and_audited(golden: sa.Engine,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "FAILED_LOGIN_DELAY_S", PRODUCTION_DELAY)  # the real brake on guessing
    before = len(audit_rows(golden, "cuowu", AuditAction.LOGIN_FAILED))
    at = new_session()
    started = time.monotonic()
    fill_login(at, "cuowu", "not-the-password")
    assert time.monotonic() - started >= PRODUCTION_DELAY
    assert [e.value for e in at.error] == [auth.SIGN_IN_REFUSED]
    assert [t.value for t in at.title] == [LOGIN_TITLE] and not at.metric
    failed = audit_rows(golden, "cuowu", AuditAction.LOGIN_FAILED)
    assert len(failed) == before + 1
    assert failed["detail"][0] == f"登录失败：用户名或密码错误（地址 {auth.LOCAL_CLIENT}）"
    # an unknown user gets exactly the same answer (the form does not reveal who exists)
    fill_login(at, "nobody.here", "not-the-password")
    assert [e.value for e in at.error] == [auth.SIGN_IN_REFUSED]
    assert len(audit_rows(golden, "nobody.here", AuditAction.LOGIN_FAILED)) == 1


def test_right_password_shows_the_dashboard_and_is_audited(golden: sa.Engine) -> None:
    before = len(audit_rows(golden, "jining", AuditAction.LOGIN))
    at = new_session()
    fill_login(at, "JiNing ", PASSWORD)  # names are case-insensitive, surrounding blanks ignored
    assert at.title[0].value == "济宁市 信访举报督导总览"
    assert not at.error and metrics_shown(at)
    assert any("当前用户" in c.value and "市级" in c.value for c in at.sidebar.caption)
    logins = audit_rows(golden, "jining", AuditAction.LOGIN)
    assert len(logins) == before + 1
    assert (logins["role"][0], logins["scope"][0]) == ("city", JINING)


def test_disabled_user_is_refused_with_the_same_message(golden: sa.Engine) -> None:
    at = new_session()
    fill_login(at, "tingyong", PASSWORD)
    assert [e.value for e in at.error] == [auth.SIGN_IN_REFUSED]  # the right password is not confirmed
    assert [t.value for t in at.title] == [LOGIN_TITLE] and not at.metric
    assert (audit_rows(golden, "tingyong", AuditAction.LOGIN_FAILED)["detail"][0]
            == f"登录失败：账户已停用（地址 {auth.LOCAL_CLIENT}）")  # the audit log keeps the reason


def test_user_disabled_mid_session_is_signed_out(golden: sa.Engine) -> None:
    auth.add_user(golden, "linshi", PASSWORD, Role.COUNTY, RENCHENG)
    at = sign_in("linshi")
    auth.disable_user(golden, "linshi")
    at.run()
    assert [t.value for t in at.title] == [LOGIN_TITLE] and not at.metric


def test_lock_out_of_the_guessing_address_says_the_same_and_is_audited(golden: sa.Engine,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    limit = auth.SignInSettings().account_client_failures
    monkeypatch.setattr(access, "client_address", lambda: "10.1.2.3")
    at = new_session()
    for attempt in range(1, limit + 1):
        fill_login(at, "suoding", f"wrong-guess-{attempt}")
        assert [e.value for e in at.error] == [auth.SIGN_IN_REFUSED], attempt
    fill_login(at, "suoding", PASSWORD)  # held back: even the right password
    assert [e.value for e in at.error] == [auth.SIGN_IN_REFUSED]
    assert [t.value for t in at.title] == [LOGIN_TITLE] and not at.metric
    failed = audit_rows(golden, "suoding", AuditAction.LOGIN_FAILED)
    assert len(failed) == limit + 1
    assert failed["detail"][0] == "登录失败：登录暂停中（失败次数过多）（地址 10.1.2.3）"
    (lockout,) = audit_rows(golden, "suoding", AuditAction.LOCKOUT)["detail"]
    assert lockout.startswith(f"账户 suoding 自地址 10.1.2.3 连续登录失败 {limit} 次：暂停该地址登录该账户 1 分钟，至 ")
    assert audit_rows(golden, "suoding", AuditAction.LOGIN).empty
    # the owner at another machine is not locked out by someone guessing elsewhere
    monkeypatch.setattr(access, "client_address", lambda: "10.1.2.4")
    fill_login(new_session(), "suoding", PASSWORD)
    assert len(audit_rows(golden, "suoding", AuditAction.LOGIN)) == 1
    # and the 审计日志 page shows the lock-out in Chinese
    shown = open_as("sheng", "audit").dataframe[0].value
    row = shown[shown["操作"] == "登录暂停"]
    assert list(row["用户"]) == ["suoding"] and list(row["内容"]) == [lockout]


def test_logout_returns_to_the_form_and_is_audited(golden: sa.Engine) -> None:
    before = len(audit_rows(golden, "rencheng", AuditAction.LOGOUT))
    at = sign_in("rencheng")
    at.sidebar.button(key="logout").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == [LOGIN_TITLE]
    assert [t.label for t in at.text_input] == ["用户名", "密码"] and not at.metric
    logouts = audit_rows(golden, "rencheng", AuditAction.LOGOUT)
    assert len(logouts) == before + 1
    assert (logouts["role"][0], logouts["scope"][0]) == ("county", RENCHENG)
    at.run()  # and stays signed out
    assert [t.value for t in at.title] == [LOGIN_TITLE]


# --- a city user (济宁市), route by route ------------------------------------------------------

def test_city_overview_is_the_city(golden: sa.Engine, regions: pd.DataFrame, charts: Spy) -> None:
    at = open_as("jining", "overview")
    assert at.title[0].value == "济宁市 信访举报督导总览"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.CITY, JINING))
    assert metrics_shown(at) != expected_cards(row_of(golden, Level.PROVINCE, PROVINCE))
    mine = counties_of(regions, JINING)
    (ranking_args, _, _), = charts.calls["ranking_chart"]
    assert set(ranking_args[0]["code"]) == mine
    (map_args, _, _), = charts.calls["choropleth"]
    geojson, counties = map_args[0], map_args[1]
    assert set(counties["code"]) == mine
    assert {f["properties"]["code"] for f in geojson["features"]} == mine
    assert all(args[0]["received"].sum() == row_of(golden, Level.CITY, JINING)["received"]
               for args, _, _ in charts.calls["trend_chart"])


def test_city_drilldown_starts_at_the_city(golden: sa.Engine, regions: pd.DataFrame, charts: Spy) -> None:
    at = open_as("jining", "drilldown")
    assert at.title[0].value == "济宁市" and not at.warning
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.CITY, JINING))
    assert at.subheader[0].value == "下辖县（市、区）（11 个）"  # full-width brackets throughout
    assert len(charts.calls["choropleth"]) == 2  # the overview's map (the landing page), then the drill-down's
    map_args, _, _ = charts.calls["choropleth"][-1]
    mine = counties_of(regions, JINING)
    assert set(map_args[1]["code"]) == mine
    assert {f["properties"]["code"] for f in map_args[0]["features"]} == mine
    assert set(at.dataframe[0].value["code"]) == counties_of(regions, JINING)
    crumbs = [b.label for b in at.button if b.key and b.key.startswith("crumb_")]
    assert crumbs == ["济宁市"]  # no way up to the province


@pytest.mark.parametrize("region", [JINAN, LIXIA, PROVINCE, QINGDAO],
                         ids=["another_city", "county_of_another_city", "province", "qingdao"])
def test_city_drilldown_url_outside_the_city_is_refused(golden: sa.Engine, regions: pd.DataFrame, region: str) -> None:
    at = open_as("jining", "drilldown", region=region)
    assert [w.value for w in at.warning] == ["无权查看该地区，已显示济宁市。"]
    assert at.title[0].value == "济宁市"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.CITY, JINING))
    assert set(at.dataframe[0].value["code"]) == counties_of(regions, JINING)
    assert regions.at[region, "name"] not in all_text(at).replace("无权查看该地区，已显示济宁市。", "")


def test_city_drilldown_into_its_own_county(golden: sa.Engine) -> None:
    at = open_as("jining", "drilldown", region=RENCHENG)
    assert at.title[0].value == "任城区" and not at.warning
    assert sorted(at.dataframe[0].value["件号"]) == sorted(case_list(golden, RENCHENG, H1, limit=None, scope=WHOLE_PROVINCE)["case_id"])


def test_city_priority_only_its_counties(golden: sa.Engine, regions: pd.DataFrame, charts: Spy) -> None:
    ranked = priority_counties(golden, H1, scope=Scope(JINING))
    at = open_as("jining", "priority", window="period")
    mine = counties_of(regions, JINING)
    tested, insufficient = at.dataframe[0].value, at.dataframe[1].value
    assert set(tested["code"]) <= mine and set(tested["city_name"]) == {"济宁市"}
    assert set(insufficient["city_name"]) <= {"济宁市"}
    assert len(tested) + len(insufficient) == len(ranked) == len(mine)
    counts = ranked["status"].value_counts()
    shown = metrics_shown(at)
    for status in PriorityStatus:
        (value,) = [v for label, v in shown.items() if status.label in label]
        assert value == f"{int(counts.get(status.value, 0))} 个"
    for args, _, _ in charts.calls["funnel_chart"]:
        assert set(args[0]["code"]) <= mine


def test_city_overdue_ledger_only_its_counties(golden: sa.Engine, regions: pd.DataFrame) -> None:
    ledger = overdue_cases(golden, AS_OF, scope=Scope(JINING))
    assert len(ledger) < len(overdue_cases(golden, AS_OF, scope=WHOLE_PROVINCE))
    at = open_as("jining", "overdue")
    counties, cases = (d.value for d in at.dataframe[:2])  # no by-city table: a city's ledger has one city
    assert not [h.value for h in at.subheader if h.value.startswith("各市")]
    assert set(counties["county_code"]) <= counties_of(regions, JINING)
    assert set(cases["所属市"]) == {"济宁市"}
    assert sorted(cases["件号"]) == sorted(ledger["case_id"])
    assert metrics_shown(at)["超期未办结"] == f"{len(ledger):,}"
    assert at.selectbox(key="overdue_city").options == ["全部", "济宁市"]


def test_city_satisfaction_only_its_counties(golden: sa.Engine, regions: pd.DataFrame) -> None:
    ids = ("satisfaction_rate", "rating_rate", "dispute_rate", "closed", "rated", "disputed")
    at = open_as("jining", "satisfaction")
    city = row_of(golden, Level.CITY, JINING)
    assert metrics_shown(at) == expected_cards(city, ids)
    assert set(at.dataframe[0].value["code"]) == counties_of(regions, JINING)
    assert at.dataframe[1].value["cases"].sum() == city["closed"]


@pytest.mark.parametrize("section", list(Section), ids=[s.value for s in Section])
def test_city_weekly_is_scoped(golden: sa.Engine, regions: pd.DataFrame, section: Section) -> None:
    report = weekly_report(golden, AS_OF, scope=Scope(JINING))
    province = weekly_report(golden, AS_OF, scope=WHOLE_PROVINCE)
    at = open_as("jining", "weekly", section=section.label)
    assert at.header[0].value == ("各县（市、区）按期办结率排名" if section is Section.CITIES else section.label)
    text = all_text(at)
    assert not {n for n in foreign_names(regions, JINING) if n in text}
    if section is Section.KPIS:
        shown = metrics_shown(at)
        for metric_id in WEEKLY_HEADLINE:
            assert shown[METRICS_BY_ID[metric_id].label] == fmt_value(metric_id, report.province[metric_id])
        assert report.province["received"] != province.province["received"]
    elif section is Section.CITIES:  # a city's meeting ranks its counties against the city
        ranked = at.dataframe[0].value
        assert set(ranked["县（市、区）"]) == set(regions.loc[list(counties_of(regions, JINING)), "name"])
        assert list(ranked["名次"]) == [str(int(r)) if not pd.isna(r) else "—" for r in report.units["rank"]]
        assert any("虚线为济宁市整体水平" in c.value for c in at.caption)
        assert not any("全省" in c.value for c in at.caption)
    elif section is Section.OVERDUE:
        assert set(at.dataframe[0].value["county_code"]) <= counties_of(regions, JINING)
        for frame in (d.value for d in at.dataframe[1:]):
            assert set(frame["所属市"]) <= {"济宁市"}
    elif section is Section.SATISFACTION:
        assert set(at.dataframe[0].value["name"]) == set(regions.loc[list(counties_of(regions, JINING)), "name"])
        assert any("较济宁市整体更差" in c.value for c in at.caption)
    elif section is Section.BULLETIN:
        assert "济宁市本周收件" in text and "各市" not in text and "全省" not in text.replace("比全省", "")


def registered(at: AppTest) -> set[str]:
    """The url paths of the pages the navigation registered for the session (Streamlit keys them by hash)."""
    paths = {page for page in (*SCOPED_PAGES, *PROVINCE_ONLY, REPORT_PAGE, *UNLISTED) if calc_hash(page) in at._registered_pages}
    assert len(paths) == len(at._registered_pages), at._registered_pages
    return paths


def test_city_user_cannot_open_the_data_or_audit_page(golden: sa.Engine) -> None:
    assert registered(sign_in("sheng")) == {*SCOPED_PAGES, *PROVINCE_ONLY, *UNLISTED}
    at = sign_in("jining")
    assert registered(at) == {*SCOPED_PAGES, REPORT_PAGE, *UNLISTED}  # the navigation lists neither page, but 数据上报
    for page in PROVINCE_ONLY:
        # a browser asking for the page anyway (its URL path) gets the default page
        switch_to(at, page).run()
        assert not at.exception
        assert at.title[0].value == "济宁市 信访举报督导总览"
        assert not at.get("file_uploader") and "审计日志" not in all_text(at) and "导入" not in all_text(at)


@pytest.mark.parametrize("page", SCOPED_PAGES)
def test_city_pages_name_no_other_city(golden: sa.Engine, regions: pd.DataFrame, page: str) -> None:
    at = open_as("jining", page)
    text = all_text(at)
    assert not {n for n in foreign_names(regions, JINING) if n in text}, page


# --- a county user (任城区), route by route ------------------------------------------------------

def test_county_overview_is_the_county(golden: sa.Engine, charts: Spy) -> None:
    at = open_as("rencheng", "overview")
    assert at.title[0].value == "任城区 信访举报督导总览"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.COUNTY, RENCHENG))
    assert "ranking_chart" not in charts.calls or not charts.calls["ranking_chart"]
    (map_args, _, deck), = charts.calls["choropleth"]
    assert set(map_args[1]["code"]) == {RENCHENG}
    assert {f["properties"]["code"] for f in map_args[0]["features"]} == {RENCHENG}
    # the one county is coloured by its value, not drawn grey as "no data", and the legend names it
    (feature,) = json.loads(deck.to_json())["layers"][0]["data"]["features"]
    assert tuple(feature["properties"]["fill"]) != NO_DATA_RGB
    (legend,) = [m.value for m in at.markdown if "颜色越深" in m.value]
    rate = row_of(golden, Level.COUNTY, RENCHENG)["on_time_rate"]
    assert legend.count('class="legend-swatch"') == 1 and fmt_value("on_time_rate", rate) in legend


def test_county_drilldown_lists_only_its_cases(golden: sa.Engine) -> None:
    at = open_as("rencheng", "drilldown")
    assert at.title[0].value == "任城区" and not at.warning
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.COUNTY, RENCHENG))
    cases = at.dataframe[0].value  # a single county's list: no county column
    assert sorted(cases["件号"]) == sorted(case_list(golden, RENCHENG, H1, limit=None, scope=WHOLE_PROVINCE)["case_id"])
    warned = deadline_warnings(golden, AS_OF, scope=Scope(RENCHENG)).set_index("case_id")["colour"]
    shown = cases.set_index("件号")["三色预警"]
    labels = {"red": "红 · 已超期", "yellow": "黄 · 临期", "green": "绿 · 未临期"}  # no emoji: boxes on Debian Chromium
    assert {k: v for k, v in shown.items() if v} == {k: labels[c] for k, c in warned.items() if k in shown.index}


@pytest.mark.parametrize("region", [YANZHOU, JINING, LIXIA, PROVINCE],
                         ids=["sibling_county", "own_city", "county_of_another_city", "province"])
def test_county_drilldown_url_outside_the_county_is_refused(golden: sa.Engine, region: str) -> None:
    at = open_as("rencheng", "drilldown", region=region)
    assert [w.value for w in at.warning] == ["无权查看该地区，已显示任城区。"]
    assert at.title[0].value == "任城区"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.COUNTY, RENCHENG))
    assert sorted(at.dataframe[0].value["件号"]) == sorted(case_list(golden, RENCHENG, H1, limit=None, scope=WHOLE_PROVINCE)["case_id"])


def test_county_priority_only_itself(golden: sa.Engine) -> None:
    ranked = priority_counties(golden, H1, scope=Scope(RENCHENG))
    assert list(ranked["code"]) == [RENCHENG]
    at = open_as("rencheng", "priority", window="period")
    frames = [d.value for d in at.dataframe]  # the tested counties (if any) and those too small to test
    assert frames and set().union(*(set(f["name"]) for f in frames)) == {"任城区"}
    assert set().union(*(set(f["code"]) for f in frames if "code" in f)) <= {RENCHENG}
    assert sum(int(v.split()[0]) for v in metrics_shown(at).values()) == 1  # one county across the statuses


def test_county_overdue_only_itself(golden: sa.Engine) -> None:
    ledger = overdue_cases(golden, AS_OF, scope=Scope(RENCHENG))
    at = open_as("rencheng", "overdue")
    if ledger.empty:
        assert any("没有超期未办结" in i.value for i in at.info)
        return
    (counties,) = [d.value for d in at.dataframe if "county_code" in d.value.columns]
    (cases,) = [d.value for d in at.dataframe if "超期天数" in d.value.columns]
    assert set(counties["county_code"]) == {RENCHENG}
    assert sorted(cases["件号"]) == sorted(ledger["case_id"])
    assert set(cases["承办县（市、区）"]) == {"任城区"}


def test_county_satisfaction_only_itself(golden: sa.Engine) -> None:
    ids = ("satisfaction_rate", "rating_rate", "dispute_rate", "closed", "rated", "disputed")
    county = row_of(golden, Level.COUNTY, RENCHENG)
    at = open_as("rencheng", "satisfaction")
    assert metrics_shown(at) == expected_cards(county, ids)
    assert [list(d.value.columns) for d in at.dataframe] == [["label", "cases", "share"]]  # no children table
    assert at.dataframe[0].value["cases"].sum() == county["closed"]


def test_county_weekly_is_scoped(golden: sa.Engine) -> None:
    report = weekly_report(golden, AS_OF, scope=Scope(RENCHENG))
    at = open_as("rencheng", "weekly")
    shown = metrics_shown(at)
    for metric_id in WEEKLY_HEADLINE:
        assert shown[METRICS_BY_ID[metric_id].label] == fmt_value(metric_id, report.province[metric_id])
    at = open_as("rencheng", "weekly", section=Section.OVERDUE.label)
    assert at.header[0].value == Section.OVERDUE.label
    assert set(at.dataframe[0].value["county_code"]) <= {RENCHENG}
    for frame in (d.value for d in at.dataframe[1:]):
        assert set(frame["承办县（市、区）"]) <= {"任城区"}


def test_county_user_cannot_open_the_data_or_audit_page(golden: sa.Engine) -> None:
    at = sign_in("rencheng")
    assert registered(at) == {*SCOPED_PAGES, REPORT_PAGE, *UNLISTED}
    for page in PROVINCE_ONLY:
        switch_to(at, page).run()
        assert at.title[0].value == "任城区 信访举报督导总览" and not at.get("file_uploader")


@pytest.mark.parametrize("page", SCOPED_PAGES)
def test_county_pages_name_no_other_county(golden: sa.Engine, regions: pd.DataFrame, page: str) -> None:
    at = open_as("rencheng", page)
    text = all_text(at)
    assert not {n for n in foreign_names(regions, RENCHENG) if n in text}, page


# --- downloads -----------------------------------------------------------------------------------

def read_download(data: bytes, file_name: str) -> pd.DataFrame:
    if file_name.endswith(".csv"):
        assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
        return pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    return pd.read_excel(io.BytesIO(data), dtype=str)


BRIEF_PREFIX = "督导简报_"  # the 总览's 领导简报 (PDF, PNG): signing in lands on the 总览, so every spy sees them


def check_brief(engine: sa.Engine, data: bytes, file_name: str, scope: str) -> None:
    """A 领导简报 download is the viewer's region's and names no other city (nor, for a county, a sibling county)."""
    if file_name.endswith(".png"):
        assert data.startswith(b"\x89PNG"), file_name
        return
    if shutil.which("pdftotext") is None:
        return
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True, timeout=60).stdout.decode()
    regions = regions_frame(engine).set_index("code", drop=False)
    assert f"{regions.at[scope, 'name']}信访举报督导简报" in text
    assert not {n for n in foreign_names(regions, scope) if n in text}, file_name


def click_downloads(engine: sa.Engine, spy: Spy, username: str, scope: str) -> dict[str, pd.DataFrame]:
    """Build every captured download as a click would, checking the audit row each one writes; the 领导简报 are
    checked here and left out of the answer (they are the 总览's, whatever page the test opens)."""
    files = {}
    for (_make, file_name), _, build in spy.calls["recorded_download"]:
        before = len(audit_rows(engine, username, AuditAction.DOWNLOAD))
        data = build()
        if file_name.startswith(BRIEF_PREFIX):
            check_brief(engine, data, file_name, scope)
        else:
            files[file_name] = read_download(data, file_name)
        rows = audit_rows(engine, username, AuditAction.DOWNLOAD)
        assert len(rows) == before + 1, file_name
        assert (rows["scope"][0], rows["detail"][0]) == (scope, f"下载 {file_name}")
        assert rows["role"][0] == USERS[username][0].value
    return files


def test_city_overdue_download_holds_only_the_city(golden: sa.Engine, downloads: Spy) -> None:
    before = len(audit_rows(golden, "jining", AuditAction.DOWNLOAD))
    open_as("jining", "overdue")
    assert len(audit_rows(golden, "jining", AuditAction.DOWNLOAD)) == before  # nothing recorded until clicked
    files = click_downloads(golden, downloads, "jining", JINING)
    assert sorted(files) == [f"临期预警_{AS_OF}.csv", f"临期预警_{AS_OF}.xlsx", f"超期督办_{AS_OF}.csv", f"超期督办_{AS_OF}.xlsx"]
    ledger = overdue_cases(golden, AS_OF, scope=Scope(JINING))
    yellow = deadline_warnings(golden, AS_OF, scope=Scope(JINING), colours=("yellow",))
    assert len(yellow) > 0
    for name, frame in files.items():
        assert set(frame["所属市"]) == {"济宁市"}
        assert sorted(frame["件号"]) == sorted((yellow if name.startswith("临期") else ledger)["case_id"])


def test_city_priority_download_holds_only_the_city(golden: sa.Engine, regions: pd.DataFrame,
                                                    downloads: Spy) -> None:
    open_as("jining", "priority")
    files = click_downloads(golden, downloads, "jining", JINING)
    assert len(files) == 2
    for frame in files.values():
        assert set(frame["县级代码"]) == counties_of(regions, JINING)
        assert set(frame["所属市"]) == {"济宁市"}


@pytest.mark.parametrize("region", [RENCHENG, LIXIA], ids=["own_county", "county_of_another_city"])
def test_city_case_list_download_holds_only_the_city(golden: sa.Engine, downloads: Spy, region: str) -> None:
    open_as("jining", "drilldown", region=region)
    files = click_downloads(golden, downloads, "jining", JINING)
    if region == LIXIA:  # refused: the page shows the city, which has no case list and so no download
        assert files == {}
        return
    expected = sorted(case_list(golden, RENCHENG, H1, limit=None, scope=WHOLE_PROVINCE)["case_id"])
    assert len(files) == 2
    for frame in files.values():
        assert sorted(frame["件号"]) == expected  # a single county's list: no county column


def test_county_downloads_hold_only_the_county(golden: sa.Engine, downloads: Spy) -> None:
    for page in ("drilldown", "overdue", "priority"):
        open_as("rencheng", page)
    files = click_downloads(golden, downloads, "rencheng", RENCHENG)
    assert len(files) == 6
    own_cases = set(pd.read_csv(GOLDEN_CASES, dtype=str).query("county_code == @RENCHENG")["case_id"])
    for name, frame in files.items():
        if name.startswith("重点督导县"):
            assert list(frame["县级代码"]) == [RENCHENG], name
        else:
            assert set(frame["件号"]) <= own_cases, name
        if "承办县（市、区）" in frame:
            assert set(frame["承办县（市、区）"]) == {"任城区"}, name


def test_city_weekly_pack_holds_only_the_city_and_is_audited(golden: sa.Engine, regions: pd.DataFrame,
                                                             downloads: Spy) -> None:
    open_as("jining", "weekly")
    captured = {file_name: build for (_, file_name), _, build in downloads.calls["recorded_download"]
                if not file_name.startswith(BRIEF_PREFIX)}  # the 总览's, where signing in landed
    assert sorted(name.rsplit(".", 1)[1] for name in captured) == ["docx", "pptx", "xlsx"]  # all three audited
    (ledger_name,) = [name for name in captured if name.endswith(".xlsx")]
    before = len(audit_rows(golden, "jining", AuditAction.DOWNLOAD))
    sheets = pd.read_excel(io.BytesIO(captured[ledger_name]()), sheet_name=None, dtype=str)
    rows = audit_rows(golden, "jining", AuditAction.DOWNLOAD)
    assert len(rows) == before + 1
    assert (rows["scope"][0], rows["detail"][0]) == (JINING, f"下载 {ledger_name}")
    report = weekly_report(golden, AS_OF, scope=Scope(JINING))
    for name, sheet in sheets.items():
        if "所属市" in sheet:
            assert set(sheet["所属市"].dropna()) <= {"济宁市"}, name
        if "县级代码" in sheet:
            assert set(sheet["县级代码"].dropna()) <= counties_of(regions, JINING), name
        if "件号" in sheet:
            assert set(sheet["件号"].dropna()) <= set(report.overdue["case_id"])  # every overdue case of the city, no other


def test_recorded_download_records_every_call(golden: sa.Engine, downloads: Spy) -> None:
    """The wrapper itself: each call of the builder writes one row, the bytes are the builder's."""
    open_as("jining", "overdue")
    (make, file_name), _, build = downloads.calls["recorded_download"][0]
    before = len(audit_rows(golden, "jining", AuditAction.DOWNLOAD))
    assert build() == make() == build()
    rows = audit_rows(golden, "jining", AuditAction.DOWNLOAD)
    assert len(rows) == before + 2
    assert set(rows["scope"][:2]) == {JINING} and set(rows["detail"][:2]) == {f"下载 {file_name}"}


# --- the cache ---------------------------------------------------------------------------------

def test_province_cache_entries_are_not_served_to_a_city_user(golden: sa.Engine, regions: pd.DataFrame,
                                                              charts: Spy) -> None:
    st.cache_data.clear()
    province = open_as("sheng", "overview")
    assert metrics_shown(province) == expected_cards(row_of(golden, Level.PROVINCE, PROVINCE))
    pages = ("priority", "overdue", "satisfaction", "weekly")
    province_tables = {page: [d.value for d in go(province, page).dataframe] for page in pages}
    go(province, "drilldown", region=JINING)
    assert len(province_tables["overdue"][2]) == len(overdue_cases(golden, AS_OF, scope=WHOLE_PROVINCE))

    for calls in charts.calls.values():
        calls.clear()
    # Chart specs are cached by their input data alone (ui/vega.py): the province's look at 济宁 made
    # the very spec the city user is due. Drop them so that the builders run and show their input.
    ui.vega._spec.clear()
    city = open_as("jining", "overview")
    assert metrics_shown(city) == expected_cards(row_of(golden, Level.CITY, JINING))
    (ranking_args, _, _), = charts.calls["ranking_chart"]
    assert set(ranking_args[0]["code"]) == counties_of(regions, JINING)
    mine = counties_of(regions, JINING)
    assert set(go(city, "priority").dataframe[0].value["code"]) <= mine
    assert set(go(city, "overdue").dataframe[2].value["所属市"]) == {"济宁市"}
    assert set(go(city, "satisfaction").dataframe[0].value["code"]) == mine
    weekly = weekly_report(golden, AS_OF, scope=Scope(JINING))
    assert metrics_shown(go(city, "weekly"))["收件总量"] == fmt_value("received", weekly.province["received"])
    text = all_text(city)
    assert not {n for n in foreign_names(regions, JINING) if n in text}


# --- open mode and the audit page --------------------------------------------------------------

@pytest.fixture
def open_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    """A database with the golden cases and no user at all (and no [auth] in secrets)."""
    assert not (REPO_ROOT / ".streamlit" / "secrets.toml").exists()
    url = f"duckdb:///{tmp_path / 'open.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    monkeypatch.setenv("DATABASE_URL", url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("page", [*SCOPED_PAGES, *PROVINCE_ONLY])
def test_open_mode_banner_on_every_page(open_database: sa.Engine, page: str) -> None:
    at = new_session()
    if page != "overview":
        go(at, page)
    assert at.title and at.title[0].value != LOGIN_TITLE
    assert any(OPEN_BANNER in w.value for w in at.warning), page
    assert [b.label for b in at.sidebar.button] == ["查找"]  # 查找案件's, and no logout in open mode


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, golden: sa.Engine) -> sa.Engine:
    """An initialised database with no cases and one province user (the module's hasher is in force)."""
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    auth.add_user(engine, "sheng", PASSWORD, Role.PROVINCE, None)
    monkeypatch.setenv("DATABASE_URL", url)
    yield engine
    engine.dispose()


def test_audit_page_shows_the_trail_and_upload_records_an_import(empty_database: sa.Engine) -> None:
    at = sign_in("sheng")
    go(at, "data")
    rows = pd.read_csv(GOLDEN_CASES, dtype=str).head(25)
    at.file_uploader(key="upload_file").upload("cases.csv", rows.to_csv(index=False).encode(), "text/csv")
    at.run()
    at.button(key="upload_run").click().run()
    assert not at.exception and at.success
    assert case_count(empty_database) == 25
    imports = audit_rows(empty_database, "sheng", AuditAction.IMPORT)
    assert len(imports) == 1 and "cases.csv" in imports["detail"][0] and "25" in imports["detail"][0]
    assert (imports["role"][0], imports["scope"][0]) == ("province", "")

    go(at, "audit")
    assert at.title[0].value == "审计日志"
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["时间", "用户", "角色", "范围", "操作", "内容"]
    assert {"登录", "导入"} <= set(shown["操作"]) and set(shown["用户"]) == {"sheng"}
    assert len(shown) == len(recent(empty_database, 10_000))


def test_rejected_upload_is_audited_and_writes_nothing(golden: sa.Engine) -> None:
    before_cases, before = case_count(golden), len(audit_rows(golden, "sheng", AuditAction.IMPORT))
    at = open_as("sheng", "data")
    at.file_uploader(key="upload_file").upload("bad.csv", b"case_id,received_date\nX-1,2024-02-30\n", "text/csv")
    at.run()
    at.button(key="upload_run").click().run()
    assert not at.exception
    assert at.error and "未作任何更改" in at.error[0].value
    assert case_count(golden) == before_cases
    imports = audit_rows(golden, "sheng", AuditAction.IMPORT)
    assert len(imports) == before + 1 and "导入被拒绝" in imports["detail"][0]


# --- every number from the viewer's scope ------------------------------------------------------------

def sidebar_coverage(at: AppTest) -> str:
    (line,) = [c.value for c in at.sidebar.caption if c.value.startswith("数据范围")]
    return line


@pytest.mark.parametrize(("username", "scope"), [("sheng", None), ("jining", JINING), ("rencheng", RENCHENG)])
def test_sidebar_counts_the_viewers_cases(golden: sa.Engine, regions: pd.DataFrame, username: str,
                                          scope: str | None) -> None:
    golden_cases = pd.read_csv(GOLDEN_CASES, dtype=str)
    if scope is None:
        mine = golden_cases
    else:
        counties = {scope} | counties_of(regions, scope)
        mine = golden_cases[golden_cases["county_code"].isin(counties)]
    at = open_as(username, "overview", **H1_PARAMS)
    assert sidebar_coverage(at) == (f"数据范围：{mine['received_date'].min()} 至 {mine['received_date'].max()}，"
                                    f"共 {len(mine):,} 件")
    assert scope is None or len(mine) < len(golden_cases)


def test_audit_page_speaks_chinese(golden: sa.Engine) -> None:
    from data_access.identity import audit as audit_module

    audit_module.record(golden, "cli:operator", AuditAction.IMPORT, "导入 x.csv：1 件，方式：追加")
    at = open_as("sheng", "audit")
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["时间", "用户", "角色", "范围", "操作", "内容"]
    assert "命令行（操作系统用户 operator）" in set(shown["用户"])
    jining_rows = shown[shown["用户"] == "jining"]
    assert not jining_rows.empty and set(jining_rows["角色"]) == {"市级"}
    assert set(jining_rows["范围"]) == {"济宁市（370800）"}
    assert set(shown.loc[shown["用户"] == "sheng", "范围"]) == {"全省"}
    english = {"province", "city", "county", "login", "login_failed", "lockout", "logout", "import", "download"}
    assert not english & (set(shown["角色"]) | set(shown["操作"]))
    assert not any("wrong_credentials" in d for d in shown["内容"])


def test_scope_of_a_city_user_without_a_region_fails_closed() -> None:
    from data_access.identity.auth import Identity
    from data_access.identity.scope import WHOLE_PROVINCE, Scope

    assert access.scope_of(Identity("s", Role.PROVINCE, None, "s")) == WHOLE_PROVINCE
    assert access.scope_of(Identity("j", Role.CITY, JINING, "j")) == Scope(JINING)
    with pytest.raises(PermissionError):
        access.scope_of(Identity("x", Role.CITY, None, "x"))


# --- 三色预警 in the pages ------------------------------------------------------------------------

LEVEL_OF = {"sheng": (Level.PROVINCE, PROVINCE), "jining": (Level.CITY, JINING), "rencheng": (Level.COUNTY, RENCHENG)}


def strip_counts(at: AppTest) -> tuple[int, ...]:
    (strip,) = [m.value for m in at.markdown if m.value.startswith("**三色预警**")]
    numbers = re.findall(r"badge\[[^\]]*?([\d,]+) 件\]", strip)
    return tuple(int(n.replace(",", "")) for n in numbers)


@pytest.mark.parametrize(("username", "scope"), [("sheng", WHOLE_PROVINCE), ("jining", Scope(JINING)),
                                                 ("rencheng", Scope(RENCHENG))], ids=["province", "city", "county"])
def test_overview_counts_every_colour_of_the_viewers_region(golden: sa.Engine, username: str, scope: Scope) -> None:
    at = open_as(username, "overview")
    listed = deadline_warnings(golden, AS_OF, scope=scope)
    assert strip_counts(at) == tuple(int((listed["colour"] == c).sum()) for c in ("red", "yellow", "green"))
    assert strip_counts(at)[0] == row_of(golden, *LEVEL_OF[username])["overdue"]  # red is the overdue stock


def test_drilldown_lists_the_colours_of_each_unit(golden: sa.Engine) -> None:
    at = open_as("jining", "drilldown")
    children = at.dataframe[0].value.set_index("code")
    counts = warning_counts(golden, AS_OF, Level.COUNTY, scope=Scope(JINING)).set_index("code")
    for code, row in children.iterrows():
        want = counts.loc[code] if code in counts.index else None
        assert (row["yellow"], row["green"]) == ((int(want["yellow"]), int(want["green"])) if want is not None else (0, 0))


def test_a_county_user_sees_the_cases_about_to_fall_due_first(golden: sa.Engine) -> None:
    county = [h.value for h in open_as("rencheng", "overdue").subheader]
    province = [h.value for h in open_as("sheng", "overdue").subheader]
    assert county[0].startswith("临期预警") and not province[0].startswith("临期预警")
    assert any(h.startswith("临期预警") for h in province)


# --- 督办台账: open from a drafted link, the county replies, the province signs off ----------------

def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def ledger_rows(engine: sa.Engine) -> pd.DataFrame:
    return ledger.items(engine, WHOLE_PROVINCE, dt.date.today())


def test_ledger_cycle_through_the_page(golden: sa.Engine) -> None:
    with golden.begin() as conn:
        conn.execute(supervision_events.delete())
        conn.execute(supervision_items.delete())
    case_id = overdue_cases(golden, AS_OF, scope=Scope(RENCHENG))["case_id"].iloc[0]
    # the overdue page's "督办此件" lands here with a draft in the URL; the supervisor adds the reason
    at = open_as("jining", "ledger", new="1", county=RENCHENG, case=case_id, title=f"件号 {case_id} 超期未办结")
    assert at.text_input[0].value == case_id and at.selectbox[0].value == RENCHENG
    at.text_area[0].input("请立即督促办结，并书面反馈超期原因")  # a form: sent with its submit button
    button(at, "挂账督办").click().run()
    assert not at.exception and at.success and "已挂账：任城区" in at.success[0].value
    (item,) = ledger_rows(golden)["id"]
    assert ledger_rows(golden)["case_id"].iloc[0] == case_id
    # a note with a phone number is refused on the page, nothing written
    county = open_as("rencheng", "ledger")
    county.selectbox(key="ledger_item").select(item).run()
    county.text_area[0].input("已联系举报人 13812345678")
    button(county, "提交反馈").click().run()
    assert county.error and "疑似电话号码" in county.error[0].value
    assert ledger_rows(golden)["status"].iloc[0] == "open"
    county.text_area[0].input("已约谈承办人，本周内办结")
    button(county, "提交反馈").click().run()
    assert county.success and county.success[0].value == "已提交反馈。"
    assert ledger_rows(golden)["status"].iloc[0] == "replied"
    # another city's supervisor does not see it; the province signs it off
    assert ledger.items(golden, Scope(JINAN), dt.date.today()).empty
    province = open_as("sheng", "ledger")
    province.selectbox(key="ledger_item").select(item).run()
    button(province, "销号").click().run()
    assert province.success and province.success[0].value == "已销号。"
    assert ledger_rows(golden)["status"].iloc[0] == "closed"
    assert list(ledger.history(golden, WHOLE_PROVINCE, item)["action"]) == ["open", "reply", "close"]
    shown = {m.label: m.value for m in province.metric}
    assert shown["销号率"] == "100.0%" and shown["在办事项"] == "0 项"
    actions = recent(golden, 20)
    assert (actions["action"] == "supervision").sum() >= 3


def test_a_link_naming_a_county_of_another_city_is_refused(golden: sa.Engine) -> None:
    """A crafted 督办 link: 济宁's supervisor is told the county is outside the region; the form is not
    switched to one of its own counties with the link's draft (issue 29)."""
    at = open_as("jining", "ledger", new="1", county=LIXIA, title="件号 X 超期")
    assert [e.value for e in at.error] == ["链接中的县（区）370102（济南市历下区）不在您的管辖范围内，未打开。"]
    assert [t.value for t in at.text_input if t.label == "督办事项"] == [""]
    assert not [e for e in at.expander if "新建督办事项" in e.label and e.proto.expanded]


def test_county_user_cannot_open_items(golden: sa.Engine) -> None:
    at = open_as("rencheng", "ledger", new="1", county=RENCHENG, title="x")
    assert not [e for e in at.expander if "新建督办事项" in e.label]


def test_a_city_user_reports_its_own_cases_on_the_report_page(golden: sa.Engine) -> None:
    """数据上报: the city's file with a case of another city is refused whole with its row; nothing written."""
    before = case_count(golden)
    at = open_as("jining", REPORT_PAGE)
    assert at.title[0].value == "数据上报" and at.radio(key="upload_mode").options == ["追加", "按件号更新"]
    assert "下载空白模板（Excel，含填写说明）" in [b.proto.label for b in at.get("download_button")]
    rows = pd.read_csv(GOLDEN_CASES, dtype=str).head(3).assign(case_id=["JN-A", "JN-B", "JN-C"],
                                                               county_code=["370811", "370826", "370102"])
    at.file_uploader(key="upload_file").upload("jining.csv", rows.to_csv(index=False).encode("utf-8"), "text/csv")
    at.run()
    at.button(key="upload_run").click().run()
    assert at.error and "未作任何更改" in at.error[0].value
    problems = at.dataframe[-1].value
    assert list(problems["行"]) == [4] and "不属于本账号的管辖范围（济宁市）" in problems["问题"].iloc[0]
    assert case_count(golden) == before
