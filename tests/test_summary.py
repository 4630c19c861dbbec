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

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.reference.enums import Level
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import cases
from metrics import summary
from metrics.cli import main as metrics_cli
from metrics.request import CaseFilter, Period, TableRequest
from metrics.series import Grain, SeriesRequest, metric_series
from metrics.settings import DEFAULT_SETTINGS, Settings
from metrics.signals import deterioration_signals, p_chart
from metrics.table import reads_from_summary, region_table
from tests import test_metrics_properties
from tests.apptest_support import duckdb_with_cases, first_run
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
    url = duckdb_with_cases(tmp_path, GOLDEN_CASES)
    engine = make_engine(url)
    _stale(engine)
    with engine.connect() as conn:
        assert not summary.is_current(conn, DEFAULT_SETTINGS)
    engine.dispose()
    first_run(url, monkeypatch)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert summary.is_current(conn, DEFAULT_SETTINGS)
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------ cases changed in place (issue 27)

CHECK_NOW = Settings(summary_check_seconds=0)  # the fingerprint read before every reading, not kept
AS_OF = dt.date(2024, 6, 30)
YEAR_TO_AS_OF = TableRequest(Level.COUNTY, Period(dt.date(2023, 7, 1), AS_OF), scope=WHOLE_PROVINCE)


def summary_check(engine: sa.Engine) -> tuple[int, str]:
    """`python -m metrics summary --check`: exit status and its one line."""
    out = StringIO()
    status = metrics_cli(["summary", "--check", "--db", engine.url.render_as_string(hide_password=False)], out)
    return status, out.getvalue()


def close_in_place(engine: sa.Engine, county: str, closed: dt.date) -> int:
    """What a source system's sync does: the county's open cases closed by an UPDATE, as plain SQL; how many."""
    with engine.begin() as conn:
        return conn.execute(sa.text("UPDATE cases SET closed_date = :closed, satisfaction = 'satisfied' "
                                    "WHERE county_code = :county AND closed_date IS NULL AND received_date <= :closed"),
                            {"closed": closed, "county": county}).rowcount


def test_cases_changed_in_place_are_read_from_the_cases_until_it_is_rebuilt(engine: sa.Engine) -> None:
    """Open cases closed and a due date moved by SQL, behind the loader's back: the county table no longer reads
    the summary (it would say the old closed and overdue counts) but scans the cases, --check says stale with
    the reason; after python -m metrics summary the summary is read again and agrees."""
    import_file(engine, GOLDEN_CASES)
    before = region_table(engine, YEAR_TO_AS_OF, CHECK_NOW)
    assert uses_summary(engine, YEAR_TO_AS_OF, CHECK_NOW, from_summary=None)
    assert summary_check(engine)[0] == 0
    county = before.sort_values("overdue").iloc[-1]["code"]
    assert before.set_index("code").loc[county, "overdue"] > 0
    assert close_in_place(engine, county, AS_OF - dt.timedelta(days=1)) > 0
    with engine.begin() as conn:  # and one open case elsewhere given a later due date
        moved = conn.execute(sa.select(cases.c.case_id, cases.c.due_date).where(
            cases.c.closed_date.is_(None), cases.c.county_code != county, cases.c.due_date < AS_OF)
            .order_by(cases.c.case_id).limit(1)).one()
        conn.execute(sa.text("UPDATE cases SET due_date = :due WHERE case_id = :case_id"),
                     {"due": AS_OF + dt.timedelta(days=30), "case_id": moved.case_id})

    with engine.connect() as conn:
        assert summary.currency(conn, CHECK_NOW).staleness is summary.Staleness.CHANGED
    assert not uses_summary(engine, YEAR_TO_AS_OF, CHECK_NOW, from_summary=None)
    after = region_table(engine, YEAR_TO_AS_OF, CHECK_NOW)
    pd.testing.assert_frame_equal(after, region_table(engine, YEAR_TO_AS_OF, CHECK_NOW, from_summary=False))
    assert after.set_index("code").loc[county, "overdue"] == 0
    assert after["overdue"].sum() < before["overdue"].sum() and after["closed"].sum() > before["closed"].sum()
    status, line = summary_check(engine)
    assert status == 1 and line.startswith("stale (changed)") and line.count("\n") == 1, line

    assert metrics_cli(["summary", "--db", engine.url.render_as_string(hide_password=False)], StringIO()) == 0
    assert uses_summary(engine, YEAR_TO_AS_OF, CHECK_NOW, from_summary=None)
    pd.testing.assert_frame_equal(region_table(engine, YEAR_TO_AS_OF, CHECK_NOW), after)
    assert summary_check(engine)[0] == 0


