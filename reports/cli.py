"""`python -m reports weekly`: the weekly meeting pack (PPTX deck + XLSX ledger) written into a folder.

Exit status: 0 success, 1 the pack could not be drawn (no CJK font) or written, 2 bad usage.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from data_access.cli import iso_date, open_engine, reading_failed
from data_access.scope import WHOLE_PROVINCE
from metrics.cli import settings_in_force
from metrics.weekly import weekly_report

from .charts import CJKFontMissing
from .pack import write_pack

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
信访举报督导看板 文书工具 / documents of the petition-and-report supervision dashboard.

  weekly    周例会材料（PPTX 演示稿 + XLSX 台账）/ the weekly meeting pack (deck and ledger) into a folder

Example:
  python -m reports weekly --as-of 2024-06-30 --out /srv/meetings     # cron: --as-of "$(date -d 'last sunday' +%F)"
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m reports", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_week = sub.add_parser("weekly", help="weekly meeting pack (PPTX + XLSX)")
    p_week.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    p_week.add_argument("--as-of", dest="as_of", type=iso_date, required=True,
                        help="this week is the Monday-Sunday week holding this date, read as of it")
    p_week.add_argument("--out", type=Path, required=True, help="folder to write 周例会_D.pptx and 周例会台账_D.xlsx into")
    return parser


def run_weekly(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Write the weekly meeting pack and print the two paths; 1 when it cannot be drawn or written."""
    try:
        paths = write_pack(weekly_report(engine, args.as_of, scope=WHOLE_PROVINCE, settings=args.settings), args.out)
    except CJKFontMissing as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"无法写入输出目录 / cannot write the pack: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(paths.deck, file=out)
    print(paths.workbook, file=out)
    return EXIT_OK


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    if (settings := settings_in_force()) is None:
        return EXIT_USAGE
    args.settings = settings
    if (engine := open_engine(args.db)) is None:
        return EXIT_USAGE
    try:
        return run_weekly(engine, args, out or sys.stdout)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        return reading_failed(exc)
    finally:
        engine.dispose()
