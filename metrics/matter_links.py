"""The linked cases (关联举报件): the accusation cases that can share a matter, kept beside the case table so that the
screening of metrics.md's "Repeat matters" reads them instead of scanning every case.

Only a key some matter_id names can have two cases (metrics.matter_keys): a case with a matter_id (it names its
own key) or a case without one whose case_id such a matter_id names. At 5,000,000 cases with matters those are
about one case in nine; the screening otherwise trims, keys and semi-joins every accusation case on each reading.

The table holds the linked cases of every date with their key; the screening at an as-of date A keeps the rows
received by A whose key a row received by A names (`names_key`), which are exactly the cases the scan keeps: a
case received by A whose key a matter_id of a case received by A names is linked, whatever came later. It is
rebuilt with the per-county daily summary (metrics.summary: in the loading transaction, by the dashboard when
stale, by `python -m metrics summary`) and read only when its state row in summary_state is current (the same
version and fingerprint of the case table, the fingerprint then covering the columns read here). Contract:
docs/contract/matter-links.md.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from data_access.reference.enums import Category
from data_access.store.schema import cases

from .matter_keys import binary_text, matter_key, trim_blanks
from .rules import is_true

links_metadata = sa.MetaData()
LINKS_FORMAT = 1  # the shape of the table below: raised with every change of its columns or of what they mean

matter_links = sa.Table(
    "matter_links",
    links_metadata,
    sa.Column("case_id", cases.c.case_id.type, primary_key=True),
    sa.Column("matter", cases.c.matter_id.type, nullable=False),  # the key: trimmed matter_id, else case_id
    sa.Column("seq", sa.Integer, nullable=False),  # 1, 2, ... within the matter by received_date, then case_id (binary)
    sa.Column("named_from", sa.Date, nullable=False),  # the first received_date of a case of the matter naming its key
    sa.Column("county_code", cases.c.county_code.type, nullable=False),
    sa.Column("received_date", sa.Date, nullable=False),
    # 1 on the matter's first case (in seq) of its calendar year / received level (not empty) / channel, else 0
    sa.Column("first_of_year", sa.SmallInteger, nullable=False),
    sa.Column("first_of_level", sa.SmallInteger, nullable=False),
    sa.Column("first_of_channel", sa.SmallInteger, nullable=False),
    sa.Column("is_leapfrog", sa.SmallInteger, nullable=False),  # 1 / 0
    sa.Column("closed_date", sa.Date, nullable=True),
    sa.Column("disputed", sa.SmallInteger, nullable=False),  # 1 / 0
    sa.Column("domain", cases.c.domain.type, nullable=False),  # 形势分析 counts a matter in its latest report's domain
)

# the case columns the table is built from (the fingerprint of summary_state covers them)
LINK_CASE_COLUMNS = ("case_id", "category", "matter_id", "county_code", "received_date", "channel", "received_level",
                     "is_leapfrog", "closed_date", "disputed", "domain")
LINK_COLUMNS = tuple(column.name for column in matter_links.columns)


def links_select(has_levels: bool) -> sa.Select[Any]:
    """The linked cases of the case table, every received date, as rows of matter_links (LINK_COLUMNS order).
    `has_levels`: the case table has received_level (else no case has a level)."""
    accusation = cases.c.category == Category.ACCUSATION.value
    trimmed = trim_blanks(cases.c.matter_id)
    names = sa.and_(cases.c.matter_id.is_not(None), trimmed != "")
    named = sa.select(binary_text(trimmed)).where(accusation, names)
    level = binary_text(sa.func.nullif(cases.c.received_level, "")) if has_levels else sa.null()
    every = (sa.select(cases.c.case_id, matter_key(cases.c.matter_id, cases.c.case_id).label("matter"),
                       sa.case((names, cases.c.received_date)).label("naming_date"), cases.c.county_code,
                       cases.c.received_date, sa.extract("year", cases.c.received_date).label("year"),
                       level.label("received_level"), cases.c.channel, _flag(is_true(cases.c.is_leapfrog)).label("is_leapfrog"),
                       cases.c.closed_date, _flag(is_true(cases.c.disputed)).label("disputed"), cases.c.domain)
             .where(accusation)
             .subquery("every_case"))
    linked = sa.select(every).where(every.c.matter.in_(named)).subquery("linked")
    c = linked.c
    in_order = (c.received_date, binary_text(c.case_id))

    def first_of(value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        first = sa.func.row_number().over(partition_by=(c.matter, value), order_by=in_order) == 1
        return _flag(sa.and_(value.is_not(None), first))

    return sa.select(c.case_id, c.matter, sa.func.row_number().over(partition_by=c.matter, order_by=in_order).label("seq"),
                     sa.func.min(c.naming_date).over(partition_by=c.matter).label("named_from"), c.county_code,
                     c.received_date, first_of(c.year).label("first_of_year"),
                     first_of(c.received_level).label("first_of_level"), first_of(c.channel).label("first_of_channel"),
                     c.is_leapfrog, c.closed_date, c.disputed, c.domain)


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def rebuild_links(conn: sa.Connection, has_levels: bool) -> int:
    """Replace the linked cases with those of the case table as `conn` sees it, in the caller's transaction; the
    number of rows. The table is made when missing or of another shape."""
    if sa.inspect(conn).has_table(matter_links.name) and _columns(conn) != LINK_COLUMNS:
        matter_links.drop(conn)  # made by an earlier version of this table: derived, so made anew
    links_metadata.create_all(conn)
    conn.execute(matter_links.delete())
    conn.execute(matter_links.insert().from_select(list(LINK_COLUMNS), links_select(has_levels)))
    return int(conn.execute(sa.select(sa.func.count()).select_from(matter_links)).scalar_one())


def _columns(conn: sa.Connection) -> tuple[str, ...]:
    """The columns of the database's matter_links, in order (a zero-row SELECT: duckdb-engine reflects none)."""
    return tuple(conn.execute(sa.select(sa.text("*")).select_from(sa.table(matter_links.name)).limit(0)).keys())
