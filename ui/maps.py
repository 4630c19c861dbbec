"""The choropleth widget of 总览 and 地区下钻: the units' shapes fitted to the map, coloured by a
metric, with a legend; a click on a shape reports its code."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data_access.reference.enums import Level

from . import geo  # called through the module: tests spy on geo.choropleth

MAP_WIDTH_PX = {"wide": 1200, "half": 760}  # the map's assumed width: the zoom fits the units into it


def region_map(province: str, unit_level: Level, units: pd.DataFrame, metric: str | geo.MapMeasure, *, key: str,
               height: int = 620, width: str = "wide") -> str | None:
    """Draw the units of `units` (code, name, the measure's column) of `unit_level` on a map, coloured by
    `metric` (a registry metric id or a MapMeasure); the code of the unit a click picked, or None."""
    if (whole := geo.boundaries(province, unit_level)) is None:
        st.info(f"未配置本省的{unit_level.label}界数据，无法绘制地图。")
        return None
    codes = set(units["code"])
    wanted = [f for f in whole["features"] if f["properties"]["code"] in codes]
    if not wanted:
        st.info("所选地区没有可绘制的边界。")
        return None
    lon, lat, zoom = geo.fit_view(wanted, MAP_WIDTH_PX[width], height)
    inset = geo.boundaries(province, unit_level, inset_for_zoom=zoom) or whole
    shown = {"type": "FeatureCollection", "features": [f for f in inset["features"] if f["properties"]["code"] in codes]}
    measure = geo.measure_of(metric)
    deck = geo.choropleth(shown, units, measure, lon, lat, zoom=zoom)
    picked = st.pydeck_chart(deck, height=height, on_select="rerun", selection_mode="single-object", key=key)
    legend = "".join(f'<span class="legend-swatch" style="background:{c}"></span>{t}'
                     for c, t in geo.legend_items(units, measure))
    st.markdown(f"{measure.label}（颜色越深越需关注；灰色为无数据）：{legend}", unsafe_allow_html=True)
    return geo.selected_county(picked)
