"""Bucketing of the overdue ledger by days overdue (1–7, 8–30, 31–90, over 90), per group."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from data_access.identity.scope import WHOLE_PROVINCE
from metrics.caselists import OverdueBucket, overdue_bucket, overdue_buckets, overdue_cases

BUCKET_IDS = [b.value for b in OverdueBucket]


@pytest.mark.parametrize(("days", "bucket"), [
    (1, OverdueBucket.UP_TO_7), (7, OverdueBucket.UP_TO_7), (8, OverdueBucket.UP_TO_30), (30, OverdueBucket.UP_TO_30),
    (31, OverdueBucket.UP_TO_90), (90, OverdueBucket.UP_TO_90), (91, OverdueBucket.OVER_90), (5000, OverdueBucket.OVER_90),
])
def test_bucket_edges(days: int, bucket: OverdueBucket) -> None:
    assert overdue_bucket(pd.Series([days])).tolist() == [bucket.value]


def test_labels_are_chinese_and_in_order() -> None:
    assert [b.label for b in OverdueBucket] == ["1–7 天", "8–30 天", "31–90 天", "90 天以上"]


def test_counts_per_group_largest_first() -> None:
    ledger = pd.DataFrame({"city_code": ["a", "a", "b", "b", "b"], "days_overdue": [1, 7, 8, 91, 90],
                           "is_first_report": [True, False, True, True, False]})
    out = overdue_buckets(ledger, ("city_code",))
    assert list(out.columns) == ["city_code", *BUCKET_IDS, "total", "first_report"]
    b = out.set_index("city_code")
    assert list(out["city_code"]) == ["b", "a"]
    assert b.loc["a", BUCKET_IDS].tolist() == [2, 0, 0, 0]
    assert b.loc["b", BUCKET_IDS].tolist() == [0, 1, 1, 1]
    assert b["total"].tolist() == [3, 2] and b["first_report"].tolist() == [2, 1]


def test_empty_ledger_gives_empty_table_with_columns() -> None:
    empty = pd.DataFrame({"county_code": [], "days_overdue": [], "is_first_report": []})
    out = overdue_buckets(empty, ("county_code",))
    assert out.empty and list(out.columns) == ["county_code", *BUCKET_IDS, "total", "first_report"]


def test_buckets_of_the_golden_ledger_add_up(golden_engine) -> None:
    ledger = overdue_cases(golden_engine, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE)
    by_county = overdue_buckets(ledger, ("county_code",))
    assert by_county["total"].sum() == len(ledger)
    assert (by_county[BUCKET_IDS].sum(axis=1) == by_county["total"]).all()
    assert by_county["first_report"].sum() == int(ledger["is_first_report"].astype(bool).sum())
    assert by_county[OverdueBucket.OVER_90.value].sum() == int((ledger["days_overdue"] > 90).sum())
