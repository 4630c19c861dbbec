"""总览: headline KPIs with change, weekly trend, ranking of the units below, county map.

For a province viewer this is the province; for a city or county viewer, their own region.
"""
from __future__ import annotations

import datetime as dt

import streamlit as st

from data_access.enums import Level
from metrics.registry import METRICS_BY_ID
from metrics.request import Period
from metrics.series import Grain
from ui.charts import ranking_chart, selected_code, trend_chart
from ui.vega import show_chart
from ui.guard import guarded
from ui.kpi import kpi_cards
from ui.maps import region_map
from ui.navigation import drill_to
from ui.regions import tree
from ui.scoped import scoped
from ui.view import current_view

TREND_WEEKS = 26
RANKING_METRICS = ("on_time_rate", "first_on_time_rate", "satisfaction_rate", "overdue", "leapfrog_rate", "dispute_rate")
MAP_METRICS = ("on_time_rate", "overdue")

view = current_view()
regions = tree()
data = scoped()
root, level = view.root, regions.level(view.root)
previous_period = view.period.previous()

st.title(f"{regions.name(root)} 信访举报督导总览")
st.caption(view.caption())

root_row = None
with guarded("核心指标"):
    current = data.table(level, view.period, parent=root, filters=view.filters)
    previous = data.table(level, previous_period, parent=root, filters=view.filters)
    kpi_cards(current.iloc[0], previous.iloc[0], previous_label=f"上一期（{previous_period.start}–{previous_period.end}）")
    root_row = current.iloc[0]

left, right = st.columns([3, 2], gap="large")
with left, guarded("近 26 周走势"):
    st.subheader("近 26 周走势")
    trend_start = view.as_of - dt.timedelta(weeks=TREND_WEEKS - 1)
    weekly = data.series(Period(trend_start, view.as_of, view.as_of), Grain.WEEK, region=root, filters=view.filters,
                         metrics=("received", "on_time_rate", "satisfaction_rate"))
    if weekly.empty or weekly["received"].sum() == 0:
        st.info("所选时间范围内没有案件。")
    else:
        show_chart(trend_chart, weekly)
child_level = level.child()
if child_level is not None:
    with right, guarded(f"各{child_level.label}排名"):
        st.subheader(f"各{child_level.label}排名")
        metric_id = st.selectbox("排名指标", RANKING_METRICS, format_func=lambda m: METRICS_BY_ID[m].label,
                                 key="rank_metric")
        children = data.table(child_level, view.period, parent=root, filters=view.filters)
        parent_value = root_row[metric_id] if root_row is not None else None
        event = show_chart(ranking_chart, children, metric_id, parent_value, on_select="rerun", key="child_ranking")
        st.caption(f"虚线为{regions.name(root)}整体水平；点击进入下钻。")
        if (code := selected_code(event)) is not None:
            drill_to(code)

with guarded("县（市、区）分布图"):
    st.subheader("县（市、区）分布图")
    map_metric = st.segmented_control("地图指标", MAP_METRICS, default=MAP_METRICS[0], key="map_metric",
                                      format_func=lambda m: METRICS_BY_ID[m].label) or MAP_METRICS[0]
    counties = data.table(Level.COUNTY, view.period, parent=root, filters=view.filters)
    if (code := region_map(view.province, Level.COUNTY, counties, map_metric, key="county_map")) is not None:
        drill_to(code)
