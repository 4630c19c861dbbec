"""The case dossier (issue 32): a case found by 件号, 12388 来电编号 or 督办事项编号 within the viewer's scope, on every
engine; FORBIDDEN outside the scope (whichever number was typed), NOT_FOUND for an unknown number."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from data_access.identity.auth import Identity, Role
from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.store.schema import document_numbers, hotline_complaints
from data_access.supervision.ledger import open_item, reply
from metrics.dossier import MatchedBy, Outcome, find_case, normalize_term
from metrics.warnings import Colour
from presentation.format import plain_markdown
from tests.test_importer import case, csv_bytes

TODAY = dt.date(2024, 6, 28)
OPEN = {"closed_date": "", "satisfaction": "", "result_notice_date": ""}
JINAN, LIXIA, QINGDAO_COUNTY = Scope("370100"), Scope("370102"), "370212"
NOTICE_NUMBER = "鲁纪信督〔2024〕3号"
PROVINCE_USER = Identity("sheng", Role.PROVINCE, None, "省级督导员")


@pytest.fixture
def db(engine: sa.Engine) -> dict[str, str]:
    """Cases of 历下区 (济南) and of a 青岛 county, a call and a 督办 item about each, and three reports of a matter
    (one of them in 青岛). The ids of the items."""
    columns = [*case("x").keys(), "matter_id"]
    import_bytes(engine, csv_bytes([
        case("YELLOW-1", due_date="2024-07-02", matter_id=" M-7\u3000", **OPEN),
        case("RED-1", due_date="2024-06-20", **OPEN),
        case("DONE-1", matter_id="M-7"),
        case("QD-1", county_code=QINGDAO_COUNTY, due_date="2024-07-02", matter_id="M-7", **OPEN),
    ], columns), "cases.csv", today=TODAY)
    with engine.begin() as conn:
        conn.execute(hotline_complaints.insert(), [
            {"complaint_id": "C-1", "received_date": dt.date(2024, 6, 3), "county_code": "370102", "kind": "slow",
             "case_id": "YELLOW-1"},
            {"complaint_id": "C-QD", "received_date": dt.date(2024, 6, 4), "county_code": QINGDAO_COUNTY, "kind": "slow",
             "case_id": "QD-1"},
            {"complaint_id": "C-NOCASE", "received_date": dt.date(2024, 6, 5), "county_code": "370102", "kind": "other",
             "case_id": None},
        ])
    now = dt.datetime(2024, 6, 20, 9)
    mine = open_item(engine, PROVINCE_USER, county_code="370102", title="件号 YELLOW-1 临期", reason="请按期办结",
                     method="phone", reply_due=dt.date(2024, 6, 27), case_id="YELLOW-1", now=now)
    reply(engine, Identity("lixia", Role.COUNTY, "370102", "历下区"), mine, note="已督促承办部门", now=now + dt.timedelta(days=1))
    with engine.begin() as conn:  # the 督办通知单 of the item, as the 文号 register records it
        conn.execute(document_numbers.insert().values(
            number=NOTICE_NUMBER, series="鲁纪信督〔{year}〕{seq}号", year=2024, seq=3, kind="notice", subject=mine,
            title="督办通知单", recipient="历下区纪委监委", recipient_code="370102", dated=dt.date(2024, 6, 20),
            reply_due=dt.date(2024, 6, 27), issued_by="sheng", issued_scope="", issued_at=now))
    theirs = open_item(engine, PROVINCE_USER, county_code=QINGDAO_COUNTY, title="件号 QD-1 临期", reason="请按期办结",
                       method="letter", reply_due=dt.date(2024, 6, 27), case_id="QD-1", now=now)
    return {"mine": mine, "theirs": theirs, "engine": engine}  # type: ignore[dict-item]


@pytest.mark.parametrize(("term", "scope", "outcome"), [
    ("YELLOW-1", WHOLE_PROVINCE, Outcome.FOUND),
    ("  YELLOW-1\u3000", LIXIA, Outcome.FOUND),
    ("YELLOW-1", JINAN, Outcome.FOUND),
    ("YELLOW-1", Scope("370200"), Outcome.FORBIDDEN),
    ("QD-1", LIXIA, Outcome.FORBIDDEN),
    ("C-QD", JINAN, Outcome.FORBIDDEN),  # a call about another city's case: the same answer, nothing more
    ("C-QD", Scope("370200"), Outcome.FOUND),
    ("C-NOCASE", WHOLE_PROVINCE, Outcome.NOT_FOUND),  # a call about no case
    ("NOPE", WHOLE_PROVINCE, Outcome.NOT_FOUND),
    (NOTICE_NUMBER, Scope("370200"), Outcome.FORBIDDEN),
    ("NOPE", LIXIA, Outcome.NOT_FOUND),
    ("", WHOLE_PROVINCE, Outcome.NOT_FOUND),
    ("x" * 300, WHOLE_PROVINCE, Outcome.NOT_FOUND),
])
def test_outcome_by_scope(db: dict, term: str, scope: Scope, outcome: Outcome) -> None:
    lookup = find_case(db["engine"], term, TODAY, scope=scope)
    assert lookup.outcome is outcome
    assert (lookup.dossier is not None) == (outcome is Outcome.FOUND)


def test_a_dossier_holds_its_dates_colour_items_calls_and_matter(db: dict) -> None:
    lookup = find_case(db["engine"], "YELLOW-1", TODAY, scope=LIXIA)
    dossier = lookup.dossier
    assert dossier is not None and dossier.matched_by is MatchedBy.CASE
    assert dossier.case["county_name"] == "历下区" and dossier.case["city_name"] == "济南市"
    assert dossier.case["effective_due"] == dt.date(2024, 7, 2)
    assert (dossier.colour, dossier.working_days_left) == (Colour.YELLOW, 2)
    assert list(dossier.items["id"]) == [db["mine"]] and list(dossier.items["status"]) == ["replied"]
    assert list(dossier.steps["action"]) == ["open", "reply"]
    assert list(dossier.calls["complaint_id"]) == ["C-1"]
    assert dossier.matter_key == "M-7"
    assert list(dossier.matter_reports["case_id"]) == ["DONE-1"]  # QD-1 shares the key but lies outside 历下区
    province = find_case(db["engine"], "YELLOW-1", TODAY, scope=WHOLE_PROVINCE).dossier
    assert province is not None and list(province.matter_reports["case_id"]) == ["DONE-1", "QD-1"]


@pytest.mark.parametrize(("term", "case_id", "matched_by"), [
    ("C-1", "YELLOW-1", MatchedBy.COMPLAINT),
    ("RED-1", "RED-1", MatchedBy.CASE),
    (NOTICE_NUMBER, "YELLOW-1", MatchedBy.NOTICE),
])
def test_found_by_each_kind_of_number(db: dict, term: str, case_id: str, matched_by: MatchedBy) -> None:
    dossier = find_case(db["engine"], term, TODAY, scope=JINAN).dossier
    assert dossier is not None and (dossier.case["case_id"], dossier.matched_by) == (case_id, matched_by)


def test_found_by_item_number_and_colours(db: dict) -> None:
    by_item = find_case(db["engine"], db["mine"], TODAY, scope=LIXIA).dossier
    assert by_item is not None and (by_item.case["case_id"], by_item.matched_by) == ("YELLOW-1", MatchedBy.ITEM)
    assert find_case(db["engine"], db["theirs"], TODAY, scope=LIXIA).outcome is Outcome.FORBIDDEN
    red = find_case(db["engine"], "RED-1", TODAY, scope=LIXIA).dossier
    assert red is not None and red.colour is Colour.RED and red.matter_key is None
    done = find_case(db["engine"], "DONE-1", TODAY, scope=LIXIA).dossier
    assert done is not None and done.colour is None and done.items.empty and done.calls.empty


def test_matter_reports_follow_the_screenings_keying(engine: sa.Engine) -> None:
    """The dossier lists a matter's other reports as metrics.matters.matter_reports keys them (spec "Repeat matters"):
    keys are matched, never chained; only accusations received by the as-of date; closed and disputed as at it."""
    def report(case_id: str, received: str, matter_id: str, **values: str) -> dict[str, str]:
        return case(case_id, received_date=received, accepted_notice_date=received, due_date="2024-08-30",
                    matter_id=matter_id, **{**OPEN, **values})

    columns = [*case("x").keys(), "matter_id"]
    import_bytes(engine, csv_bytes([
        report("FIRST-1", "2024-01-05", "", closed_date="2024-06-25", result_notice_date="2024-06-26", disputed="1",
               satisfaction="dissatisfied"),
        report("AGAIN-1", "2024-03-01", "FIRST-1"),
        report("LINKED-1", "2024-04-01", " FIRST-1\u3000"),
        report("ELSEWHERE-1", "2024-02-01", "Z-9"),  # keyed by Z-9: not in a matter ELSEWHERE-1
        report("POINTS-1", "2024-05-01", "ELSEWHERE-1"),
        report("ASK-1", "2024-05-02", "FIRST-1", category="out_of_scope"),
        report("LATER-1", "2024-06-10", "FIRST-1"),
    ], columns), "cases.csv", today=TODAY)
    early = find_case(engine, "AGAIN-1", dt.date(2024, 6, 1), scope=WHOLE_PROVINCE).dossier
    assert early is not None and early.matter_key == "FIRST-1"
    reports = early.matter_reports
    assert list(reports["case_id"]) == ["FIRST-1", "LINKED-1"]  # not ASK-1 (out of scope), not LATER-1 (after 06-01)
    assert reports["closed_date"].tolist()[0] is None and not reports["disputed"].tolist()[0]  # closed 06-25: open then
    assert reports["county_name"].tolist() == ["历下区", "历下区"]
    late = find_case(engine, "AGAIN-1", TODAY, scope=WHOLE_PROVINCE).dossier
    assert late is not None and list(late.matter_reports["case_id"]) == ["FIRST-1", "LINKED-1", "LATER-1"]
    assert late.matter_reports["closed_date"].tolist()[0] == dt.date(2024, 6, 25) and late.matter_reports["disputed"].tolist()[0]
    points = find_case(engine, "POINTS-1", TODAY, scope=WHOLE_PROVINCE).dossier
    assert points is not None and points.matter_key is None  # ELSEWHERE-1 is matter Z-9's, alone
    before = find_case(engine, "LATER-1", dt.date(2024, 6, 1), scope=WHOLE_PROVINCE).dossier
    assert before is not None and before.matter_key is None  # not yet received: in no matter at the as-of date
    ask = find_case(engine, "ASK-1", TODAY, scope=WHOLE_PROVINCE).dossier
    assert ask is not None and ask.matter_key is None  # not an accusation: in no matter


def test_normalize_term() -> None:
    assert normalize_term(" \u3000A-1\t") == "A-1"


# --- the page (AppTest, open mode: the whole province) ---------------------------------------------

def dossier_app(tmp_path, monkeypatch):
    """AppTest of app.py on a DuckDB file holding the cases above at today's dates (one 临期, one closed)."""
    from streamlit.testing.v1 import AppTest

    from data_access.store.database import init_database
    from data_access.store.engine import make_engine
    from tests.conftest import REPO_ROOT

    today = dt.date.today()
    url = f"duckdb:///{tmp_path / 'dossier.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    received = (today - dt.timedelta(days=3)).isoformat()
    import_bytes(engine, csv_bytes([
        case("Y-1", received_date=received, due_date=(today + dt.timedelta(days=1)).isoformat(), accepted_notice_date="",
             **OPEN),
        case("DONE-1"),
    ]), "cases.csv")
    with engine.begin() as conn:
        conn.execute(hotline_complaints.insert(), [{"complaint_id": "C-9", "received_date": today, "county_code": "370102",
                                                    "kind": "slow", "case_id": "Y-1"}])
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    return AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)


