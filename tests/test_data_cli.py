"""Command line tests: `python -m data_access init | import` (data_access.cli.main, in-process).

Exit status: 0 success, 1 bad data (report on stderr), 2 bad usage.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access.cli import main
from data_access.store.engine import make_engine
from data_access.store.schema import cases, import_log, regions
from tests.conftest import server_database_url

REPO_ROOT = Path(__file__).resolve().parent.parent
HEADER = ["case_id", "county_code", "received_date", "channel", "is_first_report", "is_leapfrog",
          "closed_date", "satisfaction", "phone"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """A UTF-8 CSV file written with the csv module."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


GOOD = [["C-1", "370102", "2024-03-01", "letter", "1", "0", "2024-03-20", "满意", "13800138000"],
        ["C-2", "371702", "2024/3/2", "来电", "否", "N", "", "", "13900139000"]]
BAD = [["C-3", "370102", "2024-03-01", "letter", "1", "0", "", "", ""],
       ["C-4", "370102", "2024-03-01", "letter", "1", "0", "2024-02-30", "", ""],
       ["C-5", "370100", "2024-03-01", "fax", "1", "0", "", "", ""]]


def db_cases(url: str) -> dict[str, tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(cases.c.case_id, cases.c.channel, cases.c.closed_date)).all()
    finally:
        engine.dispose()
    return {r[0]: tuple(r[1:]) for r in rows}


def count(url: str, table: sa.Table, *where) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)


@pytest.fixture
def url(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'cli.duckdb'}"


@pytest.fixture
def inited(url, capsys) -> str:
    assert main(["init", "--db", url]) == 0
    capsys.readouterr()
    return url


@pytest.fixture
def good(tmp_path) -> Path:
    return write_csv(tmp_path / "good.csv", GOOD)


@pytest.fixture
def bad(tmp_path) -> Path:
    return write_csv(tmp_path / "bad.csv", BAD)


