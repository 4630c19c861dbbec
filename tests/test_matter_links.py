"""The linked cases kept beside the case table (metrics.matter_links, docs/contract/matter-links.md): built by the
loader, read only while current, made anew when stale, of another shape or missing; on every engine. That the
screening reads the same matters from them as from the cases is tests/test_matters.py's (every rule on both)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access.demo.loading import load_demo
from data_access.imports.importer import import_file
from data_access.store import database
from data_access.store.database import analyze, init_database
from data_access.store.dialects import is_mysql_family
from data_access.store.engine import make_engine
from data_access.store.schema import cases
from metrics import summary
from metrics.matter_links import LINK_CASE_COLUMNS, LINK_COLUMNS, matter_links
from metrics.matters import CaseSource, case_source, repeat_matters
from metrics.settings import Settings
from tests.apptest_support import duckdb_with_cases, first_run
from tests.conftest import GOLDEN, database_of_its_own

CASES = GOLDEN / "matters" / "cases.csv"
AS_OF = dt.date(2024, 6, 30)
CHECK_NOW = Settings(summary_check_seconds=0)  # the fingerprint read before every reading, not kept
LINKED, FROM_CASES = CaseSource(has_levels=True, linked=True), CaseSource(has_levels=True, linked=False)


def source(engine: sa.Engine) -> CaseSource | None:
    with engine.connect() as conn:
        return case_source(conn, CHECK_NOW)


def links_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(matter_links)).scalar_one())


@pytest.fixture
def loaded(engine: sa.Engine) -> sa.Engine:
    """The golden matters' cases loaded through the importer, which builds the linked cases in its transaction."""
    import_file(engine, CASES)
    return engine


def test_the_loader_builds_them_and_the_screening_reads_them(loaded: sa.Engine) -> None:
    assert source(loaded) == LINKED
    with loaded.connect() as conn:
        matters, linked_cases = conn.execute(sa.select(sa.func.count(sa.distinct(matter_links.c.matter)),
                                                       sa.func.count()).select_from(matter_links)).one()
    found = repeat_matters(loaded, AS_OF, settings=CHECK_NOW)
    assert linked_cases > len(found) > 10 and matters >= len(found)  # later reports and one-case matters are kept too


def test_the_fingerprint_covers_every_column_they_are_built_from(loaded: sa.Engine) -> None:
    with loaded.connect() as conn:
        assert set(LINK_CASE_COLUMNS) <= set(summary.fingerprint_columns(conn))
    assert LINK_COLUMNS[:2] == ("case_id", "matter")


@pytest.mark.parametrize("change", [
    "UPDATE cases SET matter_id = NULL WHERE matter_id IS NOT NULL",
    "UPDATE cases SET channel = 'visit' WHERE matter_id IS NOT NULL",
    "UPDATE cases SET received_level = NULL WHERE received_level IS NOT NULL",
    "UPDATE cases SET case_id = concat(case_id, 'x') WHERE matter_id IS NULL",
], ids=["matter_id", "channel", "received_level", "case_id"])
def test_an_update_in_place_makes_them_stale_and_the_cases_are_read(loaded: sa.Engine, change: str) -> None:
    with loaded.begin() as conn:
        assert conn.execute(sa.text(change)).rowcount > 0
    assert source(loaded) == FROM_CASES
    with loaded.connect() as conn:
        staleness = summary.currency(conn, CHECK_NOW, name=summary.LINKS_STATE).staleness
    assert staleness is summary.Staleness.CHANGED
    scanned = repeat_matters(loaded, AS_OF, settings=CHECK_NOW)
    assert summary.refresh(loaded, CHECK_NOW)  # as the dashboard does: rebuilt once, then read again
    assert source(loaded) == LINKED and repeat_matters(loaded, AS_OF, settings=CHECK_NOW) == scanned


def test_a_missing_state_row_is_rebuilt_by_the_dashboard(loaded: sa.Engine) -> None:
    with loaded.begin() as conn:
        conn.execute(summary.summary_state.delete().where(summary.summary_state.c.name == summary.LINKS_STATE))
    assert source(loaded) == FROM_CASES
    with loaded.connect() as conn:
        assert summary.currency(conn, CHECK_NOW).current and not summary.all_current(conn, CHECK_NOW)
    assert summary.refresh(loaded, CHECK_NOW) and source(loaded) == LINKED