def test_the_page_shows_a_dossier_and_answers_unknown_numbers(tmp_path, monkeypatch) -> None:
    from tests.apptest_support import switch_to

    at = dossier_app(tmp_path, monkeypatch)
    at.query_params["q"] = "C-9"
    at.run()
    switch_to(at, "dossier").run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["案件档案"]
    assert f"件号 {plain_markdown('Y-1')}" in [s.value for s in at.subheader]
    shown = " ".join(str(t.value) for t in at.table)
    assert "C-9" in shown and "历下区" in shown
    printed = [b for b in at.button if b.label == "打印"]
    assert printed
    printed[0].click().run()
    assert not at.exception

    (tmp_path / "missing").mkdir()
    missing = dossier_app(tmp_path / "missing", monkeypatch)
    missing.query_params["q"] = "NO-SUCH"
    missing.run()
    switch_to(missing, "dossier").run()
    assert [w.value for w in missing.warning if "未找到" in w.value], [w.value for w in missing.warning]


def test_the_sidebar_search_opens_the_dossier(tmp_path, monkeypatch) -> None:
    at = dossier_app(tmp_path, monkeypatch)
    at.run()
    (box,) = [t for t in at.sidebar.text_input if t.label == "查找案件"]
    box.input("DONE-1")
    (go,) = [b for b in at.sidebar.button if b.label == "查找"]
    go.click().run()
    assert not at.exception
    assert f"件号 {plain_markdown('DONE-1')}" in [s.value for s in at.subheader]
