"""The month-end 12388 pack on every engine: every figure is the database's, every file holds only its
recipient's data (a test opens each one), and the command marks the month notified unless --check — exactly the
complaints the notices list, late ones (逾期补录) included. A priority county's notice lists the cases the metrics
layer counts, and the command refuses in one line."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.demo.loading import load_demo
from data_access.identity.audit import recent
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.reference.enums import Level
from data_access.store.schema import cases, document_numbers, hotline_complaints
from data_access.supervision.document_register import register
from data_access.supervision.hotline_import import import_complaints_bytes
from data_access.supervision.hotline_settings import DEFAULT_HOTLINE_SETTINGS
from metrics import cli as metrics_cli
from metrics.compiler import region_map
from metrics.hotline import feedback_deadlines, month_counts, month_series, monthly_facts, notice_complaints, notice_issued
from presentation.documents import DEFAULT_DOCUMENT_SETTINGS
from reports import cli as reports_cli
from tests.test_importer import case, csv_bytes

MONTH = "2026-09"
END = dt.date(2026, 11, 20)
DATED = dt.date(2026, 12, 7)  # a Monday: ten working days on is 2026-12-21


@pytest.fixture
def demo_engine(engine: sa.Engine) -> sa.Engine:
    load_demo(engine, 60_000, seed=7, end_date=END)
    return engine


def url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def text_of(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def complaint_cities(engine: sa.Engine, month: str) -> pd.DataFrame:
    """complaint_id, county_code, city_code of the month's complaints, straight from the tables."""
    rmap = region_map()
    query = (sa.select(hotline_complaints.c.complaint_id, hotline_complaints.c.county_code, rmap.c.city_code)
             .join(rmap, rmap.c.county_code == hotline_complaints.c.county_code)
             .where(sa.func.substr(sa.cast(hotline_complaints.c.received_date, sa.String), 1, 7) == month))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).fetchall(), columns=["complaint_id", "county_code", "city_code"])


def test_month_counts_add_up_to_the_complaints(demo_engine: sa.Engine) -> None:
    listed = complaint_cities(demo_engine, MONTH)
    assert len(listed) > 100
    cities = month_counts(demo_engine, MONTH, Level.CITY, scope=WHOLE_PROVINCE, today=END)
    assert len(cities) == 16 and int(cities["complaints"].sum()) == len(listed)
    assert dict(zip(cities["code"], cities["complaints"], strict=True)) == {
        code: int((listed["city_code"] == code).sum()) for code in cities["code"]}
    kinds = cities[["slow", "result", "no_feedback", "other"]].sum(axis=1)
    assert (kinds == cities["complaints"]).all()
    city = str(cities.sort_values("complaints").iloc[-1]["code"])
    counties = month_counts(demo_engine, MONTH, Level.COUNTY, scope=Scope(city), today=END)
    assert int(counties["complaints"].sum()) == int(cities.set_index("code").loc[city, "complaints"])
    assert all(c in set(listed.loc[listed["city_code"] == city, "county_code"]) or n == 0
               for c, n in zip(counties["code"], counties["complaints"], strict=True))
    series = month_series(demo_engine, "2026-10", 12, scope=WHOLE_PROVINCE, today=END)
    assert series["month"].tolist()[-1] == "2026-10" and len(series) == 12
    assert int(series.set_index("month").loc[MONTH, "complaints"]) == len(listed)


