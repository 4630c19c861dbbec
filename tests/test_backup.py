"""Backup and restore (data_access.records.backup; `python -m data_access backup | restore`) on every engine.

A database holding every kind of row the app writes — demo cases with their 12388 complaints, answers,
draws and ledger items, imported cases, ledger steps, users and sessions, audit rows, a saved mapping and
the per-county daily summary, with awkward text (quotes, commas, backslashes, a newline, the word NULL,
an empty string, a 4-byte character) — is backed up and restored into a fresh database of each engine
(DuckDB, PostgreSQL, MariaDB: every pair), and every table compared row by row. A backup taken while
another thread takes ledger steps is one moment (every event's item is there, every item's status is its
last event's, one audit row and one data-version row per step) and restores to exactly its files. A
tampered backup and a non-empty target are refused; --keep prunes; a DuckDB file held by another process
is explained; the 数据 page's button writes a backup; the nightly systemd units pass systemd-analyze verify.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

import metrics.summary  # the loader's hook keeps the per-county daily summary, as in the dashboard
from data_access.cli import main
from data_access.demo.loading import load_demo
from data_access.identity import audit, auth, sessions
from data_access.identity.audit import AuditAction
from data_access.identity.auth import Identity, Role
from data_access.imports import mappings
from data_access.imports.importer import import_bytes
from data_access.records import backup
from data_access.records.backup import BadBackup, TargetNotEmpty, restore_backup, take_backup
from data_access.store.database import init_database
from data_access.store.engine import make_engine
from data_access.store.schema import audit_log, data_changes, metadata, supervision_events
from data_access.supervision import hotline_import, ledger
from data_access.supervision.ledger import Method
from metrics.settings import load_settings
from tests.conftest import BACKENDS, REPO_ROOT, database_of_its_own
from tests.test_hotline import call
from tests.test_importer import case, csv_bytes

END = dt.date(2026, 11, 22)
DEMO_CASES = 3000
JINING, RENCHENG, LIXIA = "370800", "370811", "370102"
PROVINCE = Identity("sheng", Role.PROVINCE, None, "省纪委监委信访室")
JINING_CITY = Identity("jining", Role.CITY, JINING, "济宁市纪委监委")
RENCHENG_COUNTY = Identity("rencheng", Role.COUNTY, RENCHENG, "任城区纪委监委")
AWKWARD = '要求：一、核实；二、反馈 "引号", 逗号, 反斜杠 \\ 和 NULL 😀\n第二行'
SUMMARY_TABLES = {t.name: t for t in metrics.summary.DERIVED_TABLES}


# ---------------------------------------------------------------------------------------------- filling

def fill(engine: sa.Engine) -> None:
    """Every kind of row the app writes, some with awkward text."""
    init_database(engine)
    load_demo(engine, DEMO_CASES, 11, END)  # cases, 12388 complaints with their cycle, draws, ledger items
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG), case("L-1", county_code=LIXIA, closed_date="",
                                                                            satisfaction="", result_notice_date="")]),
                 "cases.csv", actor=PROVINCE)
    hotline_import.import_complaints_bytes(engine, csv_bytes([call("H-1"), call("H-2", 关联件号="")]), "12388.csv",
                                           actor=PROVINCE, today=END)
    for name, role, region in (("sheng", Role.PROVINCE, None), ("jining", Role.CITY, JINING),
                               ("rencheng", Role.COUNTY, RENCHENG)):
        auth.add_user(engine, name, "Shandong-2024!", role, region, f"{name} 用户")
    auth.disable_user(engine, "rencheng")
    started = sessions.start_session(engine, PROVINCE, now=dt.datetime(2026, 11, 20, 8, 0, 0, 250_000))
    sessions.bind_session(engine, started.handoff_code, now=dt.datetime(2026, 11, 20, 8, 0, 1))
    sessions.start_session(engine, JINING_CITY, now=dt.datetime(2026, 11, 20, 8, 5))  # never bound: NULL token
    at = dt.datetime(2026, 11, 20, 9, 30, 0, 123_456)
    item = ledger.open_item(engine, JINING_CITY, county_code=RENCHENG, title="初次举报超期未办结 3 件", reason=AWKWARD,
                            method=Method.LETTER, reply_due=dt.date(2026, 11, 27), case_id="R-1", now=at)
    ledger.reply(engine, RENCHENG_COUNTY, item, note="已约谈，11 月 25 日前办结", promised_date=dt.date(2026, 11, 25),
                 now=at + dt.timedelta(hours=1))
    ledger.send_back(engine, JINING_CITY, item, note="措施不具体", now=at + dt.timedelta(hours=2))
    ledger.reply(engine, RENCHENG_COUNTY, item, note="补充：已整改", now=at + dt.timedelta(hours=3))
    ledger.close(engine, JINING_CITY, item, now=at + dt.timedelta(hours=4))
    mappings.save_mapping(engine, PROVINCE, '济宁市"信访"系统, 导出', {"件号": "case_id", '举报人 "姓名", 电话': ""})
    for detail in ("NULL", "", "C:\\temp\\a.csv, 12 行"):
        assert audit.record(engine, "cli:test", AuditAction.DOWNLOAD, detail, scope="")


def tables_of(engine: sa.Engine) -> list[sa.Table]:
    """The declared tables and the summary's tables the database holds."""
    names = set(sa.inspect(engine).get_table_names())
    return [t for t in [*metadata.sorted_tables, *SUMMARY_TABLES.values()] if t.name in names]


