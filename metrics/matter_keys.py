"""The matter key of metrics.md's "Repeat matters", as SQL: a case's matter_id without blanks at its ends, else its
own case_id, compared in binary on every engine. The two engine differences it needs (binary text comparison,
trimming a set of characters) are small constructs here, beside data_access/store/dialects.py's; the screening
(metrics.matters) and the stored table of linked cases (metrics.matter_links) key cases through them."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from data_access.store.dialects import MYSQL_FAMILY
from data_access.store.schema import cases

# What a matter key loses at both ends: spaces, tabs, line breaks and U+3000 (全角空格).
KEY_BLANKS = " \t\n\r\u3000"


class binary_text(sa.sql.functions.FunctionElement[str]):
    """A text value compared and ordered by code point (binary): case and full-width characters count.
    PostgreSQL COLLATE "C"; the MySQL family COLLATE utf8mb4_bin; DuckDB compares binary already."""

    type = sa.String()
    name = "binary_text"
    inherit_cache = True


class trim_blanks(sa.sql.functions.FunctionElement[str]):
    """A text value without KEY_BLANKS at either end: DuckDB trim(x, chars), PostgreSQL btrim(x, chars);
    the MySQL family, whose TRIM removes one string rather than a set, a REGEXP_REPLACE."""

    type = sa.String()
    name = "trim_blanks"
    inherit_cache = True


def _arg(element: sa.sql.functions.FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = [compiler.process(clause, **kw) for clause in element.clauses]
    return value


@compiles(binary_text)
def _binary_standard(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
    return _arg(element, compiler, **kw)


@compiles(binary_text, "postgresql")
def _binary_postgresql(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({_arg(element, compiler, **kw)} COLLATE "C")'


@compiles(trim_blanks)
def _trim_standard(element: trim_blanks, compiler: SQLCompiler, **kw: Any) -> str:
    return f"trim({_arg(element, compiler, **kw)}, {compiler.process(sa.literal(KEY_BLANKS), **kw)})"


@compiles(trim_blanks, "postgresql")
def _trim_postgresql(element: trim_blanks, compiler: SQLCompiler, **kw: Any) -> str:
    return f"btrim({_arg(element, compiler, **kw)}, {compiler.process(sa.literal(KEY_BLANKS), **kw)})"


for _dialect in MYSQL_FAMILY:
    @compiles(binary_text, _dialect)
    def _binary_mysql(element: binary_text, compiler: SQLCompiler, **kw: Any) -> str:
        return f"({_arg(element, compiler, **kw)} COLLATE utf8mb4_bin)"

    @compiles(trim_blanks, _dialect)
    def _trim_mysql(element: trim_blanks, compiler: SQLCompiler, **kw: Any) -> str:
        blanks = f"[{KEY_BLANKS}]+"
        pattern = compiler.process(sa.literal(f"^{blanks}|{blanks}$"), **kw)
        # as VARCHAR of the column's length: REGEXP_REPLACE gives LONGTEXT, which MariaDB cannot index in the
        # temporary table of a semi-join, and then compares every case with every key
        length = getattr(next(iter(element.clauses)).type, "length", None) or 255
        return f"cast(regexp_replace({_arg(element, compiler, **kw)}, {pattern}, '') AS CHAR({length}))"


def optional_case_columns(conn: sa.Connection) -> frozenset[str]:
    """Which of the contract's optional columns matter_id and received_level the case table (or view) has."""
    present = conn.execute(sa.select(sa.text("*")).select_from(sa.table(cases.name)).limit(0)).keys()
    return frozenset({"matter_id", "received_level"} & set(present))


def matter_key(matter_id: sa.ColumnElement[Any], case_id: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """A case's matter key: its trimmed matter_id when that leaves text, else its case_id; binary."""
    return binary_text(sa.func.coalesce(sa.func.nullif(trim_blanks(matter_id), ""), case_id))
