"""KPI cards: value, change against the previous period, and the metric's definition as tooltip."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.registry import METRICS_BY_ID
from presentation.format import UNCHANGED, delta_color, fmt_delta, fmt_value

KPI_CARD_METRICS = ("on_time_rate", "satisfaction_rate", "overdue", "leapfrog_rate", "dispute_rate", "received")


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
