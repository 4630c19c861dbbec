"""The two HTTP routes that set and clear the session cookie (mounted by server.py beside Streamlit).

Streamlit talks to the browser over a websocket, which cannot set an HttpOnly cookie; these plain
POST routes can. POST /auth/session takes a one-time handoff code in its body (never in the URL) and
answers with the cookie (data_access.sessions explains the flow); POST /auth/signout ends the
cookie's session and deletes the cookie. The cookie is HttpOnly (no script reads it), SameSite=Strict
(no other site's page sends it), Secure behind HTTPS, and holds nothing but a random token.
"""
from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from data_access import sessions

from . import runtime

SESSION_COOKIE = "petition_session"
SESSION_PATH = "/auth/session"
SIGNOUT_PATH = "/auth/signout"
# The browser keeps the cookie this long at most; the server's idle timeout ends the session sooner.
COOKIE_MAX_AGE = dt.timedelta(days=30)
MAX_CODE_LENGTH = 128

async def bind(request: Request) -> Response:
    """Swap a handoff code for the session cookie: 204 with Set-Cookie, or 403 for a bad or spent code."""
    code = (await request.body())[:MAX_CODE_LENGTH].decode("ascii", errors="replace").strip()
    token = await run_in_threadpool(sessions.bind_session, runtime.engine(), code) if code else None
    if token is None:
        return Response(status_code=403)
    response = Response(status_code=204)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(COOKIE_MAX_AGE.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


async def signout(request: Request) -> Response:
    """End the cookie's session (if any) and delete the cookie: 204."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(sessions.end_session_by_token, runtime.engine(), token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


ROUTES = [Route(SESSION_PATH, bind, methods=["POST"]), Route(SIGNOUT_PATH, signout, methods=["POST"])]


def post_script(path: str, body: str = "") -> str:
    """The HTML of a script that POSTs `body` to `path` of this server, same origin only."""
    return (f"<script>fetch({path!r}, {{method: 'POST', body: {body!r}, credentials: 'same-origin', "
            "cache: 'no-store'}).catch(() => {});</script>")
