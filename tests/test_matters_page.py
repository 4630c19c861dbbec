"""积案化解 through the running app (AppTest, embedded DuckDB) on the golden matters' cases (tests/data/golden/matters):
what each role sees at the sidebar's 截止日期 — the KPIs and the region table equal metrics.campaign.campaign_table,
the screened list equals metrics.matters.repeat_matters in the viewer's region with 多年/多层/多头 as chips — and a
campaign run through the page: the province enrols two matters of 济宁市 together (集中交办) at 2024-03-01, the city
sets a 包案, the county's note with a phone number is refused and nothing written, the county notes progress and
reports it resolved, the province's confirmation is refused while reports are open and accepted at 2024-06-30, where
opening the page records the other matter's new report as 反弹.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

import pages.matters
from data_access.identity import auth
from data_access.identity.audit import recent
from data_access.identity.auth import Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.reference.enums import Level
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.supervision import campaign
from metrics.campaign import campaign_table
from metrics.campaign_week import campaign_week
from metrics.matters import repeat_matters
from tests.apptest_support import switch_to
from tests.conftest import GOLDEN, REPO_ROOT
from tests.test_access import Spy
from ui import access

APP = REPO_ROOT / "app.py"
TIMEOUT = 90
PASSWORD = "Shandong-2024!"
PROVINCE, JINING, WEISHAN, RENCHENG, JINAN = "370000", "370800", "370826", "370811", "370100"
USERS = {"sheng": (Role.PROVINCE, None), "jining": (Role.CITY, JINING), "weishan": (Role.COUNTY, WEISHAN),
         "rencheng": (Role.COUNTY, RENCHENG)}
EARLY, LATE = dt.date(2024, 3, 1), dt.date(2024, 6, 30)
SETTLING = "XF202312-0072"  # 微山县: screened at EARLY (2 reports open), settled in the data at LATE
RELAPSING = "SD303-0000445"  # 任城区: 3 reports at EARLY, a fourth on 2024-04-01
KPI_LABELS = ("列入筛选积案", "纳入专项治理", "包案率", "化解率", "超期未化解", "反弹")


def view(day: dt.date) -> dict[str, str]:
    return {"period": "custom", "asof": day.isoformat(), "from": "2024-01-01", "to": day.isoformat()}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """A DuckDB file with the golden matters' cases and the users above; DATABASE_URL points at it."""
    url = f"duckdb:///{tmp_path_factory.mktemp('matters_page') / 'matters.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        mp.setattr(access, "FAILED_LOGIN_DELAY_S", 0.0)
        mp.setenv("DATABASE_URL", url)
        engine = make_engine(url)
        init_database(engine)
        import_file(engine, GOLDEN / "matters" / "cases.csv")
        for name, (role, region) in USERS.items():
            auth.add_user(engine, name, PASSWORD, role, region)
        yield engine
        engine.dispose()


