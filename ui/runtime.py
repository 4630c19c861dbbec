"""The page/ui boundary: the engine, first-start demo data, and cached calls into metrics/.

Every cached function takes the database URL, the data version (changes with every load) and
the full request, so a key holds every argument that changes the answer.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from data_access import inventory
from data_access.database import load_demo
from data_access.database import case_count, ensure_initialized, is_demo_data, latest_load
from data_access.engine import DEFAULT_DB_PATH, make_engine, resolve_url
from metrics.caselists import OverdueOrder, case_list, overdue_cases
from metrics.distribution import rating_distribution
from metrics.priority import priority_counties
from metrics.request import CaseFilter, Period, TableRequest
from metrics.series import SeriesRequest, metric_series
from metrics.settings import DEFAULT_SETTINGS, Settings
from metrics.table import region_table
from metrics.weekly import WeeklyReport, weekly_report

DEMO_SEED = 20240101


def database_url() -> str:
    """The URL the app reads: $DATABASE_URL, else the embedded DuckDB file."""
    return resolve_url(None)


@st.cache_resource(show_spinner=False)
def get_engine(url: str) -> sa.Engine:
    """One engine per URL for the whole server; tables are created on first use."""
    engine = make_engine(url)
    ensure_initialized(engine)
    return engine


def engine() -> sa.Engine:
    """The engine of the configured database."""
    return get_engine(database_url())


def fill_demo_on_first_start() -> None:
    """On the embedded default database with no cases, generate the demo province with a progress bar."""
    url = database_url()
    if url != f"duckdb:///{DEFAULT_DB_PATH}" or case_count(engine()) > 0:
        return
    bar = st.progress(0.0, text="首次启动：正在生成演示数据（约 37 万件，首次需数秒）……")
    load_demo(engine(), None, DEMO_SEED, dt.date.today(),
              progress=lambda f: bar.progress(min(f, 1.0), text=f"首次启动：正在生成演示数据 {f * 100:.0f}%"))
    bar.empty()
    st.cache_data.clear()


_VERSION_KEY = "_data_version_this_run"


def refresh_data_version() -> str:
    """Read the data's fingerprint (row count of the load log and its last time) at the start of a
    run: app.py calls this first thing in every run, so every page of the run keys its caches on
    the same version without asking the database again (an import reruns the app)."""
    version = inventory.data_version(engine())
    st.session_state[_VERSION_KEY] = version
    return version


def data_version() -> str:
    """The data's fingerprint as read at the start of this run (read now if nothing has read it)."""
    version = st.session_state.get(_VERSION_KEY)
    return version if version is not None else refresh_data_version()


@st.cache_data(show_spinner=False, ttl=600)
def demo_loaded(url: str, version: str) -> bool:
    """True when the latest load was the demo generator."""
    return is_demo_data(get_engine(url))


@st.cache_data(show_spinner=False, ttl=600)
def coverage(url: str, version: str) -> inventory.Coverage:
    """Row counts and date span of the case table."""
    return inventory.coverage(get_engine(url))


@st.cache_data(show_spinner=False, ttl=600)
def last_load(url: str, version: str) -> dict | None:
    """The most recent row of the import log."""
    return latest_load(get_engine(url))


@st.cache_data(show_spinner=False, ttl=600)
def quality_warnings(url: str, version: str, as_of: dt.date) -> list[inventory.QualityWarning]:
    """inventory.quality_warnings, cached."""
    return inventory.quality_warnings(get_engine(url), as_of)


@st.cache_data(show_spinner=False, max_entries=512)
def table(url: str, version: str, request: TableRequest, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """metrics.table.region_table, cached."""
    return region_table(get_engine(url), request, settings)


@st.cache_data(show_spinner=False, max_entries=256)
def series(url: str, version: str, request: SeriesRequest, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """metrics.series.metric_series, cached."""
    return metric_series(get_engine(url), request, settings)


@st.cache_data(show_spinner=False, max_entries=128)
def priority(url: str, version: str, period: Period, filters: CaseFilter, scope: str | None,
             settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """metrics.priority.priority_counties, cached (pooled rates kept in the columns theta/phi)."""
    ranked = priority_counties(get_engine(url), period, filters, scope, settings)
    ranked["theta"], ranked["phi"] = ranked.attrs["theta"], ranked.attrs["phi"]
    return ranked


@st.cache_data(show_spinner=False, max_entries=128)
def overdue(url: str, version: str, as_of: dt.date, parent: str | None, scope: str | None, filters: CaseFilter,
            settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """metrics.caselists.overdue_cases (most overdue first), cached."""
    return overdue_cases(get_engine(url), as_of, parent=parent, scope=scope, filters=filters,
                         order=OverdueOrder.MOST_OVERDUE, settings=settings)


@st.cache_data(show_spinner=False, max_entries=128)
def cases_of_county(url: str, version: str, county: str, period: Period, filters: CaseFilter, scope: str | None,
                    settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """metrics.caselists.case_list, cached."""
    return case_list(get_engine(url), county, period, filters=filters, scope=scope, limit=20000, settings=settings)


@st.cache_data(show_spinner=False, max_entries=128)
def ratings(url: str, version: str, period: Period, region: str | None, filters: CaseFilter, scope: str | None,
            settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """metrics.distribution.rating_distribution, cached."""
    return rating_distribution(get_engine(url), period, region, filters, scope, settings)


@st.cache_data(show_spinner=False, max_entries=32)
def weekly(url: str, version: str, as_of: dt.date, filters: CaseFilter, scope: str | None,
           settings: Settings = DEFAULT_SETTINGS) -> WeeklyReport:
    """metrics.weekly.weekly_report, cached."""
    return weekly_report(get_engine(url), as_of, filters, scope, settings)