def test_every_file_holds_only_its_recipients_data(demo_engine: sa.Engine, tmp_path: Path) -> None:
    listed = complaint_cities(demo_engine, MONTH)
    facts = monthly_facts(demo_engine, MONTH, scope=WHOLE_PROVINCE)
    out = io.StringIO()
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", MONTH, "--out", str(tmp_path),
                             "--date", DATED.isoformat()], out=out) == 0
    feedback_due = DEFAULT_DOCUMENT_SETTINGS.feedback_due(DATED)
    written = [Path(line) for line in out.getvalue().split()]
    assert len(written) == 2 + 16 + len(facts.county_notices) and all(p.exists() for p in written)
    names = {n.code: n.name for n in facts.city_notices}
    all_ids = set(listed["complaint_id"])
    for notice in facts.city_notices:
        text = text_of(tmp_path / f"12388通报_{MONTH}_{notice.name}.docx")
        own = set(listed.loc[listed["city_code"] == notice.code, "complaint_id"])
        shown = {cid for cid in all_ids if cid in text}
        assert shown == own, notice.name  # every complaint of the city, none of another
        assert f"{notice.name}纪委监委：" in text
        assert not any(f"{other}纪委监委" in text for code, other in names.items() if code != notice.code)
        if own:
            assert f"来电{len(own)}件" in text
            assert f"于{feedback_due.year}年{feedback_due.month}月{feedback_due.day}日前" in text
    with demo_engine.connect() as conn:
        county_of = dict(conn.execute(sa.select(cases.c.case_id, cases.c.county_code)).all())
    for notice in facts.county_notices:
        text = text_of(tmp_path / f"点对点通报_{MONTH}_{notice.city_name}{notice.name}.docx")
        mentioned = {word for word in text.split() if word in county_of}
        mentioned |= set(notice.overdue_first["case_id"]) | set(notice.disputed["case_id"])
        assert all(county_of[cid] == notice.code for cid in mentioned), notice.name
        for cid in [*notice.overdue_first["case_id"], *notice.disputed["case_id"]]:
            assert cid in text
        assert f"初次举报超期未办结{len(notice.overdue_first)}件" in text
        assert not any(cid in text for cid in all_ids)  # a county notice names cases, not complaints
    book = openpyxl.load_workbook(tmp_path / f"12388月度台账_{MONTH}.xlsx")
    assert book.sheetnames == ["汇总", "来电清单", "重点县超期初次举报", "重点县结而不服"]
    ids = [row[0] for row in book["来电清单"].iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted(all_ids)
    summary = text_of(tmp_path / f"12388月度汇总_{MONTH}.docx")
    assert f"来电{len(all_ids)}件" in summary


def test_the_command_marks_the_month_notified_unless_checking(demo_engine: sa.Engine, tmp_path: Path) -> None:
    month = "2026-10"  # the demo leaves the last full month for the cycle to notify

    def notified() -> int:
        with demo_engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(hotline_complaints)
                                .where(hotline_complaints.c.notified_month == month)).scalar_one()

    before = notified()
    total = len(complaint_cities(demo_engine, month))
    assert before == 0 and total > 0
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", month, "--out", str(tmp_path / "a"),
                             "--check"], out=io.StringIO()) == 0
    assert notified() == 0 and len(list((tmp_path / "a").iterdir())) >= 18
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", month, "--out", str(tmp_path / "b")],
                            out=io.StringIO()) == 0
    assert notified() == total


def number_line(path: Path) -> str:
    """The 文号 a document bears (the paragraph in the number's form)."""
    lines = [p.text.strip() for p in docx.Document(str(path)).paragraphs]
    return next(line for line in lines if re.fullmatch(r".+〔\d{4}〕.*号", line))


def test_every_document_of_the_pack_has_its_own_number(demo_engine: sa.Engine, tmp_path: Path) -> None:
    """October's pack: every DOCX bears its own 文号 (none shared), the register and the audit log hold each with its
    title and recipient, the numbers run in order per kind; issuing the month again gives new numbers that name the
    ones they replace, and the answers' deadline the documents state is the one the page counts against."""
    month = "2026-10"
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", month, "--out", str(tmp_path / "a"),
                             "--date", DATED.isoformat()], out=io.StringIO()) == 0
    docs = sorted((tmp_path / "a").glob("*.docx"))
    numbers = {path.name: number_line(path) for path in docs}
    assert len(docs) >= 17 and len(set(numbers.values())) == len(docs), numbers
    assert numbers[f"12388月度汇总_{month}.docx"] == "鲁纪信报〔2026〕1号"
    cities = sorted(n for name, n in numbers.items() if name.startswith("12388通报_"))
    assert cities == sorted(f"鲁纪信月通〔2026〕{i}号" for i in range(1, 17))
    rows = register(demo_engine)
    assert sorted(rows["number"]) == sorted(numbers.values())
    assert set(rows["dated"]) == {DATED} and rows["replaces"].isna().all()
    jining = rows[rows["recipient"] == "济宁市纪委监委"].iloc[0]
    assert jining["number"] == numbers[f"12388通报_{month}_济宁市.docx"] and "济宁市" in jining["title"]
    audited = recent(demo_engine, 200)
    issued_rows = audited[audited["action"] == "document"]
    assert len(issued_rows) == len(docs) and all(any(n in d for d in issued_rows["detail"]) for n in numbers.values())
    with demo_engine.connect() as conn:
        stated = feedback_deadlines(conn, [month], DEFAULT_HOTLINE_SETTINGS)[month]
    assert stated == DEFAULT_DOCUMENT_SETTINGS.feedback_due(DATED) == dt.date(2026, 12, 21)
    assert monthly_facts(demo_engine, month, scope=WHOLE_PROVINCE).feedback_due == stated

    again = DATED + dt.timedelta(days=1)
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", month, "--out", str(tmp_path / "b"),
                             "--date", again.isoformat()], out=io.StringIO()) == 0
    renumbered = {path.name: number_line(path) for path in (tmp_path / "b").glob("*.docx")}
    assert not set(renumbered.values()) & set(numbers.values())
    rows = register(demo_engine)
    assert len(rows) == 2 * len(docs) and rows["number"].is_unique
    replaced = dict(zip(rows["number"], rows["replaces"], strict=True))
    assert all(replaced[renumbered[name]] == numbers[name] for name in numbers)


