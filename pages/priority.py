"""重点督导县: the funnel-plot ranking of counties, both funnel plots, the sentence for each flagged county."""
from __future__ import annotations

from typing import assert_never

import pandas as pd
import streamlit as st

from metrics.periods import describe
from metrics.priority import PriorityStatus, funnel_limits, priority_window
from metrics.registry import METRICS_BY_ID
from metrics.request import Period
from metrics.settings import Settings
from metrics.signals import explain_signal
from pages import hand_over
from presentation.format import plain_markdown
from ui.access import current_identity, is_supervisor
from ui.charts import funnel_chart, p_chart_chart
from ui.downloads import download_buttons
from ui.guard import guarded
from ui.navigation import drill_to, supervise
from ui.regions import RegionTree, tree
from ui.scoped import ScopedData
from ui.tables import metric_table, percent_column_config, show_table
from ui.vega import show_chart
from ui.view import View

BADGES = {
    # distinct shapes (no emoji: an intranet PC may have no emoji font; shapes also read without colour)
    PriorityStatus.PRIORITY: "▲ 重点督导",
    PriorityStatus.WATCH: "◆ 关注",
    PriorityStatus.NORMAL: "● 正常",
    PriorityStatus.INSUFFICIENT: "○ 样本不足",
}
def status_help(status: PriorityStatus, s: Settings) -> str:
    """What a status means, with the thresholds in force."""
    match status:
        case PriorityStatus.PRIORITY:
            return f"初次举报按期办结率偏低、越级举报率偏高，两项 z 值均 ≥ {s.z_priority}（超出 95% 控制限）。"
        case PriorityStatus.WATCH:
            return f"任一项 z 值 ≥ {s.z_watch}（超出 99.8% 控制限），且未列为重点督导。"
        case PriorityStatus.NORMAL:
            return "两项检验均未达到督导标准。"
        case PriorityStatus.INSUFFICIENT:
            return f"初次举报应办结件或检举控告件不足 {s.min_volume} 件，不作检验。"
    assert_never(status)
WINDOW_PARAM, ROLLING, PERIOD = "window", "rolling", "period"
TABLE_METRICS = ("first_due", "first_on_time_rate", "accepted", "leapfrog_rate", "first_overdue", "disputed")
SCORE_LABELS = {"z_quality": "质效 z 值", "z_leapfrog": "越级 z 值", "score": "综合得分"}
FLAGGED = (PriorityStatus.PRIORITY.value, PriorityStatus.WATCH.value)


def with_labels(ranked: pd.DataFrame, regions: RegionTree) -> pd.DataFrame:
    """The ranking with the columns the table and the funnel plots show: city name, status label and badge."""
    labels = {s.value: s.label for s in PriorityStatus}
    badges = {s.value: badge for s, badge in BADGES.items()}
    return ranked.assign(city_name=ranked["city_code"].map(regions.name), status_label=ranked["status"].map(labels),
                         badge=ranked["status"].map(badges))


def status_counts(ranked: pd.DataFrame, settings: Settings) -> None:
    """One bordered metric per status: how many counties it holds."""
    counts = ranked["status"].value_counts()
    for col, status in zip(st.columns(len(PriorityStatus)), PriorityStatus, strict=True):
        col.metric(BADGES[status], f"{int(counts.get(status.value, 0))} 个", help=status_help(status, settings),
                   border=True)


def ranking_table(tested: pd.DataFrame) -> None:
    """The tested counties, worst score first; a click on a row opens the county."""
    shown = tested[["code", "badge", "name", "city_name", *TABLE_METRICS, "z_quality", "z_leapfrog", "score"]]
    config = {
        "code": None,
        "badge": st.column_config.TextColumn("状态", width="small"),
        "name": st.column_config.TextColumn("县（市、区）", pinned=True),
        "city_name": st.column_config.TextColumn("所属市"),
        **{m: percent_column_config(m) for m in TABLE_METRICS},
        **{c: st.column_config.NumberColumn(label, format="%.2f") for c, label in SCORE_LABELS.items()},
    }
    event = show_table(metric_table(shown, TABLE_METRICS), hide_index=True, column_config=config,
                       on_select="rerun", selection_mode="single-row", key="priority_table", width="stretch",
                       height=min(40 + 35 * len(shown), 560))
    st.caption("z 值为正表示比全省差：质效 z 值越大，初次举报按期办结率越低；越级 z 值越大，越级举报率越高。点击一行进入该县。")
    rows = event.selection.rows if event and event.selection else []
    if rows:
        drill_to(str(shown.iloc[rows[0]]["code"]))


