"""Altair charts: weekly trend, ranking bars with click-to-drill, funnel plots.

Chart builders return altair objects (testable without a browser); pages hand them to
st.altair_chart.
"""
from __future__ import annotations

from typing import Any, TypeVar, assert_never

import altair as alt
import pandas as pd

from metrics.registry import METRICS_BY_ID, Direction
from metrics.series import Grain
from presentation.palette import BLUE, GREY, ORANGE, STATUS_COLOURS, VERMILLION

PICK = "pick"
FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
TEXT_PX = 14  # axis labels and titles, legends, bar values on a desk screen; a projector's charts ask for more


AnyChart = TypeVar("AnyChart", alt.Chart, alt.LayerChart, alt.FacetChart)


def _themed(chart: AnyChart, height: int, text_px: int = TEXT_PX) -> AnyChart:
    return chart.properties(height=height).configure_axis(labelFont=FONT, titleFont=FONT, labelFontSize=text_px,
                                                          titleFontSize=text_px).configure_legend(
        labelFont=FONT, titleFont=FONT, labelFontSize=text_px, titleFontSize=text_px).configure_title(
        font=FONT, fontSize=text_px + 2)


def upright_axis(side: str, **kwargs) -> alt.Axis:
    """A vertical axis whose title reads upright above its top end (not turned on its side), on the
    `side` ("left" or "right") the axis is drawn."""
    return alt.Axis(titleAngle=0, titleAnchor="end", titleBaseline="bottom", titleY=-12, titleX=0,
                    titleAlign="right" if side == "left" else "left", **kwargs)


def rate_domain(values: pd.Series) -> list[float]:
    """An honest range for a rate axis: from 0, up to 100% when the rates are high, else a little above
    the largest (a 3% rate gets 0–4%, not 2.6–3.3%, where noise would look dramatic)."""
    top = float(values.max()) if values.notna().any() else 1.0
    if top >= 0.5:
        return [0.0, 1.0]
    return [0.0, min(1.0, max(0.01, top * 1.25))]


def _bucket_axis(grain: Grain) -> tuple[str, str, str, str]:
    """Axis title, axis format, tooltip title, tooltip format of a series' buckets."""
    match grain:
        case Grain.WEEK:
            return "周（周一起）", "%m-%d", "周起", "%Y-%m-%d"
        case Grain.MONTH:
            return "月份", "%Y-%m", "月份", "%Y-%m"
    assert_never(grain)


def trend_chart(series: pd.DataFrame, rate_ids: tuple[str, ...] = ("on_time_rate", "satisfaction_rate"),
                volume_id: str = "received", height: int = 320, grain: Grain = Grain.WEEK) -> alt.LayerChart:
    """Rates as lines (left axis, %) over bars of volume (right axis), one point per bucket."""
    axis_title, axis_format, tip_title, tip_format = _bucket_axis(grain)
    base = alt.Chart(series).encode(x=alt.X("bucket_start:T", title=axis_title, axis=alt.Axis(format=axis_format)))
    bars = base.mark_bar(color="#c9d7e8", opacity=0.8).encode(
        y=alt.Y(f"{volume_id}:Q", title=METRICS_BY_ID[volume_id].label + "（件）",
                axis=upright_axis("right", orient="right", format=",d", tickMinStep=1)),
        tooltip=[alt.Tooltip("bucket_start:T", title=tip_title, format=tip_format),
                 alt.Tooltip(f"{volume_id}:Q", title=METRICS_BY_ID[volume_id].label)])
    long = series.melt(id_vars=["bucket_start"], value_vars=list(rate_ids), var_name="metric", value_name="rate")
    long["指标"] = long["metric"].map(lambda m: METRICS_BY_ID[m].label)
    lines = alt.Chart(long).mark_line(point=True, strokeWidth=3).encode(
        x="bucket_start:T",
        y=alt.Y("rate:Q", title="比率", axis=upright_axis("left", orient="left", format="%"),
                scale=alt.Scale(domain=rate_domain(long["rate"]))),
        color=alt.Color("指标:N", scale=alt.Scale(range=[BLUE, ORANGE, VERMILLION])),
        tooltip=[alt.Tooltip("bucket_start:T", title=tip_title, format=tip_format), "指标:N",
                 alt.Tooltip("rate:Q", title="值", format=".1%")])
    return _themed(alt.layer(lines, bars).resolve_scale(y="independent"), height)


