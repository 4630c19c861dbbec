"""The per-county daily summary (metrics/summary.py): a region table summed from it equals the same table
aggregated over the cases, value for value, on every engine; and it is read only when current.

Equality is checked on the golden cases (every golden period, every level, A before, inside and after
the period), on the fixed random set of test_metrics_properties (every backend) and on random sets
drawn by hypothesis (DuckDB), whose dates fall on and beside the period's bounds.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given

from data_access.database import init_database
from data_access.engine import make_engine
from data_access.enums import Level
from data_access.importer import import_file
from data_access.schema import cases
from data_access.scope import WHOLE_PROVINCE, Scope
from metrics import summary
from metrics.cli import main as metrics_cli
from metrics.request import CaseFilter, Period, TableRequest
from metrics.series import Grain, SeriesRequest, metric_series
from metrics.settings import DEFAULT_SETTINGS, Settings
from metrics.signals import deterioration_signals, p_chart
from metrics.table import reads_from_summary, region_table
from tests import test_metrics_properties
from tests.conftest import BACKENDS, GOLDEN_CASES, REPO_ROOT, database_of_its_own
from tests.test_metrics_golden import PERIODS as GOLDEN_PERIODS
from tests.test_metrics_properties import FIXED_CASES, FIXED_PERIODS, PROPERTY_SETTINGS, load, scenario

duck = test_metrics_properties.duck  # the fixture: a DuckDB database of this module's own


def rebuild(engine: sa.Engine, settings: Settings = DEFAULT_SETTINGS) -> int:
    with engine.begin() as conn:
        return summary.rebuild(conn, settings)


def uses_summary(engine: sa.Engine, request: TableRequest, settings: Settings = DEFAULT_SETTINGS,
                 from_summary: bool | None = True) -> bool:
    with engine.connect() as conn:
        return reads_from_summary(conn, request, settings, from_summary)


def assert_summary_equals_scan(engine: sa.Engine, request: TableRequest) -> None:
    """The table summed from the summary is the table aggregated over the cases, exactly."""
    assert uses_summary(engine, request), "the summary should be current and serve this request"
    from_summary = region_table(engine, request, from_summary=True)
    scanned = region_table(engine, request, from_summary=False)
    pd.testing.assert_frame_equal(from_summary, scanned, check_exact=True)


def as_of_variants(period: Period) -> list[Period]:
    """The period read as of its own A, long before it, the day before it, inside it and after it."""
    days = {period.as_of_date, period.start - dt.timedelta(days=75), period.start - dt.timedelta(days=1),
            period.start + (period.end - period.start) / 2, period.end + dt.timedelta(days=40)}
    return [Period(period.start, period.end, a) for a in sorted(days)]


@pytest.fixture(scope="module", params=BACKENDS)
def golden_summary(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The golden cases in a database of this module's own, with the summary built."""
    engine = database_of_its_own(request.param, "summary", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    rebuild(engine)
    return engine


@pytest.mark.parametrize("golden", GOLDEN_PERIODS, ids=lambda g: g.name)
@pytest.mark.parametrize("level", tuple(Level), ids=lambda lv: lv.value)
def test_golden_tables_from_summary_equal_the_case_scan(golden_summary: sa.Engine, golden, level: Level) -> None:
    for period in as_of_variants(golden.period):
        assert_summary_equals_scan(golden_summary, TableRequest(level, period, scope=WHOLE_PROVINCE))


def test_parent_and_scope_limit_the_summed_rows(golden_summary: sa.Engine) -> None:
    period = GOLDEN_PERIODS[0].period
    with golden_summary.connect() as conn:
        cities = [r[0] for r in conn.execute(sa.text("SELECT code FROM regions WHERE level = 'city' ORDER BY code"))]
    city = cities[0]
    for request in (TableRequest(Level.COUNTY, period, parent=city, scope=WHOLE_PROVINCE),
                    TableRequest(Level.COUNTY, period, scope=Scope(city)),
                    TableRequest(Level.CITY, period, scope=Scope(city))):
        assert_summary_equals_scan(golden_summary, request)
    table = region_table(golden_summary, TableRequest(Level.COUNTY, period, parent=city, scope=WHOLE_PROVINCE),
                         from_summary=True)
    assert set(table["parent_code"]) == {city} and table["received"].sum() > 0


def test_fixed_random_set_on_every_backend(engine: sa.Engine) -> None:
    load(engine, FIXED_CASES)
    rebuild(engine)
    for period in FIXED_PERIODS:
        for variant in as_of_variants(period):
            for level in Level:
                assert_summary_equals_scan(engine, TableRequest(level, variant, scope=WHOLE_PROVINCE))


@PROPERTY_SETTINGS
@given(data=scenario())
def test_random_sets_from_summary_equal_the_case_scan(duck: sa.Engine, data) -> None:
    random_cases, period = data
    load(duck, random_cases)
    rebuild(duck)
    for level in (Level.COUNTY, Level.PROVINCE):
        assert_summary_equals_scan(duck, TableRequest(level, period, scope=WHOLE_PROVINCE))


# ------------------------------------------------------------------------------------------ when it is read

def test_the_loader_keeps_it_in_the_loading_transaction(engine: sa.Engine) -> None:
    """Every load rebuilds it, and tables read it by default; a write behind the loader's back (here: the
    table emptied) makes it stale, and the tables read the cases."""
    request = TableRequest(Level.COUNTY, FIXED_PERIODS[0], scope=WHOLE_PROVINCE)
    assert summary.reads_summary(engine)
    load(engine, FIXED_CASES)
    assert uses_summary(engine, request, from_summary=None)
    first = region_table(engine, request)
    load(engine, FIXED_CASES[:40])
    assert uses_summary(engine, request, from_summary=None)
    second = region_table(engine, request)
    pd.testing.assert_frame_equal(second, region_table(engine, request, from_summary=False))
    assert 0 < second["received"].sum() < first["received"].sum()
    assert not uses_summary(engine, request, from_summary=False)
    with engine.begin() as conn:
        conn.execute(cases.delete())
    assert not uses_summary(engine, request, from_summary=None)
    assert region_table(engine, request)["received"].sum() == 0


def test_not_read_for_other_due_days_or_filters(engine: sa.Engine) -> None:
    load(engine, FIXED_CASES)
    rebuild(engine)
    request = TableRequest(Level.COUNTY, FIXED_PERIODS[0], scope=WHOLE_PROVINCE)
    assert uses_summary(engine, request)
    assert not uses_summary(engine, request, Settings(default_due_days=30))
    for filters in (CaseFilter(channels=("letter",)), CaseFilter(domains=("其他",)), CaseFilter(first_report_only=True)):
        assert not uses_summary(engine, TableRequest(Level.COUNTY, FIXED_PERIODS[0], filters=filters, scope=WHOLE_PROVINCE))


def test_not_read_when_a_case_is_due_or_closed_before_its_receipt(engine: sa.Engine) -> None:
    """The loader refuses such cases; a table written by other means that has one is read from the cases."""
    load(engine, FIXED_CASES)
    with engine.begin() as conn:
        case_id = conn.execute(sa.select(sa.func.min(cases.c.case_id))).scalar_one()
        received = conn.execute(sa.select(cases.c.received_date).where(cases.c.case_id == case_id)).scalar_one()
        conn.execute(cases.update().where(cases.c.case_id == case_id)
                     .values(due_date=received - dt.timedelta(days=3)))
    rebuild(engine)
    request = TableRequest(Level.COUNTY, FIXED_PERIODS[0], scope=WHOLE_PROVINCE)
    assert not uses_summary(engine, request)
    with engine.connect() as conn:
        assert not summary.is_current(conn, DEFAULT_SETTINGS)


def test_cli_rebuilds_it(engine: sa.Engine) -> None:
    load(engine, FIXED_CASES)
    out = StringIO()
    assert metrics_cli(["summary", "--db", engine.url.render_as_string(hide_password=False)], out) == 0
    report = json.loads(out.getvalue())
    assert report["current"] is True and report["rows"] > 0
    assert report["read_by_this_engine"] == summary.reads_summary(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(summary.county_day_counts)).scalar_one()
    assert rows == report["rows"]


def test_data_access_command_line_says_to_rebuild_it(tmp_path) -> None:
    """python -m data_access does not load metrics/: its import leaves the summary stale (the tables scan the
    cases meanwhile) and says so; python -m metrics summary brings it up to date."""
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    proc = subprocess.run([sys.executable, "-m", "data_access", "import", str(GOLDEN_CASES), "--db", url],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "python -m metrics summary" in proc.stdout
    engine = make_engine(url)
    request = TableRequest(Level.CITY, GOLDEN_PERIODS[0].period, scope=WHOLE_PROVINCE)
    try:
        assert not uses_summary(engine, request, from_summary=None)
        scanned = region_table(engine, request)
        assert metrics_cli(["summary", "--db", url], StringIO()) == 0
        assert uses_summary(engine, request, from_summary=None)
        pd.testing.assert_frame_equal(region_table(engine, request), scanned)
    finally:
        engine.dispose()


def _stale(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(summary.summary_state.delete())


@pytest.mark.parametrize("as_of", (dt.date(2024, 6, 30), dt.date(2024, 4, 10)))
def test_weekly_counts_of_the_signals_from_summary_equal_the_case_scan(golden_summary: sa.Engine, as_of: dt.date) -> None:
    """The signals and a county's p-chart read the weekly due and on-time counts from the summary when it is
    current (unfiltered), else from the cases: the same frames."""
    county = region_table(golden_summary, TableRequest(Level.COUNTY, GOLDEN_PERIODS[0].period, scope=WHOLE_PROVINCE),
                          from_summary=False).sort_values("due").iloc[-1]["code"]
    try:
        with golden_summary.connect() as conn:
            assert summary.is_current(conn, DEFAULT_SETTINGS)
        read = deterioration_signals(golden_summary, as_of, scope=WHOLE_PROVINCE), p_chart(golden_summary, as_of, county,
                                                                                            scope=WHOLE_PROVINCE)
        _stale(golden_summary)
        scanned = deterioration_signals(golden_summary, as_of, scope=WHOLE_PROVINCE), p_chart(golden_summary, as_of, county,
                                                                                               scope=WHOLE_PROVINCE)
    finally:
        rebuild(golden_summary)
    pd.testing.assert_frame_equal(read[0], scanned[0])
    pd.testing.assert_frame_equal(read[1], scanned[1])
    assert read[1]["due"].sum() > 0 and (read[0]["baseline_due"] > 0).any()


@pytest.mark.parametrize("grain", tuple(Grain), ids=lambda g: g.value)
@pytest.mark.parametrize("golden", GOLDEN_PERIODS, ids=lambda g: g.name)
def test_series_from_summary_equal_the_case_scan(golden_summary: sa.Engine, golden, grain: Grain) -> None:
    """Every metric per week or month, for the province and for a city, read as of the period's own A and of
    earlier and later dates: the same frame from the summary as from the cases."""
    with golden_summary.connect() as conn:
        city = conn.execute(sa.text("SELECT MIN(code) FROM regions WHERE level = 'city'")).scalar_one()
    for period in as_of_variants(golden.period):
        for region in (None, city):
            request = SeriesRequest(period, grain, region=region, scope=WHOLE_PROVINCE)
            read = metric_series(golden_summary, request, from_summary=True)
            pd.testing.assert_frame_equal(read, metric_series(golden_summary, request, from_summary=False), check_exact=True)
    read = metric_series(golden_summary, SeriesRequest(golden.period, grain, scope=WHOLE_PROVINCE))
    assert len(read) > 0 and read["received"].sum() > 0 and read["overdue"].notna().all()


def test_filtered_series_read_the_cases(golden_summary: sa.Engine) -> None:
    period = GOLDEN_PERIODS[0].period
    request = SeriesRequest(period, Grain.MONTH, filters=CaseFilter(channels=("letter",)), scope=WHOLE_PROVINCE)
    letters = metric_series(golden_summary, request)
    everything = metric_series(golden_summary, SeriesRequest(period, Grain.MONTH, scope=WHOLE_PROVINCE))
    assert 0 < letters["received"].sum() < everything["received"].sum()


def test_the_dashboard_brings_a_stale_summary_up_to_date(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cases loaded by a program that does not keep the summary: the dashboard's first run of that data version
    rebuilds it, and its tables are summed from it from then on."""
    from streamlit.testing.v1 import AppTest

    url = f"duckdb:///{tmp_path / 'app.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    _stale(engine)
    with engine.connect() as conn:
        assert not summary.is_current(conn, DEFAULT_SETTINGS)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert summary.is_current(conn, DEFAULT_SETTINGS)
    finally:
        engine.dispose()
