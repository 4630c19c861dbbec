"""Chart specs a supervisor reads honestly: rate axes from zero with upright titles, bars with their values."""
from __future__ import annotations

import pandas as pd
import pytest

from ui.charts import ranking_chart, rate_domain, trend_chart

WEEKS = pd.to_datetime(["2024-06-03", "2024-06-10", "2024-06-17"])


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


@pytest.mark.parametrize(("rates", "domain"), [
    ([0.89, 0.93, 0.91], [0.0, 1.0]),  # high rates: the whole 0-100%, not 89-93%
    ([0.026, 0.033, 0.03], [0.0, pytest.approx(0.033 * 1.25)]),  # small rates: from 0 to a little above the largest
    ([0.0, 0.0, 0.001], [0.0, 0.01]),  # nearly nothing: at least 0-1%
    ([None, None, None], [0.0, 1.0]),
])
def test_rate_axis_starts_at_zero(rates: list, domain: list) -> None:
    assert rate_domain(pd.Series(rates, dtype=float)) == domain


def test_trend_chart_axes_are_upright_and_honest() -> None:
    series = pd.DataFrame({"bucket_start": WEEKS, "dispute_rate": [0.026, 0.033, 0.03], "disputed": [3, 4, 3]})
    lines, bars = _layers(trend_chart(series, ("dispute_rate",), "disputed").to_dict())
    rate_axis, count_axis = lines["encoding"]["y"], bars["encoding"]["y"]
    assert rate_axis["scale"]["domain"] == [0.0, pytest.approx(0.04125)]
    for axis, side in ((rate_axis, "left"), (count_axis, "right")):
        assert axis["axis"]["titleAngle"] == 0 and axis["axis"]["orient"] == side
    assert count_axis["title"] == "结而不服件（件）"


def test_ranking_bars_carry_their_values_and_the_parent_is_named() -> None:
    frame = pd.DataFrame({"code": ["370100", "370200"], "name": ["济南市", "青岛市"], "on_time_rate": [0.912, 0.875]})
    bars, values, rule = _layers(ranking_chart(frame, "on_time_rate", 0.9, parent_name="全省").to_dict())
    assert values["mark"]["type"] == "text" and values["encoding"]["text"]["format"] == ".1%"
    assert values["encoding"]["text"]["field"] == "on_time_rate"
    assert rule["encoding"]["tooltip"][0]["title"] == "全省整体"
    x = bars["encoding"]["x"]
    assert x["scale"]["domain"][1] > 0.912 and max(x["axis"]["values"]) <= 1.0
