"""The view state shared by every page: period, as-of date, case filters and drill-down region.

Filters are widgets in the sidebar of app.py bound to URL query parameters (bind="query-params"),
so a copied link reproduces the view; the drill-down region is the `region` query parameter.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from data_access.enums import DOMAINS, Channel
from metrics.periods import Preset, describe, preset_period
from metrics.request import CaseFilter, Period

REGION_PARAM = "region"
_VIEW_KEY = "_view"


@dataclass(frozen=True)
class View:
    """What every page shows: the period (with its as-of date), the filters, and the province."""

    preset: Preset
    period: Period
    filters: CaseFilter
    province: str

    @property
    def as_of(self) -> dt.date:
        """The as-of date A."""
        return self.period.as_of_date

    def caption(self) -> str:
        """One line describing the view, for the top of a page and for screenshots."""
        parts = [f"{self.preset.label}：{describe(self.period)}"]
        if self.filters.channels:
            parts.append("渠道：" + "、".join(Channel(c).label for c in self.filters.channels))
        if self.filters.domains:
            parts.append("领域：" + "、".join(self.filters.domains))
        if self.filters.first_report_only:
            parts.append("仅初次举报")
        return "　|　".join(parts)


def render_sidebar(anchor_default: dt.date, data_start: dt.date | None, province: str) -> View:
    """Draw the global filters in the sidebar (bound to the URL) and return the view they describe."""
    sb = st.sidebar
    sb.markdown("### 筛选条件")
    preset = Preset(sb.selectbox("统计期", [p.value for p in Preset], index=1, format_func=lambda v: Preset(v).label,
                                 key="period", bind="query-params"))
    as_of = sb.date_input("截止日期（数据状态日）", value=anchor_default, key="asof", bind="query-params",
                          help="按该日日终时的数据状态统计：办结日期晚于该日的件视为未办结。", format="YYYY-MM-DD")
    custom = None
    if preset is Preset.CUSTOM:
        default_from = max(as_of - dt.timedelta(days=29), data_start or as_of - dt.timedelta(days=29))
        start = sb.date_input("起日", value=default_from, key="from", bind="query-params", format="YYYY-MM-DD")
        end = sb.date_input("止日", value=as_of, key="to", bind="query-params", format="YYYY-MM-DD")
        if end < start:
            sb.warning("止日早于起日，已对调。")
            start, end = end, start
        custom = (start, end)
    channels = sb.multiselect("渠道（信、访、电、网、码）", [c.value for c in Channel], key="ch", bind="query-params",
                              format_func=lambda c: Channel(c).label, placeholder="全部渠道")
    domains = sb.multiselect("领域", list(DOMAINS), key="dom", bind="query-params", placeholder="全部领域")
    first_only = sb.toggle("仅看初次举报", key="first", bind="query-params")
    period = preset_period(preset, as_of, custom)
    filters = CaseFilter(channels=tuple(channels), domains=tuple(domains), first_report_only=bool(first_only))
    view = View(preset, period, filters, province)
    st.session_state[_VIEW_KEY] = view
    return view


def current_view() -> View:
    """The view drawn by app.py for this run (pages call this)."""
    return st.session_state[_VIEW_KEY]


def current_region(default: str) -> str:
    """The drill-down region code from the URL, or `default`."""
    return st.query_params.get(REGION_PARAM, default)
