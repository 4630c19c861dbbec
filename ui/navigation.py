"""Moving down the drill-down: every click (bar, row, map shape) ends here."""
from __future__ import annotations

import streamlit as st

from .view import REGION_PARAM, url_params

DRILLDOWN_URL_PATH = "drilldown"  # app.py registers the drill-down page under this path


def _registered_by_app() -> None:
    """Never called: the stand-in below only names the page app.py registered."""


def drill_to(code: str, **filters: list[str]) -> None:
    """Open the drill-down page at region `code`, keeping the view's filters (one history entry); `filters`
    replaces some of them, e.g. dom=["乡村振兴"] for the cases of one domain."""
    # Streamlit knows a page by its url path alone (streamlit/navigation/page.py: the page hash is
    # calc_hash(url_path)), so a stand-in with the drill-down's path switches to app.py's page.
    stand_in = st.Page(_registered_by_app, url_path=DRILLDOWN_URL_PATH)
    st.switch_page(stand_in, query_params={**url_params(**{REGION_PARAM: code}), **filters})


LEDGER_URL_PATH = "ledger"  # app.py registers the 督办台账 page under this path
NEW_ITEM_PARAMS = ("new", "county", "case", "title", "reason")  # a new item's draft, carried in the URL


def supervise(county_code: str, title: str, reason: str = "", case_id: str | None = None) -> None:
    """Open the 督办台账 page with a new item drafted for `county_code` (and its case): the supervisor
    checks it, sets the method and the reply deadline, and opens it there. Nothing is written here."""
    draft = {"new": "1", "county": county_code, "title": title, "reason": reason, **({"case": case_id} if case_id else {})}
    stand_in = st.Page(_registered_by_app, url_path=LEDGER_URL_PATH)
    st.switch_page(stand_in, query_params=url_params(**draft))
