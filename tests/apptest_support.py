"""AppTest on this app's pages: functions registered with st.Page by url path (app.py, pages/)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash


def switch_to(at: AppTest, url_path: str) -> AppTest:
    """Aim `at`'s next run at the page registered under `url_path` (as /url_path in a browser).

    AppTest.switch_page finds a page by its file, and these pages are functions; Streamlit knows a page
    by calc_hash(url_path) alone (streamlit/navigation/page.py), so the run asks for that hash."""
    at._page_hash = calc_hash(url_path)
    return at
