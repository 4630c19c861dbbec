"""满意度: satisfaction, rating and dispute rates by city and by month, and the distribution of ratings."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access.enums import Level
from metrics.registry import METRICS_BY_ID
from metrics.request import Period, TableRequest
from metrics.series import Grain, SeriesRequest
from ui import runtime
from ui.charts import bar_chart, ranking_chart, selected_code, trend_chart
from ui.format import percent_column_config
from ui.kpi import kpi_cards
from ui.navigation import drill_to
from ui.palette import BLUE
from ui.tables import metric_table, show_table
from ui.view import View, current_view

HEADLINE = ("satisfaction_rate", "rating_rate", "dispute_rate", "closed", "rated", "disputed")
RATES = ("satisfaction_rate", "rating_rate", "dispute_rate")
CITY_COLUMNS = ("closed", "rated", "satisfied", "satisfaction_rate", "rating_rate", "disputed", "dispute_rate")
SERIES_METRICS = ("closed", "disputed", *RATES)
TREND_MONTHS = 12


def months_back(as_of: dt.date, months: int) -> dt.date:
    """The first day of the month `months - 1` months before the month of `as_of`."""
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def by_city(cities: pd.DataFrame, province_row: pd.Series) -> None:
    """Table of the cities against the province and a ranking chart; a click on either opens the city."""
    st.subheader("各市满意度")
    left, right = st.columns([3, 2], gap="large")
    with left:
        shown = cities[["code", "name", *CITY_COLUMNS]]
        config = {"code": None, "name": st.column_config.TextColumn("市", pinned=True),
                  **{m: percent_column_config(m) for m in CITY_COLUMNS}}
        event = show_table(metric_table(shown, CITY_COLUMNS, province_row), hide_index=True,
                             column_config=config, on_select="rerun", selection_mode="single-row",
                             key="satisfaction_cities", width="stretch", height=40 + 35 * len(shown))
        st.caption("比率较全省整体更差的标为橙色、更好的标为蓝色；点击一行进入该市。")
        rows = event.selection.rows if event and event.selection else []
        if rows:
            drill_to(str(shown.iloc[rows[0]]["code"]))
    with right:
        metric_id = st.segmented_control("排名指标", RATES, default=RATES[0], key="satisfaction_rank",
                                         format_func=lambda m: METRICS_BY_ID[m].label) or RATES[0]
        event = st.altair_chart(ranking_chart(cities, metric_id, province_row[metric_id]), width="stretch",
                                on_select="rerun", key="satisfaction_ranking")
        st.caption("虚线为全省整体水平；点击某市进入下钻。")
        if (code := selected_code(event)) is not None:
            drill_to(code)


def monthly(view: View, url: str, version: str) -> None:
    """The three rates per month over the last twelve months up to the as-of date."""
    start = months_back(view.as_of, TREND_MONTHS)
    st.subheader(f"近 {TREND_MONTHS} 个月走势（{start:%Y-%m} 至 {view.as_of:%Y-%m}）")
    st.caption("每月为一个统计期，按该月月末（或截止日期，取较早者）日终的数据状态计算。")
    series = runtime.series(url, version, SeriesRequest(Period(start, view.as_of, view.as_of), Grain.MONTH,
                                                        filters=view.filters, metrics=SERIES_METRICS))
    if series.empty or series["closed"].sum() == 0:
        st.info("近 12 个月没有办结件。")
        return
    left, right = st.columns(2, gap="large")
    left.altair_chart(trend_chart(series, ("satisfaction_rate", "rating_rate"), "closed", grain=Grain.MONTH),
                      width="stretch")
    right.altair_chart(trend_chart(series, ("dispute_rate",), "disputed", grain=Grain.MONTH), width="stretch")


def ratings(view: View, url: str, version: str) -> None:
    """How the cases closed in the period were rated: bars and the numbers."""
    st.subheader("评价分布（统计期内办结件）")
    distribution = runtime.ratings(url, version, view.period, None, view.filters, None)
    if distribution["cases"].sum() == 0:
        st.info("所选期间没有办结件。")
        return
    left, right = st.columns([3, 2], gap="large")
    left.altair_chart(bar_chart(distribution, "label", "cases", "评价", "件数", color=BLUE), width="stretch")
    right.dataframe(distribution[["label", "cases", "share"]], hide_index=True, width="stretch",
                    column_config={"label": st.column_config.TextColumn("评价"),
                                   "cases": st.column_config.NumberColumn("件数", format="localized"),
                                   "share": st.column_config.NumberColumn("占办结件", format="percent")})
    right.caption("群众满意率 = （满意＋基本满意）÷ 参评件；未评价的件不计入满意率，计入参评率的分母。")


view = current_view()
url, version = runtime.database_url(), runtime.data_version()

st.title("群众满意度")
st.caption(view.caption())
province = runtime.table(url, version, TableRequest(Level.PROVINCE, view.period, filters=view.filters))
previous = runtime.table(url, version, TableRequest(Level.PROVINCE, view.period.previous(), filters=view.filters))
kpi_cards(province.iloc[0], previous.iloc[0], HEADLINE,
          previous_label=f"上一期（{view.period.previous().start}–{view.period.previous().end}）")

if province.iloc[0]["closed"] == 0:
    st.info("所选期间没有办结件，无法按市比较满意度。")
else:
    by_city(runtime.table(url, version, TableRequest(Level.CITY, view.period, filters=view.filters)), province.iloc[0])
monthly(view, url, version)
ratings(view, url, version)