def funnel_plots(ranked: pd.DataFrame) -> None:
    """The quality and leapfrog funnel plots side by side (every county with a volume; flagged ones labelled)."""
    left, right = st.columns(2, gap="large")
    with left:
        funnel_plot(ranked, "first_due", "first_on_time_rate", "z_quality", ranked["theta"].iloc[0], "初次举报办理质效",
                    "所选期间没有初次举报应办结件，无法绘制质效漏斗图。",
                    "点落在下方控制限以下，说明初次举报按期办结率明显偏低（越低越差）。")
    with right:
        funnel_plot(ranked, "accepted", "leapfrog_rate", "z_leapfrog", ranked["phi"].iloc[0], "越级举报",
                    "所选期间没有检举控告件，无法绘制越级举报漏斗图。",
                    "点落在上方控制限以上，说明越级举报率明显偏高（越高越差）。")


def funnel_plot(ranked: pd.DataFrame, volume: str, rate: str, z: str, pooled: float | None, title: str,
                no_data: str, reading: str) -> None:
    """One funnel plot: `rate` against `volume` for the counties with a volume, around the pooled rate."""
    counties = ranked[ranked[volume] > 0].assign(z=ranked[z])
    if pooled is None or pd.isna(pooled) or counties.empty:
        st.info(no_data)
        return
    show_chart(funnel_chart, counties, funnel_limits(pooled, int(counties[volume].max())), volume, rate, pooled, title,
               METRICS_BY_ID[volume].label + "（件）", METRICS_BY_ID[rate].label)
    st.caption(f"灰线为全省 {pooled * 100:.1f}%；{reading}")


def sentences(ranked: pd.DataFrame) -> None:
    """The sentence for each priority or watch county, to be read out in the meeting."""
    flagged = ranked[ranked["status"].isin(FLAGGED)]
    flagged = flagged.sort_values("status", key=lambda s: s.map(FLAGGED.index), kind="stable")  # 重点督导 first
    st.subheader("督导说明")
    if flagged.empty:
        st.info("所选期间没有县（市、区）列为重点督导或关注。")
        return
    supervisor = is_supervisor(current_identity())
    for row in flagged.itertuples():
        # county names repeat across cities (市中区): the city comes first
        text, action = st.columns([6, 1], vertical_alignment="center") if supervisor else (st.container(), None)
        text.markdown(f"**{BADGES[PriorityStatus(row.status)]}**　{plain_markdown(row.city_name)}　{plain_markdown(row.sentence)}")
        if action is not None and action.button("挂账督办", key=f"supervise_{row.code}", icon=":material/assignment_add:"):
            supervise(str(row.code), f"{PriorityStatus(row.status).label}：{row.city_name}{row.name}初次举报办理质效与越级举报",
                      f"{row.sentence}请逐件查找初次举报超期原因，制定整改措施，按期书面反馈。")


def signals_section(view: View, data: ScopedData) -> None:
    """变差信号: the counties whose weekly on-time rate is getting worse, with the rule that fired and the
    chosen county's p-chart (weekly rate, baseline centre line, lower limit)."""
    s = data.settings
    st.subheader(f"变差信号（近 {s.spc_recent_weeks} 周对比前 {s.spc_baseline_weeks} 周基线）")
    read = data.signals(view.chosen_date, view.filters)
    flagged = read[read["signals"] != ""]
    st.caption(f"按周计算各县按期办结率的控制图：单周低于控制下限（基线均值 − {s.spc_sigma:g}σ）、连续 {s.spc_shift_run} 周低于基线均值、"
               f"连续 {s.spc_trend_run} 个点下降，任一出现即提示；基线应办结件少于 {s.spc_min_baseline_due} 件的县不作判断。")
    if flagged.empty:
        st.info("没有县（市、区）出现变差信号。")
        return
    for _, row in flagged.iterrows():
        st.markdown(f"**▼ 变差**　{plain_markdown(explain_signal(row, s))}")
    names = dict(zip(flagged["code"], flagged["name"], strict=True))
    county = st.selectbox("查看控制图", list(names), format_func=names.__getitem__, key="signal_county")
    if county is not None:
        show_chart(p_chart_chart, data.p_chart(view.chosen_date, county, view.filters), f"{names[county]} 每周按期办结率控制图")
        st.caption("灰色底为近期各周；虚线为基线均值，橙线为控制下限（随每周应办结件数变化），红点为低于控制下限的周。")


