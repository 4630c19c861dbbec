"""Projector-friendly styling: large KPI numbers, no horizontal scrolling. Static CSS only."""
from __future__ import annotations

import streamlit as st

_CSS = """
<style>
[data-testid="stMetricValue"] { font-size: 2.6rem; font-weight: 700; }
[data-testid="stMetricLabel"] p { font-size: 1.1rem; }
[data-testid="stMetricDelta"] { font-size: 1.0rem; }
.block-container { padding-top: 2.2rem; max-width: 100%; }
h1 { font-size: 2.0rem !important; }
/* the tables' and charts' own toolbars (English Search / Fullscreen; export is off in config.toml):
   the audited download buttons and the presentation mode are the ways out */
[data-testid="stElementToolbar"] { display: none !important; }
.legend-swatch { display:inline-block; width:14px; height:14px; margin:0 4px 0 12px; vertical-align:middle; }
</style>
"""


def inject_style() -> None:
    """Add the app's static stylesheet (no user text is ever rendered as HTML)."""
    st.markdown(_CSS, unsafe_allow_html=True)
