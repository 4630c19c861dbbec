"""Repeat matters (越级重复举报专项治理: 多年、多层、多头): the screening of metrics.md, "Repeat matters".

The accusation cases received by the as-of date are grouped by their matter key (the trimmed matter_id,
else the case's own case_id, compared in binary) and each repeat matter (two reports or more) is read
in one statement the database runs: its reports, years, levels, channels, open cases, its latest report
(county, dispute), whether it is settled (案结事了), screened (列入筛选) and its tier (突出 / 重点 / 一般).

Only a key some matter_id names can have two cases: the statement keeps the cases whose key is among the
trimmed matter_ids (a semi-join), so the ranking and grouping see the linked few rather than millions of
one-case matters. The two engine differences it needs (binary text comparison,
trimming a set of characters) are small constructs here, beside data_access/store/dialects.py's.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from data_access.reference.enums import Category, LabelledEnum
from data_access.store.dialects import MYSQL_FAMILY, count_where, days_between
from data_access.store.engine import connect
from data_access.store.schema import cases

from .compiler import in_subtree, region_map
from .rules import is_true
from .settings import DEFAULT_SETTINGS, Settings

# What a matter key loses at both ends: spaces, tabs, line breaks and U+3000 (全角空格).
KEY_BLANKS = " \t\n\r\u3000"

MATTER_COLUMNS = ("matter", "county_code", "reports", "first_received", "last_received", "years", "levels", "channels",
                  "leapfrog", "open", "disputed_last", "quiet_days", "settled", "screened", "tier")
MATTER_BOOLEANS = ("leapfrog", "disputed_last", "settled", "screened")


class MatterTier(LabelledEnum):
    """重复举报分级, from the number of reports alone."""

    SERIOUS = ("serious", "突出")
    KEY = ("key", "重点")
    GENERAL = ("general", "一般")


class RepeatMatter(NamedTuple):
    """One repeat matter as read at the as-of date (the columns of `python -m metrics matters`). A named tuple: a
    province has 100,000s of matters, and a tuple is built in a third of the time of a frozen dataclass."""

    matter: str  # the key: trimmed matter_id, else the first report's case_id
    county_code: str  # the latest report's county: the unit handling it now
    reports: int
    first_received: dt.date
    last_received: dt.date
    years: int  # distinct calendar years of its received dates (多年 when >= 2)
    levels: int  # distinct received levels, empty not counted (多层 when >= 2)
    channels: int  # distinct channels (多头 when >= 2)
    leapfrog: bool
    open: int  # its cases not closed at the as-of date
    disputed_last: bool  # the latest report is closed and contested
    quiet_days: int  # days from the latest report to the as-of date
    settled: bool  # 案结事了
    screened: bool  # 列入筛选
    tier: MatterTier

    def as_record(self) -> dict[str, object]:
        """The row as plain values, in MATTER_COLUMNS order (the tier as its value)."""
        return {name: (getattr(self, name).value if name == "tier" else getattr(self, name)) for name in MATTER_COLUMNS}


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


def repeat_matters_query(as_of: dt.date, *, parent: str | None = None, settings: Settings = DEFAULT_SETTINGS,
                         has_levels: bool = True) -> sa.Select[Any]:
    """The screening as one statement: a row per repeat matter at the end of `as_of` whose latest report lies
    at or under `parent`, by reports descending then matter (binary). `has_levels`: the case table has
    received_level (else every matter has levels 0). Booleans come back as 1 / 0."""
    a = sa.bindparam("as_of", as_of, type_=sa.Date)
    keyed = _keyed_cases(a, has_levels)
    latest_first = sa.func.row_number().over(partition_by=keyed.c.matter,
                                             order_by=(keyed.c.received_date.desc(), binary_text(keyed.c.case_id).desc()))
    ranked = sa.select(keyed, latest_first.label("recency")).subquery("ranked")
    latest = ranked.c.recency == 1

    def flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.max(sa.case((condition, 1), else_=0))

    open_at = sa.or_(ranked.c.closed_date.is_(None), ranked.c.closed_date > a)
    matters = (
        sa.select(ranked.c.matter, sa.func.max(sa.case((latest, ranked.c.county_code))).label("county_code"),
                  sa.func.count().label("reports"), sa.func.min(ranked.c.received_date).label("first_received"),
                  sa.func.max(ranked.c.received_date).label("last_received"),
                  sa.func.count(sa.distinct(sa.extract("year", ranked.c.received_date))).label("years"),
                  sa.func.count(sa.distinct(ranked.c.received_level)).label("levels"),
                  sa.func.count(sa.distinct(ranked.c.channel)).label("channels"),
                  flag(is_true(ranked.c.is_leapfrog)).label("leapfrog"), count_where(open_at).label("open"),
                  flag(sa.and_(latest, sa.not_(open_at), is_true(ranked.c.disputed))).label("disputed_last"))
        .group_by(ranked.c.matter)
        .having(sa.func.count() >= 2)
        .subquery("matters")
    )
    return _screened(matters, a, parent, settings)


def _keyed_cases(a: sa.BindParameter[dt.date], has_levels: bool) -> sa.Subquery:
    """The accusation cases received by A that can share a matter, with their key: those with a matter_id
    (keyed by it, trimmed) and those without one whose case_id such a key names."""
    level = binary_text(sa.func.nullif(cases.c.received_level, "")) if has_levels else sa.null()
    counted = (cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a)
    trimmed = trim_blanks(cases.c.matter_id)
    # IS NOT NULL is implied by the trim test; said, it lets a planner count the rows from the column's statistics
    named = sa.select(binary_text(trimmed)).where(*counted, cases.c.matter_id.is_not(None), trimmed != "")
    key = binary_text(sa.func.coalesce(sa.func.nullif(trimmed, ""), cases.c.case_id))
    every = (sa.select(key.label("matter"), cases.c.case_id, cases.c.county_code, cases.c.received_date, cases.c.channel,
                       level.label("received_level"), cases.c.is_leapfrog, cases.c.closed_date, cases.c.disputed)
             .where(*counted)
             .subquery("every_case"))
    return sa.select(every).where(every.c.matter.in_(named)).subquery("keyed")


def _screened(matters: sa.Subquery, a: sa.BindParameter[dt.date], parent: str | None,
              settings: Settings) -> sa.Select[Any]:
    """The matters' derived columns (quiet days, settled, screened, tier), the parent filter and the order."""
    m = matters.c
    quiet_days = days_between(a, m.last_received)
    settle_days = sa.bindparam("settle_quiet_days", settings.settle_quiet_days, type_=sa.Integer)
    screen_min = sa.bindparam("screen_min_reports", settings.screen_min_reports, type_=sa.Integer)
    serious_min = sa.bindparam("serious_min_reports", settings.serious_min_reports, type_=sa.Integer)
    settled = sa.and_(m.open == 0, m.disputed_last == 0, quiet_days >= settle_days)
    screened = sa.and_(m.reports >= screen_min, sa.or_(m.years >= 2, m.levels >= 2, m.channels >= 2), sa.not_(settled))
    tier = sa.case((m.reports >= serious_min, MatterTier.SERIOUS.value), (m.reports >= screen_min, MatterTier.KEY.value),
                   else_=MatterTier.GENERAL.value)
    stmt = sa.select(m.matter, m.county_code, m.reports, m.first_received, m.last_received, m.years, m.levels, m.channels,
                     m.leapfrog, m.open, m.disputed_last, quiet_days.label("quiet_days"),
                     sa.case((settled, 1), else_=0).label("settled"), sa.case((screened, 1), else_=0).label("screened"),
                     tier.label("tier"))
    if parent is not None:
        rmap = region_map()
        stmt = stmt.join_from(matters, rmap, rmap.c.county_code == m.county_code).where(in_subtree(rmap, parent))
    return stmt.order_by(m.reports.desc(), binary_text(m.matter))


