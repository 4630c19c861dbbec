"""12388 来电投诉 in figures (docs/contract/hotline-complaints.md): the complaints of a month's 通报 per region
by kind and where the monthly cycle stands (notified, answered 属实 / 不属实, answers missing after the deadline,
抽查 drawn and found untrue, items opened), the months' trend, and complaints per 100 cases received.

A month's figures are those of its notice: notice_complaints is the one list every surface shows and counts
(page, KPIs, the pack's documents, the command line); month_counts and month_series tally it. A notice holds a
few hundred complaints, so the rows are read and tallied here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope, require_scope
from data_access.reference.enums import ComplaintKind, Feedback, Level, SpotCheckResult
from data_access.store.engine import connect, result_frame
from data_access.store.schema import hotline_complaints, regions
from data_access.supervision import hotline
from data_access.supervision.document_register import DocumentKind, latest
from data_access.supervision.hotline_settings import DEFAULT_HOTLINE_SETTINGS, HotlineSettings

from .caselists import disputed_cases, overdue_first_reports
from .compiler import group_key, in_subtree, region_map
from .priority import PriorityStatus, priority_list, priority_window
from .request import Period, TableRequest
from .settings import DEFAULT_SETTINGS, Settings
from .table import region_table

KIND_COLUMNS = tuple(k.value for k in ComplaintKind)  # slow, result, no_feedback, other
CYCLE_COLUMNS = ("notified", "answered", "confirmed", "denied", "missing", "drawn", "checked", "check_false", "items")
COUNT_COLUMNS = ("complaints", "late", *KIND_COLUMNS, *CYCLE_COLUMNS)  # late: 逾期补录, joined from an earlier month
MONTH_COLUMNS = ("code", "name", *COUNT_COLUMNS)
LABELS = {"complaints": "来电投诉", "late": "其中逾期补录", "slow": ComplaintKind.SLOW.label, "result": ComplaintKind.RESULT.label,
          "no_feedback": ComplaintKind.NO_FEEDBACK.label, "other": ComplaintKind.OTHER.label, "notified": "已通报",
          "answered": "已反馈", "confirmed": "反馈属实", "denied": "反馈不属实", "missing": "逾期未反馈", "drawn": "抽查",
          "checked": "已抽查", "check_false": "抽查发现反馈不实", "items": "挂账督办", "confirmed_share": "属实占比",
          "per_100": "每百件收件来电投诉"}

c = hotline_complaints.c


def _frame(conn: sa.Connection, query: sa.Executable) -> pd.DataFrame:
    result = conn.execute(query)
    return result_frame(result)


def notice_complaints(engine: sa.Engine | sa.Connection, month: str, *, scope: Scope, parent: str | None = None,
                      today: dt.date | None = None) -> pd.DataFrame:
    """The complaints of the 通报 of `month` (YYYY-MM) in `scope` under `parent`: the one list every surface shows,
    counts and marks.

    Which (data_access.supervision.hotline.NoticeMonth): once the month's notice is issued, exactly the complaints it marked;
    before, those it would mark now — every complaint not yet notified received by the month's end: the month's
    own, and those of earlier months imported after their month's notice (`late`, 逾期补录).
    As of: the month is read as of its last day, or `today` (default: the real date) while it runs; no sidebar
    period enters. The cycle columns (feedback, 抽查, items) are as they stand now: the table keeps no history.
    Columns: the table's, city_code, late; by received_date, then complaint_id. CycleRefused for a month not begun.
    """
    with connect(engine) as conn:
        notices = hotline.notice_months(conn, [month], today or dt.date.today())
        return _notice_rows(conn, notices, scope, parent).drop(columns="month")


def notice_issued(engine: sa.Engine | sa.Connection, month: str, today: dt.date | None = None) -> bool:
    """Whether the 通报 of `month` has been issued (its list is then fixed: see notice_complaints)."""
    with connect(engine) as conn:
        return hotline.notice_month(conn, month, today or dt.date.today()).issued


def _notice_rows(conn: sa.Connection, notices: list[hotline.NoticeMonth], scope: Scope, parent: str | None) -> pd.DataFrame:
    """The complaints of each notice (a column `month` naming it) in one statement: notice_complaints' rows."""
    rmap = region_map()
    selects = [sa.select(hotline_complaints, rmap.c.city_code, notice.late().label("late"),
                         sa.literal(notice.month, sa.String).label("month"))
               .select_from(hotline_complaints.join(rmap, rmap.c.county_code == c.county_code))
               .where(notice.condition(), in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code))
               for notice in notices]
    union = sa.union_all(*selects).subquery("notices") if len(selects) > 1 else selects[0].subquery("notices")
    frame = _frame(conn, sa.select(union).order_by(union.c.month, union.c.received_date, union.c.complaint_id))
    return frame.assign(late=frame["late"].astype(bool)).reset_index(drop=True)


