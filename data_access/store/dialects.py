"""Where the engines' SQL differs: the few constructs spelled differently on DuckDB, PostgreSQL and MySQL.

Every query is written once with SQLAlchemy Core; an expression whose standard spelling one engine lacks
is a small construct here with one compiled form per dialect (sqlalchemy.ext.compiler). MariaDB reports
the dialect name "mysql" through mysql+pymysql:// and "mariadb" through mariadb+...:// URLs: both are
registered. The metric compiler (metrics/compiler.py) and the data layer both use these.

  count_where(cond)        DuckDB count_if(cond) (its fast path); PostgreSQL COUNT(*) FILTER (WHERE cond);
                           MySQL COUNT(CASE WHEN cond THEN 1 END) (no FILTER clause; COUNT keeps an
                           integer result, where SUM(CASE ...) would come back DECIMAL)
  sum_where(x, cond)       SUM(x) FILTER (WHERE cond); MySQL SUM(CASE WHEN cond THEN x END)
  add_days(day, n)         day + n on DuckDB and PostgreSQL; MySQL DATE_ADD(day, INTERVAL n DAY)
                           (there `day + n` is arithmetic on the number 20240101)
  days_between(to, from)   to - from (an integer) on DuckDB and PostgreSQL; MySQL DATEDIFF(to, from)
  row_hash(a, b, ...)      an integer hash of the values, NULLs told apart from every value: DuckDB hash(a, b, ...);
                           PostgreSQL 14+ hash_record(ROW(a, b, ...)) (older servers of the family: hashtext of
                           the row's text); MySQL CRC32 of the values joined by a separator, NULL as '~'
  Timestamp                DateTime, with microseconds on MySQL too (DATETIME(6); plain DATETIME drops
                           them, and the audit log and the ledger order their rows by time)
  sa.values(...) in FROM   (VALUES (...), ...) AS name (columns); MariaDB takes no column list after a
                           derived table's name: (SELECT ... AS column UNION ALL SELECT ...) AS name
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Values

MYSQL_FAMILY: tuple[str, ...] = ("mysql", "mariadb")

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)


class count_where(sa.sql.functions.FunctionElement[int]):
    """COUNT of the rows where a condition holds (over no rows at all: 0, or NULL on DuckDB)."""

    type = sa.BigInteger()
    name = "count_where"
    inherit_cache = True


class sum_where(sa.sql.functions.FunctionElement[Any]):
    """SUM of a value over the rows where a condition holds (NULL over no such row)."""

    name = "sum_where"
    inherit_cache = True

    def __init__(self, value: sa.ColumnElement[Any], condition: sa.ColumnElement[bool]) -> None:
        super().__init__(value, condition)
        self.type = value.type


class add_days(sa.sql.functions.FunctionElement[dt.date]):
    """A date plus a whole number of days."""

    type = sa.Date()
    name = "add_days"
    inherit_cache = True


class days_between(sa.sql.functions.FunctionElement[int]):
    """The number of days from the second date to the first (negative when the first is earlier)."""

    type = sa.Integer()
    name = "days_between"
    inherit_cache = True


class row_hash(sa.sql.functions.FunctionElement[int]):
    """An integer hash of the values of one row (equal values, equal hash; a changed value, almost surely another).
    Summed over a table, a reading that moves when any row changes (metrics/summary.py's fingerprint)."""

    type = sa.BigInteger()
    name = "row_hash"
    inherit_cache = True


def _args(element: sa.sql.functions.FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(count_where)
def _count_where_standard(element: count_where, compiler: SQLCompiler, **kw: Any) -> str:
    (condition,) = _args(element, compiler, **kw)
    return f"count(*) FILTER (WHERE {condition})"


@compiles(count_where, "duckdb")
def _count_where_duckdb(element: count_where, compiler: SQLCompiler, **kw: Any) -> str:
    (condition,) = _args(element, compiler, **kw)
    return f"count_if({condition})"


@compiles(sum_where)
def _sum_where_standard(element: sum_where, compiler: SQLCompiler, **kw: Any) -> str:
    value, condition = _args(element, compiler, **kw)
    return f"sum({value}) FILTER (WHERE {condition})"


@compiles(add_days)
def _add_days_standard(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, n = _args(element, compiler, **kw)
    return f"({day} + {n})"


@compiles(days_between)
def _days_between_standard(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    return f"({later} - {earlier})"


@compiles(row_hash)
def _row_hash_postgresql(element: row_hash, compiler: SQLCompiler, **kw: Any) -> str:
    row = f"ROW({', '.join(_args(element, compiler, **kw))})"
    if (compiler.dialect.server_version_info or (0,)) >= (14,):
        return f"hash_record({row})"
    return f"hashtext(CAST({row} AS TEXT))"  # the PostgreSQL family before 14 (openGauss, older Kingbase)


@compiles(row_hash, "duckdb")
def _row_hash_duckdb(element: row_hash, compiler: SQLCompiler, **kw: Any) -> str:
    return f"hash({', '.join(_args(element, compiler, **kw))})"


for _dialect in MYSQL_FAMILY:
    @compiles(row_hash, _dialect)
    def _row_hash_mysql(element: row_hash, compiler: SQLCompiler, **kw: Any) -> str:
        values = ", ".join(f"ifnull({value}, '~')" for value in _args(element, compiler, **kw))
        return f"crc32(concat_ws('|', {values}))"

    @compiles(count_where, _dialect)
    def _count_where_mysql(element: count_where, compiler: SQLCompiler, **kw: Any) -> str:
        (condition,) = _args(element, compiler, **kw)
        return f"count(CASE WHEN {condition} THEN 1 END)"

    @compiles(sum_where, _dialect)
    def _sum_where_mysql(element: sum_where, compiler: SQLCompiler, **kw: Any) -> str:
        value, condition = _args(element, compiler, **kw)
        return f"sum(CASE WHEN {condition} THEN {value} END)"

    @compiles(add_days, _dialect)
    def _add_days_mysql(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
        day, n = _args(element, compiler, **kw)
        return f"date_add({day}, INTERVAL {n} DAY)"

    @compiles(days_between, _dialect)
    def _days_between_mysql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
        later, earlier = _args(element, compiler, **kw)
        return f"datediff({later}, {earlier})"


def _values_as_union(element: Values, compiler: SQLCompiler, asfrom: bool = False, **kw: Any) -> str:
    """A named VALUES list in FROM, as a UNION ALL of one-row SELECTs (each value typed by its column)."""
    if not asfrom or element._unnamed or not element._data:
        return str(compiler.visit_values(element, asfrom=asfrom, **kw))  # type: ignore[no-untyped-call]
    columns = list(element.columns)
    rows = [
        sa.select(*(_typed(value, column.type).label(column.name) for value, column in zip(row, columns, strict=True)))
        for chunk in element._data for row in chunk
    ]
    from_linter = kw.pop("from_linter", None)
    if from_linter is not None:  # the statement's FROM list knows it by its name, as for a VALUES list
        from_linter.froms[element._de_clone()] = element.name  # type: ignore[no-untyped-call]
    body = compiler.process(sa.union_all(*rows) if len(rows) > 1 else rows[0], asfrom=False, **kw)
    return f"({body}) AS {compiler.preparer.quote(str(element.name))}"


def _typed(value: Any, type_: Any) -> sa.ColumnElement[Any]:
    """A bound value that keeps its column's type in a derived table (a date parameter would arrive as text)."""
    literal = sa.literal(value, type_)
    return sa.cast(literal, type_) if isinstance(type_, sa.Date) else literal


for _dialect in MYSQL_FAMILY:
    compiles(Values, _dialect)(_values_as_union)


def is_mysql_family(bind: sa.Engine | sa.Connection | sa.Dialect) -> bool:
    """True for MySQL and the engines speaking its protocol and dialect (MariaDB, TiDB, OceanBase ...)."""
    dialect = bind if isinstance(bind, sa.Dialect) else bind.dialect
    return dialect.name in MYSQL_FAMILY
