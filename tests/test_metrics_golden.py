"""The golden reference (tests/data/golden, a copy of the shared one) reproduced exactly, on every backend, by the API and the command line.

The expected files were computed by an independent implementation of metrics.md. Counts must match
exactly, rates / averages / z within 1e-9, an empty expected cell must be null (NaN) here, and
status strings must be equal. The row sets (region codes, case ids) must be identical.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
from dataclasses import dataclass, replace

import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from metrics import cli
from metrics.caselists import OverdueOrder, overdue_cases
from metrics.priority import priority_counties
from metrics.registry import ALL_IDS
from metrics.request import Period, TableRequest
from metrics.series import Grain, SeriesRequest, buckets, metric_series
from metrics.settings import DEFAULT_SETTINGS
from metrics.table import reads_from_summary, region_table
from tests.conftest import GOLDEN

TOLERANCE = 1e-9
TEXT_COLUMNS = {"code": str, "case_id": str, "county_code": str, "due_date": str, "status": str}


@dataclass(frozen=True)
class GoldenPeriod:
    """One of the periods the golden files were computed for."""

    name: str
    period: Period

    @property
    def cli_args(self) -> list[str]:
        p = self.period
        return ["--from", p.start.isoformat(), "--to", p.end.isoformat(), "--as-of", p.as_of_date.isoformat()]


PERIODS = (
    GoldenPeriod("h1", Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 6, 30))),
    GoldenPeriod("q1_asof_q1", Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date(2024, 3, 31))),
    # as-of inside the period: every window is cut at A (receipts after A count nowhere)
    GoldenPeriod("q1_asof_feb15", Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date(2024, 2, 15))),
)
LEVELS = tuple(Level)


def expected(golden: GoldenPeriod, kind: str) -> pd.DataFrame:
    """An expected_<period>_<kind>.csv file, identifiers and dates as text, empty cells as NaN."""
    return pd.read_csv(GOLDEN / f"expected_{golden.name}_{kind}.csv", dtype=TEXT_COLUMNS, keep_default_na=False,
                       na_values=[""])


def _is_null(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def assert_matches(want: pd.DataFrame, got: pd.DataFrame, key: str, what: str) -> None:
    """Same rows (by key) and, for every column of `want`, the same value under the golden rules."""
    assert got[key].is_unique, f"{what}: duplicate {key} values"
    got_keys, want_keys = set(got[key].astype(str)), set(want[key])
    assert got_keys == want_keys, (f"{what}: row sets differ; missing {sorted(want_keys - got_keys)[:10]}, "
                                   f"extra {sorted(got_keys - want_keys)[:10]}")
    missing_columns = [c for c in want.columns if c not in got.columns]
    assert not missing_columns, f"{what}: missing columns {missing_columns}"
    by_key = got.assign(**{key: got[key].astype(str)}).set_index(key)
    problems: list[str] = []
    for column in want.columns:
        if column == key:
            continue
        integral = pd.api.types.is_integer_dtype(want[column])
        for k, w in zip(want[key], want[column], strict=True):
            g = by_key.at[k, column]
            if not _values_match(w, g, integral):
                problems.append(f"{key}={k} {column}: expected {w!r}, got {g!r}")
    assert not problems, f"{what}: {len(problems)} mismatches\n" + "\n".join(problems[:20])


def _values_match(want: object, got: object, integral: bool) -> bool:
    if _is_null(want):
        return _is_null(got)
    if _is_null(got):
        return False
    if isinstance(want, str):
        return str(got)[:10] == want if _looks_like_date(want) else str(got) == want
    if integral:
        return float(got).is_integer() and int(got) == int(want)
    return abs(float(got) - float(want)) <= TOLERANCE


def _looks_like_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def run_cli(engine: sa.Engine, args: list[str], fmt: str) -> pd.DataFrame:
    """`python -m metrics ...` against the engine's database, parsed back into a frame."""
    out = io.StringIO()
    url = engine.url.render_as_string(hide_password=False)
    status = cli.main([*args, "--db", url, "--format", fmt], out=out)
    assert status == 0
    text = out.getvalue()
    if fmt == "csv":
        return pd.read_csv(io.StringIO(text), dtype=TEXT_COLUMNS | {"city_code": str}, keep_default_na=False,
                           na_values=[""])
    frame = pd.DataFrame(json.loads(text))
    return frame.astype({c: str for c in ("code", "case_id") if c in frame.columns})


# ------------------------------------------------------------------------------------------ Python API

