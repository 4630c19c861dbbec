"""指标口径: every metric's Chinese definition read from the registry, the common notes, the priority method."""
from __future__ import annotations

from typing import assert_never

import pandas as pd
import streamlit as st

from metrics.periods import Preset
from metrics.registry import COMMON_NOTES, METRICS, METRICS_BY_ID, Direction, Metric, MetricKind
from metrics.settings import Settings
from pages import hand_over
from presentation.format import plain_markdown
from ui.scoped import ScopedData
from ui.settings import settings_file, settings_in_force
from ui.view import View

KIND_LABELS = {MetricKind.COUNT: "计数", MetricKind.RATE: "比率", MetricKind.AVERAGE: "平均值"}
PRESET_NOTES = {
    Preset.THIS_WEEK: "截止日期所在的周（周一至周日），按截止日期的数据状态计算。",
    Preset.LAST_WEEK: "本周的前一周，按该周周日日终的数据状态计算。",
    Preset.THIS_MONTH: "截止日期所在的自然月，按截止日期的数据状态计算。",
    Preset.LAST_MONTH: "本月的前一个自然月，按该月最后一天日终的数据状态计算。",
    Preset.THIS_QUARTER: "截止日期所在的季度，按截止日期的数据状态计算。",
    Preset.THIS_YEAR: "截止日期所在的年度，按截止日期的数据状态计算。",
    Preset.CUSTOM: "自选起日、止日；截止日期早于止日时按截止日期的数据状态计算。",
}


def direction_label(direction: Direction) -> str:
    """Which way is better, in words."""
    match direction:
        case Direction.HIGHER_BETTER:
            return "越高越好"
        case Direction.LOWER_BETTER:
            return "越低越好"
        case Direction.NEUTRAL:
            return "—"
    assert_never(direction)


def formula(m: Metric) -> str:
    """How the metric is formed from others, in Chinese."""
    match m.kind:
        case MetricKind.RATE:
            numerator, denominator = m.rate_terms
            return f"{METRICS_BY_ID[numerator].label} ÷ {METRICS_BY_ID[denominator].label}"
        case MetricKind.AVERAGE:
            return f"按{METRICS_BY_ID[m.averaged[1]].label}逐件平均"
        case MetricKind.COUNT:
            return f"{METRICS_BY_ID[m.parent].label}中的一部分" if m.parent else "直接计数"
    assert_never(m.kind)


def metric_rows() -> pd.DataFrame:
    """One row per registered metric, in registry order, as the table shows it."""
    return pd.DataFrame({
        "中文名": [plain_markdown(m.label) for m in METRICS],
        "指标代码": [f"`{m.id}`" for m in METRICS],
        "类型": [KIND_LABELS[m.kind] for m in METRICS],
        "口径": [plain_markdown(m.definition) for m in METRICS],
        "计算方式": [plain_markdown(formula(m)) for m in METRICS],
        "方向": [direction_label(m.direction) for m in METRICS],
    })


def priority_method(s: Settings) -> None:
    """The funnel-plot method of the 重点督导县 page, with the thresholds in force."""
    st.markdown("筛选“初次举报办理质效较低且越级举报问题突出”的县（市、区）。为避免小县因偶然波动排在前面，"
                "对每个县分别作两项漏斗图检验，与全省整体水平比较（Spiegelhalter，2005）。")
    st.markdown("全省合并比率（对全省所有县求和后相除）：")
    label = {m: METRICS_BY_ID[m].label for m in ("first_on_time", "first_due", "leapfrog", "accepted")}
    st.latex(rf"\theta = \frac{{\sum \text{{{label['first_on_time']}}}}}{{\sum \text{{{label['first_due']}}}}} \qquad "
             rf"\varphi = \frac{{\sum \text{{{label['leapfrog']}}}}}{{\sum \text{{{label['accepted']}}}}}")
    st.markdown("对县 c：p 为其初次举报按期办结率、n 为其初次举报应办结件数；q 为其越级举报率、m 为其检举控告件数。")
    st.latex(r"z_{q} = \frac{\theta - p_c}{\sqrt{\theta(1-\theta)/n_c}} \qquad "
             r"z_{l} = \frac{q_c - \varphi}{\sqrt{\varphi(1-\varphi)/m_c}} \qquad "
             r"\text{综合得分} = \frac{z_{q} + z_{l}}{2}")
    st.markdown("z 值为正表示比全省差：质效 z 值（z_q）越大，初次举报按期办结率越低；越级 z 值（z_l）越大，越级举报率越高。"
                "排名按综合得分从高到低。")
    st.markdown("\n".join([
        f"- **样本不足**：初次举报应办结件 < {s.min_volume} 件或检举控告件 < {s.min_volume} 件，不计算 z 值，单独列出；",
        f"- **重点督导**：z_q ≥ {s.z_priority} 且 z_l ≥ {s.z_priority}（两项均超出 95% 控制限）；",
        f"- **关注**：未列为重点督导，但 z_q ≥ {s.z_watch} 或 z_l ≥ {s.z_watch}（任一项超出 99.8% 控制限）；",
        "- **正常**：其余县（市、区）。",
    ]))
    st.markdown(f"漏斗图以件数为横轴、比率为纵轴，画出全省合并比率和 95%（z = {s.z_priority}）、99.8%（z = {s.z_watch}）控制限；"
                "质效图中点落在下方控制限以下为偏低，越级图中点落在上方控制限以上为偏高。")


def render(view: View, data: ScopedData) -> None:
    """Every metric's definition from the registry, the common notes, the periods, the priority method
    and the settings in force (the same for every viewer and view: only the settings are read)."""
    st.title("指标口径")
    st.caption("本页内容直接读取系统的指标定义；各页指标卡片的提示文字与此一致。")
    st.subheader(f"指标定义（共 {len(METRICS)} 项）")
    st.table(metric_rows(), hide_index=True)
    st.subheader("通用说明")
    st.markdown("\n".join(f"{i}. {plain_markdown(note)}" for i, note in enumerate(COMMON_NOTES, start=1)))
    st.subheader("统计期")
    st.markdown("\n".join(f"- **{p.label}**：{note}" for p, note in PRESET_NOTES.items()))
    st.markdown(f"办理期限为空时按收件日期后 {data.settings.default_due_days} 个自然日计算。"
                "指标卡片上的变化，是与上一期（紧邻其前、长度相同的期间，按其最后一天的数据状态计算）相比。")
    st.subheader("重点督导县的确定方法")
    priority_method(data.settings)
    st.subheader("本系统设置")
    st.caption(f"以下为当前生效的设置，来自设置文件 {settings_file()}；修改后重新打开页面即生效，"
               "不合规的值会在启动时给出中文提示。")
    st.table(settings_in_force(), hide_index=True)


if __name__ == "__main__":  # run by itself (a fresh server's first deep link): app.py routes, see pages/__init__.py
    hand_over()
