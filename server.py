"""The server: Streamlit's app (app.py) with the two routes that set and clear the HttpOnly session
cookie of a signed-in browser (ui/session_routes.py), and the security headers on every response
(ui/http_security.py). Start it with `streamlit run server.py`
(Streamlit finds the `app` below and serves app.py through it), or with any ASGI server:
`uvicorn server:app --host 0.0.0.0 --port 8501`. `streamlit run app.py` still works, but then
a sign-in lasts only as long as the browser tab. Several processes behind nginx: deploy/README.md."""
from ui.memory_debug import install_from_env

install_from_env()  # PETITION_TRACEMALLOC=N: the memory debug mode (benchmarks/memory_profile.py); off by default

import streamlit as st  # noqa: E402  (after tracemalloc has started, so that its allocations are traced)
from starlette.middleware import Middleware  # noqa: E402

from pages import end_pages_folder_mode  # noqa: E402
from ui.http_security import SecurityHeaders  # noqa: E402
from ui.printing import PRINT_SCRIPT  # noqa: E402
from ui.session_routes import POST_SCRIPT, ROUTES  # noqa: E402

end_pages_folder_mode()  # no signed-out visitor sees the pages/ folder listed (pages/__init__.py)

# every response carries the security headers of ui/http_security.py (the policy allows the cookie errand's script)
app = st.App("app.py", routes=ROUTES, middleware=[Middleware(SecurityHeaders, own_scripts=(POST_SCRIPT, PRINT_SCRIPT))])
