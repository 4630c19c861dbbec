"""Every page through Streamlit's AppTest on the golden cases (embedded DuckDB).

Each page renders without an exception, the numbers it shows equal the metrics layer for the same
period, drill-down reached through the URL shows the right unit and its children, empty selections
show a message instead of failing, and the 数据 page's upload runs the importer all-or-nothing
without rendering anything from the file as Markdown or HTML. Charts and maps are unknown elements
to AppTest: their data is checked through the functions that build them elsewhere.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
import re
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from data_access.cli import load_demo
from data_access.identity.audit import recent
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.imports.mappings import save_mapping
from data_access.reference.enums import Level
from data_access.store.config import SETTINGS_ENV
from data_access.store.database import case_count, init_database
from data_access.store.engine import DUCKDB_MEMORY_VARIABLE, make_engine
from metrics.caselists import case_list, overdue_cases
from metrics.periods import Preset
from metrics.priority import PriorityStatus, priority_counties
from metrics.registry import COMMON_NOTES, METRICS
from metrics.request import CaseFilter, Period, TableRequest
from metrics.settings import load_settings
from metrics.table import region_table
from metrics.weekly import weekly_report
from presentation.format import fmt_value, plain_markdown
from tests.apptest_support import switch_to
from tests.conftest import GOLDEN_CASES, REPO_ROOT
from ui.kpi import KPI_CARD_METRICS
from ui.scoped import ScopedData
from ui.view import View

APP = REPO_ROOT / "app.py"
TIMEOUT = 60
H1 = Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 6, 30))
CUSTOM = Preset.CUSTOM.value


def view_params(start: str, end: str, as_of: str = "2024-06-30") -> dict[str, str]:
    """URL query parameters of a custom period (what a copied link carries)."""
    return {"period": CUSTOM, "asof": as_of, "from": start, "to": end}


H1_PARAMS = view_params("2024-01-01", "2024-06-30")
EMPTY_VIEWS = {
    "before_data": view_params("2021-01-01", "2021-01-31"),  # as of 2021-01-31: not one case received yet
    "after_data": view_params("2030-01-01", "2030-01-31"),  # nothing received, due or closed in the period
}
PAGES = ("overview", "drilldown", "priority", "overdue", "satisfaction", "definitions", "data", "hotline", "matters")
PROVINCE, JINING, RENCHENG = "370000", "370800", "370811"


def _golden_database(path: Path) -> str:
    url = f"duckdb:///{path}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def golden_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """DATABASE_URL of a DuckDB file holding the golden cases, set for the whole module."""
    url = _golden_database(tmp_path_factory.mktemp("pages") / "golden.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        yield url


@pytest.fixture(scope="module")
def golden(golden_url: str) -> sa.Engine:
    """An engine on the same file, for computing what the pages should show."""
    engine = make_engine(golden_url)
    yield engine
    engine.dispose()


def open_page(page: str, params: dict[str, str], **extra: str) -> AppTest:
    """Run the app with `params` in the URL (landing on the overview), then open `page` with `extra` params."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    if page != "overview" or extra:
        at.query_params.update(extra)
        switch_to(at, page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _render(page: str, view: "View", data: "ScopedData") -> None:  # noqa: UP037 (AppTest runs this source alone)
    import importlib

    importlib.import_module(f"pages.{page}").render(view, data)


def draw_alone(page: str, view: View, data: ScopedData) -> AppTest:
    """A page drawn by its render function alone: no app.py, so no frame, no sign-in, no navigation."""
    return AppTest.from_function(_render, args=(page, view, data), default_timeout=TIMEOUT).run()


def h1_view(scope: Scope = WHOLE_PROVINCE) -> View:
    """The half-year view a viewer with `scope` gets from the sidebar."""
    return View(Preset.CUSTOM, H1, CaseFilter(), PROVINCE, scope)


def metrics_shown(at: AppTest) -> dict[str, str]:
    """Label -> value of every st.metric on the page."""
    return {m.label: m.value for m in at.metric}


def row_of(engine: sa.Engine, level: Level, code: str, period: Period = H1) -> pd.Series:
    """The metrics layer's row for one region."""
    frame = region_table(engine, TableRequest(level, period, scope=WHOLE_PROVINCE))
    return frame[frame["code"] == code].iloc[0]


def expected_cards(row: pd.Series, metric_ids: tuple[str, ...] = KPI_CARD_METRICS) -> dict[str, str]:
    """What the KPI cards must read for a region row."""
    labels = {m.id: m.label for m in METRICS}
    return {labels[m]: fmt_value(m, row[m]) for m in metric_ids}


# --- every page renders -------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_golden_data(golden_url: str, page: str) -> None:
    at = open_page(page, H1_PARAMS)
    assert at.title, f"{page}: no title"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


CHART_BUILDERS = ("ranking_chart", "funnel_chart", "trend_chart", "bar_chart", "stacked_bar_chart")


@pytest.mark.parametrize("page", [*PAGES, "weekly"])
def test_every_chart_is_a_valid_vega_lite_spec(golden_url: str, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app caches chart specs without altair's schema validation (ui/vega.py); here every chart
    a page draws is validated against the Vega-Lite schema (it raises when a spec is invalid)."""
    import streamlit as st

    import ui.charts

    built: list[str] = []
    for name in CHART_BUILDERS:
        real = getattr(ui.charts, name)

        def validated(*args, _real=real, _name=name, **kwargs):
            chart = _real(*args, **kwargs)
            chart.to_dict(validate=True)
            built.append(_name)
            return chart

        validated.__name__ = name
        monkeypatch.setattr(ui.charts, name, validated)
    st.cache_data.clear()
    open_page(page, H1_PARAMS, **({"region": "370800"} if page == "drilldown" else {}))
    if page in ("overview", "drilldown", "priority", "overdue", "satisfaction", "weekly"):
        assert built, f"{page} drew no chart"


@pytest.mark.parametrize("view", list(EMPTY_VIEWS), ids=list(EMPTY_VIEWS))
@pytest.mark.parametrize("page", PAGES)
def test_empty_period_does_not_fail(golden_url: str, page: str, view: str) -> None:
    at = open_page(page, EMPTY_VIEWS[view])
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


@pytest.mark.parametrize("page", ("priority", "satisfaction"))
def test_empty_period_says_so_in_words(golden_url: str, page: str) -> None:
    extra = {"window": "period"} if page == "priority" else {}  # the priority test over the period itself
    at = open_page(page, EMPTY_VIEWS["before_data"], **extra)
    assert at.info, f"{page}: an empty period should show a plain message"
    assert not at.dataframe


def test_overdue_ledger_empty_before_any_case(golden_url: str) -> None:
    at = open_page("overdue", {**EMPTY_VIEWS["before_data"], "asof": "2021-01-31"})  # a stock page reads the 截止日期
    assert any("没有超期未办结" in i.value for i in at.info)
    assert not at.dataframe


def test_county_without_cases_in_period_shows_a_message(golden_url: str) -> None:
    at = open_page("drilldown", EMPTY_VIEWS["before_data"], region=RENCHENG)
    assert at.title[0].value == "任城区"
    assert any("没有案件" in i.value for i in at.info)


# --- the numbers shown are the metrics layer's -------------------------------------------------

def test_overview_cards_equal_the_metrics_layer(golden_url: str, golden: sa.Engine) -> None:
    at = open_page("overview", H1_PARAMS)
    shown = metrics_shown(at)
    assert shown == expected_cards(row_of(golden, Level.PROVINCE, "370000"))
    assert shown["按期办结率"] == "89.9%"  # golden expected_h1_province: 986 / 1097
    assert shown["超期未办结"] == "139"
    assert any("2024-01-01 至 2024-06-30" in c.value for c in at.caption)


def test_default_view_is_last_week_before_the_last_received_date(golden_url: str, golden: sa.Engine) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    last_week = Period(dt.date(2024, 6, 17), dt.date(2024, 6, 23))
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.PROVINCE, "370000", last_week))
    assert any("上周：2024-06-17 至 2024-06-23" in c.value for c in at.caption)


def test_priority_status_counts_and_ranking(golden_url: str, golden: sa.Engine) -> None:
    ranked = priority_counties(golden, H1, scope=WHOLE_PROVINCE)
    at = open_page("priority", H1_PARAMS, window="period")
    shown = metrics_shown(at)
    counts = ranked["status"].value_counts()
    assert len(shown) == len(PriorityStatus)
    for status in PriorityStatus:
        (value,) = [v for label, v in shown.items() if status.label in label]
        assert value == f"{int(counts.get(status.value, 0))} 个"
    tested = ranked[ranked["status"] != PriorityStatus.INSUFFICIENT.value]
    table = at.dataframe[0].value
    assert list(table["code"]) == list(tested["code"])  # worst score first, as ranked
    assert table["score"].to_numpy() == pytest.approx(tested["score"].to_numpy())
    assert set(table["badge"]) <= {"▲ 重点督导", "◆ 关注", "● 正常"}
    insufficient = at.dataframe[1].value
    assert len(insufficient) == int(counts.get(PriorityStatus.INSUFFICIENT.value, 0))


def test_priority_sentences_for_flagged_counties(golden_url: str, golden: sa.Engine) -> None:
    ranked = priority_counties(golden, H1, scope=WHOLE_PROVINCE)
    flagged = ranked[ranked["status"].isin([PriorityStatus.PRIORITY.value, PriorityStatus.WATCH.value])]
    at = open_page("priority", H1_PARAMS, window="period")
    if flagged.empty:  # the golden half-year flags no county: the page says so in words
        assert any("没有县（市、区）列为重点督导或关注" in i.value for i in at.info)
    else:
        text = " ".join(m.value for m in at.markdown)
        assert all(name in text for name in flagged["name"])


def test_priority_flagged_counties_on_demo_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The golden half-year flags no county; the demo province has planted ones: their sentences are read out."""
    url = f"duckdb:///{tmp_path / 'demo.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    load_demo(engine, 60_000, 20240101, H1.end)
    ranked = priority_counties(engine, H1, scope=WHOLE_PROVINCE)
    cities = region_table(engine, TableRequest(Level.CITY, H1, metrics=("received",), scope=WHOLE_PROVINCE))
    city_names = dict(cities[["code", "name"]].values)
    engine.dispose()
    flagged = ranked[ranked["status"].isin([PriorityStatus.PRIORITY.value, PriorityStatus.WATCH.value])]
    assert not flagged.empty, "the demo generator plants priority counties"
    monkeypatch.setenv("DATABASE_URL", url)
    at = open_page("priority", H1_PARAMS, window="period")
    shown = metrics_shown(at)
    assert shown["▲ 重点督导"] == f"{(ranked['status'] == PriorityStatus.PRIORITY.value).sum()} 个"
    assert shown["◆ 关注"] == f"{(ranked['status'] == PriorityStatus.WATCH.value).sum()} 个"
    lines = [m.value for m in at.markdown if "：初次举报" in m.value]
    assert len(lines) == len(flagged)
    order = [PriorityStatus.PRIORITY.label if "重点督导**" in line else PriorityStatus.WATCH.label for line in lines]
    assert order == sorted(order, key=[PriorityStatus.PRIORITY.label, PriorityStatus.WATCH.label].index)
    expected = [f"{plain_markdown(city)}　{plain_markdown(sentence)}"
                for city, sentence in zip(flagged["city_code"].map(lambda c: city_names[c]), flagged["sentence"], strict=True)]
    assert sorted(line.split("　", 1)[1] for line in lines) == sorted(expected)


def test_overdue_cards_and_buckets(golden_url: str, golden: sa.Engine) -> None:
    province = row_of(golden, Level.PROVINCE, "370000")
    ledger = overdue_cases(golden, H1.as_of_date, scope=WHOLE_PROVINCE)
    at = open_page("overdue", H1_PARAMS)
    shown = metrics_shown(at)
    assert shown["超期未办结"] == fmt_value("overdue", province["overdue"]) == f"{len(ledger):,}"
    assert shown["初次举报超期未办结"] == fmt_value("first_overdue", province["first_overdue"])
    assert shown["超期 90 天以上"] == f"{int((ledger['days_overdue'] > 90).sum()):,}"
    assert shown["最长超期天数"] == f"{int(ledger['days_overdue'].max()):,} 天"
    cities, counties, cases = (d.value for d in at.dataframe[:3])
    assert cities["total"].sum() == counties["total"].sum() == len(cases) == len(ledger)
    assert list(counties["total"]) == sorted(counties["total"], reverse=True)
    assert list(cases["件号"]) == list(ledger["case_id"])  # most overdue first
    assert set(cases["初次举报"]) <= {"是", "否"}
    assert (cases["初次举报"] == "是").sum() == province["first_overdue"]


def test_overdue_city_filter(golden_url: str, golden: sa.Engine) -> None:
    ledger = overdue_cases(golden, H1.as_of_date, parent=JINING, scope=WHOLE_PROVINCE)
    at = open_page("overdue", H1_PARAMS)
    at.selectbox(key="overdue_city").select(JINING).run()
    assert not at.exception
    counties, cases = at.dataframe[1].value, at.dataframe[2].value
    assert counties["total"].sum() == len(cases) == len(ledger)
    assert set(cases["所属市"]) == {"济宁市"}


def test_satisfaction_cards_and_cities(golden_url: str, golden: sa.Engine) -> None:
    ids = ("satisfaction_rate", "rating_rate", "dispute_rate", "closed", "rated", "disputed")
    at = open_page("satisfaction", H1_PARAMS)
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.PROVINCE, "370000"), ids)
    cities = region_table(golden, TableRequest(Level.CITY, H1, scope=WHOLE_PROVINCE))
    table = at.dataframe[0].value
    assert list(table["code"]) == list(cities["code"])
    # tables show rates in percentage points (one decimal on screen)
    assert table["satisfaction_rate"].to_numpy() == pytest.approx(cities["satisfaction_rate"].to_numpy() * 100, nan_ok=True)
    ratings = at.dataframe[1].value
    assert list(ratings["label"]) == ["满意", "基本满意", "不满意", "未评价"]
    assert ratings["cases"].sum() == row_of(golden, Level.PROVINCE, "370000")["closed"]
    # shares in percentage points with one decimal, like every rate (not a ratio shown as 49.45%)
    assert ratings["share"].sum() == pytest.approx(100.0)


