"""地区下钻: breadcrumb, KPIs, child units against the parent (table, bars, map), and at county level
the case list."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data_access.reference.enums import Channel, Level
from metrics.caselists import CaseStatus
from metrics.registry import METRICS_BY_ID
from metrics.warnings import COLOUR_ORDER
from pages import hand_over
from ui.access import current_identity, is_supervisor
from ui.charts import ranking_chart, selected_code
from ui.downloads import download_buttons, for_people
from ui.guard import guarded
from ui.kpi import kpi_cards, warning_strip
from ui.maps import region_map
from ui.navigation import supervise
from ui.regions import RegionTree, tree
from ui.scoped import ScopedData
from ui.tables import WARNING_LABELS, highlight_warnings, metric_table, percent_column_config, show_table
from ui.vega import show_chart
from ui.view import REGION_PARAM, View, current_region

CHILD_METRICS = ("received", "accepted", "on_time_rate", "first_on_time_rate", "overdue", "satisfaction_rate",
                 "leapfrog_rate", "repeat_rate", "dispute_rate", "avg_handling_days")
MAP_HEIGHT = 480


def go(code: str) -> None:
    """Move the drill-down to `code` (pushes a browser history entry)."""
    st.query_params[REGION_PARAM] = code


def breadcrumb(regions: RegionTree, code: str, root: str) -> None:
    chain = regions.ancestors(code)
    with st.container(horizontal=True, gap=None):
        for i, c in enumerate(chain[chain.index(root):]):
            label = ("› " if i else "") + regions.name(c)
            st.button(label, key=f"crumb_{c}", on_click=go, args=(c,), disabled=(c == code), type="tertiary")


def child_section(view: View, data: ScopedData, regions: RegionTree, code: str, region_row: pd.Series) -> None:
    """The units below `code` against it: a table, bars and a map; a click on any of them goes down."""
    child_level = regions.level(code).child()
    if child_level is None:  # a county: its cases are listed instead
        return
    children = data.table(child_level, view.period, parent=code, filters=view.filters)
    st.subheader(f"下辖{child_level.label}（{len(children)} 个）")
    if children.empty:
        st.info("没有下辖单位。")
        return
    colours = data.warning_counts(view.as_of, child_level, view.filters, parent=code)[["code", "yellow", "green"]]
    calls = data.hotline_per_100(child_level, view.period, parent=code)[["code", "complaints", "per_100"]]
    shown = children[["code", "name", *CHILD_METRICS]].merge(colours, on="code", how="left").merge(calls, on="code", how="left")
    shown[["yellow", "green", "complaints"]] = shown[["yellow", "green", "complaints"]].fillna(0).astype("int64")
    styled = metric_table(shown, CHILD_METRICS, region_row)
    workdays = data.settings.warning_workdays
    config = {"code": None, "name": st.column_config.TextColumn("地区", pinned=True),
              **{m: percent_column_config(m) for m in CHILD_METRICS},
              "yellow": st.column_config.NumberColumn("临期（黄）", format="localized",
                                                      help=f"截至截止日期在办、{workdays} 个工作日内到期的检举控告件"),
              "green": st.column_config.NumberColumn("未临期（绿）", format="localized", help="其余在办的检举控告件"),
              "complaints": st.column_config.NumberColumn("12388来电", format="localized",
                                                          help="统计期内 12388 举报电话反映该地区检举控告办理问题的来电"),
              "per_100": st.column_config.NumberColumn("每百件来电", format="%.1f",
                                                       help="12388 来电数 ÷ 统计期收件总量 × 100")}
    event = show_table(styled, hide_index=True, column_config=config, on_select="rerun",
                         selection_mode="single-row", key=f"children_{code}", width="stretch")
    st.caption(f"比率较{regions.name(code)}整体更差的标为橙色、更好的标为蓝色；点击一行、一根柱或地图上的一块进入该地区。")
    rows = event.selection.rows if event and event.selection else []
    if rows:
        go(str(shown.iloc[rows[0]]["code"]))
        st.rerun()
    metric_id = st.selectbox("对比指标", CHILD_METRICS[2:], format_func=lambda m: METRICS_BY_ID[m].label,
                             key="child_metric")
    bars, shapes = st.columns(2, gap="large")
    with bars:
        chart_event = show_chart(ranking_chart, children, metric_id, region_row[metric_id],
                                 max(MAP_HEIGHT - 60, 30 * len(children)), on_select="rerun", key=f"child_chart_{code}",
                                 parent_name=regions.name(code))
        st.caption(f"虚线为{regions.name(code)}整体水平。")
    with shapes:
        mapped = region_map(view.province, child_level, children, metric_id, key=f"child_map_{code}",
                            height=MAP_HEIGHT, width="half")
    if (picked := selected_code(chart_event) or mapped) is not None:
        go(picked)
        st.rerun()


def case_section(view: View, data: ScopedData, regions: RegionTree, code: str) -> None:
    """A county's cases in the period, filtered by status, channel and flags; with downloads."""
    st.subheader(f"{regions.name(code)} 案件清单")
    cases = data.cases_of_county(code, view.period, view.filters)
    if cases.empty:
        st.info("该县（市、区）在所选期间没有案件。")
        return
    c1, c2, c3 = st.columns([2, 2, 2])
    statuses = c1.multiselect("状态", [s.value for s in CaseStatus], format_func=lambda s: CaseStatus(s).label,
                              key="case_status", placeholder="全部状态")
    channels = c2.multiselect("渠道", [c.value for c in Channel], format_func=lambda c: Channel(c).label,
                              key="case_channel", placeholder="全部渠道")
    flags = c3.multiselect("标记", ["is_first_report", "is_leapfrog", "is_repeat", "disputed", "supervised"],
                           format_func=lambda f: {"is_first_report": "初次举报", "is_leapfrog": "越级举报",
                                                  "is_repeat": "重复举报", "disputed": "结而不服", "supervised": "已挂账"}[f],
                           key="case_flags", placeholder="不限")
    shown = cases
    if statuses:
        shown = shown[shown["status"].isin(statuses)]
    if channels:
        shown = shown[shown["channel"].isin(channels)]
    for flag in flags:
        shown = shown[shown[flag].astype(bool)]
    st.caption(f"共 {len(shown):,} 件（统计期内收件、办结，或截至 {view.as_of} 仍在办的件；不含任何举报人信息）")
    warned = data.warnings(view.as_of, view.filters, COLOUR_ORDER, parent=code, limit=None)
    colour_of = dict(zip(warned["case_id"], warned["colour"].map(WARNING_LABELS), strict=True))
    people = for_people(shown.assign(warning=shown["case_id"].map(colour_of).fillna("")), {"warning": "三色预警"})
    show_table(highlight_warnings(people, "三色预警"), hide_index=True, width="stretch", height=520)
    download_buttons(people, f"案件清单_{code}_{view.period.start}_{view.period.end}", key=f"cases_{code}")
    disputed = int(cases["disputed"].astype(bool).sum())
    if disputed and is_supervisor(current_identity()):  # 结而不服: one click to a county-wide supervision item
        if st.button(f"对本县结而不服件挂账督办（{disputed} 件）", key=f"supervise_disputed_{code}",
                     icon=":material/assignment_add:"):
            supervise(code, f"统计期内结而不服 {disputed} 件（{view.period.start} 至 {view.period.end}）",
                      "请逐件复查结而不服件的办理过程和答复情况，对群众反映属实的问题重新办理，书面反馈复查结果。")