def ranking_chart(frame: pd.DataFrame, metric_id: str, parent_value: float | None, height: int | None = None,
                  parent_name: str = "上级", text_px: int = TEXT_PX) -> alt.LayerChart:
    """Horizontal bars of one metric by region (best first), a rule at the parent's value, click selects a region.
    A frame with a `ranked` column (the weekly report's units, metrics.weekly.ranked_units) draws its unranked
    units grey, as the deck greys their rows, after the ranked ones."""
    m = METRICS_BY_ID[metric_id]
    ascending = m.direction is Direction.LOWER_BETTER
    ranks = "ranked" in frame.columns
    data = frame[["code", "name", metric_id, *(["ranked"] if ranks else [])]].copy()
    if ranks:
        data["ranked"] = data["ranked"].astype(bool)
        data = data.sort_values(["ranked", metric_id], ascending=[False, ascending], na_position="last", kind="stable")
    else:
        data = data.sort_values(metric_id, ascending=ascending, na_position="last")
    pick = alt.selection_point(name=PICK, fields=["code"], on="click")
    is_rate = m.unit == "%"
    fmt = ".1%" if is_rate else ",d"
    # room right of the longest bar for its value label; a rate's axis still stops at 100%
    top = float(data[metric_id].max()) if data[metric_id].notna().any() else 1.0
    top = max(top, parent_value or 0.0, 1e-9)
    axis = (alt.Axis(format="%", values=[i / 10 for i in range(11) if i / 10 <= min(1.0, top * 1.14)]) if is_rate
            else alt.Axis(format=",d"))
    base = alt.Chart(data).encode(
        y=alt.Y("name:N", sort=list(data["name"]), title=None),
        x=alt.X(f"{metric_id}:Q", title=m.label, axis=axis, scale=alt.Scale(domain=[0, top * 1.14], nice=False)))
    colour: Any = alt.condition(pick, alt.value(BLUE), alt.value(GREY))  # or a when-chain: a different Altair type
    if ranks:  # an unranked unit stays grey, picked or not
        colour = alt.when(~alt.datum.ranked).then(alt.value(GREY)).when(pick).then(alt.value(BLUE)).otherwise(
            alt.value(GREY))
    bars = base.mark_bar().encode(
        color=colour,
        tooltip=[alt.Tooltip("name:N", title="地区"), alt.Tooltip(f"{metric_id}:Q", title=m.label, format=fmt)],
    ).add_params(pick)
    values = base.mark_text(align="left", baseline="middle", dx=4, fontSize=text_px - 1, font=FONT, color="#333333").encode(
        text=alt.Text(f"{metric_id}:Q", format=fmt))
    layers: list[alt.Chart] = [bars, values]
    if parent_value is not None and parent_value == parent_value:
        rule = alt.Chart(pd.DataFrame({"v": [parent_value]})).mark_rule(color=VERMILLION, strokeDash=[6, 4], size=2).encode(
            x="v:Q", tooltip=[alt.Tooltip("v:Q", title=f"{parent_name}整体", format=fmt)])
        layers.append(rule)
    return _themed(alt.LayerChart(layer=layers), height or max(240, 30 * len(data)), text_px)


def selected_code(event: object) -> str | None:
    """The region code a click on a ranking chart selected, if any."""
    try:
        points = event.selection[PICK]  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if isinstance(points, list) and points:
        return points[0].get("code")
    return None


def selected_cell(event: object) -> tuple[str, str] | None:
    """The region code and the value (domain or channel) of the heat-map cell a click selected, if any."""
    try:
        points = event.selection[PICK]  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if isinstance(points, list) and points and points[0].get("code") and points[0].get("value"):
        return str(points[0]["code"]), str(points[0]["value"])
    return None