@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.value)
@pytest.mark.parametrize("source", ("summary", "cases"))
def test_region_table_matches_golden(golden_engine: sa.Engine, golden: GoldenPeriod, level: Level, source: str) -> None:
    """Read as the pages read it (the per-county daily summary the loader kept) and scanning the cases."""
    request = TableRequest(level, golden.period, scope=WHOLE_PROVINCE)
    from_summary = None if source == "summary" else False
    with golden_engine.connect() as conn:
        assert reads_from_summary(conn, request, DEFAULT_SETTINGS, from_summary) is (source == "summary")
    got = region_table(golden_engine, request, from_summary=from_summary)
    assert (got["level"] == level.value).all()
    assert_matches(expected(golden, level.value), got, "code", f"region_table {golden.name} {level.value}")


@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
def test_golden_files_cover_every_metric(golden: GoldenPeriod) -> None:
    for level in LEVELS:
        assert set(expected(golden, level.value).columns) == {"code", *ALL_IDS}


@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
def test_priority_counties_match_golden(golden_engine: sa.Engine, golden: GoldenPeriod) -> None:
    got = priority_counties(golden_engine, golden.period, scope=WHOLE_PROVINCE)
    assert_matches(expected(golden, "priority"), got, "code", f"priority_counties {golden.name}")


@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
def test_priority_order_is_score_descending_insufficient_last(golden_engine: sa.Engine, golden: GoldenPeriod) -> None:
    got = priority_counties(golden_engine, golden.period, scope=WHOLE_PROVINCE)
    insufficient = (got["status"] == "insufficient").to_numpy()
    first_insufficient = insufficient.argmax() if insufficient.any() else len(got)
    assert insufficient[first_insufficient:].all(), "an insufficient county is ranked before a ranked one"
    scores = got["score"].to_numpy()[:first_insufficient]
    assert (scores[:-1] >= scores[1:]).all()


@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
def test_overdue_cases_match_golden(golden_engine: sa.Engine, golden: GoldenPeriod) -> None:
    got = overdue_cases(golden_engine, golden.period.as_of_date, order=OverdueOrder.CASE_ID, scope=WHOLE_PROVINCE)
    want = expected(golden, "overdue")
    assert_matches(want, got, "case_id", f"overdue_cases {golden.name}")
    assert list(got["case_id"]) == sorted(want["case_id"]), "order=CASE_ID must sort by case_id"


# ------------------------------------------------------------------------------------------ command line

@pytest.mark.parametrize("fmt", ("csv", "json"))
@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.value)
def test_cli_table_matches_golden(golden_engine: sa.Engine, golden: GoldenPeriod, level: Level, fmt: str) -> None:
    got = run_cli(golden_engine, ["table", "--level", level.value, *golden.cli_args], fmt)
    assert list(got.columns) == ["code", "name", "level", *ALL_IDS]
    assert list(got["code"]) == sorted(got["code"]), "one row per region, sorted by code"
    assert_matches(expected(golden, level.value), got, "code", f"cli table {golden.name} {level.value} {fmt}")


@pytest.mark.parametrize("fmt", ("csv", "json"))
@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
def test_cli_priority_matches_golden(golden_engine: sa.Engine, golden: GoldenPeriod, fmt: str) -> None:
    got = run_cli(golden_engine, ["priority", *golden.cli_args], fmt)
    assert_matches(expected(golden, "priority"), got, "code", f"cli priority {golden.name} {fmt}")


@pytest.mark.parametrize("fmt", ("csv", "json"))
@pytest.mark.parametrize("golden", PERIODS, ids=lambda g: g.name)
def test_cli_overdue_matches_golden(golden_engine: sa.Engine, golden: GoldenPeriod, fmt: str) -> None:
    got = run_cli(golden_engine, ["overdue", "--as-of", golden.period.as_of_date.isoformat()], fmt)
    want = expected(golden, "overdue")
    assert list(got.columns[:4]) == list(want.columns)
    assert_matches(want, got, "case_id", f"cli overdue {golden.name} {fmt}")
    assert list(got["case_id"]) == sorted(want["case_id"])


def test_cli_table_parent_limits_rows(golden_engine: sa.Engine) -> None:
    golden = PERIODS[0]
    got = run_cli(golden_engine, ["table", "--level", "county", "--parent", "370100", *golden.cli_args], "csv")
    want = expected(golden, "county")
    want = want[want["code"].str.startswith("3701")].reset_index(drop=True)
    assert_matches(want, got, "code", "cli table --parent 370100")


# ------------------------------------------------------------------------------------------ time series

