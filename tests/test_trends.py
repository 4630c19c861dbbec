"""形势分析 (metrics.md, "Concentration and change"): the golden tables from the command line on both
engines, and the edges the golden file need not hold."""
from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_bytes
from data_access.reference.enums import Level
from metrics import cli
from metrics.request import Period
from metrics.trends import TREND_COLUMNS, TrendBy, trends, windows
from tests.conftest import GOLDEN as GOLDEN_DIR
from tests.test_importer import case, csv_bytes

RUNS = {"h1": ("2024-01-01", "2024-06-30", "2024-06-30"), "q1_asof_q1": ("2024-01-01", "2024-03-31", "2024-03-31"),
        "q1_asof_feb15": ("2024-01-01", "2024-03-31", "2024-02-15")}
SHAPES = {"city_domain": ("city", "domain"), "county_channel": ("county", "channel")}
COUNTS, RATES = ("received", "previous", "change"), ("change_rate", "share", "z")


def run_cli(engine: sa.Engine, args: list[str], fmt: str) -> pd.DataFrame:
    out = io.StringIO()
    assert cli.main(["trends", *args, "--db", engine.url.render_as_string(hide_password=False), "--format", fmt], out=out) == 0
    if fmt == "csv":
        return pd.read_csv(io.StringIO(out.getvalue()), dtype={"code": str, "value": str, "rising": str}, keep_default_na=False,
                           na_values={c: [""] for c in RATES})
    frame = pd.DataFrame(json.loads(out.getvalue()))
    return frame.assign(rising=frame["rising"].map({True: "true", False: "false"}))


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("run", RUNS, ids=list(RUNS))
def test_cli_trends_equal_the_golden_file(golden_engine: sa.Engine, run: str, shape: str, fmt: str) -> None:
    start, end, as_of = RUNS[run]
    level, by = SHAPES[shape]
    got = run_cli(golden_engine, ["--level", level, "--by", by, "--from", start, "--to", end, "--as-of", as_of], fmt)
    want = pd.read_csv(GOLDEN_DIR / f"expected_{run}_trends_{shape}.csv", dtype={"code": str, "value": str, "rising": str},
                       keep_default_na=False, na_values={c: [""] for c in RATES})
    assert list(got.columns) == list(TREND_COLUMNS)
    assert list(zip(got["code"], got["value"], strict=True)) == list(zip(want["code"], want["value"], strict=True))
    for column in COUNTS:
        assert got[column].astype(int).tolist() == want[column].astype(int).tolist(), column
    for column in RATES:
        assert np.allclose(got[column].astype(float), want[column].astype(float), equal_nan=True, atol=1e-9), column
    assert got["rising"].tolist() == want["rising"].tolist()
    assert set(got["level"]) == {level}


def test_the_two_spans_are_equal_and_cut_at_the_as_of_date() -> None:
    assert windows(Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date(2024, 2, 15))) == (
        (dt.date(2024, 1, 1), dt.date(2024, 2, 15)), (dt.date(2023, 10, 2), dt.date(2023, 11, 16)))  # n = 91 days
    assert windows(Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30))) == (
        (dt.date(2024, 1, 1), dt.date(2024, 6, 30)), (dt.date(2023, 7, 3), dt.date(2023, 12, 31)))  # n = 182 days


@pytest.fixture
def small(engine: sa.Engine) -> sa.Engine:
    """任城区: 12 金融 cases this quarter against none the quarter before, 2 教育医疗 each, one with no domain."""
    rows = [case(f"T-{i}", county_code="370811", received_date="2024-02-01", domain="金融", closed_date="", satisfaction="",
                 due_date="", accepted_notice_date="", result_notice_date="") for i in range(12)]
    rows += [case(f"E-{i}", county_code="370811", received_date=day, domain="教育医疗", closed_date="", satisfaction="",
                  due_date="", accepted_notice_date="", result_notice_date="")
             for i, day in enumerate(["2024-01-10", "2024-03-01", "2023-11-01", "2023-12-01"])]
    rows.append(case("N-1", county_code="370811", received_date="2024-01-15", domain="", closed_date="", satisfaction="",
                     due_date="", accepted_notice_date="", result_notice_date="", category="out_of_scope"))
    import_bytes(engine, csv_bytes(rows), "small.csv")
    return engine


def test_a_rise_from_nothing_is_a_hot_spot_and_empty_domains_are_other(small: sa.Engine) -> None:
    q1 = Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    got = trends(small, Level.COUNTY, TrendBy.DOMAIN, q1, scope=WHOLE_PROVINCE).set_index("value")
    assert list(got.index) == ["其他", "教育医疗", "金融"]  # any category counts; an empty domain is 其他
    finance = got.loc["金融"]
    assert (finance["received"], finance["previous"], finance["change"]) == (12, 0, 12)
    assert math.isnan(finance["change_rate"]) and finance["z"] == pytest.approx(12 / math.sqrt(12)) and finance["rising"]
    assert finance["share"] == pytest.approx(12 / 15)
    education = got.loc["教育医疗"]
    assert (education["received"], education["previous"], education["change_rate"], education["z"]) == (2, 2, 0.0, 0.0)
    assert not education["rising"]
    city = trends(small, Level.CITY, TrendBy.DOMAIN, q1, scope=Scope("370800"))
    assert set(city["code"]) == {"370800"} and city["received"].sum() == 15
    assert trends(small, Level.COUNTY, TrendBy.DOMAIN, q1, scope=Scope("370100")).empty


def test_fewer_than_ten_cases_are_never_a_hot_spot(small: sa.Engine) -> None:
    one_day = Period(dt.date(2024, 2, 1), dt.date(2024, 2, 1))
    assert trends(small, Level.COUNTY, TrendBy.DOMAIN, one_day, scope=WHOLE_PROVINCE)["rising"].tolist() == [True]  # 12, z 3.46
    early = Period(dt.date(2024, 1, 10), dt.date(2024, 1, 15))  # 教育医疗 1 and 其他 1 against nothing: z = 1, few cases
    assert trends(small, Level.COUNTY, TrendBy.DOMAIN, early, scope=WHOLE_PROVINCE)["rising"].tolist() == [False, False]


def test_cli_refuses_a_parent_below_the_level(golden_engine: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["trends", "--level", "city", "--by", "domain", "--from", "2024-01-01", "--to", "2024-03-31",
                  "--parent", "370102", "--db", golden_engine.url.render_as_string(hide_password=False)], out=io.StringIO())
    assert exit_.value.code == 2 and "370102" in capsys.readouterr().err