def repeat_matters(conn: sa.Engine | sa.Connection, as_of: dt.date, *, parent: str | None = None,
                   settings: Settings = DEFAULT_SETTINGS) -> list[RepeatMatter]:
    """The repeat matters of the province at the end of `as_of` whose latest report lies at or under `parent`
    (each counting all its cases, wherever they lie), by reports descending then matter (binary order).
    A case table without matter_id has no repeat matter."""
    with connect(conn) as c:
        present = optional_case_columns(c)
        if "matter_id" not in present:
            return []
        stmt = repeat_matters_query(as_of, parent=parent, settings=settings, has_levels="received_level" in present)
        if c.dialect.name == "postgresql":
            _tune_postgresql(c)
        result = c.execute(stmt)
        # the driver's own tuples: no column needs SQLAlchemy's result processing, and its Row objects cost as much
        # as building the matters (160,491 rows: 0.2 s of CPU)
        rows = result.cursor.fetchall()
        result.close()
    return [repeat_matter(row) for row in rows]


def _tune_postgresql(conn: sa.Connection) -> None:
    """Settings for the screening's transaction only (SET LOCAL): PostgreSQL's cost estimate turns on JIT compilation
    (11+; not in the older servers of the family), which takes longer than it saves (5,000,000 cases: 1-2 s), and
    its window and ORDER BY sorts of 546,890 rows spill to disk at the default work_mem of 4 MB."""
    if (conn.dialect.server_version_info or (0,)) >= (11,):
        conn.execute(sa.text("SET LOCAL jit = off"))
    conn.execute(sa.text("SET LOCAL work_mem = '64MB'"))