def test_init_loads_153_regions(url, capsys):
    assert main(["init", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "153" in out and "initialised" in out
    assert count(url, regions) == 153
    assert count(url, regions, regions.c.level == "county") == 136
    assert count(url, regions, regions.c.level == "city") == 16
    assert count(url, cases) == 0


def test_init_twice_is_harmless(inited, capsys):
    assert main(["init", "--db", inited]) == 0
    assert count(inited, regions) == 153


def test_import_good_file(inited, good, capsys):
    assert main(["import", "--db", inited, str(good)]) == 0
    out = capsys.readouterr().out
    assert "imported 2 cases (mode append)" in out
    assert "dropped unknown columns (not stored): phone" in out
    assert db_cases(inited) == {"C-1": ("letter", dt.date(2024, 3, 20)),
                                "C-2": ("phone", None)}


def test_import_initialises_an_empty_database(url, good, capsys):
    assert main(["import", "--db", url, str(good)]) == 0
    assert count(url, regions) == 153 and count(url, cases) == 2


def test_import_bad_file_returns_1_with_report(inited, good, bad, capsys):
    assert main(["import", "--db", inited, str(good)]) == 0
    before = db_cases(inited)
    capsys.readouterr()
    assert main(["import", "--db", inited, str(bad)]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err and "nothing written" in err
    assert 'row 3, closed_date "2024-02-30": not a date' in err
    assert '第 3 行，closed_date，"2024-02-30"：不是有效日期' in err
    assert 'row 4, county_code "370100": not a county-level code' in err
    assert 'row 4, channel "fax": invalid value' in err
    assert db_cases(inited) == before
    assert count(inited, import_log) == 1


def test_import_existing_case_id_returns_1(inited, good, capsys):
    assert main(["import", "--db", inited, str(good)]) == 0
    capsys.readouterr()
    assert main(["import", "--db", inited, str(good)]) == 1
    err = capsys.readouterr().err
    assert 'row 2, case_id "C-1": case_id already in the database' in err
    assert 'row 3, case_id "C-2"' in err
    assert count(inited, cases) == 2


@pytest.mark.parametrize(("name", "content", "english"), [
    ("cases.txt", b"case_id\nC-1\n", "unsupported file type '.txt'"),
    ("garbage.csv", b"\x00\x01\x02\xff" * 100, "not a text file"),
    ("latin1.csv", "case_id,channel\nC-1,caf\u00e9,\n".encode("latin-1"), "neither UTF-8 nor GBK"),
])
def test_import_unreadable_file_returns_1(inited, tmp_path, capsys, name, content, english):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["import", "--db", inited, str(path)]) == 1
    err = capsys.readouterr().err
    assert english in err and "file:" in err
    assert count(inited, cases) == 0


def test_replace_via_cli(inited, good, tmp_path, capsys):
    assert main(["import", "--db", inited, str(good)]) == 0
    new = write_csv(tmp_path / "new.csv", [["C-9", "370102", "2024-05-01", "qr", "1", "0", "", "", ""]])
    capsys.readouterr()
    assert main(["import", "--db", inited, str(new), "--replace"]) == 0
    out = capsys.readouterr().out
    assert "mode replace" in out and "replaced 2" in out
    assert db_cases(inited) == {"C-9": ("qr", None)}


def test_upsert_via_cli(inited, good, tmp_path, capsys):
    assert main(["import", "--db", inited, str(good)]) == 0
    new = write_csv(tmp_path / "new.csv", [["C-2", "371702", "2024-03-02", "visit", "0", "0", "", "", ""],
                                           ["C-7", "370102", "2024-05-01", "online", "1", "0", "", "", ""]])
    capsys.readouterr()
    assert main(["import", "--db", inited, "--upsert", str(new)]) == 0
    out = capsys.readouterr().out
    assert "imported 2 cases (mode upsert)" in out and "replaced 1" in out
    got = db_cases(inited)
    assert sorted(got) == ["C-1", "C-2", "C-7"]
    assert got["C-2"] == ("visit", None) and got["C-7"] == ("online", None) and got["C-1"][0] == "letter"


@pytest.mark.parametrize("argv", [
    [],
    ["import"],
    ["import", "--db", "{url}"],
    ["import", "--db", "{url}", "{good}", "--frobnicate"],
    ["import", "--db", "{url}", "{good}", "--replace", "--upsert"],
    ["import", "--db", "{url}", "{good}", "{good}"],
    ["export", "--db", "{url}"],
    ["init", "--db", "{url}", "--regions"],
    ["demo", "--db", "{url}", "--end-date", "2024-13-01"],
    ["demo", "--db", "{url}", "--cases", "many"],
], ids=["no-command", "import-no-file", "import-no-file-db", "unknown-flag", "replace-and-upsert",
        "two-files", "unknown-command", "regions-no-value", "bad-end-date", "bad-cases"])
def test_bad_usage_exits_2(argv, url, good, capsys):
    argv = [a.format(url=url, good=good) for a in argv]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err
    assert not Path(url.removeprefix("duckdb:///")).exists()  # nothing was created


def test_replace_and_upsert_message(url, good, capsys):
    with pytest.raises(SystemExit):
        main(["import", "--db", url, str(good), "--replace", "--upsert"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_missing_file_returns_2(inited, tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["import", "--db", inited, str(missing)]) == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "nope.csv" in err


def test_directory_instead_of_file_returns_2(inited, tmp_path, capsys):
    assert main(["import", "--db", inited, str(tmp_path)]) == 2
    assert "file not found" in capsys.readouterr().err


def test_invalid_database_url_returns_2(good, capsys):
    assert main(["import", "--db", "nosuchdialect://x/y", str(good)]) == 2
    assert "invalid database URL" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "words"), [
    (["--help"], ["init", "import", "demo", "Exit status"]),
    (["import", "--help"], ["--replace", "--upsert", "--db", "file"]),
    (["init", "--help"], ["--regions", "--db"]),
])
def test_help(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for word in words:
        assert word in out


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_server_init_and_import(server, request, good, bad, capsys):
    """The same commands against the session's PostgreSQL or MariaDB database (cases emptied afterwards)."""
    url = server_database_url(server, request)
    try:
        assert main(["init", "--db", url]) == 0
        assert "153" in capsys.readouterr().out
        assert count(url, regions) == 153
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(cases.delete())
        engine.dispose()
        assert main(["import", "--db", url, str(good)]) == 0
        assert "imported 2 cases" in capsys.readouterr().out
        assert main(["import", "--db", url, str(bad)]) == 1
        assert 'row 3, closed_date "2024-02-30"' in capsys.readouterr().err
        assert sorted(db_cases(url)) == ["C-1", "C-2"]
    finally:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(cases.delete())
            conn.execute(import_log.delete())
        engine.dispose()


@pytest.mark.parametrize(("args", "code", "stream", "text"), [
    (["--help"], 0, "stdout", "import"),
    (["import"], 2, "stderr", "usage:"),
])
def test_module_entry_point(args, code, stream, text):
    proc = subprocess.run([sys.executable, "-m", "data_access", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert text in getattr(proc, stream)


# ------------------------------------------------------------------------------------------ audit and file lock

def audit_of(url: str) -> list[tuple[str, str, str]]:
    from data_access.store.schema import audit_log

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log.c.username, audit_log.c.action, audit_log.c.detail)
                                .order_by(audit_log.c.at)).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


def test_cli_imports_are_audited_with_the_os_user(inited, good, bad, capsys):
    import getpass

    assert main(["import", "--db", inited, str(good)]) == 0
    assert main(["import", "--db", inited, str(bad)]) == 1
    rows = [r for r in audit_of(inited) if r[1] == "import"]
    assert rows == [(f"cli:{getpass.getuser()}", "import", "导入 good.csv：2 件，方式：追加"),
                    (f"cli:{getpass.getuser()}", "import", "导入被拒绝：bad.csv，3 个问题，未写入")]


HOLD_FILE = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


@pytest.mark.parametrize("argv", [["user", "add", "--db", "DB", "zhang", "--role", "province", "--password-stdin"],
                                  ["import", "--db", "DB", "GOOD"], ["init", "--db", "DB"]],
                         ids=["user-add", "import", "init"])
def test_a_file_held_by_another_process_is_explained_in_chinese(inited, good, argv, capsys, monkeypatch):
    path = make_engine(inited).url.database
    holder = subprocess.Popen([sys.executable, "-c", HOLD_FILE, path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password-1\n"))
        assert main([{"DB": inited, "GOOD": str(good)}.get(a, a) for a in argv]) == 1
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert "正被另一个进程占用" in err and f"进程号 {holder.pid}" in err and "请先停止看板" in err
    assert "IO Error" not in err


def test_metrics_cli_explains_a_held_file_too(inited, capsys):
    from metrics import cli as metrics_cli

    path = make_engine(inited).url.database
    holder = subprocess.Popen([sys.executable, "-c", HOLD_FILE, path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert metrics_cli.main(["overdue", "--db", inited], out=io.StringIO()) == 1
    finally:
        holder.kill()
        holder.wait()
    assert "正被另一个进程占用" in capsys.readouterr().err


def test_cli_demo_is_audited(inited, capsys):
    import getpass

    assert main(["demo", "--db", inited, "--cases", "300", "--seed", "5", "--end-date", "2024-06-30"]) == 0
    rows = [r for r in audit_of(inited) if r[1] == "import"]
    assert rows == [(f"cli:{getpass.getuser()}", "import", "生成演示数据 300 件（替换全部案件）")]


def test_demo_remove_keeps_the_imported_cases(inited, good, capsys):
    assert main(["demo", "--db", inited, "--cases", "50", "--end-date", "2024-06-30"]) == 0
    assert main(["import", "--db", inited, str(good)]) == 0
    capsys.readouterr()
    assert main(["demo", "--db", inited, "--remove"]) == 0
    assert "removed 50 demo cases, 2 cases left" in capsys.readouterr().out
    assert set(db_cases(inited)) == {"C-1", "C-2"}
    assert main(["demo", "--db", inited, "--remove"]) == 0
    assert "no demo cases in the database (2 cases)" in capsys.readouterr().out
