"""The 周例会's section on 越级重复举报专项治理: the week's counts as cards, the matters the meeting names (超期未化解,
反弹) and the whole list — metrics.campaign_week's one reading, worded by presentation.campaign as on the slide."""
from __future__ import annotations

import streamlit as st

from metrics.campaign_week import CampaignWeek
from presentation.campaign import campaign_rows, campaign_sentence
from presentation.format import plain_markdown

from .tables import show_table

HELP = {"纳入专项治理": "截至本日纳入专项治理的事项（各状态）。", "本周新纳入": "本周一至本日纳入专项治理的事项。",
        "本周化解": "本周一至本日由承办县（市、区）报告化解的事项。", "本周案结事了": "本周一至本日经省级确认案结事了的事项。",
        "超期未化解": "截至本日尚未确认案结事了、且已过限期办结日期的事项。",
        "反弹": "截至本日记录为反弹、或又有新举报尚未记录的事项。"}


def campaign_section(week: CampaignWeek | None) -> None:
    """The campaign in the meeting's week: six cards, the overdue and relapsed matters, the whole list."""
    if week is None:
        st.info("本次未读取专项治理数据。")
        return
    for start in (0, 3):
        pairs = list(week.counts.labelled().items())[start:start + 3]
        for column, (label, value) in zip(st.columns(3), pairs, strict=True):
            column.metric(label, f"{value:,} 件", border=True, help=HELP[label])
    st.markdown(plain_markdown(f"{campaign_sentence(week)}。"))
    st.caption(f"截至 {week.as_of} 日终；本周为 {week.week_start} 至 {week.as_of}。状态按截至当日的最后一步办理读取，"
               "其后办理的步骤不计入。")
    attention = campaign_rows(week, attention_only=True)
    st.markdown(f"**超期未化解或反弹的事项：{len(attention)} 件**")
    if not attention.empty:
        show_table(attention, hide_index=True, width="stretch", height=min(40 + 35 * len(attention), 420))
    with st.expander(f"专项治理事项清单：{week.counts.enrolled} 件"):
        show_table(campaign_rows(week), hide_index=True, width="stretch", height=360)
