"""KPI cards: value, change against the previous period, and the metric's definition as tooltip."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.brief import HEADLINE_METRICS
from metrics.registry import METRICS_BY_ID
from presentation.format import UNCHANGED, delta_color, fmt_delta, fmt_value

KPI_CARD_METRICS = HEADLINE_METRICS  # the 总览's cards, also the 领导简报's (metrics.brief)


def kpi_cards(current: pd.Series, previous: pd.Series | None, metric_ids: tuple[str, ...] = KPI_CARD_METRICS,
              previous_label: str = "上一期") -> None:
    """One bordered st.metric per metric in a row, with delta against `previous`."""
    columns = st.columns(len(metric_ids))
    for col, mid in zip(columns, metric_ids, strict=True):
        m = METRICS_BY_ID[mid]
        delta = fmt_delta(mid, current[mid], previous[mid]) if previous is not None else None
        flat = delta == UNCHANGED
        col.metric(m.label, fmt_value(mid, current[mid]), delta, delta_color="off" if flat else delta_color(mid),
                   delta_arrow="off" if flat else "auto", help=f"{m.definition}（变化为与{previous_label}相比）",
                   border=True)


def warning_strip(counts: pd.DataFrame, code: str | None, as_of: object, workdays: int) -> None:
    """三色预警 of one region in a line of badges: open cases overdue (red), due within `workdays` working
    days (yellow) and the rest (green); `counts` is ScopedData.warning_counts at the region's level."""
    row = counts[counts["code"] == code] if code is not None else counts
    red, yellow, green = (int(row[c].sum()) for c in ("red", "yellow", "green"))
    st.markdown(f"**三色预警**（截至 {as_of} 在办的检举控告件）　:red-badge[红 · 已超期 {red:,} 件]　"
                f":orange-badge[黄 · {workdays} 个工作日内到期 {yellow:,} 件]　:green-badge[绿 · 未临期 {green:,} 件]",
                help="红：已过办理期限仍未办结；黄：办理期限在截止日期起 "
                     f"{workdays} 个工作日内（含截止日期当天，按法定工作日历计）；绿：其余在办件。清单见“超期督办”页。")
