"""`python -m reports weekly | analysis | monthly | brief`: the weekly meeting pack (PPTX deck + XLSX ledger), the
situation report (DOCX), the month-end 12388 pack written into a folder, or the leaders' one-page brief (PDF or PNG).

Exit status: 0 success, 1 the pack could not be drawn (no CJK font) or written, or (monthly) the month's complaints
moved while its pack was made; 2 bad usage (a bad period or region, a month not begun). A refusal is one line on stderr.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from data_access.cli import iso_date, open_engine, reading_failed
from data_access.identity import audit
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.supervision import campaign
from data_access.supervision.document_register import DocumentRefused, Issued, issue
from data_access.supervision.hotline import CycleRefused, month_bounds
from data_access.supervision.hotline_settings import load_hotline_settings
from data_access.supervision.ledger import StaleStep
from metrics.analysis import UnknownRegion, analysis_facts
from metrics.brief import brief_facts
from metrics.campaign_week import NotACity, city_letter, matter_dossier
from metrics.cli import settings_in_force
from metrics.hotline import MonthlyFacts, monthly_facts
from metrics.periods import Preset, preset_period
from metrics.request import Period
from metrics.weekly import weekly_report
from presentation.bulletin import bulletin_draft
from presentation.documents import Issuance, load_document_settings, numbers_text
from presentation.situation import report_draft

from .analysis_report import write_analysis_report
from .brief import FORMATS as BRIEF_FORMATS
from .brief import write_brief
from .campaign_docs import build_dossier, build_letter, dossier_name, letter_draft, letter_name
from .charts import CJKFontMissing
from .monthly import issue_monthly_pack, last_month_answers, pack_dates, pack_of, write_monthly_pack
from .pack import PackPaths, write_pack

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
信访举报督导看板 文书工具 / documents of the petition-and-report supervision dashboard.

  weekly    周例会材料（PPTX 演示稿 + XLSX 台账 + DOCX 通报，通报取文号）/ the weekly meeting pack (deck, ledger and
            the issued 通报) into a folder
  analysis  形势分析报告（DOCX）/ the situation report of a period (half-year) into a folder
  monthly   12388 月度通报：各市通报、重点县点对点通报、全省汇总与台账，并将该月来电标记为已通报 /
            the month-end 12388 pack (a 通报 per city, a notice per priority county, the summary), marking the month notified
  brief     领导简报：总览的一页纸（核心指标、县域分布图、排名、三色预警、重点督导县），PDF 或 PNG /
            the leaders' one-page brief of the overview (A4 portrait, PDF or PNG)
  campaign-letter  越级重复举报专项治理交办函（DOCX，取文号）/ a city's letter listing its campaign matters
  matter-dossier   专项治理事项一案一档（DOCX）/ the file of one campaign matter

Examples:
  python -m reports weekly --as-of 2024-06-30 --out /srv/meetings     # cron: --as-of "$(date -d 'last sunday' +%F)"
  python -m reports analysis --from 2024-01-01 --to 2024-06-30 --out /srv/reports [--region 370800]
  python -m reports monthly --month 2024-06 --out /srv/12388
  python -m reports brief --as-of 2024-06-30 [--period last_month] [--region 370800] --out 简报.pdf
  python -m reports campaign-letter --city 370800 --as-of 2024-06-30 --out /srv/campaign [--check]
  python -m reports matter-dossier --matter DEMO-SX00012 --as-of 2024-06-30 --out /srv/campaign
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
    p_week.add_argument("--out", type=Path, required=True,
                        help="folder to write 周例会_D.pptx, 周例会台账_D.xlsx and 周例会通报_D.docx into")
    add_date_arguments(p_week, "the addressees' 整改 reports")
    add_analysis_parser(sub)
    p_month = sub.add_parser("monthly", help="the month-end 12388 pack (DOCX + XLSX); marks the month's complaints notified")
    p_month.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    p_month.add_argument("--month", type=month_text, required=True, help="YYYY-MM: the month whose complaints are notified")
    p_month.add_argument("--out", type=Path, required=True, help="folder to write the pack into")
    p_month.add_argument("--check", action="store_true",
                         help="write the files as a draft (numbers left blank): take no 文号 and mark nothing")
    add_date_arguments(p_month, "the cities' answers and the priority counties' reports")
    add_brief_parser(sub)
    add_campaign_parsers(sub)
    return parser


def add_campaign_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`campaign-letter` (a city's 交办函, numbered) and `matter-dossier` (a matter's 一案一档)."""
    letter = _campaign_parser(sub, "campaign-letter", "越级重复举报专项治理交办函 of a city (DOCX, takes a 文号)",
                              "专项治理交办函_<city>_<as-of>.docx")
    letter.add_argument("--city", required=True, help="the city's code (370800)")
    letter.add_argument("--check", action="store_true", help="write the letter as a draft (number left blank): take no 文号")
    add_date_arguments(letter, "the city's report on its 包案 and progress")
    dossier = _campaign_parser(sub, "matter-dossier", "一案一档 of a campaign matter (DOCX)", "一案一档_<matter>_<as-of>.docx")
    dossier.add_argument("--matter", required=True, help="the matter's key (事项编号) as the campaign enrolled it")
    dossier.add_argument("--date", type=iso_date, default=dt.date.today(), help="the date the file bears (default: today)")


