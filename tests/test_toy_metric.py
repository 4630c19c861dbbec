"""Adding a count metric is one entry: a toy metric, registered through registry.extended as the one
Metric (with its Rule) it takes, reaches the region table, the time series, the columns of
`python -m metrics table` and the documentation checks — no list in the compiler names it.

The toy, real_name_accepted, is the accepted (检举控告) cases reported under a real name, checked
against a hand count on a few cases in two counties of 济南市.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE
from data_access.reference.enums import Level
from metrics import registry
from metrics.registry import ALL_IDS, COUNT_IDS, METRICS_BY_ID, Metric, MetricKind
from metrics.request import Period, TableRequest
from metrics.rules import Rule, is_true
from metrics.series import Grain, SeriesRequest, metric_series, series_query
from metrics.table import region_table
from tests import test_metric_docs as docs
from tests.test_metrics_edges import JINAN, LIXIA, SHIZHONG, case, load, run_cli

D = dt.date.fromisoformat
Q1 = Period(D("2024-01-01"), D("2024-03-31"))
H1 = Period(D("2024-01-01"), D("2024-06-30"))

REAL_NAME_ACCEPTED = Metric(
    "real_name_accepted", "实名检举控告件", "检举控告件中的实名举报件。", MetricKind.COUNT, parent="accepted",
    rule=Rule("real_name", lambda x: is_true(x.c.is_real_name), columns=("is_real_name",)),
)

CASES = [
    case("A-1", is_real_name=1, received_date="2024-01-10"),  # counts: January, 历下区
    case("A-2", is_real_name=0, received_date="2024-01-12"),  # accepted, anonymous
    case("A-3", is_real_name=1, received_date="2024-02-20", county_code=SHIZHONG),  # counts: February, 市中区
    case("A-4", is_real_name=1, received_date="2024-05-06"),  # counts in May, outside Q1
    case("O-1", is_real_name=1, received_date="2024-02-01", category="out_of_scope"),  # not accepted
]
# the hand count: per county over Q1, and per month of H1 for 济南市
Q1_COUNTS = {LIXIA: 1, SHIZHONG: 1}
H1_MONTHS = [1, 1, 0, 0, 1, 0]


@pytest.fixture
def toy() -> Iterator[Metric]:
    """The toy metric, registered for the test and gone after it."""
    with registry.extended(REAL_NAME_ACCEPTED):
        yield REAL_NAME_ACCEPTED


def test_the_toy_is_registered_only_inside_the_block() -> None:
    assert "real_name_accepted" not in ALL_IDS
    with registry.extended(REAL_NAME_ACCEPTED):
        assert METRICS_BY_ID["real_name_accepted"] is REAL_NAME_ACCEPTED
        assert "real_name_accepted" in COUNT_IDS and "real_name_accepted" in ALL_IDS  # names imported before
        assert ALL_IDS.index("real_name_accepted") < ALL_IDS.index("on_time_rate")  # counts come first
    assert "real_name_accepted" not in ALL_IDS and "real_name_accepted" not in METRICS_BY_ID


def test_a_registered_id_cannot_be_registered_again() -> None:
    with pytest.raises(ValueError, match="accepted"):
        with registry.extended(Metric("accepted", "重复", "重复的指标。", MetricKind.COUNT, rule=REAL_NAME_ACCEPTED.rule)):
            pass
    assert len(ALL_IDS) == len(registry.METRICS)


def test_the_region_table_counts_the_toy(engine: sa.Engine, toy: Metric) -> None:
    load(engine, CASES)
    counties = region_table(engine, TableRequest(Level.COUNTY, Q1, parent=JINAN, scope=WHOLE_PROVINCE))
    assert {code: int(n) for code, n in zip(counties["code"], counties[toy.id], strict=True) if n} == Q1_COUNTS
    assert counties.set_index("code").at[LIXIA, "accepted"] == 2  # its parent, unchanged
    city = region_table(engine, TableRequest(Level.CITY, Q1, scope=WHOLE_PROVINCE)).set_index("code")
    assert city.at[JINAN, toy.id] == sum(Q1_COUNTS.values())
    only = region_table(engine, TableRequest(Level.PROVINCE, Q1, metrics=(toy.id,), scope=WHOLE_PROVINCE))
    assert list(only[toy.id]) == [sum(Q1_COUNTS.values())]


@pytest.mark.parametrize("metrics", [("real_name_accepted",), None], ids=["toy-alone", "every-metric"])
def test_the_series_counts_the_toy(engine: sa.Engine, toy: Metric, metrics: tuple[str, ...] | None) -> None:
    """Alone the toy's buckets are joined through its anchor date (its parent's receipt); with every
    metric (overdue, a stock, among them) by comparison with every bucket."""
    load(engine, CASES)
    request = SeriesRequest(H1, Grain.MONTH, region=JINAN, metrics=metrics, scope=WHOLE_PROVINCE)
    assert list(metric_series(engine, request)[toy.id]) == H1_MONTHS
    assert ("anchor_dates" in str(series_query(request).compile())) is (metrics is not None)


def test_the_cli_table_has_the_toy_column(engine: sa.Engine, toy: Metric) -> None:
    load(engine, CASES)
    args = ["table", "--level", "county", "--parent", JINAN, "--from", "2024-01-01", "--to", "2024-03-31"]
    reader = csv.DictReader(io.StringIO(run_cli(engine, args, "csv")))
    rows = {r["code"]: r for r in reader}
    assert reader.fieldnames == ["code", "name", "level", *ALL_IDS] and toy.id in reader.fieldnames
    assert {code: int(r[toy.id]) for code, r in rows.items() if r[toy.id] != "0"} == Q1_COUNTS


def test_the_docs_checks_see_the_toy(toy: Metric) -> None:
    """It passes the registry's own checks, and the metrics.md check fails until metrics.md documents it."""
    docs.test_metric_has_chinese_label_and_definition(toy)
    docs.test_metric_formula_refers_to_what_exists(toy)
    docs.test_rule_reads_only_what_it_declares(toy)
    docs.test_metric_ids_and_labels_are_unique()
    docs.test_rule_names_are_unique()
    with pytest.raises(AssertionError, match="in the registry but not in metrics.md"):
        docs.test_every_documented_metric_is_registered_and_vice_versa()