def assert_series_equals_tables(engine: sa.Engine, request: SeriesRequest) -> None:
    """Each bucket's point is exactly the table row of its region for the bucket's own period."""
    series = metric_series(engine, request)
    periods = buckets(request.period, request.grain)
    assert len(series) == len(periods) > 0
    metric_ids = request.metrics or ALL_IDS
    assert set(metric_ids) <= set(series.columns)
    level, code = (Level.PROVINCE, "370000") if request.region is None else (Level.CITY, request.region)
    for bucket, (_, point) in zip(periods, series.iterrows(), strict=True):
        assert (point["bucket_start"], point["bucket_end"], point["bucket_as_of"]) == (
            bucket.start, bucket.end, bucket.as_of_date)
        table = region_table(engine, TableRequest(level, Period(bucket.start, bucket.end, bucket.as_of_date), scope=WHOLE_PROVINCE))
        row = table.set_index("code").loc[code]
        for mid in metric_ids:
            want, got = row[mid], point[mid]
            if _is_null(want):
                assert _is_null(got), f"{bucket.start} {mid}: expected null, got {got!r}"
            else:
                assert not _is_null(got) and abs(float(got) - float(want)) <= TOLERANCE, (
                    f"{bucket.start} {mid}: table {want!r}, series {got!r}")


def test_monthly_series_equals_monthly_tables(golden_engine: sa.Engine) -> None:
    h1 = PERIODS[0].period
    months = buckets(h1, Grain.MONTH)
    assert [(m.start, m.end, m.as_of_date) for m in months] == [
        (dt.date(2024, k, 1), dt.date(2024, k + 1, 1) - dt.timedelta(days=1), dt.date(2024, k + 1, 1) - dt.timedelta(days=1))
        for k in range(1, 7)]
    assert_series_equals_tables(golden_engine, SeriesRequest(h1, Grain.MONTH, scope=WHOLE_PROVINCE))


SERIES_VARIANTS = {
    # A inside the last month: that bucket is read as of A (receipts after A still count in `received`)
    "month-as-of-mid-may": SeriesRequest(Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 5, 15)),
                                         Grain.MONTH, scope=WHOLE_PROVINCE),
    "week-q1": SeriesRequest(PERIODS[1].period, Grain.WEEK, scope=WHOLE_PROVINCE),
    "month-city": SeriesRequest(PERIODS[0].period, Grain.MONTH, region="370200", scope=WHOLE_PROVINCE),
}


# Without the stock metrics (overdue) a case reaches its buckets through its dates (an equi-join on
# the bucket number, compiler._join_buckets) instead of a comparison with every bucket: same numbers.
FLOW_METRICS = tuple(m for m in ALL_IDS if m not in ("overdue", "first_overdue"))
FLOW_VARIANTS = {
    **{f"{name}-flow": replace(request, metrics=FLOW_METRICS) for name, request in SERIES_VARIANTS.items()},
    "month-h1-flow": SeriesRequest(PERIODS[0].period, Grain.MONTH, metrics=FLOW_METRICS, scope=WHOLE_PROVINCE),
    "week-h1-receipts": SeriesRequest(PERIODS[0].period, Grain.WEEK, metrics=("received", "leapfrog_rate"), scope=WHOLE_PROVINCE),
    "week-h1-deadlines": SeriesRequest(PERIODS[0].period, Grain.WEEK,
                                       metrics=("notice_on_time_rate", "feedback_on_time_rate"), scope=WHOLE_PROVINCE),
    "week-h1-overview": SeriesRequest(PERIODS[0].period, Grain.WEEK,
                                      metrics=("received", "on_time_rate", "satisfaction_rate", "avg_handling_days"), scope=WHOLE_PROVINCE),
}


@pytest.mark.parametrize("request_", [*SERIES_VARIANTS.values(), *FLOW_VARIANTS.values()],
                         ids=[*SERIES_VARIANTS, *FLOW_VARIANTS])
def test_series_points_equal_tables(golden_engine: sa.Engine, request_: SeriesRequest) -> None:
    assert_series_equals_tables(golden_engine, request_)


def test_flow_series_join_buckets_by_number_and_stock_series_by_comparison() -> None:
    """The equi-join path is the one the flow variants above exercise (and the stock path the others)."""
    from metrics.series import series_query

    def sql(request: SeriesRequest) -> str:
        return str(series_query(request).compile())

    assert "anchor_dates" in sql(FLOW_VARIANTS["week-h1-overview"])
    assert "anchor_dates" in sql(FLOW_VARIANTS["month-h1-flow"])
    assert "anchor_dates" not in sql(SERIES_VARIANTS["week-q1"])  # every metric, overdue included
