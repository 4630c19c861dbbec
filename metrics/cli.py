"""`python -m metrics table | priority | overdue | warnings | trends | signals | matters | analysis | summary`: the metrics
on the command line (`analysis`: every number of the situation report as JSON; the Word report itself and the weekly
pack are written by `python -m reports analysis | weekly`; `summary`: rebuild the per-county daily summary,
metrics/summary.py, after the case table was written by other means than the loader).

Output is UTF-8 CSV (header row, columns named as the metric ids, rates as decimals, empty when
the denominator is 0) or JSON (a list of objects, null for empty). Exit status: 0 success, 2 bad usage;
`summary --check` prints one line and exits 0 when the summary is current, 1 when it is stale.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from typing import TextIO

import pandas as pd
import sqlalchemy as sa

from data_access.cli import iso_date, open_engine, reading_failed
from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from data_access.store.changes import note_change
from data_access.store.config import SettingsError
from data_access.store.database import analyze_in
from data_access.store.engine import connect
from data_access.store.schema import cases

from . import summary
from .analysis import AnalysisFacts, UnknownRegion, analysis_facts
from .caselists import OverdueOrder, overdue_cases
from .matters import MATTER_BOOLEANS, MATTER_COLUMNS, repeat_matters
from .priority import PRIORITY_COLUMNS, priority_counties
from .registry import ALL_IDS
from .request import Period, TableRequest
from .settings import Settings, load_settings
from .signals import deterioration_signals
from .table import BadParent, check_parent, region_table
from .trends import TrendBy, trends
from .warnings import WARNING_COLUMNS, deadline_warnings

EXIT_OK, EXIT_STALE, EXIT_USAGE = 0, 1, 2
OVERDUE_CLI_COLUMNS = ("case_id", "county_code", "due_date", "days_overdue", "county_name", "city_code", "city_name",
                       "received_date", "is_first_report", "channel", "domain")

DESCRIPTION = """\
信访举报督导看板 指标工具 / metrics of the petition-and-report supervision dashboard (口径见 metrics.md).

  table     各地区指标表 / every metric for each region of a level
  priority  重点督导县排名 / priority-county ranking (funnel-plot tests)
  overdue   超期未办结清单 / overdue cases as of a date
  warnings  三色预警清单（红：已超期，黄：临期，绿） / open cases coloured by their deadline
  trends    形势分析：各地区按领域或渠道的收件集中度与升降 / received by region and domain or channel, and its change
  signals   变差信号：各县近 8 周按期办结率的控制图读数 / counties whose weekly on-time rate is getting worse (SPC)
  matters   越级重复举报专项治理：重复举报事项筛选（多年、多层、多头）/ repeat matters screened for the campaign
  analysis  形势分析报告的全部数字（JSON；报告本身：python -m reports analysis）/ every number of the situation report

Examples:
  python -m metrics table --level city --from 2024-01-01 --to 2024-06-30
  python -m metrics table --level county --parent 370800 --from 2024-01-01 --to 2024-03-31 --format json
  python -m metrics priority --from 2024-01-01 --to 2024-06-30 --as-of 2024-06-30
  python -m metrics overdue --as-of 2024-06-30 --parent 370100
  python -m metrics warnings --as-of 2024-06-30 --parent 370800 --format json
  python -m metrics trends --level county --by domain --from 2024-01-01 --to 2024-06-30 --parent 370800
  python -m metrics signals --as-of 2024-06-30
  python -m metrics matters --as-of 2024-06-30 --parent 370800
  python -m metrics analysis --from 2024-01-01 --to 2024-06-30 --region 370800
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m metrics", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    common.add_argument("--format", choices=("csv", "json"), default="csv")
    period = argparse.ArgumentParser(add_help=False)
    period.add_argument("--from", dest="start", type=iso_date, required=True, help="first day of the period")
    period.add_argument("--to", dest="end", type=iso_date, required=True, help="last day of the period")
    period.add_argument("--as-of", dest="as_of", type=iso_date, help="read the data as at the end of this day (default: --to)")

    p_table = sub.add_parser("table", parents=[common, period], help="metrics per region")
    p_table.add_argument("--level", choices=[lv.value for lv in Level], required=True)
    p_table.add_argument("--parent", help="only regions under this code")
    sub.add_parser("priority", parents=[common, period], help="priority-county ranking")
    p_over = sub.add_parser("overdue", parents=[common], help="overdue cases as of a date")
    p_over.add_argument("--as-of", dest="as_of", type=iso_date, default=None, help="default: today")
    p_over.add_argument("--parent", help="only cases under this region code")
    p_warn = sub.add_parser("warnings", parents=[common], help="open cases coloured red / yellow / green by their deadline")
    p_warn.add_argument("--as-of", dest="as_of", type=iso_date, default=None, help="default: today")
    p_warn.add_argument("--parent", help="only cases under this region code")
    p_trend = sub.add_parser("trends", parents=[common, period], help="received by region and domain or channel, and its change")
    p_trend.add_argument("--level", choices=[lv.value for lv in Level], required=True)
    p_trend.add_argument("--by", choices=[b.value for b in TrendBy], required=True)
    p_trend.add_argument("--parent", help="only regions under this code")
    p_sig = sub.add_parser("signals", parents=[common], help="counties whose weekly on-time rate is getting worse")
    p_sig.add_argument("--as-of", dest="as_of", type=iso_date, default=None, help="default: today")
    p_sig.add_argument("--parent", help="only counties under this region code")
    p_matters = sub.add_parser("matters", parents=[common], help="repeat matters (reported again and again) screened")
    p_matters.add_argument("--as-of", dest="as_of", type=iso_date, default=None, help="default: today")
    p_matters.add_argument("--parent", help="only matters whose latest report lies under this region code")
    p_analysis = sub.add_parser("analysis", parents=[period], help="every number of the situation report (JSON)")
    p_analysis.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    p_analysis.add_argument("--region", help="the city or county the report covers (default: the whole province)")
    p_summary = sub.add_parser("summary", help="rebuild the per-county daily summary from the case table (JSON report)")
    p_summary.add_argument("--db", help="SQLAlchemy URL (default: $DATABASE_URL, then data/petition.duckdb)")
    p_summary.add_argument("--check", action="store_true",
                           help="only check it against the case table now (a scan): exit 0 current, 1 stale, one line")
    return parser


