"""The app's plumbing: the engine, first-start demo data, the data version, load facts.

Pages read data through ui.scoped alone (the one door, which stamps the viewer's scope on every
call); this module serves app.py and the ui package. Every cached function takes the database URL
and the data version (changes with every load), so a key holds every argument that changes the answer.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import streamlit as st

from data_access.demo.loading import load_demo
from data_access.identity.auth import SignInSettings, load_sign_in_settings
from data_access.imports import inventory
from data_access.imports.limits import ImportLimits, load_import_limits
from data_access.store.config import settings_path
from data_access.store.database import DemoShare, case_count, demo_share, ensure_initialized, last_received, latest_load
from data_access.store.engine import DEFAULT_DB_PATH, duckdb_arguments, make_engine, resolve_url
from data_access.supervision.hotline_settings import HotlineSettings, load_hotline_settings
from metrics import summary
from metrics.settings import Settings, load_settings
from presentation.documents import DocumentSettings, load_document_settings

from .guard import DB_ERRORS

LOG = logging.getLogger(__name__)

DEMO_SEED = 20240101


@dataclass(frozen=True)
class SettingsInForce:
    """Every section of the settings file."""

    metrics: Settings
    sign_in: SignInSettings
    hotline: HotlineSettings
    documents: DocumentSettings
    imports: ImportLimits


@st.cache_resource(show_spinner=False)
def _settings_file(path: str, modified: float) -> SettingsInForce:
    """Every section of the settings file, read and checked once per version of the file."""
    file = Path(path)
    return SettingsInForce(load_settings(file), load_sign_in_settings(file), load_hotline_settings(file),
                           load_document_settings(file), load_import_limits(file))


def _settings_in_force() -> SettingsInForce:
    path = settings_path()
    try:
        modified = path.stat().st_mtime
    except OSError:  # no default file: the defaults; a named file that is missing: the reason (read_settings_file)
        modified = 0.0
    return _settings_file(str(path), modified)


def settings() -> Settings:
    """The metric settings in force; SettingsError (Chinese, naming key and value) when the file is wrong, or
    when the environment's DuckDB memory limit is not a size."""
    duckdb_arguments()
    return _settings_in_force().metrics


def sign_in_settings() -> SignInSettings:
    """The sign-in settings in force (SettingsError as for settings())."""
    return _settings_in_force().sign_in


def hotline_settings() -> HotlineSettings:
    """The 12388 cycle's settings in force (SettingsError as for settings())."""
    return _settings_in_force().hotline


def import_limits() -> ImportLimits:
    """What an uploaded file may cost, in force (SettingsError as for settings())."""
    return _settings_in_force().imports


def document_settings() -> DocumentSettings:
    """The documents' issuer and numbering in force (SettingsError as for settings())."""
    return _settings_in_force().documents


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

    def progress(fraction: float) -> None:
        bar.progress(min(fraction, 1.0), text=f"首次启动：正在生成演示数据 {fraction * 100:.0f}%")

    load_demo(engine(), None, DEMO_SEED, dt.date.today(), progress=progress, actor="system")
    bar.empty()
    st.cache_data.clear()


_VERSION_KEY = "_data_version_this_run"
_SUMMARY_KEY = "_summary_currency_this_run"


def refresh_data_version() -> str:
    """Read the data's fingerprint at the start of a run: app.py calls this first thing in every run, so every
    page of the run keys its caches on the same version without asking the database again (an import reruns the
    app). The version is the app's writes (data_access.store.changes) and the case table's fingerprint as
    metrics.summary reads it (at most every summary_check_seconds), so that cases changed in place behind the
    loader's back make every cache read anew too; a stale per-county daily summary is rebuilt first."""
    url, settings_in_force = database_url(), settings()
    version = inventory.data_version(engine())
    currency = summary_currency(url, settings_in_force)
    if currency is not None and not derived_tables_current(url, currency, settings_in_force) and summary_brought_up_to_date(
            url, version, currency.fingerprint, settings_in_force):
        version, currency = inventory.data_version(engine()), summary_currency(url, settings_in_force)
    st.session_state[_SUMMARY_KEY] = currency
    fingerprint = currency.fingerprint if currency is not None else None
    version = f"{version}|{fingerprint or ''}"
    st.session_state[_VERSION_KEY] = version
    return version


def summary_currency(url: str, settings_in_force: Settings) -> summary.Currency | None:
    """Whether the tables read the per-county daily summary now, and if not why (None: this database's tables never
    read it). Not a Streamlit cache: metrics.summary keeps its costly part, the fingerprint, for
    summary_check_seconds."""
    with get_engine(url).connect() as conn:
        return summary.currency(conn, settings_in_force) if summary.applies(conn) else None


def derived_tables_current(url: str, currency: summary.Currency, settings_in_force: Settings) -> bool:
    """The summary is current (`currency`), and so are the repeat-matters screening's linked cases, which are rebuilt
    with it (metrics.summary.links_current: a database of a version before them gets them at its first run)."""
    if not currency.current:
        return False
    with get_engine(url).connect() as conn:
        return summary.links_current(conn, settings_in_force)


def summary_in_this_run() -> summary.Currency | None:
    """The summary's currency as refresh_data_version found it for this run (None: not read on this database)."""
    return st.session_state.get(_SUMMARY_KEY)


@st.cache_resource(show_spinner="正在更新按县按日汇总表……")
def summary_brought_up_to_date(url: str, version: str, fingerprint: str | None, settings_in_force: Settings) -> bool:
    """Once per data version, case-table fingerprint and process: rebuild the per-county daily summary when cases
    were loaded by a program that does not keep it (python -m data_access import) or changed in place. A database
    that refuses the write (a read-only replica) keeps the tables reading the cases: same numbers, slower."""
    try:
        return summary.refresh(get_engine(url), settings_in_force)
    except DB_ERRORS as exc:
        LOG.warning("per-county daily summary not rebuilt (%s): tables scan the cases", exc)
        return False


def data_version() -> str:
    """The data's fingerprint as read at the start of this run (read now if nothing has read it)."""
    version = st.session_state.get(_VERSION_KEY)
    return version if version is not None else refresh_data_version()


@st.cache_data(show_spinner=False, ttl=600)
def demo_cases(url: str, version: str) -> DemoShare:
    """How many of the cases are demo cases."""
    return demo_share(get_engine(url))


@st.cache_data(show_spinner=False, ttl=600)
def latest_received(url: str, version: str) -> dt.date | None:
    """The last received_date in the whole case table: the data's date, the default as-of date."""
    return last_received(get_engine(url))


@st.cache_data(show_spinner=False, ttl=600)
def last_load(url: str, version: str) -> dict | None:
    """The most recent row of the import log."""
    return latest_load(get_engine(url))


@st.cache_data(show_spinner=False, ttl=600)
def quality_warnings(url: str, version: str, as_of: dt.date, default_due_days: int) -> list[inventory.QualityWarning]:
    """inventory.quality_warnings, cached."""
    return inventory.quality_warnings(get_engine(url), as_of, default_due_days)