def normal(value: Any) -> Any:
    return value if not isinstance(value, int) or isinstance(value, bool) else int(value)


def rows_of(conn: sa.Connection, table: sa.Table, names: list[str] | None = None) -> list[tuple]:
    """A table's rows (of the given columns), in one order whatever the engine's collation."""
    columns = [table.c[n] for n in names] if names else list(table.columns)
    rows = [tuple(normal(v) for v in row) for row in conn.execute(sa.select(*columns))]
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


def everything(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: rows_of(conn, t) for t in tables_of(engine)}


def without(rows: list[tuple], table: sa.Table, column: str, value: str) -> list[tuple]:
    i = list(table.columns.keys()).index(column)
    return [r for r in rows if r[i] != value]


@dataclass(frozen=True)
class Source:
    backend: str
    engine: sa.Engine
    before: dict[str, list[tuple]]  # every table as the backup took it
    report: backup.BackupReport


@pytest.fixture(scope="module", params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Source:
    engine = database_of_its_own(request.param, "backup_source", request, tmp_path_factory)
    fill(engine)
    before = everything(engine)
    report = take_backup(engine, tmp_path_factory.mktemp("backups"), "cli:test")
    return Source(request.param, engine, before, report)


# ---------------------------------------------------------------------------------------------- round trips

def test_the_backup_holds_every_table_with_its_counts(source: Source) -> None:
    manifest = backup.verify_backup(source.report.folder)
    assert [t.name for t in manifest.tables] == [t.name for t in tables_of(source.engine)]
    assert {t.name: t.rows for t in manifest.tables} == {name: len(rows) for name, rows in source.before.items()}
    assert set(SUMMARY_TABLES) <= {t.name for t in manifest.tables}
    assert manifest.engine == source.engine.dialect.name
    for table in ("cases", "hotline_complaints", "spot_check_draws", "supervision_items", "supervision_events", "users",
                  "user_sessions", "audit_log", "import_mappings", "data_changes", "county_day_counts"):
        assert len(source.before[table]) > 0, table
    # the backup is audited, after its snapshot
    with source.engine.connect() as conn:
        details = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "backup")).scalars().all()
    assert [str(source.report.folder) in d for d in details] == [True]
    folder_mode = source.report.folder.stat().st_mode & 0o777
    assert folder_mode == 0o700 and {p.stat().st_mode & 0o777 for p in source.report.folder.iterdir()} == {0o600}


