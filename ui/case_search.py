"""The frame's case search: one box in the sidebar of every page that opens the case dossier (issue 32).

What is typed — a 件号, a 12388 来电编号 or a 督办事项编号 — travels in the dossier's URL (?q=…), so a dossier can be
bookmarked, reloaded and sent; the page resolves it within the viewer's scope (metrics.dossier), never here.
"""
from __future__ import annotations

import streamlit as st

from metrics.dossier import SEARCH_MAX_CHARS

from .view import url_params

DOSSIER_URL_PATH = "dossier"  # app.py registers the 案件档案 page under this path
SEARCH_PARAM = "q"
# Streamlit's English hints under a form's text input ("Press Enter to submit form", "0/64"): the box says what it takes
_HIDE_HINTS = "<style>[data-testid=stSidebar] [data-testid=InputInstructions] { display: none; }</style>"


def _registered_by_app() -> None:
    """Never called: the stand-in below only names the page app.py registered."""


def open_dossier(term: str) -> None:
    """Switch to the dossier page of `term`, keeping the view's filters (Streamlit knows a page by its url path)."""
    stand_in = st.Page(_registered_by_app, url_path=DOSSIER_URL_PATH)
    st.switch_page(stand_in, query_params=url_params(**{SEARCH_PARAM: term.strip()}))


def search_box() -> None:
    """The sidebar's 查找案件 form; a submitted number opens its dossier."""
    st.html(_HIDE_HINTS)  # style only: drawn in no container, takes no space
    with st.sidebar.form("case_search", clear_on_submit=True, border=False):
        term = st.text_input("查找案件", max_chars=SEARCH_MAX_CHARS, placeholder="件号 / 12388 来电编号 / 督办事项编号")
        submitted = st.form_submit_button("查找", icon=":material/search:")
    if submitted and term.strip():
        open_dossier(term)


def searched_term() -> str:
    """The number the dossier page was opened for ('' when none)."""
    return str(st.query_params.get(SEARCH_PARAM, "") or "")
