"""Shared fixtures: one engine per backend (embedded DuckDB, the PostgreSQL and MariaDB servers on this machine).

With CI=true a server that cannot be reached fails the run instead of skipping its tests.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access.imports.importer import import_file
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import (
    audit_log,
    campaign_assignments,
    campaign_events,
    campaign_matters,
    campaign_notes,
    cases,
    data_changes,
    document_numbers,
    hotline_complaints,
    import_log,
    import_mappings,
    spot_check_draws,
    supervision_events,
    supervision_items,
    user_sessions,
    users,
)
from metrics import summary

REPO_ROOT = Path(__file__).resolve().parent.parent
# Copies of the shared golden reference and spec, kept in the repository (see tests/data/README.md)
TEST_DATA = REPO_ROOT / "tests" / "data"
GOLDEN = TEST_DATA / "golden"
SPEC = TEST_DATA / "spec"
# The shared originals: compared with the copies only where they exist (tests/test_fixture_copies.py)
SHARED = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))  # read only where it exists
GOLDEN_CASES = GOLDEN / "cases.csv"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
# MariaDB (the MySQL-protocol family): root without a password on this machine; `test` is only a place to connect
MARIADB_ADMIN_URL = os.environ.get("TEST_MARIADB_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
BACKENDS = ("duckdb", "postgresql", "mariadb")


def _admin_engine(url: str = PG_ADMIN_URL) -> sa.Engine:
    """An engine for CREATE/DROP DATABASE; no pooled connection survives a server restart in a test."""
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_database_url() -> str:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"petition_test_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if _in_ci():
            pytest.fail(f"PostgreSQL unreachable under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mariadb_database_url() -> str:
    """A fresh MariaDB database (utf8mb4) for this test session, dropped at the end."""
    name = f"petition_test_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(MARIADB_ADMIN_URL)
    try:
        _create_mariadb(admin, name)
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if _in_ci():
            pytest.fail(f"MariaDB unreachable under CI=true: {exc}")
        pytest.skip(f"MariaDB unreachable: {exc}")
    yield sa.make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _drop_mariadb(admin, name)


def _create_mariadb(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))


def _drop_mariadb(admin: sa.Engine, name: str, engine: sa.Engine | None = None) -> None:
    if engine is not None:
        engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


def server_database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The session's database on a server backend ('postgresql' or 'mariadb')."""
    return request.getfixturevalue({"postgresql": "pg_database_url", "mariadb": "mariadb_database_url"}[backend])


def _empty_engine(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> sa.Engine:
    if backend == "duckdb":
        return make_engine(f"duckdb:///{tmp_path_factory.mktemp('db') / 'test.duckdb'}")
    return make_engine(server_database_url(backend, request))


@pytest.fixture(scope="session", params=BACKENDS)
def initialized_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """An initialised database (tables, regions, calendar) per backend, shared by the session."""
    engine = _empty_engine(request.param, tmp_path_factory, request)
    init_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(initialized_engine: sa.Engine) -> sa.Engine:
    """An initialised database with no cases, users or audit rows, per backend; and no summary or linked cases of an
    earlier test's (a test that writes cases as they are must not find them current by chance)."""
    with initialized_engine.begin() as conn:
        for table in (cases, import_log, users, user_sessions, audit_log, supervision_events, supervision_items,
                      import_mappings, hotline_complaints, spot_check_draws, data_changes, document_numbers,
                      campaign_events, campaign_notes, campaign_assignments, campaign_matters):
            conn.execute(table.delete())
        present = set(sa.inspect(conn).get_table_names())
        for derived in summary.DERIVED_TABLES:
            if derived.name in present:
                conn.execute(derived.delete())
    return initialized_engine


def database_of_its_own(backend: str, suffix: str, request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """An empty database on `backend` that no other fixture touches (dropped at the end on a server)."""
    if backend == "duckdb":
        return make_engine(f"duckdb:///{tmp_path_factory.mktemp(suffix) / 'test.duckdb'}")
    server_db = sa.make_url(server_database_url(backend, request))
    name = f"{server_db.database}_{suffix}"
    if backend == "mariadb":
        admin = _admin_engine(MARIADB_ADMIN_URL)
        _create_mariadb(admin, name)
        engine = make_engine(server_db.set(database=name).render_as_string(hide_password=False))
        request.addfinalizer(lambda: _drop_mariadb(admin, name, engine))
        return engine
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server_db.set(database=name).render_as_string(hide_password=False))
    request.addfinalizer(lambda: _drop_pg(admin, name, engine))
    return engine


@pytest.fixture(scope="session", params=BACKENDS)
def golden_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """A database per backend holding the golden cases (read-only for tests)."""
    # a database of its own, so that tests emptying `engine` never touch these cases
    engine = database_of_its_own(request.param, "golden", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, GOLDEN_CASES)
    return engine


def _drop_pg(admin: sa.Engine, name: str, engine: sa.Engine) -> None:
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