def _units(conn: sa.Connection, level: Level, scope: Scope, parent: str | None) -> pd.DataFrame:
    """county_code -> code, name of its region at `level`, for every county under `parent` within `scope`."""
    rmap = region_map()
    key = group_key(rmap, level)
    query = (sa.select(rmap.c.county_code, key.label("code"), regions.c.name)
             .select_from(rmap.join(regions, regions.c.code == key))
             .where(in_subtree(rmap, parent), in_subtree(rmap, require_scope(scope).code)))
    return _frame(conn, query)


def feedback_deadlines(conn: sa.Connection, months: Collection[str], settings: HotlineSettings) -> dict[str, dt.date]:
    """The day by which cities answer the 通报 of each month: the deadline its issued documents state (the 文号
    register, the month's latest summary), else, for a month issued without the register (the demo's, earlier
    ones), the settings' day of the next month."""
    stated = latest(conn, DocumentKind.HOTLINE_SUMMARY, sorted(months))
    return {m: d.reply_due if (d := stated.get(m)) is not None and d.reply_due else settings.feedback_due(m) for m in months}


def _deadlines(conn: sa.Connection, rows: pd.DataFrame, settings: HotlineSettings) -> dict[str, dt.date]:
    """feedback_deadlines of the months the rows were notified in."""
    return feedback_deadlines(conn, {str(m) for m in rows["notified_month"].dropna().unique()}, settings)


def _tally(rows: pd.DataFrame, by: str, groups: list[str], today: dt.date, deadlines: Mapping[str, dt.date]) -> pd.DataFrame:
    """The kind and cycle counts of `rows` per value of column `by` (one row per member of `groups`, zeros where
    none): as they stand `today` — a missing answer is notified, unanswered, and past its month's deadline."""
    notified = rows["notified_month"].notna()
    answered = rows["feedback"].notna()
    overdue = notified & ~answered & rows["notified_month"].map(
        lambda m: pd.notna(m) and today > deadlines[str(m)]).astype(bool)
    flags = pd.DataFrame({
        by: rows[by], "complaints": 1, "late": rows["late"].astype(bool), **{k: rows["kind"] == k for k in KIND_COLUMNS},
        "notified": notified, "answered": answered, "confirmed": rows["feedback"] == Feedback.TRUE.value,
        "denied": rows["feedback"] == Feedback.UNTRUE.value, "missing": overdue,
        "drawn": rows["spot_check_draw"].notna(), "checked": rows["spot_check_result"].notna(),
        "check_false": rows["spot_check_result"] == SpotCheckResult.FALSE.value,
        "items": rows["supervision_item_id"].notna()}, index=rows.index)
    counted = flags.groupby(by).sum(numeric_only=True).reindex(groups, fill_value=0)
    return counted.reset_index(names=by).astype(dict.fromkeys(COUNT_COLUMNS, "int64"))


def month_before(month: str) -> str:
    """2026-01 -> 2025-12."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def last_month_answers(engine: sa.Engine | sa.Connection, month: str, dated: dt.date,
                       hotline_settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS, *,
                       scope: Scope = WHOLE_PROVINCE) -> pd.DataFrame:
    """The cities' answers to the 通报 of the month before `month` and its 抽查, as they stand on the 成文日期
    `dated`, in `scope` (month_counts at city level: notified, answered, confirmed, denied, missing, drawn,
    checked, check_false, items)."""
    return month_counts(engine, month_before(month), Level.CITY, scope=scope, today=dated,
                        settings=hotline_settings)


def month_counts(engine: sa.Engine | sa.Connection, month: str, level: Level, *, scope: Scope, parent: str | None = None,
                 today: dt.date | None = None, settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> pd.DataFrame:
    """One row per region of `level` (under `parent`, within `scope`; every such region, none left out) with the
    complaints of the month's notice (notice_complaints) by kind and the cycle counts as they stand `today`;
    sorted by code."""
    today = today or dt.date.today()
    with connect(engine) as conn:
        rows = notice_complaints(conn, month, scope=scope, parent=parent, today=today)
        units = _units(conn, level, scope, parent)
        deadlines = _deadlines(conn, rows, settings)
    return _by_region(rows, units, today, deadlines)


def _by_region(rows: pd.DataFrame, units: pd.DataFrame, today: dt.date, deadlines: Mapping[str, dt.date]) -> pd.DataFrame:
    """The tally of a notice's rows per region of `units` (from _units): code, name, the counts, 属实占比."""
    names = units.drop_duplicates("code").sort_values("code")
    region_of = dict(zip(units["county_code"], units["code"], strict=True))
    counted = _tally(rows.assign(code=rows["county_code"].map(region_of)), "code", list(names["code"]), today, deadlines)
    out = names[["code", "name"]].merge(counted, on="code", how="left")
    return _with_share(out[list(MONTH_COLUMNS)].reset_index(drop=True))


