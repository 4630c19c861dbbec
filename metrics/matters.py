"""Repeat matters (越级重复举报专项治理: 多年、多层、多头): the screening of metrics.md, "Repeat matters".

The accusation cases received by the as-of date are grouped by their matter key (the trimmed matter_id,
else the case's own case_id, compared in binary) and each repeat matter (two reports or more) is read
in one statement the database runs: its reports, years, levels, channels, open cases, its latest report
(county, dispute), whether it is settled (案结事了), screened (列入筛选) and its tier (突出 / 重点 / 一般).

Only a key some matter_id names can have two cases: the statement keeps the cases whose key is among the
trimmed matter_ids (a semi-join), so the ranking and grouping see the linked few rather than millions of
one-case matters. Where the stored linked cases (metrics.matter_links) are current, it reads those instead of
the case table: the same rows, without a scan of every case. The key (metrics.matter_keys) is the same either way.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa

from data_access.reference.enums import Category, LabelledEnum
from data_access.store.dialects import count_where, days_between
from data_access.store.engine import connect, result_frame
from data_access.store.schema import cases

from . import summary
from .compiler import in_subtree, region_map
from .matter_keys import binary_text, matter_key, optional_case_columns, trim_blanks
from .matter_links import matter_links
from .rules import is_true
from .settings import DEFAULT_SETTINGS, Settings

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


@dataclass(frozen=True)
class CaseSource:
    """Where the screening reads its cases: the stored linked cases (`linked`, when current) or the case table, and
    whether that has received_level (else every matter has levels 0)."""

    has_levels: bool = True
    linked: bool = False


def case_source(conn: sa.Connection, settings: Settings = DEFAULT_SETTINGS) -> CaseSource | None:
    """Where the screening reads the cases as `conn` sees them; None when the case table has no matter_id (every case
    its own matter: no repeat matter). The linked cases when their state is current (metrics.summary.currency)."""
    present = optional_case_columns(conn)
    if "matter_id" not in present:
        return None
    linked = summary.currency(conn, settings, name=summary.LINKS_STATE).current
    return CaseSource(has_levels="received_level" in present, linked=linked)


# Matter keys, or a one-column select of them; None: every matter.
Among = sa.Select[Any] | Sequence[str] | None


def repeat_matters_query(as_of: dt.date, *, parent: str | None = None, settings: Settings = DEFAULT_SETTINGS,
                         source: CaseSource = CaseSource(), among: Among = None) -> sa.Select[Any]:
    """The screening as one statement: a row per repeat matter at the end of `as_of` whose latest report lies
    at or under `parent`, by reports descending then matter (binary), reading the cases where `source` says
    (case_source). `among`, matter keys or a one-column select of them, keeps only those matters, read before the grouping
    (the campaign's few matters need not wait for the whole screening). Booleans come back as 1 / 0."""
    a = sa.bindparam("as_of", as_of, type_=sa.Date)
    matters = _from_links(a, among) if source.linked else _from_cases(a, source.has_levels, among)
    return _screened(matters, a, parent, settings)


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.max(sa.case((condition, 1), else_=0))


def _open_at(closed_date: sa.ColumnElement[Any], a: sa.BindParameter[dt.date]) -> sa.ColumnElement[bool]:
    return sa.or_(closed_date.is_(None), closed_date > a)


def _from_cases(a: sa.BindParameter[dt.date], has_levels: bool, among: Among) -> sa.Subquery:
    """The repeat matters at A (of those `among`, if given) with their counts, read from the case table: the linked
    cases ranked by recency for the latest report, the distinct years, levels and channels counted."""
    keyed = _keyed_cases(a, has_levels, among)
    latest_first = sa.func.row_number().over(partition_by=keyed.c.matter,
                                             order_by=(keyed.c.received_date.desc(), binary_text(keyed.c.case_id).desc()))
    ranked = sa.select(keyed, latest_first.label("recency")).subquery("ranked")
    latest = ranked.c.recency == 1
    open_at = _open_at(ranked.c.closed_date, a)
    return (
        sa.select(ranked.c.matter, sa.func.max(sa.case((latest, ranked.c.county_code))).label("county_code"),
                  sa.func.count().label("reports"), sa.func.min(ranked.c.received_date).label("first_received"),
                  sa.func.max(ranked.c.received_date).label("last_received"),
                  sa.func.count(sa.distinct(sa.extract("year", ranked.c.received_date))).label("years"),
                  sa.func.count(sa.distinct(ranked.c.received_level)).label("levels"),
                  sa.func.count(sa.distinct(ranked.c.channel)).label("channels"),
                  _flag(is_true(ranked.c.is_leapfrog)).label("leapfrog"), count_where(open_at).label("open"),
                  _flag(sa.and_(latest, sa.not_(open_at), is_true(ranked.c.disputed))).label("disputed_last"))
        .group_by(ranked.c.matter)
        .having(sa.func.count() >= 2)
        .subquery("matters")
    )


def _from_links(a: sa.BindParameter[dt.date], among: Among) -> sa.Subquery:
    """The same matters as _from_cases, from the stored linked cases (metrics.matter_links): the rows received by A of
    a matter named by A are a prefix of the matter's order (seq), so its latest report is the row of the greatest
    seq, and its distinct years, levels and channels are the sums of the rows' first-of flags; a plain grouping and
    one join back to that latest row, no ranking and no distinct count."""
    links = matter_links.c
    matter = binary_text(links.matter)

    def total(column: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
        return sa.cast(sa.func.sum(column), sa.Integer)

    grouped = (sa.select(matter.label("matter"), sa.func.count().label("reports"),
                         sa.func.min(links.received_date).label("first_received"),
                         sa.func.max(links.received_date).label("last_received"), total(links.first_of_year).label("years"),
                         total(links.first_of_level).label("levels"), total(links.first_of_channel).label("channels"),
                         sa.func.max(links.is_leapfrog).label("leapfrog"),
                         count_where(_open_at(links.closed_date, a)).label("open"), sa.func.max(links.seq).label("last_seq"))
               .where(links.received_date <= a, links.named_from <= a, *_among(matter, among))
               .group_by(matter)
               .having(sa.func.count() >= 2)
               .subquery("grouped"))
    g, latest = grouped.c, matter_links.alias("latest")
    disputed_last = sa.case((sa.and_(latest.c.closed_date <= a, latest.c.disputed == 1), 1), else_=0)
    return (sa.select(g.matter, latest.c.county_code, g.reports, g.first_received, g.last_received, g.years, g.levels,
                      g.channels, g.leapfrog, g.open, disputed_last.label("disputed_last"))
            .join_from(grouped, latest, sa.and_(binary_text(latest.c.matter) == g.matter, latest.c.seq == g.last_seq))
            .subquery("matters"))


def _among(matter: sa.ColumnElement[str], among: Among) -> tuple[sa.ColumnElement[bool], ...]:
    """The condition keeping the rows of the matters `among` (none without it)."""
    if among is None:
        return ()
    return (matter.in_(among if isinstance(among, sa.Select) else list(among)),)


def _keyed_cases(a: sa.BindParameter[dt.date], has_levels: bool, among: Among) -> sa.Subquery:
    """The accusation cases received by A that can share a matter (of those `among`, if given), with their key:
    those with a matter_id (keyed by it, trimmed) and those without one whose case_id such a key names."""
    level = binary_text(sa.func.nullif(cases.c.received_level, "")) if has_levels else sa.null()
    counted = (cases.c.category == Category.ACCUSATION.value, cases.c.received_date <= a)
    trimmed = trim_blanks(cases.c.matter_id)
    # IS NOT NULL is implied by the trim test; said, it lets a planner count the rows from the column's statistics
    named = sa.select(binary_text(trimmed)).where(*counted, cases.c.matter_id.is_not(None), trimmed != "")
    key = matter_key(cases.c.matter_id, cases.c.case_id)
    every = (sa.select(key.label("matter"), cases.c.case_id, cases.c.county_code, cases.c.received_date, cases.c.channel,
                       level.label("received_level"), cases.c.is_leapfrog, cases.c.closed_date, cases.c.disputed)
             .where(*counted)
             .subquery("every_case"))
    return sa.select(every).where(every.c.matter.in_(named), *_among(every.c.matter, among)).subquery("keyed")


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
                   settings: Settings = DEFAULT_SETTINGS, source: CaseSource | None = None) -> list[RepeatMatter]:
    """The repeat matters of the province at the end of `as_of` whose latest report lies at or under `parent`
    (each counting all its cases, wherever they lie), by reports descending then matter (binary order).
    A case table without matter_id has no repeat matter. `source`: where to read the cases (default: case_source;
    the benchmark compares the two)."""
    with connect(conn) as c:
        source = source or case_source(c, settings)
        if source is None:
            return []
        stmt = repeat_matters_query(as_of, parent=parent, settings=settings, source=source)
        if c.dialect.name == "postgresql":
            _tune_postgresql(c)
        result = c.execute(stmt)
        with _collector_paused():
            # the driver's own tuples: no column needs SQLAlchemy's result processing, and its Row objects cost as much
            # as building the matters (160,491 rows: 0.2 s of CPU)
            rows = result.cursor.fetchall()
            result.close()
            return [repeat_matter(row) for row in rows]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the rows and matters are made: 100,000s of tuples that hold no
    cycle, over which it would otherwise run again and again as they pile up (160,491 matters: half the time of
    building them). Restarted only if it ran before, so that overlapping pauses in two threads end with it running."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


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
            key = matter_key(cases.c.matter_id, cases.c.case_id)
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
        frame = result_frame(result)
    for column in ("received_date", "closed_date"):
        frame[column] = [_day(v) if v is not None and v == v else None for v in frame[column]]
    for column in ("disputed", "is_leapfrog"):
        frame[column] = frame[column].astype(bool)
    return frame