def _campaign_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, what: str,
                     file_name: str) -> argparse.ArgumentParser:
    """A campaign sub-command with --db, --as-of (the campaign as it stands at the end of that day) and --out."""
    parser = sub.add_parser(name, help=what)
    parser.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    parser.add_argument("--as-of", dest="as_of", type=iso_date, required=True,
                        help="the campaign as it stands at the end of this day")
    parser.add_argument("--out", type=Path, required=True, help=f"folder to write {file_name} into")
    return parser


def add_brief_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `brief` sub-command: the 总览 of a region on one page, for the sidebar's period read at --as-of."""
    p = sub.add_parser("brief", help="the leaders' one-page brief of the overview (PDF or PNG)")
    p.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    p.add_argument("--as-of", dest="as_of", type=iso_date, required=True,
                   help="截止日期: the day the dashboard's sidebar reads the data at")
    presets = [preset.value for preset in Preset if preset is not Preset.CUSTOM]
    p.add_argument("--period", choices=presets, default=Preset.LAST_WEEK.value,
                   help="统计期 as the sidebar names it (default: last_week, the dashboard's default)")
    p.add_argument("--from", dest="start", type=iso_date, help="a period of one's own: its first day (with --to)")
    p.add_argument("--to", dest="end", type=iso_date, help="a period of one's own: its last day (with --from)")
    p.add_argument("--region", help="the city or county the brief covers (default: the whole province)")
    p.add_argument("--out", type=Path, required=True, help="the file to write: .pdf or .png")


def add_date_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """--date (成文日期, default today) and --due (the deadline the documents state, default working days from --date)."""
    parser.add_argument("--date", type=iso_date, default=dt.date.today(),
                        help="成文日期: the date the documents bear (default: today)")
    parser.add_argument("--due", type=iso_date,
                        help=f"答复/反馈期限: the day {what} are due (default: working days from --date, as the "
                             "[documents] settings say); not before --date")


def month_text(text: str) -> str:
    """A YYYY-MM month (argparse type)."""
    try:
        month_bounds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"月份应为 YYYY-MM / a month is YYYY-MM: {text!r}") from exc
    return text