def _with_share(frame: pd.DataFrame) -> pd.DataFrame:
    """属实占比 = confirmed / answered (empty when nothing was answered)."""
    answered = frame["answered"].where(frame["answered"] > 0)
    return frame.assign(confirmed_share=frame["confirmed"] / answered)


def month_series(engine: sa.Engine | sa.Connection, last_month: str, months: int, *, scope: Scope,
                 parent: str | None = None, today: dt.date | None = None,
                 settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS) -> pd.DataFrame:
    """One row per month of the `months` months ending with `last_month` (months without a complaint too): month
    (YYYY-MM), the complaints of its notice (notice_complaints) by kind, the cycle counts and 属实占比, within
    `scope` under `parent`. A month not yet notified counts what its notice would take now; a month not begun
    counts nothing."""
    labels = _months_back(last_month, months)
    today = today or dt.date.today()
    begun = [m for m in labels if hotline.month_bounds(m)[0] <= today]
    with connect(engine) as conn:
        rows = _notice_rows(conn, hotline.notice_months(conn, begun, today), scope, parent) if begun else _NO_ROWS
        deadlines = _deadlines(conn, rows, settings)
    return _with_share(_tally(rows, "month", labels, today, deadlines))


_NO_ROWS = pd.DataFrame(columns=[*(col.name for col in hotline_complaints.columns), "city_code", "late", "month"])


def _months_back(last_month: str, months: int) -> list[str]:
    year, number = int(last_month[:4]), int(last_month[5:7])
    index = year * 12 + number - 1
    return [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index - months + 1, index + 1)]


