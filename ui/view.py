"""The view state shared by every page: period, as-of date, case filters and drill-down region.

The filters live in the URL query string, so a copied link reproduces the view and the browser's
Back button returns to the previous view. The widgets are synchronised by hand rather than with
`bind="query-params"`: a page switch would otherwise re-add the bound parameters one browser-history
entry at a time, and Back after a drill-down would need several presses.
  - When the URL differs from what this browser session last wrote (first load, Back, a pasted link), the
    widgets take their values from the URL; a URL with no filter parameters at all after a page
    change comes from the navigation menu (Streamlit clears the query string), and the widgets keep
    their values.
  - After the widgets are drawn, the URL is written once: the period always (so that a URL without
    filter parameters can only come from the menu or a first visit), the rest when not default.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from data_access.identity.scope import Scope
from data_access.reference.enums import DOMAINS, Channel
from metrics.periods import Preset, describe, preset_period
from metrics.request import CaseFilter, Period
from presentation.format import cn_date, filter_parts

REGION_PARAM = "region"
DEFAULT_PRESET = Preset.LAST_WEEK
FILTER_PARAMS = ("period", "asof", "from", "to", "ch", "dom", "first")
_VIEW_KEY = "_view"
_WRITTEN_KEY = "_url_written"
_PAGE_KEY = "_url_page"
_WIDGET = {name: f"w_{name}" for name in FILTER_PARAMS}


@dataclass(frozen=True)
class View:
    """What every page shows: the period (with its as-of date), the filters, and the province."""

    preset: Preset
    period: Period
    filters: CaseFilter
    province: str
    scope: Scope  # the viewer's region (WHOLE_PROVINCE for a province user)
    data_date: dt.date | None = None  # the sidebar's 截止日期 as chosen (None: the period's as-of date)

    @property
    def root(self) -> str:
        """The region the viewer's pages start from: their scope, or the province."""
        return self.scope.code or self.province

    @property
    def as_of(self) -> dt.date:
        """The as-of date A of the period (上周 and 上月 are read as of their own last day)."""
        return self.period.as_of_date

    @property
    def chosen_date(self) -> dt.date:
        """The sidebar's 截止日期 itself, whatever the period: the day the stock pages (超期督办, 临期预警,
        督办台账) are read at, and the day whose week the 周例会 reviews."""
        return self.data_date or self.period.as_of_date

    def caption(self) -> str:
        """One line describing the view, for the top of a page and for screenshots."""
        return "　|　".join([f"{self.preset.label}：{describe(self.period)}", *self._filter_parts()])

    def stock_caption(self, with_filters: bool = True) -> str:
        """The line a stock page opens with: the 截止日期 it is read at (not the period's end), and the filters."""
        head = f"存量按截止日期 {cn_date(self.chosen_date)} 计（不受统计期影响）"
        return "　|　".join([head, *(self._filter_parts() if with_filters else [])])

    def _filter_parts(self) -> list[str]:
        return filter_parts(self.filters)


def _url_filters() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in FILTER_PARAMS if st.query_params.get_all(k)}


