"""Chart specs a supervisor reads honestly: rate axes from zero with upright titles, bars with their values."""
from __future__ import annotations

import pandas as pd
import pytest

from metrics.weekly import ranked_units
from presentation.palette import BLUE, GREY
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


def test_ranking_greys_the_units_too_few_to_rank_and_lists_them_last() -> None:
    """威海市 with 2 due cases at 100% is not ranked (metrics.weekly.ranked_units, the rule the deck greys its rows
    by): its bar is grey whatever is picked, after the ranked units; on the projector every text is at least 18 px."""
    this = pd.DataFrame({"code": ["370100", "370200", "371000"], "name": ["济南市", "青岛市", "威海市"],
                         "due": [40, 30, 2], "on_time_rate": [0.8, 0.9, 1.0]})
    spec = ranking_chart(ranked_units(this, this), "on_time_rate", 0.85, height=120, text_px=20).to_dict()
    bars, values, _ = _layers(spec)
    assert bars["encoding"]["color"] == {"condition": [{"test": "(!datum.ranked)", "value": GREY},
                                                       {"param": "pick", "value": BLUE}], "value": GREY}
    rows = spec["datasets"][bars["data"]["name"]]
    assert [(r["name"], r["ranked"]) for r in rows] == [("青岛市", True), ("济南市", True), ("威海市", False)]
    axis = spec["config"]["axis"]
    assert (axis["labelFontSize"], axis["titleFontSize"], values["mark"]["fontSize"]) == (20, 20, 19)


def test_ranking_without_a_rank_rule_colours_by_the_pick_only() -> None:
    frame = pd.DataFrame({"code": ["370100", "371000"], "name": ["济南市", "威海市"], "on_time_rate": [0.8, 1.0]})
    bars, values, _ = _layers(ranking_chart(frame, "on_time_rate", 0.85).to_dict())
    assert bars["encoding"]["color"] == {"condition": {"param": "pick", "value": BLUE}, "value": GREY}
    assert values["mark"]["fontSize"] == 13
