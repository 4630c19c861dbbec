"""Printing a page from the browser: a 打印 button that calls window.print(), and a print stylesheet that leaves out
the frame (sidebar, header, buttons) so that only the page's content goes on paper.

The script is always the same text, so the Content-Security-Policy allows it by its hash (server.py passes
PRINT_SCRIPT to ui.http_security.SecurityHeaders); each click draws it with a new data attribute, so a second click
prints again.
"""
from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

PRINT_SCRIPT = "setTimeout(function () { window.print(); }, 300);"
_CLICKS = "print_clicks"

PRINT_CSS = """
<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  [data-testid="stSidebarCollapsedControl"], .stButton, .stFormSubmitButton, .no-print { display: none !important; }
  [data-testid="stMain"], [data-testid="stAppViewContainer"] { margin-left: 0 !important; }
  .block-container { padding: 0 1cm !important; max-width: 100% !important; }
  [data-testid="stTable"] table { font-size: 10.5pt; }
  [data-testid="stTable"] tr { break-inside: avoid; }
}
</style>
"""


def print_style() -> None:
    """Add the print stylesheet (static CSS, no user text)."""
    st.markdown(PRINT_CSS, unsafe_allow_html=True)


def print_button(where: DeltaGenerator, label: str = "打印", key: str = "print") -> bool:
    """A button in `where` that opens the browser's print dialog for the page; True on the run it was clicked. Call
    `print_now()` at the end of that run, once the page is drawn."""
    return where.button(label, icon=":material/print:", key=key)


def print_now() -> None:
    """Have the browser print the page (after this run has drawn it)."""
    st.session_state[_CLICKS] = st.session_state.get(_CLICKS, 0) + 1
    st.html(f'<script data-click="{st.session_state[_CLICKS]}">{PRINT_SCRIPT}</script>', unsafe_allow_javascript=True)
