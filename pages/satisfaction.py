"""满意度: satisfaction, rating and dispute rates by the units below, by month, and the distribution of ratings."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from metrics.registry import METRICS_BY_ID
from metrics.request import Period
from metrics.series import Grain
from pages import hand_over
from presentation.palette import BLUE
from ui.charts import bar_chart, ranking_chart, selected_code, trend_chart
from ui.guard import guarded
from ui.kpi import kpi_cards
from ui.navigation import drill_to
from ui.regions import tree
from ui.scoped import ScopedData
from ui.tables import metric_table, percent_column_config, show_table
from ui.vega import show_chart
from ui.view import View

HEADLINE = ("satisfaction_rate", "rating_rate", "dispute_rate", "closed", "rated", "disputed")
RATES = ("satisfaction_rate", "rating_rate", "dispute_rate")
CITY_COLUMNS = ("closed", "rated", "satisfied", "satisfaction_rate", "rating_rate", "disputed", "dispute_rate")
SERIES_METRICS = ("closed", "disputed", *RATES)
TREND_MONTHS = 12


def months_back(as_of: dt.date, months: int) -> dt.date:
    """The first day of the month `months - 1` months before the month of `as_of`."""
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def by_child(children: pd.DataFrame, parent_row: pd.Series, parent_name: str, child_label: str) -> None:
    """Table of the units below against their parent and a ranking chart; a click on either opens the unit."""
    st.subheader(f"各{child_label}满意度")
    left, right = st.columns([3, 2], gap="large")
    with left:
        shown = children[["code", "name", *CITY_COLUMNS]]
        config = {"code": None, "name": st.column_config.TextColumn(child_label, pinned=True),
                  **{m: percent_column_config(m) for m in CITY_COLUMNS}}
        event = show_table(metric_table(shown, CITY_COLUMNS, parent_row), hide_index=True, column_config=config,
                           on_select="rerun", selection_mode="single-row", key="satisfaction_children",
                           width="stretch", height=min(40 + 35 * len(shown), 600))
        st.caption(f"比率较{parent_name}整体更差的标为橙色、更好的标为蓝色；点击一行进入下钻。")
        rows = event.selection.rows if event and event.selection else []
        if rows:
            drill_to(str(shown.iloc[rows[0]]["code"]))
    with right:
        metric_id = st.segmented_control("排名指标", RATES, default=RATES[0], key="satisfaction_rank",
                                         format_func=lambda m: METRICS_BY_ID[m].label) or RATES[0]
        event = show_chart(ranking_chart, children, metric_id, parent_row[metric_id], on_select="rerun",
                           key="satisfaction_ranking", parent_name=parent_name)
        st.caption(f"虚线为{parent_name}整体水平；点击进入下钻。")
        if (code := selected_code(event)) is not None:
            drill_to(code)


def monthly(view: View, data: ScopedData) -> None:
    """The three rates per month over the last twelve months up to the as-of date."""
    start = months_back(view.as_of, TREND_MONTHS)
    st.subheader(f"近 {TREND_MONTHS} 个月走势（{start:%Y-%m} 至 {view.as_of:%Y-%m}）")
    st.caption("每月为一个统计期，按该月月末（或截止日期，取较早者）日终的数据状态计算。")
    series = data.series(Period(start, view.as_of, view.as_of), Grain.MONTH, region=view.root,
                         filters=view.filters, metrics=SERIES_METRICS)
    if series.empty or series["closed"].sum() == 0:
        st.info("近 12 个月没有办结件。")
        return
    left, right = st.columns(2, gap="large")
    show_chart(trend_chart, series, ("satisfaction_rate", "rating_rate"), "closed", grain=Grain.MONTH, target=left)
    show_chart(trend_chart, series, ("dispute_rate",), "disputed", grain=Grain.MONTH, target=right)


def ratings(view: View, data: ScopedData) -> None:
    """How the cases closed in the period were rated: bars and the numbers."""
    st.subheader("评价分布（统计期内办结件）")
    distribution = data.ratings(view.period, view.root, view.filters)
    if distribution["cases"].sum() == 0:
        st.info("所选期间没有办结件。")
        return
    left, right = st.columns([3, 2], gap="large")
    show_chart(bar_chart, distribution, "label", "cases", "评价", "件数", color=BLUE, target=left)
    shown = distribution[["label", "cases", "share"]].assign(share=distribution["share"] * 100)  # one decimal, as elsewhere
    with right:
        show_table(shown, hide_index=True, width="stretch",
                   column_config={"label": st.column_config.TextColumn("评价"),
                                  "cases": st.column_config.NumberColumn("件数", format="localized"),
                                  "share": st.column_config.NumberColumn("占办结件", format="%.1f%%")})
    right.caption("群众满意率 = （满意＋基本满意）÷ 参评件；未评价的件不计入满意率，计入参评率的分母。")


def render(view: View, data: ScopedData) -> None:
    """Satisfaction of the viewer's region against the previous period and by the units below; trend; ratings."""
    regions = tree()
    root, level = view.root, regions.level(view.root)
    st.title("群众满意度")
    st.caption(view.caption())
    with guarded("满意度指标"):
        current = data.table(level, view.period, parent=root, filters=view.filters)
        previous = data.table(level, view.period.previous(), parent=root, filters=view.filters)
        kpi_cards(current.iloc[0], previous.iloc[0], HEADLINE,
                  previous_label=f"上一期（{view.period.previous().start}–{view.period.previous().end}）")
        if current.iloc[0]["closed"] == 0:
            st.info("所选期间没有办结件，无法比较满意度。")
        elif (child_level := level.child()) is not None:
            by_child(data.table(child_level, view.period, parent=root, filters=view.filters),
                     current.iloc[0], regions.name(root), child_level.label)
    with guarded("满意度走势"):
        monthly(view, data)
    with guarded("评价分布"):
        ratings(view, data)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