# --- drill-down through the URL ----------------------------------------------------------------

def _record_maps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict, pd.DataFrame, str]]:
    """(GeoJSON, units, metric) of every map the page draws."""
    import ui.geo

    drawn, real = [], ui.geo.choropleth

    def record(geojson, frame, metric, *args, **kwargs):
        drawn.append((geojson, frame, ui.geo.measure_of(metric).column))  # a metric id, or a MapMeasure's column
        return real(geojson, frame, metric, *args, **kwargs)

    monkeypatch.setattr(ui.geo, "choropleth", record)
    return drawn


def test_drilldown_province(golden_url: str, golden: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    maps = _record_maps(monkeypatch)
    at = open_page("drilldown", H1_PARAMS, region="370000")
    assert at.title[0].value == "山东省"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.PROVINCE, "370000"))
    cities = region_table(golden, TableRequest(Level.CITY, H1, scope=WHOLE_PROVINCE))
    assert list(at.dataframe[0].value["name"]) == list(cities["name"])
    (geojson, units, metric_id), = maps[-1:]  # the map of the 16 cities, coloured by the chosen metric
    assert {f["properties"]["code"] for f in geojson["features"]} == set(cities["code"])
    assert len(geojson["features"]) == 16 and metric_id == at.selectbox(key="child_metric").value
    pd.testing.assert_series_equal(units.set_index("code")[metric_id].sort_index(),
                                   cities.set_index("code")[metric_id].sort_index())


