"""`python -m data_access init | import | demo`: the command line scripts and the weekly cron use.

Exit status: 0 success, 1 bad data (the report is printed), 2 bad usage.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from . import demo
from .database import ImportMode, county_frame, ensure_initialized, init_database, load_cases
from .engine import describe_url, make_engine
from .problems import DataRejected
from .importer import import_file
from .validate import ValidatedCases

EXIT_OK, EXIT_BAD_DATA, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
信访举报督导看板 数据工具 / data tools of the petition-and-report supervision dashboard.

  init    建表并载入地区表（默认山东省） / create the tables and load the region tree
  import  导入案件文件（CSV/XLSX/Parquet），全部成功或全部不写入 / import a case file, all-or-nothing
  demo    生成演示数据（替换现有案件） / generate synthetic demo cases (replaces the case table)

数据库 / database: --db URL, else $DATABASE_URL, else the embedded DuckDB file data/petition.duckdb.
Examples:
  python -m data_access init --db postgresql+psycopg://user@host/db
  python -m data_access import cases_2024.xlsx --upsert
  python -m data_access demo --cases 1000000 --seed 7 --end-date 2026-11-22
Exit status: 0 success, 1 bad data (every problem is listed with row, column and value), 2 bad usage.
"""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its three sub-commands."""
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

    p_demo = sub.add_parser("demo", help="generate synthetic demo cases (replaces the case table)")
    p_demo.add_argument("--db", help=db_help)
    p_demo.add_argument("--cases", type=int, default=None, help="number of cases (default: a real province's 2.5 years)")
    p_demo.add_argument("--seed", type=int, default=20240101)
    p_demo.add_argument("--end-date", type=_date, default=None, help="last received date (default: today)")
    return parser


def _progress(label: str):
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
    report = import_file(engine, args.file, mode, progress=_progress(f"导入 {args.file.name}"))
    print(f"已导入 {report.rows} 件（模式 {report.mode}）/ imported {report.rows} cases (mode {report.mode})")
    if report.replaced:
        print(f"替换 {report.replaced} 件 / replaced {report.replaced}")
    if report.dropped_columns:
        names = ", ".join(report.dropped_columns)
        print(f"已丢弃未知列（未保存）/ dropped unknown columns (not stored): {names}")
    return EXIT_OK


def cmd_demo(engine: sa.Engine, args: argparse.Namespace) -> int:
    ensure_initialized(engine)
    report = load_demo(engine, args.cases, args.seed, args.end_date or dt.date.today(), _progress("生成演示数据"))
    print(f"已生成演示数据 {report.rows} 件 / generated {report.rows} demo cases")
    return EXIT_OK


def load_demo(engine: sa.Engine, n_cases: int | None, seed: int, end_date: dt.date, progress=None):
    """Generate demo cases for the database's counties and replace the case table with them."""
    counties = county_frame(engine)
    n = n_cases if n_cases is not None else demo.default_case_count(len(counties))
    table = demo.generate_cases(counties, n, seed, end_date, progress=progress)
    validated = ValidatedCases(table=table, rows=np.arange(table.num_rows) + 2)
    return load_cases(engine, validated, ImportMode.REPLACE, source=f"demo seed={seed} end={end_date}", kind="demo")


COMMANDS = {"init": cmd_init, "import": cmd_import, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        engine = make_engine(args.db)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        print(f"数据库地址无效 / invalid database URL: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](engine, args)
    except DataRejected as exc:
        print("\n" + exc.summary(), file=sys.stderr)
        return EXIT_BAD_DATA
    except sa.exc.OperationalError as exc:
        print(f"无法连接或操作数据库 / database error: {exc.orig}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        engine.dispose()
