"""The pages: one module each, defining `render(view, data)`; app.py registers them with st.Page.

Why each page file ends by handing over to app.py. Streamlit 1.67 notices a folder named pages/ next
to app.py (`PagesManager.uses_pages_directory`, streamlit/runtime/pages_manager.py) and, until some
run of the server calls st.navigation, serves every request the old way (`_mpa_v1` in
streamlit/runtime/scriptrunner/script_runner.py): a request for /data runs pages/data.py by itself —
no frame, no sign-in. That is a fresh server's first request; no setting turns the folder off.

So every page module ends with

    if __name__ == "__main__":
        hand_over()

Imported by app.py, a module is not `__main__` and only defines functions. Run by itself, the file
runs app.py instead, and app.py does what it always does: sign-in, the navigation of the viewer's
role, the frame, then the page the URL names if that role may see it (otherwise Streamlit's "page
not found" and the overview). Streamlit knows a page by its url path alone (its hash), so the old
way's page for /data and app.py's st.Page(url_path="data") are one page to it: the link keeps its
address. Every run of app.py reaches st.navigation — signed out too, where it registers the pages
hidden before the sign-in form is drawn — which ends the old way for the whole server after its
first run (it lasts longer only while the database is down, and then the hand-over still applies).
The old way never runs pages/__init__.py (nor files in subfolders); tests/test_layers.py checks
that every other file here is a page that hands over, and tests/test_deep_links.py opens every page
as the first request of a fresh server.

The old way also shows, before the hand-over, its own list of the folder's files (app, audit, data,
ledger ...) in the sidebar of a signed-out visitor. server.py therefore ends the old way when the
server starts (end_pages_folder_mode, what st.navigation's first call does), so that even a fresh
server's first request runs app.py; the hand-over stays for `streamlit run app.py`.
"""
from __future__ import annotations

import runpy
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def end_pages_folder_mode() -> None:
    """Serve every request through app.py from the server's start, as after a first st.navigation call: the
    flag Streamlit reads once per process (it is set before any session exists, so the folder is never
    taken for the old way's page list)."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def hand_over() -> None:
    """Run app.py in place of a page file Streamlit ran by itself (see above)."""
    runpy.run_path(str(APP), run_name="__main__")