@pytest.mark.parametrize("change", [
    "UPDATE cases SET satisfaction = 'dissatisfied' WHERE satisfaction = 'satisfied' AND county_code = '370102'",
    "UPDATE cases SET received_date = due_date WHERE due_date IS NOT NULL AND county_code = '370102'",
    "UPDATE cases SET county_code = '370103' WHERE county_code = '370102'",
    "UPDATE cases SET disputed = NOT disputed WHERE county_code = '370102'",
    "UPDATE cases SET accepted_notice_date = NULL WHERE county_code = '370102'",
])
def test_any_column_the_summary_reads_moves_the_fingerprint(golden_summary: sa.Engine, change: str) -> None:
    """Each kind of in-place update, on every engine: the fingerprint moves (the summary is then not read)."""
    with golden_summary.connect() as conn:
        assert summary.currency(conn, CHECK_NOW).current
    try:
        with golden_summary.begin() as conn:
            assert conn.execute(sa.text(change)).rowcount > 0
        with golden_summary.connect() as conn:
            assert summary.currency(conn, CHECK_NOW).staleness is summary.Staleness.CHANGED
    finally:
        with golden_summary.begin() as conn:
            conn.execute(cases.delete())
        import_file(golden_summary, GOLDEN_CASES)  # the golden cases again, the summary rebuilt with them
    with golden_summary.connect() as conn:
        assert summary.currency(conn, CHECK_NOW).current


def test_the_fingerprint_reads_every_column_the_rules_read() -> None:
    read = {column for c in summary.COLUMNS for rule in rule_chain_of(c) for column in rule.columns}
    assert read <= set(summary.FINGERPRINT_COLUMNS)
    assert {"county_code", "received_date", "due_date", "closed_date", "notice_deadline",
            "feedback_deadline"} <= set(summary.FINGERPRINT_COLUMNS)
    assert not {"case_id", "channel", "domain"} & set(summary.FINGERPRINT_COLUMNS)  # not read by the summary


def rule_chain_of(column: summary.SummaryColumn) -> tuple:
    from metrics.compiler import rule_chain
    from metrics.registry import METRICS_BY_ID, MetricKind

    metric = METRICS_BY_ID[column.metric_id]
    return rule_chain(metric.averaged[1]) if metric.kind is MetricKind.AVERAGE else rule_chain(column.metric_id)