_TIERS = {tier.value: tier for tier in MatterTier}


def repeat_matter(row: Sequence[Any]) -> RepeatMatter:
    """A row of repeat_matters_query (the columns MATTER_COLUMNS, in order) as a RepeatMatter: its flags as booleans
    (the MySQL family returns numbers for every column), its dates as dates, its tier as a MatterTier."""
    (matter, county_code, reports, first_received, last_received, years, levels, channels, leapfrog, open_cases,
     disputed_last, quiet_days, settled, screened, tier) = row
    return RepeatMatter(str(matter), str(county_code), int(reports), _day(first_received), _day(last_received), int(years),
                        int(levels), int(channels), bool(leapfrog), int(open_cases), bool(disputed_last), int(quiet_days),
                        bool(settled), bool(screened), _TIERS[tier])


def _day(value: dt.date) -> dt.date:
    """A date as a date (a driver may widen one to a datetime)."""
    return value.date() if isinstance(value, dt.datetime) else value


# --- one matter's reports (the 积案化解 page's timeline) -------------------------------------------------------

MATTER_REPORT_COLUMNS = ("case_id", "county_code", "received_date", "received_level", "channel", "domain", "closed_date",
                         "disputed", "is_leapfrog")


def matter_reports(conn: sa.Engine | sa.Connection, matter: str, as_of: dt.date) -> pd.DataFrame:
    """The reports of one matter received by the end of `as_of`, oldest first (ties: case_id, binary), with the
    screening's keying (trimmed matter_id, else case_id, compared in binary); a closed_date after `as_of` reads as
    empty (the report still open then), and so is
    its dispute. Columns MATTER_REPORT_COLUMNS; received_level empty without the column."""
    a = sa.bindparam("as_of", as_of, type_=sa.Date)
    with connect(conn) as c:
        present = optional_case_columns(c)
        if "matter_id" in present:
            trimmed = trim_blanks(cases.c.matter_id)
            key = binary_text(sa.func.coalesce(sa.func.nullif(trimmed, ""), cases.c.case_id))
        else:
            key = binary_text(cases.c.case_id)
        level = cases.c.received_level if "received_level" in present else sa.null()
        closed = sa.case((cases.c.closed_date <= a, cases.c.closed_date))
        query = (sa.select(cases.c.case_id, cases.c.county_code, cases.c.received_date, level.label("received_level"),
                           cases.c.channel, cases.c.domain, closed.label("closed_date"),
                           sa.case((sa.and_(cases.c.closed_date <= a, is_true(cases.c.disputed)), 1), else_=0).label("disputed"),
                           sa.case((is_true(cases.c.is_leapfrog), 1), else_=0).label("is_leapfrog"))
                 .where(cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a,
                        key == binary_text(sa.literal(matter, sa.String())))
                 .order_by(cases.c.received_date, binary_text(cases.c.case_id)))
        result = c.execute(query)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in ("received_date", "closed_date"):
        frame[column] = [_day(v) if v is not None and v == v else None for v in frame[column]]
    for column in ("disputed", "is_leapfrog"):
        frame[column] = frame[column].astype(bool)
    return frame