def funnel_chart(points: pd.DataFrame, limits: pd.DataFrame, volume: str, rate: str, pooled: float, title: str,
                 volume_title: str, rate_title: str, height: int = 420) -> alt.LayerChart:
    """Rate against volume with the pooled rate and the 95% / 99.8% control limits; flagged counties labelled."""
    band = limits.melt(id_vars=["n"], value_vars=["lower_95", "upper_95", "lower_998", "upper_998"],
                       var_name="limit", value_name="value")
    band["控制限"] = band["limit"].map(lambda s: "95% 控制限" if s.endswith("_95") else "99.8% 控制限")
    band["side"] = band["limit"].str.split("_").str[0]
    lines = alt.Chart(band).mark_line(strokeDash=[5, 4]).encode(
        x=alt.X("n:Q", title=volume_title), y=alt.Y("value:Q"), detail="limit:N",
        color=alt.Color("控制限:N", scale=alt.Scale(domain=["95% 控制限", "99.8% 控制限"], range=[ORANGE, VERMILLION])))
    centre = alt.Chart(pd.DataFrame({"y": [pooled]})).mark_rule(color=GREY, size=2).encode(y="y:Q")
    data = points[["name", "city_name", volume, rate, "z", "status", "status_label"]].copy()  # only what is drawn
    data["状态"] = data["status_label"]
    dots = alt.Chart(data).mark_circle(size=110, opacity=0.85, stroke="white", strokeWidth=1).encode(
        x=alt.X(f"{volume}:Q", title=volume_title),
        y=alt.Y(f"{rate}:Q", title=rate_title, axis=alt.Axis(format="%")),
        color=alt.Color("状态:N", scale=alt.Scale(domain=list(_status_domain()), range=list(_status_range()))),
        tooltip=[alt.Tooltip("name:N", title="县（市、区）"), alt.Tooltip("city_name:N", title="所属市"),
                 alt.Tooltip(f"{volume}:Q", title=volume_title), alt.Tooltip(f"{rate}:Q", title=rate_title, format=".1%"),
                 alt.Tooltip("z:Q", title="z 值", format=".2f"), "状态:N"])
    flagged = data[data["status"].isin(["priority", "watch"])]
    labels = alt.Chart(flagged).mark_text(align="left", dx=8, dy=-6, fontSize=13, font=FONT).encode(
        x=f"{volume}:Q", y=f"{rate}:Q", text="name:N")
    # two colour legends (limits, statuses): without independent scales altair merges their domains
    chart = alt.layer(lines, centre, dots, labels).resolve_scale(color="independent").properties(title=title)
    return _themed(chart, height)


def _status_domain() -> tuple[str, ...]:
    return ("重点督导", "关注", "正常", "样本不足")


def _status_range() -> tuple[str, ...]:
    return (STATUS_COLOURS["priority"], STATUS_COLOURS["watch"], STATUS_COLOURS["normal"], STATUS_COLOURS["insufficient"])


def bar_chart(frame: pd.DataFrame, x: str, y: str, x_title: str, y_title: str, color: str = BLUE,
              height: int = 300, y_format: str = ",d") -> alt.Chart:
    """A plain vertical bar chart with tooltips (categories on x)."""
    chart = alt.Chart(frame).mark_bar(color=color).encode(
        x=alt.X(f"{x}:N", title=x_title, sort=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format, tickMinStep=1 if y_format == ",d" else alt.Undefined)),
        tooltip=[alt.Tooltip(f"{x}:N", title=x_title), alt.Tooltip(f"{y}:Q", title=y_title, format=y_format)])
    return _themed(chart, height)


def stacked_bar_chart(frame: pd.DataFrame, category: str, stack: str, value: str, stack_order: list[str],
                      colours: list[str], category_title: str, value_title: str, height: int | None = None,
                      stack_title: str = "区间") -> alt.Chart:
    """Horizontal bars per category, stacked in `stack_order` (one colour each), categories as given."""
    order = {s: i for i, s in enumerate(stack_order)}
    data = frame.assign(_order=frame[stack].map(order))
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort=list(dict.fromkeys(frame[category])), title=category_title),
        x=alt.X(f"sum({value}):Q", title=value_title, axis=alt.Axis(format=",d", tickMinStep=1)),
        color=alt.Color(f"{stack}:N", sort=stack_order, title=None,
                        scale=alt.Scale(domain=stack_order, range=colours), legend=alt.Legend(orient="top")),
        order=alt.Order("_order:Q"),
        tooltip=[alt.Tooltip(f"{category}:N", title=category_title), alt.Tooltip(f"{stack}:N", title=stack_title),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=",d")])
    return _themed(chart, height or max(240, 30 * frame[category].nunique()))


