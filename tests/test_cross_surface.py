"""One fact, one number, on every surface (issue 26), on a seeded demo province in DuckDB and in PostgreSQL.

Everything is read at one as-of date A = 2026-10-31: the sidebar's 截止日期 of every page (统计期 本周, the
week 2026-10-26 .. 2026-11-01 the 周例会 reviews), the meeting's as-of, and the last day of the 12388 month
2026-10 whose notice the monthly pack makes. For each fact the one function that owns it gives the value, and
every surface that shows the fact must show that value:

- each city's and some counties' on-time rate and overdue stock of the meeting's week (metrics.table.region_table):
  `python -m metrics table`, the 周例会 page, its deck and workbook, 超期督办, 总览, the monthly 通报 and summary;
- the 重点督导县 at A (metrics.priority.priority_list over priority_window(A)): `python -m metrics priority` and
  `analysis`, the 重点督导县 page, the 周例会 page, deck, workbook and 通报, the 形势分析报告 (page and command),
  the 12388 pack's point-to-point notices, with each notice's overdue first reports as `metrics table` counts them;
- 督办 在办 / 逾期未反馈 at A (data_access.supervision.ledger.standing): the 督办台账 page, the 周例会 page and 通报, deck, workbook;
- the 2026-10 notice's calls by kind (metrics.hotline.month_counts over notice_complaints): the 12388 page, whatever
  the sidebar's period, and the month-end pack's 通报, summary and ledger.
- 越级重复举报专项治理 in the meeting's week (metrics.campaign_week.campaign_week): the 周例会 page's section, its deck's
  slide and its workbook's 专项治理 sheet, from the page and from `python -m reports weekly`, for each user; the
  积案化解 page's 纳入专项治理, 超期未化解 and 反弹 at the same 截止日期 (metrics.campaign.campaign_table).

A city user (烟台市) and a county user (牟平区, a 重点督导县) see for their region what the province user sees for it.
Then the province issues the month's notice on the 12388 page, the city answers a call 属实 (a 督办 item opens)
and the province opens an item on the 督办台账 page: every surface moves, in the sessions that wrote, in a new
session, and in the deck and workbook built again.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from pptx import Presentation
from streamlit.testing.v1 import AppTest

import pages.analysis
import pages.hotline
import pages.weekly
from data_access.demo.loading import load_demo
from data_access.identity import auth
from data_access.identity.auth import Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.reference.enums import ComplaintKind, Feedback, Level
from data_access.store.database import init_database, regions_frame
from data_access.supervision import campaign, ledger
from data_access.supervision.hotline_import import import_complaints_bytes
from data_access.supervision.ledger import Standing, Status
from metrics import cli as metrics_cli
from metrics.campaign import read_matters
from metrics.campaign_week import COUNT_LABELS, campaign_week
from metrics.hotline import KIND_COLUMNS, month_counts, monthly_facts, notice_complaints
from metrics.matters import repeat_matters
from metrics.periods import describe
from metrics.priority import PriorityStatus, priority_list, priority_window
from metrics.registry import METRICS_BY_ID
from metrics.request import TableRequest
from metrics.table import region_table
from metrics.weekly import Section, review_weeks
from presentation.campaign import campaign_sentence
from presentation.format import cn_date, fmt_value, plain_markdown
from reports import cli as reports_cli
from tests.conftest import database_of_its_own
from tests.test_access import PASSWORD, Spy, button, cheap_hasher, fill_login, go, metrics_shown, new_session
from tests.test_hotline import call
from tests.test_importer import case, csv_bytes
from tests.test_monthly_pack import text_of, url_of
from tests.test_weekly import _tables
from ui import access

SEED, CASES, END = 7, 40_000, dt.date(2026, 11, 20)  # the demo leaves 2026-10 un-notified for the cycle
AS_OF, MONTH = dt.date(2026, 10, 31), "2026-10"
WEEK = review_weeks(AS_OF)[0]  # 2026-10-26 .. 2026-11-01, read as of A
WINDOW = priority_window(AS_OF)  # 2025-11-01 .. 2026-10-31
VIEW = {"period": "this_week", "asof": AS_OF.isoformat()}  # the sidebar: 本周, 截止日期 A
CITY, COUNTY = "370600", "370612"  # 烟台市, 牟平区 (a 重点督导县 at A)
CITY_NAME, COUNTY_NAME = "烟台市", "牟平区"
LATE_CALL = "LATE-2026-09"
OUT_OF_SCOPE = case("OOS-2026-06", county_code=COUNTY, received_date="2026-06-01", category="out_of_scope",
                    due_date="2026-07-31", closed_date="", satisfaction="", accepted_notice_date="", result_notice_date="")
USERS = {"sheng": (Role.PROVINCE, None), "yantai": (Role.CITY, CITY), "muping": (Role.COUNTY, COUNTY)}
SCOPES = {"sheng": WHOLE_PROVINCE, "yantai": Scope(CITY), "muping": Scope(COUNTY)}
LISTED = ("新列入", "持续列入")  # the deck's and workbook's marks of this week's 重点督导县 (本周移出: no longer)
SUPERVISION = re.compile(r"目前在办 (\d+) 项(?:，(?:其中)?逾期未反馈 (\d+) 项)?")
REPORT_PRIORITY = re.compile(r"(\d+)个县（市、区）列为重点督导：([^；。]+)")


# --- the database, the users and their sessions ------------------------------------------------------

@pytest.fixture(scope="module", params=("duckdb", "postgresql"))
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """The demo province (seeded) with a province, a city and a county user; DATABASE_URL points at it."""
    engine = database_of_its_own(request.param, "cross", request, tmp_path_factory)
    init_database(engine)
    load_demo(engine, CASES, SEED, END)
    # an open first report outside 检举控告, past its due date in a 重点督导县: no overdue count or notice holds it
    import_bytes(engine, csv_bytes([OUT_OF_SCOPE]), "cases.csv")
    # a call of September, whose notice the demo issued, imported since: it joins October's notice (逾期补录)
    late = call(LATE_CALL, 来电日期="2026-09-15", 市=CITY_NAME, **{"县（市、区）": COUNTY_NAME, "关联件号": ""})
    import_complaints_bytes(engine, csv_bytes([late]), "12388.csv", today=END)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "PASSWORD_HASHER", cheap_hasher())
        mp.setattr(access, "FAILED_LOGIN_DELAY_S", 0.0)
        mp.setenv("DATABASE_URL", url_of(engine))
        for name, (role, region) in USERS.items():
            auth.add_user(engine, name, PASSWORD, role, region)
        yield engine
    engine.dispose()


def signed_in(username: str) -> AppTest:
    """A new browser session signed in through the form, on the overview at the sidebar of VIEW."""
    return fill_login(new_session(VIEW), username, PASSWORD)


@pytest.fixture(scope="module")
def sessions(db: sa.Engine) -> dict[str, AppTest]:
    """One session per user, kept for the module: the write test goes on in the sessions the reads used."""
    return {name: signed_in(name) for name in USERS}


@pytest.fixture(scope="module")
def names(db: sa.Engine) -> dict[str, str]:
    """Region code -> name."""
    regions = regions_frame(db)
    return dict(zip(regions["code"], regions["name"], strict=True))


# --- what the one function of each fact says ----------------------------------------------------------

def week_table(db: sa.Engine, level: Level, parent: str | None = None) -> pd.DataFrame:
    """The meeting's week per region (metrics.table.region_table), indexed by code."""
    return region_table(db, TableRequest(level, WEEK, parent=parent, scope=WHOLE_PROVINCE)).set_index("code")


