"""The attacks of issue 27 that failed, tried again: each test makes the attack and checks that it no longer works.

1. Formula injection in downloads: case ids, domains, ledger titles and notes, 12388 complaint ids and a user
   name typed into the sign-in form, each carrying a spreadsheet formula, reach every file the product
   writes — the case list, overdue and 临期 lists (CSV and XLSX), the 督办台账, the 周例会台账, the 12388
   monthly ledger, the audit log export. Every file is opened: no XLSX cell is a formula (openpyxl data type
   "f"), every payload is a string cell holding exactly the payload; no CSV field begins with = + - @ tab or
   CR without the quote prefix, and every payload reads back as the prefix plus the payload.
2. Account enumeration and lock-out abuse: every refusal says the same; one address guessing an account,
   one address trying many accounts and many addresses guessing one account are each held back, for a
   while that doubles; none of them locks the owner out of the machine they use; lock-outs are in the audit
   log and on the 审计日志 page.
3. What a file may cost: a workbook of 0.6 MB holding ten million rows (with and without a <dimension> that
   says so), a CSV whose header has a million columns, a cell of 5,000 characters, a file over the rows, bytes
   or expanded bytes allowed, a parse that outlives its time or needs more memory than its cap: each is refused
   naming the limit and its setting, with an audit row, the server process's memory untouched (the parse runs
   in a capped worker), and the limits are settings.
6. A refusal without a trace: a CSV with a NUL byte after its first 64 KB is refused naming its line, and when
   such a byte reaches PostgreSQL (CharacterNotInRepertoire), or the database refuses or fails at anything else,
   an import (cases or 12388 complaints; page, command line, script) is refused with a message and an audit row.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import resource
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st

import pages.ledger
import pages.weekly
import ui.downloads
from data_access.identity import auth
from data_access.identity.audit import AuditAction, recent
from data_access.identity.auth import SIGN_IN_REFUSED, AuthFailure, Brake, Identity, Role, SignInSettings
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.imports import parse_worker
from data_access.imports.importer import import_bytes
from data_access.imports.limits import ImportLimits, load_import_limits
from data_access.imports.reader import read_source
from data_access.reference.problems import DataRejected, Problem, ProblemKind
from data_access.store.config import SettingsError
from data_access.store.database import case_count, init_database
from data_access.store.engine import make_engine
from data_access.store.schema import sign_in_events
from data_access.supervision import ledger
from data_access.supervision.hotline_import import import_complaints_bytes
from metrics.caselists import case_list, overdue_cases
from metrics.request import Period
from metrics.weekly import weekly_report
from presentation.spreadsheet import FORMULA_STARTS, sheet_cell
from reports.ledger_book import build_ledger_workbook
from reports.monthly import month_end_pack
from reports.workbook import build_workbook
from tests.test_access import cheap_hasher, fill_login, go, new_session
from tests.test_importer import case, csv_bytes
from ui import access

# ---------------------------------------------------------------------------------------------
# 1. Formula injection in downloads

HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'
DDE = "=cmd|' /C calc'!A0"
PAYLOADS = (HYPERLINK, DDE, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
# what survives the importer and the ledger (they strip leading blanks, a tab or CR included): case ids, and
# domains up to the column's 32 characters
CASE_IDS = ('=HYPERLINK("http://evil.example/","x")', DDE, "+1+1", "-2+3", "@SUM(A1)")
DOMAINS = ('=HYPERLINK("http://e.x","c")', DDE, "+1+1", "-2+3", "@SUM(A1)")
COMPLAINT_IDS = ("=HYPERLINK(\"http://evil.example/12388\",\"x\")", "@SUM(B2)", "-1-1")
TYPED_USERNAME = '=HYPERLINK("http://evil.example/login","x")'
JINING, RENCHENG = "370800", "370811"
AS_OF = dt.date(2024, 6, 30)
H1 = Period(dt.date(2024, 1, 1), AS_OF, AS_OF)
NOW = dt.datetime(2024, 6, 5, 9, 30)
MONTH = "2024-05"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, RENCHENG, "任城区纪委监委")
PASSWORD = "Shandong-2024!"


def formula_cells(data: bytes) -> list[str]:
    """Every formula cell of a workbook, as sheet!cell."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{c.coordinate}" for ws in book.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def string_cells(data: bytes) -> set[str]:
    """The values of the workbook's string cells."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "s"}


def csv_fields(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return [field for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for field in row]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def live_fields(data: bytes) -> list[str]:
    """CSV fields a spreadsheet would read as a formula: beginning with = + - @ tab or CR, not a plain number."""
    return [f for f in csv_fields(data) if f.startswith(FORMULA_STARTS) and not is_number(f)]


def assert_text_kept(data: bytes, file_name: str, payloads: tuple[str, ...]) -> None:
    """The file holds no live formula, and every payload as text (XLSX: a string cell; CSV: quote + payload)."""
    if file_name.endswith(".csv"):
        assert live_fields(data) == [], file_name
        assert {"'" + p for p in payloads} <= set(csv_fields(data)), file_name
    else:
        assert formula_cells(data) == [], file_name
        assert set(payloads) <= string_cells(data), file_name


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_a_formula_is_text_in_both_kinds_of_file(payload: str) -> None:
    assert sheet_cell(payload) == "'" + payload
    frame = pd.DataFrame({"件号": [payload], "领域": [payload]})
    data = ui.downloads.xlsx_bytes(frame)
    assert formula_cells(data) == []
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [(c.value, c.data_type) for c in sheet[2]] == [(payload, "s")] * 2
    assert csv_fields(ui.downloads.csv_bytes(frame)) == ["件号", "领域", "'" + payload, "'" + payload]


def test_numbers_dates_and_plain_text_stay_what_they_are() -> None:
    frame = pd.DataFrame({"件数": [np.int64(-2), 3], "比率": [-0.25, np.nan], "日期": [dt.date(2024, 6, 30), None],
                          "说明": ["较上周 -1", "济宁市"], "是否": [True, False]})
    data = ui.downloads.xlsx_bytes(frame)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[2]] == [-2, -0.25, dt.datetime(2024, 6, 30), "较上周 -1", True]
    assert [c.data_type for c in sheet[2]] == ["n", "n", "d", "s", "b"]
    assert csv_fields(ui.downloads.csv_bytes(frame))[5:] == ["-2", "-0.25", "2024-06-30", "较上周 -1", "True",
                                                             "3", "", "", "济宁市", "False"]


def test_a_character_a_workbook_cannot_hold_does_not_fail_the_download() -> None:
    data = ui.downloads.xlsx_bytes(pd.DataFrame({"件号": ["=A\x01B"]}))
    assert openpyxl.load_workbook(io.BytesIO(data)).active["A2"].value == "=A\ufffdB"


def poison(engine: sa.Engine) -> None:
    """Cases of 任城区 whose ids and domains are formulas, open and overdue on AS_OF; a 督办 item with a formula
    title, requirement and reply; 12388 complaints of MONTH with formula ids about those cases."""
    rows = [case(cid, county_code=RENCHENG, domain=domain, received_date="2024-05-06", due_date="2024-06-05",
                 closed_date="", satisfaction="", disputed="0", accepted_notice_date="2024-05-10", result_notice_date="")
            for cid, domain in zip(CASE_IDS, DOMAINS, strict=True)]
    import_bytes(engine, csv_bytes(rows), "cases.csv")
    item = ledger.open_item(engine, PROVINCE, county_code=RENCHENG, title=HYPERLINK, reason=DDE, method="phone",
                            reply_due=dt.date(2024, 6, 20), case_id="+1+1", now=NOW)
    ledger.reply(engine, RENCHENG_COUNTY, item, note="@SUM(A1)", promised_date=dt.date(2024, 7, 1),
                 now=NOW + dt.timedelta(days=1))
    calls = [{"来电编号": cid, "来电日期": "2024-05-20", "市": "济宁市", "县（市、区）": "任城区", "投诉类型": "办理缓慢",
              "关联件号": linked} for cid, linked in zip(COMPLAINT_IDS, CASE_IDS, strict=False)]
    import_complaints_bytes(engine, csv_bytes(calls), "12388.csv", today=AS_OF)


@pytest.fixture
def poisoned(engine: sa.Engine) -> sa.Engine:
    poison(engine)
    return engine


def test_case_lists_keep_formulas_as_text(poisoned: sa.Engine) -> None:
    listed = case_list(poisoned, RENCHENG, H1, scope=WHOLE_PROVINCE, limit=None)
    overdue = overdue_cases(poisoned, AS_OF, scope=WHOLE_PROVINCE)
    assert set(listed["case_id"]) == set(overdue["case_id"]) == set(CASE_IDS)  # the values went in as they were
    for frame in (listed, overdue):
        people = ui.downloads.for_people(frame)
        assert_text_kept(ui.downloads.xlsx_bytes(people), "cases.xlsx", CASE_IDS + DOMAINS)
        assert_text_kept(ui.downloads.csv_bytes(people), "cases.csv", CASE_IDS + DOMAINS)


def test_the_ledger_workbook_keeps_formulas_as_text(poisoned: sa.Engine) -> None:
    items = ledger.items(poisoned, WHOLE_PROVINCE, AS_OF)
    steps = ledger.history(poisoned, WHOLE_PROVINCE)
    assert_text_kept(build_ledger_workbook(items, steps), "督办台账.xlsx", (HYPERLINK, DDE, "+1+1", "@SUM(A1)"))


def test_the_weekly_workbook_keeps_formulas_as_text(poisoned: sa.Engine) -> None:
    data = build_workbook(weekly_report(poisoned, AS_OF, scope=WHOLE_PROVINCE))
    assert_text_kept(data, "周例会台账.xlsx", CASE_IDS + DOMAINS + (HYPERLINK, DDE))


def test_the_12388_monthly_ledger_keeps_formulas_as_text(poisoned: sa.Engine) -> None:
    pack = month_end_pack(poisoned, MONTH, dt.date(2024, 6, 3))
    (data,) = [content for name, content in pack.files if name.endswith(".xlsx")]
    assert_text_kept(data, "12388月度台账.xlsx", COMPLAINT_IDS + CASE_IDS[:len(COMPLAINT_IDS)])


def test_zip_of_the_monthly_pack_is_a_plain_zip(poisoned: sa.Engine) -> None:
    """The page's ZIP holds the same workbook: nothing in it runs either."""
    from reports.monthly import pack_zip

    pack = month_end_pack(poisoned, MONTH, dt.date(2024, 6, 3))
    with zipfile.ZipFile(io.BytesIO(pack_zip(pack))) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".xlsx")]
        assert formula_cells(archive.read(name)) == []