def region_shown(view: View, regions: RegionTree) -> str:
    """The region code in the URL when it exists and lies in the viewer's scope; else the viewer's root."""
    code = current_region(view.root)
    if not regions.exists(code):
        st.warning(f"地区代码“{code}”不存在，已显示{regions.name(view.root)}。")
        return view.root
    if not regions.within(code, view.scope):
        st.warning(f"无权查看该地区，已显示{regions.name(view.root)}。")
        return view.root
    return code


def render(view: View, data: ScopedData) -> None:
    """The region in the URL: breadcrumb, KPIs, then the units below it or, for a county, its cases."""
    regions = tree()
    code = region_shown(view, regions)
    breadcrumb(regions, code, view.root)
    st.title(regions.name(code))
    st.caption(view.caption())
    level = regions.level(code)
    with guarded("核心指标"):
        current = data.table(level, view.period, parent=code, filters=view.filters)
        current = current[current["code"] == code]
        previous = data.table(level, view.period.previous(), parent=code, filters=view.filters)
        previous = previous[previous["code"] == code]
        if current.empty:
            st.info("所选地区没有数据。")
            return
        kpi_cards(current.iloc[0], previous.iloc[0] if not previous.empty else None)
        warning_strip(data.warning_counts(view.as_of, level, view.filters, parent=code), code, view.as_of,
                      data.settings.warning_workdays)
        with guarded("下辖单位与案件清单"):
            if level is Level.COUNTY:
                case_section(view, data, regions, code)
            else:
                child_section(view, data, regions, code, current.iloc[0])


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