def priority_counties_at(db: sa.Engine, scope: Scope = WHOLE_PROVINCE) -> pd.DataFrame:
    """The 重点督导县 at A within `scope`, in the ranking's order."""
    ranked = priority_list(db, AS_OF, scope=scope)
    return ranked[ranked["status"] == PriorityStatus.PRIORITY.value].reset_index(drop=True)


def standing_at(db: sa.Engine, scope: Scope) -> tuple[int, int]:
    """在办, 逾期未反馈 at A (data_access.supervision.ledger.standing)."""
    with db.connect() as conn:
        now: Standing = ledger.standing(conn, scope, AS_OF)
    return now.in_progress, now.overdue_replies


# --- reading the surfaces -----------------------------------------------------------------------------

def cli(db: sa.Engine, *args: str) -> list[dict] | dict:
    """`python -m metrics ARGS --db URL` run in-process, its JSON read back."""
    out = io.StringIO()
    extra = [] if args[0] == "analysis" else ["--format", "json"]
    assert metrics_cli.main([*args, "--db", url_of(db), *extra], out=out) == 0
    return json.loads(out.getvalue())


def reports_command(db: sa.Engine, out_dir: Path, *args: str) -> list[Path]:
    """`python -m reports ARGS --db URL --out DIR` run in-process: the files it wrote."""
    out = io.StringIO()
    assert reports_cli.main([*args, "--db", url_of(db), "--out", str(out_dir)], out=out) == 0
    return [Path(line) for line in out.getvalue().split()]


@pytest.fixture(scope="module")
def weekly_files(db: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Presentation, dict[str, pd.DataFrame]]:
    """`python -m reports weekly --as-of A`: the province's deck and workbook (before any write of the module)."""
    deck, book, _ = reports_command(db, tmp_path_factory.mktemp("weekly"), "weekly", "--as-of", AS_OF.isoformat())
    return Presentation(str(deck)), pd.read_excel(book, sheet_name=None)


