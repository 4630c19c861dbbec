"""D1/D2 stored in `cases` at load time, and the calendar-join path for databases without them.

The importer fills notice_deadline / feedback_deadline from workday_calendar so that the aggregates
need no calendar join. A database whose `cases` has only the contract's columns (an external table
or view) must give the same numbers through the join; a table made before the columns existed is
given them on start; reloading the calendar recomputes them.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports.importer import import_file
from data_access.reference.enums import Level
from data_access.reference.workdays import load_calendar
from data_access.store.database import ensure_initialized, init_database, stored_deadlines
from data_access.store.engine import make_engine
from data_access.store.schema import CASE_COLUMNS, DEADLINE_COLUMNS, cases, workday_calendar
from metrics.request import Period, TableRequest
from metrics.series import Grain, SeriesRequest, series_query
from metrics.table import region_table, table_query
from tests.conftest import BACKENDS, GOLDEN_CASES, database_of_its_own
from tests.test_metrics_golden import PERIODS, assert_matches, expected

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _reopen(engine: sa.Engine) -> sa.Engine:
    """A new engine on the same database (as a restarted app would have)."""
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    return make_engine(url)


def _drop_deadline_columns(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for column in DEADLINE_COLUMNS:
            conn.execute(sa.text(f"ALTER TABLE cases DROP COLUMN {column}"))


def _calendar_lookup(engine: sa.Engine) -> pd.DataFrame:
    """D1 and D2 of every case looked up in the calendar table, by case_id."""
    r, c = workday_calendar.alias("r"), workday_calendar.alias("c")
    stmt = (sa.select(cases.c.case_id, r.c.deadline_15.label("d1"), c.c.deadline_15.label("d2"))
            .select_from(cases.outerjoin(r, r.c.day == cases.c.received_date)
                         .outerjoin(c, c.c.day == cases.c.closed_date)))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=["case_id", "d1", "d2"]).set_index("case_id").sort_index()


def _stored(engine: sa.Engine) -> pd.DataFrame:
    stmt = sa.select(cases.c.case_id, cases.c.notice_deadline.label("d1"), cases.c.feedback_deadline.label("d2"))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=["case_id", "d1", "d2"]).set_index("case_id").sort_index()


@pytest.fixture(scope="module", params=BACKENDS)
def view_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The golden cases behind a view `cases` with the contract's columns only (an external database)."""
    engine = database_of_its_own(request.param, "asview", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE cases RENAME TO cases_source"))
        conn.execute(sa.text(f"CREATE VIEW cases AS SELECT {', '.join(CASE_COLUMNS)} FROM cases_source"))
    engine = _reopen(engine)
    ensure_initialized(engine)  # what the app does on start: must leave the view alone
    return engine


def test_imported_cases_carry_the_calendar_deadlines(golden_engine: sa.Engine) -> None:
    assert stored_deadlines(golden_engine)
    stored, looked_up = _stored(golden_engine), _calendar_lookup(golden_engine)
    assert len(stored) > 100 and stored.index.equals(looked_up.index)
    pd.testing.assert_frame_equal(stored, looked_up)
    assert stored["d2"].isna().sum() == looked_up["d2"].isna().sum() > 0  # open cases have no D2
    # and the calendar table agrees with the official calendar itself
    cal = load_calendar()
    sample = stored["d1"].dropna().index[:50]
    with golden_engine.connect() as conn:
        received = dict(conn.execute(sa.select(cases.c.case_id, cases.c.received_date)
                                     .where(cases.c.case_id.in_(list(sample)))).all())
    for case_id in sample:
        want = cal.deadline_after([received[case_id]])[0].astype(dt.date)
        assert stored.at[case_id, "d1"] == want


def test_a_view_without_deadline_columns_is_served_through_the_calendar(view_engine: sa.Engine) -> None:
    assert not stored_deadlines(view_engine)
    with view_engine.connect() as conn:
        columns = set(conn.execute(sa.select(sa.text("*")).select_from(sa.table("cases")).limit(0)).keys())
    assert columns == set(CASE_COLUMNS)  # the view was not altered
    for golden in PERIODS:
        for level in Level:
            got = region_table(view_engine, TableRequest(level, golden.period, scope=WHOLE_PROVINCE))
            assert_matches(expected(golden, level.value), got, "code", f"view {golden.name} {level.value}")


def test_stored_and_joined_deadlines_compile_to_the_same_numbers(golden_engine: sa.Engine) -> None:
    """Both compilations on the same data: the series and a table, stored columns versus calendar joins."""
    request = SeriesRequest(Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30)), Grain.MONTH,
                            metrics=("notice_due", "notice_on_time_rate", "feedback_due", "feedback_on_time_rate"), scope=WHOLE_PROVINCE)
    table = TableRequest(Level.CITY, PERIODS[0].period, scope=WHOLE_PROVINCE)
    with golden_engine.connect() as conn:
        def run(stmt: sa.Select) -> list[dict]:
            return [dict(r) for r in conn.execute(stmt).mappings().all()]

        stored, joined = run(series_query(request, stored_deadlines=True)), run(series_query(request, stored_deadlines=False))
        assert sum(r["notice_due"] for r in stored) > 0 and sum(r["feedback_due"] for r in stored) > 0
        assert stored == joined
        assert run(table_query(table, stored_deadlines=True)) == run(table_query(table, stored_deadlines=False))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_table_from_before_the_columns_is_migrated_on_start(backend: str, request: pytest.FixtureRequest,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = database_of_its_own(backend, "legacy", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    _drop_deadline_columns(engine)
    engine = _reopen(engine)
    assert not stored_deadlines(engine)
    ensure_initialized(engine)
    assert stored_deadlines(engine)
    pd.testing.assert_frame_equal(_stored(engine), _calendar_lookup(engine))
    golden = PERIODS[0]
    got = region_table(engine, TableRequest(Level.COUNTY, golden.period, scope=WHOLE_PROVINCE))
    assert_matches(expected(golden, "county"), got, "code", "migrated county table")
    request.addfinalizer(engine.dispose)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reloading_the_calendar_recomputes_the_stored_deadlines(backend: str, request: pytest.FixtureRequest,
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = database_of_its_own(backend, "recalc", request, tmp_path_factory)
    request.addfinalizer(engine.dispose)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    with engine.begin() as conn:  # as if the deadlines had been computed with an older holiday calendar
        conn.execute(cases.update().values(notice_deadline=dt.date(2000, 1, 1), feedback_deadline=None))
    init_database(engine)  # `python -m data_access init` after upgrading chinese-calendar
    pd.testing.assert_frame_equal(_stored(engine), _calendar_lookup(engine))