def test_a_table_of_an_earlier_shape_is_made_anew(loaded: sa.Engine) -> None:
    rows = links_rows(loaded)
    with loaded.begin() as conn:
        matter_links.drop(conn)
        conn.execute(sa.text("CREATE TABLE matter_links (case_id VARCHAR(64) PRIMARY KEY, matter VARCHAR(64))"))
    with loaded.begin() as conn:
        summary.rebuild(conn, CHECK_NOW)
    assert links_rows(loaded) == rows and source(loaded) == LINKED


def test_a_load_beside_a_summary_without_the_table(loaded: sa.Engine) -> None:
    """A database of a version before the linked cases: the MySQL family's load leaves the table to a rebuild of its
    own (its DDL would commit the load half done); the others make it in the load."""
    with loaded.begin() as conn:
        matter_links.drop(conn)
        conn.execute(cases.delete())
    import_file(loaded, CASES)
    with loaded.connect() as conn:
        made = sa.inspect(conn).has_table(matter_links.name)
    assert made is not is_mysql_family(loaded.dialect)
    assert source(loaded) == (FROM_CASES if is_mysql_family(loaded.dialect) else LINKED)
    scanned = repeat_matters(loaded, AS_OF, settings=CHECK_NOW)
    summary.refresh(loaded, CHECK_NOW)
    assert source(loaded) == LINKED and repeat_matters(loaded, AS_OF, settings=CHECK_NOW) == scanned



def test_the_dashboard_makes_them_when_only_they_are_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database whose summary is current but whose linked cases are not (made by a version before them): the
    dashboard's first run rebuilds both, as it does a stale summary."""
    url = duckdb_with_cases(tmp_path, CASES)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(summary.summary_state.delete().where(summary.summary_state.c.name == summary.LINKS_STATE))
        matter_links.drop(conn)
    with engine.connect() as conn:
        assert summary.currency(conn, CHECK_NOW).current and not summary.links_current(conn, CHECK_NOW)
    engine.dispose()
    first_run(url, monkeypatch)
    engine = make_engine(url)
    try:
        assert source(engine) == LINKED
    finally:
        engine.dispose()


@pytest.fixture
def analysed_empty(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[sa.Engine, list[float]]:
    """A PostgreSQL database whose case table was analysed empty (as a test session's is, or a new deployment's),
    and the case count its statistics held when each load's hooks ran."""
    engine = database_of_its_own("postgresql", "stats", request, tmp_path_factory)
    init_database(engine)
    analyze(engine, (cases,))
    seen: list[float] = []

    def planner_rows(conn: sa.Connection) -> None:
        seen.append(conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'cases'")).scalar_one())

    monkeypatch.setattr(database, "_CASE_WRITE_HOOKS", [*database.case_write_hooks(), planner_rows])
    return engine, seen


def test_on_postgresql_a_large_load_plans_them_from_statistics_of_the_loaded_cases(
        analysed_empty: tuple[sa.Engine, list[float]]) -> None:
    """Planned from statistics of the empty table, the linked cases' grouping of 40,000 demo cases ran for more than
    ten minutes in nested loops. The loader's transaction refreshes them first (data_access.store.database.analyze_in)."""
    engine, seen = analysed_empty
    load_demo(engine, 12_000, 7, AS_OF)
    assert seen == [12_000]  # every loaded case counted (a table this small is read whole)
    assert source(engine) == LINKED


def test_on_postgresql_a_small_load_is_not_analysed_in_its_transaction(analysed_empty: tuple[sa.Engine, list[float]]) -> None:
    """Below ANALYZE_MIN_CHANGED rows a plan from stale statistics costs little; the ANALYZE after the load follows."""
    engine, seen = analysed_empty
    import_file(engine, CASES)
    with engine.connect() as conn:
        loaded = conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()
        counted = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'cases'")).scalar_one()
    assert loaded < database.ANALYZE_MIN_CHANGED and seen == [0] and counted == loaded