def insufficient_list(insufficient: pd.DataFrame, settings: Settings) -> None:
    """Counties too small to test, apart from the ranking."""
    with st.expander(f"样本不足、未参与排名的县（市、区）：{len(insufficient)} 个", expanded=False):
        st.caption(status_help(PriorityStatus.INSUFFICIENT, settings))
        shown = insufficient[["name", "city_name", "first_due", "accepted", "first_overdue", "disputed"]]
        show_table(shown, hide_index=True, width="stretch",
                     column_config={"name": st.column_config.TextColumn("县（市、区）"),
                                    "city_name": st.column_config.TextColumn("所属市"),
                                    **{m: percent_column_config(m)
                                       for m in ("first_due", "accepted", "first_overdue", "disputed")}})


def for_download(ranked: pd.DataFrame) -> pd.DataFrame:
    """The whole ranking with Chinese headers, sentence included."""
    columns = {"code": "县级代码", "name": "县（市、区）", "city_name": "所属市", "status_label": "状态",
               **{m: METRICS_BY_ID[m].label for m in ("first_due", "first_on_time", "first_on_time_rate", "accepted",
                                                       "leapfrog", "leapfrog_rate")},
               **SCORE_LABELS, "first_overdue": METRICS_BY_ID["first_overdue"].label,
               "disputed": METRICS_BY_ID["disputed"].label, "sentence": "说明"}
    return ranked[list(columns)].rename(columns=columns)


def funnel_window(view: View, settings: Settings) -> Period:
    """The period the funnel tests run over: by default the same rolling window as the 周例会 (the
    `priority_window_months` up to the 截止日期: a week alone leaves most counties untestable), or the
    sidebar's period when the viewer chooses it (the choice stays in the URL)."""
    rolling = priority_window(view.chosen_date, settings)
    labels = {ROLLING: f"近 {settings.priority_window_months} 个月（与周例会一致）", PERIOD: "侧边栏统计期"}
    if st.query_params.get(WINDOW_PARAM) not in labels:
        st.query_params[WINDOW_PARAM] = ROLLING
    choice = st.segmented_control("检验窗口", list(labels), format_func=labels.__getitem__, key="priority_window",
                                  default=st.query_params[WINDOW_PARAM]) or ROLLING
    st.query_params[WINDOW_PARAM] = choice
    window = rolling if choice == ROLLING else view.period
    st.caption(f"检验窗口：{describe(window)}")
    return window


def render(view: View, data: ScopedData) -> None:
    """The counties in scope ranked by the funnel-plot test, the plots, the sentences, the download."""
    st.title("重点督导县（市、区）")
    st.caption(view.caption())
    st.caption("方法：以全省整体水平为基准，对各县初次举报按期办结率、越级举报率分别作漏斗图检验；"
               "两项均超出 95% 控制限的列为重点督导，任一项超出 99.8% 控制限的列为关注。详见“指标口径”页。")
    window = funnel_window(view, data.settings)
    ranked = with_labels(data.priority(window, view.filters), tree())
    if ranked.empty or (ranked["first_due"].sum() == 0 and ranked["accepted"].sum() == 0):
        st.info("检验窗口内没有检举控告件，无法评估重点督导县。")
        return
    status_counts(ranked, data.settings)
    tested = ranked[ranked["status"] != PriorityStatus.INSUFFICIENT.value]
    st.subheader(f"排名（{len(tested)} 个县参与检验，按综合得分从高到低）")
    if tested.empty:
        st.info(f"所选期间没有县（市、区）的样本量达到 {data.settings.min_volume} 件，无法检验。可放宽统计期后再看。")
    else:
        ranking_table(tested)
    st.subheader("漏斗图")
    funnel_plots(ranked)
    sentences(ranked)
    with guarded("变差信号"):
        signals_section(view, data)
    insufficient_list(ranked[ranked["status"] == PriorityStatus.INSUFFICIENT.value], data.settings)
    st.subheader("下载")
    download_buttons(for_download(ranked), f"重点督导县_{window.start}_{window.end}", key="priority")


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
