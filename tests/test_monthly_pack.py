"""The month-end 12388 pack on both engines: every figure is the database's, every file holds only its
recipient's data (a test opens each one), and the command marks the month notified unless --check."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.database import load_demo
from data_access.enums import Level
from data_access.schema import cases, hotline_complaints
from data_access.scope import WHOLE_PROVINCE, Scope
from metrics.compiler import region_map
from metrics.hotline import month_counts, month_series, monthly_facts
from reports import cli as reports_cli

MONTH = "2026-09"
END = dt.date(2026, 11, 20)


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
    cities = month_counts(demo_engine, MONTH, Level.CITY, scope=WHOLE_PROVINCE, as_of=END)
    assert len(cities) == 16 and int(cities["complaints"].sum()) == len(listed)
    assert dict(zip(cities["code"], cities["complaints"], strict=True)) == {
        code: int((listed["city_code"] == code).sum()) for code in cities["code"]}
    kinds = cities[["slow", "result", "no_feedback", "other"]].sum(axis=1)
    assert (kinds == cities["complaints"]).all()
    city = str(cities.sort_values("complaints").iloc[-1]["code"])
    counties = month_counts(demo_engine, MONTH, Level.COUNTY, scope=Scope(city), as_of=END)
    assert int(counties["complaints"].sum()) == int(cities.set_index("code").loc[city, "complaints"])
    assert all(c in set(listed.loc[listed["city_code"] == city, "county_code"]) or n == 0
               for c, n in zip(counties["code"], counties["complaints"], strict=True))
    series = month_series(demo_engine, "2026-10", 12, scope=WHOLE_PROVINCE, as_of=END)
    assert series["month"].tolist()[-1] == "2026-10" and len(series) == 12
    assert int(series.set_index("month").loc[MONTH, "complaints"]) == len(listed)


def test_every_file_holds_only_its_recipients_data(demo_engine: sa.Engine, tmp_path: Path) -> None:
    listed = complaint_cities(demo_engine, MONTH)
    facts = monthly_facts(demo_engine, MONTH, scope=WHOLE_PROVINCE)
    out = io.StringIO()
    assert reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", MONTH, "--out", str(tmp_path)], out=out) == 0
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
            assert f"来电 {len(own)} 件" in text
            assert f"于{facts.feedback_due.year}年{facts.feedback_due.month}月{facts.feedback_due.day}日前" in text
    with demo_engine.connect() as conn:
        county_of = dict(conn.execute(sa.select(cases.c.case_id, cases.c.county_code)).all())
    for notice in facts.county_notices:
        text = text_of(tmp_path / f"点对点通报_{MONTH}_{notice.city_name}{notice.name}.docx")
        mentioned = {word for word in text.split() if word in county_of}
        mentioned |= set(notice.overdue_first["case_id"]) | set(notice.disputed["case_id"])
        assert all(county_of[cid] == notice.code for cid in mentioned), notice.name
        for cid in [*notice.overdue_first["case_id"], *notice.disputed["case_id"]]:
            assert cid in text
        assert f"初次举报超期未办结 {len(notice.overdue_first)} 件" in text
        assert not any(cid in text for cid in all_ids)  # a county notice names cases, not complaints
    book = openpyxl.load_workbook(tmp_path / f"12388月度台账_{MONTH}.xlsx")
    assert book.sheetnames == ["汇总", "来电清单", "重点县超期初次举报", "重点县结而不服"]
    ids = [row[0] for row in book["来电清单"].iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted(all_ids)
    summary = text_of(tmp_path / f"12388月度汇总_{MONTH}.docx")
    assert f"来电 {len(all_ids)} 件" in summary


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


def test_a_bad_month_is_bad_usage(demo_engine: sa.Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        reports_cli.main(["monthly", "--db", url_of(demo_engine), "--month", "2026-13", "--out", str(tmp_path)])
    assert stopped.value.code == 2 and "YYYY-MM" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_only_the_province_builds_the_pack(demo_engine: sa.Engine) -> None:
    with pytest.raises(PermissionError):
        monthly_facts(demo_engine, MONTH, scope=Scope("370800"))