def test_a_deadline_before_the_date_is_refused_in_one_line(demo_engine: sa.Engine, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", "2026-10", "--out", str(out),
                             "--date", "2026-12-07", "--due", "2026-12-04"]) == 2
    err = capsys.readouterr().err.strip()
    assert "早于成文日期" in err and len(err.splitlines()) == 1 and not out.exists()
    with demo_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(document_numbers)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(hotline_complaints)
                            .where(hotline_complaints.c.notified_month == "2026-10")).scalar_one() == 0


def test_a_check_takes_no_number(demo_engine: sa.Engine, tmp_path: Path) -> None:
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", "2026-10", "--out", str(tmp_path),
                             "--date", DATED.isoformat(), "--check"], out=io.StringIO()) == 0
    assert number_line(tmp_path / "12388月度汇总_2026-10.docx") == "鲁纪信报〔2026〕　　号"
    assert register(demo_engine).empty


def test_a_bad_month_is_bad_usage(demo_engine: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", "2026-13", "--out", str(tmp_path)])
    assert stopped.value.code == 2 and "YYYY-MM" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_only_the_province_builds_the_pack(demo_engine: sa.Engine) -> None:
    with pytest.raises(PermissionError):
        monthly_facts(demo_engine, MONTH, scope=Scope("370800"))


# ---------------------------------------------------------------- late complaints (逾期补录)

def list_table(path: Path) -> list[dict[str, str]]:
    """The 来电清单 of a city's 通报 as rows keyed by header."""
    table = next(t for t in docx.Document(str(path)).tables if t.rows[0].cells[1].text == "来电编号")
    header = [cell.text for cell in table.rows[0].cells]
    return [dict(zip(header, (cell.text for cell in row.cells), strict=True)) for row in table.rows[1:]]


def sheet_rows(book: openpyxl.Workbook, title: str) -> list[dict[str, object]]:
    rows = list(book[title].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def complaint_file(rows: list[tuple[str, str, str]]) -> bytes:
    """complaint_id, received_date, county_code per row; 办理缓慢, no case."""
    return csv_bytes([{"complaint_id": cid, "received_date": day, "county_code": county, "kind": "slow"}
                      for cid, day, county in rows])


def test_a_late_complaint_is_listed_flagged_and_marked_in_the_next_notice(demo_engine: sa.Engine, tmp_path: Path) -> None:
    """September was notified (the demo); two September calls imported only now join October's notice."""
    late = {"LATE-1": ("2026-09-15", "370811"), "LATE-2": ("2026-09-28", "370102")}  # 任城区 (济宁), 历下区 (济南)
    import_complaints_bytes(demo_engine, complaint_file([(cid, day, county) for cid, (day, county) in late.items()]
                                                        + [("OCT-1", "2026-10-10", "370811")]), "late.csv", today=END)
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", "2026-10", "--out", str(tmp_path)],
                            out=io.StringIO()) == 0
    rmap = region_map()
    with demo_engine.connect() as conn:
        marked = pd.DataFrame(conn.execute(
            sa.select(hotline_complaints.c.complaint_id, rmap.c.city_code)
            .join(rmap, rmap.c.county_code == hotline_complaints.c.county_code)
            .where(hotline_complaints.c.notified_month == "2026-10")).fetchall(), columns=["complaint_id", "city_code"])
    assert set(late) | {"OCT-1"} <= set(marked["complaint_id"])
    book = openpyxl.load_workbook(tmp_path / "12388月度台账_2026-10.xlsx")
    listed = sheet_rows(book, "来电清单")
    assert sorted(r["来电编号"] for r in listed) == sorted(marked["complaint_id"])  # marked == listed, in total
    flagged = {r["来电编号"]: (str(r["来电日期"])[:10], r["备注"]) for r in listed if r["备注"]}
    assert flagged == {cid: (day, "逾期补录") for cid, (day, _) in late.items()}
    summary = {r["市"]: r for r in sheet_rows(book, "汇总")}
    assert summary["济宁市"]["其中逾期补录"] == 1 and summary["济南市"]["其中逾期补录"] == 1
    facts = monthly_facts(demo_engine, "2026-10", scope=WHOLE_PROVINCE)
    for notice in facts.city_notices:  # marked == listed, city by city
        own = sorted(marked.loc[marked["city_code"] == notice.code, "complaint_id"])
        if not own:
            continue
        rows = list_table(tmp_path / f"12388通报_2026-10_{notice.name}.docx")
        assert sorted(r["来电编号"] for r in rows) == own, notice.name
        assert {r["来电编号"]: (r["来电日期"], r["备注"]) for r in rows if r["备注"]} == {
            cid: (day, "逾期补录") for cid, (day, county) in late.items() if cid in own}
    jining = text_of(tmp_path / "12388通报_2026-10_济宁市.docx")
    assert "此前月份来电逾期补录1件" in jining
    assert "逾期补录2件" in text_of(tmp_path / "12388月度汇总_2026-10.docx")
    september = notice_complaints(demo_engine, "2026-09", scope=WHOLE_PROVINCE)  # September's notice as issued
    assert not set(late) & set(september["complaint_id"]) and not september["late"].any()


def test_the_notice_is_one_list_for_counts_pack_and_marks(demo_engine: sa.Engine) -> None:
    """October is not notified yet: its notice takes what marking it would mark, the counts and pack say the same."""
    import_complaints_bytes(demo_engine, complaint_file([("LATE-3", "2026-09-20", "370826")]), "late.csv", today=END)
    rows = notice_complaints(demo_engine, "2026-10", scope=WHOLE_PROVINCE)
    assert rows["notified_month"].isna().all() and rows.loc[rows["late"], "complaint_id"].tolist() == ["LATE-3"]
    cities = month_counts(demo_engine, "2026-10", Level.CITY, scope=WHOLE_PROVINCE)
    assert int(cities["complaints"].sum()) == len(rows) and int(cities["late"].sum()) == 1
    jining = notice_complaints(demo_engine, "2026-10", scope=Scope("370800"))
    assert set(jining["complaint_id"]) == set(rows.loc[rows["city_code"] == "370800", "complaint_id"])
    facts = monthly_facts(demo_engine, "2026-10", scope=WHOLE_PROVINCE)
    assert sorted(facts.complaint_ids) == sorted(rows["complaint_id"]) and facts.late == 1 and not facts.issued
    assert not notice_issued(demo_engine, "2026-10") and notice_issued(demo_engine, "2026-09")
    series = month_series(demo_engine, "2026-10", 2, scope=WHOLE_PROVINCE).set_index("month")
    assert int(series.loc["2026-10", "complaints"]) == len(rows)
    assert int(series.loc["2026-09", "complaints"]) == len(notice_complaints(demo_engine, "2026-09", scope=WHOLE_PROVINCE))


# ---------------------------------------------------------------- priority counties' notices, refusals

LIANGSHAN, MONTH_SEEDED = "370832", "2026-11"
AS_OF_SEEDED = dt.date(2026, 11, 30)


def seed_cases(engine: sa.Engine, *, closed_in_month: bool) -> None:
    """Six counties with 30 first reports each (March 2026); 梁山县 closes its own late and half were leapfrog reports:
    the one priority county of the year to 2026-11-30. It has two first reports open and overdue at that date, one
    of them not 检举控告 (out_of_scope). With `closed_in_month` it also closed two contested cases in November, one
    of them out_of_scope; without, it closed no case in November."""
    blank = {"satisfaction": "", "accepted_notice_date": "", "result_notice_date": "", "is_real_name": "0"}
    rows = []
    for county in ("370102", "370103", "370811", "370826", "370830", LIANGSHAN):
        poor = county == LIANGSHAN
        for i in range(30):
            received = dt.date(2026, 3, 2) + dt.timedelta(days=i)
            due = received + dt.timedelta(days=60)
            closed = due + dt.timedelta(days=10) if poor else received + dt.timedelta(days=20)
            rows.append(case(f"{county}-{i}", county_code=county, received_date=received.isoformat(), due_date=due.isoformat(),
                             closed_date=closed.isoformat(), is_leapfrog="1" if (i % 2 == 0 if poor else i == 0) else "0",
                             **blank))
    open_case = {"county_code": LIANGSHAN, "received_date": "2026-08-03", "due_date": "", "closed_date": "", **blank}
    rows += [case("LS-OVER", **open_case), case("LS-OOS", category="out_of_scope", **open_case)]
    if closed_in_month:
        contested = {"county_code": LIANGSHAN, "received_date": "2026-10-01", "closed_date": "2026-11-10", "disputed": "1",
                     "due_date": "", **blank}
        rows += [case("LS-DISP", **contested), case("LS-DISP-OOS", category="out_of_scope", **contested)]
    import_bytes(engine, csv_bytes(rows), "cases.csv")


def metrics_csv(argv: list[str]) -> pd.DataFrame:
    out = io.StringIO()
    assert metrics_cli.main(argv, out=out) == 0
    return pd.read_csv(io.StringIO(out.getvalue()), dtype=str, keep_default_na=False)


@pytest.mark.parametrize("closed_in_month", [False, True], ids=["closed-nothing", "closed-contested"])
def test_a_priority_countys_notice_lists_what_the_metrics_count(engine: sa.Engine, tmp_path: Path,
                                                                 closed_in_month: bool) -> None:
    seed_cases(engine, closed_in_month=closed_in_month)
    url = url_of(engine)
    # a priority county that closed no case in the month used to stop the command with a TypeError
    assert reports_cli.main(["monthly", "--db", url, "--month", MONTH_SEEDED, "--out", str(tmp_path), "--check"],
                            out=io.StringIO()) == 0
    overdue = metrics_csv(["overdue", "--db", url, "--as-of", AS_OF_SEEDED.isoformat(), "--parent", LIANGSHAN, "--format", "csv"])
    first = overdue.loc[overdue["is_first_report"].str.lower().isin(["1", "true"]), "case_id"].tolist()
    table = metrics_csv(["table", "--db", url, "--level", "county", "--parent", LIANGSHAN, "--from", "2026-11-01",
                         "--to", AS_OF_SEEDED.isoformat(), "--format", "csv"]).iloc[0]
    assert first == ["LS-OVER"] and int(table["first_overdue"]) == 1
    facts = monthly_facts(engine, MONTH_SEEDED, scope=WHOLE_PROVINCE)
    assert [n.code for n in facts.county_notices] == [LIANGSHAN]
    notice = facts.county_notices[0]
    assert notice.overdue_first["case_id"].tolist() == first
    assert notice.disputed["case_id"].tolist() == (["LS-DISP"] if closed_in_month else [])
    assert len(notice.disputed) == int(table["disputed"])
    text = text_of(tmp_path / f"点对点通报_{MONTH_SEEDED}_济宁市梁山县.docx")
    assert f"初次举报超期未办结{len(first)}件" in text and f"结而不服{len(notice.disputed)}件" in text
    assert "LS-OVER" in text and "LS-OOS" not in text and "LS-DISP-OOS" not in text
    summary = next(t for t in docx.Document(str(tmp_path / f"12388月度汇总_{MONTH_SEEDED}.docx")).tables
                   if t.rows[0].cells[0].text == "县（市、区）")
    assert [c.text for c in summary.rows[1].cells] == ["梁山县", "济宁市", str(len(first)), str(len(notice.disputed))]
    book = openpyxl.load_workbook(tmp_path / f"12388月度台账_{MONTH_SEEDED}.xlsx")
    assert [r["件号"] for r in sheet_rows(book, "重点县超期初次举报")] == first
    assert [r["件号"] for r in sheet_rows(book, "重点县结而不服")] == notice.disputed["case_id"].tolist()


def test_a_month_not_begun_is_refused_in_one_line(engine: sa.Engine, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert reports_cli.main(["monthly", "--db", url_of(engine), "--month", "2099-01", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "2099-01 尚未开始" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_complaints_arriving_while_the_pack_is_made_mark_nothing(engine: sa.Engine, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """An import between reading the notice and marking it: the documents would not list what is marked, so
    nothing is marked or written, and the command says so in one line (exit 1, bad data)."""
    seed_cases(engine, closed_in_month=False)
    import_complaints_bytes(engine, complaint_file([("NOV-1", "2026-11-03", "370811")]), "nov.csv", today=AS_OF_SEEDED)
    read = reports_cli.monthly_facts

    def read_then_import(*args: object, **kwargs: object):
        facts = read(*args, **kwargs)
        import_complaints_bytes(engine, complaint_file([("NOV-2", "2026-11-20", "370832")]), "nov2.csv", today=AS_OF_SEEDED)
        return facts

    monkeypatch.setattr(reports_cli, "monthly_facts", read_then_import)
    out = tmp_path / "out"
    assert reports_cli.main(["monthly", "--db", url_of(engine), "--month", MONTH_SEEDED, "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert "重新生成" in err and len(err.splitlines()) == 1 and not out.exists()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(hotline_complaints)
                            .where(hotline_complaints.c.notified_month.is_not(None))).scalar_one() == 0