def _parse_date(values: list[str], default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(values[0]) if values else default
    except ValueError:
        return default


def _adopt(url: dict[str, list[str]], anchor_default: dt.date) -> None:
    """Set the widgets from URL parameters (invalid values fall back to the defaults)."""
    state = st.session_state
    period = url.get("period", [DEFAULT_PRESET.value])[0]
    state[_WIDGET["period"]] = period if period in {p.value for p in Preset} else DEFAULT_PRESET.value
    state[_WIDGET["asof"]] = _parse_date(url.get("asof", []), anchor_default)
    state[_WIDGET["from"]] = _parse_date(url.get("from", []), anchor_default - dt.timedelta(days=29))
    state[_WIDGET["to"]] = _parse_date(url.get("to", []), anchor_default)
    state[_WIDGET["ch"]] = [c for c in url.get("ch", []) if c in {x.value for x in Channel}]
    state[_WIDGET["dom"]] = [d for d in url.get("dom", []) if d in DOMAINS]
    state[_WIDGET["first"]] = url.get("first", ["0"])[0] in ("1", "true")


def _encode(preset: Preset, as_of: dt.date, anchor_default: dt.date, custom: tuple[dt.date, dt.date] | None,
            filters: CaseFilter) -> dict[str, list[str]]:
    """The URL parameters of a view: only what differs from the defaults."""
    out: dict[str, list[str]] = {"period": [preset.value]}
    if as_of != anchor_default:
        out["asof"] = [as_of.isoformat()]
    if custom:
        out["from"], out["to"] = [custom[0].isoformat()], [custom[1].isoformat()]
    if filters.channels:
        out["ch"] = list(filters.channels)
    if filters.domains:
        out["dom"] = list(filters.domains)
    if filters.first_report_only:
        out["first"] = ["1"]
    return out


def _sync_widgets_from_url(anchor_default: dt.date, page: str) -> None:
    """Adopt the URL's filters unless they are what we wrote, or were cleared by a menu page change."""
    state = st.session_state
    written, url = state.get(_WRITTEN_KEY), _url_filters()
    menu_navigation = written is not None and not url and page != state.get(_PAGE_KEY)
    if written is None or (written != url and not menu_navigation):
        _adopt(url, anchor_default)
    elif any(key not in state for key in _WIDGET.values()):
        _adopt(written, anchor_default)  # Streamlit dropped the widget state on a page switch: restore it
    state[_PAGE_KEY] = page


def render_sidebar(anchor_default: dt.date, province: str, page: str, scope: Scope) -> View:
    """Draw the global filters in the sidebar, keep the URL in step, and return the view."""
    _sync_widgets_from_url(anchor_default, page)
    sb = st.sidebar
    sb.markdown("### 筛选条件")
    preset = Preset(sb.selectbox("统计期", [p.value for p in Preset], format_func=lambda v: Preset(v).label,
                                 key=_WIDGET["period"]))
    as_of = sb.date_input("截止日期（数据状态日）", key=_WIDGET["asof"], format="YYYY-MM-DD",
                          help="按该日日终时的数据状态统计：办结日期晚于该日的件视为未办结。")
    custom = None
    if preset is Preset.CUSTOM:
        start = sb.date_input("起日", key=_WIDGET["from"], format="YYYY-MM-DD")
        end = sb.date_input("止日", key=_WIDGET["to"], format="YYYY-MM-DD")
        if end < start:
            sb.warning("止日早于起日，已对调。")
            start, end = end, start
        custom = (start, end)
    channels = sb.multiselect("渠道（信、访、电、网、码）", [c.value for c in Channel], key=_WIDGET["ch"],
                              format_func=lambda c: Channel(c).label, placeholder="全部渠道")
    domains = sb.multiselect("领域", list(DOMAINS), key=_WIDGET["dom"], placeholder="全部领域")
    first_only = sb.toggle("仅看初次举报", key=_WIDGET["first"])
    filters = CaseFilter(channels=tuple(channels), domains=tuple(domains), first_report_only=bool(first_only))
    view = View(preset, preset_period(preset, as_of, custom), filters, province, scope, as_of)
    _write_url(_encode(preset, as_of, anchor_default, custom, filters))
    st.session_state[_VIEW_KEY] = view
    return view


def _write_url(wanted: dict[str, list[str]]) -> None:
    """Replace the filter parameters in the URL in one step (one history entry), keeping the others."""
    st.session_state[_WRITTEN_KEY] = wanted
    if _url_filters() == wanted:
        return
    others = {k: st.query_params.get_all(k) for k in st.query_params.keys() if k not in FILTER_PARAMS}
    st.query_params.from_dict({**others, **wanted})


def url_params(**extra: str) -> dict[str, list[str] | str]:
    """The current view's URL parameters plus `extra`, for links and page switches."""
    return {**st.session_state.get(_WRITTEN_KEY, {}), **extra}


def current_view() -> View:
    """The view drawn by app.py for this run (pages call this)."""
    return st.session_state[_VIEW_KEY]


def current_region(default: str) -> str:
    """The drill-down region code from the URL, or `default`."""
    return st.query_params.get(REGION_PARAM, default)
