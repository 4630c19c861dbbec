"""总览: headline KPIs with change, weekly trend, ranking of the units below, county map.

For a province viewer this is the province; for a city or county viewer, their own region.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from data_access.reference.enums import Level
from metrics.registry import METRICS_BY_ID
from metrics.request import Period
from metrics.series import Grain
from pages import hand_over
from reports.brief import PDF, PNG, brief_bytes, brief_name
from reports.charts import CJKFontMissing, cjk_font
from ui.charts import ranking_chart, selected_code, trend_chart
from ui.downloads import recorded_download
from ui.guard import guarded
from ui.kpi import kpi_cards, warning_strip
from ui.maps import region_map
from ui.navigation import drill_to
from ui.regions import tree
from ui.scoped import ScopedData
from ui.vega import show_chart
from ui.view import View

TREND_WEEKS = 26
RANKING_METRICS = ("on_time_rate", "first_on_time_rate", "satisfaction_rate", "overdue", "leapfrog_rate", "dispute_rate")
MAP_METRICS = ("on_time_rate", "overdue")
BRIEF_MIME = {PDF: "application/pdf", PNG: "image/png"}


def headline(view: View, data: ScopedData, level: Level) -> pd.Series | None:
    """The KPI cards of the viewer's region against the previous period; its row (None when it failed)."""
    previous_period = view.period.previous()
    with guarded("核心指标"):
        current = data.table(level, view.period, parent=view.root, filters=view.filters)
        previous = data.table(level, previous_period, parent=view.root, filters=view.filters)
        kpi_cards(current.iloc[0], previous.iloc[0], previous_label=f"上一期（{previous_period.start}–{previous_period.end}）")
        counts = data.warning_counts(view.as_of, level, view.filters, parent=view.root)
        warning_strip(counts, None, view.as_of, data.settings.warning_workdays)
        return current.iloc[0]
    return None


def trend(view: View, data: ScopedData) -> None:
    """Received cases, on-time and satisfaction rates per week over the last 26 weeks."""
    st.subheader("近 26 周走势")
    trend_start = view.as_of - dt.timedelta(weeks=TREND_WEEKS - 1)
    weekly = data.series(Period(trend_start, view.as_of, view.as_of), Grain.WEEK, region=view.root, filters=view.filters,
                         metrics=("received", "on_time_rate", "satisfaction_rate"))
    if weekly.empty or weekly["received"].sum() == 0:
        st.info("所选时间范围内没有案件。")
    else:
        show_chart(trend_chart, weekly)


def ranking(view: View, data: ScopedData, child_level: Level, root_row: pd.Series | None, root_name: str) -> None:
    """The units below ranked by a chosen metric; a click on a bar opens the unit."""
    st.subheader(f"各{child_level.label}排名")
    metric_id = st.selectbox("排名指标", RANKING_METRICS, format_func=lambda m: METRICS_BY_ID[m].label,
                             key="rank_metric")
    children = data.table(child_level, view.period, parent=view.root, filters=view.filters)
    parent_value = root_row[metric_id] if root_row is not None else None
    event = show_chart(ranking_chart, children, metric_id, parent_value, on_select="rerun", key="child_ranking",
                       parent_name=root_name)
    st.caption(f"虚线为{root_name}整体水平；点击进入下钻。")
    if (code := selected_code(event)) is not None:
        drill_to(code)


def county_map(view: View, data: ScopedData) -> None:
    """The counties in the viewer's region coloured by a chosen metric; a click on one opens it."""
    st.subheader("县（市、区）分布图")
    map_metric = st.segmented_control("地图指标", MAP_METRICS, default=MAP_METRICS[0], key="map_metric",
                                      format_func=lambda m: METRICS_BY_ID[m].label) or MAP_METRICS[0]
    counties = data.table(Level.COUNTY, view.period, parent=view.root, filters=view.filters)
    if (code := region_map(view.province, Level.COUNTY, counties, map_metric, key="county_map")) is not None:
        drill_to(code)


def leaders_brief(view: View, data: ScopedData, root_name: str) -> None:
    """领导简报: this page on one A4 page (PDF or PNG) for those who will not open the dashboard; built on the click
    (audited as a download) from the same numbers, for the viewer's region."""
    st.subheader("领导简报")
    st.caption(f"本页的核心指标、三色预警、县域分布图、排名与重点督导县（截至 {view.chosen_date} 的近 "
               f"{data.settings.priority_window_months} 个月滚动检验）印成一页 A4，数字与本页一致。")
    try:
        cjk_font()
        font_problem = None
    except CJKFontMissing as exc:
        font_problem = str(exc)
    facts = data.brief_later(view.period, view.filters, view.chosen_date)

    def built(fmt: str) -> Callable[[], bytes]:
        return lambda: brief_bytes(facts(), fmt)

    left, right, _ = st.columns([1, 1, 3])
    for column, fmt, label in ((left, PDF, "下载简报（PDF）"), (right, PNG, "下载简报（图片）")):
        name = brief_name(root_name, view.period, fmt)
        column.download_button(label, recorded_download(built(fmt), name), file_name=name, mime=BRIEF_MIME[fmt],
                               key=f"brief_{fmt}", on_click="ignore", icon=":material/download:",
                               disabled=font_problem is not None)
    if font_problem:
        st.warning(font_problem)


def render(view: View, data: ScopedData) -> None:
    """The viewer's region: KPIs, the 26-week trend, the units below ranked, the county map, the leaders' brief."""
    regions = tree()
    level = regions.level(view.root)
    st.title(f"{regions.name(view.root)} 信访举报督导总览")
    st.caption(view.caption())
    root_row = headline(view, data, level)
    left, right = st.columns([3, 2], gap="large")
    with left, guarded("近 26 周走势"):
        trend(view, data)
    if (child_level := level.child()) is not None:
        with right, guarded(f"各{child_level.label}排名"):
            ranking(view, data, child_level, root_row, regions.name(view.root))
    with guarded("县（市、区）分布图"):
        county_map(view, data)
    with guarded("领导简报"):
        leaders_brief(view, data, regions.name(view.root))


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
