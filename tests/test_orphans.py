"""整表替换 and the app's own rows (issue 29): a replacement that would leave 督办 items or 12388 complaints
without their case is counted in the preview, refused unless confirmed, and never deletes those rows; the
references already without a case are listed. On every engine of the conftest."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from data_access.cli import EXIT_BAD_DATA, EXIT_OK, main
from data_access.identity.audit import recent
from data_access.identity.auth import Identity, Role
from data_access.imports.importer import import_bytes, preview_import
from data_access.imports.loading import ImportMode
from data_access.imports.orphans import LISTED_CASE_IDS, ReferenceKind, current_orphans, orphan_rows, orphans_of_file
from data_access.reference.problems import DataRejected
from data_access.store.database import case_count
from data_access.store.schema import cases, data_changes, hotline_complaints, supervision_events, supervision_items
from data_access.supervision import ledger
from tests.test_importer import case, csv_bytes

PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
LIXIA = "370102"
NOW = dt.datetime(2024, 6, 28, 9, 30)


def complaint(complaint_id: str, case_id: str | None) -> dict:
    return {"complaint_id": complaint_id, "received_date": dt.date(2024, 6, 3), "county_code": LIXIA, "kind": "slow",
            "case_id": case_id}


@pytest.fixture
def db(engine: sa.Engine) -> sa.Engine:
    """Cases A-1 … A-3; a ledger item on A-1; complaints on A-1, A-2, A-2 and one without a case."""
    with engine.begin() as conn:
        conn.execute(supervision_events.delete())
        conn.execute(supervision_items.delete())
    import_bytes(engine, csv_bytes([case(f"A-{i}") for i in (1, 2, 3)]), "cases.csv")
    ledger.open_item(engine, PROVINCE, county_code=LIXIA, title="件号 A-1 超期", reason="请办结并反馈",
                     method=ledger.Method.PHONE, reply_due=dt.date(2024, 7, 5), case_id="A-1", now=NOW)
    with engine.begin() as conn:
        conn.execute(hotline_complaints.insert(), [complaint("C-1", "A-1"), complaint("C-2", "A-2"),
                                                   complaint("C-3", "A-2"), complaint("C-4", None)])
    return engine


def counts(orphans) -> dict[ReferenceKind, tuple[int, int, tuple[str, ...]]]:
    return {c.kind: (c.references, c.cases, c.case_ids) for c in orphans.counts}


def kept_rows(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (supervision_items, hotline_complaints))


def test_orphans_of_a_file_are_counted_and_named(db: sa.Engine) -> None:
    assert counts(orphans_of_file(db, ["A-3", "NEW-1"])) == {
        ReferenceKind.LEDGER_ITEM: (1, 1, ("A-1",)), ReferenceKind.COMPLAINT: (3, 2, ("A-1", "A-2"))}
    assert counts(orphans_of_file(db, ["A-1", "A-2", None])) == {}
    assert counts(orphans_of_file(db, ["A-1"])) == {ReferenceKind.COMPLAINT: (2, 1, ("A-2",))}


def test_the_true_total_past_the_listed_ids(db: sa.Engine) -> None:
    many = [complaint(f"M-{i:03}", f"A-{i:03}") for i in range(LISTED_CASE_IDS + 5)]
    import_bytes(db, csv_bytes([case(f"A-{i:03}") for i in range(LISTED_CASE_IDS + 5)]), "more.csv")
    with db.begin() as conn:
        conn.execute(hotline_complaints.insert(), many)
    found = counts(orphans_of_file(db, []))[ReferenceKind.COMPLAINT]
    assert found[:2] == (LISTED_CASE_IDS + 5 + 3, LISTED_CASE_IDS + 5 + 2)
    assert len(found[2]) == LISTED_CASE_IDS and found[2][0] == "A-000"


def test_preview_of_a_replacement_shows_them(db: sa.Engine) -> None:
    preview = preview_import(db, csv_bytes([case("A-2"), case("A-3")]), "new.csv", mode=ImportMode.REPLACE)
    assert preview.problems is None
    assert counts(preview.orphans) == {ReferenceKind.LEDGER_ITEM: (1, 1, ("A-1",)),
                                       ReferenceKind.COMPLAINT: (1, 1, ("A-1",))}
    assert "督办事项 1 项（件号 A-1）" in preview.orphans.phrase()
    appended = preview_import(db, csv_bytes([case("B-1")]), "new.csv", mode=ImportMode.APPEND)
    assert appended.orphans.total == 0


def test_replacement_refused_unless_confirmed_and_nothing_written(db: sa.Engine) -> None:
    with db.connect() as conn:
        version = conn.execute(sa.select(sa.func.count()).select_from(data_changes)).scalar_one()
    with pytest.raises(DataRejected) as info:
        import_bytes(db, csv_bytes([case("A-3")]), "new.csv", ImportMode.REPLACE, actor=PROVINCE)
    said = info.value.summary()
    assert "督办事项 1 项" in said and "12388来电投诉 3 件" in said and "--accept-orphans" in said
    assert [(p.column, p.value) for p in info.value.problems] == [("case_id", "A-1"), ("case_id", "A-1、A-2")]
    assert case_count(db) == 3 and kept_rows(db) == (1, 4)
    assert "导入被拒绝" in recent(db, 1)["detail"].iloc[0]
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(data_changes)).scalar_one() == version  # nothing written


def test_confirmed_replacement_keeps_the_apps_rows(db: sa.Engine) -> None:
    report = import_bytes(db, csv_bytes([case("A-3"), case("N-1")]), "new.csv", ImportMode.REPLACE, actor=PROVINCE,
                          accept_orphans=True)
    assert report.replaced == 3 and report.orphans.total == 4
    assert kept_rows(db) == (1, 4)  # nothing the app wrote was deleted
    with db.connect() as conn:
        assert sorted(conn.execute(sa.select(cases.c.case_id)).scalars()) == ["A-3", "N-1"]
    detail = recent(db, 1)["detail"].iloc[0]
    assert "经确认保留无对应案件的督办事项 1 项、12388来电投诉 3 件" in detail
    # already without their case: a second replacement asks only about what it newly leaves
    import_bytes(db, csv_bytes([case("A-3")]), "again.csv", ImportMode.REPLACE, actor=PROVINCE)
    assert counts(current_orphans(db)) == {ReferenceKind.LEDGER_ITEM: (1, 1, ("A-1",)),
                                           ReferenceKind.COMPLAINT: (3, 2, ("A-1", "A-2"))}


def test_orphan_rows_list_kind_case_and_since(db: sa.Engine) -> None:
    assert orphan_rows(db).empty
    import_bytes(db, csv_bytes([case("A-3")]), "new.csv", ImportMode.REPLACE, accept_orphans=True)
    rows = orphan_rows(db)
    assert list(zip(rows["kind"], rows["reference_id"].where(rows["kind"] != "ledger_item", "item"), rows["case_id"],
                    strict=True)) == [("ledger_item", "item", "A-1"), ("complaint", "C-1", "A-1"),
                                      ("complaint", "C-2", "A-2"), ("complaint", "C-3", "A-2")]
    assert rows["since"].notna().all() and (rows["since"] >= rows["made_at"]).all()
    assert len(orphan_rows(db, limit=1)) == 2  # the first of each kind


def test_cli_check_and_accept_orphans(db: sa.Engine, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("data_access.cli.open_engine", lambda url: db)
    monkeypatch.setattr(db, "dispose", lambda: None)
    path = tmp_path / "new.csv"
    path.write_bytes(csv_bytes([case("A-2"), case("A-3")]))
    assert main(["import", str(path), "--replace", "--check"]) == EXIT_BAD_DATA
    out = capsys.readouterr()
    assert "督办事项 1 项（件号 A-1）" in out.out and "--accept-orphans" in out.err
    assert main(["import", str(path), "--replace", "--check", "--accept-orphans"]) == EXIT_OK
    assert main(["import", str(path), "--replace"]) == EXIT_BAD_DATA
    assert "督办事项 1 项" in capsys.readouterr().err and case_count(db) == 3
    assert main(["import", str(path), "--replace", "--accept-orphans"]) == EXIT_OK
    assert "已按确认保留" in capsys.readouterr().out and case_count(db) == 2 and kept_rows(db) == (1, 4)


def test_data_page_asks_for_confirmation_and_lists_them(tmp_path, monkeypatch) -> None:
    """数据 page (AppTest, DuckDB): the replacement's preview names what it leaves, the import button waits for
    both confirmations, and after the load the section 无对应案件的记录 lists the items and complaints kept."""
    from streamlit.testing.v1 import AppTest

    from data_access.store.database import init_database
    from data_access.store.engine import make_engine
    from tests.apptest_support import switch_to
    from tests.conftest import REPO_ROOT

    url = f"duckdb:///{tmp_path / 'orphans.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_bytes(engine, csv_bytes([case(f"A-{i}") for i in (1, 2, 3)]), "cases.csv")
    ledger.open_item(engine, PROVINCE, county_code=LIXIA, title="件号 A-1 超期", reason="请办结并反馈",
                     method=ledger.Method.PHONE, reply_due=dt.date(2024, 7, 5), case_id="A-1", now=NOW)
    with engine.begin() as conn:
        conn.execute(hotline_complaints.insert(), [complaint("C-1", "A-1"), complaint("C-2", "A-2")])
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    switch_to(at, "data").run()
    assert not any(s.value == "无对应案件的记录" for s in at.subheader)
    at.file_uploader(key="upload_file").upload("new.csv", csv_bytes([case("A-2"), case("A-3")]), "text/csv")
    at.run()
    at.radio(key="upload_mode").set_value("replace").run()
    assert any("督办事项 1 项、12388来电投诉 1 件" in w.value and "不会被删除" in w.value for w in at.warning)
    named = [d.value for d in at.dataframe if "涉及件号数" in d.value.columns][0]
    assert list(named["类型"]) == ["督办事项", "12388来电投诉"] and set(named.iloc[:, 3]) == {"A-1"}
    at.checkbox(key="upload_confirm").check().run()
    assert at.button(key="upload_run").disabled
    at.checkbox(key="upload_orphans_confirm").check().run()
    at.button(key="upload_run").click().run()
    assert not at.exception and any("导入成功" in m.value for m in at.success)
    assert any(s.value == "无对应案件的记录" for s in at.subheader)
    listed = [d.value for d in at.dataframe if "失去对应案件（不早于）" in d.value.columns][0]
    assert list(zip(listed["类型"], listed["件号"], strict=True)) == [("督办事项", "A-1"), ("12388来电投诉", "A-1")]
    engine = make_engine(url)
    assert kept_rows(engine) == (1, 2) and case_count(engine) == 2
    engine.dispose()


def test_demo_data_asks_the_same_before_it_replaces_the_cases(db: sa.Engine, capsys, monkeypatch) -> None:
    """`python -m data_access demo` replaces the case table too: refused while it would leave the ledger item and the
    complaints without their case, nothing written; with --accept-orphans the demo is loaded and they are kept."""
    monkeypatch.setattr("data_access.cli.open_engine", lambda url: db)
    monkeypatch.setattr(db, "dispose", lambda: None)
    demo = ["demo", "--cases", "300", "--seed", "3", "--end-date", "2024-06-30"]
    assert main(demo) == EXIT_BAD_DATA
    err = capsys.readouterr().err
    assert "督办事项 1 项对应的案件（1 个件号）不在演示数据中" in err and "--accept-orphans" in err
    assert "not in the demo data" in err and case_count(db) == 3
    assert main([*demo, "--accept-orphans"]) == EXIT_OK
    assert "已按确认保留、现已无对应案件：督办事项 1 项（件号 A-1）" in capsys.readouterr().out
    with db.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(hotline_complaints)
                            .where(hotline_complaints.c.complaint_id.in_(["C-1", "C-2", "C-3", "C-4"]))).scalar_one()
        item = conn.execute(sa.select(sa.func.count()).select_from(supervision_items)
                            .where(supervision_items.c.case_id == "A-1")).scalar_one()
    assert case_count(db) == 300 and item == 1 and kept == 4  # the demo brings complaints and items of its own
    assert "经确认保留无对应案件的督办事项 1 项" in recent(db, 1)["detail"].iloc[0]