@pytest.mark.parametrize("target", BACKENDS)
def test_restore_into_a_fresh_database_gives_every_row_back(source: Source, target: str, request: pytest.FixtureRequest,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = database_of_its_own(target, f"restored_from_{source.backend}", request, tmp_path_factory)
    restore_backup(engine, source.report.folder, "cli:test")
    after = everything(engine)
    assert set(after) >= set(source.before)
    # the restore's own trace: one audit row and one move of the data version
    restored = [r for r in after["audit_log"] if r[list(audit_log.c.keys()).index("action")] == "restore"]
    assert len(restored) == 1 and source.report.folder.name in restored[0][list(audit_log.c.keys()).index("detail")]
    after["audit_log"] = without(after["audit_log"], audit_log, "action", "restore")
    assert len(without(after["data_changes"], data_changes, "what", "restore")) == len(after["data_changes"]) - 1
    after["data_changes"] = without(after["data_changes"], data_changes, "what", "restore")
    for name, rows in source.before.items():
        assert after[name] == rows, f"{source.backend} -> {target}: table {name} differs"
    settings = load_settings()
    with engine.connect() as conn:
        current = metrics.summary.is_current(conn, settings)
    assert current or target != source.backend  # same engine: the restored summary is read as it is
    metrics.summary.refresh(engine, settings)  # another engine: rebuilt once, as the dashboard does
    with engine.connect() as conn:
        assert metrics.summary.is_current(conn, settings)


def test_the_summary_tables_are_the_ones_metrics_keeps() -> None:
    assert set(backup.DERIVED_TABLES) == set(SUMMARY_TABLES)


# ---------------------------------------------------------------------------------------------- during writes

class Steps:
    """Ledger steps taken by a writer thread: open, reply, close, again and again."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.done, self.stop, self.error = engine, 0, threading.Event(), None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                item = ledger.open_item(self.engine, JINING_CITY, county_code=RENCHENG, title="初次举报超期未办结",
                                        reason="请反馈", method=Method.PHONE, reply_due=dt.date.today() + dt.timedelta(days=9))
                self.done += 1
                ledger.reply(self.engine, RENCHENG_COUNTY, item, note="已办理")
                self.done += 1
                ledger.close(self.engine, JINING_CITY, item)
                self.done += 1
        except Exception as exc:  # shown by the test
            self.error = exc

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.done < count:
            assert self.error is None and time.monotonic() < deadline, self.error or "the writer stalled"
            time.sleep(0.005)


@pytest.fixture
def writes(engine: sa.Engine) -> Iterator[Steps]:
    import_bytes(engine, csv_bytes([case(f"R-{i}", county_code=RENCHENG) for i in range(20)]), "cases.csv")
    steps = Steps(engine)
    steps.thread.start()
    yield steps
    steps.stop.set()
    steps.thread.join(timeout=60)


def parquet_rows(folder: Path, entry: backup.TableEntry) -> list[tuple]:
    rows = [tuple(normal(v) for v in r.values()) for r in pq.read_table(folder / entry.file).to_pylist()]
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


def test_a_backup_taken_during_ledger_steps_is_one_moment(engine: sa.Engine, writes: Steps, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path, request: pytest.FixtureRequest,
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    write_table = backup._write_table

    def while_writing(conn: sa.Connection, table: sa.Table, specs: tuple, folder: Path) -> backup.TableEntry:
        entry = write_table(conn, table, specs, folder)
        writes.wait_for(writes.done + 2)  # the writer goes on between any two tables of the backup
        return entry

    monkeypatch.setattr(backup, "_write_table", while_writing)
    writes.wait_for(3)
    report = take_backup(engine, tmp_path, "cli:test")
    writes.stop.set()
    writes.thread.join(timeout=60)
    assert writes.error is None
    files = {t.name: t for t in report.manifest.tables}
    read = {name: pq.read_table(report.folder / files[name].file).to_pylist()
            for name in ("supervision_items", "supervision_events", "audit_log", "data_changes")}
    items = {r["id"]: r for r in read["supervision_items"]}
    last: dict[str, dict] = {}
    for event in read["supervision_events"]:
        assert event["item_id"] in items, "an event whose item is not in the backup"
        if event["seq"] > last.get(event["item_id"], {"seq": 0})["seq"]:
            last[event["item_id"]] = event
    assert set(last) == set(items) and len(items) >= 1
    status_after = {"open": "open", "reply": "replied", "close": "closed", "return": "open"}
    assert all(items[i]["status"] == status_after[e["action"]] for i, e in last.items())
    supervision_audits = sum(r["action"] == "supervision" for r in read["audit_log"])
    supervision_changes = sum(r["what"] == "supervision" for r in read["data_changes"])
    assert supervision_audits == supervision_changes == len(read["supervision_events"])
    with engine.connect() as conn:
        written = conn.execute(sa.select(sa.func.count()).select_from(supervision_events)).scalar_one()
    assert written >= len(read["supervision_events"]) + 2 * (len(files) - 1)  # steps were taken during the backup

    # the backup taken during writes restores to exactly its files
    backend = engine.dialect.name if engine.dialect.name in BACKENDS else "mariadb"
    target = database_of_its_own(backend, "restored_during_writes", request, tmp_path_factory)
    restore_backup(target, report.folder, "cli:test")
    declared = {t.name: t for t in [*metadata.sorted_tables, *SUMMARY_TABLES.values()]}
    with target.connect() as conn:
        for entry in report.manifest.tables:
            rows = rows_of(conn, declared[entry.name], [c.name for c in entry.columns])
            if entry.name == "audit_log":
                rows = [r for r in rows if r[[c.name for c in entry.columns].index("action")] != "restore"]
            if entry.name == "data_changes":
                rows = [r for r in rows if r[[c.name for c in entry.columns].index("what")] != "restore"]
            assert rows == parquet_rows(report.folder, entry), entry.name


# ---------------------------------------------------------------------------------------------- refusals

@pytest.fixture(scope="module")
def small_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup of a DuckDB database with two cases."""
    engine = make_engine(f"duckdb:///{tmp_path_factory.mktemp('small') / 'small.duckdb'}")
    init_database(engine)
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG), case("L-1", county_code=LIXIA)]), "cases.csv")
    folder = take_backup(engine, tmp_path_factory.mktemp("small_backups"), "cli:test").folder
    engine.dispose()
    return folder


