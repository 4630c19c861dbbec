"""Charts drawn from a cached Vega-Lite spec: the altair chart is built and converted once per
distinct input, not on every script run, and without altair's schema validation (the builders are
fixed code: tests/test_pages.py validates every chart every page draws).

Building an altair chart and converting it (with schema validation) costs 20-80 ms of Python per
chart, and st.altair_chart does it on every run: on the 重点督导县 page the two funnel plots were
four fifths of a warm run, and under many sessions that Python time is what the server queues on.
Selections (a click on a bar to drill down) work as with st.altair_chart: the spec carries them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import streamlit as st

from . import charts

# What st.altair_chart does around its own conversion: no altair default width/height in the spec.
alt.theme.enable("none")


@st.cache_data(show_spinner=False, max_entries=256)
def _spec(builder: str, args: tuple, kwargs: dict) -> dict:
    spec = getattr(charts, builder)(*args, **kwargs).to_dict(validate=False)
    # Vega writes an English description on every mark and guide ("X-axis titled …", "name: 济南市; received: 6"),
    # read out by a screen reader; off: the page's tables and captions say what the chart shows, in Chinese
    spec.setdefault("config", {})["aria"] = False
    _title_aria_off(spec)
    return spec


def _title_aria_off(spec: dict) -> None:
    """No description on a chart's titles either ("Title text '…'"): config.aria leaves a title's own."""
    if isinstance(spec.get("title"), str | list | dict):
        title = spec["title"]
        spec["title"] = {**(title if isinstance(title, dict) else {"text": title}), "aria": False}
    for part in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(part, []):
            _title_aria_off(sub)
    if isinstance(spec.get("spec"), dict):
        _title_aria_off(spec["spec"])


def show_chart(builder: Callable[..., alt.TopLevelMixin], *args: Any, target: Any = st, key: str | None = None,
               on_select: str = "ignore", **kwargs: Any) -> Any:
    """Draw `builder(*args, **kwargs)` (a ui.charts builder) into `target` (st, a column, a container);
    with on_select="rerun" (and a key), return the selection event as st.altair_chart would."""
    return target.vega_lite_chart(_spec(builder.__name__, args, kwargs), width="stretch", on_select=on_select, key=key)