def test_drilldown_city(golden_url: str, golden: sa.Engine) -> None:
    at = open_page("drilldown", H1_PARAMS, region=JINING)
    assert at.title[0].value == "济宁市"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.CITY, JINING))
    children = region_table(golden, TableRequest(Level.COUNTY, H1, parent=JINING, scope=WHOLE_PROVINCE))
    assert list(at.dataframe[0].value["code"]) == list(children["code"])
    assert "任城区" in set(at.dataframe[0].value["name"])


def test_drilldown_county_shows_its_cases(golden_url: str, golden: sa.Engine) -> None:
    at = open_page("drilldown", H1_PARAMS, region=RENCHENG)
    assert at.title[0].value == "任城区"
    assert metrics_shown(at) == expected_cards(row_of(golden, Level.COUNTY, RENCHENG))
    cases = case_list(golden, RENCHENG, H1, limit=None, scope=WHOLE_PROVINCE)
    shown = at.dataframe[0].value
    assert sorted(shown["件号"]) == sorted(cases["case_id"])


def test_drilldown_unknown_region_falls_back_to_province(golden_url: str) -> None:
    at = open_page("drilldown", H1_PARAMS, region="999999")
    assert at.title[0].value == "山东省"
    assert any("999999" in w.value for w in at.warning)