@pytest.fixture(scope="module")
def monthly_dir(db: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m reports monthly --month 2026-10 --check`: the month-end pack, nothing marked."""
    out = tmp_path_factory.mktemp("monthly")
    reports_command(db, out, "monthly", "--month", MONTH, "--check")
    return out


def page_pack(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> tuple[Presentation, dict[str, pd.DataFrame]]:
    """The 周例会 page's two downloads, built as a click builds them (the deck read back, the workbook's sheets)."""
    spy = Spy(monkeypatch)
    spy.wrap(pages.weekly, "recorded_download")
    meeting(at, Section.KPIS)
    built = {name: build for (_, name), _, build in spy.calls["recorded_download"]}
    (deck,) = [build for name, build in built.items() if name.endswith(".pptx")]
    (book,) = [build for name, build in built.items() if name.endswith(".xlsx")]
    return Presentation(io.BytesIO(deck())), pd.read_excel(io.BytesIO(book()), sheet_name=None)


@pytest.fixture(scope="module")
def page_packs(sessions: dict[str, AppTest]) -> dict[str, tuple[Presentation, dict[str, pd.DataFrame]]]:
    """Each user's 周例会 deck and workbook from the page (before any write of the module)."""
    with pytest.MonkeyPatch.context() as mp:
        return {name: page_pack(at, mp) for name, at in sessions.items()}


def meeting(at: AppTest, section: Section) -> AppTest:
    """The 周例会 page at `section`, chosen on the page (a session keeps its section whatever the URL says later)."""
    go(at, "weekly").segmented_control(key="section").set_value(section.value).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def deck_tables(deck: Presentation, header: tuple[str, ...]) -> list[list[str]]:
    """The body rows of every table of the deck whose header row begins with `header`."""
    return [row for slide in deck.slides for table in _tables(slide) if tuple(table[0][:len(header)]) == header
            for row in table[1:]]


def deck_standing(deck: Presentation) -> tuple[int, int]:
    """目前在办, 逾期未反馈 on the 督办台账 slide."""
    (row,) = deck_tables(deck, ("本周新挂账", "县级反馈", "销号", "退回重办", "目前在办", "逾期未反馈"))
    return int(row[4]), int(row[5])


def deck_kpis(deck: Presentation) -> dict[str, str]:
    """Label -> this week's value on the KPI slide."""
    return {row[0]: row[1] for row in _tables(deck.slides[1])[0][1:]}


def workbook_standing(sheets: dict[str, pd.DataFrame]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(在办, 逾期未反馈) as the 说明 sheet states them and as the 督办台账 sheet's items count them."""
    notes = sheets["说明"].set_index("项目")["内容"]
    stated = SUPERVISION.search(str(notes["督办台账"]))
    assert stated is not None, notes["督办台账"]
    items = sheets["督办台账"]
    counted = (int((items["状态"] != Status.CLOSED.label).sum()), int((items["逾期未反馈"] == "是").sum()))
    return (int(stated[1]), int(stated[2] or 0)), counted


def stated_standing(text: str) -> tuple[int, int]:
    """目前在办 N 项（，其中）逾期未反馈 M 项 in a sentence; an absent overdue clause is 0."""
    found = SUPERVISION.search(text)
    assert found is not None, text
    return int(found[1]), int(found[2] or 0)


def count_of(value: str) -> int:
    """'1,234 项' / '7 个' / '31 件' -> the number."""
    return int(value.split()[0].replace(",", ""))


def ledger_page_standing(at: AppTest) -> tuple[int, int]:
    """在办事项, 逾期未反馈 on the 督办台账 page."""
    shown = metrics_shown(go(at, "ledger"))
    assert any(cn_date(AS_OF) in c.value for c in at.caption)  # the page says which day its stock is read at
    return count_of(shown["在办事项"]), count_of(shown["逾期未反馈"])


def meeting_standing(at: AppTest) -> tuple[tuple[int, int], tuple[int, int]]:
    """在办, 逾期未反馈 on the 周例会 page: its 超期未办结 section, and its 通报."""
    overdue = "\n".join(m.value for m in meeting(at, Section.OVERDUE).markdown if "督办台账" in m.value)
    text = meeting(at, Section.BULLETIN).code[0].value
    return stated_standing(overdue), stated_standing(text)


def every_standing(at: AppTest, pack: tuple[Presentation, dict[str, pd.DataFrame]]) -> dict[str, tuple[int, int]]:
    """在办, 逾期未反馈 on every surface of one user: pages, deck, workbook."""
    deck, sheets = pack
    section, bulletin = meeting_standing(at)
    stated, counted = workbook_standing(sheets)
    return {"督办台账页": ledger_page_standing(at), "周例会页": section, "周例会通报": bulletin, "演示稿": deck_standing(deck),
            "台账说明": stated, "台账督办表": counted}


def hotline_units(at: AppTest) -> pd.DataFrame:
    """The 12388 page's table of the units' calls by kind and cycle state, indexed by name."""
    (table,) = [d.value for d in at.dataframe if {"name", "complaints", *KIND_COLUMNS} <= set(d.value.columns)]
    return table.set_index("name")


def monthly_calls(at: AppTest) -> int:
    """The 12388 page's headline: the month's calls."""
    return count_of(metrics_shown(at)[f"{int(MONTH[:4])}年{int(MONTH[5:])}月来电投诉"])


# --- each city's and some counties' week ---------------------------------------------------------------

def test_each_citys_week_reads_the_same_everywhere(db: sa.Engine, sessions: dict[str, AppTest], weekly_files,
                                                    monthly_dir: Path, page_packs) -> None:
    cities = week_table(db, Level.CITY)
    named = cities.reset_index().set_index("name")
    shown = cli(db, "table", "--level", "city", "--from", str(WEEK.start), "--to", str(WEEK.end), "--as-of", str(AS_OF))
    command = pd.DataFrame(shown).set_index("code")
    for metric in ("on_time_rate", "due", "overdue", "first_overdue"):
        assert command[metric].tolist() == pytest.approx(cities[metric].tolist(), abs=1e-12, nan_ok=True), metric
    # the 周例会 page (rates in percentage points) and its deck and workbook
    page = meeting(sessions["sheng"], Section.CITIES).dataframe[0].value.set_index("市")
    assert page["on_time_rate"].to_dict() == pytest.approx((named["on_time_rate"] * 100).to_dict(), nan_ok=True)
    assert page["due"].to_dict() == named["due"].to_dict()
    for deck, sheets in (weekly_files, page_packs["sheng"]):
        ranking = {row[1]: (row[2], row[3]) for row in deck_tables(deck, ("名次", "市"))}
        assert ranking == {n: (str(int(r.due)), fmt_value("on_time_rate", r.on_time_rate)) for n, r in named.iterrows()}
        assert {row[0]: row[1] for row in deck_tables(deck, ("市", "超期未办结"))} == {
            n: str(int(v)) for n, v in named["overdue"].items()}
        book = sheets["各市排名"].set_index("市")
        assert book["超期未办结"].to_dict() == named["overdue"].to_dict()
        assert book["按期办结率"].to_dict() == pytest.approx(named["on_time_rate"].to_dict(), abs=1e-12, nan_ok=True)
    # 超期督办 at the sidebar's 截止日期: the stock per city
    stock = go(sessions["sheng"], "overdue").dataframe[0].value.set_index("city_name")["total"]
    assert stock.to_dict() == {n: v for n, v in named["overdue"].items() if v}
    # the 12388 pack, read at the month's last day = A: each city's 通报, the summary and the ledger
    for code, row in cities.iterrows():
        notice = text_of(monthly_dir / f"12388通报_{MONTH}_{row['name']}.docx")
        assert f"超期未办结{int(row['overdue'])}件，其中初次举报{int(row['first_overdue'])}件" in notice, code
    summary = pd.read_excel(monthly_dir / f"12388月度台账_{MONTH}.xlsx", sheet_name="汇总").set_index("市")
    assert summary["超期未办结"].to_dict() == named["overdue"].to_dict()


def test_a_city_and_a_county_user_see_their_region_as_the_province_does(db: sa.Engine, sessions: dict[str, AppTest],
                                                                        page_packs) -> None:
    city, county = week_table(db, Level.CITY).loc[CITY], week_table(db, Level.COUNTY).loc[COUNTY]
    counties = week_table(db, Level.COUNTY, parent=CITY)
    shown = cli(db, "table", "--level", "county", "--parent", CITY, "--from", str(WEEK.start), "--to", str(WEEK.end),
                "--as-of", str(AS_OF))
    command = pd.DataFrame(shown).set_index("code")
    assert command["overdue"].to_dict() == counties["overdue"].to_dict()
    assert command["on_time_rate"].tolist() == pytest.approx(counties["on_time_rate"].tolist(), abs=1e-12, nan_ok=True)
    cards = ("on_time_rate", "overdue")
    for user, row in (("yantai", city), ("muping", county)):
        at = sessions[user]
        expected = {METRICS_BY_ID[m].label: fmt_value(m, row[m]) for m in cards}
        assert {k: v for k, v in metrics_shown(go(at, "overview")).items() if k in expected} == expected, user
        assert {k: v for k, v in metrics_shown(meeting(at, Section.KPIS)).items() if k in expected} == \
            expected, user
        deck, sheets = page_packs[user]
        assert {k: v for k, v in deck_kpis(deck).items() if k in expected} == expected, user
        core = sheets["核心指标"].set_index("指标")["本周"]
        assert core[METRICS_BY_ID["overdue"].label] == row["overdue"], user
        assert core[METRICS_BY_ID["on_time_rate"].label] == pytest.approx(row["on_time_rate"], abs=1e-12), user
    # the city's meeting ranks its counties by the numbers the province's tables hold for them
    named = counties.reset_index().set_index("name")
    page = meeting(sessions["yantai"], Section.CITIES).dataframe[0].value.set_index("县（市、区）")
    assert page["on_time_rate"].to_dict() == pytest.approx((named["on_time_rate"] * 100).to_dict(), nan_ok=True)
    deck, sheets = page_packs["yantai"]
    assert {row[1]: row[3] for row in deck_tables(deck, ("名次", "县（市、区）"))} == {
        n: fmt_value("on_time_rate", v) for n, v in named["on_time_rate"].items()}
    assert sheets["各县排名"].set_index("县（市、区）")["超期未办结"].to_dict() == named["overdue"].to_dict()


def test_each_priority_countys_notice_counts_its_overdue_first_reports_as_the_tables_do(db: sa.Engine, names: dict[str, str],
                                                                                        monthly_dir: Path) -> None:
    chosen = priority_counties_at(db)
    counties = week_table(db, Level.COUNTY)
    shown = cli(db, "table", "--level", "county", "--from", str(WEEK.start), "--to", str(WEEK.end), "--as-of", str(AS_OF))
    command = pd.DataFrame(shown).set_index("code")["first_overdue"]
    stock = pd.DataFrame(cli(db, "overdue", "--as-of", str(AS_OF)))
    first = stock[stock["is_first_report"].astype(bool)].groupby("county_code").size()
    ledger_sheet = pd.read_excel(monthly_dir / f"12388月度台账_{MONTH}.xlsx", sheet_name="重点县超期初次举报")
    summary = text_of(monthly_dir / f"12388月度汇总_{MONTH}.docx")
    for row in chosen.itertuples():
        n = int(counties.loc[row.code, "first_overdue"])
        assert int(command[row.code]) == int(first.get(row.code, 0)) == n, row.name
        city = names[row.city_code]
        notice = text_of(monthly_dir / f"点对点通报_{MONTH}_{city}{row.name}.docx")
        assert f"初次举报超期未办结{n}件" in notice, row.name
        assert int((ledger_sheet["县（市、区）"] == row.name).sum()) == n, row.name
        assert f"{row.name}\n{city}\n{n}\n" in summary, row.name  # a row of the summary's table


# --- the 重点督导县 ---------------------------------------------------------------------------------------

def test_the_priority_list_is_one_list(db: sa.Engine, sessions: dict[str, AppTest], names: dict[str, str],
                                       weekly_files, monthly_dir: Path, page_packs, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = priority_counties_at(db)
    codes, full = set(chosen["code"]), sorted(chosen["city_code"].map(names) + chosen["name"])
    assert len(codes) >= 2 and COUNTY in codes  # the demo plants priority counties; the county user's is one
    # the command line: the ranking over the window, and the report's facts
    ranked = cli(db, "priority", "--from", str(WINDOW.start), "--to", str(WINDOW.end), "--as-of", str(AS_OF))
    assert {r["code"] for r in ranked if r["status"] == PriorityStatus.PRIORITY.value} == codes
    facts = cli(db, "analysis", "--from", str(WEEK.start), "--to", str(WEEK.end), "--as-of", str(AS_OF))
    assert {r["code"] for r in facts["priority"] if r["status"] == PriorityStatus.PRIORITY.value} == codes
    assert facts["priority_window"] == [WINDOW.start.isoformat(), WINDOW.end.isoformat()]
    # the 重点督导县 page, for each user: the rolling window at the sidebar's 截止日期
    for user, scope in SCOPES.items():
        at = go(sessions[user], "priority")
        mine = priority_counties_at(db, scope)
        assert metrics_shown(at)["▲ 重点督导"] == f"{len(mine)} 个", user
        table = at.dataframe[0].value
        assert set(table.loc[table["badge"] == "▲ 重点督导", "code"]) == set(mine["code"]), user
        assert any(c.value == f"检验窗口：{describe(WINDOW)}" for c in at.caption), user
    # the 周例会 page, its 通报, deck and workbook
    at = meeting(sessions["sheng"], Section.PRIORITY)
    assert metrics_shown(at)["重点督导县"] == f"{len(codes)} 个"
    lines = [m.value for m in at.markdown if m.value.startswith(("**★ 本周新列入**", "**▲ 持续列入**"))]
    assert len(lines) == len(codes)
    for row in chosen.itertuples():  # the sentence of the ranking at A: its rates are the rolling window's
        assert sum(line.endswith(f"　{plain_markdown(names[row.city_code])}　{plain_markdown(row.sentence)}")
                   for line in lines) == 1, row.name
    bulletin = meeting(sessions["sheng"], Section.BULLETIN).code[0].value
    assert f"列为重点督导的县（市、区）共 {len(codes)} 个：" in bulletin
    for deck, sheets in (weekly_files, page_packs["sheng"]):
        assert sorted(row[0] for row in deck_tables(deck, ("县（市、区）", "较上周")) if row[1] in LISTED) == full
        sheet = sheets["重点督导县"]
        assert set(sheet.loc[sheet["较上周"].isin(LISTED), "县级代码"].astype(str)) == codes
    # the 形势分析报告: from the page (the sidebar's period, one week) and from the command
    spy = Spy(monkeypatch)
    spy.wrap(pages.analysis, "recorded_download")
    go(sessions["sheng"], "analysis")
    ((_, name), _, build), = spy.calls["recorded_download"]
    (tmp_path / name).write_bytes(build())
    (written,) = reports_command(db, tmp_path / "cli", "analysis", "--from", str(WEEK.start), "--to", str(WEEK.end),
                                 "--as-of", str(AS_OF))
    for report in (tmp_path / name, written):
        stated = REPORT_PRIORITY.search(text_of(report))
        assert stated is not None and int(stated[1]) == len(codes), report.name
        assert sorted(stated[2].split("、")) == full, report.name  # counties named with their city
        assert f"按{cn_date(WINDOW.start)}至{cn_date(WINDOW.end)}的数据" in text_of(report), report.name
    # the 12388 pack's point-to-point notices, one per 重点督导县 at the month's last day
    notices = {p.name for p in monthly_dir.glob(f"点对点通报_{MONTH}_*.docx")}
    assert notices == {f"点对点通报_{MONTH}_{n}.docx" for n in full}
    assert {n.code for n in monthly_facts(db, MONTH, scope=WHOLE_PROVINCE).county_notices} == codes


# --- 督办 在办 / 逾期未反馈 -----------------------------------------------------------------------------

def test_supervision_standing_is_one_count(db: sa.Engine, sessions: dict[str, AppTest], weekly_files, page_packs) -> None:
    for user, scope in SCOPES.items():
        expected = standing_at(db, scope)
        assert min(expected) > 0, user  # items in progress and replies overdue: something to disagree about
        shown = every_standing(sessions[user], page_packs[user])
        assert shown == dict.fromkeys(shown, expected), user
    deck, sheets = weekly_files  # python -m reports weekly
    assert deck_standing(deck) == standing_at(db, WHOLE_PROVINCE)
    assert workbook_standing(sheets) == (standing_at(db, WHOLE_PROVINCE),) * 2


# --- the month's 12388 calls ---------------------------------------------------------------------------

KINDS = ["complaints", *KIND_COLUMNS]


def test_the_months_calls_are_one_count(db: sa.Engine, sessions: dict[str, AppTest], names: dict[str, str],
                                        monthly_dir: Path) -> None:
    cities = month_counts(db, MONTH, Level.CITY, scope=WHOLE_PROVINCE).set_index("name")
    listed = notice_complaints(db, MONTH, scope=WHOLE_PROVINCE)
    total = int(cities["complaints"].sum())
    assert total == len(listed) > 0 and listed.loc[listed["late"], "complaint_id"].tolist() == [LATE_CALL]
    at = go(sessions["sheng"], "hotline")
    assert monthly_calls(at) == total
    assert hotline_units(at)[KINDS].to_dict() == cities[KINDS].to_dict()
    assert any(s.value == f"来电清单（{total} 件）" for s in at.subheader)
    for period in ("last_week", "this_month", "this_week"):  # a month's count is not the sidebar's period's
        assert monthly_calls(go(at, "hotline", period=period)) == total, period
    for user, code in (("yantai", CITY), ("muping", COUNTY)):  # their region's calls, as the province counts them
        own = month_counts(db, MONTH, Level.COUNTY, scope=Scope(code), parent=code).set_index("name")
        page = go(sessions[user], "hotline")
        assert monthly_calls(page) == int(own["complaints"].sum()), user
        assert hotline_units(page)[KINDS].to_dict() == own[KINDS].to_dict(), user
    assert monthly_calls(sessions["yantai"]) == int(cities.loc[names[CITY], "complaints"])
    assert monthly_calls(sessions["muping"]) == int(hotline_units(sessions["yantai"]).loc[COUNTY_NAME, "complaints"])
    # the month-end pack: each city's 通报, the province's summary and ledger
    for name, row in cities.iterrows():
        text = text_of(monthly_dir / f"12388通报_{MONTH}_{name}.docx")
        if row["complaints"]:
            assert f"来电{int(row['complaints'])}件" in text, name
            for kind in KIND_COLUMNS:
                assert not row[kind] or f"{ComplaintKind(kind).label}{int(row[kind])}件" in text, (name, kind)
    assert f"来电{total}件" in text_of(monthly_dir / f"12388月度汇总_{MONTH}.docx")
    book = pd.read_excel(monthly_dir / f"12388月度台账_{MONTH}.xlsx", sheet_name=None)
    summary = book["汇总"].set_index("市")
    assert summary["来电"].to_dict() == cities["complaints"].to_dict()
    for kind in KIND_COLUMNS:
        assert summary[ComplaintKind(kind).label].to_dict() == cities[kind].to_dict(), kind
    assert summary["其中逾期补录"].to_dict() == cities["late"].to_dict()
    calls = book["来电清单"].set_index("来电编号")
    assert sorted(calls.index) == sorted(listed["complaint_id"]) and calls.loc[LATE_CALL, "备注"] == "逾期补录"
    assert LATE_CALL in text_of(monthly_dir / f"12388通报_{MONTH}_{CITY_NAME}.docx")


# --- a write moves every surface -----------------------------------------------------------------------

def issue_the_notice(province: AppTest, out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The province issues the month's 通报 on the 12388 page; the pack it then offers, unpacked into `out_dir`."""
    spy = Spy(monkeypatch)
    spy.wrap(pages.hotline, "recorded_download")
    go(province, "hotline").button(key="hotline_pack").click().run()
    assert not province.exception and not province.error, [e.value for e in (*province.exception, *province.error)]
    (build,) = [build for (_, name), _, build in spy.calls["recorded_download"] if name == f"12388月度通报_{MONTH}.zip"]
    with zipfile.ZipFile(io.BytesIO(build())) as pack:
        pack.extractall(out_dir)
    return out_dir


def answer_true(city: AppTest, complaint_id: str) -> None:
    """The city answers one notified call 属实 on the 12388 page (a 督办 item opens)."""
    go(city, "hotline")
    city.selectbox(key="hotline_feedback_pick").select(complaint_id)
    city.radio(key="hotline_feedback_verdict").set_value(Feedback.TRUE.value)
    city.text_area(key="hotline_feedback_note").input("经核查，承办人员存在拖延情况，已责令限期办结")
    button(city, "提交反馈").click().run()
    assert not city.exception and any(f"已反馈：{complaint_id}" in s.value for s in city.success), \
        [e.value for e in (*city.error, *city.warning)]


def open_item(province: AppTest, county: str) -> None:
    """The province opens a 督办 item for `county` on the 督办台账 page."""
    go(province, "ledger", new="1", county=county, title="初次举报超期未办结，请说明原因")
    province.text_area[0].input("请于期限内办结并书面反馈超期原因和整改措施")
    button(province, "挂账督办").click().run()
    assert not province.exception and any(s.value.startswith("已挂账：") for s in province.success), \
        [e.value for e in province.error]


def test_a_ledger_step_and_a_12388_step_move_every_surface(db: sa.Engine, sessions: dict[str, AppTest],
                                                           names: dict[str, str], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    before = {user: standing_at(db, scope) for user, scope in SCOPES.items()}
    calls = notice_complaints(db, MONTH, scope=WHOLE_PROVINCE)
    cycle = ["notified", "answered", "confirmed", "items"]
    assert not month_counts(db, MONTH, Level.CITY, scope=WHOLE_PROVINCE)[cycle].to_numpy().any()  # the month is open
    province, city = sessions["sheng"], sessions["yantai"]
    pack = issue_the_notice(province, tmp_path / "pack", monkeypatch)
    assert any(f"本次标记已通报 {len(calls)} 件来电" in s.value for s in province.success)
    listed = pd.read_excel(pack / f"12388月度台账_{MONTH}.xlsx", sheet_name="来电清单")
    assert sorted(listed["来电编号"]) == sorted(calls["complaint_id"])
    assert {p.name for p in pack.glob("点对点通报_*.docx")} == {
        f"点对点通报_{MONTH}_{names[r.city_code]}{r.name}.docx" for r in priority_counties_at(db).itertuples()}
    mine = calls[calls["city_code"] == CITY]
    answered = mine.sort_values("county_code", key=lambda c: c != COUNTY, kind="stable").iloc[0]  # the county's, if any
    answer_true(city, str(answered["complaint_id"]))
    open_item(province, COUNTY)
    after = {user: standing_at(db, scope) for user, scope in SCOPES.items()}
    own = 1 + int(answered["county_code"] == COUNTY)
    assert [after[u][0] - before[u][0] for u in USERS] == [2, 2, own]
    # every surface of each user, in the sessions that wrote (or only read) before, with the pack built again
    for user, at in sessions.items():
        shown = every_standing(at, page_pack(at, monkeypatch))
        assert shown == dict.fromkeys(shown, after[user]), user
    fresh = signed_in("sheng")  # a new browser session
    section, bulletin = meeting_standing(fresh)
    assert (ledger_page_standing(fresh), section, bulletin) == (after["sheng"],) * 3
    deck, book, _ = reports_command(db, tmp_path / "weekly", "weekly", "--as-of", AS_OF.isoformat())
    assert deck_standing(Presentation(str(deck))) == after["sheng"]
    assert workbook_standing(pd.read_excel(book, sheet_name=None)) == (after["sheng"],) * 2
    # the 12388 page: the month notified, the answer and its item counted, in the writing sessions and a new one
    cities = month_counts(db, MONTH, Level.CITY, scope=WHOLE_PROVINCE).set_index("name")
    assert int(cities["notified"].sum()) == len(calls) and int(cities["confirmed"].sum()) == int(cities["items"].sum()) == 1
    for at in (province, fresh):
        page = go(at, "hotline")
        assert hotline_units(page)[cycle].to_dict() == cities[cycle].to_dict()
        assert metrics_shown(page)["挂账督办"] == "1 项"
    for user, code in (("yantai", CITY), ("muping", COUNTY)):
        counties = month_counts(db, MONTH, Level.COUNTY, scope=Scope(code), parent=code).set_index("name")
        assert hotline_units(go(sessions[user], "hotline"))[cycle].to_dict() == counties[cycle].to_dict(), user


# --- 越级重复举报专项治理 in the meeting's week ---------------------------------------------------------------

CAMPAIGN_MONDAY = dt.datetime(2026, 10, 27, 10)  # the steps fall in the meeting's week, before A
CAMPAIGN_DUE = dt.date(2026, 10, 30)  # past at A: 超期未化解


def campaign_on_page(at: AppTest) -> dict[str, int]:
    """The 周例会 page's campaign cards: label -> count."""
    return {label: count_of(value) for label, value in metrics_shown(meeting(at, Section.CAMPAIGN)).items()}


def campaign_in_deck(deck: Presentation) -> tuple[dict[str, int], list[str]]:
    """The campaign slide's counts, and the matters its list names."""
    (row,) = deck_tables(deck, tuple(COUNT_LABELS.values()))
    listed = [r[0] for r in deck_tables(deck, ("事项编号", "承办单位", "状态"))]
    return dict(zip(COUNT_LABELS.values(), map(int, row), strict=True)), listed


def campaign_in_workbook(sheets: dict[str, pd.DataFrame]) -> dict[str, int]:
    """The counts the 专项治理 sheet's rows give."""
    rows = sheets["专项治理"]
    yes = {label: int((rows[label] == "是").sum()) for label in ("本周新纳入", "本周化解", "本周案结事了", "超期未化解", "反弹")}
    return {"纳入专项治理": len(rows), **yes}


def test_the_campaigns_week_reads_the_same_everywhere(db: sa.Engine, sessions: dict[str, AppTest], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    screened = [m for m in repeat_matters(db, AS_OF) if m.screened]
    muping = [m.matter for m in screened if m.county_code == COUNTY][:2]
    yantai = next(m.matter for m in screened if m.county_code.startswith(CITY[:4]) and m.county_code != COUNTY)
    elsewhere = next(m for m in screened if not m.county_code.startswith(CITY[:4]))
    assert len(muping) == 2  # the demo's 牟平区 has two screened matters at A
    province = auth.Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
    screening = read_matters
    ids = campaign.enrol_batch(db, province, [*muping, yantai], deadline=CAMPAIGN_DUE, as_of=AS_OF, screening=screening,
                               now=CAMPAIGN_MONDAY).ids
    campaign.enrol(db, province, elsewhere.matter, deadline=dt.date(2026, 12, 31), as_of=AS_OF, screening=screening,
                   now=CAMPAIGN_MONDAY)
    campaign.assign(db, auth.Identity("yantai", Role.CITY, CITY, "烟台市纪委监委"), ids[muping[0]], leader_name="王某某",
                    leader_post="牟平区纪委书记", team="区纪委信访室、第一监督检查室", plan="逐项核查，限期答复",
                    now=CAMPAIGN_MONDAY + dt.timedelta(days=1))
    campaign.claim_resolved(db, auth.Identity("muping", Role.COUNTY, COUNTY, "牟平区纪委监委"), ids[muping[0]],
                            note="反映问题已核实整改，书面答复", now=CAMPAIGN_MONDAY + dt.timedelta(days=2))
    # a new report on the second matter, not yet recorded as a relapse: the meeting names it at once
    import_bytes(db, csv_bytes([case("CAMPAIGN-NEW-1", county_code=COUNTY, matter_id=muping[1], received_date="2026-10-30",
                                     closed_date="", due_date="", result_notice_date="", satisfaction="",
                                     accepted_notice_date="2026-10-30")]), "cases.csv")
    expected = {"sheng": (4, 4, 1, 0, 3, 1), "yantai": (3, 3, 1, 0, 3, 1), "muping": (2, 2, 1, 0, 2, 1)}
    for user, scope in SCOPES.items():
        week = campaign_week(db, scope, AS_OF)
        counts = week.counts.labelled()
        assert tuple(counts.values()) == expected[user], user
        assert campaign_on_page(sessions[user]) == counts, user
        deck, sheets = page_pack(sessions[user], monkeypatch)
        on_slide, listed = campaign_in_deck(deck)
        assert on_slide == counts and listed == week.attention["matter"].tolist(), user
        assert campaign_in_workbook(sheets) == counts, user
        assert campaign_sentence(week) in str(sheets["说明"].set_index("项目")["内容"]["专项治理"]), user
    # the 积案化解 page at the same 截止日期: its 纳入专项治理, 超期未化解 and 反弹 are the meeting's (opening it records
    # the new report as 反弹, a step taken on A here: a step after A would not count at A, on the page as in the meeting)
    monkeypatch.setattr(campaign, "_now", lambda: dt.datetime.combine(AS_OF, dt.time(18)))
    both = ("纳入专项治理", "超期未化解", "反弹")
    for user, scope in SCOPES.items():
        shown = metrics_shown(go(sessions[user], "matters"))
        in_meeting = campaign_week(db, scope, AS_OF).counts.labelled()
        assert {label: count_of(shown[label]) for label in both} == {label: in_meeting[label] for label in both} == \
            {"纳入专项治理": expected[user][0], "超期未化解": expected[user][4], "反弹": 1}, user
    deck_path, book, _ = reports_command(db, tmp_path / "weekly", "weekly", "--as-of", AS_OF.isoformat())
    counts = campaign_week(db, WHOLE_PROVINCE, AS_OF).counts.labelled()
    assert campaign_in_deck(Presentation(str(deck_path)))[0] == counts
    assert campaign_in_workbook(pd.read_excel(book, sheet_name=None)) == counts