def open_as(username: str, day: dt.date) -> AppTest:
    """A session signed in through the form as `username`, on the 积案化解 page at the 截止日期 `day`."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(view(day))
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    switch_to(at, "matters").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["积案化解"], [e.value for e in at.error]
    return at


def metrics_shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def widget(widgets, label: str):
    (found,) = [w for w in widgets if w.label.startswith(label)]
    return found


def offered(at: AppTest) -> list[str]:
    """The matter keys the enrolment box offers (each shown with its county and reports)."""
    return [option.split("\u3000")[0] for option in widget(at.multiselect, "选择纳入专项治理的事项").options]


def screened_keys(engine: sa.Engine, day: dt.date, parent: str | None) -> list[str]:
    return [m.matter for m in repeat_matters(engine, day, parent=parent) if m.screened]


def campaign_id(engine: sa.Engine, matter: str) -> str:
    rows = campaign.matters(engine, WHOLE_PROVINCE, LATE)
    return str(rows.loc[rows["matter"] == matter, "id"].iloc[0])


def test_province_sees_every_screened_matter_and_the_cities(db: sa.Engine) -> None:
    at = open_as("sheng", LATE)
    expected = screened_keys(db, LATE, None)
    shown = metrics_shown(at)
    assert [shown[label] for label in KPI_LABELS] == [f"{len(expected):,} 件", "0 件", "—", "—", "0 件", "0 件"]
    listed = frame_with(at, "事项编号")
    assert list(listed["事项编号"]) == expected  # the screening's order: reports descending, then key
    first = listed.iloc[0]  # SD303-0001701: 12 reports in 2023, 4 levels, one channel
    assert (first["事项编号"], first["举报件数"], first["分级"], list(first["特征"]), first["最新办理情况"]) == \
        ("SD303-0001701", 12, "突出", ["多层"], "最新一件结而不服")
    cities = frame_with(at, "每百件积案")
    table = campaign_table(db, Level.CITY, LATE, scope=WHOLE_PROVINCE)
    assert len(cities) == 16 and list(cities["列入筛选积案"]) == list(table["screened"])
    assert list(cities["每百件积案"].round(6)) == list(table["per_100"].round(6))
    assert int(table["screened"].sum()) == len(expected)
    assert offered(at) == expected
    assert not [i for i in at.info if "早于数据的最后一天" in i.value]  # read at the data's last day: all as it is now


def test_city_sees_its_counties_only(db: sa.Engine) -> None:
    at = open_as("jining", LATE)
    expected = screened_keys(db, LATE, JINING)
    assert list(frame_with(at, "事项编号")["事项编号"]) == expected and len(expected) == 5
    assert set(frame_with(at, "事项编号")["所属市"]) == {"济宁市"}
    counties = frame_with(at, "每百件积案")
    table = campaign_table(db, Level.COUNTY, LATE, scope=Scope(JINING), parent=JINING)
    assert list(counties["地区"]) == ["任城区", "兖州区", "微山县", "鱼台县", "金乡县", "嘉祥县", "汶上县", "泗水县", "梁山县",
                                     "曲阜市", "邹城市"]
    assert list(counties["列入筛选积案"]) == list(table["screened"])
    assert metrics_shown(at)["列入筛选积案"] == f"{len(expected)} 件"
    assert offered(at) == expected


def test_county_sees_its_own_matters_and_enrols_none(db: sa.Engine) -> None:
    at = open_as("weishan", LATE)
    expected = screened_keys(db, LATE, WEISHAN)
    assert list(frame_with(at, "事项编号")["事项编号"]) == expected == ["SD303-0001197"]
    assert not [w for w in at.multiselect if w.key == "matters_pick"]  # enrolment is the province's, or a city's for its counties
    assert list(frame_with(at, "每百件积案")["地区"]) == ["微山县"]
    at.selectbox(key="matter_open").select("SD303-0001197").run()
    timeline = frame_with(at, "环节")
    # its three reports in order: two in other counties of 济宁市, shown without their case_id
    assert list(timeline["环节"]) == ["第 1 次举报", "第 2 次举报", "第 3 次举报"]
    assert [text.rsplit("件号 ", 1)[1] for text in timeline["内容"]] == ["（本级管辖范围外）", "（本级管辖范围外）", "SD303-R000000"]
    assert "办结（结而不服）" in timeline["内容"].iloc[2] and "省纪委监委受理" in timeline["内容"].iloc[0]


def steps_on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """The campaign's steps from here on are taken on `day` (10:00), the 截止日期 the page is read at: the page counts
    the campaign as it stood at the end of its 截止日期, as the 周例会 does, so a step stamped with today's clock
    would not show at a date in 2024."""
    monkeypatch.setattr(campaign, "_now", lambda: dt.datetime.combine(day, dt.time(10)))


def test_a_matter_from_enrolment_to_settled_and_a_relapse(db: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # the province enrols two matters of 济宁市 together (集中交办) at 2024-03-01
    steps_on(monkeypatch, EARLY)
    province = open_as("sheng", EARLY)
    widget(province.multiselect, "选择纳入专项治理的事项").set_value([SETTLING, RELAPSING]).run()
    button(province, "纳入专项治理（集中交办2 件）").click().run()
    assert [s.value for s in province.success] == [f"已纳入专项治理（集中交办）：2 件，限期 "
                                                   f"{dt.date.today() + dt.timedelta(days=60)} 办结。"]
    rows = campaign.matters(db, WHOLE_PROVINCE, EARLY)
    assert sorted(rows["matter"]) == sorted([SETTLING, RELAPSING]) and rows["batch"].nunique() == 1
    assert metrics_shown(province)["纳入专项治理"] == "2 件" and metrics_shown(province)["包案率"] == "0.0%"
    # a 截止日期 before the data's last day: the page says which parts are read then and which now
    assert [i.value for i in province.info if "早于数据的最后一天" in i.value] == [
        "截止日期 2024-03-01 早于数据的最后一天 2024-06-30：上方的统计是专项治理在该日日终时的状态；"
        "本清单、事项的包案与进展和各项操作是当前状态（含该日以后纳入的事项）。"]
    settling = campaign_id(db, SETTLING)

    # the city sets the 包案 of 微山县's matter
    city = open_as("jining", EARLY)
    city.selectbox(key="matter_open").select(SETTLING).run()
    widget(city.text_input, "包案领导姓名").input("李某某")
    widget(city.text_input, "包案领导职务").input("微山县纪委书记")
    widget(city.text_area, "工作专班").input("县纪委信访室、第一监督检查室、乡镇纪委")
    widget(city.text_area, "化解方案").input("逐项核查所反映的乡村振兴项目资金问题，两个月内书面答复")
    button(city, "保存包案").click().run()
    assert [s.value for s in city.success] == ["已保存包案。"]
    assert metrics_shown(city)["包案率"] == "50.0%"

    # the county: a phone number refused, nothing written; progress; resolved
    county = open_as("weishan", EARLY)
    assert list(frame_with(county, "状态")["事项编号"]) == [SETTLING]  # 任城区's matter is not its own
    county.selectbox(key="matter_open").select(SETTLING).run()
    note = widget(county.text_area, "进展情况或化解情况")
    note.input("已联系举报人，电话 13812345678")
    button(county, "报送进展").click().run()
    assert county.error and "疑似电话号码" in county.error[0].value and county.error[0].value.startswith("未保存")
    assert campaign.notes(db, WHOLE_PROVINCE, settling).empty
    widget(county.text_area, "进展情况或化解情况").input("专班已核查 3 项问题，2 项已整改")
    button(county, "报送进展").click().run()
    assert [s.value for s in county.success] == ["已报送进展。"]
    widget(county.text_area, "进展情况或化解情况").input("3 项问题均已整改到位，已书面答复并见面沟通")
    button(county, "报告已化解").click().run()
    assert [s.value for s in county.success] == ["已报告化解，待省级确认案结事了。"]

    # the province: refused while reports are open at 2024-03-01; at 2024-06-30 the data shows it settled
    province = open_as("sheng", EARLY)
    province.selectbox(key="matter_open").select(SETTLING).run()
    button(province, "确认案结事了").click().run()
    assert province.error and province.error[0].value == (
        f"未保存：截至 {EARLY}，事项 {SETTLING} 尚不能确认案结事了：尚有 2 件举报未办结。")
    steps_on(monkeypatch, LATE)
    province = open_as("sheng", LATE)
    assert [w.value for w in province.warning if "反弹" in w.value] == ["截至 2024-06-30，1 个专项治理事项有新举报，已记录为反弹。"]
    province.selectbox(key="matter_open").select(SETTLING).run()
    button(province, "确认案结事了").click().run()
    assert [s.value for s in province.success] == ["已确认案结事了。"]
    shown = metrics_shown(province)
    assert [shown[label] for label in KPI_LABELS[1:]] == ["2 件", "50.0%", "50.0%", "0 件", "1 件"]
    meeting = campaign_week(db, WHOLE_PROVINCE, LATE).counts  # the 周例会 at the same 截止日期 counts the same
    assert [shown[label] for label in ("纳入专项治理", "超期未化解", "反弹")] == \
        [f"{meeting.enrolled} 件", f"{meeting.overdue} 件", f"{meeting.relapsed} 件"]
    earlier = metrics_shown(open_as("sheng", EARLY))  # and at 2024-03-01 the page shows the campaign as it stood then
    assert [earlier[label] for label in KPI_LABELS[1:]] == ["2 件", "50.0%", "50.0%", "0 件", "0 件"]

    steps = campaign.history(db, WHOLE_PROVINCE, settling)
    assert list(steps["action"]) == ["enrol", "assign", "progress", "resolve", "settle"]
    assert list(steps["username"]) == ["sheng", "jining", "weishan", "weishan", "sheng"]
    relapse = campaign.history(db, WHOLE_PROVINCE, campaign_id(db, RELAPSING))
    assert list(relapse["action"]) == ["enrol", "relapse"] and relapse["username"].iloc[-1] == "sheng"
    assert relapse["detail"].iloc[-1] == "新增举报 1 件（共 4 件，最新 2024-04-01），原状态“已交办”"
    log = recent(db, 1000)
    steps_logged = log[log["action"] == "supervision"]
    assert len(steps_logged) == 7 and steps_logged["detail"].str.startswith("专项治理").all()  # 2 enrolled, 5 steps
    # the timeline shows the reports, then each step
    timeline = frame_with(province, "环节")
    assert list(timeline["环节"]) == ["第 1 次举报", "第 2 次举报", "第 3 次举报", "第 4 次举报",
                                      "纳入专项治理", "包案", "进展", "化解", "案结事了"]
    # opened again: nothing new to record, no second relapse
    again = open_as("jining", LATE)
    assert not [w for w in again.warning if "反弹" in w.value]
    assert len(campaign.history(db, WHOLE_PROVINCE, campaign_id(db, RELAPSING))) == 2


def builders(downloads: Spy) -> dict[str, Callable[[], bytes]]:
    """The download builders the page made so far, by file name (calls of recorded_download: make, file_name)."""
    return {file_name: make for (make, file_name), _, _ in downloads.calls.get("recorded_download", [])}


def docx_text(data: bytes) -> str:
    import io

    from docx import Document

    document = Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_letter_to_a_city_and_a_matters_dossier(db: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The province downloads and issues the 交办函 to 济宁市 (its campaign matters not yet 案结事了, with 文号 after
    issuing); the city downloads the letter to itself and may not issue; the county gets none; an opened campaign
    matter prints its 一案一档."""
    if campaign.matters(db, WHOLE_PROVINCE, EARLY).empty:  # run by itself: enrol through the page first
        province = open_as("sheng", EARLY)
        widget(province.multiselect, "选择纳入专项治理的事项").set_value([SETTLING, RELAPSING]).run()
        button(province, "纳入专项治理（集中交办2 件）").click().run()
    downloads = Spy(monkeypatch)
    downloads.wrap(pages.matters, "recorded_download")  # the page imported it by name
    today = dt.date.today()
    rows = campaign.matters(db, WHOLE_PROVINCE, today)
    open_keys = set(rows.loc[rows["state"] != "settled", "matter"])
    province = open_as("sheng", EARLY)
    assert [h.value for h in province.subheader if h.value == "交办函"] == ["交办函"]
    (caption,) = [c.value for c in province.caption if c.value.startswith("致济宁市纪委监委")]
    assert caption.startswith(f"致济宁市纪委监委：截至 {today} 尚未案结事了的专项治理事项 {len(open_keys)} 件")
    assert caption.endswith("尚未发文：下载的是未编号的稿。")
    name = f"专项治理交办函_济宁市_{today.isoformat()}.docx"
    text = docx_text(builders(downloads)[name]())
    assert "关于交办越级重复举报专项治理事项的函" in text.replace("\n", "") and "济宁市纪委监委" in text
    assert all(key in text for key in open_keys)
    button(province, "发出交办函").click().run()
    assert province.success and province.success[0].value.startswith("交办函已发文")
    province = open_as("sheng", EARLY)
    (caption,) = [c.value for c in province.caption if c.value.startswith("致济宁市纪委监委")]
    assert "已发文：" in caption and "交〔" in caption

    city = open_as("jining", EARLY)
    assert [c.value for c in city.caption if c.value.startswith("致济宁市纪委监委")]
    assert not [b for b in city.button if b.label == "发出交办函"]
    county = open_as("weishan", EARLY)
    assert not [h for h in county.subheader if h.value == "交办函"]

    county.selectbox(key="matter_open").select(SETTLING).run()
    made = builders(downloads)
    dossier_names = [n for n in made if n.endswith(".docx") and SETTLING in n]
    assert dossier_names, list(made)
    text = docx_text(made[dossier_names[-1]]())
    assert SETTLING in text and "包案" in text