# --- the same, clicked in the running app (embedded DuckDB) ----------------------------------

@pytest.fixture(scope="module")
def app_database(tmp_path_factory: pytest.TempPathFactory):
    """A DuckDB file with the poisoned data and a province user; DATABASE_URL points at it for the module."""
    url = f"duckdb:///{tmp_path_factory.mktemp('attacks') / 'app.duckdb'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "PASSWORD_HASHER", cheap_hasher())
        mp.setattr(access, "FAILED_LOGIN_DELAY_S", 0.0)
        mp.setenv("DATABASE_URL", url)
        engine = make_engine(url)
        init_database(engine)
        poison(engine)
        auth.add_user(engine, "sheng", PASSWORD, Role.PROVINCE, None)
        auth.add_user(engine, "jining", PASSWORD, Role.CITY, JINING)
        st.cache_data.clear()
        yield engine
        engine.dispose()


@pytest.fixture
def clicked(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The file builders the download buttons hold, by file name: every module that calls recorded_download."""
    builders: dict[str, object] = {}
    for module in (ui.downloads, pages.weekly, pages.ledger):
        real = module.recorded_download

        @functools.wraps(real)
        def spy(make, file_name, real=real):
            builders[file_name] = build = real(make, file_name)
            return build

        monkeypatch.setattr(module, "recorded_download", spy)
    return builders


def test_every_download_of_the_app_keeps_formulas_as_text(app_database: sa.Engine, clicked: dict[str, object]) -> None:
    fill_login(new_session(), TYPED_USERNAME, "whatever it is")  # the typed name lands in the audit log
    at = fill_login(new_session(), "sheng", PASSWORD)
    go(at, "drilldown", region=RENCHENG)
    for page in ("overdue", "ledger", "weekly", "audit"):
        go(at, page)
    names = sorted(clicked)
    kinds = [re.sub(r"_.*", "", name.rsplit(".", 1)[0]) + "." + name.rsplit(".", 1)[1] for name in names]
    assert {"案件清单.csv", "案件清单.xlsx", "超期督办.csv", "超期督办.xlsx", "督办台账.xlsx", "周例会台账.xlsx",
            "审计日志.csv", "审计日志.xlsx"} <= set(kinds), names
    expected = {"案件清单": CASE_IDS + DOMAINS, "超期督办": CASE_IDS + DOMAINS, "督办台账": (HYPERLINK, DDE, "@SUM(A1)"),
                "周例会台账": CASE_IDS + DOMAINS, "审计日志": (TYPED_USERNAME.lower(),)}
    for name, kind in zip(names, kinds, strict=True):
        if name.endswith((".csv", ".xlsx")):  # every spreadsheet the pages offer (the deck and Word files are not)
            assert_text_kept(clicked[name](), name, expected.get(kind.split(".")[0], ()))


# ---------------------------------------------------------------------------------------------
# 2. Account enumeration and lock-out abuse

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
OWNER_DESK, ATTACKER = "10.8.0.21", "10.66.6.6"
SETTINGS = SignInSettings()


@pytest.fixture
def accounts(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch):
    """zhang (济宁市) and the disabled tingyong; zhang signed in from the owner's desk a day before T0."""
    monkeypatch.setattr(auth, "PASSWORD_HASHER", cheap_hasher())
    with engine.begin() as conn:
        conn.execute(sign_in_events.delete())
    auth.add_user(engine, "zhang", PASSWORD, Role.CITY, JINING)
    auth.add_user(engine, "tingyong", PASSWORD, Role.CITY, JINING)
    auth.disable_user(engine, "tingyong")
    assert auth.authenticate(engine, "zhang", PASSWORD, client=OWNER_DESK, now=T0 - dt.timedelta(days=1)).ok
    yield engine
    with engine.begin() as conn:  # the shared database keeps no attempts for the next test
        conn.execute(sign_in_events.delete())


class Clock:
    """Attempts a second apart, from T0 on."""

    def __init__(self) -> None:
        self.now = T0

    def tick(self, seconds: float = 1) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


def attempt(engine: sa.Engine, clock: Clock, name: str, password: str, client: str) -> auth.AuthResult:
    return auth.authenticate(engine, name, password, client=client, now=clock.tick())


def test_every_refusal_says_the_same(accounts: sa.Engine) -> None:
    clock = Clock()
    answers = {
        "unknown user": attempt(accounts, clock, "nobody", PASSWORD, ATTACKER),
        "wrong password": attempt(accounts, clock, "zhang", "guess-1", ATTACKER),
        "disabled, right password": attempt(accounts, clock, "tingyong", PASSWORD, ATTACKER),
    }
    for i in range(SETTINGS.account_client_failures):
        attempt(accounts, clock, "zhang", f"guess-{i + 2}", ATTACKER)
        attempt(accounts, clock, "nobody", f"guess-{i + 2}", ATTACKER)
    answers["held back, right password"] = attempt(accounts, clock, "zhang", PASSWORD, ATTACKER)
    answers["unknown user, held back alike"] = attempt(accounts, clock, "nobody", PASSWORD, ATTACKER)
    assert {name: (a.ok, a.message) for name, a in answers.items()} == dict.fromkeys(answers, (False, SIGN_IN_REFUSED))
    # the audit log (not the form) keeps the reasons
    assert [a.reason for a in answers.values()] == [AuthFailure.WRONG_CREDENTIALS, AuthFailure.WRONG_CREDENTIALS,
                                                    AuthFailure.DISABLED, AuthFailure.LOCKED, AuthFailure.LOCKED]


def test_guessing_from_one_address_never_locks_the_owner_out(accounts: sa.Engine) -> None:
    """An hour of guessing as fast as the brakes allow: the attacker's address is held back ever longer, and the
    owner signs in from their desk at any moment."""
    clock, lockouts = Clock(), []
    while clock.now < T0 + dt.timedelta(hours=1):
        result = attempt(accounts, clock, "zhang", "guess", ATTACKER)
        lockouts += [(lo.brake, lo.minutes) for lo in result.lockouts]
        if result.reason is AuthFailure.LOCKED:  # wait it out, then guess again
            clock.now = result.locked_until
        assert attempt(accounts, clock, "zhang", PASSWORD, OWNER_DESK).ok
    assert [m for b, m in lockouts if b is Brake.ACCOUNT_CLIENT][:6] == [1, 2, 4, 8, 16, 32]  # back-off
    assert Brake.ACCOUNT not in {b for b, _ in lockouts}  # the owner's successes keep the account's own brake away
    assert Brake.CLIENT in {b for b, _ in lockouts}  # and the address, 30 failures within the hour, is held back too


def test_one_address_trying_many_accounts_is_held_back(accounts: sa.Engine) -> None:
    clock = Clock()
    for i in range(SETTINGS.client_failures - 1):
        assert attempt(accounts, clock, f"user{i}", "password1", ATTACKER).lockouts == ()
    last = attempt(accounts, clock, "zhang", "password1", ATTACKER)
    (lockout,) = last.lockouts
    assert (lockout.brake, lockout.username, lockout.client, lockout.minutes) == (Brake.CLIENT, "", ATTACKER, 1)
    assert lockout.detail.startswith(f"地址 {ATTACKER} 一小时内登录失败 {SETTINGS.client_failures} 次：暂停该地址登录任何账户 1 分钟")
    assert attempt(accounts, clock, "zhang", PASSWORD, ATTACKER).reason is AuthFailure.LOCKED  # any account there
    assert attempt(accounts, clock, "zhang", PASSWORD, OWNER_DESK).ok  # not elsewhere


def test_guessing_from_many_addresses_holds_back_only_unknown_addresses(accounts: sa.Engine) -> None:
    clock, set_off = Clock(), []
    for i in range(SETTINGS.account_failures):
        address = f"10.77.0.{i // (SETTINGS.account_client_failures - 1)}"  # each below its own address's limit
        set_off += attempt(accounts, clock, "zhang", f"guess-{i}", address).lockouts
    (lockout,) = set_off
    assert (lockout.brake, lockout.username, lockout.client) == (Brake.ACCOUNT, "zhang", "")
    assert auth.list_users(accounts, now=clock.now).set_index("username").loc["zhang", "locked"]
    new_machine = attempt(accounts, clock, "zhang", PASSWORD, "10.99.0.1")
    assert (new_machine.reason, new_machine.message) == (AuthFailure.LOCKED, SIGN_IN_REFUSED)
    assert attempt(accounts, clock, "zhang", PASSWORD, OWNER_DESK).ok  # the owner's desk is known: not held back
    later = Clock()
    later.now = lockout.until
    assert attempt(accounts, later, "zhang", PASSWORD, "10.99.0.1").ok  # a lock-out ends; no fixed 15 minutes


def test_lock_outs_are_in_the_audit_log_and_on_the_audit_page(app_database: sa.Engine,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "client_address", lambda: ATTACKER)
    at = new_session()
    for i in range(SETTINGS.account_client_failures + 1):
        fill_login(at, "jining", f"guess-{i}")
        assert [e.value for e in at.error] == [SIGN_IN_REFUSED]
    rows = recent(app_database, 1000)
    lockouts = rows[rows["action"] == AuditAction.LOCKOUT.value]
    assert list(lockouts["username"]) == ["jining"]
    assert lockouts["detail"].iloc[0].startswith(
        f"账户 jining 自地址 {ATTACKER} 连续登录失败 {SETTINGS.account_client_failures} 次：暂停该地址登录该账户 1 分钟")
    failed = rows[(rows["action"] == AuditAction.LOGIN_FAILED.value) & (rows["username"] == "jining")]
    assert failed["detail"].iloc[0] == f"登录失败：登录暂停中（失败次数过多）（地址 {ATTACKER}）"

    monkeypatch.setattr(access, "client_address", lambda: OWNER_DESK)
    at = go(fill_login(new_session(), "sheng", PASSWORD), "audit")
    shown = at.dataframe[0].value
    assert list(shown.loc[shown["操作"] == "登录暂停", "用户"]) == ["jining"]
    assert any("登录暂停 1 条" in c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------
# 3. What a file may cost

_SHEET_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="cases" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


@functools.cache
def workbook_of_rows(rows: int, *, dimension: bool) -> bytes:
    """A workbook whose one sheet holds a header and `rows` rows of one cell, written as XML that deflates to almost
    nothing (ten million rows in 0.6 MB); with `dimension`, its <dimension> declares the rows, as Excel's do."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _SHEET_PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main">' + (f'<dimension ref="A1:C{rows + 1}"/>'.encode() if dimension else b"")
                        + b"<sheetData>")
            sheet.write(b'<row r="1">' + b"".join(f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'.encode()
                                                  for col, name in zip("ABC", ("case_id", "county_code", "received_date"), strict=True))
                        + b"</row>")
            block = b"<row><c><v>1</v></c></row>" * 100_000
            for _ in range(rows // 100_000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def refusal(data: bytes, filename: str, limits: ImportLimits | None = None) -> Problem:
    """The one problem a file is refused for by the reader (the parse as the importer runs it)."""
    with pytest.raises(DataRejected) as refused:
        read_source(data, filename, limits=limits)
    (problem,) = refused.value.problems
    assert problem.kind is ProblemKind.FILE
    return problem


def wide_csv(columns: int = 1_000_000) -> bytes:
    """A CSV whose header names `columns` columns (9 MB at a million), and one row."""
    return (",".join(f"c{i}" for i in range(columns)) + "\n1\n").encode()


@pytest.mark.parametrize("dimension", [True, False], ids=["declared", "undeclared"])
def test_a_workbook_of_ten_million_rows_in_under_a_megabyte_is_refused_before_its_cells_are_read(dimension: bool) -> None:
    data = workbook_of_rows(10_000_000, dimension=dimension)
    assert len(data) < 1_000_000
    problem = refusal(data, "bomb.xlsx")
    assert problem.reason_zh == "工作表超过 1,048,576 行，超出 Excel 工作表的最大行数，不是 Excel 保存的文件"
    # below Excel's own bound, the setting decides, and says so
    problem = refusal(workbook_of_rows(200_000, dimension=dimension), "rows.xlsx", ImportLimits(max_rows=100_000))
    assert problem.reason_zh == "文件超过 100,000 行数据（导入限制，设置项 [import] max_rows），未写入"


def test_a_workbook_expanding_past_its_limit_is_refused_from_its_zip_directory() -> None:
    problem = refusal(workbook_of_rows(10_000_000, dimension=False), "bomb.xlsx", ImportLimits(max_expanded_mb=100))
    assert re.fullmatch(r"文件解压后 2\d\d MB，超过上限 100 MB（导入限制，设置项 \[import\] max_expanded_mb），未写入",
                        problem.reason_zh), problem.reason_zh


def test_a_header_of_a_million_columns_is_refused_before_the_header_is_searched() -> None:
    data = wide_csv()
    assert len(data) > 7_000_000
    problem = refusal(data, "wide.csv")
    assert (problem.row, problem.column) == (1, None)
    assert problem.reason_zh == "表头有 1,000,000 列，超过上限 200 列（导入限制，设置项 [import] max_columns），未写入"
    assert "max_columns" in problem.reason_en


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_cell_over_the_length_limit_is_refused_naming_its_row_and_column_not_its_text(kind: str) -> None:
    frame = pd.DataFrame({"case_id": ["L-1", "L-2", "L-3"], "county_code": [RENCHENG] * 3,
                          "received_date": ["2024-01-02"] * 3, "domain": ["教育", "甲" * 2500, "乙" * 3000]})
    if kind == "csv":
        data, row, column = frame.to_csv(index=False).encode(), 3, "domain"
    else:
        out = io.BytesIO()
        frame.to_excel(out, index=False)
        data, row, column = out.getvalue(), 3, "第 4 列"
    problem = refusal(data, f"long.{kind}")
    assert (problem.row, problem.column, problem.value) == (row, column, None)
    assert problem.reason_zh == "单元格有 2,500 个字符，超过上限 2,000 个字符（导入限制，设置项 [import] max_cell_chars），未写入"
    assert "甲" not in problem.message()


def test_rows_bytes_and_a_parquet_footer_over_their_limits_are_refused() -> None:
    rows = b"case_id,county_code,received_date\n" + b"R,370811,2024-01-02\n" * 150_000
    assert refusal(rows, "rows.csv", ImportLimits(max_rows=100_000)).reason_zh.startswith("文件超过 100,000 行数据")
    assert refusal(rows, "big.csv", ImportLimits(max_file_mb=1)).reason_zh.startswith("文件大小 2.9 MB，超过上限 1 MB")
    out = io.BytesIO()
    pd.DataFrame({"case_id": [f"P-{i}" for i in range(150_000)]}).to_parquet(out)
    assert refusal(out.getvalue(), "rows.parquet", ImportLimits(max_rows=100_000)).reason_zh.startswith("文件超过 100,000 行")


def never_answers(cell: str) -> bool:
    """A header test that never returns: the parse it is given to can only end at the time limit."""
    time.sleep(3600)
    return False


def test_a_parse_that_outlives_its_time_is_stopped_by_its_own_deadline_or_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = ImportLimits(max_seconds=1)  # below the file's allowed range: a test's own limit
    # the worker's deadline, checked as a workbook's rows are read (300,000: openpyxl needs several seconds)
    problem = refusal(workbook_of_rows(300_000, dimension=True), "slow.xlsx", limits)
    assert problem.reason_zh == "读取文件超过 1 秒仍未完成，已停止（导入限制，设置项 [import] max_seconds），未写入"
    # a worker that does not come back is killed at the limit
    monkeypatch.setattr(parse_worker, "_GRACE_SECONDS", 0)
    started = time.monotonic()
    with pytest.raises(DataRejected) as refused:
        read_source(b"a,b,c\n1,2,3\n", "hang.csv", known=never_answers, limits=limits)
    assert time.monotonic() - started < 30
    assert refused.value.problems[0].reason_zh.startswith("读取文件超过 1 秒仍未完成")


def test_a_parse_over_its_memory_cap_is_refused_and_the_server_keeps_its_memory() -> None:
    rows = b"case_id,county_code,received_date\n" + b"M,370811,2024-01-02\n" * 5_000_000  # 100 MB of cells as objects
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problem = refusal(rows, "memory.csv", ImportLimits(max_memory_mb=560))
    assert problem.reason_zh == "读取文件所需内存超过上限 560 MB，已停止（导入限制，设置项 [import] max_memory_mb），未写入"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KB: the parse was elsewhere


def test_the_parse_runs_outside_the_server_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from data_access.imports import reader

    def in_this_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed in the server process")

    monkeypatch.setattr(reader, "parse_source", in_this_process)  # the worker has its own, unpatched
    source = read_source(b"case_id,county_code,received_date\nW-1,370811,2024-01-02\n", "w.csv")
    assert source.frame.to_dict("records") == [{"case_id": "W-1", "county_code": "370811", "received_date": "2024-01-02"}]
    assert list(source.rows) == [2]


def test_a_file_over_a_limit_is_an_import_refusal_with_its_audit_row(engine: sa.Engine) -> None:
    with pytest.raises(DataRejected):
        import_bytes(engine, wide_csv(500), "wide.csv", actor=PROVINCE)
    with pytest.raises(DataRejected):
        import_complaints_bytes(engine, wide_csv(500), "wide-12388.csv", actor=PROVINCE)
    assert case_count(engine) == 0
    details = list(recent(engine, 10)["detail"])
    assert "导入被拒绝：wide.csv，1 个问题，未写入" in details
    assert any(d.startswith("12388") or "wide-12388.csv" in d for d in details), details


def test_the_limits_are_settings_checked_at_start(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[import]\nmax_rows = 1000\nmax_cell_chars = 500\n", encoding="utf-8")
    assert (load_import_limits(path).max_rows, load_import_limits(path).max_cell_chars) == (1000, 500)
    assert load_import_limits(path).max_columns == 200
    path.write_text("[import]\nmax_columns = 5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="max_columns"):
        load_import_limits(path)


# ---------------------------------------------------------------------------------------------
# 6. A refusal without a trace

def import_refusals(engine: sa.Engine) -> list[str]:
    rows = recent(engine, 100)
    return list(rows.loc[rows["action"] == AuditAction.IMPORT.value, "detail"])


def nul_after_64k() -> bytes:
    """A CSV of valid cases whose NUL byte (in a domain) comes after its first 64 KB."""
    rows = [case(f"N-{i:05d}", county_code=RENCHENG) for i in range(800)]
    rows.append(case("N-LAST", county_code=RENCHENG, domain="教育\x00医疗"))
    data = csv_bytes(rows)
    assert data.index(b"\x00") > 65536
    return data


def test_a_nul_byte_after_64_kb_is_refused_naming_its_line_and_audited(engine: sa.Engine) -> None:
    data = nul_after_64k()
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, data, "nul.csv", actor=PROVINCE)
    (problem,) = refused.value.problems
    assert problem.row == data[:data.index(b"\x00")].count(b"\n") + 1 == 802  # the header, 800 cases, then it
    assert problem.reason_zh.startswith("含有空字符（NUL 字节），数据库不能保存")
    assert case_count(engine) == 0
    assert import_refusals(engine) == ["导入被拒绝：nul.csv，1 个问题，未写入"]


def test_postgresqls_own_refusal_of_a_nul_byte_is_a_message_and_an_audit_row(engine: sa.Engine,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack as it was made: the NUL reaches PostgreSQL (the reader's look for it switched off), which refuses
    it with CharacterNotInRepertoire."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the attack was made on PostgreSQL")
    from data_access.imports import limits, reader

    monkeypatch.setattr(reader, "_decode_text", lambda data: data.removeprefix(b"\xef\xbb\xbf"))
    monkeypatch.setattr(limits, "load_import_limits", lambda: limits.ImportLimits(worker=0))  # patched here only
    with pytest.raises(DataRejected) as refused:
        import_bytes(engine, nul_after_64k(), "nul.csv", actor=PROVINCE)
    (problem,) = refused.value.problems
    assert (problem.kind, problem.row) == (ProblemKind.ENGINE, None)
    assert problem.reason_zh.startswith("文件中有数据库不能保存的值") and "0x00" in problem.reason_zh
    assert case_count(engine) == 0
    (detail,) = import_refusals(engine)
    assert detail.startswith("导入被拒绝：nul.csv，文件中有数据库不能保存的值（") and detail.endswith("，未写入")


CHECK_NAME = "attack_refuses_x"


@pytest.fixture
def constrained(engine: sa.Engine) -> sa.Engine:
    """A database with a rule of its own the importer knows nothing of: no case id 'X-REFUSED' (DuckDB cannot
    add a CHECK to a table, so the server engines make the attack)."""
    if engine.dialect.name == "duckdb":
        pytest.skip("DuckDB has no ALTER TABLE ... ADD CONSTRAINT")
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE cases ADD CONSTRAINT {CHECK_NAME} CHECK (case_id <> 'X-REFUSED')"))
    yield engine
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE cases DROP CONSTRAINT {CHECK_NAME}"))


def test_any_error_of_the_database_is_a_message_and_an_audit_row(constrained: sa.Engine) -> None:
    with pytest.raises(DataRejected) as refused:
        import_bytes(constrained, csv_bytes([case("X-OK"), case("X-REFUSED")]), "constrained.csv", actor=PROVINCE)
    (problem,) = refused.value.problems
    assert problem.kind is ProblemKind.ENGINE and CHECK_NAME in problem.reason_zh  # the database's own words
    assert problem.reason_zh.startswith("数据库未能写入本文件，未作任何更改。数据库的报错：")
    assert case_count(constrained) == 0
    (detail,) = import_refusals(constrained)
    assert detail.startswith("导入被拒绝：constrained.csv，数据库未能写入（") and CHECK_NAME in detail


def test_a_12388_import_the_database_refuses_is_a_message_and_an_audit_row(poisoned: sa.Engine,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the engine says while the complaints are loaded (here a connection lost mid-load)."""
    from data_access.supervision import hotline_import

    def lost(*args: object, **kwargs: object) -> None:
        raise sa.exc.OperationalError("INSERT INTO hotline_complaints ...", {}, Exception("server closed the connection"))

    monkeypatch.setattr(hotline_import, "_refuse_database_conflicts", lost)
    calls = [{"来电编号": "LOST-1", "来电日期": "2024-05-21", "市": "济宁市", "县（市、区）": "任城区", "投诉类型": "其他",
              "关联件号": ""}]
    with pytest.raises(DataRejected) as refused:
        import_complaints_bytes(poisoned, csv_bytes(calls), "lost.csv", actor=PROVINCE, today=AS_OF)
    assert refused.value.problems[0].reason_zh == "数据库未能写入本文件，未作任何更改。数据库的报错：server closed the connection"
    assert import_refusals(poisoned)[0] == "12388来电投诉导入被拒绝：lost.csv，数据库未能写入（server closed the connection），未写入"


def test_the_cli_refuses_an_import_the_database_refuses_in_one_message(constrained: sa.Engine, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from data_access.cli import main

    path = tmp_path / "constrained.csv"
    path.write_bytes(csv_bytes([case("X-REFUSED")]))
    assert main(["import", "--db", constrained.url.render_as_string(hide_password=False), str(path)]) == 1
    err = capsys.readouterr().err
    assert "导入被拒绝" in err and "数据库未能写入本文件" in err and CHECK_NAME in err and "Traceback" not in err


def test_the_page_shows_a_refusal_of_the_database(app_database: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 数据 page: a database error while loading is the message of a refusal, not the section's error box."""
    from data_access.imports import importer

    def refused_by_engine(*args: object, **kwargs: object) -> None:
        raise sa.exc.DataError("COPY cases ...", {}, Exception('invalid byte sequence for encoding "UTF8": 0x00'))

    monkeypatch.setattr(importer, "load_cases", refused_by_engine)
    at = go(fill_login(new_session(), "sheng", PASSWORD), "data")
    at.file_uploader(key="upload_file").upload("engine.csv", csv_bytes([case("E-1")]), "text/csv")
    at.run()
    at.button(key="upload_run").click().run()
    assert not at.exception
    assert at.error and "未作任何更改" in at.error[0].value
    assert "文件中有数据库不能保存的值" in at.dataframe[-1].value.to_string()
    assert import_refusals(app_database)[0].startswith("导入被拒绝：engine.csv，文件中有数据库不能保存的值（")
