"""全省总览: headline KPIs with change, weekly trend, city ranking, county map."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from data_access.enums import Level
from metrics.registry import METRICS_BY_ID
from metrics.request import Period, TableRequest
from metrics.series import Grain, SeriesRequest
from ui import runtime
from ui.charts import ranking_chart, selected_code, trend_chart
from ui.geo import boundaries, choropleth, legend_items, selected_county
from ui.kpi import kpi_cards
from ui.navigation import drill_to
from ui.regions import tree
from ui.view import current_view

TREND_WEEKS = 26
RANKING_METRICS = ("on_time_rate", "first_on_time_rate", "satisfaction_rate", "overdue", "leapfrog_rate", "dispute_rate")
MAP_METRICS = ("on_time_rate", "overdue")

view = current_view()
regions = tree()
url, version = runtime.database_url(), runtime.data_version()
province = regions.province

st.title(f"{regions.name(province)} 信访举报督导总览")
st.caption(view.caption())

current = runtime.table(url, version, TableRequest(Level.PROVINCE, view.period, filters=view.filters))
previous = runtime.table(url, version, TableRequest(Level.PROVINCE, view.period.previous(), filters=view.filters))
kpi_cards(current.iloc[0], previous.iloc[0], previous_label=f"上一期（{view.period.previous().start}–{view.period.previous().end}）")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("近 26 周走势")
    trend_start = view.as_of - dt.timedelta(weeks=TREND_WEEKS - 1)
    weekly = runtime.series(url, version, SeriesRequest(Period(trend_start, view.as_of, view.as_of), Grain.WEEK,
                                                        filters=view.filters))
    if weekly.empty or weekly["received"].sum() == 0:
        st.info("所选时间范围内没有案件。")
    else:
        st.altair_chart(trend_chart(weekly), width="stretch")
with right:
    st.subheader("各市排名")
    metric_id = st.selectbox("排名指标", RANKING_METRICS, format_func=lambda m: METRICS_BY_ID[m].label, key="rank_metric")
    cities = runtime.table(url, version, TableRequest(Level.CITY, view.period, filters=view.filters))
    event = st.altair_chart(ranking_chart(cities, metric_id, current.iloc[0][metric_id]), width="stretch",
                            on_select="rerun", key="city_ranking")
    st.caption("虚线为全省整体水平；点击某市进入下钻。")
    if (code := selected_code(event)) is not None:
        drill_to(code)

st.subheader("县（市、区）分布图")
map_metric = st.segmented_control("地图指标", MAP_METRICS, default=MAP_METRICS[0], key="map_metric",
                                  format_func=lambda m: METRICS_BY_ID[m].label) or MAP_METRICS[0]
counties = runtime.table(url, version, TableRequest(Level.COUNTY, view.period, filters=view.filters))
geojson = boundaries(province)
if geojson is None:
    st.info("未配置本省的县界数据，无法绘制地图。")
else:
    lon, lat = regions.centre(province)
    deck = choropleth(geojson, counties, map_metric, lon, lat, zoom=6.2)
    picked = st.pydeck_chart(deck, height=620, on_select="rerun", selection_mode="single-object", key="county_map")
    legend = "".join(f'<span class="legend-swatch" style="background:{c}"></span>{t}' for c, t in legend_items(counties, map_metric))
    st.markdown(f"{METRICS_BY_ID[map_metric].label}（颜色越深越需关注；灰色为无数据）：{legend}", unsafe_allow_html=True)
    if (code := selected_county(picked)) is not None:
        drill_to(code)