def run_monthly(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Issue the month's pack (a 文号 for each document, the complaints it lists marked notified, the files written,
    all in one transaction) or, with --check, write it as a draft (numbers blank, nothing marked); print the paths.
    2 (one line) for a month not begun or a deadline before the date; 1 when the complaints moved meanwhile."""
    hotline_settings, documents = load_hotline_settings(), load_document_settings()
    dates = pack_dates(args.date, documents, args.due)
    try:
        facts = monthly_facts(engine, args.month, scope=WHOLE_PROVINCE, settings=args.settings,
                              hotline_settings=hotline_settings)
        if args.check:
            answers = last_month_answers(engine, args.month, dates.dated, hotline_settings)
            return _write_files(lambda: write_monthly_pack(pack_of(facts, dates, None, documents=documents,
                                                                    hotline_settings=hotline_settings, answers=answers),
                                                            args.out), out)
        _, issued, marked, paths = issue_monthly_pack(engine, audit.PROGRAM_ACTOR, facts, dates, documents=documents,
                                                      hotline_settings=hotline_settings,
                                                      write=lambda pack: write_monthly_pack(pack, args.out))
    except (CycleRefused, DocumentRefused) as refused:
        print(f"未生成 / refused: {refused}", file=sys.stderr)
        return EXIT_USAGE
    except StaleStep as moved:
        print(f"未标记 / not marked: {moved}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"无法写入输出目录，未发文 / cannot write into the folder, nothing issued: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(_marked_text(facts, marked), file=sys.stderr)
    print(f"文号 / numbers: {numbers_text(issued)}", file=sys.stderr)
    for path in paths or []:
        print(path, file=out)
    return EXIT_OK


def _marked_text(facts: MonthlyFacts, marked: int) -> str:
    """What marking the month did, in one line."""
    listed = len(facts.complaint_ids)
    if facts.issued:
        return (f"{facts.month} 已于此前通报（{listed} 件），本次重新发文（新文号，注明所替代的文号），未再标记 / "
                f"already notified ({listed} complaints): issued again under new numbers, nothing marked")
    late = f"（其中逾期补录 {facts.late} 件）" if facts.late else ""
    return f"已将 {facts.month} 通报的 {marked} 件来电{late}标记为已通报 / {marked} complaints marked notified"


def add_analysis_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `analysis` sub-command (also offered by `python -m metrics analysis`)."""
    p = sub.add_parser("analysis", help="situation report of a period (DOCX)")
    p.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    p.add_argument("--from", dest="start", type=iso_date, required=True, help="first day of the period")
    p.add_argument("--to", dest="end", type=iso_date, required=True, help="last day of the period")
    p.add_argument("--as-of", dest="as_of", type=iso_date, help="read the data as at the end of this day (default: --to)")
    p.add_argument("--region", help="the city or county the report covers (default: the whole province)")
    p.add_argument("--out", type=Path, required=True, help="folder to write 形势分析报告_<region>_<from>_<to>.docx into")
    p.add_argument("--date", type=iso_date, default=dt.date.today(), help="成文日期: the date the report bears (default: today)")


def _write_files(write: Callable[[], list[Path]], out: TextIO) -> int:
    """Run a writer and print the paths it wrote; 1 (the reason on stderr) when it cannot draw or write them."""
    try:
        paths = write()
    except UsageRefused as refused:
        print(f"未生成 / refused: {refused}", file=sys.stderr)
        return EXIT_USAGE
    except CJKFontMissing as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"无法写入输出目录 / cannot write into the folder: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    for path in paths:
        print(path, file=out)
    return EXIT_OK


