"""Engine-specific bulk paths: DuckDB scans an Arrow table in place, PostgreSQL takes COPY, the MySQL
family (MariaDB, MySQL, TiDB, OceanBase) takes LOAD DATA LOCAL INFILE from a temporary CSV file.

Each function stages rows into a temporary table `staged_cases` on the given connection, inside
the caller's transaction, so that the caller can check and move them with portable SQL.

MySQL and MariaDB commit implicitly before most DDL (CREATE TABLE, DROP TABLE, ALTER TABLE), which
would end the caller's transaction half-way; CREATE TEMPORARY TABLE and DROP TEMPORARY TABLE do not,
so the staging table there is only ever made and dropped with TEMPORARY.
Measured on 200,000 cases into MariaDB 10.11 (PyMySQL, this 2-core machine): LOAD DATA LOCAL INFILE
1.0 s; multi-row INSERTs (the driver's executemany) 8.6 s; through SQLAlchemy's executemany 11.4 s.
The INSERTs remain the fallback where the server or the client has local_infile off. A whole
200,000-case import (load_cases: staging, checks, moving the rows in, with the row-store indexes):
append 2.5 s, upsert 4.0 s, replace 3.9 s.
"""
from __future__ import annotations

import io
import os
import tempfile
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from data_access.store.dialects import is_mysql_family

STAGING_TABLE = "staged_cases"
_COPY_CHUNK_ROWS = 200_000
# The longest VARCHAR a MySQL staging column gets (longer text: TEXT); utf8mb4 counts 4 bytes a character
# against the 65,535-byte row limit.
_MYSQL_VARCHAR_MAX = 1024
# MySQL/MariaDB errors meaning LOAD DATA LOCAL is switched off (server: local_infile=OFF; client: not enabled)
_LOCAL_INFILE_REFUSED = {1148, 2068, 3948, 4166}


def stage_table(conn: sa.Connection, table: pa.Table, name: str = STAGING_TABLE, key: str | None = None) -> sa.TableClause:
    """Make `table` readable as `name` on this connection (until commit/rollback); return it for Core.
    `key`: a column the staged rows are looked up by, indexed where the engine needs it (MariaDB 10.11
    runs DELETE ... WHERE id IN (SELECT id FROM staged) as a scan of the staged rows per deleted row)."""
    dialect = conn.dialect.name
    if dialect == "duckdb":
        _stage_duckdb(conn, table, name)
    elif dialect == "postgresql":
        _stage_postgresql(conn, table, name)
    elif is_mysql_family(conn):
        _stage_mysql(conn, table, name, key)
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
    elif is_mysql_family(conn):
        conn.execute(sa.text(f"DROP TEMPORARY TABLE IF EXISTS {name}"))  # TEMPORARY: no implicit commit
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


def _stage_mysql(conn: sa.Connection, table: pa.Table, name: str, key: str | None) -> None:
    """A temporary table filled by LOAD DATA LOCAL INFILE (batched INSERTs where that is switched off)."""
    # a temporary table outlives a rolled-back transaction on its pooled connection: drop a stale one
    conn.execute(sa.text(f"DROP TEMPORARY TABLE IF EXISTS {name}"))
    columns = [f"{c} {_mysql_type(table, c)}" for c in table.column_names]
    if key is not None:
        columns.append(f"INDEX ({key})")
    conn.execute(sa.text(f"CREATE TEMPORARY TABLE {name} ({', '.join(columns)})"))
    if table.num_rows == 0:
        return
    if not _load_data_local(conn, table, name):
        staged = sa.table(name, *(sa.column(c) for c in table.column_names))
        conn.execute(staged.insert(), table.to_pylist())


def _load_data_local(conn: sa.Connection, table: pa.Table, name: str) -> bool:
    """LOAD DATA LOCAL INFILE from a temporary CSV file; False (nothing loaded) where local_infile is off.

    The file is written with no escape character: strings are always quoted (quotes doubled inside),
    NULL is the unquoted word NULL, booleans are 1/0. Any row the server would change (a warning)
    fails the load instead of being stored altered."""
    for i, field in enumerate(table.schema):
        if pa.types.is_boolean(field.type):
            table = table.set_column(i, field.name, pc.cast(table[field.name], pa.int8()))
    fd, path = tempfile.mkstemp(prefix="petition_load_", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out:
            pacsv.write_csv(table, out, write_options=pacsv.WriteOptions(include_header=False, null_string="NULL"))
        load = sa.text(f"LOAD DATA LOCAL INFILE :path INTO TABLE {name} CHARACTER SET utf8mb4 "
                       "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                       f"({', '.join(table.column_names)})")  # lines end in a newline, the default
        try:
            loaded = conn.execute(load, {"path": path}).rowcount
        except sa.exc.DBAPIError as exc:
            if _error_code(exc) in _LOCAL_INFILE_REFUSED:
                return False
            raise
        warnings = conn.execute(sa.text("SELECT @@warning_count")).scalar_one()
    finally:
        os.unlink(path)
    if loaded != table.num_rows or warnings:
        raise RuntimeError(f"LOAD DATA staged {loaded} of {table.num_rows} rows with {warnings} warning(s)")
    return True


def _error_code(exc: sa.exc.DBAPIError) -> int | None:
    """The MySQL error number of a driver error (PyMySQL and mysqlclient put it first in args)."""
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _mysql_type(table: pa.Table, column: str) -> str:
    """The staging column type: a string column as VARCHAR of its longest value (joins to the VARCHAR
    columns of the tables stay index-friendly), TEXT past _MYSQL_VARCHAR_MAX."""
    arrow_type = table.schema.field(column).type
    if pa.types.is_timestamp(arrow_type):
        return "DATETIME(6)"  # not TIMESTAMP: no time-zone conversion, no 2038 limit
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if not (pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)):
        return _pg_type(arrow_type)  # DATE, BOOLEAN, BIGINT are MySQL types too
    longest = pc.max(pc.utf8_length(table[column])).as_py() if table.num_rows else None
    return f"VARCHAR({max(longest or 1, 1)})" if (longest or 1) <= _MYSQL_VARCHAR_MAX else "TEXT"


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
