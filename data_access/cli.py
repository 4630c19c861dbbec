"""`python -m data_access init | import | demo | user`: the command line scripts and the weekly cron use.

Exit status: 0 success, 1 bad data (the report is printed), 2 bad usage.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pandas as pd
import sqlalchemy as sa

from data_access.demo.loading import load_demo, remove_demo_cases
from data_access.identity import audit, auth
from data_access.imports.importer import Preview, import_file, preview_import
from data_access.imports.loading import ImportMode
from data_access.imports.mappings import load_mapping
from data_access.records import backup
from data_access.reference.problems import DataRejected
from data_access.store.database import case_count, case_write_hooks, ensure_initialized, init_database
from data_access.store.engine import describe_url, file_held_message, make_engine
from data_access.supervision.hotline_import import import_complaints_file

EXIT_OK, EXIT_BAD_DATA, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
信访举报督导看板 数据工具 / data tools of the petition-and-report supervision dashboard.

  init    建表并载入地区表（默认山东省） / create the tables and load the region tree
  import  导入案件文件（CSV/XLSX/Parquet），全部成功或全部不写入 / import a case file, all-or-nothing
  import-complaints  导入12388来电投诉（CSV/XLSX），只追加 / import 12388 hotline complaints, append only
  demo    生成演示数据（替换现有案件） / generate synthetic demo cases (replaces the case table)
          --remove 删除演示数据，保留真实案件 / delete the demo cases, keep the imported ones
  user    管理本地登录用户（未配置 OIDC 时） / manage local users: add, disable, enable, passwd, list
  backup  备份全部数据表（同一时刻的快照，Parquet + 清单），看板运行时也可进行 / back up every table, one snapshot
  restore 把备份恢复到一个空数据库（可换数据库类型） / restore a backup into an empty database of any engine

数据库 / database: --db URL, else $DATABASE_URL, else the embedded DuckDB file data/petition.duckdb.
Examples:
  python -m data_access init --db postgresql+psycopg://user@host/db
  python -m data_access import cases_2024.xlsx --upsert
  python -m data_access import-complaints 12388_2024-06.xlsx --check
  python -m data_access demo --cases 1000000 --seed 7 --end-date 2026-11-22
  python -m data_access user add zhang.san --role city --region 370100
  python -m data_access backup --out /var/backups/petition-dashboard --keep 14
  python -m data_access restore --db postgresql+psycopg://user@host/new /var/backups/petition-dashboard/petition-backup-20261206-023000
Exit status: 0 success, 1 bad data (every problem is listed with row, column and value), 2 bad usage.
"""


