"""The two HTTP routes that set and clear the session cookie (mounted by server.py beside Streamlit).

Streamlit talks to the browser over a websocket, which cannot set an HttpOnly cookie; these plain
POST routes can. POST /auth/session takes a one-time handoff code in its body (never in the URL) and
answers with the cookie (data_access.identity.sessions explains the flow); POST /auth/signout ends the
cookie's session and deletes the cookie. Both answer only a page of this server: a POST from another
origin is refused (403) and written to the audit log (ui/http_security.same_origin). The cookie is
HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure over HTTPS (nginx's
TLS included), lives no longer than the absolute session lifetime (the settings' session_lifetime_hours,
which the server enforces too) and holds nothing but a random token.
"""
from __future__ import annotations

import html
from types import ModuleType

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from data_access.identity import audit, sessions
from data_access.identity.audit import AuditAction

from .http_security import same_origin, stated_origin

SESSION_COOKIE = "petition_session"
SESSION_PATH = "/auth/session"
SIGNOUT_PATH = "/auth/signout"
MAX_CODE_LENGTH = 128
UNKNOWN_VISITOR = "(未登录)"  # the audit log's "who" of a refused request


def _runtime() -> ModuleType:
    """ui.runtime, imported at the first request: server.py imports this module before Streamlit's runtime exists,
    and ui.runtime's @st.cache_data functions defined then log "No runtime found" (a WARNING) at every start."""
    from . import runtime

    return runtime


async def bind(request: Request) -> Response:
    """Swap a handoff code for the session cookie: 204 with Set-Cookie, or 403 for a bad or spent code or a
    request from another origin."""
    if not await _from_this_server(request):
        return Response(status_code=403)
    code = (await request.body())[:MAX_CODE_LENGTH].decode("ascii", errors="replace").strip()
    token = await run_in_threadpool(sessions.bind_session, _runtime().engine(), code) if code else None
    if token is None:
        return Response(status_code=403)
    lifetime = sessions.lifetime_of(_runtime().sign_in_settings().session_lifetime_hours)
    response = Response(status_code=204)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


async def signout(request: Request) -> Response:
    """End the cookie's session (if any) and delete the cookie: 204 (403 from another origin)."""
    if not await _from_this_server(request):
        return Response(status_code=403)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(sessions.end_session_by_token, _runtime().engine(), token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def _from_this_server(request: Request) -> bool:
    """True for a request from a page of this server; else False, with an audit row naming the route, the origin
    the request gave and the client's address."""
    if same_origin(request):
        return True
    client = request.client.host if request.client else "未知"
    await run_in_threadpool(audit.record, _runtime().engine(), UNKNOWN_VISITOR, AuditAction.REFUSED_REQUEST,
                            f"拒绝来自其他网站的请求：{request.url.path}，来源 {stated_origin(request)}，客户端地址 {client}")
    return False


ROUTES = [Route(SESSION_PATH, bind, methods=["POST"]), Route(SIGNOUT_PATH, signout, methods=["POST"])]

# The cookie errand's script: always this text (the Content-Security-Policy allows it by its hash); what it posts,
# and where, are attributes of its element (Streamlit's st.html keeps them on the script it runs).
# (A block of its own: a page that runs it twice, signing in and then out, declares `errand` twice.)
POST_SCRIPT = ("{ const errand = document.currentScript; fetch(errand.dataset.path, {method: 'POST', "
               "body: errand.dataset.body, credentials: 'same-origin', cache: 'no-store'}).catch(() => {}); }")


def post_script(path: str, body: str = "") -> str:
    """The HTML of a script that POSTs `body` to `path` of this server, same origin only."""
    return (f'<script data-path="{html.escape(path)}" data-body="{html.escape(body)}">{POST_SCRIPT}</script>')
