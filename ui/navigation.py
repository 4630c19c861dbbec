"""Moving down the drill-down: every click (bar, row, map shape) ends here."""
from __future__ import annotations

import streamlit as st

from .view import REGION_PARAM

DRILLDOWN_PAGE = "app_pages/drilldown.py"


def drill_to(code: str) -> None:
    """Open the drill-down page at region `code` (a new browser history entry, so Back goes up)."""
    st.switch_page(DRILLDOWN_PAGE, query_params={REGION_PARAM: code})
