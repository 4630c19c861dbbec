"""Tests for the synthetic case generator (data_access/demo/cases.py)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from data_access.demo.cases import county_profiles, default_case_count, generate_cases
from data_access.reference.enums import DOMAINS, Category, Channel, Satisfaction
from data_access.reference.workdays import load_calendar

END = dt.date(2025, 6, 30)
YEARS = 2.5
SEED = 42
N_LARGE = 200_000
DEFAULT_DUE_DAYS = 60
DATE_COLUMNS = ("received_date", "due_date", "closed_date", "accepted_notice_date", "result_notice_date")
EXPECTED_SCHEMA = [
    ("case_id", pa.string()),
    ("county_code", pa.string()),
    ("received_date", pa.date32()),
    ("channel", pa.string()),
    ("category", pa.string()),
    ("domain", pa.string()),
    ("is_first_report", pa.bool_()),
    ("is_leapfrog", pa.bool_()),
    ("is_repeat", pa.bool_()),
    ("is_real_name", pa.bool_()),
    ("due_date", pa.date32()),
    ("closed_date", pa.date32()),
    ("satisfaction", pa.string()),
    ("disputed", pa.bool_()),
    ("accepted_notice_date", pa.date32()),
    ("result_notice_date", pa.date32()),
    ("matter_id", pa.string()),
    ("received_level", pa.string()),
]


def make_counties(n: int = 20, first: int = 110101) -> pd.DataFrame:
    """Made-up county-level units with consecutive codes."""
    codes = [str(first + i) for i in range(n)]
    return pd.DataFrame({"code": codes, "name": [f"县{i}" for i in range(n)], "parent_code": str(first - 1)})


@pytest.fixture(scope="module")
def counties() -> pd.DataFrame:
    return make_counties()


@pytest.fixture(scope="module")
def table(counties: pd.DataFrame) -> pa.Table:
    return generate_cases(counties, N_LARGE, SEED, END, years=YEARS)


@pytest.fixture(scope="module")
def cases(table: pa.Table) -> pd.DataFrame:
    df = table.to_pandas()
    for col in DATE_COLUMNS:
        df[col] = pd.to_datetime(df[col])
    return df


@pytest.fixture(scope="module")
def roles(counties: pd.DataFrame) -> pd.Series:
    return county_profiles(counties, SEED).set_index("code")["role"]


def accusations(cases: pd.DataFrame) -> pd.DataFrame:
    """Accusation cases with due_date filled the way the metric layer fills it."""
    acc = cases[cases["category"] == Category.ACCUSATION.value].copy()
    acc["due"] = acc["due_date"].fillna(acc["received_date"] + pd.Timedelta(days=DEFAULT_DUE_DAYS))
    return acc


# --- API, determinism, schema --------------------------------------------------------------


def test_default_case_count_scales_with_counties_and_years() -> None:
    assert default_case_count(136) == 375_000
    assert default_case_count(68) == 187_500
    assert default_case_count(136, years=1) == 150_000


def test_same_seed_same_table_other_seed_differs(counties: pd.DataFrame) -> None:
    a = generate_cases(counties, 5_000, 7, END)
    b = generate_cases(counties, 5_000, 7, END)
    c = generate_cases(counties, 5_000, 8, END)
    assert a.equals(b)
    assert not a.equals(c)


def test_county_order_in_input_does_not_matter(counties: pd.DataFrame) -> None:
    shuffled = counties.sample(frac=1.0, random_state=1)
    assert generate_cases(counties, 3_000, 7, END).equals(generate_cases(shuffled, 3_000, 7, END))


def test_schema_and_row_count(table: pa.Table) -> None:
    assert [(f.name, f.type) for f in table.schema] == EXPECTED_SCHEMA
    assert table.num_rows == N_LARGE


def test_zero_cases_gives_empty_table(counties: pd.DataFrame) -> None:
    empty = generate_cases(counties, 0, 1, END)
    assert empty.num_rows == 0
    assert [(f.name, f.type) for f in empty.schema] == EXPECTED_SCHEMA


def test_progress_reports_increasing_fractions_up_to_one(counties: pd.DataFrame) -> None:
    seen: list[float] = []
    generate_cases(counties, 1_000, 1, END, progress=seen.append)
    assert len(seen) >= 3
    assert seen == sorted(seen) and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_id_prefix_and_unique_ids(cases: pd.DataFrame, counties: pd.DataFrame) -> None:
    assert cases["case_id"].is_unique
    assert cases["case_id"].iloc[0] == "DEMO-00000000"
    other = generate_cases(counties, 10, 1, END, id_prefix="SD")
    assert other.column("case_id")[3].as_py() == "SD-00000003"


def test_any_county_codes_and_dates_beyond_official_calendar() -> None:
    other = make_counties(30, first=530101)
    df = generate_cases(other, 20_000, 3, dt.date(2031, 3, 31)).to_pandas()
    assert set(df["county_code"]) <= set(other["code"])
    assert df["received_date"].max() <= dt.date(2031, 3, 31)


# --- validity rules of the data contract ----------------------------------------------------


def test_enum_values(cases: pd.DataFrame) -> None:
    assert set(cases["channel"]) <= {c.value for c in Channel}
    assert set(cases["category"]) == {c.value for c in Category}
    assert set(cases["domain"]) <= set(DOMAINS)
    assert set(cases["satisfaction"].dropna()) == {s.value for s in Satisfaction}


def test_validity_rules(cases: pd.DataFrame) -> None:
    closed = cases["closed_date"].notna()
    assert (cases.loc[closed, "closed_date"] >= cases.loc[closed, "received_date"]).all()
    has_due = cases["due_date"].notna()
    assert (cases.loc[has_due, "due_date"] >= cases.loc[has_due, "received_date"]).all()
    assert not (cases["satisfaction"].notna() & ~closed).any()
    assert not (cases["disputed"] & ~closed).any()
    for col in ("county_code", "received_date", "channel", "case_id"):
        assert cases[col].notna().all()


def test_no_date_after_end_and_window_start(cases: pd.DataFrame) -> None:
    end = pd.Timestamp(END)
    for col in ("received_date", "closed_date", "accepted_notice_date", "result_notice_date"):
        assert (cases[col].dropna() <= end).all(), col
    start = end - pd.Timedelta(days=round(YEARS * 365.25) - 1)
    assert cases["received_date"].min() >= start
    assert cases["received_date"].min() < start + pd.Timedelta(days=10)


def test_notice_dates_only_for_real_name_accusations(cases: pd.DataFrame) -> None:
    eligible = cases["is_real_name"] & (cases["category"] == Category.ACCUSATION.value)
    assert cases.loc[~eligible, ["accepted_notice_date", "result_notice_date"]].isna().all().all()
    assert not (cases["result_notice_date"].notna() & cases["closed_date"].isna()).any()
    assert cases.loc[eligible, "accepted_notice_date"].notna().mean() > 0.9


def test_notices_are_working_days_and_mostly_on_time(cases: pd.DataFrame) -> None:
    cal = load_calendar()
    for col, base_col in (("accepted_notice_date", "received_date"), ("result_notice_date", "closed_date")):
        given = cases[cases[col].notna()]
        notice = given[col].to_numpy().astype("datetime64[D]")
        base = given[base_col].to_numpy().astype("datetime64[D]")
        assert cal.is_workday[cal.index_of(notice)].all(), col
        assert (notice > base).all(), col
        on_time = (notice <= cal.deadline_after(base)).mean()
        assert 0.78 <= on_time <= 0.92, (col, on_time)


# --- distributions --------------------------------------------------------------------------


def test_category_and_flag_shares(cases: pd.DataFrame) -> None:
    share = cases["category"].value_counts(normalize=True)
    assert share[Category.ACCUSATION.value] == pytest.approx(0.72, abs=0.01)
    assert share[Category.OUT_OF_SCOPE.value] == pytest.approx(0.18, abs=0.01)
    assert share[Category.NO_SUBSTANCE.value] == pytest.approx(0.10, abs=0.01)
    assert cases["is_first_report"].mean() == pytest.approx(0.55, abs=0.01)
    assert cases["is_repeat"].mean() == pytest.approx(0.08, abs=0.005)
    assert cases["is_real_name"].mean() == pytest.approx(0.40, abs=0.02)
    assert cases["domain"].value_counts(normalize=True).max() > 0.15  # unequal weights


def test_due_date_mix(cases: pd.DataFrame) -> None:
    span = (cases["due_date"] - cases["received_date"]).dt.days
    assert span.eq(60).mean() == pytest.approx(0.85, abs=0.01)
    assert span.eq(90).mean() == pytest.approx(0.10, abs=0.01)
    assert cases["due_date"].isna().mean() == pytest.approx(0.05, abs=0.01)


def test_ratings_and_disputes(cases: pd.DataFrame) -> None:
    closed = accusations(cases).query("closed_date.notna()")
    assert 0.65 <= closed["satisfaction"].notna().mean() <= 0.75
    ratings = closed["satisfaction"].value_counts(normalize=True)
    assert ratings[Satisfaction.DISSATISFIED.value] < 0.15
    assert 0.02 <= closed["disputed"].mean() <= 0.045
    dissatisfied = closed["satisfaction"] == Satisfaction.DISSATISFIED.value
    assert closed.loc[dissatisfied, "disputed"].mean() > 3 * closed.loc[~dissatisfied, "disputed"].mean()


# --- planted structure ------------------------------------------------------------------------


def test_poor_counties_handle_first_reports_worse_and_draw_leapfrogs(cases: pd.DataFrame, roles: pd.Series) -> None:
    acc = accusations(cases)
    role = acc["county_code"].map(roles)
    first_due = acc[acc["is_first_report"] & (acc["due"] <= pd.Timestamp(END))]
    on_time = first_due["closed_date"].notna() & (first_due["closed_date"] <= first_due["due"])
    first_role = first_due["county_code"].map(roles)
    poor_rate, rest_rate = on_time[first_role == "poor"].mean(), on_time[first_role == "normal"].mean()
    assert rest_rate - poor_rate > 0.15, (poor_rate, rest_rate)
    leap_poor = acc.loc[role == "poor", "is_leapfrog"].mean()
    leap_rest = acc.loc[role == "normal", "is_leapfrog"].mean()
    assert 0.22 <= leap_poor <= 0.38 and 0.07 <= leap_rest <= 0.11, (leap_poor, leap_rest)
    # Single-failure counties fail only their own test.
    assert on_time[first_role == "quality_only"].mean() < rest_rate - 0.15
    assert acc.loc[role == "quality_only", "is_leapfrog"].mean() < 0.12
    assert on_time[first_role == "leapfrog_only"].mean() > rest_rate - 0.05
    assert acc.loc[role == "leapfrog_only", "is_leapfrog"].mean() > 0.22


def test_poor_counties_flagged_by_funnel_test(cases: pd.DataFrame, roles: pd.Series) -> None:
    acc = accusations(cases)
    end, start = pd.Timestamp(END), pd.Timestamp(END) - pd.Timedelta(days=364)
    first = acc[acc["is_first_report"] & acc["due"].between(start, end)]
    first_on = first["closed_date"].notna() & (first["closed_date"] <= first["due"])
    accepted = acc[acc["received_date"].between(start, end)]
    g = pd.DataFrame({
        "first_due": first.groupby("county_code").size(),
        "first_on": first_on.groupby(first["county_code"]).sum(),
        "accepted": accepted.groupby("county_code").size(),
        "leap": accepted.groupby("county_code")["is_leapfrog"].sum(),
    }).fillna(0)
    theta, phi = g["first_on"].sum() / g["first_due"].sum(), g["leap"].sum() / g["accepted"].sum()
    z_q = (theta - g["first_on"] / g["first_due"]) / np.sqrt(theta * (1 - theta) / g["first_due"])
    z_l = (g["leap"] / g["accepted"] - phi) / np.sqrt(phi * (1 - phi) / g["accepted"])
    sufficient = (g["first_due"] >= 10) & (g["accepted"] >= 10)
    priority = set(g.index[sufficient & (z_q >= 1.96) & (z_l >= 1.96)])
    assert priority == set(roles.index[roles == "poor"])


def test_county_volumes_differ_and_tiny_counties_exist(cases: pd.DataFrame, roles: pd.Series) -> None:
    per_year = cases["county_code"].value_counts().reindex(roles.index, fill_value=0) / YEARS
    accepted_per_year = accusations(cases)["county_code"].value_counts().reindex(roles.index, fill_value=0) / YEARS
    tiny = roles.index[roles == "tiny"]
    assert len(tiny) >= 1
    assert (accepted_per_year[tiny] < 10).all()  # "insufficient" in a yearly ranking
    normal = per_year[roles == "normal"]
    assert normal.max() / normal.min() > 2


def test_open_and_overdue_stock_at_end(cases: pd.DataFrame) -> None:
    acc = accusations(cases)
    end = pd.Timestamp(END)
    open_ = acc["closed_date"].isna()
    recent = acc["received_date"] > end - pd.Timedelta(days=30)
    assert open_[recent].mean() > 0.7
    assert open_[~recent].mean() < 0.1
    overdue = open_ & (acc["due"] < end)
    assert overdue.sum() > 50
    assert ((end - acc.loc[overdue, "due"]).dt.days > 90).sum() > 10


@pytest.mark.parametrize("eve", ["2024-02-09", "2025-01-28"])
def test_spring_festival_dip(cases: pd.DataFrame, eve: str) -> None:
    daily = cases["received_date"].value_counts().sort_index()
    e = pd.Timestamp(eve)
    week = daily[e:e + pd.Timedelta(days=6)].reindex(pd.date_range(e, periods=7), fill_value=0)
    month = daily[e - pd.Timedelta(days=15):e + pd.Timedelta(days=21)]
    around = month.drop(week.index, errors="ignore")
    assert week.mean() < 0.5 * around.mean(), (week.mean(), around.mean())


def test_rest_days_quieter_and_growth_trend(cases: pd.DataFrame) -> None:
    cal = load_calendar()
    daily = cases["received_date"].value_counts().sort_index()
    is_work = cal.is_workday[cal.index_of(daily.index.to_numpy().astype("datetime64[D]"))]
    assert daily[~is_work].mean() < 0.5 * daily[is_work].mean()
    first_year = daily[daily.index < daily.index[0] + pd.Timedelta(days=365)].sum()
    last_year = daily[daily.index > pd.Timestamp(END) - pd.Timedelta(days=365)].sum()
    assert 1.0 < last_year / first_year < 1.2