def edit_manifest(folder: Path, table: str, **changes: Any) -> None:
    document = json.loads((folder / backup.MANIFEST_NAME).read_text(encoding="utf-8"))
    entry = next(t for t in document["tables"] if t["name"] == table)
    for key, value in changes.items():
        if key == "column_type":
            entry["columns"][2]["type"] = value
        else:
            entry[key] = value
    (folder / backup.MANIFEST_NAME).write_text(json.dumps(document), encoding="utf-8")


def flip_a_byte(folder: Path) -> None:
    path = folder / "cases.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


TAMPERINGS = {
    "a changed byte": (flip_a_byte, ("cases", "校验和", "SHA-256")),
    "a row count": (lambda f: edit_manifest(f, "cases", rows=3), ("cases", "3", "2 行")),
    "a missing file": (lambda f: (f / "users.parquet").unlink(), ("users", "不存在")),
    "a column type": (lambda f: edit_manifest(f, "cases", column_type="string"), ("cases", "列与清单不符")),
    "no manifest": (lambda f: (f / backup.MANIFEST_NAME).unlink(), ("manifest.json",)),
}


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_a_tampered_backup_is_refused_before_anything_is_written(small_backup: Path, tampering: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    damage, named = TAMPERINGS[tampering]
    folder = Path(shutil.copytree(small_backup, tmp_path / small_backup.name))
    damage(folder)
    url = f"duckdb:///{tmp_path / 'target.duckdb'}"
    assert main(["restore", "--db", url, str(folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("备份不可用") and all(word in err for word in named), err
    engine = make_engine(url)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_a_database_that_holds_rows_is_refused(engine: sa.Engine, small_backup: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The shared test database is initialised: it holds the region tree and the calendar."""
    before = everything(engine)
    assert main(["restore", "--db", engine.url.render_as_string(hide_password=False), str(small_backup)]) == 2
    err = capsys.readouterr().err
    assert "不是空的" in err and "regions" in err and "workday_calendar" in err
    assert everything(engine) == before
    with pytest.raises(TargetNotEmpty) as refused:
        restore_backup(engine, small_backup, "cli:test")
    assert {"regions", "workday_calendar"} <= set(refused.value.occupied)


def test_a_backup_of_another_format_version_is_refused(small_backup: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(small_backup, tmp_path / small_backup.name))
    document = json.loads((folder / backup.MANIFEST_NAME).read_text(encoding="utf-8"))
    (folder / backup.MANIFEST_NAME).write_text(json.dumps({**document, "version": 2}), encoding="utf-8")
    with pytest.raises(BadBackup, match="版本"):
        backup.verify_backup(folder)


# ---------------------------------------------------------------------------------------------- the command line

def test_the_command_line_backs_up_and_keeps_the_newest(engine: sa.Engine, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = engine.url.render_as_string(hide_password=False)
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    (tmp_path / "petition-backup-by-hand").mkdir()  # no manifest: never removed
    folders = []
    for _ in range(3):
        assert main(["backup", "--db", url, "--out", str(tmp_path), "--keep", "2"]) == 0
        out = capsys.readouterr().out
        assert "已备份" in out
        folders.append(Path(out.strip().splitlines()[0].rsplit(": ", 1)[1]))
    assert len(set(folders)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["notes.txt", "petition-backup-by-hand", folders[1].name, folders[2].name])
    with engine.connect() as conn:
        details = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "backup")
                               .order_by(audit_log.c.at)).scalars().all()
    assert [str(folder) in detail for folder, detail in zip(folders, details, strict=True)] == [True] * 3
    with pytest.raises(SystemExit) as bad_usage:
        main(["backup", "--db", url, "--out", str(tmp_path), "--keep", "0"])
    assert bad_usage.value.code == 2 and "--keep" in capsys.readouterr().err


def test_the_command_line_explains_a_duckdb_file_held_by_the_dashboard(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "held.duckdb"
    engine = make_engine(f"duckdb:///{path}")
    init_database(engine)
    engine.dispose()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', "
                               "flush=True); sys.stdin.read()", str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert main(["backup", "--db", f"duckdb:///{path}", "--out", str(tmp_path / "out")]) == 1
    finally:
        holder.communicate("", timeout=30)
    err = capsys.readouterr().err
    assert "正被另一个进程占用" in err and "立即备份" in err and "数据" in err
    assert not list((tmp_path / "out").glob("petition-backup-*"))


# ---------------------------------------------------------------------------------------------- the 数据 page

def test_the_data_page_backs_up_for_a_province_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_access import PASSWORD, cheap_hasher, go, sign_in

    monkeypatch.setattr(auth, "PASSWORD_HASHER", cheap_hasher(), raising=False)
    url = f"duckdb:///{tmp_path / 'page.duckdb'}"
    engine = make_engine(url)
    init_database(engine)
    import_bytes(engine, csv_bytes([case("R-1", county_code=RENCHENG)]), "cases.csv")
    auth.add_user(engine, "sheng", PASSWORD, Role.PROVINCE, None)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv(backup.BACKUP_DIR_VARIABLE, str(tmp_path / "backups"))
    at = go(sign_in("sheng"), "data")
    assert "还没有备份" in " ".join(i.value for i in at.info)
    at.button(key="backup_run").click().run()
    assert not at.exception and any("已备份" in s.value for s in at.success), [e.value for e in at.error]
    (folder,) = (tmp_path / "backups").glob("petition-backup-*")
    manifest = backup.verify_backup(folder)
    assert {t.name: t.rows for t in manifest.tables}["cases"] == 1 and manifest.taken_by == "sheng"
    with engine.connect() as conn:
        assert conn.execute(sa.select(audit_log.c.username).where(audit_log.c.action == "backup")).scalars().all() == ["sheng"]
    engine.dispose()


# ---------------------------------------------------------------------------------------------- deploy/

SERVICE = REPO_ROOT / "deploy" / "petition-backup.service"
TIMER = REPO_ROOT / "deploy" / "petition-backup.timer"
DUCKDB_DROP_IN = REPO_ROOT / "deploy" / "petition-backup-duckdb.conf"


@pytest.mark.parametrize("duckdb_drop_in", [False, True], ids=["server database", "duckdb drop-in"])
def test_nightly_backup_units_pass_systemd_analyze_verify(tmp_path: Path, duckdb_drop_in: bool) -> None:
    """The timer and its service as systemd reads them, with the drop-in that stops the dashboard for a DuckDB
    file (no systemd runs here to start them)."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    service = SERVICE.read_text(encoding="utf-8")
    assert "-m data_access backup" in service and "--keep ${PETITION_BACKUP_KEEP}" in service
    assert "OnCalendar=" in TIMER.read_text(encoding="utf-8")
    local = (service.replace("/opt/petition-dashboard/.venv/bin/python", sys.executable)
             .replace("WorkingDirectory=/opt/petition-dashboard", f"WorkingDirectory={REPO_ROOT}")
             .replace("EnvironmentFile=/etc/petition-dashboard.env", "EnvironmentFile=-/etc/petition-dashboard.env"))
    (tmp_path / SERVICE.name).write_text(local, encoding="utf-8")
    shutil.copy(TIMER, tmp_path / TIMER.name)
    if duckdb_drop_in:
        (tmp_path / f"{SERVICE.name}.d").mkdir()
        shutil.copy(DUCKDB_DROP_IN, tmp_path / f"{SERVICE.name}.d" / "duckdb.conf")
        assert "ExecStopPost=+/usr/bin/systemctl start petition-dashboard@" in DUCKDB_DROP_IN.read_text(encoding="utf-8")
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="warning")
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / TIMER.name), str(tmp_path / SERVICE.name)],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