def iso_date(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD dates (shared by both command lines)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD / not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m data_access", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = "SQLAlchemy URL of the database (default: $DATABASE_URL, then data/petition.duckdb)"

    p_init = sub.add_parser("init", help="create tables, load the region tree")
    p_init.add_argument("--db", help=db_help)
    p_init.add_argument("--regions", type=Path, help="regions.csv of another province (default: Shandong)")

    p_imp = sub.add_parser("import", help="import a CSV/XLSX/Parquet case file")
    p_imp.add_argument("--db", help=db_help)
    p_imp.add_argument("file", type=Path)
    mode = p_imp.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true", help="replace the whole case table with the file")
    mode.add_argument("--upsert", action="store_true", help="update case_ids already present, add the rest")
    p_imp.add_argument("--check", action="store_true", help="validate only, write nothing / 只校验，不写入")
    p_imp.add_argument("--sheet", help="the workbook's sheet to read (default: the first with a header) / 工作表名")
    p_imp.add_argument("--header-row", type=int, help="the header's row number (default: found in the first 20) / 表头行号")
    p_imp.add_argument("--mapping", help="a column mapping saved on the 数据 page / 数据页保存的导入映射名称")
    p_imp.add_argument("--accept-orphans", action="store_true",
                       help="with --replace: replace even though ledger items or 12388 complaints keep case ids the file "
                            "lacks (they are kept) / 整表替换后督办事项、12388来电所对应的案件不在文件中时，确认仍替换（这些记录保留）")

    p_hot = sub.add_parser("import-complaints", help="import a CSV/XLSX file of 12388 hotline complaints (append only)")
    p_hot.add_argument("--db", help=db_help)
    p_hot.add_argument("file", type=Path)
    p_hot.add_argument("--check", action="store_true", help="validate only, write nothing / 只校验，不写入")
    p_hot.add_argument("--sheet", help="the workbook's sheet to read (default: the first with a header) / 工作表名")
    p_hot.add_argument("--header-row", type=int, help="the header's row number (default: found in the first 20) / 表头行号")

    p_demo = sub.add_parser("demo", help="generate synthetic demo cases (replaces the case table)")
    p_demo.add_argument("--db", help=db_help)
    p_demo.add_argument("--cases", type=int, default=None, help="number of cases (default: a real province's 2.5 years)")
    p_demo.add_argument("--seed", type=int, default=20240101)
    p_demo.add_argument("--end-date", type=iso_date, default=None, help="last received date (default: today)")
    p_demo.add_argument("--accept-orphans", action="store_true",
                        help="replace even if 督办 items or 12388 complaints are then left without their case (they are "
                             "kept) / 确认替换后保留无对应案件的督办事项和来电投诉")
    p_demo.add_argument("--remove", action="store_true",
                        help="delete the demo cases (case_id DEMO-…) and keep the imported ones / 删除演示数据，保留真实案件")

    _add_user_parser(sub, db_help)
    _add_backup_parsers(sub, db_help)
    return parser


def _progress(label: str) -> Callable[[float], None]:
    start = time.monotonic()

    def report(fraction: float) -> None:
        print(f"\r{label} {fraction * 100:5.1f}%  {time.monotonic() - start:6.1f}s", end="", file=sys.stderr, flush=True)
        if fraction >= 1:
            print(file=sys.stderr)

    return report


def cmd_init(engine: sa.Engine, args: argparse.Namespace) -> int:
    n = init_database(engine, args.regions)
    print(f"已初始化 {describe_url(engine)}：载入 {n} 个地区 / initialised, {n} regions loaded")
    return EXIT_OK


def cmd_import(engine: sa.Engine, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"找不到文件 / file not found: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    mode = ImportMode.REPLACE if args.replace else ImportMode.UPSERT if args.upsert else ImportMode.APPEND
    mapping = load_mapping(engine, args.mapping) if args.mapping else None
    if args.check:
        return _check_import(engine, args, mode, mapping)
    report = import_file(engine, args.file, mode, progress=_progress(f"导入 {args.file.name}"),
                         actor=_cli_actor(), header_row=args.header_row, sheet=args.sheet, mapping=mapping,
                         accept_orphans=args.accept_orphans)
    _print_reading(report.sheet, report.header_row, report.skipped_rows)
    print(f"已导入 {report.rows} 件（模式 {report.mode}）/ imported {report.rows} cases (mode {report.mode})")
    if report.replaced:
        print(f"替换 {report.replaced} 件 / replaced {report.replaced}")
    if report.orphans.total:
        print(f"已按确认保留、现已无对应案件：{report.orphans.phrase()} / kept {report.orphans.total} ledger item(s) and "
              "complaint(s) whose case is not in the file")
    if report.dropped_columns:
        names = ", ".join(report.dropped_columns)
        print(f"已丢弃未知列（未保存）/ dropped unknown columns (not stored): {names}")
    _summary_note(engine)
    return EXIT_OK


def _print_reading(sheet: str | None, header_row: int, skipped_rows: tuple[int, ...]) -> None:
    """How the file was read: its sheet, and the rows above the header that were skipped."""
    if sheet:
        print(f"读取工作表“{sheet}” / read sheet '{sheet}'")
    if skipped_rows:
        rows = "、".join(str(r) for r in skipped_rows)
        print(f"表头在第 {header_row} 行，已跳过其上的第 {rows} 行（标题、说明） / header on row {header_row}, "
              f"skipped rows above it: {rows}")


def _check_import(engine: sa.Engine, args: argparse.Namespace, mode: str, mapping: dict[str, str] | None) -> int:
    """--check: the 数据 page's preview as text (every problem of every kind, the masked identity-like columns,
    the dropped columns that look like a field); nothing is written."""
    ensure_initialized(engine)
    preview = preview_import(engine, args.file.read_bytes(), args.file.name, actor=_cli_actor(), mapping=mapping,
                             header_row=args.header_row, sheet=args.sheet, mode=mode)
    _print_reading(preview.sheet, preview.header_row, preview.skipped_rows)
    _print_column_warnings(preview)
    if preview.orphans.total:
        print(f"整表替换后将无对应案件（记录保留，不删除）：{preview.orphans.phrase()} / after the replacement "
              f"{preview.orphans.total} ledger item(s) and complaint(s) would reference cases not in the file")
    if preview.problems is not None:
        print("\n" + preview.problems.summary(), file=sys.stderr)
        return EXIT_BAD_DATA
    if preview.orphans.total and not args.accept_orphans:
        print(f"导入时将被拒绝：{preview.orphans.counted()}将不再对应任何案件；确认仍要替换请加 --accept-orphans "
              "/ the import would be refused without --accept-orphans", file=sys.stderr)
        return EXIT_BAD_DATA
    print(f"校验通过：{preview.rows} 件，未写入数据库 / check passed: {preview.rows} cases, nothing written")
    return EXIT_OK


def _print_column_warnings(preview: Preview) -> None:
    """The identity-like columns (names and counts, never values) and the dropped columns that look like a field."""
    if not preview.masked.empty:
        listed = "、".join(f"{c}（{n} 个值）" for c, n in zip(preview.masked["column"], preview.masked["values"], strict=True))
        print(f"已屏蔽（不导入）疑似举报人身份信息的列：{listed} / masked identity-like columns, not imported: "
              f"{len(preview.masked)}")
    for note in preview.notes:
        print(f"注意：列“{note.column}”未导入，看起来是 {note.field}：{note.reason_zh} / warning: column "
              f"'{note.column}' is not imported although it looks like {note.field}")


def _summary_note(engine: sa.Engine) -> None:
    """The region tables read a per-county daily summary that metrics/ keeps (docs/contract/county-day-summary.md);
    this program does not load metrics/, so it says how to bring it up to date."""
    if not case_write_hooks():
        print("提示：按县按日汇总表将在看板下次打开时自动更新，也可运行 python -m metrics summary 立即更新"
              "（更新前各表逐件计算，数字相同、速度较慢） / the per-county daily summary is rebuilt by the dashboard's next run, "
              "or now by `python -m metrics summary` (until then tables scan the cases: same numbers, slower)")


def cmd_import_complaints(engine: sa.Engine, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"找不到文件 / file not found: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    report = import_complaints_file(engine, args.file, actor=_cli_actor(), check=args.check, header_row=args.header_row,
                                    sheet=args.sheet)
    if report.skipped_rows:
        rows = "、".join(str(r) for r in report.skipped_rows)
        print(f"表头在第 {report.header_row} 行，已跳过其上的第 {rows} 行 / header on row {report.header_row}, skipped rows {rows}")
    if not report.written:
        print(f"校验通过：12388来电投诉 {report.rows} 件，未写入数据库 / check passed: {report.rows} complaints, nothing written")
        return EXIT_OK
    print(f"已导入12388来电投诉 {report.rows} 件 / imported {report.rows} complaints")
    if report.dropped_columns:
        names = ", ".join(report.dropped_columns)
        print(f"已丢弃未知列（含来电人身份信息，未保存）/ dropped unknown columns (not stored): {names}")
    return EXIT_OK


def cmd_demo(engine: sa.Engine, args: argparse.Namespace) -> int:
    ensure_initialized(engine)
    if args.remove:
        removed = remove_demo_cases(engine, actor=_cli_actor())
        left = case_count(engine)
        print(f"已删除演示数据 {removed} 件，库中还有真实案件 {left} 件 / removed {removed} demo cases, {left} cases left"
              if removed else f"库中没有演示数据 / no demo cases in the database ({left} cases)")
        if removed:
            _summary_note(engine)
        return EXIT_OK
    report = load_demo(engine, args.cases, args.seed, args.end_date or dt.date.today(), _progress("生成演示数据"),
                       actor=_cli_actor(), accept_orphans=args.accept_orphans)
    print(f"已生成演示数据 {report.rows} 件 / generated {report.rows} demo cases")
    if report.orphans.total:
        print(f"已按确认保留、现已无对应案件：{report.orphans.phrase()} / kept {report.orphans.total} ledger item(s) and "
              "complaint(s) whose case the demo data replaced")
    _summary_note(engine)
    return EXIT_OK


USER_DESCRIPTION = """\
本地登录用户（未配置 OIDC 时使用） / local users, for login without an OIDC provider.

  add NAME --role province|city|county --region CODE   新增用户 / add a user
  disable NAME | enable NAME                           停用、启用（启用同时解除锁定） / disable, enable (and unlock)
  passwd NAME                                          重设密码（同时解除锁定） / set a new password (and unlock)
  list                                                 列出用户（不含密码） / list users (no password hashes)

角色与地区 / roles and regions: province — the province code or none (whole province);
city — a city code (sees its counties); county — a county code.
密码 / password: at least 10 characters, from stdin with --password-stdin, else asked twice on the terminal.
Every change is written to the audit log (action user_admin).
Exit status: 0 success, 1 bad data (unknown region, weak password, duplicate or unknown user), 2 bad usage.
"""


def _add_user_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], db_help: str) -> None:
    p_user = sub.add_parser("user", help="manage local users (add, disable, enable, passwd, list)",
                            description=USER_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p_user.add_subparsers(dest="user_command", required=True)
    stdin_help = "read the password from the first line of standard input"

    p_add = actions.add_parser("add", help="add a user")
    p_add.add_argument("name")
    p_add.add_argument("--role", required=True, choices=[r.value for r in auth.Role])
    p_add.add_argument("--region", default=None, help="region code (city: a city, county: a county; province: optional)")
    p_add.add_argument("--display-name", default=None, help="name shown in the dashboard (default: NAME)")
    p_add.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p_add.add_argument("--db", help=db_help)

    for name, text in (("disable", "refuse further logins of a user"), ("enable", "allow a user again, clearing a lock-out")):
        p = actions.add_parser(name, help=text)
        p.add_argument("name")
        p.add_argument("--db", help=db_help)

    p_pass = actions.add_parser("passwd", help="set a user's password (clears a lock-out)")
    p_pass.add_argument("name")
    p_pass.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p_pass.add_argument("--db", help=db_help)

    p_list = actions.add_parser("list", help="list users")
    p_list.add_argument("--db", help=db_help)


def cmd_user(engine: sa.Engine, args: argparse.Namespace) -> int:
    auth.ensure_auth_tables(engine)
    if args.user_command == "list":
        return _list_users(engine)
    try:
        password = _read_password(args.password_stdin) if args.user_command in ("add", "passwd") else ""
        if password is None:
            return EXIT_USAGE
        if args.user_command == "add":
            who = auth.add_user(engine, args.name, password, args.role, args.region, args.display_name)
            detail = f"user add {who.username} role={who.role.value} region={who.region_code or '-'}"
        elif args.user_command == "passwd":
            auth.set_password(engine, args.name, password)
            detail = f"user passwd {args.name.strip().lower()}"
        else:
            (auth.disable_user if args.user_command == "disable" else auth.enable_user)(engine, args.name)
            detail = f"user {args.user_command} {args.name.strip().lower()}"
    except auth.UserRejected as exc:
        print(f"{exc.message_zh} / {exc.message_en}", file=sys.stderr)
        return EXIT_BAD_DATA
    print(f"完成 / done: {detail}")
    if not audit.record(engine, _cli_actor(), audit.AuditAction.USER_ADMIN, detail):
        print("警告：审计记录未写入 / warning: the audit row was not written", file=sys.stderr)
    return EXIT_OK


def _read_password(from_stdin: bool) -> str | None:
    """The new password: stdin's first line, or typed twice on a terminal; None when neither is possible."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("标准输入不是终端：请用 --password-stdin 传入密码 / stdin is not a terminal: use --password-stdin",
              file=sys.stderr)
        return None
    first = getpass.getpass("新密码 / new password: ")
    if getpass.getpass("再次输入 / repeat: ") != first:
        raise auth.UserRejected("两次输入的密码不一致", "the two passwords differ")
    return first


def _cli_actor() -> str:
    """The audit log's username for command-line changes: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:  # no login name in the environment (some containers)
        return "cli"


def _list_users(engine: sa.Engine) -> int:
    frame = auth.list_users(engine)
    if frame.empty:
        print("尚无用户 / no users")
        return EXIT_OK
    table = pd.DataFrame({
        "username": frame["username"],
        "role": [f"{r} {auth.Role(r).label}" for r in frame["role"]],
        "region": [f"{c} {n or ''}".strip() if c else "全省 / whole province"
                   for c, n in zip(frame["region_code"], frame["region_name"], strict=True)],
        "disabled": ["yes" if d else "no" for d in frame["disabled"]],
        "locked": [f"until {u:%Y-%m-%d %H:%M}" if lk else "no" for lk, u in zip(frame["locked"], frame["locked_until"], strict=True)],
        "created": [f"{c:%Y-%m-%d %H:%M}" for c in frame["created_at"]],
    })
    with pd.option_context("display.unicode.east_asian_width", True):
        print(table.to_string(index=False))
    return EXIT_OK


BACKUP_WHILE_RUNNING = ("看板运行时备份内嵌数据库：请省级用户在看板“数据”页点“立即备份”（写入同一备份文件夹），"
                        "或停止看板后再运行本命令 / to back up the embedded database while the dashboard runs, use the "
                        "立即备份 button of its 数据 page (province users), or stop the dashboard first")


def _positive(text: str) -> int:
    """argparse type for --keep: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number of at least 1: {text!r}")
    return int(text)


def _add_backup_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], db_help: str) -> None:
    p_backup = sub.add_parser("backup", help="write one consistent snapshot of every table (Parquet + manifest)")
    p_backup.add_argument("--db", help=db_help)
    p_backup.add_argument("--out", type=Path, default=None,
                          help=f"folder to write the backup into, as a new sub-folder (default: ${backup.BACKUP_DIR_VARIABLE}, "
                               "then data/backups) / 备份文件夹")
    p_backup.add_argument("--keep", type=_positive, default=None,
                          help="afterwards keep only the newest N backups of that folder / 只保留最近 N 份")
    p_restore = sub.add_parser("restore", help="load a backup into an empty database (any engine)")
    p_restore.add_argument("--db", help=db_help)
    p_restore.add_argument("folder", type=Path, help="the backup's folder (petition-backup-…) / 备份文件夹")


def cmd_backup(engine: sa.Engine, args: argparse.Namespace) -> int:
    out = args.out or backup.default_backup_dir()
    try:
        report = backup.take_backup(engine, out, _cli_actor(), keep=args.keep)
    except sa.exc.OperationalError as exc:
        if (held := file_held_message(exc)) is None:
            raise
        print(f"{held}\n{BACKUP_WHILE_RUNNING}", file=sys.stderr)
        return EXIT_BAD_DATA
    except OSError as exc:
        print(f"无法写入备份文件夹 / cannot write the backup folder {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    manifest = report.manifest
    print(f"已备份 {len(manifest.tables)} 张表、{manifest.rows:,} 行（{report.seconds:.1f} 秒）/ backed up "
          f"{len(manifest.tables)} tables, {manifest.rows:,} rows in {report.seconds:.1f} s: {report.folder}")
    for folder in report.pruned:
        print(f"已删除较早的备份 / removed an older backup: {folder}")
    return EXIT_OK


def cmd_restore(engine: sa.Engine, args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        print(f"找不到备份文件夹 / backup folder not found: {args.folder}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = backup.restore_backup(engine, args.folder, _cli_actor())
    except backup.BadBackup as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_DATA
    except backup.TargetNotEmpty as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    manifest = report.manifest
    print(f"已恢复 {len(manifest.tables)} 张表、{manifest.rows:,} 行（备份于 {manifest.taken_at}，{manifest.engine}；"
          f"{report.seconds:.1f} 秒）到 {describe_url(engine)} / restored {manifest.rows:,} rows")
    return EXIT_OK


COMMANDS = {"init": cmd_init, "import": cmd_import, "import-complaints": cmd_import_complaints, "demo": cmd_demo,
            "user": cmd_user, "backup": cmd_backup, "restore": cmd_restore}


def open_engine(url: str | None) -> sa.Engine | None:
    """The engine for --db (or its defaults); None, with a message on stderr, for an invalid URL."""
    try:
        return make_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        print(f"数据库地址无效 / invalid database URL: {exc}", file=sys.stderr)
        return None


def reading_failed(exc: sa.exc.OperationalError | sa.exc.ProgrammingError) -> int:
    """Say on stderr why a reading command (metrics, reports) failed on the database; its exit status:
    1 when the database file is held by another process, 2 otherwise (no tables: run init first)."""
    if (held := file_held_message(exc)) is not None:
        print(held, file=sys.stderr)
        return EXIT_BAD_DATA
    print(f"数据库错误（是否已运行 python -m data_access init？）/ database error (run init first?): {exc.orig}",
          file=sys.stderr)
    return EXIT_USAGE


def run_as_script(main: Callable[[], int]) -> NoReturn:
    """Exit with `main()`'s status, printing UTF-8; a closed pipe (`| head`) is not an error of ours."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = EXIT_OK
    sys.exit(status)


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    if (engine := open_engine(args.db)) is None:
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](engine, args)
    except DataRejected as exc:
        print("\n" + exc.summary(), file=sys.stderr)
        return EXIT_BAD_DATA
    except sa.exc.OperationalError as exc:
        if (held := file_held_message(exc)) is not None:
            print(held, file=sys.stderr)
            return EXIT_BAD_DATA
        print(f"无法连接或操作数据库 / database error: {exc.orig}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        engine.dispose()
