"""The loader's bulk paths and the per-engine SQL spellings, on every backend.

Staged rows read back exactly (quotes, commas, newlines, the word NULL, 4-byte characters); a load that
fails after it has deleted and inserted leaves the database as it was; date arithmetic agrees.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
import sqlalchemy as sa

from data_access.imports.loading import ImportMode, load_cases
from data_access.imports.validate import ValidatedCases
from data_access.store import bulk
from data_access.store.database import case_count
from data_access.store.dialects import add_days, count_where, days_between, sum_where
from data_access.store.engine import make_engine
from data_access.store.schema import audit_log, cases, import_log

AWKWARD = pa.table({
    "text": pa.array(['x"y,z\nw', None, "", "NULL", "\\N", "back\\slash", "信访举报 😀", "tab\there", "cr\r\nlf"]),
    "day": pa.array([dt.date(2024, 1, 1), None] + [dt.date(2024, 2, 29)] * 7, pa.date32()),
    "flag": pa.array([True, None, False] * 3),
    "number": pa.array([1, None, -5, 2**40, 0, 0, 0, 0, 7], pa.int64()),
    "ratio": pa.array([1.5, None, 0.1, 1e-300, 0.0, 0.0, 0.0, 0.0, 0.57915055]),
    "at": pa.array([dt.datetime(2024, 1, 1, 10, 0, 5, 123456), None] + [dt.datetime(2030, 1, 1)] * 7, pa.timestamp("us")),
})


def staged_rows(engine: sa.Engine, table: pa.Table) -> list[tuple]:
    """Stage `table` in a transaction that is rolled back and read it back, sorted (booleans as bool)."""
    with engine.connect() as conn, conn.begin() as transaction:
        staged = bulk.stage_table(conn, table, "staged_awkward")
        rows = conn.execute(sa.select(*(staged.c[c] for c in table.column_names))).all()
        bulk.drop_staged(conn, "staged_awkward")
        transaction.rollback()
    return sorted((tuple(bool(v) if name == "flag" and v is not None else v
                         for name, v in zip(table.column_names, row, strict=True)) for row in rows), key=repr)


def expected_rows(table: pa.Table) -> list[tuple]:
    return sorted(zip(*(table[c].to_pylist() for c in table.column_names), strict=True), key=repr)


def test_staged_rows_read_back_exactly(engine):
    assert staged_rows(engine, AWKWARD) == expected_rows(AWKWARD)


def test_staging_twice_on_one_connection_after_a_rollback(engine):
    """A temporary table outlives a rolled-back transaction on a pooled connection (MySQL): staging again works."""
    for _ in range(2):
        with engine.connect() as conn, conn.begin() as transaction:
            bulk.stage_table(conn, AWKWARD, "staged_again")
            transaction.rollback()
    assert len(staged_rows(engine, AWKWARD)) == AWKWARD.num_rows


def test_mysql_without_local_infile_falls_back_to_inserts(mariadb_database_url):
    """LOAD DATA LOCAL INFILE switched off in the client: the same rows arrive by batched INSERTs."""
    refused = make_engine(sa.make_url(mariadb_database_url).update_query_dict({"local_infile": "0"})
                          .render_as_string(hide_password=False))
    try:
        assert staged_rows(refused, AWKWARD) == expected_rows(AWKWARD)
    finally:
        refused.dispose()


def cases_table(ids: list[str]) -> pa.Table:
    """Minimal valid cases (the contract's columns, validated types) for load_cases."""
    n = len(ids)
    day = dt.date(2024, 3, 1)
    return pa.table({
        "case_id": pa.array(ids), "county_code": pa.array(["370102"] * n), "received_date": pa.array([day] * n, pa.date32()),
        "channel": pa.array(["letter"] * n), "category": pa.array(["accusation"] * n), "domain": pa.array(["其他"] * n),
        "is_first_report": pa.array([True] * n), "is_leapfrog": pa.array([False] * n), "is_repeat": pa.array([False] * n),
        "is_real_name": pa.array([True] * n), "due_date": pa.array([None] * n, pa.date32()),
        "closed_date": pa.array([None] * n, pa.date32()), "satisfaction": pa.array([None] * n, pa.string()),
        "disputed": pa.array([False] * n), "accepted_notice_date": pa.array([None] * n, pa.date32()),
        "result_notice_date": pa.array([None] * n, pa.date32()),
    })


def validated(ids: list[str]) -> ValidatedCases:
    return ValidatedCases(table=cases_table(ids), rows=np.arange(len(ids)) + 2)


def snapshot(engine: sa.Engine) -> tuple:
    with engine.connect() as conn:
        ids = sorted(r[0] for r in conn.execute(sa.select(cases.c.case_id)))
        logs = conn.execute(sa.select(sa.func.count()).select_from(import_log)).scalar_one()
        audits = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    return ids, logs, audits


@pytest.mark.parametrize("mode", [ImportMode.REPLACE, ImportMode.UPSERT, ImportMode.APPEND])
def test_a_load_failing_at_its_last_step_leaves_everything_as_it_was(engine, mode):
    """The failure comes after the old cases were deleted and the new ones inserted, staging included."""
    load_cases(engine, validated(["KEEP-1", "KEEP-2"]), ImportMode.APPEND, source="first")
    before = snapshot(engine)

    def failing_audit(conn: sa.Connection, replaced: int) -> None:
        raise RuntimeError("the audit write failed")

    with pytest.raises(RuntimeError, match="audit write failed"):
        load_cases(engine, validated(["KEEP-1", "NEW-1", "NEW-2"] if mode != ImportMode.APPEND else ["NEW-1"]), mode,
                   source="second", audit_entry=failing_audit)
    assert snapshot(engine) == before
    load_cases(engine, validated(["NEW-3"]), ImportMode.APPEND, source="third")  # the connection is usable again
    assert case_count(engine) == 3


def test_date_arithmetic_and_conditional_aggregates_agree(engine):
    days = sa.values(sa.column("a", sa.Date), sa.column("b", sa.Date), name="days").data([
        (dt.date(2024, 3, 1), dt.date(2024, 2, 28)),  # across a leap day
        (dt.date(2025, 1, 1), dt.date(2024, 12, 31)),  # across a year
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),  # negative
    ])
    with engine.connect() as conn:
        between = [r[0] for r in conn.execute(sa.select(days_between(days.c.a, days.c.b)))]
        added = [r[0] for r in conn.execute(sa.select(add_days(days.c.b, sa.literal(60, sa.Integer))))]
        counted = conn.execute(sa.select(count_where(days_between(days.c.a, days.c.b) > 0),
                                         sum_where(days_between(days.c.a, days.c.b), days.c.a > days.c.b))).one()
        empty = conn.execute(sa.select(count_where(days.c.a > days.c.b)).where(sa.false())).scalar_one()
    assert between == [2, 1, -30]
    assert added == [dt.date(2024, 4, 28), dt.date(2025, 3, 1), dt.date(2024, 3, 31)]
    assert (int(counted[0]), int(counted[1])) == (2, 3)
    assert empty in (0, None)  # DuckDB's count_if is NULL over no rows; grouped results never meet that
