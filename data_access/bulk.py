"""Engine-specific bulk paths: DuckDB scans an Arrow table in place, PostgreSQL takes COPY.

Each function stages rows into a temporary table `staged_cases` on the given connection, inside
the caller's transaction, so that the caller can check and move them with portable SQL.
"""
from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

STAGING_TABLE = "staged_cases"
_COPY_CHUNK_ROWS = 200_000


def stage_table(conn: sa.Connection, table: pa.Table, name: str = STAGING_TABLE) -> sa.TableClause:
    """Make `table` readable as `name` on this connection (until commit/rollback); return it for Core."""
    dialect = conn.dialect.name
    if dialect == "duckdb":
        _stage_duckdb(conn, table, name)
    elif dialect == "postgresql":
        _stage_postgresql(conn, table, name)
    else:
        _stage_generic(conn, table, name)
    return sa.table(name, *(sa.column(c) for c in table.column_names))


def _driver(conn: sa.Connection) -> Any:
    """The DBAPI driver's own connection (DuckDB's, psycopg's) under a SQLAlchemy connection."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has been closed")
    return driver


def drop_staged(conn: sa.Connection, name: str = STAGING_TABLE) -> None:
    """Remove the staging table or view made by stage_table."""
    if conn.dialect.name == "duckdb":
        _driver(conn).unregister(name)
    else:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


def _stage_duckdb(conn: sa.Connection, table: pa.Table, name: str) -> None:
    # A registered Arrow table is scanned in place by DuckDB: no copy, no row-by-row insert.
    _driver(conn).register(name, table)


def _stage_postgresql(conn: sa.Connection, table: pa.Table, name: str) -> None:
    columns = ", ".join(f"{c} {_pg_type(table.schema.field(c).type)}" for c in table.column_names)
    conn.execute(sa.text(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP"))
    raw = _driver(conn)
    with raw.cursor() as cur:
        with cur.copy(f"COPY {name} ({', '.join(table.column_names)}) FROM STDIN (FORMAT csv)") as copy:
            for batch in table.to_batches(max_chunksize=_COPY_CHUNK_ROWS):
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, write_options=pacsv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())


def _stage_generic(conn: sa.Connection, table: pa.Table, name: str) -> None:
    """Fallback for other engines: executemany through the driver (slow, but correct)."""
    columns = ", ".join(f"{c} {_pg_type(table.schema.field(c).type)}" for c in table.column_names)
    conn.execute(sa.text(f"CREATE TEMPORARY TABLE {name} ({columns})"))
    staged = sa.table(name, *(sa.column(c) for c in table.column_names))
    conn.execute(staged.insert(), table.to_pylist())


def _pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION"
    return "TEXT"