def complaints_per_100(engine: sa.Engine | sa.Connection, level: Level, period: Period, *, scope: Scope,
                       parent: str | None = None, settings: Settings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """code, complaints (received in the period's window), received (cases), per_100 (empty without cases):
    one row per region of `level` under `parent` within `scope`."""
    end = min(period.end, period.as_of_date)
    rmap = region_map()
    key = group_key(rmap, level).label("code")
    query = (sa.select(key, sa.func.count().label("complaints"))
             .select_from(hotline_complaints.join(rmap, rmap.c.county_code == c.county_code))
             .where(c.received_date >= period.start, c.received_date <= end, in_subtree(rmap, parent),
                    in_subtree(rmap, require_scope(scope).code))
             .group_by(key))
    with connect(engine) as conn:
        counts = _frame(conn, query)
        received = region_table(conn, TableRequest(level, period, parent=parent, metrics=("received",), scope=scope), settings)
    out = received[["code", "received"]].merge(counts, on="code", how="left")
    out["complaints"] = out["complaints"].fillna(0).astype("int64")
    out["per_100"] = out["complaints"] * 100 / out["received"].where(out["received"] > 0)
    return out[["code", "complaints", "received", "per_100"]]


@dataclass(frozen=True)
class CityNotice:
    """What one city's monthly 通报 holds: the complaints of the month's notice and its handling against the province."""

    code: str
    name: str
    counts: pd.Series  # the city's row of month_counts
    counties: pd.DataFrame  # month_counts of its counties (every county, complaints or not)
    handling: pd.Series  # HANDLING_METRICS of the city over the month
    complaints: pd.DataFrame  # NOTICE_COLUMNS: the list to answer (late: received in an earlier month, 逾期补录)

    @property
    def late(self) -> int:
        """How many of its complaints joined the notice late (逾期补录)."""
        return int(self.complaints["late"].sum())


@dataclass(frozen=True)
class CountyNotice:
    """What one priority county's point-to-point notice holds: case numbers only."""

    code: str
    name: str
    city_name: str
    overdue_first: pd.DataFrame  # case_id, received_date, due_date, days_overdue: metrics.caselists.overdue_first_reports
    disputed: pd.DataFrame  # case_id, closed_date: metrics.caselists.disputed_cases of the month (结而不服)


@dataclass(frozen=True)
class MonthlyFacts:
    """The month-end 通报 of the 12388 cycle: every figure and list of every recipient's document."""

    month: str
    start: dt.date
    end: dt.date  # the month's last day
    as_of: dt.date  # the month's last day, or the day the pack is made while the month runs: everything is read as of it
    feedback_due: dt.date  # the answers' deadline of the month's 通报 as issued (feedback_deadlines); a new issue states its own
    province_code: str
    province_name: str
    province: pd.Series  # HANDLING_METRICS of the province over the month
    province_counts: pd.Series  # the notice's complaints by kind, the whole province
    cities: pd.DataFrame  # month_counts of every city, with HANDLING_METRICS beside
    city_notices: tuple[CityNotice, ...]
    county_notices: tuple[CountyNotice, ...]  # the priority counties (重点督导) of the rolling window
    priority_window: Period
    issued: bool  # the month's notice was issued before: its list is fixed, and making the pack again marks nothing

    @property
    def complaint_ids(self) -> list[str]:
        """Every complaint the city notices list (what marking the month notified must mark)."""
        return [str(i) for n in self.city_notices for i in n.complaints["complaint_id"]]

    @property
    def late(self) -> int:
        """How many listed complaints joined the notice late (逾期补录)."""
        return sum(n.late for n in self.city_notices)


HANDLING_METRICS = ("received", "due", "on_time_rate", "first_due", "first_on_time_rate", "rated", "satisfaction_rate",
                    "overdue", "first_overdue", "closed", "disputed")
NOTICE_COLUMNS = ("complaint_id", "received_date", "county_code", "county_name", "kind", "case_id", "late")


def monthly_facts(engine: sa.Engine | sa.Connection, month: str, *, scope: Scope, settings: Settings = DEFAULT_SETTINGS,
                  hotline_settings: HotlineSettings = DEFAULT_HOTLINE_SETTINGS, today: dt.date | None = None) -> MonthlyFacts:
    """The facts of the month-end pack (the province's: scope must be the whole province), read as of the month's
    last day, or `today` (default: the real date) while the month runs: the complaints of its notice
    (notice_complaints), handling over the month, and each priority county's overdue first reports and 结而不服
    cases as the metrics layer lists them. CycleRefused for a month not begun."""
    if not require_scope(scope).is_whole_province:
        raise PermissionError("12388 月度通报由省级生成 / the monthly pack is the province's")
    today = today or dt.date.today()
    start, following = hotline.month_bounds(month)
    end = following - dt.timedelta(days=1)
    as_of = min(end, today)
    period = Period(start, end, as_of)
    window = priority_window(as_of, settings)
    with connect(engine) as conn:
        listed = notice_complaints(conn, month, scope=scope, today=today)
        province_code, province_name = conn.execute(
            sa.select(regions.c.code, regions.c.name).where(regions.c.level == Level.PROVINCE.value)).one()
        province = region_table(conn, TableRequest(Level.PROVINCE, period, metrics=HANDLING_METRICS, scope=scope), settings).iloc[0]
        city_rates = region_table(conn, TableRequest(Level.CITY, period, metrics=HANDLING_METRICS, scope=scope), settings)
        city_units, county_units = _units(conn, Level.CITY, scope, None), _units(conn, Level.COUNTY, scope, None)
        names = dict(conn.execute(sa.select(regions.c.code, regions.c.name)).all())
        ranked = priority_list(conn, as_of, scope=scope, settings=settings)
        chosen = ranked[ranked["status"] == PriorityStatus.PRIORITY.value]
        county_notices = tuple(_county_notice(conn, row.code, row.name, names.get(row.city_code, ""), period, scope, settings)
                               for row in chosen.itertuples())
        deadlines = feedback_deadlines(conn, {month, *(str(m) for m in listed["notified_month"].dropna().unique())},
                                       hotline_settings)
    cities = _by_region(listed, city_units, today, deadlines).merge(
        city_rates[["code", *HANDLING_METRICS]], on="code", how="left")
    city_of = dict(zip(city_units["county_code"], city_units["code"], strict=True))
    counties = _by_region(listed, county_units, today, deadlines)
    counties = counties.assign(city_code=counties["code"].map(city_of))
    listed = listed.assign(county_name=listed["county_code"].map(names), city_code=listed["county_code"].map(city_of))
    notices = tuple(
        CityNotice(str(row["code"]), str(row["name"]), row, counties[counties["city_code"] == row["code"]].reset_index(drop=True),
                   row[list(HANDLING_METRICS)], listed[listed["city_code"] == row["code"]][list(NOTICE_COLUMNS)].reset_index(drop=True))
        for _, row in cities.iterrows())
    totals = cities[["complaints", "late", *KIND_COLUMNS]].sum()
    issued = bool(listed["notified_month"].notna().any())
    return MonthlyFacts(month, start, end, as_of, deadlines[month], str(province_code), str(province_name),
                        province[list(HANDLING_METRICS)], totals, cities, notices, county_notices, window, issued)


def _county_notice(conn: sa.Connection, code: str, name: str, city_name: str, period: Period, scope: Scope,
                   settings: Settings) -> CountyNotice:
    """A priority county's notice: its overdue first reports at the as-of date and the month's 结而不服 cases, each
    list the metrics layer's own (the cases `first_overdue` and `disputed` count)."""
    overdue = overdue_first_reports(conn, code, period.as_of_date, scope=scope, settings=settings)
    disputed = disputed_cases(conn, period, scope=scope, parent=code, settings=settings)
    return CountyNotice(code, name, city_name, overdue[["case_id", "received_date", "due_date", "days_overdue"]],
                        disputed[["case_id", "closed_date"]])