def p_chart_chart(frame: pd.DataFrame, title: str, height: int = 300) -> alt.LayerChart:
    """A county's weekly on-time rate (points), its baseline centre line and lower control limit; recent
    weeks shaded; weeks below the limit in vermillion."""
    data = frame.assign(状态=frame["below"].map({True: "低于控制下限", False: "在控制限内"}))
    x = alt.X("week_start:T", title="周（周一起）", axis=alt.Axis(format="%m-%d"))
    recent = data[data["phase"] == "recent"]
    shade = alt.Chart(pd.DataFrame({"start": [recent["week_start"].min()], "end": [recent["week_start"].max()]})).mark_rect(
        color="#eeeeee").encode(x="start:T", x2="end:T")
    centre = alt.Chart(data).mark_line(color=GREY, strokeDash=[6, 4]).encode(x=x, y="centre:Q")
    lower = alt.Chart(data).mark_line(color=ORANGE, interpolate="step-after").encode(x=x, y="lower:Q")
    points = alt.Chart(data).mark_line(point=True, color=BLUE).encode(
        x=x, y=alt.Y("rate:Q", title="按期办结率", axis=upright_axis("left", orient="left", format="%"),
                     scale=alt.Scale(domain=[0.0, 1.0])),
        tooltip=[alt.Tooltip("week_start:T", title="周起", format="%Y-%m-%d"), alt.Tooltip("rate:Q", title="按期办结率", format=".1%"),
                 alt.Tooltip("due:Q", title="应办结件"), alt.Tooltip("lower:Q", title="控制下限", format=".1%"), "状态:N"])
    fired = alt.Chart(data[data["below"]]).mark_point(color=VERMILLION, size=140, filled=True).encode(x=x, y="rate:Q")
    return _themed(alt.LayerChart(layer=[shade, centre, lower, points, fired]).properties(title=title), height)


def heatmap_chart(frame: pd.DataFrame, value_title: str, height: int | None = None) -> alt.LayerChart:
    """Regions (rows) by domain or channel (columns), coloured by the value's share of the region's
    reports; a rising hot spot outlined; a click on a cell selects its region and value."""
    pick = alt.selection_point(name=PICK, fields=["code", "value"], on="click")
    base = alt.Chart(frame).encode(
        y=alt.Y("name:N", title=None, sort=list(dict.fromkeys(frame["name"])), axis=alt.Axis(labelOverlap=False)),
        x=alt.X("label:N", title=value_title, sort=list(dict.fromkeys(frame["label"])), axis=alt.Axis(labelAngle=0, orient="top")))
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title="占本地区收件", scale=alt.Scale(scheme="blues", domain=[0, float(frame["share"].max() or 1)]),
                        legend=alt.Legend(format="%")),
        stroke=alt.condition("datum.rising", alt.value(VERMILLION), alt.value("white")),
        strokeWidth=alt.condition("datum.rising", alt.value(3), alt.value(1)),
        tooltip=[alt.Tooltip("name:N", title="地区"), alt.Tooltip("label:N", title=value_title),
                 alt.Tooltip("received:Q", title="本期收件"), alt.Tooltip("previous:Q", title="上期收件"),
                 alt.Tooltip("change:Q", title="增减"), alt.Tooltip("share:Q", title="占本地区收件", format=".1%"),
                 alt.Tooltip("z:Q", title="z 值", format=".2f")],
    ).add_params(pick)
    numbers = base.mark_text(fontSize=12, font=FONT).encode(
        text="received:Q", color=alt.condition("datum.share > 0.3", alt.value("white"), alt.value("#333333")))
    return _themed(alt.LayerChart(layer=[cells, numbers]), height or max(200, 34 * frame["name"].nunique()))


def lines_chart(frame: pd.DataFrame, x: str, y: str, series: str, x_title: str, y_title: str, height: int = 320) -> alt.Chart:
    """One line per `series` value over time (months)."""
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X(f"{x}:T", title=x_title, axis=alt.Axis(format="%Y-%m", tickCount={"interval": "month", "step": 1},
                                                       labelOverlap=True)),  # one tick a month, never mid-month
        y=alt.Y(f"{y}:Q", title=y_title, axis=upright_axis("left", orient="left", format=",d", tickMinStep=1)),
        color=alt.Color(f"{series}:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip(f"{x}:T", title="月份", format="%Y-%m"), f"{series}:N", alt.Tooltip(f"{y}:Q", title=y_title)])
    return _themed(chart, height)