def run_analysis(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Issue the situation report (a 文号 from the register, dated --date) and write it, in one transaction, and print
    its path; 2 for a bad period or region, 1 when it cannot be drawn or written (no number is then taken)."""
    if args.end < args.start:
        print(f"--to {args.end} 早于 --from {args.start} / --to is before --from", file=sys.stderr)
        return EXIT_USAGE
    try:
        facts = analysis_facts(engine, Period(args.start, args.end, args.as_of), scope=WHOLE_PROVINCE, region=args.region,
                               settings=args.settings)
    except UnknownRegion as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    documents = load_document_settings()
    draft = report_draft(documents, facts.region_code, facts.region_name, facts.region_level, args.start, args.end)

    def write() -> list[Path]:
        def written(conn: sa.Connection, issued: list[Issued]) -> Path:
            return write_analysis_report(facts, args.out, documents=documents, settings=args.settings,
                                         issuance=Issuance(args.date, issued[0].number))

        issued, path = issue(engine, audit.PROGRAM_ACTOR, [draft], args.date, record=written)
        assert path is not None
        print(f"文号 / number: {issued[0].number}", file=sys.stderr)
        return [path]

    return _write_files(write, out)


def run_weekly(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Issue the week's 通报 (a 文号 from the register, dated --date) and write the meeting pack with it, in one
    transaction, and print the paths; 2 for a deadline before the date, 1 when the pack cannot be drawn or written
    (no number is then taken)."""
    documents = load_document_settings()
    report = weekly_report(engine, args.as_of, scope=WHOLE_PROVINCE, settings=args.settings)
    due = args.due or documents.reply_due(args.date)

    def write() -> list[Path]:
        def written(conn: sa.Connection, issued: list[Issued]) -> PackPaths:
            return write_pack(report, args.out, documents, Issuance(args.date, issued[0].number, due))

        try:
            issued, paths = issue(engine, audit.PROGRAM_ACTOR, [bulletin_draft(report, documents, None, due)], args.date,
                                  record=written)
        except DocumentRefused as refused:
            raise UsageRefused(str(refused)) from refused
        assert paths is not None
        print(f"通报文号 / number: {issued[0].number}", file=sys.stderr)
        return [paths.deck, paths.workbook, paths.bulletin]

    return _write_files(write, out)


class UsageRefused(Exception):
    """A document refused for what the command line asked (a deadline before the date): exit 2, one line."""


def brief_period(args: argparse.Namespace) -> Period:
    """The period the sidebar would show: --period at --as-of, or --from..--to read at --as-of (UsageRefused when
    only one of them is given or --to is before --from)."""
    if args.start is None and args.end is None:
        return preset_period(Preset(args.period), args.as_of)
    if args.start is None or args.end is None:
        raise UsageRefused("--from 与 --to 须同时给出 / give both --from and --to")
    if args.end < args.start:
        raise UsageRefused(f"--to {args.end} 早于 --from {args.start} / --to is before --from")
    return preset_period(Preset.CUSTOM, args.as_of, (args.start, args.end))


def run_brief(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Write the brief of --region (default: the province) and print its path; 2 for a bad period, region or file
    type, 1 when it cannot be drawn or written."""
    if args.out.suffix.lower().lstrip(".") not in BRIEF_FORMATS:
        print(f"输出文件应以 .pdf 或 .png 结尾：{args.out} / --out must end in .pdf or .png", file=sys.stderr)
        return EXIT_USAGE
    try:
        period = brief_period(args)
        facts = brief_facts(engine, period, scope=WHOLE_PROVINCE, region=args.region, settings=args.settings,
                            priority_as_of=args.as_of)
    except (UsageRefused, UnknownRegion) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    return _write_files(lambda: [write_brief(facts, args.out)], out)


def run_campaign_letter(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Issue the city's 交办函 (a 文号 from the register, dated --date) and write it, in one transaction, or with --check
    write its draft; print the path. 2 for a code that is no city."""
    try:
        letter = city_letter(engine, args.city, args.as_of, scope=WHOLE_PROVINCE, settings=args.settings)
    except NotACity as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    documents = load_document_settings()
    due = args.due or documents.reply_due(args.date)

    def save(issuance: Issuance) -> Path:
        args.out.mkdir(parents=True, exist_ok=True)
        path: Path = args.out / letter_name(letter)
        path.write_bytes(build_letter(letter, documents, issuance))
        return path

    def write() -> list[Path]:
        if args.check:
            return [save(Issuance(args.date, None, due))]
        try:
            issued, path = issue(engine, audit.PROGRAM_ACTOR, [letter_draft(letter, documents, "全省", due)], args.date,
                                 record=lambda conn, numbers: save(Issuance(args.date, numbers[0].number, due)))
        except DocumentRefused as refused:
            raise UsageRefused(str(refused)) from refused
        assert path is not None
        print(f"文号 / number: {issued[0].number}（{len(letter.matters)} 件事项 / matters）", file=sys.stderr)
        return [path]

    return _write_files(write, out)


def run_matter_dossier(engine: sa.Engine, args: argparse.Namespace, out: TextIO) -> int:
    """Write the 一案一档 of the campaign matter --matter as it stood at --as-of; print the path. 2 for a matter not in
    the campaign by then."""
    enrolled = campaign.matters(engine, WHOLE_PROVINCE, args.as_of)
    found = enrolled[enrolled["matter"] == args.matter] if not enrolled.empty else enrolled
    dossier = matter_dossier(engine, str(found["id"].iloc[0]), args.as_of, scope=WHOLE_PROVINCE,
                             settings=args.settings) if not found.empty else None
    if dossier is None:
        print(f"事项 {args.matter} 截至 {args.as_of} 未纳入专项治理 / not in the campaign by then", file=sys.stderr)
        return EXIT_USAGE

    def write() -> list[Path]:
        args.out.mkdir(parents=True, exist_ok=True)
        path: Path = args.out / dossier_name(dossier)
        path.write_bytes(build_dossier(dossier, load_document_settings(), dated=args.date))
        return [path]

    return _write_files(write, out)


RUNNERS = {"weekly": run_weekly, "analysis": run_analysis, "monthly": run_monthly, "brief": run_brief,
           "campaign-letter": run_campaign_letter, "matter-dossier": run_matter_dossier}


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    if (settings := settings_in_force()) is None:
        return EXIT_USAGE
    args.settings = settings
    if getattr(args, "due", None) is not None and args.due < args.date:
        print(f"--due {args.due} 早于成文日期 --date {args.date}，未生成 / the deadline is before the document's date",
              file=sys.stderr)
        return EXIT_USAGE
    if (engine := open_engine(args.db)) is None:
        return EXIT_USAGE
    try:
        return RUNNERS[args.command](engine, args, out or sys.stdout)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        return reading_failed(exc)
    finally:
        engine.dispose()