def test_a_process_reads_the_fingerprint_again_after_summary_check_seconds(tmp_path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan is kept for summary_check_seconds: an update in place shows once that time has passed and the
    reading made then, in a thread of its own, is done (at once after a rebuild, whoever made it); --check always
    reads it now."""
    duck = make_engine(f"duckdb:///{tmp_path / 'kept.duckdb'}")
    init_database(duck)
    import_file(duck, GOLDEN_CASES)
    five_minutes = Settings(summary_check_seconds=300)
    clock = [1000.0]
    monkeypatch.setattr(summary.time, "monotonic", lambda: clock[0])
    with duck.connect() as conn:
        assert summary.currency(conn, five_minutes).current
    with duck.begin() as conn:
        conn.execute(sa.text("UPDATE cases SET closed_date = NULL, satisfaction = NULL WHERE closed_date IS NOT NULL"))
    clock[0] += 299
    with duck.connect() as conn:
        assert summary.currency(conn, five_minutes).current  # the reading kept
    assert summary_check(duck)[0] == 1  # a process of its own, reading now
    clock[0] += 2
    with duck.connect() as conn:
        assert summary.currency(conn, five_minutes).current  # the kept reading answers while it is read anew
    reading = summary.background_reading(duck)
    assert reading is not None
    reading.join(timeout=60)
    with duck.connect() as conn:
        assert summary.currency(conn, five_minutes).staleness is summary.Staleness.CHANGED
    rebuild(duck)
    with duck.connect() as conn:
        assert summary.currency(conn, five_minutes).current
    duck.dispose()


def test_a_summary_state_of_an_older_version_is_rebuilt(tmp_path) -> None:
    """summary_state without the fingerprint (written before it was recorded): not read; a load leaves it (no DDL
    in the loading transaction); the dashboard's rebuild makes the table anew."""
    engine = make_engine(f"duckdb:///{tmp_path / 'old.duckdb'}")
    try:
        init_database(engine)
        import_file(engine, GOLDEN_CASES)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE summary_state"))
            conn.execute(sa.text("CREATE TABLE summary_state (name VARCHAR(32) PRIMARY KEY, cases_version VARCHAR(64) "
                                 "NOT NULL, default_due_days INTEGER NOT NULL, usable BOOLEAN NOT NULL, rows BIGINT NOT NULL)"))
        fresh = make_engine(f"duckdb:///{tmp_path / 'old.duckdb'}")
        engine.dispose()
        engine = fresh
        with engine.connect() as conn:
            assert summary.currency(conn, CHECK_NOW).staleness is summary.Staleness.OLD_FORMAT
        import_file(engine, GOLDEN_CASES, mode="replace")  # the load goes through, its transaction without DDL
        with engine.connect() as conn:
            assert summary.currency(conn, CHECK_NOW).staleness is summary.Staleness.OLD_FORMAT
        assert summary.refresh(engine, CHECK_NOW)
        with engine.connect() as conn:
            assert summary.currency(conn, CHECK_NOW).current
    finally:
        engine.dispose()


def test_the_dashboard_rebuilds_it_after_cases_changed_in_place(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's next run after an update in place (its fingerprint read anew: a new process here) rebuilds
    the summary and moves the data version; where the rebuild is refused, the table pages say that they count the
    cases."""
    from streamlit.testing.v1 import AppTest

    url = f"duckdb:///{tmp_path / 'app.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    with engine.connect() as conn:
        county = conn.execute(sa.select(cases.c.county_code).where(cases.c.closed_date.is_(None))
                              .group_by(cases.c.county_code).order_by(sa.func.count().desc(), cases.c.county_code)
                              .limit(1)).scalar_one()
    assert close_in_place(engine, county, AS_OF) > 0
    with engine.connect() as conn:
        assert summary.currency(conn, CHECK_NOW).staleness is summary.Staleness.CHANGED
        changes_before = conn.execute(sa.text("SELECT COUNT(*) FROM data_changes")).scalar_one()
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)

    refused = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    monkeypatch.setattr(summary, "rebuild", lambda conn, settings: (_ for _ in ()).throw(
        sa.exc.OperationalError("INSERT", {}, Exception("read-only"))))
    refused.run()
    assert not refused.exception
    assert any("按县按日汇总表与案件表不一致" in info.value and summary.Staleness.CHANGED.label in info.value
               for info in refused.info), [info.value for info in refused.info]
    monkeypatch.undo()
    monkeypatch.setenv("DATABASE_URL", url)
    import streamlit as st

    st.cache_resource.clear()  # a refused rebuild is tried again at the next version: here, a process started anew

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception and not at.error
    assert not any("按县按日汇总表" in info.value for info in at.info)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert summary.currency(conn, CHECK_NOW).current
            assert conn.execute(sa.text("SELECT COUNT(*) FROM data_changes")).scalar_one() == changes_before + 1
    finally:
        engine.dispose()


def test_a_case_id_as_long_as_the_contract_allows_keeps_the_summary_current(engine: sa.Engine) -> None:
    """The highest case id enters the recorded version: a 64-character one (the contract's widest) must neither fail
    the rebuild nor leave the summary unread."""
    from data_access.imports.importer import import_bytes
    from tests.test_importer import case, csv_bytes

    longest = "Z" + "9" * 63
    import_bytes(engine, csv_bytes([case("A-1"), case(longest)]), "long.csv")
    assert metrics_cli(["summary", "--db", engine.url.render_as_string(hide_password=False)], StringIO()) == 0
    assert uses_summary(engine, YEAR_TO_AS_OF, CHECK_NOW, from_summary=None)
