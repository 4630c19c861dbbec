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
/* Streamlit's English: the headings' link icon ("Link to heading"; the pages are linked by their own addresses)
   and the keyboard's skip link, its words drawn in Chinese */
[data-testid="stHeaderActionElements"] { display: none !important; }
[data-testid="stSkipToContent"] { font-size: 0 !important; }
[data-testid="stSkipToContent"]::after { content: "跳到正文"; font-size: 1rem; }
.legend-swatch { display:inline-block; width:14px; height:14px; margin:0 4px 0 12px; vertical-align:middle; }
</style>
"""


def inject_style() -> None:
    """Add the app's static stylesheet (no user text is ever rendered as HTML)."""
    st.markdown(_CSS + uploader_css(), unsafe_allow_html=True)


def uploader_css() -> str:
    """Chinese in place of the file uploader's English ("Upload", "200MB per file • CSV, XLSX"), which
    Streamlit does not translate: the English is set to size 0 and Chinese drawn after it — only while
    no file is chosen (the instructions are shown), so the chosen file's own buttons keep their icons.
    The size limit is the server's setting; the file types are named by the uploader's label."""
    limit = int(st.get_option("server.maxUploadSize"))
    return f"""
<style>
[data-testid="stFileUploaderDropzone"]:has([data-testid="stFileUploaderDropzoneInstructions"]) button,
[data-testid="stFileUploaderDropzone"]:has([data-testid="stFileUploaderDropzoneInstructions"]) button [data-testid="stMarkdownContainer"] p
  {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"]:has([data-testid="stFileUploaderDropzoneInstructions"]) button::after
  {{ content: "选择文件"; font-size: 1rem; }}
[data-testid="stFileUploaderDropzone"] button span[data-testid="stIconMaterial"] {{ font-size: 1.25rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span, [data-testid="stFileUploaderDropzoneInstructions"] small
  {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"] div::after
  {{ content: "拖入文件或点击选择，每个文件不超过 {limit} MB"; font-size: 0.875rem; }}
</style>
"""