# --- pages are functions, run by app.py -------------------------------------------------------

def test_a_page_file_run_by_itself_hands_over_to_app_py(golden_url: str) -> None:
    """What Streamlit's pages-folder mode does on a fresh server (pages/__init__.py): the file only
    hands over, and app.py draws its frame and the page of the URL (here none: the overview)."""
    at = AppTest.from_file(str(REPO_ROOT / "pages" / "data.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["山东省 信访举报督导总览"]
    assert at.sidebar.selectbox and not at.code and not at.get("file_uploader")


@pytest.mark.parametrize("page", ("data", "audit"))
def test_province_only_pages_refuse_a_city_scope(golden_url: str, page: str) -> None:
    """Behind the navigation, a second lock: called with a city's data, these pages refuse to read."""
    render = importlib.import_module(f"pages.{page}").render
    with pytest.raises(PermissionError, match="仅限省级用户"):
        render(h1_view(Scope(JINING)), ScopedData(golden_url, "golden", Scope(JINING)))


# --- definitions -------------------------------------------------------------------------------

def test_definitions_list_every_metric_and_note(golden_url: str) -> None:
    at = draw_alone("definitions", h1_view(), ScopedData(golden_url, "golden", WHOLE_PROVINCE))
    assert not at.exception, [e.value for e in at.exception]
    table = at.table[0].value
    assert len(table) == len(METRICS)
    for m in METRICS:
        assert f"`{m.id}`" in set(table["指标代码"]), m.id
    text = "\n".join(md.value.replace("\\", "") for md in at.markdown)
    assert all(note in text for note in COMMON_NOTES)
    assert "1.96" in text and "3.09" in text and "10 件" in text
    assert at.latex


def test_definitions_show_the_settings_in_force(golden_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment's settings file: its values on the page, in the method text and in the settings table."""
    path = tmp_path / "settings.toml"
    path.write_text("[metrics]\ndefault_due_days = 45\nz_priority = 2.5\n[sign_in]\nidle_timeout_hours = 4\n",
                    encoding="utf-8")
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    data = ScopedData(golden_url, "golden", WHOLE_PROVINCE, load_settings(path))
    at = draw_alone("definitions", h1_view(), data)
    assert not at.exception, [e.value for e in at.exception]
    settings = at.table[1].value.set_index("设置文件中的写法")["当前值"]
    assert settings["[metrics] default_due_days"] == "45 天"
    assert settings["[metrics] z_priority"] == "2.5"
    assert settings["[metrics] min_volume"] == "10 件"
    assert settings["[sign_in] idle_timeout_hours"] == "4.0 小时"
    text = "\n".join(md.value.replace("\\", "") for md in at.markdown)
    assert "收件日期后 45 个自然日" in text and "≥ 2.5" in text
    assert any(str(path) in c.value for c in at.caption)
    # a supervisor reads the formulas and the settings in Chinese; the file's keys stay in a column of their own
    assert list(at.table[1].value.columns) == ["设置项", "当前值", "设置文件中的写法"]
    assert at.table[1].value["设置项"].str.contains("[\u4e00-\u9fff]").all()
    formulas = " ".join(latex.value for latex in at.latex)
    assert "初次举报按期办结" in formulas and "综合得分" in formulas
    assert not re.search(r"first|leapfrog|accepted|score", formulas)


def test_a_wrong_settings_file_stops_the_app_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[metrics]\ndefault_due_days = 0\n", encoding="utf-8")
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert len(at.error) == 1 and "设置文件有误" in at.error[0].value and "default_due_days" in at.error[0].value
    assert not at.metric and not at.title  # nothing else drawn


def test_a_wrong_duckdb_memory_limit_stops_the_app_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DUCKDB_MEMORY_VARIABLE, "lots")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert len(at.error) == 1 and DUCKDB_MEMORY_VARIABLE in at.error[0].value and "“lots”" in at.error[0].value
    assert not at.metric and not at.title


def test_priority_tests_the_same_rolling_window_as_the_meeting_by_default(golden_url: str, golden: sa.Engine) -> None:
    """One rule for the window of the funnel tests: the page, like the 周例会, tests the 12 months up to
    the 截止日期 unless the viewer picks the sidebar's period; the choice is named on the page."""
    at = open_page("priority", view_params("2024-06-24", "2024-06-30"))  # one week in the sidebar
    window = Period(dt.date(2023, 7, 1), dt.date(2024, 6, 30), dt.date(2024, 6, 30))
    assert any("检验窗口：2023-07-01 至 2024-06-30" in c.value for c in at.caption)
    ranked = priority_counties(golden, window, scope=WHOLE_PROVINCE)
    shown = at.dataframe[0].value
    listed = ranked[ranked["status"] != PriorityStatus.INSUFFICIENT.value]
    assert len(shown) == len(listed) > 0
    assert weekly_report(golden, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE).priority_window == window  # the meeting's
    one_week = open_page("priority", view_params("2024-06-24", "2024-06-30"), window="period")
    assert any("检验窗口：2024-06-24 至 2024-06-30" in c.value for c in one_week.caption)


# --- the 数据 page -----------------------------------------------------------------------------

def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def test_data_page_shows_database_and_coverage(golden_url: str) -> None:
    at = open_page("data", H1_PARAMS)
    assert at.code[0].value == golden_url
    shown = metrics_shown(at)
    assert shown["案件数"] == "6,000"
    assert (shown["最早收件日期"], shown["最晚收件日期"]) == ("2022-07-01", "2024-06-30")
    checks = at.table[0].value
    assert "已办结但未评价" in set(checks["检查项"].str.replace("\\", ""))
    (status,) = [d.value for d in at.dataframe if "latest_received" in d.value.columns]  # 上报情况
    assert len(status) == 16 and status["last_import"].isna().all()  # everything was imported by the province


def test_rejected_upload_lists_problems_and_writes_nothing(golden_url: str, golden: sa.Engine) -> None:
    before = case_count(golden)
    bad = pd.read_csv(GOLDEN_CASES, dtype=str).head(5)
    bad.loc[2, "received_date"] = "2024-02-30"
    bad["case_id"] = "NEW-" + bad["case_id"]
    at = open_page("data", H1_PARAMS)
    at.file_uploader(key="upload_file").upload("bad.csv", _csv(bad), "text/csv")
    at.run()
    at.button(key="upload_run").click().run()
    assert not at.exception
    assert at.error and "未作任何更改" in at.error[0].value
    tables = [d.value for d in at.dataframe if list(d.value.columns) == ["类别", "行", "列", "值", "问题"]]
    assert len(tables) == 2  # the preview saw them before the click, the refusal lists them again
    problems = tables[-1]
    assert (problems["行"] == 4).any() and (problems["值"] == "2024-02-30").any()
    assert case_count(golden) == before


def test_preview_maps_an_unknown_column_and_saves_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A system's export names the 件号 column 流水号: the preview shows it unread and the case_id missing;
    mapping it by hand makes the check pass; the mapping is saved and the CLI imports with it."""
    url = f"duckdb:///{tmp_path / 'mapping.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    rows = pd.read_csv(GOLDEN_CASES, dtype=str).head(5).rename(columns={"case_id": "流水号"})
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    switch_to(at, "data").run()
    at.file_uploader(key="upload_file").upload("export.csv", _csv(rows), "text/csv")
    at.run()
    assert [w.value for w in at.warning if "校验" in w.value] == ["校验发现 1 个问题，现在导入将被整批拒绝："]
    problems = [d.value for d in at.dataframe if list(d.value.columns) == ["类别", "行", "列", "值", "问题"]][0]
    assert list(problems["问题"]) == ["缺少必需的列"] and list(problems["列"]) == ["case_id"]
    # a mapping saved for this system (as the editor would: 流水号 -> case_id), chosen by name
    save_mapping(engine, "sheng", "某县信访系统", {"流水号": "case_id"})
    at.run()
    at.selectbox(key="mapping_name").select("某县信访系统").run()
    assert not [w for w in at.warning if "校验" in w.value] and at.success[0].value == "校验通过：5 件，可以导入。"
    at.button(key="upload_run").click().run()
    assert case_count(engine) == 5 and any("导入成功" in m.value for m in at.success)
    engine.dispose()


def test_successful_upload_loads_and_refreshes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'upload.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    monkeypatch.setenv("DATABASE_URL", url)
    rows = pd.read_csv(GOLDEN_CASES, dtype=str).head(40)
    rows["<b>备注</b>"] = "<script>alert(1)</script>"  # an unknown column: dropped, and never rendered as HTML
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    switch_to(at, "data").run()
    assert metrics_shown(at)["案件数"] == "0"
    at.file_uploader(key="upload_file").upload("cases.csv", _csv(rows), "text/csv")
    at.run()
    at.button(key="upload_run").click().run()
    assert not at.exception
    assert at.success and "40" in at.success[0].value
    assert metrics_shown(at)["案件数"] == "40"
    assert case_count(engine) == 40
    dropped = [d.value for d in at.dataframe if "忽略的列" in d.value.columns]
    assert any("<b>备注</b>" in set(d["忽略的列"]) for d in dropped)
    rendered = " ".join(e.value for e in [*at.markdown, *at.caption, *at.success, *at.info])
    assert "<script" not in rendered and "<b>" not in rendered
    engine.dispose()


def test_quality_note_checks_against_the_sidebar_date(golden_url: str) -> None:
    """上周 as of Wednesday 2024-06-26 is the week to 06-23, but the dates are checked against 06-26, the
    date the sidebar shows, and the note says so."""
    at = open_page("data", {"period": "last_week", "asof": "2024-06-26"})
    assert any("按侧边栏的截止日期 2024-06-26 检查" in c.value for c in at.caption)
    assert not any("2024-06-23" in c.value for c in at.caption)


def test_demo_cases_among_real_ones_are_counted_and_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real import beside the demo province: the banner counts the demo cases left and says how to remove
    them; the 数据 page's button removes them (after a confirmation), the real cases stay, the banner goes."""
    url = f"duckdb:///{tmp_path / 'mixed.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    load_demo(engine, 300, 7, dt.date(2024, 6, 30))
    import_file(engine, GOLDEN_CASES)
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(H1_PARAMS)
    at.run()
    banner = [w.value for w in at.warning if "演示数据" in w.value]
    assert banner == ["演示数据未清除：全部 6,300 件中有 300 件是系统生成的模拟案件，与真实案件一并统计。"
                      "删除：“数据”页的“删除演示数据”按钮，或命令 python -m data_access demo --remove（真实案件不受影响）。"]
    switch_to(at, "data").run()
    assert at.button(key="demo_remove").disabled
    at.checkbox(key="demo_remove_confirm").check().run()
    at.button(key="demo_remove").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success and "已删除演示数据 300 件" in at.success[0].value
    assert not [w.value for w in at.warning if "演示数据" in w.value]
    assert metrics_shown(at)["案件数"] == "6,000" and case_count(engine) == 6000
    assert recent(engine, 5)["detail"].str.contains("删除演示数据 300 件").any()
    engine.dispose()


def _nodes(node: object):
    """Every block and element of an AppTest tree, depth first."""
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _sent_to_the_browser(at: AppTest) -> bytes:
    """Every element and block as the protobuf bytes Streamlit sends (tables as their Arrow data), plus each
    element's value as AppTest reads it."""
    parts = []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(proto.SerializeToString())
        value = getattr(node, "value", None)
        parts.append((value.to_string() if isinstance(value, pd.DataFrame) else str(value)).encode())
    return b"\n".join(parts)


def test_the_preview_never_shows_a_reporter_s_identity(golden_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """举报人 张某 and 13905374111 (in a column named as a phone, one named neutrally, and typed into 渠道): the
    preview says the identity columns are masked and how many values they hold; neither string reaches
    any element of the page, nor a log record."""
    caplog.set_level(logging.DEBUG)
    rows = pd.read_csv(GOLDEN_CASES, dtype=str).head(3).assign(case_id=["PV-1", "PV-2", "PV-3"])
    rows["举报人"] = ["张某", "", ""]
    rows["联系电话"] = ["13905374111", "", ""]
    rows["备用"] = ["", "13905374111", ""]  # a neutral header: masked by the shape of its values
    rows.loc[2, "channel"] = "13905374111"  # typed into a column that is imported: the problem hides it
    at = open_page("data", H1_PARAMS)
    at.file_uploader(key="upload_file").upload("pv.csv", _csv(rows), "text/csv")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    masked = [d.value for d in at.dataframe if "处理" in d.value.columns][0]
    assert masked.to_dict("records") == [{"文件中的列": "举报人", "处理": "已屏蔽（不导入）", "非空值个数": 1},
                                         {"文件中的列": "联系电话", "处理": "已屏蔽（不导入）", "非空值个数": 1},
                                         {"文件中的列": "备用", "处理": "已屏蔽（不导入）", "非空值个数": 1}]
    problems = [d.value for d in at.dataframe if "问题" in d.value.columns][0]
    assert list(problems["行"]) == [4] and list(problems["列"]) == ["channel"]
    at.button(key="upload_run").click().run()  # the refusal lists the problem again
    assert at.error
    sent = _sent_to_the_browser(at)
    assert "已屏蔽（不导入）".encode() in sent and b"PV-1" in sent  # the walk does see the page's text and tables
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for secret in ("张某", "13905374111"):
        assert secret.encode() not in sent, secret
        assert secret not in logged, secret


def test_the_data_page_offers_the_blank_template(golden_url: str) -> None:
    at = open_page("data", H1_PARAMS)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "下载空白模板（Excel，含填写说明）" in labels


def test_replace_needs_confirmation(golden_url: str) -> None:
    at = open_page("data", H1_PARAMS)
    at.file_uploader(key="upload_file").upload("x.csv", b"case_id\n", "text/csv")
    at.run()
    at.radio(key="upload_mode").set_value("replace").run()
    assert at.button(key="upload_run").disabled
    at.checkbox(key="upload_confirm").check().run()
    assert not at.button(key="upload_run").disabled


# --- 形势分析 ------------------------------------------------------------------------------------

def test_analysis_names_the_rising_hot_spots_and_maps_every_city(golden_url: str, golden: sa.Engine) -> None:
    from metrics.trends import TrendBy, trends

    at = open_page("analysis", H1_PARAMS)
    assert not at.exception, [e.value for e in at.exception]
    rows = trends(golden, Level.CITY, TrendBy.DOMAIN, H1, scope=WHOLE_PROVINCE)
    rising = rows[rows["rising"]]
    shown = [m.value for m in at.markdown if m.value.startswith("**▲ 上升**")]
    assert len(shown) == len(rising) > 0
    top = rising.sort_values("z", ascending=False).iloc[0]
    assert f"{top['name']}{top['value']}领域收件{int(top['received'])}件" in shown[0]
    assert at.subheader[0].value == f"反映集中且明显上升（{len(rising)} 处）"
    details = [d.value for d in at.dataframe if "label" in d.value.columns][0]
    assert len(details) == len(rows) and set(details["name"]) == set(rows["name"])


def test_analysis_maps_a_chosen_domain_and_offers_the_report(golden_url: str, golden: sa.Engine) -> None:
    from metrics.trends import TrendBy, trends

    at = open_page("analysis", H1_PARAMS)
    rows = trends(golden, Level.CITY, TrendBy.DOMAIN, H1, scope=WHOLE_PROVINCE)
    order = rows.groupby("value")["received"].sum().sort_values(ascending=False).index.tolist()
    chooser = at.selectbox(key="analysis_map_domain")
    assert chooser.options[0] == order[0] and chooser.value == order[0]
    chooser.set_value(order[1]).run()
    assert not at.exception, [e.value for e in at.exception]
    legend = [m.value for m in at.markdown if m.value.startswith(f"{order[1]}领域占本地区收件比例")]
    assert len(legend) == 1 and "%" in legend[0]
    assert any(b.label == "下载形势分析报告（Word）" for b in at.get("download_button"))
    assert "关于2024年上半年山东省信访举报形势的分析报告" in "".join(c.value for c in at.caption)


def test_overdue_maps_the_counties_by_warning_colour(golden_url: str, golden: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from metrics.warnings import warning_counts

    maps = _record_maps(monkeypatch)
    at = open_page("overdue", H1_PARAMS)
    counts = warning_counts(golden, H1.as_of_date, Level.COUNTY, scope=WHOLE_PROVINCE).set_index("code")
    (_, units, column), = maps[-1:]
    assert column == "value" and dict(zip(units["code"], units["value"], strict=True)) == counts["red"].astype(float).to_dict()
    at.segmented_control(key="overdue_map_colour").set_value("yellow").run()
    (_, units, _), = maps[-1:]
    assert dict(zip(units["code"], units["value"], strict=True)) == counts["yellow"].astype(float).to_dict()
    assert any(m.value.startswith("临期（黄）件数") for m in at.markdown)
