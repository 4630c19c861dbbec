"""What every HTTP response of the server says about itself, and which browsers the sign-in routes answer.

server.py installs SecurityHeaders in front of Streamlit: every response (pages, static files, health, the
cookie routes) carries
  Content-Security-Policy   scripts only from this server, plus the inline scripts it knows by their hash
                            (Streamlit's index.html and the cookie errand of ui/session_routes.py); styles from
                            this server and inline (Streamlit's components style themselves inline); pictures,
                            fonts and workers from this server, data: and blob:; connections only to this server
                            (its websocket included); no plugins; and frame-ancestors 'none': no other site may
                            show a page of the dashboard in a frame (a sign-in form under someone else's page)
  X-Frame-Options: DENY     the same for browsers that predate frame-ancestors
  X-Content-Type-Options    nosniff: a download or an upload served back is never run as a script
  Referrer-Policy           same-origin: an address of the dashboard (its query names regions and periods)
                            never leaves for another site
  Strict-Transport-Security when the request came over TLS (directly, or through nginx on this machine, which
                            says so in X-Forwarded-Proto and which uvicorn trusts from 127.0.0.1): a year
The browser tests open every page under this policy and fail on any report of a violation.

same_origin() is the check of the two /auth/* routes: a POST whose Origin (or, without one, Referer) is not
this server's own address is refused, whatever cookie it brings.
"""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import streamlit
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"
STREAMLIT_INDEX = Path(streamlit.__file__).parent / "static" / "index.html"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def script_hash(body: str) -> str:
    """A CSP source that allows exactly this inline script: 'sha256-<base64 of its digest>'."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(body.encode('utf-8')).digest()).decode('ascii')}'"


def inline_scripts(html: str) -> list[str]:
    """The bodies of the inline <script> elements of a page (those without src)."""
    return [match.group(1) for match in _INLINE_SCRIPT.finditer(html)]


def content_security_policy(own_scripts: tuple[str, ...] = ()) -> str:
    """The policy, made when the server starts: inline scripts allowed are those of the installed Streamlit's
    index.html and `own_scripts` (the app's own, by their text)."""
    scripts = [*inline_scripts(STREAMLIT_INDEX.read_text(encoding="utf-8")), *own_scripts]
    directives = {
        "default-src": "'self'",
        # 'wasm-unsafe-eval': the map (deck.gl) compiles WebAssembly; JavaScript's eval stays refused
        "script-src": " ".join(["'self'", "'wasm-unsafe-eval'", *sorted({script_hash(body) for body in scripts})]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response of the app it wraps (`own_scripts`: the inline
    scripts of the app the policy allows)."""

    def __init__(self, app: ASGIApp, own_scripts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy(own_scripts),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if over_tls:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def own_origin(request: Request) -> str:
    """This server's address as the browser sees it: scheme (https behind nginx's TLS) and Host."""
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def same_origin(request: Request) -> bool:
    """True when a request comes from a page of this server: its Origin is ours, or, from a browser that sends
    none, its Referer lies under ours. A request with neither is refused."""
    own = own_origin(request)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == own
    referer = request.headers.get("referer")
    return referer is not None and (referer.lower() + "/").startswith(own + "/")


def stated_origin(request: Request) -> str:
    """Where a request says it comes from, for the audit log (Origin, else Referer, else '无')."""
    return (request.headers.get("origin") or request.headers.get("referer") or "无")[:200]
