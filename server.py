"""The server: Streamlit's app (app.py) with the two routes that set and clear the HttpOnly session
cookie of a signed-in browser (ui/session_routes.py). Start it with `streamlit run server.py`
(Streamlit finds the `app` below and serves app.py through it), or with any ASGI server:
`uvicorn server:app --host 0.0.0.0 --port 8501`. `streamlit run app.py` still works, but then
a sign-in lasts only as long as the browser tab. Several processes behind nginx: deploy/README.md."""
from ui.memory_debug import install_from_env

install_from_env()  # PETITION_TRACEMALLOC=N: the memory debug mode (benchmarks/memory_profile.py); off by default

import streamlit as st  # noqa: E402  (after tracemalloc has started, so that its allocations are traced)

from ui.session_routes import ROUTES  # noqa: E402

app = st.App("app.py", routes=ROUTES)
