"""Conflicts found in the database while loading, counted in full and listed first by row, on every engine.

A re-imported export whose ids are all stored must say how many ids it holds that are stored, not the
length of the capped list, and name the first rows of the file in order (issue 26, item 7). Both
importers (12388 complaints and cases) check through data_access.reference.problems.DatabaseProblems.
"""
from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from data_access.identity.auth import Identity, Role
from data_access.imports.importer import import_bytes, preview_import
from data_access.imports.loading import ImportMode
from data_access.reference.problems import MAX_REPORTED_PROBLEMS, DataRejected
from data_access.store.schema import hotline_complaints
from tests.test_hotline import RENCHENG, call, load, refused
from tests.test_importer import case, csv_bytes

EXPORT_ROWS = 2976  # the 12388 export of the issue: every id already stored
CITY_ROWS = 1200  # above the 1,000 ids the case importer used to fetch
JINING = Identity("jining", Role.CITY, "370800", "济宁市纪委监委")


def shuffled_ids(prefix: str, n: int) -> list[str]:
    """n distinct ids whose order is neither the rows' nor sorted: a listing by key or by chance shows."""
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    random.Random(26).shuffle(ids)
    return ids


def assert_first_by_row(exc: DataRejected, total: int, values: list[str], first_row: int = 2) -> None:
    """The true total in the message; the first MAX_REPORTED_PROBLEMS problems in row order from `first_row`."""
    listed = min(total, MAX_REPORTED_PROBLEMS)
    assert exc.total == total
    assert [p.row for p in exc.problems] == list(range(first_row, first_row + listed))
    assert [p.value for p in exc.problems] == values[:listed]
    assert f"共发现 {total} 个问题" in str(exc)
    if total > listed:
        assert f"另有 {total - listed} 个问题未列出" in str(exc)


@pytest.fixture
def renchen_case(engine: sa.Engine) -> sa.Engine:
    """Case R-1 of 任城区, the case the complaints below concern."""
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG)]), "cases.csv")
    return engine


def test_a_reimported_complaint_export_counts_every_stored_id(renchen_case: sa.Engine) -> None:
    ids = shuffled_ids("H-", EXPORT_ROWS)
    rows = [call(i) for i in ids]
    load(renchen_case, rows)
    exc = refused(renchen_case, rows)
    assert_first_by_row(exc, EXPORT_ROWS, ids)
    assert {p.reason_zh for p in exc.problems} == {"来电编号已存在于数据库中（来电投诉只能追加）"}
    with renchen_case.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(hotline_complaints)).scalar_one() == EXPORT_ROWS


def test_complaint_conflicts_of_two_kinds_are_counted_together_in_row_order(renchen_case: sa.Engine) -> None:
    """Stored ids and unknown cases, interleaved: one total, one row order (a row's stored id first)."""
    stored = shuffled_ids("S-", 250)  # each kind above the cap
    load(renchen_case, [call(i) for i in stored])
    rows = []
    for n, complaint_id in enumerate(stored):  # rows 2k+2: stored id; rows 2k+3: a new id about no case
        rows += [call(complaint_id), call(f"N-{n:05d}", 关联件号=f"NOPE-{n}")]
    rows.append(call(stored[0] + "-new", 关联件号="NOPE-last"))
    exc = refused(renchen_case, rows)
    assert exc.total == 2 * len(stored) + 1
    assert [p.row for p in exc.problems] == list(range(2, 2 + MAX_REPORTED_PROBLEMS))
    assert [p.column for p in exc.problems[:2]] == ["来电编号", "关联件号"]
    assert exc.problems[1].reason_zh == "关联件号在案件表中不存在"


def test_a_reimported_case_export_counts_every_stored_id(engine: sa.Engine) -> None:
    ids = shuffled_ids("C-", EXPORT_ROWS)
    data = csv_bytes([case(i) for i in ids])
    import_bytes(engine, csv_bytes([case(i) for i in reversed(ids)]), "first.csv")  # stored in another order
    with pytest.raises(DataRejected) as caught:
        import_bytes(engine, data, "cases.csv")
    assert_first_by_row(caught.value, EXPORT_ROWS, ids)
    preview = preview_import(engine, data, "cases.csv")
    assert preview.problems is not None
    assert_first_by_row(preview.problems, EXPORT_ROWS, ids)


def test_a_city_upload_of_another_regions_ids_counts_every_one(engine: sa.Engine) -> None:
    """Ids held by 历下区 (济南) in a 济宁 upload by case id: every one counted, the first rows named."""
    ids = shuffled_ids("L-", CITY_ROWS)
    import_bytes(engine, csv_bytes([case(i) for i in ids]), "jinan.csv")
    data = csv_bytes([case(i, county_code=RENCHENG) for i in ids])
    with pytest.raises(DataRejected) as caught:
        import_bytes(engine, data, "jining.csv", ImportMode.UPSERT, actor=JINING)
    assert_first_by_row(caught.value, CITY_ROWS, ids)
    assert caught.value.problems[0].reason_zh == "件号已属于其他地区的案件，本级不能覆盖"
