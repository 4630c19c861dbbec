"""Deterioration signals (metrics.md, "Deterioration signals"): the golden readings of the 60,000-case file
from the command line on both engines, and each rule on hand-made weeks."""
from __future__ import annotations

import datetime as dt
import io
import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from data_access.identity.scope import WHOLE_PROVINCE, Scope
from data_access.imports.importer import import_file
from data_access.store.database import init_database
from metrics import cli
from metrics.settings import DEFAULT_SETTINGS
from metrics.signals import SIGNAL_COLUMNS, _rules, deterioration_signals, signal_weeks
from tests.conftest import BACKENDS, GOLDEN, database_of_its_own

SIGNALS = GOLDEN / "signals"
AS_OF = ("2024-06-30", "2024-02-15")
RATES = ("baseline_rate", "recent_rate")


@pytest.fixture(scope="module", params=BACKENDS)
def signals_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The 60,000 cases in which a few busy counties get worse, on each engine."""
    engine = database_of_its_own(request.param, "signals", request, tmp_path_factory)
    init_database(engine)
    import_file(engine, SIGNALS / "cases.csv")
    yield engine
    engine.dispose()


def expected(as_of: str) -> pd.DataFrame:
    return pd.read_csv(SIGNALS / f"expected_signals_asof_{as_of}.csv", dtype={"code": str, "signals": str, "status": str},
                       keep_default_na=False, na_values={c: [""] for c in RATES})


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("as_of", AS_OF)
def test_cli_signals_equal_the_golden_file(signals_engine: sa.Engine, as_of: str, fmt: str) -> None:
    out = io.StringIO()
    url = signals_engine.url.render_as_string(hide_password=False)
    assert cli.main(["signals", "--as-of", as_of, "--db", url, "--format", fmt], out=out) == 0
    if fmt == "csv":
        got = pd.read_csv(io.StringIO(out.getvalue()), dtype={"code": str, "signals": str, "status": str},
                          keep_default_na=False, na_values={c: [""] for c in RATES})
    else:
        got = pd.DataFrame(json.loads(out.getvalue()))
    want = expected(as_of)
    assert list(got.columns) == list(SIGNAL_COLUMNS)
    assert list(got["code"]) == list(want["code"]) and len(got) == 136
    for column in ("baseline_due", "recent_due", "status", "signals"):
        assert got[column].tolist() == want[column].tolist(), column
    for column in RATES:
        assert np.allclose(got[column].astype(float), want[column].astype(float), equal_nan=True, atol=1e-12), column
    assert (got["signals"] != "").sum() >= 1  # the file was made with counties that get worse


def test_scope_keeps_its_counties(signals_engine: sa.Engine) -> None:
    whole = deterioration_signals(signals_engine, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE)
    jining = deterioration_signals(signals_engine, dt.date(2024, 6, 30), scope=Scope("370800"))
    assert set(jining["code"]) == {c for c in whole["code"] if c.startswith("3708")}
    assert jining.reset_index(drop=True).equals(whole[whole["code"].str.startswith("3708")].reset_index(drop=True))


def test_weeks_end_on_the_last_sunday_on_or_before_the_as_of_date() -> None:
    baseline, recent = signal_weeks(dt.date(2024, 6, 26))  # a Wednesday
    assert (recent[-1].start, recent[-1].end) == (dt.date(2024, 6, 17), dt.date(2024, 6, 23))
    assert len(recent) == 8 and len(baseline) == 26 and baseline[-1].end + dt.timedelta(days=7) == recent[0].end
    assert signal_weeks(dt.date(2024, 6, 30))[1][-1].end == dt.date(2024, 6, 30)  # a Sunday is its own week's end


def rules(weeks: list[tuple[int, int]], pooled: Fraction | None) -> list[str]:
    return _rules(weeks, pooled, DEFAULT_SETTINGS)


def test_below_limit_needs_spread() -> None:
    assert rules([(2, 10)] + [(9, 10)] * 7, Fraction(9, 10)) == ["below_limit"]  # 0.2 < 0.9 - 3·sqrt(0.09/10)
    assert rules([(0, 10)] + [(10, 10)] * 7, Fraction(1)) == []  # p̄ = 1: no spread, no limit (and no week below 1 for 7)
    assert rules([(8, 10)] * 8, Fraction(9, 10)) == ["shift"]  # 8 weeks below p̄, none below the limit


def test_shift_compares_exact_fractions_and_skips_empty_weeks() -> None:
    pooled = Fraction(2, 3)
    below = (1999, 3000)  # 0.66633… < 2/3
    assert rules([below, below, (0, 0), below, below, below, below, below], pooled) == ["shift"]  # 7 with a gap: a run
    equal = (2, 3)  # exactly p̄: not below
    assert rules([below, below, below, equal, below, below, below, below], pooled) == []


def test_trend_is_five_falling_points() -> None:
    falling = [(10, 10), (9, 10), (0, 0), (8, 10), (7, 10), (6, 10)]
    assert rules(falling, Fraction(1, 2)) == ["trend"]
    assert rules([(10, 10), (9, 10), (9, 10), (8, 10), (7, 10), (6, 10)], Fraction(1, 2)) == []  # a tie breaks it


def test_insufficient_counties_get_no_signal(signals_engine: sa.Engine) -> None:
    got = deterioration_signals(signals_engine, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE)
    small = got[got["status"] == "insufficient"]
    assert (small["baseline_due"] < DEFAULT_SETTINGS.spc_min_baseline_due).all() and (small["signals"] == "").all()


def test_the_meeting_and_the_priority_page_name_the_counties_getting_worse(signals_engine: sa.Engine,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from metrics.weekly import weekly_report
    from presentation.bulletin import bulletin_text
    from tests.apptest_support import switch_to
    from tests.conftest import REPO_ROOT

    want = expected("2024-06-30")
    flagged = want[want["signals"] != ""]
    report = weekly_report(signals_engine, dt.date(2024, 6, 30), scope=WHOLE_PROVINCE)
    assert list(report.signals["code"]) == list(flagged["code"])
    first = report.signals.iloc[0]
    assert first["sentence"].startswith(f"{first['name']}：近 8 周按期办结率 ") and "基线 26 周为" in first["sentence"]
    assert f"共 {len(flagged)} 个县（市、区）按期办结率出现变差信号" in bulletin_text(report)
    if signals_engine.dialect.name != "duckdb":
        return
    monkeypatch.setenv("DATABASE_URL", signals_engine.url.render_as_string(hide_password=False))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.query_params.update({"period": "custom", "asof": "2024-06-30", "from": "2024-01-01", "to": "2024-06-30"})
    at.run()
    switch_to(at, "priority").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [m.value for m in at.markdown if m.value.startswith("**▼ 变差**")]
    assert len(shown) == len(flagged)
    assert at.selectbox(key="signal_county").options == list(report.signals["name"])