def _period(args: argparse.Namespace) -> Period:
    if args.end < args.start:
        raise argparse.ArgumentTypeError(f"--to {args.end} is before --from {args.start}")
    return Period(args.start, args.end, args.as_of)


def run_table(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    request = TableRequest(Level(args.level), _period(args), parent=args.parent, scope=WHOLE_PROVINCE)
    frame = region_table(engine, request, args.settings)
    return frame[["code", "name", "level", *ALL_IDS]]


def run_priority(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    return priority_counties(engine, _period(args), scope=WHOLE_PROVINCE, settings=args.settings)[list(PRIORITY_COLUMNS)]


def run_overdue(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    with connect(engine) as conn:
        check_parent(conn, Level.COUNTY, args.parent)  # any region: the cases at or under it
    frame = overdue_cases(engine, args.as_of or dt.date.today(), parent=args.parent, scope=WHOLE_PROVINCE,
                          order=OverdueOrder.CASE_ID, settings=args.settings)
    return frame[list(OVERDUE_CLI_COLUMNS)]


def run_warnings(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    with connect(engine) as conn:
        check_parent(conn, Level.COUNTY, args.parent)  # any region: the cases at or under it
    try:
        frame = deadline_warnings(engine, args.as_of or dt.date.today(), parent=args.parent, scope=WHOLE_PROVINCE,
                                  settings=args.settings)
    except ValueError as exc:  # an as-of date outside the working-day calendar
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return frame.reindex(columns=list(WARNING_COLUMNS))


def run_trends(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    level = Level(args.level)
    with connect(engine) as conn:
        check_parent(conn, level, args.parent)
    return trends(engine, level, TrendBy(args.by), _period(args), parent=args.parent, scope=WHOLE_PROVINCE)


def run_signals(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    with connect(engine) as conn:
        check_parent(conn, Level.COUNTY, args.parent)
    return deterioration_signals(engine, args.as_of or dt.date.today(), parent=args.parent, scope=WHOLE_PROVINCE,
                                 settings=args.settings)


def run_matters(engine: sa.Engine, args: argparse.Namespace) -> pd.DataFrame:
    with connect(engine) as conn:
        check_parent(conn, Level.COUNTY, args.parent)  # any region: the matters whose latest report lies at or under it
    found = repeat_matters(engine, args.as_of or dt.date.today(), parent=args.parent, settings=args.settings)
    return pd.DataFrame([m.as_record() for m in found], columns=list(MATTER_COLUMNS))


def run_analysis(engine: sa.Engine, args: argparse.Namespace) -> dict[str, object]:
    try:
        facts = analysis_facts(engine, _period(args), scope=WHOLE_PROVINCE, region=args.region, settings=args.settings)
    except UnknownRegion as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return facts_document(facts)


def facts_document(facts: AnalysisFacts) -> dict[str, object]:
    """The report's facts as one JSON object: the windows, the region's figures, and each table as a list of rows."""
    def records(frame: pd.DataFrame) -> list[dict[str, object]]:
        return [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]

    return {"region": {"code": facts.region_code, "name": facts.region_name, "level": facts.region_level.value},
            "window": [d.isoformat() for d in facts.window], "previous_window": [d.isoformat() for d in facts.previous_window],
            "as_of": facts.period.as_of_date.isoformat(),
            "current": {k: _json_value(v) for k, v in facts.current.items()},
            "previous": {k: _json_value(v) for k, v in facts.previous.items()},
            "prior_window": [d.isoformat() for d in facts.prior_window],
            "prior": {k: _json_value(v) for k, v in facts.prior.items()},
            "year_ago_window": [d.isoformat() for d in facts.year_ago_window],
            "year_ago": {k: _json_value(v) for k, v in facts.year_ago.items()},
            "units": records(facts.units), "domains": records(facts.domains), "channels": records(facts.channels),
            "hot_spots": records(facts.hot_spots), "priority": records(facts.priority[list(PRIORITY_COLUMNS)]),
            "priority_window": [facts.priority_window.start.isoformat(), facts.priority_window.end.isoformat()],
            "signals": records(facts.signals)}


COMMANDS = {"table": run_table, "priority": run_priority, "overdue": run_overdue, "warnings": run_warnings,
            "trends": run_trends, "signals": run_signals, "matters": run_matters}
def run_summary(engine: sa.Engine, args: argparse.Namespace) -> dict[str, object]:
    """Rebuild the summary in one transaction, moving the data version (a hand rebuild follows a write the app
    did not make, so every cache reads anew); what was built and whether this engine reads it."""
    start = time.perf_counter()
    with engine.begin() as conn:
        analyze_in(conn, (cases,))  # after a source system's sync PostgreSQL may not have the cases' statistics yet
        rows = summary.rebuild(conn, args.settings)
        note_change(conn, "summary")
    with engine.connect() as conn:
        current = summary.is_current(conn, args.settings)
    return {"rows": rows, "seconds": round(time.perf_counter() - start, 3), "current": current,
            "read_by_this_engine": summary.reads_summary(engine)}


def check_summary(engine: sa.Engine, settings: Settings, out: TextIO) -> int:
    """`summary --check`, for cron after a source system's sync: one line, exit 0 when the summary is current (or
    this database never reads it), 1 when it is stale, with the reason."""
    with engine.connect() as conn:
        if not summary.applies(conn):
            out.write("current: 本数据库的地区表不读汇总表，直接统计案件 / this database's tables do not read the summary\n")
            return EXIT_OK
        found = summary.currency(conn, settings, max_age=0.0)
    if found.staleness is None:
        out.write(f"current: 按县按日汇总表与案件表一致（指纹 {found.fingerprint}）/ the summary matches the case table\n")
        return EXIT_OK
    out.write(f"stale ({found.staleness.value}): {found.staleness.label}；运行 python -m metrics summary 重建 / "
              "rebuild it with python -m metrics summary\n")
    return EXIT_STALE


DOCUMENTS = {"analysis": run_analysis, "summary": run_summary}  # one JSON object rather than a table
TEXT_BOOLEANS = {"trends": ("rising",), "matters": MATTER_BOOLEANS}  # written true / false in CSV (the spec's words), not 1 / 0


def settings_in_force() -> Settings | None:
    """The settings file's [metrics] section; None, with the reason on stderr, when it cannot be used."""
    try:
        return load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return None


def write(frame: pd.DataFrame, fmt: str, out: TextIO) -> None:
    """CSV with empty cells for nulls, or a JSON list with null; dates as ISO text."""
    if fmt == "csv":
        bools = frame.select_dtypes(include="bool").columns
        frame.astype(dict.fromkeys(bools, "int8")).to_csv(out, index=False, lineterminator="\n")
        return
    records = [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    json.dump(records, out, ensure_ascii=False, indent=1)
    out.write("\n")


def _json_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command, writing its table to `out` (default stdout); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if (settings := settings_in_force()) is None:
        return EXIT_USAGE
    args.settings = settings
    if (engine := open_engine(args.db)) is None:
        return EXIT_USAGE
    try:
        if args.command == "summary" and args.check:
            return check_summary(engine, settings, out)
        if args.command in DOCUMENTS:
            json.dump(DOCUMENTS[args.command](engine, args), out, ensure_ascii=False, indent=1)
            out.write("\n")
            return EXIT_OK
        frame = COMMANDS[args.command](engine, args)
    except (argparse.ArgumentTypeError, BadParent) as exc:
        parser.error(str(exc))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        return reading_failed(exc)
    finally:
        engine.dispose()
    if args.format == "csv":
        for column in TEXT_BOOLEANS.get(args.command, ()):
            frame[column] = frame[column].map({True: "true", False: "false"})
    write(frame, args.format, out)
    return EXIT_OK
