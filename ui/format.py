"""Number formats for the screen: rates as percentages with one decimal, counts with separators."""
from __future__ import annotations

import math
import re

from metrics.registry import METRICS_BY_ID, Direction, MetricKind

EMPTY = "—"
UNCHANGED = "持平"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def is_missing(value: object) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(metric_id: str, value: object) -> str:
    """A metric value as shown on a card or in a table cell."""
    if is_missing(value):
        return EMPTY
    match METRICS_BY_ID[metric_id].kind:
        case MetricKind.RATE:
            return f"{float(value) * 100:.1f}%"
        case MetricKind.AVERAGE:
            return f"{float(value):.1f} 天"
        case MetricKind.COUNT:
            return f"{int(value):,}"
    raise AssertionError(metric_id)


def fmt_delta(metric_id: str, current: object, previous: object) -> str | None:
    """Change against the previous period: percentage points for rates, plain numbers otherwise;
    "持平" when it rounds to no change at the precision shown."""
    if is_missing(current) or is_missing(previous):
        return None
    diff = float(current) - float(previous)
    if round(diff * (100 if METRICS_BY_ID[metric_id].kind is MetricKind.RATE else 1), 1) == 0:
        return UNCHANGED
    match METRICS_BY_ID[metric_id].kind:
        case MetricKind.RATE:
            return f"{diff * 100:+.1f} 个百分点"
        case MetricKind.AVERAGE:
            return f"{diff:+.1f} 天"
        case MetricKind.COUNT:
            return f"{int(diff):+,}"
    raise AssertionError(metric_id)


def delta_color(metric_id: str) -> str:
    """st.metric's delta_color: green when the change is an improvement."""
    match METRICS_BY_ID[metric_id].direction:
        case Direction.HIGHER_BETTER:
            return "normal"
        case Direction.LOWER_BETTER:
            return "inverse"
        case Direction.NEUTRAL:
            return "off"
    raise AssertionError(metric_id)


def percent_column_config(metric_id: str):  # -> st.column_config.Column
    """Column config for a metric in st.dataframe (rates as %, counts as integers)."""
    import streamlit as st

    m = METRICS_BY_ID[metric_id]
    match m.kind:
        case MetricKind.RATE:
            # values are shown as percentage points (see ui.tables.percent_points): one decimal, like the KPI cards
            return st.column_config.NumberColumn(m.label, help=m.definition, format="%.1f%%")
        case MetricKind.AVERAGE:
            return st.column_config.NumberColumn(m.label, help=m.definition, format="%.1f")
        case MetricKind.COUNT:
            return st.column_config.NumberColumn(m.label, help=m.definition, format="localized")
    raise AssertionError(metric_id)


def plain_markdown(text: str) -> str:
    """Data text escaped so st.markdown shows it literally (no formatting, links, LaTeX or HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
