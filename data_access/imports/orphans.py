"""References the app keeps to cases — 督办台账 items and 12388 complaints — whose case is not in the case table.

The case table is refreshed from the source system (a monthly full export loaded with 整表替换 / --replace); what
the app wrote itself (ledger items, complaints and their cycle) exists nowhere else and is never deleted by an
import. A replacement that lacks some cases therefore leaves references pointing at nothing: the importer counts
them before the load (orphans_of_file for the preview, left_by inside the load's transaction) and refuses
unless the uploader confirms; the 数据 page lists those already in the database (orphan_rows).

Everything is counted in SQL: the new file's case ids are staged in a temporary table and compared with
NOT EXISTS, so neither the case table nor the references are pulled into Python.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from data_access.reference.enums import LabelledEnum
from data_access.reference.problems import DataRejected, Problem, ProblemKind
from data_access.store import bulk
from data_access.store.schema import cases, hotline_complaints, import_log, supervision_items

LISTED_CASE_IDS = 20  # case ids named per kind (the counts are complete)
STAGED_IDS = "staged_case_ids"
# import_log modes that remove cases: a replacement and the removal of the demo cases
REMOVING_MODES = ("replace", "delete")


class ReferenceKind(LabelledEnum):
    """What the app keeps that names a case."""

    LEDGER_ITEM = ("ledger_item", "督办事项")
    COMPLAINT = ("complaint", "12388来电投诉")


@dataclass(frozen=True)
class _Referencing:
    kind: ReferenceKind
    table: sa.Table
    key: sa.Column[Any]  # the reference's own id
    made: sa.Column[Any]  # when it was made (a complaint: the day of the call)
    county: sa.Column[Any]


REFERENCES = (
    _Referencing(ReferenceKind.LEDGER_ITEM, supervision_items, supervision_items.c.id, supervision_items.c.opened_at,
                 supervision_items.c.county_code),
    _Referencing(ReferenceKind.COMPLAINT, hotline_complaints, hotline_complaints.c.complaint_id,
                 hotline_complaints.c.received_date, hotline_complaints.c.county_code),
)
UNITS = {ReferenceKind.LEDGER_ITEM: "项", ReferenceKind.COMPLAINT: "件"}


@dataclass(frozen=True)
class OrphanCount:
    """The references of one kind without their case: how many, over how many case ids, the first ids."""

    kind: ReferenceKind
    references: int
    cases: int
    case_ids: tuple[str, ...]  # the first LISTED_CASE_IDS by id

    def phrase(self) -> str:
        """督办事项 2 项（件号 A1、A2）; with more ids than listed: （件号 A1、A2……共 57 个件号）."""
        more = f"……共 {self.cases:,} 个件号" if self.cases > len(self.case_ids) else ""
        return f"{self.kind.label} {self.references:,} {UNITS[self.kind]}（件号 {'、'.join(self.case_ids)}{more}）"


@dataclass(frozen=True)
class Orphans:
    """Every kind of reference that has (or would have) no case; kinds with none are left out."""

    counts: tuple[OrphanCount, ...] = ()

    @property
    def total(self) -> int:
        """References of every kind."""
        return sum(c.references for c in self.counts)

    def counted(self) -> str:
        """督办事项 2 项、12388来电投诉 7,680 件 (no ids: an audit row has 500 characters); '' for none."""
        return "、".join(f"{c.kind.label} {c.references:,} {UNITS[c.kind]}" for c in self.counts)

    def phrase(self) -> str:
        """督办事项 2 项（件号 …）、12388来电投诉 7,680 件（件号 …）; '' for none."""
        return "、".join(c.phrase() for c in self.counts)

    def refusal(self, column: str = "case_id", source: tuple[str, str] = ("本文件", "the file")) -> DataRejected:
        """The refusal of a replacement that was not confirmed: one problem per kind, naming the column and the ids;
        `source` names what replaces the cases (Chinese, English)."""
        where, where_en = source
        return DataRejected([Problem(
            None, column, "、".join(c.case_ids),
            f"整表替换后，库中 {c.kind.label} {c.references:,} {UNITS[c.kind]}对应的案件（{c.cases:,} 个件号）不在{where}中，"
            "将不再对应任何案件（这些记录不会被删除）。如确认仍要替换，请勾选确认（命令行加 --accept-orphans）",
            f"after the replacement {c.references} {c.kind.value} row(s) would reference {c.cases} case id(s) not in "
            f"{where_en} (they are kept); confirm to replace anyway (--accept-orphans)",
            ProblemKind.DATABASE) for c in self.counts])


def _orphaned(ref: _Referencing, kept: sa.FromClause | None) -> sa.ColumnElement[bool]:
    """The references whose case is not in `kept` (the staged ids of a new file) but is in the case table now;
    without `kept`, the references whose case is not in the case table."""
    case_id = ref.table.c.case_id
    # The cases the references name, found by probing the case table with the few referenced ids: a correlated
    # NOT EXISTS made DuckDB build a hash table of every case id for each of the data page's queries (5,000,000
    # cases: 0.2 s each); the referencing table is read a second time, under another name, inside.
    named = ref.table.alias("named")
    present = sa.select(cases.c.case_id).where(cases.c.case_id.in_(
        sa.select(named.c.case_id).where(named.c.case_id.is_not(None))))
    in_cases = case_id.in_(present)
    if kept is None:
        return sa.and_(case_id.is_not(None), ~in_cases)
    in_kept = sa.exists(sa.select(sa.literal(1)).select_from(kept).where(kept.c.case_id == case_id))
    return sa.and_(case_id.is_not(None), in_cases, ~in_kept)


def _count(conn: sa.Connection, kept: sa.FromClause | None) -> Orphans:
    counts = []
    for ref in REFERENCES:
        where = _orphaned(ref, kept)
        references, distinct = conn.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(ref.table.c.case_id)))
                                            .where(where)).one()
        if not references:
            continue
        ids = conn.execute(sa.select(ref.table.c.case_id).where(where).distinct()
                           .order_by(ref.table.c.case_id).limit(LISTED_CASE_IDS)).scalars().all()
        counts.append(OrphanCount(ref.kind, int(references), int(distinct), tuple(ids)))
    return Orphans(tuple(counts))


def left_by(conn: sa.Connection, staged: sa.FromClause) -> Orphans:
    """Inside a replacement's transaction, before the cases are removed: the references whose case is in the
    table now and not among the staged rows (a table or view with a case_id column)."""
    return _count(conn, staged)


def orphans_of_file(engine: sa.Engine, case_ids: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> Orphans:
    """What replacing the case table with a file of `case_ids` would leave without its case; nothing written
    (the ids are staged in a temporary table of a transaction that is rolled back)."""
    if isinstance(case_ids, pa.ChunkedArray):
        ids = case_ids.combine_chunks()  # a table's column, kept in Arrow: a million ids, no Python objects
    elif isinstance(case_ids, pa.Array):
        ids = case_ids
    else:
        ids = pa.array(case_ids, type=pa.string())
    ids = ids.cast(pa.string())
    table = pa.table({"case_id": ids.filter(ids.is_valid())})
    with engine.connect() as conn, conn.begin() as transaction:
        staged = bulk.stage_table(conn, table, STAGED_IDS, key="case_id")
        try:
            return left_by(conn, staged)
        finally:
            bulk.drop_staged(conn, STAGED_IDS)
            transaction.rollback()


def current_orphans(engine: sa.Engine) -> Orphans:
    """The references in the database now whose case is not in the case table."""
    return orphan_listing(engine, 0).orphans


ORPHAN_COLUMNS = ("kind", "reference_id", "case_id", "county_code", "made_at", "since")


def orphan_rows(engine: sa.Engine, limit: int = 200) -> pd.DataFrame:
    """The first `limit` references of each kind whose case is not in the case table (by case id): kind, reference_id,
    case_id, county_code, made_at (when the reference was made; a complaint: the day of the call) and since — the
    first load after it that removed cases (a replacement, the removal of the demo cases): the earliest the case can
    have gone. NaT when no such load is recorded (the case table is maintained outside the app)."""
    return orphan_listing(engine, limit).rows


def _orphans_of(conn: sa.Connection, ref: _Referencing) -> pd.DataFrame:
    """Every reference of one kind without its case, by case id then reference: reference_id, case_id,
    county_code, made_at."""
    rows = conn.execute(sa.select(ref.key, ref.table.c.case_id, ref.county, ref.made)
                        .where(_orphaned(ref, None)).order_by(ref.table.c.case_id, ref.key)).all()
    return pd.DataFrame({"reference_id": [r[0] for r in rows], "case_id": [r[1] for r in rows],
                         "county_code": [r[2] for r in rows],
                         "made_at": pd.to_datetime(pd.Series([r[3] for r in rows], dtype=object))})


def _first_after(made: pd.Timestamp, loads: Sequence[dt.datetime]) -> pd.Timestamp:
    """The first removing load at or after `made` (NaT: none)."""
    if pd.isna(made):
        return pd.NaT
    for at in loads:
        if pd.Timestamp(at) >= made:
            return pd.Timestamp(at)
    return pd.NaT


@dataclass(frozen=True)
class OrphanListing:
    """What the 数据 page shows: every kind's true count, and the first rows of each kind."""

    orphans: Orphans
    rows: pd.DataFrame


def orphan_listing(engine: sa.Engine, limit: int = 200) -> OrphanListing:
    """The references in the database now without their case: counted in full, the first `limit` of each kind listed
    (orphan_rows' columns), from one reading of each kind (they are few: a reading per count and list cost a probe
    of the whole case table each)."""
    counts, frames = [], []
    with engine.connect() as conn:
        for ref in REFERENCES:
            found = _orphans_of(conn, ref)
            if not found.empty:
                ids = tuple(str(i) for i in found["case_id"].drop_duplicates().head(LISTED_CASE_IDS))
                counts.append(OrphanCount(ref.kind, len(found), int(found["case_id"].nunique()), ids))
            frames.append(found.head(limit).assign(kind=ref.kind.value))
        loads = conn.execute(sa.select(import_log.c.imported_at).where(import_log.c.mode.in_(REMOVING_MODES))
                             .order_by(import_log.c.imported_at)).scalars().all()
    out = pd.concat(frames, ignore_index=True)
    out["since"] = [_first_after(made, loads) for made in out["made_at"]]
    return OrphanListing(Orphans(tuple(counts)), out.loc[:, list(ORPHAN_COLUMNS)])
