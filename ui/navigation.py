"""Moving down the drill-down: every click (bar, row, map shape) ends here."""
from __future__ import annotations

import streamlit as st

from .view import REGION_PARAM, url_params

DRILLDOWN_PAGE = "app_pages/drilldown.py"


def drill_to(code: str) -> None:
    """Open the drill-down page at region `code`, keeping the view's filters (one history entry)."""
    st.switch_page(DRILLDOWN_PAGE, query_params=url_params(**{REGION_PARAM: code}))
